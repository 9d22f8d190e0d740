"""The boxes of one replay of a shapewalk template, built in one loop.

A template (engine/shapewalk.py) describes each result of a subtree's walk in labels: its
exact fields, its wide fields (an entering box's list, or labels of the replay's values),
the steps and assumptions it adds to the entering path, and the DNAT rule applied again.
Replaying it for 10,000 kube-proxy services builds 68,000 boxes, and building them one call
per step, assumption and NAT cost more than the walk it replaces.

Here a replay resolves each distinct step and assumption of the template once (the chain,
rule and match at its place in the replayed subtree), and extends paths as
``space.extend_path`` does, in place: the same lookup of the path cache by the same key,
the same emptying of a full cache before a new extension is stored, the same object made.
An extension already made in this replay is taken from the replay's own table, which is
emptied whenever the path cache is: it holds only what the path cache holds, so the answer
is the one the path cache would give. A DNAT's new destination is worked out once per NAT
rule and destination of the replay (``walk.nat_fields`` reads nothing else).
"""

from __future__ import annotations

from linter.engine import space
from linter.engine.space import Assumption, Box
from linter.engine.walk import Step, apply_nat, nat_fields
from linter.model import VerdictKind

_new = tuple.__new__
_NAT = (VerdictKind.DNAT, VerdictKind.REDIRECT)


def _step(args) -> Step:
    return _new(Step, args)


def _assumption(args) -> Assumption:
    return Assumption(*args)


class _Extensions:
    """Paths extended as ``space.extend_path`` extends them, with this replay's own table of
    the extensions it made (one per kind: trails, assumptions), emptied with the path cache."""

    __slots__ = ("made",)

    def __init__(self):
        self.made = ({}, {})

    def extended(self, path: tuple, positions: tuple, specs: list, kind: int, make) -> tuple:
        """``path`` extended by the specs at ``positions`` in turn (each ``(cache identity,
        constructor arguments)``), new elements built by ``make``."""
        made = self.made[kind]
        paths = space._PATHS
        for position in positions:
            mine_key = (id(path), position)
            mine = made.get(mine_key)
            if mine is not None and mine[0] is path:
                path = mine[1]
                continue
            identity, args = specs[position]
            key = (mine_key[0], identity)
            hit = paths.get(key)
            if hit is not None and hit[0] is path:
                extended = hit[1]
            else:
                if len(paths) > space.PATH_CACHE_SIZE and not space._HOLDING[0]:
                    paths.clear()
                    for table in self.made:
                        table.clear()
                extended = path + (make(args),)
                paths[key] = (path, extended)
            made[mine_key] = (path, extended)
            path = extended
        return path


def compile_items(items: list) -> tuple[tuple, tuple, list]:
    """(the distinct steps, the distinct assumptions, ``items`` with their steps and
    assumptions as positions in those): items as shapewalk._item makes them, each
    ``(exact, wide, steps, conditions, nat)``."""
    steps: dict = {}
    conditions: dict = {}
    compiled = []
    for exact, wide, item_steps, item_conditions, nat in items:
        compiled.append((exact, wide, tuple(steps.setdefault(s, len(steps)) for s in item_steps),
                         tuple(conditions.setdefault(c, len(conditions)) for c in item_conditions), nat))
    return tuple(steps), tuple(conditions), compiled


def made_all(step_specs: tuple, condition_specs: tuple, items: list, walker, table, subtree, entering: Box,
             boxes, values) -> list[Box]:
    """The box each of ``items`` (compiled by compile_items) describes, in order, for
    ``subtree`` entered by ``boxes`` (the first is ``entering``) with label ``values``."""
    chains = subtree.chains
    table_id = id(table)
    steps = []
    for event, c, r, detail in step_specs:
        chain = chains[c]
        rule = None if r is None else chain.rules[r]
        steps.append(((event, table_id, id(chain), id(rule), detail), (event, table, chain, rule, detail)))
    conditions = []
    for c, r, position, matched in condition_specs:
        rule = chains[c].rules[r]
        match = rule.matches[position]
        conditions.append(((id(rule), id(match), matched), (rule, match, matched)))
    extend = _Extensions().extended
    nats: dict = {}
    start_trail, start_assumed = entering.trail, entering.assumptions
    local, routing = entering.local, walker.routing
    out = []
    for exact, wide, item_steps, item_conditions, nat in items:
        trail = extend(start_trail, item_steps, steps, 0, _step)
        assumptions = extend(start_assumed, item_conditions, conditions, 1, _assumption)
        fields = []
        for spec in wide:
            if spec is None:
                fields.append(None)
            elif spec[0] == "same":
                fields.append(boxes[spec[1]][spec[2]])
            else:
                these = values[spec[1]]
                fields.append(tuple([(these[low], these[high] - 1) for low, high in spec[2]]))
        family, proto, iif, state, box_local, oif, mark, ctmark = exact
        sport, dport, src, dst, nat_dst, nat_dport = fields
        if nat is None:
            out.append(_new(Box, (family, proto, sport, dport, src, dst, iif, state, box_local, nat_dst, nat_dport,
                                  oif, mark, ctmark, assumptions, trail)))
            continue
        rule = chains[nat[0]].rules[nat[1]]
        verdict = rule.verdict
        if verdict.kind not in _NAT:
            box = _new(Box, (family, proto, sport, dport, src, dst, iif, state, local, None, None, oif, mark, ctmark,
                             assumptions, trail))
            out.append(apply_nat(box, rule, routing))
            continue
        # The box before the DNAT (not rewritten, local as it entered) as apply_nat rewrites it.
        nat_key = (nat, id(dst), id(dport))
        found = nats.get(nat_key)
        if found is None or found[0] is not dst or found[1] is not dport or found[2] is not family:
            found = nats[nat_key] = (dst, dport, family, nat_fields(verdict, family, dst, dport, local, routing))
        nat_dst, nat_dport, box_local = found[3]
        out.append(_new(Box, (family, proto, sport, dport, src, dst, iif, state, box_local, nat_dst, nat_dport, oif,
                              mark, ctmark, assumptions, trail)))
    return out
