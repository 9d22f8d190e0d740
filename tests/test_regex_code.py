"""Regular expressions come compiled ahead of time (linter/regex_code.py), and are exactly what
``re`` would have compiled."""

from __future__ import annotations

import marshal
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from linter import regex_code

ROOT = Path(__file__).resolve().parents[1]
HERE = pytest.mark.skipif(not os.path.exists(regex_code.data_path()),
                          reason="no compiled regex code for this interpreter (python -m linter.grammars)")


@HERE
def test_the_compiled_regex_code_is_up_to_date():
    stale = regex_code.stale_patterns()
    assert not stale, f"{regex_code.data_path()} is out of date for {stale[:3]}: run `python -m linter.grammars`"


@HERE
def test_stored_patterns_are_what_compiling_gives():
    stored = regex_code._read()
    assert stored and len(stored) >= 100
    for (pattern, flags), found in stored.items():
        assert marshal.loads(found) == regex_code.compiled_arguments(pattern, flags)
        # A Pattern equals another of the same text, flags and code (CPython compares the code).
        served, fresh = regex_code._compile_stored(pattern, flags), regex_code._original(pattern, flags)
        assert served == fresh and served.groupindex == fresh.groupindex and served.groups == fresh.groups


def test_patterns_served_behave_as_compiled(monkeypatch):
    # Named groups, flags set inside the pattern, bytes, a verbose pattern: served from the store.
    cases = [(r"(?P<port>\d+)(?:/(?P<proto>tcp|udp))?", 0), (r"(?i)ssh|telnet", 0), (rb"[\x80-\xff]+", 0),
             ("""
              (?P<word>[a-z]+)   # a word
              \\s*=\\s*(?P<value>\\S+)
              """, int(re.VERBOSE))]
    monkeypatch.setattr(regex_code, "_stored", {
        (pattern, flags): marshal.dumps(regex_code.compiled_arguments(pattern, flags)) for pattern, flags in cases})
    texts = ["22/tcp and 80", "SSH then Telnet", b"ab\x81\xff", "name = value"]
    for (pattern, flags), text in zip(cases, texts):
        served, fresh = regex_code._compile_stored(pattern, flags), regex_code._original(pattern, flags)
        assert served == fresh and served.flags == fresh.flags and served.groupindex == fresh.groupindex
        assert [m.groupdict() if m.re.groupindex else m.group() for m in served.finditer(text)] \
            == [m.groupdict() if m.re.groupindex else m.group() for m in fresh.finditer(text)]


@HERE
def test_a_check_run_compiles_no_pattern():
    code = ("import os, sys; from linter import launch, regex_code; sys.argv = ['portlint', 'check', "
            f"{str(ROOT / 'samples' / 'hardened.rules')!r}]; "
            "launch.leave = lambda status: (print(len(regex_code.compiled_at_run_time), file=sys.stderr), "
            "sys.stderr.flush(), os._exit(status or 0)); launch.run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "PL101" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "0"


def test_a_file_of_another_interpreter_is_not_read(monkeypatch, tmp_path):
    path = tmp_path / "code.marshal"
    path.write_bytes(marshal.dumps(((1, "2.7.18", 0, 4), {("a", 0): marshal.dumps((0, [], 0, {}, (None,)))})))
    monkeypatch.setattr(regex_code, "data_path", lambda: str(path))
    assert regex_code._read() is None
    path.write_bytes(b"not marshal data")
    assert regex_code._read() is None


def test_a_damaged_entry_compiles_as_usual(monkeypatch):
    monkeypatch.setattr(regex_code, "_stored", {("a+b", 0): b"\xe3 not marshal"})
    assert regex_code._compile_stored("a+b", 0) == regex_code._original("a+b", 0)


def test_a_pattern_without_stored_code_compiles_as_before(monkeypatch):
    monkeypatch.setattr(regex_code, "compiled_at_run_time", set())
    monkeypatch.setattr(regex_code, "_stored", {})
    assert regex_code._compile_stored("x(y)z", 0) == regex_code._original("x(y)z", 0)
    assert regex_code.compiled_at_run_time == {("x(y)z", 0)}


def test_install_leaves_a_compile_someone_else_gave_re(monkeypatch):
    from re import _compiler

    def other(p, flags=0):
        return regex_code._original(p, flags)

    monkeypatch.setattr(_compiler, "compile", other)
    assert regex_code.install() is False
    assert _compiler.compile is other
