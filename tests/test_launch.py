"""The short way in (linter.launch) gives the gate exactly what click gives it, or leaves the
command line to click."""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
from pathlib import Path

import pytest

from linter import gate, launch
from linter.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _through_click(monkeypatch, argv: list[str]):
    """The gate.run arguments click builds for ``argv``, or None when it stops before the gate."""
    seen = []

    def record(paths, **kwargs):
        seen.append(dict(kwargs, paths=paths))
        return 0

    monkeypatch.setattr(gate, "run", record)
    try:
        main(argv, standalone_mode=False)
    except Exception:  # a usage error: click's own answer, never the short way's
        return None
    return seen[0] if seen else None


WORDS = ["a.rules", "dir", "check", "rules", "-q", "--quiet", "--isolated", "--no-color", "--exit-zero",
         "--statistics", "--no-inline-suppressions", "--format", "json", "text", "sarif", "bogus",
         "--output-format", "--fail-on", "high", "none", "Low", "--jobs", "0", "2", "07", "-1", "x1", "٣",
         "--jobs=2", "--format=json", "-", "--", "--help", "-h", "--version", "--select", "PL1", "--bogus",
         "-qq", "--input-format", "iptables-save", "--output", "out.txt"]


def _command_lines():
    yield from (["a.rules"], ["check", "a.rules"], ["check", "--isolated", "samples/hardened.rules"],
                ["--isolated", "-q", "a", "b"], ["a", "--format", "json", "--jobs", "1", "b"],
                ["check", "check"], ["check", "rules"], ["rules"], [], ["check"], ["-q"],
                ["a", "--jobs"], ["a", "--format"], ["a", "--fail-on", "none", "--fail-on", "high"],
                ["a", "--format", "json", "--format", "text"])
    rng = random.Random(14)
    for _ in range(1500):
        yield [rng.choice(WORDS) for _ in range(rng.randint(1, 6))]
    for first, second in itertools.product(WORDS, repeat=2):
        yield [first, second]


def test_the_short_way_reads_a_command_line_as_click_does(monkeypatch):
    taken = 0
    for argv in _command_lines():
        quick = launch.check_arguments(argv, environ={})
        if quick is None:
            continue  # click reads it, as before
        taken += 1
        expected = _through_click(monkeypatch, argv)
        quick["paths"] = list(quick["paths"])
        assert quick == expected, argv
    assert taken > 100


def test_anything_else_goes_to_click():
    for argv in (["rules"], ["--help"], ["check"], [], ["a", "--format=json"], ["a", "-"], ["a", "--"],
                 ["a", "--select", "PL1"], ["a", "--jobs", "-1"], ["a", "--format", "bogus"], ["port", "23"]):
        assert launch.check_arguments(argv, environ={}) is None, argv
    assert launch.check_arguments(["a"], environ={"_PORTLINT_COMPLETE": "bash_source"}) is None


def test_the_defaults_are_those_of_the_click_command(monkeypatch):
    expected = _through_click(monkeypatch, ["a"])
    assert dict(launch.check_defaults(), paths=["a"]) == expected


@pytest.mark.parametrize("args", [("samples/hardened.rules",), ("check", "--format", "json", "samples/legacy.rules"),
                                  ("check", "-q", "--statistics", "samples/legacy.rules"),
                                  ("--fail-on", "none", "samples/legacy.rules")])
def test_the_short_way_prints_and_exits_as_click_does(args):
    click_way = "import sys; from linter.cli import run; sys.argv[0] = 'portlint'; run()"
    short_way = "import sys; from linter.launch import run; sys.argv[0] = 'portlint'; run()"
    done = [subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
            for code in (click_way, short_way)]
    assert (done[0].returncode, done[0].stdout, done[0].stderr) == (done[1].returncode, done[1].stdout,
                                                                    done[1].stderr)
    assert done[0].stdout


def test_the_short_way_knows_every_command_and_severity():
    import click

    from linter import cli

    with click.Context(main) as ctx:
        assert set(launch.COMMANDS) == set(main.list_commands(ctx))
    assert launch.SEVERITY_WORDS == (*cli.SEVERITIES, "none")
