"""A chain that only sets marks, whatever the packet (kube-proxy's KUBE-MARK-MASQ), has its
marks applied at the jump instead of being walked: the accept that reads the mark is as exact
as when the chain is walked, and a chain with a condition is still walked."""

from __future__ import annotations

from linter.engine.marks import marks_only
from tests.engine.helpers import findings_full, ruleset

TEMPLATE = """*filter
:INPUT DROP [0:0]
:MARKIT - [0:0]
-A INPUT -p tcp -m tcp --dport 8080 -j MARKIT
-A INPUT -m mark --mark 0x4000/0x4000 -j ACCEPT
-A MARKIT {condition}-j MARK --set-xmark 0x4000/0x4000
COMMIT
"""


def messages(text):
    return [(f.line, f.code, str(f.severity), f.message) for f in findings_full(text)]


def test_a_mark_only_chain_is_applied_at_the_jump():
    rules = ruleset(TEMPLATE.format(condition=""))
    chain = next(c for t in rules.tables for c in t.chains if c.name == "MARKIT")
    assert marks_only(chain) is not None
    assert messages(TEMPLATE.format(condition="")) == [
        (5, "PL101", "medium", "port 8080/tcp (commonly http-alt) is a plaintext protocol reachable from the internet"),
    ]


def test_a_mark_with_a_condition_is_walked():
    text = TEMPLATE.format(condition="-s 192.0.2.0/24 ")
    rules = ruleset(text)
    chain = next(c for t in rules.tables for c in t.chains if c.name == "MARKIT")
    assert marks_only(chain) is None
    assert messages(text) == [
        (5, "PL101", "low", "port 8080/tcp (commonly http-alt) is a plaintext protocol reachable from 192.0.2.0/24 only"),
    ]
