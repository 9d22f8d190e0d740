"""Many boxes through one base chain: walk one of each kind, replay its walk for the others.

After kube-proxy's DNATs, tens of thousands of boxes enter FORWARD and nat POSTROUTING,
each with a path of its own (its endpoint's DNAT), so none merge; yet the chains there read
only the state, the mark and whether the destination is in the pod network. Boxes that no
rule of the chain (nor of a chain it jumps to) can tell apart meet every rule the same way:
the first of them is walked, and the others take its outcomes, its steps and its
assumptions after their own.

Two boxes cannot be told apart when they agree on every dimension but the wide ones
(addresses and ports) and, on each wide one, lie in one *atom* of the values the rules
read: between two consecutive bounds of every range any match, dispatch key or accept hull
of the chains uses. A rule then matches both wholly or neither, so no split cuts one and
not the other. A DNAT (the only rule that writes a wide dimension, as the last step of an
accept) is applied again to each box, as it depends on the box's own destination.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import repeat
from operator import is_, itemgetter

from linter.addresses import LOOPBACK_V4, LOOPBACK_V6
from linter.engine.chains import chain_named
from linter.engine.memo import IdentityCache
from linter.engine import space
from linter.engine.coalesce import coalesce
from linter.engine.space import (
    BROADCAST_V4, MULTICAST_V4, MULTICAST_V6, Box, extend_path, hold_paths,
)
from linter.engine.walk import Outcome, Walker, apply_nat
from linter.model import (
    AddressMatch, AddrTypeMatch, Chain, CtStatusMatch, Direction, FragmentMatch, InterfaceMatch, LimitMatch,
    MarkMatch, NatStateMatch, OpaqueMatch, OriginalAddressMatch, OriginalPortMatch, PortMatch, ProtocolMatch,
    StateMatch, Table, TcpFlagsMatch, VerdictKind,
)

MIN_BOXES = 64  # fewer boxes than this are walked together as they are
ONE_OUTCOME_LANE = True  # _replay_all's loops for one outcome (tests turn them off to compare)
MAX_RULES = 1_024  # a chain (with the chains it jumps to) of more rules has no plan

# Matches decided by the dimensions a plan compares exactly (protocol, interfaces, state,
# marks, whether a NAT rewrote the box) or by nothing about the box at all.
_EXACT_MATCHES = (ProtocolMatch, StateMatch, InterfaceMatch, MarkMatch, CtStatusMatch, NatStateMatch,
                  TcpFlagsMatch, LimitMatch, FragmentMatch, OpaqueMatch)
_ADDRTYPE_RANGES = (MULTICAST_V4, BROADCAST_V4, LOOPBACK_V4, MULTICAST_V6, LOOPBACK_V6)
_NAT_KINDS = (VerdictKind.DNAT, VerdictKind.REDIRECT)


class Plan:
    """The bounds of the atoms of one chain's wide dimensions (addresses, ports)."""

    __slots__ = ("addresses", "sources", "dports", "sports", "originals")

    def __init__(self, addresses: list[int], sources: list[int], dports: list[int], sports: list[int],
                 originals: bool):
        self.addresses = addresses  # destinations, before and after NAT
        self.sources = sources
        self.dports = dports  # destination ports, before and after NAT
        self.sports = sports
        # Whether a rule reads the destination as sent (conntrack's original tuple, or the
        # accept hull: engine/hull.py reads the current one); else, once a DNAT rewrote a box,
        # only the rewritten destination and port are read.
        self.originals = originals

    def key(self, box: Box) -> tuple | None:
        """What decides how the chain's rules meet ``box``; None when a wide dimension of it
        spans more than one atom (the rules may cut it)."""
        # (The box's fields unpacked at once: 130,000 keys a kube walk. Each wide dimension's atom
        # is _atom's answer worked out in place, -1 returning None at once: four calls a box less.)
        family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif, mark, ctmark, _, _ = box
        if not src or not sport:
            return None
        bounds = self.sources
        if bounds:
            at = bisect_right(bounds, src[0][0])
            if at != bisect_right(bounds, src[-1][1]):
                return None
            src = at
        else:
            src = 0
        bounds = self.sports
        if bounds:
            at = bisect_right(bounds, sport[0][0])
            if at != bisect_right(bounds, sport[-1][1]):
                return None
            sport = at
        else:
            sport = 0
        bounds = self.addresses
        unchanged = nat_dst is None
        if unchanged:
            nat_dst, ranges = -2, dst
        else:
            dst = _atom(bounds, dst) if self.originals else -3
            ranges = nat_dst
        if not ranges:
            return None
        if bounds:
            at = bisect_right(bounds, ranges[0][0])
            if at != bisect_right(bounds, ranges[-1][1]):
                return None
        else:
            at = 0
        if unchanged:
            dst = at
        else:
            nat_dst = at
        bounds = self.dports
        unchanged = nat_dport is None
        if unchanged:
            nat_dport, ranges = -2, dport
        else:
            dport = _atom(bounds, dport) if self.originals else -3
            ranges = nat_dport
        if not ranges:
            return None
        if bounds:
            at = bisect_right(bounds, ranges[0][0])
            if at != bisect_right(bounds, ranges[-1][1]):
                return None
        else:
            at = 0
        if unchanged:
            dport = at
        else:
            nat_dport = at
        if dst == -1 or dport == -1:
            return None
        # (The family by identity: hashing an enum member runs Python code.)
        return (src, dst, dport, sport, nat_dst, nat_dport, id(family), proto, iif, state, local, oif, mark, ctmark)


