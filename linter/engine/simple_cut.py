"""The dead-rule analysis's shortcut for a rule that cuts one range of the boxes it meets.

Most rules of a long chain are a source network or a protocol's destination ports, dropped
or accepted (``-s NET -j DROP``, ``-p udp -m multiport --dports A,B,C -j DROP``). A box that
the rule's other matches hold whole leaves split_rule as at most one box that goes on: the
same box with that one range minus the rule's, or the box itself where nothing is taken
away. Going through split_rule for it also built the matching part, intersected before
subtracting and tried every kind of match in turn: a third of a random mix's analysis of
its 50,000-rule INPUT, whose hundreds of boxes each meet every rule.

The answer must be split_rule's to the object, not only to the value: the box itself where
it misses, a copy holding a new list of its own (iv.subtract's value, see _without) where it is cut, nothing where
all of it matches. (coalesce compares long range lists by identity, so a list shared where
split_rule would have made two, or the other way round, could merge other boxes, change
how many boxes go on and so where the analysis's budget runs out.) A box the shortcut does
not cover (a protocol the rule holds only part of, one without ports, a NAT-rewritten
port, another family) goes through split_rule itself.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from linter.engine import intervals as iv
from linter.engine.rangelist import HOLD_AT_LEAST, RangeList, shared_piece, subtract as chunked_subtract
from linter.engine.space import PORT_PROTOCOL_RANGES, Box, protocol_ranges, split_rule
from linter.model import AddressMatch, Direction, Family, PortMatch, ProtocolMatch, VerdictKind

_FIELD = {name: index for index, name in enumerate(Box._fields)}
_FAMILY, _PROTO, _SRC, _DPORT, _NAT_DPORT = (_FIELD[name] for name in ("family", "proto", "src", "dport", "nat_dport"))
_new_box = tuple.__new__
_ENDS_ELSEWHERE = frozenset({VerdictKind.RETURN, VerdictKind.JUMP, VerdictKind.GOTO})

# Only the last rule's shape is kept (the analysis meets one rule with all its boxes in turn).
_LAST: list = [None, None]  # [rule, its shape]


def simple_cut(rule) -> tuple | None:
    """(field index, ranges, lowest, highest, protocol ranges or None, family or None) when
    ``rule`` is a source match alone or a protocol and destination port match, neither
    negated, whose verdict does not send packets elsewhere (no jump, goto or return);
    else None."""
    if _LAST[0] is not rule:
        _LAST[1] = _shape_of(rule)
        _LAST[0] = rule
    return _LAST[1]


def _shape_of(rule) -> tuple | None:
    if rule.verdict.kind in _ENDS_ELSEWHERE:
        return None
    matches = rule.matches
    if len(matches) == 1:
        match = matches[0]
        if type(match) is AddressMatch and not match.negated and match.direction is Direction.SOURCE \
                and match.addresses.ranges and match.addresses.family in (Family.IPV4, Family.IPV6):
            ranges = match.addresses.ranges
            return _SRC, ranges, *_bounds(ranges), None, match.addresses.family, _canonical(ranges)
    elif len(matches) == 2:
        protocols, ports = matches
        if type(protocols) is ProtocolMatch and not protocols.negated and protocols.protocols \
                and type(ports) is PortMatch and not ports.negated and ports.direction is Direction.DESTINATION \
                and ports.ports.ranges:
            ranges = ports.ports.ranges
            return _DPORT, ranges, *_bounds(ranges), protocol_ranges(protocols.protocols), None, _canonical(ranges)
    return None


def _canonical(ranges) -> bool:
    """Whether _without may take ``ranges`` away: sorted and disjoint, and few (it joins the
    pieces left in one range of a box again at every cut in it: a set of 10,000 addresses cut
    from the whole address space cost 10,000² appends; iv.subtract merges such a list in one pass)."""
    return len(ranges) <= WITHOUT_AT_MOST and all(lo <= hi for lo, hi in ranges) \
        and all(a[1] < b[0] for a, b in zip(ranges, ranges[1:]))


WITHOUT_AT_MOST = 16  # ranges of a rule's match _without takes away (a multiport list's 15 ports)


def _bounds(ranges) -> tuple[int, int]:
    """The lowest and highest value of ``ranges`` (not taken on trust to be sorted)."""
    return min(lo for lo, _ in ranges), max(hi for _, hi in ranges)


_WHOLE, _MISSES, _OTHER = 1, 2, 3  # what a rule's protocol match does to a box's protocols


def cut(boxes: list[Box], shape: tuple, rule) -> tuple[bool, list[Box]]:
    """(whether the rule of ``shape`` matches part of some box, the parts that go on), each
    box's parts as split_rule(box, rule.matches, rule, False, decide=False) gives them, in
    order."""
    field, wanted, lowest, highest, protocols, family, canonical = shape
    met = False
    outside: list[Box] = []
    append = outside.append
    subtract = _without if canonical else iv.subtract
    after = field + 1
    chunk_cuts: dict = {}  # for rangelist.subtract: the boxes' shared chunks cut once
    by_protocols: dict[int, int] = {}  # id(box's protocol ranges) -> _WHOLE/_MISSES/_OTHER (the boxes hold them)
    for box in boxes:
        if protocols is None:
            covered = box[_FAMILY] is family
        elif box[_NAT_DPORT] is not None:
            covered = False
        else:
            held = box[_PROTO]
            status = by_protocols.get(id(held))
            if status is None:
                status = by_protocols[id(held)] = _status(held, protocols)
            if status is _MISSES:
                append(box)
                continue
            covered = status is _WHOLE
        current = box[field]
        if not covered or not current:
            inside, parts = split_rule(box, rule.matches, rule, False, decide=False)
            outside.extend(parts)
            met = met or inside is not None
            continue
        if current[-1][1] < lowest or current[0][0] > highest:
            append(box)
            continue
        if canonical and (type(current) is RangeList or len(current) >= HOLD_AT_LEAST):
            rest = chunked_subtract(current, wanted, chunk_cuts)  # engine/rangelist.py: only the chunks cut are new
        else:
            rest = subtract(current, wanted)
        if rest is current:  # (nothing taken away: the list itself, as iv.subtract hands it back)
            append(box)
            continue
        met = True
        if rest:
            append(_new_box(Box, box[:field] + (rest,) + box[after:]))
    return met, outside


def _status(held: iv.Ranges, protocols: iv.Ranges) -> int:
    """Whether a protocol match of ``protocols``, followed by a port match, holds a box of
    protocols ``held`` whole (all of them named and all with ports), misses it, or neither."""
    if not iv.intersect(held, protocols):
        return _MISSES
    if not iv.subtract(held, protocols) and not iv.subtract(held, PORT_PROTOCOL_RANGES):
        return _WHOLE
    return _OTHER


_AFTER_ALL = float("inf")  # (value, _AFTER_ALL) sorts after every range starting at value


def _without(a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """iv.subtract(a, b) for ``b`` sorted and disjoint, by value (``a`` itself when nothing is
    taken away, else a new tuple), the new pieces shared (rangelist.shared_piece)."""
    cuts: list[tuple[int, int, list]] = []  # a[first:last] becomes the pieces
    for lo, hi in b:
        first = bisect_left(a, (lo,))
        if first and a[first - 1][1] >= lo:
            first -= 1
        last = bisect_right(a, (hi, _AFTER_ALL), first)
        if last <= first:
            continue
        if cuts and first < cuts[-1][1]:  # the range the cut before left a piece of
            first, before, pieces = cuts.pop()
            stretch = pieces + list(a[before:last])
        else:
            stretch = a[first:last]
        kept = []
        for piece in stretch:
            p_lo, p_hi = piece
            if p_hi < lo or p_lo > hi:
                kept.append(piece)
                continue
            if p_lo < lo:
                kept.append(shared_piece(p_lo, lo - 1))
            if p_hi > hi:
                kept.append(shared_piece(hi + 1, p_hi))
        cuts.append((first, last, kept))
    if not cuts:
        return a
    out = list(a)
    for first, last, pieces in reversed(cuts):
        out[first:last] = pieces
    return tuple(out)
