"""A nat chain's ACCEPT only ends that chain: the engine never takes it as what decided an
accept (exposure._deciders), so the filter rule or policy that let the packet in is blamed."""

from __future__ import annotations

from linter.checks import Settings
from linter.pipeline import run_checks
from tests.engine.helpers import ruleset


def test_a_nat_chains_accept_never_decides_filtering():
    # nat INPUT's ACCEPT ends only that chain (no NAT): the filter INPUT rule decides redis.
    # (When the nat rule was taken as the decider, the check skipped it and redis went unreported.)
    text = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:MYNAT - [0:0]
-A PREROUTING -j MYNAT
-A MYNAT -p tcp -m tcp --dport 5432 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 6379 -j ACCEPT
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 6379 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 5432 -s 10.0.0.0/8 -j ACCEPT
COMMIT
"""
    found = [(f.line, f.code, str(f.severity)) for f in run_checks(ruleset(text), Settings())]
    assert found == [(15, "PL201", "critical")]