def _atom(bounds: list[int], ranges) -> int:
    if not ranges:
        return -1
    if not bounds:
        return 0
    first = bisect_right(bounds, ranges[0][0])
    return first if first == bisect_right(bounds, ranges[-1][1]) else -1


_PLANS: IdentityCache = IdentityCache(10_000)
_NO_PLAN = object()


def plan_of(table: Table, chain: Chain, walker: Walker) -> Plan | None:
    """The plan of ``chain`` and every chain it jumps to (None: a match no plan models, or too
    many rules); the routes and host addresses the walker decides by bound its atoms too."""
    routing = walker.routing
    found = _PLANS.get(chain)
    if found is not None and found[0] is routing:
        return None if found[1] is _NO_PLAN else found[1]
    plan = _build(table, chain, routing)
    _PLANS.put(chain, (routing, _NO_PLAN if plan is None else plan))
    return plan


def _build(table: Table, chain: Chain, routing) -> Plan | None:
    addresses: set[int] = set()
    sources: set[int] = set()
    dports: set[int] = set()
    sports: set[int] = set()
    chains = [chain]
    seen = {chain.name}
    rules = 0
    addrtype = originals = False
    while chains:
        current = chains.pop()
        rules += len(current.rules)
        if rules > MAX_RULES:
            return None
        for rule in current.rules:
            for match in rule.matches:
                kind = type(match)
                if kind is OriginalAddressMatch or kind is OriginalPortMatch:
                    originals = True
                if kind is AddressMatch or kind is OriginalAddressMatch:
                    _bounds(sources if match.direction is Direction.SOURCE else addresses, match.addresses.ranges)
                elif kind is PortMatch or kind is OriginalPortMatch:
                    _bounds(sports if match.direction is Direction.SOURCE else dports, match.ports.ranges)
                elif kind is AddrTypeMatch:
                    addrtype = True
                elif kind not in _EXACT_MATCHES:
                    return None
            if rule.verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO):
                target = chain_named(table, rule.verdict.target)
                if target is not None and target.name not in seen:
                    seen.add(target.name)
                    chains.append(target)
    if addrtype:
        for ranges in _ADDRTYPE_RANGES:
            _bounds(addresses, ranges)
            _bounds(sources, ranges)
    if routing is not None:
        for _, _, ranges in routing.subnets:
            _bounds(addresses, ranges)
        for _, ranges in routing.host:
            _bounds(addresses, ranges)
            _bounds(sources, ranges)
    return Plan(sorted(addresses), sorted(sources), sorted(dports), sorted(sports), originals)


def _bounds(into: set[int], ranges) -> None:
    for lo, hi in ranges:
        into.add(lo)
        into.add(hi + 1)


