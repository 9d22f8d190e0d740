"""Smaller calibrations of issue 13: what a finding weighs, and what is no finding at all."""

from __future__ import annotations

from linter.checks import Settings
from linter.pipeline import lint_paths, run_checks
from tests.engine.helpers import ruleset


def test_a_shadowed_drop_weighs_more_than_a_shadowed_accept():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -j ACCEPT
-A INPUT -p tcp --dport 23 -j DROP
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""
    found = sorted((f.line, f.code, str(f.severity), f.message) for f in run_checks(ruleset(text), Settings())
                   if f.code == "PL402")
    assert found == [
        (4, "PL402", "medium", "Drop rule can never match: earlier rules in INPUT decide every packet it was meant to "
                               "block"),
        (5, "PL402", "low", "Rule can never match: earlier rules in INPUT take every packet it matches"),
    ]


def test_dhcpv6_is_no_ipv4_ipv6_gap(tmp_path):
    (tmp_path / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    (tmp_path / "rules.v6").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                                       "-A INPUT -p udp --dport 546 -j ACCEPT\nCOMMIT\n")
    result = lint_paths([str(tmp_path)], Settings())
    assert [f for f in result.findings if f.code == "PL230"] == []
