"""Cuts of long source lists held back while a walk goes through one chain.

A random mix's INPUT drops one source /24 after another, between rules on ports and jumps:
the box of new connections going on carries the list of every source not dropped yet (16,000
ranges at 100,000 rules), and each `-s NET -j DROP` copied all of it to take one range out
(37,000 copies, 600 million ranges moved at 100,000 rules).

Here, while the walker goes through the rules of one chain, a box with a long source list
that meets a rule on sources alone is not cut. The part in NET is made (a few ranges, exact)
and meets the rule as the walk would have made it; the box goes on as it was, NET's part noted
as a *hole* of it. Any other rule meets the box as it is when it misses it entirely (a rule
that misses a box misses every part of it, so it misses the box less its holes too, and
leaves it as it is). Before a rule that may match such a box, and before anything else reads
the boxes (a dispatch segment, coalesce, the chain's end), the box's holes are cut out, all in
one copy (``settle``). So what each rule decides and what goes on is what cutting at every
rule gives, in the same order; only the copies are fewer.

A box's holes are kept sorted and disjoint, each inside one range of its list: fewer holes
than the list has ranges can never take all of it, so a held box is never empty.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from operator import is_
from typing import Callable

from linter.engine import intervals as iv, memo
from linter.engine.coalesce import BY_VALUE, coalesce, merged_in_sources
from linter.engine.space import Box, with_src
from linter.model import AddressMatch, Direction, Family, Rule

LONG = 64  # source lists past this many ranges are held rather than cut
MOST_PER_CUT = 8  # a rule taking more ranges than this out of a held box settles it first
# A held box keeps at most 1/HOLES_DIVISOR of its list's length as holes, then is settled (one
# copy of the list). Settling costs the list's length, so the settles cost the cuts times this
# divisor whatever the length; more holes cost the lanes reading them a little more (a random
# mix 10k: 8 -> 4 -0.27% instructions; 3 alike, 2 +0.34%).
HOLES_DIVISOR = 4
_AFTER_ALL = 1 << 130  # past every address (v6 too): a bisection key after every range
_SOURCE, _IPV4, _IPV6 = Direction.SOURCE, Family.IPV4, Family.IPV6


def source_only(rule: Rule) -> tuple[Family, iv.Ranges] | None:
    """(family, ranges) of a rule whose only match is a plain source address match."""
    # (asked ~92,000 times in a random mix of 100,000 rules, each rule about once: the enum
    # members read from module constants, the address set once)
    matches = rule.matches
    if len(matches) != 1 or rule.statements:
        return None
    match = matches[0]
    if type(match) is not AddressMatch or match.negated or match.direction is not _SOURCE:
        return None
    addresses = match.addresses
    family = addresses.family
    if family is not _IPV4 and family is not _IPV6:
        return None
    return family, addresses.ranges


def holds_long(boxes: list[Box]) -> bool:
    """Whether some box has a source list worth holding."""
    for box in boxes:
        if len(box.src) > LONG:
            return True
    return False


class HeldCuts(dict):
    """The holes of the held boxes of one walk through a chain, by the boxes' identity: a dict
    ``id(box) -> (box, holes)`` (a dict itself, so that ``if held`` asked at every rule of a
    walk is the dict's own test, not a method call)."""

    __slots__ = ()

    def settle(self, boxes: list[Box]) -> list[Box]:
        """``boxes`` with every held box's holes cut out (the same list when none is held)."""
        held = self
        if not held:
            return boxes
        settled = [self._settled(box) if id(box) in held else box for box in boxes]
        held.clear()
        return settled

    def _settled(self, box: Box) -> Box:
        src = box.src
        holes = self[id(box)][1]
        if _STARTS[0] is src and _STARTS[1] is not None:
            return with_src(box, _without_holes(src, holes, _STARTS[1]))  # (the held list _in_range bisected)
        return with_src(box, iv.without_inside(src, holes))

    def holes_of(self, box: Box) -> list[tuple[int, int]] | None:
        """The holes of ``box`` (None when it is not held)."""
        entry = self.get(id(box))
        return entry[1] if entry is not None else None

    def release(self, box: Box) -> list[tuple[int, int]]:
        """The holes of held ``box``, no longer held here (they go on with another box)."""
        return self.pop(id(box))[1]

    def adopt(self, box: Box, holes: list[tuple[int, int]]) -> None:
        """Hold ``box`` (same source list as the box ``holes`` were cut from) with ``holes``."""
        self[id(box)] = (box, holes)

    def part_in(self, box: Box, wanted: iv.Ranges) -> iv.Ranges:
        """What held ``box`` holds of ``wanted`` (its holes left out), as cutting it would give."""
        inside = iv.intersect(box.src, wanted)
        holes = self[id(box)][1]
        return _less_holes(inside, holes) if inside else inside

    def may_take(self, box: Box, part: iv.Ranges) -> bool:
        """Whether held ``box`` may keep ``part`` (a part_in answer) as holes too, rather than be
        settled (a dispatch run's part: no more holes than cut_by_source keeps in all)."""
        return len(self[id(box)][1]) + len(part) <= len(box.src) // HOLES_DIVISOR

    def take(self, box: Box, part: iv.Ranges) -> None:
        """``part`` (a part_in answer) cut out of held ``box`` as holes."""
        holes = self[id(box)][1]
        for piece in part:
            insort(holes, piece)

    def coalesce(self, boxes: list[Box]) -> list[Box]:
        """coalesce(``boxes``) as if every held box's holes were cut out first (engine/coalesce.py
        merges them so); the boxes that come out holding holes are held here. A box whose list
        could be short once settled (compared by value then) is settled first."""
        held = self
        if not held:
            return coalesce(boxes)
        if any(len(box.src) - len(held[id(box)][1]) <= BY_VALUE for box in boxes if id(box) in held):
            boxes = [self._settled_out(box) if id(box) in held and len(box.src) - len(held[id(box)][1]) <= BY_VALUE
                     else box for box in boxes]
        merged = merged_in_sources(boxes, held)  # (the common case, without coalesce's signatures)
        return merged if merged is not None else coalesce(boxes, held)

    def _settled_out(self, box: Box) -> Box:
        settled = self._settled(box)
        del self[id(box)]
        return settled

    def misses_all(self, boxes: list[Box], splits: Callable[[Box], tuple]) -> bool:
        """Whether every held box of ``boxes`` comes out of ``splits`` (the rule's split of one
        box) unmatched and whole: then the rule leaves each as it is, holes or not."""
        held = self
        for box in boxes:
            if id(box) in held:
                inside, outside = splits(box)
                if inside is not None or len(outside) != 1 or outside[0] is not box:
                    return False
        return True

    def cut_by_source(self, key: tuple[Family, iv.Ranges], boxes: list[Box]) -> tuple[list[Box], list[Box]]:
        """(the parts of ``boxes`` a rule on sources ``key`` alone matches, the boxes going on),
        each in the order of ``boxes``, as splitting every box by the rule would give them:
        a long list keeps its part in the rule's ranges as a hole instead of being cut."""
        family, wanted = key
        held = self
        inside_parts: list[Box] = []
        going_on: list[Box] = []
        # One network (most rules): a short list wholly below or above it misses it, as
        # intersect would say, without the call (the pieces jumps by source network returned
        # meet every /24 dropped after them).
        low, high = wanted[0] if len(wanted) == 1 else (None, None)
        for box in boxes:
            if box.family is not family:
                going_on.append(box)  # an ip match never matches an ip6 packet
                continue
            src = box.src
            if low is not None and src and (src[-1][1] < low or src[0][0] > high):
                going_on.append(box)  # (whole, as a split gives it; a held box too: nothing inside)
                continue
            if len(src) <= LONG and id(box) not in held:
                _split(box, wanted, inside_parts, going_on)
                continue
            inside = _in_range(src, low, high, wanted) if low is not None and type(src) is tuple \
                else iv.intersect(src, wanted)
            if not inside:
                going_on.append(box)
                continue
            entry = held.get(id(box))
            holes = entry[1] if entry is not None else None
            at = -1
            if holes:
                inside, at = _beside_holes(inside, holes)
                if not inside:
                    going_on.append(box)
                    continue
            if len(inside) > MOST_PER_CUT or (len(holes) if holes else 0) + len(inside) > len(src) // HOLES_DIVISOR:
                if entry is not None:
                    box = self._settled(box)
                    del held[id(entry[0])]
                _split(box, wanted, inside_parts, going_on)
                continue
            inside_parts.append(with_src(box, inside))
            if holes is None:
                held[id(box)] = (box, list(inside))
            else:
                _add_holes(holes, inside, at)
            going_on.append(box)
        return inside_parts, going_on


    def cut_lone(self, shape: tuple, key: tuple[Family, iv.Ranges]) -> iv.Ranges | None:
        """What ``cut_by_source(key, boxes)`` does where it leaves ``boxes`` as they are, for
        ``shape`` = ``lone_shape(self, boxes)``: the source ranges of the one part the rule
        matches (the held box ``shape[0]`` with them: its hole noted, as cut_by_source notes
        it), or ``()`` when it matches nothing; then the
        boxes going on are ``boxes`` themselves, in their order. None where this cannot be told
        so (nothing done: cut_by_source answers): a rule on more than one range or of another
        family, another box the rule's network may reach, or a cut that settles the held box."""
        box, family, starts, ends = shape
        wanted_family, wanted = key
        if wanted_family is not family or len(wanted) != 1:
            return None
        low, high = wanted[0]
        # (The other boxes' bounds, merged: the last span starting at or before ``high`` is the
        # only one that may reach back to ``low``. Missing them all, each goes on whole, as
        # cut_by_source's bounds test lets it.)
        at = bisect_right(starts, high)
        if at and ends[at - 1] >= low:
            return None
        src = box.src
        if src[-1][1] < low or src[0][0] > high:
            return ()
        inside = _in_range(src, low, high, wanted) if type(src) is tuple else iv.intersect(src, wanted)
        if not inside:
            return ()
        holes = self[id(box)][1]
        at = -1
        if holes:
            inside, at = _beside_holes(inside, holes)
            if not inside:
                return ()
        if len(inside) > MOST_PER_CUT or len(holes) + len(inside) > len(src) // HOLES_DIVISOR:
            return None  # (cut_by_source settles the box first)
        _add_holes(holes, inside, at)
        return inside


LONE_MOST = 32  # lists of more boxes than this get no lone_shape (nor are remembered)
# The last list of boxes given a lone_shape: [the list, its boxes then (a tuple), the HeldCuts,
# the shape]. A walk's boxes go on in one list across many held runs (the walker hands on the
# list a run ends with), so its shape is made once, not at each run.
_LONE: list = [None, (), None, None]


def lone_of(held: HeldCuts, boxes: list[Box]) -> tuple | None:
    """lone_shape(``held``, ``boxes``), made again only where ``boxes`` is not the list last
    asked about with the very boxes it held then, or ``held`` no longer holds that one box alone."""
    last = _LONE
    if last[0] is boxes and last[2] is held and len(boxes) == len(last[1]) and all(map(is_, boxes, last[1])):
        shape = last[3]
        if shape is None or len(held) == 1 and id(shape[0]) in held:
            return shape
    shape = lone_shape(held, boxes)
    if len(boxes) <= LONE_MOST:
        last[:] = boxes, tuple(boxes), held, shape
    return shape


def lone_grown(held: HeldCuts, before: list[Box], boxes: list[Box]) -> None:
    """Note that ``boxes`` is ``before`` (the list lone_of answered for last, not changed since)
    with boxes appended that ``held`` does not hold: its lone_shape is ``before``'s with their
    bounds added (what a source jump sends back, added to boxes it left as they were)."""
    last = _LONE
    shape = last[3]
    if last[0] is not before or shape is None or len(boxes) > LONE_MOST or last[2] is not held \
            or len(held) != 1 or id(shape[0]) not in held:
        return
    count = len(before)
    if len(boxes) < count or not all(map(is_, boxes[:count], last[1])):
        return
    lone, family, starts, ends = shape
    starts, ends = list(starts), list(ends)
    for box in boxes[count:]:
        if box is lone:
            return  # (the held box twice: lone_of makes its answer again)
        src = box.src
        if src and box.family is family:
            _add_span(starts, ends, src[0][0], src[-1][1])
    last[:] = boxes, tuple(boxes), held, (lone, family, starts, ends)


def _add_span(starts: list[int], ends: list[int], low: int, high: int) -> None:
    """(low, high) merged into the sorted disjoint spans ``starts``/``ends``, in place."""
    first = bisect_left(ends, low)  # (the first span ending at or after low)
    last = bisect_right(starts, high)  # (past the last span starting at or before high)
    if first < last:
        low = min(low, starts[first])
        high = max(high, ends[last - 1])
    starts[first:last] = [low]
    ends[first:last] = [high]


def forget_lone() -> None:
    """Let go the list lone_of remembers (and its boxes)."""
    _LONE[:] = None, (), None, None


memo.on_forget(forget_lone)


def lone_shape(held: HeldCuts, boxes: list[Box]) -> tuple | None:
    """(the one held box of ``boxes``, its family, the starts and ends of the other boxes of
    that family's source bounds, merged and sorted) for HeldCuts.cut_lone; None unless ``held``
    holds one box alone and it is in ``boxes`` (at most LONE_MOST of them). (A random mix's
    INPUT meets ~38,000 source drops with one long held box and a few short pieces that jumps
    by source network returned.)"""
    if len(held) != 1 or len(boxes) > LONE_MOST:
        return None
    lone = None
    spans = []
    for box in boxes:
        if id(box) in held:
            if lone is not None:
                return None
            lone = box
        elif box.src:
            spans.append(box)
    if lone is None:
        return None
    family = lone.family
    starts: list[int] = []
    ends: list[int] = []
    for low, high in sorted([(box.src[0][0], box.src[-1][1]) for box in spans if box.family is family]):
        if ends and low <= ends[-1]:
            if high > ends[-1]:
                ends[-1] = high
        else:
            starts.append(low)
            ends.append(high)
    return lone, family, starts, ends

_STARTS: list = [None, None]  # [the long list _in_range met last, its ranges' starts or None]


def _in_range(src: iv.Ranges, low: int, high: int, wanted: iv.Ranges) -> iv.Ranges:
    """iv.intersect(``src``, ``wanted``) for ``wanted`` the one range (low, high) and ``src`` a
    long tuple, found by one bisection and a step or two without its calls (a random mix's INPUT meets
    the held list with ~38,000 source networks): ``src`` itself when all of it lies inside,
    ``wanted`` itself when the answer equals it."""
    if src[0][0] >= low and src[-1][1] <= high:
        return src
    # (the first range starting at or after low: bisect_left(src, (low,)), found among the
    # list's starts once the same list came twice in a row: ints compare faster than tuples,
    # and a held list meets hundreds of rules before it is settled into a new one.)
    if _STARTS[0] is src:
        starts = _STARTS[1]
        if starts is None:
            starts = _STARTS[1] = [piece[0] for piece in src]
        first = bisect_left(starts, low)
    else:
        _STARTS[0] = src
        _STARTS[1] = None
        first = bisect_left(src, (low,))
    if first and src[first - 1][1] >= low:
        first -= 1
    # The ranges starting at or before high: every range before ``first`` does, and a network
    # reaches the one or two from there, found by stepping on (a wide one by bisecting the rest).
    last, end = first, len(src)
    while last < end and src[last][0] <= high:
        last += 1
        if last - first > 3:
            last = bisect_right(src, (high, _AFTER_ALL), last)
            break
    if first >= last:
        return ()
    if last - first == 1:
        f_lo, f_hi = src[first]
        piece = (f_lo if f_lo > low else low, f_hi if f_hi < high else high)
        return wanted if piece == wanted[0] else (piece,)
    out = list(src[first:last])
    f_lo, f_hi = out[0]
    if f_lo < low:
        out[0] = (low, f_hi)
    l_lo, l_hi = out[-1]
    if l_hi > high:
        out[-1] = (l_lo, high)
    return tuple(out)


def _without_holes(src: iv.Ranges, holes: list[tuple[int, int]], starts: list[int]) -> iv.Ranges:
    """iv.without_inside(``src``, ``holes``) (holes sorted, disjoint, each inside one range of
    ``src``), ``starts`` being its ranges' starts: each range a hole falls in found by bisecting
    the ints past the last one rebuilt, the stretches between added in one piece each (a random
    mix 100k settles ~33,000 holes out of held lists of ~5,000-16,000 ranges)."""
    out: list = []
    kept = 0  # src[:kept] is in out already
    count = len(holes)
    i = 0
    while i < count:
        hole_lo, hole_hi = holes[i]
        index = bisect_right(starts, hole_lo, kept) - 1  # (the range this hole is in: at or past kept)
        start, end = src[index]
        out += src[kept:index]
        current = start
        while True:
            if hole_lo > current:
                out.append((current, hole_lo - 1))
            current = hole_hi + 1
            i += 1
            if i == count:
                break
            hole_lo, hole_hi = holes[i]
            if hole_lo > end:
                break  # (the next hole is in a later range)
        if current <= end:
            out.append((current, end))
        kept = index + 1
    out += src[kept:]
    return tuple(out)


def _split(box: Box, wanted: iv.Ranges, inside_parts: list[Box], going_on: list[Box]) -> None:
    """``box`` split by its source as split_match splits it."""
    src = box.src
    inside = iv.intersect(src, wanted)
    if not inside:
        going_on.append(box)
        return
    if inside is src:
        inside_parts.append(box)
        return
    inside_parts.append(with_src(box, inside))
    outside = iv.subtract(src, wanted)
    if outside:
        going_on.append(with_src(box, outside))


def _beside_holes(inside: iv.Ranges, holes: list[tuple[int, int]]) -> tuple[iv.Ranges, int]:
    """(``inside`` without the holes that reach it, where its one piece goes among ``holes``
    when known, else -1), for cut_by_source and cut_lone. One piece, the common case:
    _less_holes's test read in place, by one bisection; it leaves ``inside`` as it is unless a
    hole reaches it, and then the piece goes in the holes where the bisection says."""
    if len(inside) != 1:
        return _less_holes(inside, holes), -1
    piece_lo, piece_hi = inside[0]
    at = bisect_right(holes, (piece_lo, _AFTER_ALL))
    if at and holes[at - 1][1] >= piece_lo or at < len(holes) and holes[at][0] <= piece_hi:
        return _less_holes(inside, holes), -1
    return inside, at


def _add_holes(holes: list[tuple[int, int]], inside: iv.Ranges, at: int) -> None:
    """``inside``'s pieces noted among ``holes`` (in order; ``at``: _beside_holes's place of
    its one piece, or -1)."""
    if at >= 0:
        holes.insert(at, inside[0])
    else:
        for piece in inside:
            insort(holes, piece)


def _less_holes(inside: iv.Ranges, holes: list[tuple[int, int]]) -> iv.Ranges:
    """``inside`` without the holes that reach it (found by bisection: holes are sorted and
    disjoint)."""
    lo, hi = inside[0][0], inside[-1][1]
    first = bisect_right(holes, (lo, _AFTER_ALL))
    if first and holes[first - 1][1] >= lo:
        first -= 1
    last = bisect_right(holes, (hi, _AFTER_ALL))
    if first >= last:
        return inside
    return iv.subtract(inside, tuple(holes[first:last]))