def walk_many(walker: Walker, table: Table, chain: Chain, boxes: list[Box]) -> list[tuple[Box, Outcome]]:
    """``walker.walk(table, chain, boxes)``, with boxes the chain cannot tell apart walked once
    (the same outcomes, steps and assumptions for each; parts that fall off the chain merged
    as a walk merges them)."""
    if len(boxes) < MIN_BOXES or walker.record or walker.budget.degraded:
        return walker.walk(table, chain, boxes)
    plan = plan_of(table, chain, walker)
    if plan is None:
        return walker.walk(table, chain, boxes)
    groups: dict[tuple, list[Box]] = {}
    apart: list[Box] = []
    key_of = plan.key
    for box in boxes:
        key = key_of(box)
        if key is None:
            apart.append(box)
        else:
            members = groups.get(key)
            if members is None:
                groups[key] = [box]
            else:
                members.append(box)
    if len(groups) * 2 > len(boxes):
        return walker.walk(table, chain, boxes)  # most boxes of a kind of their own: nothing to share
    results: list[tuple[Box, Outcome]] = []
    planned = []
    for members in groups.values():
        # Merged as a walk merges what enters a chain together (what exposure reports of a
        # DNATed box's private reach depends on how its destination was cut): boxes of one
        # path that differ in one dimension only, which a key of their own never tells apart.
        members = coalesce(members)
        if len(members) == 1 or walker.budget.degraded:
            apart.extend(members)
            continue
        template = _template(walker, table, chain, members[0])
        if template is None:
            apart.extend(members)
            continue
        walked, spent = template
        walker.budget.spent += spent * (len(members) - 1) // 2
        planned.append((members, walked))
    # Every walk before any replay, and the replays with the path cache held: which replayed
    # boxes share a path, and how the walks' boxes merge, then depend on their own paths only,
    # not on how many other boxes were replayed (each replay extends the cache).
    walked_apart = walker.walk(table, chain, apart) if apart else ()
    back = Outcome.RETURN  # (an enum member looked up once: ~0.3 us a look-up, 130,000 results)
    returned: list[Box] = []
    hold_paths(True)
    try:
        for members, walked in planned:
            _replay_all(members, walked, walker, results, returned)
    finally:
        hold_paths(False)
    if walked_apart:
        for box, outcome in walked_apart:
            if outcome is back:
                returned.append(box)
            else:
                results.append((box, outcome))
    if returned:
        results.extend((box, Outcome.RETURN) for box in coalesce(returned))
    return results


def _template(walker: Walker, table: Table, chain: Chain, box: Box):
    """(the walk of ``box`` with no path of its own, each outcome with the DNAT rule to apply
    again or None; the budget it spent), or None when an outcome changes a wide dimension
    otherwise than by a final DNAT."""
    bare = box._replace(assumptions=(), trail=())
    before = walker.budget.spent
    walked = walker.walk(table, chain, [bare])
    spent = walker.budget.spent - before
    template = []
    for done, outcome in walked:
        last = done.trail[-1].rule if done.trail else None
        nat = last if outcome is Outcome.ACCEPT and last is not None and last.verdict.kind in _NAT_KINDS else None
        if done.src != bare.src or done.sport != bare.sport or done.dst != bare.dst or done.dport != bare.dport:
            return None
        if nat is None and (done.nat_dst != bare.nat_dst or done.nat_dport != bare.nat_dport
                            or done.local is not bare.local):
            return None
        # Each step and assumption with the identity step() and the walk hash-cons it by: a
        # replay extends a member's path with these very objects (equal to what it would build).
        steps = tuple(((s.event, id(s.table), id(s.chain), id(s.rule), s.detail), s) for s in done.trail)
        conditions = tuple(((id(a.rule), id(a.match), a.matched), a) for a in done.assumptions)
        template.append((done, outcome, nat, steps, conditions))
    return template, spent


def _same(item):
    return item


