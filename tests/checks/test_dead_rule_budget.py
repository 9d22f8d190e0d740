"""PL410: a chain whose dead-rule analysis stops at its budget says so, and only that chain."""

from __future__ import annotations

from linter.checks import Settings
from linter.engine.shadow import chain_budget
from linter.pipeline import lint_file


def _overlapping_drops(count: int, chain: str) -> list[str]:
    # Each drop overlaps every other in source, destination and both ports without nesting:
    # every rule splits every part the earlier ones left.
    return [f"-A {chain} -p tcp -m iprange --src-range 10.0.{i}.0-10.0.{i + 100}.255 "
            f"--dst-range 192.168.{i * 2}.0-192.168.{i * 2 + 100}.255 --sport {i * 7}:{i * 7 + 1000} "
            f"--dport {i * 3}:{i * 3 + 1000} -j DROP" for i in range(1, count + 1)]


def _findings(tmp_path, lines: list[str]):
    path = tmp_path / "rules.v4"
    path.write_text("\n".join(lines) + "\n")
    return [(f.code, f.line, str(f.severity), f.message) for f in lint_file(str(path), Settings()).findings
            if f.code in ("PL402", "PL410")]


def test_an_unjudged_chain_is_reported_and_a_judged_one_keeps_its_dead_rules(tmp_path):
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":COSTLY - [0:0]",
             "-A INPUT -j COSTLY",
             "-A INPUT -p tcp --dport 22 -j ACCEPT",
             "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT",  # line 8: shadowed by line 7
             *_overlapping_drops(30, "COSTLY"), "COMMIT"]
    assert _findings(tmp_path, lines) == [
        ("PL410", 5, "info", "Dead-rule analysis of COSTLY (IPv4) stopped at its budget of 41,200 box splits: "
                             "none of its 30 rules is checked for being shadowed"),
        ("PL402", 8, "low", "Rule can never match: earlier rules in INPUT take every packet it matches"),
    ]


def test_a_chain_within_its_budget_gives_no_pl410(tmp_path):
    lines = ["*filter", ":INPUT DROP [0:0]", *_overlapping_drops(16, "INPUT"), "COMMIT"]
    assert _findings(tmp_path, lines) == []


def test_the_budget_grows_with_the_chain():
    class _Chain:
        rules = [None] * 5004
    assert chain_budget(_Chain()) == 240_160  # the random mix's INPUT at 10k rules
