"""Opaque matches the user settles: the `assume` setting and `trace --assume`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from linter.checks import Settings
from linter.cli import main
from linter.engine.assumptions import AssumptionError, Assumptions, parse_assumptions
from linter.engine.trace import make_flow, trace_flow
from linter.model import OpaqueMatch
from linter.pipeline import run_checks
from tests.engine.helpers import ruleset

SETS = """*filter
:INPUT DROP [0:0]
-A INPUT -m set --match-set admins src -p tcp --dport 23 -j ACCEPT
-A INPUT -p tcp --dport 3306 -m set ! --match-set blocklist src -j ACCEPT
COMMIT
"""


def test_parse_and_decide():
    assumed = parse_assumptions({"set:admins": "empty", "match:-m owner": "yes"})
    assert assumed == Assumptions(sets=(("admins", False),), texts=(("-m owner", True),))
    assert assumed.decide(OpaqueMatch("set", "--match-set admins src")) is False
    assert assumed.decide(OpaqueMatch("set", "--match-set admins src", negated=True)) is True
    assert assumed.decide(OpaqueMatch("set", "--match-set admins2 src")) is None  # another set
    assert assumed.decide(OpaqueMatch("set", "ip saddr @admins")) is False
    assert assumed.decide(OpaqueMatch("owner", "-m owner --uid-owner 0")) is True
    assert parse_assumptions(["set:x=all"]) == Assumptions(sets=(("x", True),))
    for bad in (["set:x=maybe"], ["x=empty"], ["set:x"]):
        with pytest.raises(AssumptionError):
            parse_assumptions(bad)


def _exposure(settings: Settings) -> list[tuple[int, str, str, bool]]:
    return sorted((f.line, f.code, str(f.severity), "possibly" in f.message)
                  for f in run_checks(ruleset(SETS), settings) if f.code in ("PL101", "PL201"))


def test_settled_sets_change_the_findings():
    # Unsettled: both rest on a set filled at run time (medium at most, and they say so).
    assert _exposure(Settings()) == [(3, "PL101", "medium", True), (4, "PL201", "medium", True)]
    settled = parse_assumptions({"set:admins": "empty", "set:blocklist": "empty"})
    # admins is empty: telnet is reached by nobody; the blocklist is empty: MySQL by everyone.
    assert _exposure(Settings(assumed=settled)) == [(4, "PL201", "high", False)]


def test_trace_assume():
    rules = ruleset(SETS)
    flow = make_flow(dport=23, iface="eth0")
    assert trace_flow(flow, [rules]).verdict == "drop"
    assert trace_flow(flow, [rules], parse_assumptions(["set:admins=all"])).verdict == "accept"


def test_trace_assume_on_the_command_line(tmp_path):
    path = tmp_path / "sets.rules"
    path.write_text(SETS)
    runner = CliRunner()
    done = runner.invoke(main, ["trace", str(path), "--dport", "23", "--assume", "set:admins=all"])
    assert done.exit_code == 0 and "Verdict: accept" in done.output
    done = runner.invoke(main, ["trace", str(path), "--dport", "23", "--assume", "admins"])
    assert done.exit_code == 2
