"""A table's jumps as a graph, built once per table for the checks that read it (PL404-PL406
in chain_graph, PL408 in jump_depth): kube-proxy's 100,000 rules were gone through twice."""

from __future__ import annotations

from collections import Counter
from itertools import chain as chain_iterables, compress
from operator import itemgetter

from linter.engine.memo import IdentityCache
from linter.engine.query import LARGE_CHAIN as LARGE, lacks
from linter.model import Table, VerdictKind

_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)
_JUMPING = frozenset(_JUMPS)


class JumpGraph:
    """Per chain name, the (target, rule) of each jump or goto to a chain of the table, in rule
    order (``edges``: every chain has a list, shared, never to be changed); the (target, rule)
    of each jump to a chain the table lacks, in order (``undefined``); every name jumped to."""

    __slots__ = ("edges", "undefined", "used", "bases", "_depth")

    def __init__(self, edges: dict, undefined: list, used: set, bases: tuple = ()):
        self.edges = edges
        self.undefined = undefined
        self.used = used
        self.bases = bases  # the names of the table's base chains
        self._depth = _UNKNOWN

    def depth(self) -> int | None:
        """The most jumps in a row from a base chain (0: none), or None when the graph has a
        loop anywhere (``acyclic(edges)`` is False): worked out once, in one pass, for both
        checks (PL406 asks whether there is a loop, PL408 how deep the jumps go)."""
        if self._depth is _UNKNOWN:
            self._depth = acyclic_depth(self.edges, self.bases)
        return self._depth


_UNKNOWN = object()


_GRAPHS: IdentityCache[JumpGraph] = IdentityCache(1_000)


def jump_graph(table: Table, jumps: list | None = None) -> JumpGraph:
    """The jump graph of ``table`` (remembered per table). ``jumps``: the (chain, rule) of each
    jump and goto of the table in order, when known (engine/rule_scan.py notes them in its pass):
    only those rules are read, where every rule was."""
    found = _GRAPHS.get(table)
    if found is None:
        found = _GRAPHS.put(table, _build(table, jumps))
    return found


def _build(table: Table, jump_rules: list | None = None) -> JumpGraph:
    edges: dict[str, list] = {chain.name: [] for chain in table.chains}
    undefined = []
    used = set()
    if jump_rules is not None:
        for chain, rule in jump_rules:  # (the loop below, on the rules it would not step over)
            target = rule.verdict.target
            if target:
                used.add(target)
                if target in edges:
                    edges[chain.name].append((target, rule))
                else:
                    undefined.append((target, rule))
        return JumpGraph(edges, undefined, used, tuple(chain.name for chain in table.chains if chain.is_base))
    jumps = _JUMPS
    for chain in table.chains:
        if len(chain.rules) >= LARGE and lacks(chain, _JUMPING):
            continue  # no jump or goto (engine/verdict_kinds.py): an allow-list's INPUT
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
    return JumpGraph(edges, undefined, used, tuple(chain.name for chain in table.chains if chain.is_base))


def _waiting(edges: dict) -> dict:
    """Per chain (in the order of ``edges``), how many jumps lead to it: counted by the C loop
    of Counter (kube-proxy's 40,000 chains have 70,000 jumps)."""
    waiting = dict.fromkeys(edges, 0)
    waiting.update(Counter(map(_first, chain_iterables.from_iterable(edges.values()))))
    return waiting


_first = itemgetter(0)


def acyclic(edges: dict) -> bool:
    """Whether the jump graph ``edges`` (JumpGraph.edges) has no loop: every chain can be taken
    away once no chain left jumps to it (one pass over the jumps; a loop's chains never can)."""
    waiting = _waiting(edges)  # chain -> jumps to it from chains not taken away yet
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


def acyclic_depth(edges: dict, starts) -> int | None:
    """``acyclic(edges)``'s pass, which takes every chain after all the chains that jump to it,
    noting on the way the most jumps in a row from a chain of ``starts`` to each chain (final
    when it is taken): the most of all, or None when there is a loop. Without a loop a way is
    never longer than that, so ``reaches(edges, starts, k)`` is ``depth >= k``.

    The pass goes through the chains that jump somewhere only (a random mix's 10,000 user
    chains jump nowhere, and each would cost a step): a loop is made of such chains alone, and
    each chain but the last of a way is one, so the longest way is one jump past the deepest of
    them reached, or 0 when no start jumps anywhere."""
    inner = list(compress(edges, edges.values()))  # the chains that jump somewhere (in C)
    # inner chain -> jumps to it not taken yet (counted by the C loop of Counter: kube-proxy's
    # 40,000 chains have 70,000 jumps)
    jumps_to = Counter(map(_first, chain_iterables.from_iterable(map(edges.__getitem__, inner))))
    waiting = dict(zip(inner, map(jumps_to.__getitem__, inner)))
    depth = {name: 0 for name in starts if name in waiting}  # inner chain reached -> most jumps to it so far
    free = [name for name, count in waiting.items() if not count]
    taken = 0
    while free:
        taken += 1
        name = free.pop()
        reached = depth.get(name)
        further = -1 if reached is None else reached + 1
        for target, _ in edges[name]:
            count = waiting.get(target)
            if count is None:
                continue  # (a chain that jumps nowhere)
            count -= 1
            waiting[target] = count
            if not count:
                free.append(target)
            if further >= 0 and depth.get(target, -1) < further:
                depth[target] = further
    if taken != len(waiting):
        return None
    return max(depth.values()) + 1 if depth else 0


def reaches(edges: dict, starts, jumps: int) -> bool:
    """Whether some way from a chain of ``starts`` takes ``jumps`` jumps in a row (loops
    included): the chains reached by exactly k jumps, level by level, until none is left."""
    level = set(starts)
    for _ in range(jumps):
        level = {target for name in level for target, _ in edges[name]}
        if not level:
            return False
    return True
