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


def _random_edges(rng, size: int, jumps: int) -> dict:
    names = [f"C{i}" for i in range(size)]
    edges = {name: [] for name in names}
    for _ in range(jumps):
        edges[rng.choice(names)].append((rng.choice(names), None))
    return edges


def _has_loop(edges: dict) -> bool:
    """By definition: some chain reaches itself again."""
    def reached(start):
        seen, todo = set(), [t for t, _ in edges[start]]
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo.extend(t for t, _ in edges[name])
        return seen
    return any(name in reached(name) for name in edges)


def _longest_walk_at_least(edges: dict, starts, jumps: int) -> bool:
    """By definition: a walk of ``jumps`` jumps from a start (every way tried)."""
    ways = [[name] for name in starts]
    for _ in range(jumps):
        ways = [way + [t] for way in ways for t, _ in edges[way[-1]]][:100_000]
        if not ways:
            return False
    return True


def test_acyclic_and_reaches_agree_with_their_definitions_and_with_the_searches():
    import random

    from linter.checks.hygiene import _cycles
    from linter.checks.jump_graph import acyclic, acyclic_depth, reaches

    rng = random.Random(14)
    for trial in range(400):
        edges = _random_edges(rng, rng.randint(1, 9), rng.randint(0, 12))
        assert acyclic(edges) == (not _has_loop(edges)) == (not _cycles(edges)), edges
        starts = rng.sample(sorted(edges), rng.randint(0, len(edges)))
        for jumps in (0, 1, 3, 5):
            assert reaches(edges, starts, jumps) == _longest_walk_at_least(edges, starts, jumps), (edges, starts, jumps)
        # One pass for both (JumpGraph.depth): None exactly when there is a loop; else the
        # longest way from a start, which a walk of k jumps reaches exactly when k <= it.
        depth = acyclic_depth(edges, starts)
        assert (depth is None) == (not acyclic(edges)), edges
        if depth is not None:
            for jumps in range(0, 11):
                assert (depth >= jumps) == reaches(edges, starts, jumps) == \
                    _longest_walk_at_least(edges, starts, jumps), (edges, starts, jumps, depth)
    # A self-jump is a loop; a chain nothing reaches still counts for loops, not for depth.
    assert not acyclic({"A": [("A", None)]})
    assert not reaches({"A": [], "B": [("A", None)]}, ["A"], 1)


def test_jump_depth_still_reports_a_16_deep_chain_and_nothing_at_15():
    from linter.checks.hygiene import _deepest_jump

    def chain_of(depth: int) -> str:
        names = [f"L{i}" for i in range(1, depth + 1)]
        lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
        lines += [f":{name} - [0:0]" for name in names]
        lines.append(f"-A INPUT -j {names[0]}")
        lines += [f"-A {a} -j {b}" for a, b in zip(names, names[1:])]
        return "\n".join(lines + ["COMMIT", ""])

    table = ruleset(chain_of(16)).tables[0]
    rule, base, depth = _deepest_jump(table)
    assert (rule.span.line, rule.verdict.target, base, depth) == (4 + 16 + 1 + 15, "L16", "INPUT", 16)
    assert _deepest_jump(ruleset(chain_of(15)).tables[0]) is None
    assert jump_graph(table).depth() == 16
    assert jump_graph(ruleset(chain_of(15)).tables[0]).depth() == 15


def test_the_graph_from_the_jumps_noted_is_the_graph_from_every_rule():
    """jump_graph given the jumps rule_scan noted (hygiene's chain_graph) builds what reading
    every rule builds, on random tables of jumps, gotos, loops and missing chains."""
    import random

    from linter.checks.jump_graph import _build
    from linter.engine.rule_scan import rule_scan
    from tests.engine.helpers import ruleset

    for seed in range(200):
        rng = random.Random(seed)
        names = [f"c{i}" for i in range(rng.randrange(1, 12))]
        lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
        lines += [f":{name} - [0:0]" for name in names]
        for chain in ["INPUT", "FORWARD"] + names:
            for _ in range(rng.randrange(0, 8)):
                match = rng.choice(["", "-s 10.0.0.1/32 ", "-p tcp -m tcp --dport 22 "])
                target = rng.choice(names + ["missing", "ACCEPT", "DROP", "RETURN"])
                lines.append(f"-A {chain} {match}-{rng.choice('jjg') if target in names or target == 'missing' else 'j'} {target}")
        document = ruleset("\n".join(lines + ["COMMIT", ""]))
        table = document.tables[0]
        noted = rule_scan(document).jumps[id(table)][1]
        every, fast = _build(table), _build(table, noted)
        assert (fast.edges, fast.undefined, fast.used, fast.bases) == (every.edges, every.undefined, every.used, every.bases)
        assert fast.depth() == every.depth()


def test_the_depth_pass_over_jumping_chains_only_is_the_longest_way():
    """acyclic_depth steps through the chains that jump somewhere only: on graphs of a few
    dispatching chains and many leaves (a random mix's shape), with repeated jumps, loops and
    starts among both, it is still None exactly at a loop and else the longest way."""
    import random

    from linter.checks.jump_graph import acyclic, acyclic_depth

    rng = random.Random(1410)
    for trial in range(600):
        size = rng.randint(1, 30)
        names = [f"C{i}" for i in range(size)]
        edges = {name: [] for name in names}
        inner = rng.sample(names, rng.randint(0, size if trial % 3 == 0 else min(size, 6)))
        for _ in range(rng.randint(0, 40)):
            if inner:
                edges[rng.choice(inner)].append((rng.choice(names), None))
        starts = rng.sample(names, rng.randint(0, min(size, 4)))
        depth = acyclic_depth(edges, starts)
        assert (depth is None) == (not acyclic(edges)) == _has_loop(edges), edges
        if depth is not None:
            for jumps in range(0, 9):
                assert (depth >= jumps) == _longest_walk_at_least(edges, starts, jumps), (edges, starts, depth)
