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


def acyclic(edges: dict) -> bool:
    """Whether the jump graph ``edges`` (JumpGraph.edges) has no loop: every chain can be taken
    away once no chain left jumps to it (one pass over the jumps; a loop's chains never can)."""
    waiting = dict.fromkeys(edges, 0)  # chain -> jumps to it from chains not taken away yet
    for out in edges.values():
        for target, _ in out:
            waiting[target] += 1
    free = [name for name, count in waiting.items() if not count]
    taken = 0
    while free:
        taken += 1
        for target, _ in edges[free.pop()]:
            count = waiting[target] - 1
            waiting[target] = count
            if not count:
                free.append(target)
    return taken == len(waiting)


def reaches(edges: dict, starts, jumps: int) -> bool:
    """Whether some way from a chain of ``starts`` takes ``jumps`` jumps in a row (loops
    included): the chains reached by exactly k jumps, level by level, until none is left."""
    level = set(starts)
    for _ in range(jumps):
        level = {target for name in level for target, _ in edges[name]}
        if not level:
            return False
    return True
