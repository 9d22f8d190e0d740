"""Dead-rule analysis of a dispatch segment whose one-rule groups differ in more than their key.

kube-proxy's KUBE-SERVICES holds thousands of ``-d CLUSTER-IP/32 -p tcp --dport P -j
KUBE-SVC-X``: the groups differ in their key, their port and their jump target, so neither
runs.plain_firsts nor runs.same_shape takes them, and the general path split every box of
every group by its rule. Yet the rules fall into few classes: the same matches but the key
(a handful of ports), and targets that return the same space (ShadowAnalysis shares returned
spaces, and chains of one shape share their analysis). Every box of a group holds the key
whole, and the rule's other matches never read the key's dimension, so a group splits its
part exactly as the first group of its class did, but for the key; a returned space that
holds every key whole on that dimension cuts each group's part the same way too.

So the first group of each class is analysed by the rule's own step (ShadowAnalysis._rule),
and every other group of the class is the copy of it with its own key: the same splits spent,
dead (and shadowed, asked of the rule itself) where it was dead, the same boxes going on with
the key replaced. Groups whose copy could differ (a long range list, which merging compares by
identity, or a returned space that cuts the keys) take the rule's own step as well.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.memo import IdentityCache
from linter.engine.rangelist import RangeList, is_long
from linter.engine.runs import READ, REBUILD, KeySplit, fresh, matches_beside_key
from linter.engine.space import Box, has_opaque, has_path_decided
from linter.model import Direction, VerdictKind

_JUMP = VerdictKind.JUMP  # (read once: a member looked up through its class costs ~0.3 us)
_DIRECTION = {"src": Direction.SOURCE, "dst": Direction.DESTINATION}
_PLAIN_KINDS = frozenset({VerdictKind.ACCEPT, VerdictKind.DROP, VerdictKind.REJECT})
_CLASSES: IdentityCache = IdentityCache(10_000)
_SHORT = 8  # coalesce() compares longer range lists by identity
SAME = "same"  # what a jump_mode answers for a jump that changes nothing


def keyed_classes(segment) -> list | None:
    """Per group of ``segment``, the class of its rule (its matches but the key and its verdict
    but a jump's target), when every group is one such rule; None otherwise (remembered per
    segment)."""
    found = _CLASSES.get(segment)
    if found is None:
        found = _CLASSES.put(segment, _classes(segment) or False)
    return found or None


def _classes(segment) -> list | None:
    direction = _DIRECTION.get(segment.dimension)
    groups = segment.groups
    if direction is None or len(groups) < 2 or max(map(len, groups)) != 1:
        return None
    classes = []
    for (rule,) in groups:
        verdict = rule.verdict
        kind = verdict.kind
        if rule.statements or not (kind is _JUMP or kind in _PLAIN_KINDS and verdict.terminal) \
                or has_opaque(rule) or has_path_decided(rule):
            return None
        found = matches_beside_key(rule, direction)
        if found is None or not found[1]:
            return None
        classes.append((found[0], kind, None if kind is _JUMP else verdict))
    return classes


def keyed_segment(segment, split: KeySplit, state, index_of, step, dead, jump_mode) -> list[Box] | None:
    """What goes on past ``segment`` (keyed_classes), not yet merged, every box of ``split``
    holding every key whole; None when the budget ran out (``state.over_budget``). Unless
    ``state.last``, boxes that differ from each other in their destination alone may come
    already partly merged (see ``_going_on``): merging them gives what merging every box gives.

    ``step(rule, index, parts)`` is the analysis' own step through one rule (it spends and
    notes dead rules), ``dead(rule, index)`` notes a rule nothing reaches, and
    ``jump_mode(target)`` tells what a jump to ``target`` does to the parts that take it: SAME
    (they come back as they went), None (they come back whole, merged with what goes on) or
    the returned space they are cut to."""
    classes = keyed_classes(segment)
    keys = segment.keys
    rebuild = REBUILD[segment.dimension]
    read = READ[segment.dimension]
    meeting = split.meeting
    going_on: list[tuple[Box, iv.Ranges | None]] = [(box, None) for box in split.skipping]  # (box, its new key)
    alive: dict = {}  # class -> whether its first group's rule met anything
    templates: dict = {}  # (class, jump mode) -> (boxes going on, splits spent past the parts', mode)
    covered = segment.covered
    holds: dict[int, bool] = {}  # id(returned space) -> whether it holds every key whole
    field = _FIELD_OF[_DIRECTION[segment.dimension]]
    for number, ((rule,), kind) in enumerate(zip(segment.groups, classes)):
        index = index_of[id(rule)]
        key = keys[number]
        met = alive.get(kind)
        if met is False:
            state.spent += len(meeting)
            if state.spent > state.budget:
                state.over_budget = True
                return None
            dead(rule, index)
            going_on.extend([(box, key) for box in meeting])
            continue
        mode = _mode(rule, jump_mode, covered, field, holds) if met else None
        template = templates.get((kind, id(mode))) if met and mode is not False else None
        if template is not None:
            went, extra, _ = template
            state.spent += len(meeting)
            if state.spent > state.budget:
                state.over_budget = True
                return None
            state.spent += extra
            going_on.extend([(box, key) for box in went])
            continue
        spent = state.spent
        went = step(rule, index, [rebuild(box, fresh(key)) for box in meeting])
        if state.over_budget:
            return None
        going_on.extend([(box, None) for box in went])
        if met is None:
            met = alive[kind] = index not in state.dead
            if met:
                mode = _mode(rule, jump_mode, covered, field, holds)
        if met and mode is not False and all(_copyable(box, read, key) for box in went):
            templates[(kind, id(mode))] = (went, state.spent - spent - len(meeting), mode)  # (mode kept alive)
    return _going_on(going_on, rebuild, segment.dimension == "dst" and not state.last)


REDUCE_AT_LEAST = 64  # boxes going on, below which they are all built
_PIECES = 6  # (coalesce.COALESCE_AT_LEAST) pieces a group of boxes alike but for their destination is kept in
_OTHER_FIELDS = tuple(i for i, name in enumerate(Box._fields) if name not in ("dst", "assumptions", "trail"))


def _going_on(items: list, rebuild, reduce: bool) -> list[Box]:
    """The boxes going on, ``items`` being (box, None) for a box and (box, key) for a copy of
    it with that key; ``reduce``: whether they are only going to be merged (shadow.forget_settled).

    Merging (coalesce) first merges, on the destination, the boxes alike in every other value
    (long range lists compared by identity), each group into one box in the place of its
    first member, with the union of their destinations; every later step works on those
    boxes. So a group of thousands of copies (one per cluster IP) is handed over as at most
    _PIECES boxes, each holding the union of consecutive members' destinations: the first
    step merges the pieces into the very box it would have made of the members (the same
    values, the first member's other objects, a new destination list), in the same place.
    Enough pieces are kept that merging runs at all (COALESCE_AT_LEAST boxes), and a group
    of one box stays that box."""
    if not reduce or len(items) < REDUCE_AT_LEAST or any(box.nat_dst is not None for box, _ in items):
        return [box if key is None else rebuild(box, fresh(key)) for box, key in items]
    groups: dict[tuple, list] = {}
    others: dict[int, tuple] = {}
    for item in items:
        box = item[0]
        other = others.get(id(box))
        if other is None:
            other = others[id(box)] = tuple([v if type(v) is not tuple and type(v) is not RangeList or len(v) <= _SHORT
                                             else id(v) for v in map(box.__getitem__, _OTHER_FIELDS)])
        groups.setdefault(other, []).append(item)
    if len(groups) == len(items):
        return [box if key is None else rebuild(box, fresh(key)) for box, key in items]
    going_on = []
    for members in groups.values():
        size = max(1, len(members) // _PIECES)
        for start in range(0, len(members), size):
            chunk = members[start:start + size]
            box, key = chunk[0]
            if len(chunk) == 1:
                going_on.append(box if key is None else rebuild(box, fresh(key)))
            else:
                going_on.append(rebuild(box, iv.normalize(r for b, k in chunk for r in (b.dst if k is None else k))))
    return going_on


def _mode(rule, jump_mode, covered: iv.Ranges, field: int, holds: dict[int, bool]):
    """The rule's jump mode (jump_mode's answer; None for a rule that does not jump), or False
    when its groups cannot be copied: a returned space that does not hold every key whole."""
    if rule.verdict.kind is not _JUMP:
        return None
    mode = jump_mode(rule.verdict.target)
    if mode is None or isinstance(mode, str):  # SAME
        return mode
    known = holds.get(id(mode))
    if known is None:
        known = holds[id(mode)] = all(_holds(box, covered, field) for box in mode)
    return mode if known else False


_FIELD_OF = {Direction.SOURCE: Box._fields.index("src"), Direction.DESTINATION: Box._fields.index("dst")}


def _holds(box: Box, covered: iv.Ranges, field: int) -> bool:
    """Whether ``box`` holds every key (``covered``) whole in its ``field``, the one the keys
    are on (what shadow.intersect cuts there; a returned box has no NAT)."""
    if box.nat_dst is not None or box.nat_dport is not None:
        return False
    low, high = covered[0][0], covered[-1][1]
    return any(lo <= low and high <= hi for lo, hi in box[field])


def _copyable(box: Box, read, key: iv.Ranges) -> bool:
    """Whether a copy of ``box`` with another key merges as the step's own box would: it holds
    the key whole, no NAT and no long range list."""
    return read(box) == key and box.nat_dst is None and box.nat_dport is None \
        and not any(is_long(v) for v in box[1:6])
