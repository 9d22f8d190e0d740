"""The jump graph chain_graph (PL404-PL406) and jump_depth (PL408) share (checks/jump_graph.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.checks.jump_graph import jump_graph  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
-A INPUT -p tcp -j A
-A INPUT -j MISSING
-A INPUT -p udp -g B
-A A -j B
-A A -j ACCEPT
-A B -j GONE
-A B -j A
COMMIT
"""


def test_edges_undefined_jumps_and_names_used_in_rule_order():
    table = ruleset(RULES).tables[0]
    graph = jump_graph(table)
    assert {name: [(target, rule.span.line) for target, rule in edges] for name, edges in graph.edges.items()} == {
        "INPUT": [("A", 7), ("B", 9)], "FORWARD": [], "OUTPUT": [], "A": [("B", 10)], "B": [("A", 13)]}
    assert [(target, rule.span.line) for target, rule in graph.undefined] == [("MISSING", 8), ("GONE", 12)]
    assert graph.used == {"A", "B", "MISSING", "GONE"}
    assert jump_graph(table) is graph  # built once per table