def _replay_all(members: list[Box], template, walker: Walker, results: list, returned: list | None = None) -> None:
    """The template's outcomes for each of ``members`` in turn (into ``results``; where
    ``returned`` is given, a box that returns goes there instead, without its outcome): its
    own wide dimensions, path and assumptions, then the template's steps and assumptions.
    (Each path extended as ``space.extend_path`` extends it, in place: the same look-up of the
    path cache by the same key, the same emptying of a full cache before a new extension is
    stored.) One loop for the group: 64,000 members a kube-proxy chain, each a call of its
    own before."""
    paths = space._PATHS
    routing = walker.routing
    append = results.append
    back = Outcome.RETURN
    fell_off = returned.append if returned is not None else lambda box: append((box, back))
    # (Whether the cache may be emptied, read once: nothing in the loop holds or lets go.)
    clearing, size = not space._HOLDING[0], space.PATH_CACHE_SIZE
    # Per outcome, the exact fields the walked box ended with (read once, not per member), and
    # each step as the one-item tuple a path is extended by.
    items = [((done.family, done.proto, done.iif, done.state, done.oif, done.mark, done.ctmark), outcome, nat,
              tuple((identity, (s,)) for identity, s in steps), conditions)
             for done, outcome, nat, steps, conditions in template]
    if ONE_OUTCOME_LANE and len(items) == 1 and not items[0][4]:
        # One outcome and no assumption (kube-proxy's FORWARD and nat POSTROUTING): the loop
        # below for one item, its invariants read once.
        fields, outcome, nat, steps, _ = items[0]
        if not steps and outcome is back and nat is None:
            if _stand_for_themselves(members, fields):
                if returned is not None:
                    returned.extend(members)
                else:
                    results.extend(zip(members, repeat(back)))
                return
        else:
            _replay_one(members, items[0], paths, clearing, size, routing, append, fell_off if outcome is back else None)
            return
    for member in members:
        (member_family, member_proto, sport, dport, src, dst, member_iif, member_state, local, nat_dst, nat_dport,
         member_oif, member_mark, member_ctmark, member_assumed, member_trail) = member
        for fields, outcome, nat, steps, conditions in items:
            if not steps and not conditions and outcome is back and nat is None:
                # Returned through the chain with no step: the box it would build holds the
                # member's own objects in every field when the template's exact fields are the
                # member's (by identity). A returned box goes on only through walk_many's coalesce
                # (which reads fields, not the box's identity) and _run_chain's policy step (a box
                # of its own): the member itself stands for it (kube's nat POSTROUTING: 32,000).
                family, proto, iif, state, oif, mark, ctmark = fields
                if family is member_family and proto is member_proto and iif is member_iif \
                        and state is member_state and oif is member_oif and mark is member_mark \
                        and ctmark is member_ctmark:
                    fell_off(member)
                    continue
            family, proto, iif, state, oif, mark, ctmark = fields
            trail = member_trail
            fresh = False  # whether ``trail`` was made by this replay's last step (see below)
            for identity, one in steps:
                key = (id(trail), identity)
                if not fresh:
                    hit = paths.get(key)
                    if hit is not None and hit[0] is trail:
                        trail = hit[1]
                        continue
                    # A new tuple from here on: every key in the cache is the id of a path its
                    # entry keeps alive, never that of a tuple just made, so looking up the
                    # next steps' keys would miss (FORWARD: 64,000 look-ups less).
                    fresh = True
                if clearing and len(paths) > size:
                    paths.clear()
                # (An empty trail plus a tuple is that tuple itself: a new one made, as before.)
                extended = trail + one if trail else (one[0],)
                paths[key] = (trail, extended)
                trail = extended
            assumptions = member_assumed
            for identity, a in conditions:
                assumptions = extend_path(assumptions, identity, _same, a)
            box = _new_box(Box, (family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif,
                                 mark, ctmark, assumptions, trail))
            if nat is not None:
                box = apply_nat(box, nat, routing)
            if outcome is back:
                fell_off(box)
            else:
                append((box, outcome))


def _stand_for_themselves(members: list[Box], fields: tuple) -> bool:
    """Whether every member holds the template's exact fields (family, protocol, interfaces,
    state, marks) by identity: each then stands for its own stepless return (_replay_all)."""
    return all(all(map(is_, map(getter, members), repeat(value))) for getter, value in zip(_EXACT_GETTERS, fields))


def _replay_one(members: list[Box], item: tuple, paths: dict, clearing: bool, size: int, routing, append,
                fell_off) -> None:
    """_replay_all's loop for a template of one outcome with no assumption (``item``), not a
    stepless return: each member's box, in order, to ``fell_off`` when given (a return), else
    with the outcome to ``append``; each path extended as _replay_all extends it."""
    fields, outcome, nat, steps, _ = item
    family, proto, iif, state, oif, mark, ctmark = fields
    for (_, _, sport, dport, src, dst, _, _, local, nat_dst, nat_dport, _, _, _, assumptions, trail) in members:
        fresh = False  # whether ``trail`` was made by this replay's last step (_replay_all)
        for identity, one in steps:
            key = (id(trail), identity)
            if not fresh:
                hit = paths.get(key)
                if hit is not None and hit[0] is trail:
                    trail = hit[1]
                    continue
                fresh = True
            if clearing and len(paths) > size:
                paths.clear()
            extended = trail + one if trail else (one[0],)
            paths[key] = (trail, extended)
            trail = extended
        box = _new_box(Box, (family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif,
                             mark, ctmark, assumptions, trail))
        if nat is not None:
            box = apply_nat(box, nat, routing)
        if fell_off is not None:
            fell_off(box)
        else:
            append((box, outcome))


_EXACT_GETTERS = tuple(itemgetter(Box._fields.index(name)) for name in
                       ("family", "proto", "iif", "state", "oif", "mark", "ctmark"))
_new_box = tuple.__new__  # Box's own constructor takes its 16 fields through Python code
