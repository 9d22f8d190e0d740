"""The engine's façade (linter/engine/query.py): the answers checks get, in model terms."""

from __future__ import annotations

import pytest

from linter.engine import query
from linter.model import Family

from tests.engine.helpers import findings, ruleset

HEAD = "*filter\n:INPUT {policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:X - [0:0]\n"


def _input(body: str, policy: str = "ACCEPT"):
    document = ruleset(HEAD.format(policy=policy) + body + "COMMIT\n")
    table = document.tables[0]
    return document, table, table.chain("INPUT")


@pytest.mark.parametrize("body, policy, expected", [
    ("-A INPUT -p tcp --dport 22 -j ACCEPT\n", "ACCEPT", True),             # falls off to the policy
    ("-A INPUT -p tcp --dport 22 -j ACCEPT\n", "DROP", False),
    ("-A INPUT -p tcp --dport 22 -j ACCEPT\n-A INPUT -j DROP\n", "ACCEPT", False),  # catch-all drop
    ("-A INPUT -j X\n-A X -j REJECT\n", "ACCEPT", False),                     # unconditional jump to a drop
    ("-A INPUT -j ACCEPT\n-A INPUT -p tcp --dport 80 -j DROP\n", "ACCEPT", True),  # an unconditional accept
    ("-A INPUT -j X\n-A X -j ACCEPT\n", "ACCEPT", True),                      # ...reached by an unconditional jump
    ("-A INPUT -i lo -j ACCEPT\n-A INPUT -i lo -j DROP\n-A INPUT ! -i lo -j DROP\n", "ACCEPT", False),  # drops covering all
    ("-A INPUT -m recent --rcheck -j DROP\n", "ACCEPT", True),                # an opaque drop may not match
])
def test_accepts_by_default(body, policy, expected):
    document, table, chain = _input(body, policy)
    interfaces = query.interfaces_of([document])
    assert query.accepts_by_default(table, chain, Family.IPV4, interfaces) is expected


def test_input_default_names_the_deciding_chain():
    document, _, chain = _input("-A INPUT -i lo -j DROP\n-A INPUT ! -i lo -j DROP\n")
    assert query.input_default([document], Family.IPV4) == ("drop", chain.span)
    document, _, chain = _input("-A INPUT -j ACCEPT\n")
    assert query.input_default([document], Family.IPV4) == ("accept", chain.span)


def test_pl401_and_the_unified_answer_agree():
    """PL401 asks accepts_by_default: drops that together cover every packet are a default drop."""
    covered = HEAD.format(policy="ACCEPT") + "-A INPUT -i lo -j DROP\n-A INPUT ! -i lo -j DROP\nCOMMIT\n"
    assert [f for f in findings(covered, {"PL401"})] == []
    open_ = HEAD.format(policy="ACCEPT") + "-A INPUT -j ACCEPT\nCOMMIT\n"
    assert findings(open_, {"PL401"}) == [("PL401", 2, None)]


def test_destination_ports_of_a_rule():
    document, _, chain = _input("-A INPUT -p tcp --dport 8080:8090 -j ACCEPT\n-A INPUT -j ACCEPT\n"
                                "-A INPUT -p udp --dport ! 53 -j DROP\n")
    first, second, third = chain.rules
    assert query.destination_ports(first, 6) == ((8080, 8090),)
    assert query.destination_ports(first, 17) is None   # a tcp rule says nothing of udp
    assert query.destination_ports(second, 6) is None   # no port named
    assert query.destination_ports(third, 17) is None   # a negated port match is not a port list


def test_dropped_by_names_the_rule_or_policy():
    document, _, chain = _input("-A INPUT -p tcp --dport 23 -j DROP\n", policy="DROP")
    analysis = query.exposure_of([document], query.NetworkClasses())
    span, note = query.dropped_by(analysis, query.NetworkClasses(), 6, ((23, 23),))
    assert (span.line, note) == (6, "drops it: -A INPUT -p tcp --dport 23 -j DROP")
    span, note = query.dropped_by(analysis, query.NetworkClasses(), 6, ((25, 25),))
    assert (span, note) == (chain.span, "the DROP policy of filter INPUT drops it")
