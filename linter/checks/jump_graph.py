"""A table's jumps as a graph, built once per table for the checks that read it (PL404-PL406
in chain_graph, PL408 in jump_depth): kube-proxy's 100,000 rules were gone through twice."""

from __future__ import annotations

from linter.engine.memo import IdentityCache
from linter.model import Table, VerdictKind

_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)


class JumpGraph:
    """Per chain name, the (target, rule) of each jump or goto to a chain of the table, in rule
    order (``edges``: every chain has a list, shared, never to be changed); the (target, rule)
    of each jump to a chain the table lacks, in order (``undefined``); every name jumped to."""

    __slots__ = ("edges", "undefined", "used")

    def __init__(self, edges: dict, undefined: list, used: set):
        self.edges = edges
        self.undefined = undefined
        self.used = used


_GRAPHS: IdentityCache[JumpGraph] = IdentityCache(1_000)


def jump_graph(table: Table) -> JumpGraph:
    """The jump graph of ``table`` (remembered per table)."""
    found = _GRAPHS.get(table)
    if found is None:
        found = _GRAPHS.put(table, _build(table))
    return found


def _build(table: Table) -> JumpGraph:
    edges: dict[str, list] = {chain.name: [] for chain in table.chains}
    undefined = []
    used = set()
    jumps = _JUMPS
    for chain in table.chains:
        out = edges[chain.name]
        for rule in chain.rules:
            verdict = rule.verdict
            if verdict.kind in jumps and verdict.target:
                target = verdict.target
                used.add(target)
                if target in edges:
                    out.append((target, rule))
                else:
                    undefined.append((target, rule))
    return JumpGraph(edges, undefined, used)
