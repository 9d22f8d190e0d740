"""Sets of integers as sorted, disjoint, non-adjacent inclusive ranges.

Ports, protocol numbers and addresses (IPv4 and IPv6 alike) all use this one
representation, so the cost of every operation grows with the number of ranges,
never with the size of the space they cover.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate, compress, islice, starmap
from operator import gt, itemgetter, sub

Ranges = tuple[tuple[int, int], ...]
EMPTY: Ranges = ()


def full(maximum: int) -> Ranges:
    return ((0, maximum),)


def intersect(a: Ranges, b: Ranges) -> Ranges:
    """a ∩ b (``a`` or ``b`` itself when the result equals it: boxes split from one another
    keep sharing their range tuples)."""
    if not a or not b:
        return EMPTY
    if a is b:
        return a
    if len(a) == 1 and len(b) == 1:
        (a_lo, a_hi), = a
        (b_lo, b_hi), = b
        lo = a_lo if a_lo > b_lo else b_lo
        hi = a_hi if a_hi < b_hi else b_hi
        if lo > hi:
            return EMPTY
        if lo == a_lo and hi == a_hi:
            return a
        if lo == b_lo and hi == b_hi:
            return b
        return ((lo, hi),)
    len_a, len_b = len(a), len(b)
    if len_a > SKEWED * len_b or len_b > SKEWED * len_a:
        return _intersect_skewed(a, b)
    out = []
    i = j = 0
    while i < len_a and j < len_b:
        a_lo, a_hi = a[i]
        b_lo, b_hi = b[j]
        lo = a_lo if a_lo > b_lo else b_lo
        hi = a_hi if a_hi < b_hi else b_hi
        if lo <= hi:
            out.append((lo, hi))
        if a_hi < b_hi:
            i += 1
        else:
            j += 1
    return _same_or_new(out, a)


def _same_or_new(out: list, a: Ranges) -> Ranges:
    """``a`` itself when ``out`` holds the same ranges, else ``out`` as a tuple (compared in C:
    a generator comparing pair by pair was a fifth of a random mix's dead-rule analysis)."""
    result = tuple(out)
    return a if len(result) == len(a) and result == a else result


# Past this ratio of lengths, the long list is searched (bisect) instead of merged: a box
# whose source holds 100,000 blocked addresses meets one rule's /32 in O(log n), not O(n).
SKEWED = 8
_AFTER_ALL = float("inf")  # (value, _AFTER_ALL) sorts after every range starting at value


def _first_reaching(ranges: Ranges, value: int) -> int:
    """The index of the first range of ``ranges`` whose end is at or past ``value``."""
    index = bisect_left(ranges, (value,))  # the first range starting at or after value
    if index > 0 and ranges[index - 1][1] >= value:
        return index - 1
    return index


def _intersect_skewed(a: Ranges, b: Ranges) -> Ranges:
    """intersect() when one list is much longer: each range of the short one is looked up, and
    the stretch of the long one it covers is copied as a slice, only its two ends cut."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if type(long_) is not tuple and type(short) is tuple and _sorted(short):
        from linter.engine import rangelist  # (a RangeList: read chunk by chunk, not flattened)
        return rangelist.looked_up(long_, short, a, b)
    if _covered(long_, short):
        # The long list itself (what the copy below would rebuild and compare equal to it): a
        # box's long source or port list met by a space that keeps all of it (a jump's
        # returned space, a rule's wide range) was copied and compared for nothing.
        return long_
    out: list = []
    for lo, hi in short:
        first = _first_reaching(long_, lo)
        last = bisect_right(long_, (hi, _AFTER_ALL))  # the ranges starting at or before hi
        if first >= last:
            continue
        start = len(out)
        out.extend(long_[first:last])
        f_lo, f_hi = out[start]
        if f_lo < lo:
            out[start] = (lo, f_hi)
        l_lo, l_hi = out[-1]
        if l_hi > hi:
            out[-1] = (l_lo, hi)
    result = tuple(out)
    if len(result) == len(a) and result == a:
        return a
    if len(result) == len(b) and result == b:
        return b
    return result


def _covered(long_: Ranges, short: Ranges) -> bool:
    """Whether every range of ``long_`` lies inside one range of ``short`` (a search per range
    of ``short``; most lists that are not covered are found so at their first range)."""
    position, count = 0, len(long_)
    for lo, hi in short:
        if position == count:
            return True
        if long_[position][0] < lo:
            return False  # it starts past the ranges of short before this one, and before this one
        last = bisect_right(long_, (hi, _AFTER_ALL), position)
        if last > position and long_[last - 1][1] > hi:
            return False
        position = last
    return position == count


def _subtract_few(a: Ranges, b: Ranges) -> Ranges:
    """subtract() when ``b`` is much shorter than ``a``: only the stretches of ``a`` that ranges of
    ``b`` reach are rebuilt, and ``a`` is copied once with them put in place (in C)."""
    if type(a) is not tuple and type(b) is tuple and _sorted(b):
        from linter.engine import rangelist  # (a RangeList: only the chunks cut are rebuilt)
        return rangelist.subtract(a, b)
    cuts: list[tuple[int, int, Ranges]] = []  # a[first:last] becomes rest
    kept = 0  # the end of the last cut
    i = 0
    len_a, len_b = len(a), len(b)
    reach = _first_reaching(a, b[0][0])
    while i < len_b:
        first = reach if reach > kept else kept
        last = first
        j = i
        # The ranges of b whose stretches of a touch one another are subtracted together.
        while True:
            hi = b[j][1]
            while last < len_a and a[last][0] <= hi:
                last += 1
            j += 1
            if j == len_b:
                break
            reach = _first_reaching(a, b[j][0])
            if reach >= last:
                break
        if last == first + 1 and j == i + 1:
            # One range of b inside or across one range of a (a port, an address): cut it here.
            lo, hi = a[first]
            b_lo, b_hi = b[i]
            if b_lo <= lo and b_hi >= hi:
                rest: Ranges = ()
            elif b_lo > lo and b_hi < hi:
                rest = ((lo, b_lo - 1), (b_hi + 1, hi))
            elif b_lo > lo:
                rest = ((lo, b_lo - 1),)
            else:
                rest = ((b_hi + 1, hi),)
            cuts.append((first, last, rest))
            kept = last
        elif last > first:
            window = a[first:last]
            rest = _subtract_merge(window, b[i:j])
            if rest is not window:
                cuts.append((first, last, rest))
                kept = last
        i = j
    if not cuts:
        return a
    return _with_cuts(a, cuts)


def _sorted(ranges: Ranges) -> bool:
    """Whether ``ranges`` (a few) is sorted and disjoint, as rangelist.py's cuts take it."""
    return all(lo <= hi for lo, hi in ranges) and all(x[1] < y[0] for x, y in zip(ranges, ranges[1:]))


def _with_cuts(a: Ranges, cuts: list[tuple[int, int, Ranges]]) -> Ranges:
    """``a`` with each stretch a[first:last] replaced by its ranges (cuts in ascending order,
    not overlapping): one copy into a list, each cut put in place from the end (a move of
    pointers), one copy back. Copying the untouched stretches as slices and joining them
    touched every range three times: the long lists of a random mix's boxes are cut by
    every rule's few ports or addresses."""
    out = list(a)
    for first, last, rest in reversed(cuts):
        out[first:last] = rest
    return tuple(out)


def joined(pieces: list[Ranges]) -> Ranges:
    """The pieces one after another, as one tuple: copied into a list piece by piece (in C)
    and the list into a tuple, twice as fast as chaining them item by item for the long
    lists a random mix's boxes carry (each rule's few ports cut out of a thousand ranges)."""
    out: list = []
    for piece in pieces:
        out += piece
    return tuple(out)


def without_inside(ranges: Ranges, holes) -> Ranges:
    """``ranges`` less ``holes`` (sorted, disjoint, not empty, each inside one range of
    ``ranges``: what cuts of the list took). The ranges holes fall in are rebuilt and put in
    place in one copy of the list when they are few, else the list is joined from the
    stretches between them (moving the rest of a long list at every range rebuilt would cost
    its length each time: a held source list's or a checkpoint's few hundred cuts)."""
    rebuilt_at: list[tuple[int, list]] = []
    count = len(holes)
    i = 0
    while i < count:
        index = bisect_right(ranges, (holes[i][0], _AFTER_ALL)) - 1  # the range this hole is in
        start, end = ranges[index]
        rebuilt = []
        current = start
        while i < count and holes[i][0] <= end:
            hole_lo, hole_hi = holes[i]
            if hole_lo > current:
                rebuilt.append((current, hole_lo - 1))
            current = hole_hi + 1
            i += 1
        if current <= end:
            rebuilt.append((current, end))
        rebuilt_at.append((index, rebuilt))
    if len(rebuilt_at) <= FEW_IN_PLACE:
        out = list(ranges)
        for index, rebuilt in reversed(rebuilt_at):
            out[index:index + 1] = rebuilt
        return tuple(out)
    pieces: list = []
    kept = 0  # ranges[:kept] is in pieces already
    for index, rebuilt in rebuilt_at:
        pieces.append(ranges[kept:index])
        pieces.append(rebuilt)
        kept = index + 1
    pieces.append(ranges[kept:])
    return joined(pieces)


FEW_IN_PLACE = 16  # ranges rebuilt past which without_inside joins the list from its stretches


def subtract(a: Ranges, b: Ranges) -> Ranges:
    """a ∖ b (``a`` itself when nothing is taken away)."""
    if not a or not b:
        return a
    if len(a) == 1 and len(b) == 1:
        (a_lo, a_hi), = a
        (b_lo, b_hi), = b
        if b_hi < a_lo or b_lo > a_hi:
            return a
        if b_lo <= a_lo:
            return ((b_hi + 1, a_hi),) if b_hi < a_hi else EMPTY
        if b_hi >= a_hi:
            return ((a_lo, b_lo - 1),)
        return ((a_lo, b_lo - 1), (b_hi + 1, a_hi))
    if len(a) > SKEWED * len(b):
        return _subtract_few(a, b)
    return _subtract_merge(a, b)


def _subtract_merge(a: Ranges, b: Ranges) -> Ranges:
    """subtract() by one pass over both lists (a long ``b`` is searched, not walked)."""
    out = []
    j = 0
    len_b = len(b)
    search = len_b > SKEWED * len(a)
    for lo, hi in a:
        if search:
            reach = _first_reaching(b, lo)
            if reach > j:
                j = reach
        else:
            while j < len_b and b[j][1] < lo:
                j += 1
        k = j
        cur = lo
        while k < len_b and b[k][0] <= hi:
            b_lo, b_hi = b[k]
            if b_lo > cur:
                out.append((cur, b_lo - 1))
            if b_hi + 1 > cur:
                cur = b_hi + 1
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return _same_or_new(out, a)


def normalize(ranges) -> Ranges:
    """Sorted, merged ranges from any iterable of (lo, hi) pairs."""
    return union((), tuple(ranges), _force=True)


def union(a: Ranges, b: Ranges, _force: bool = False) -> Ranges:
    """a ∪ b, merged (both are taken to be canonical already, unless one is empty)."""
    if not _force:
        if not a:
            return b
        if not b or a is b or a == b:
            return a
    if not _force and (len(a) <= _FEW < len(b) or len(b) <= _FEW < len(a)):
        short, long = (a, b) if len(a) < len(b) else (b, a)
        return splice(long, short)
    return _merged_sorted(sorted(a + b))


def _merged_sorted(items: list) -> Ranges:
    """Sorted (lo, hi) pairs merged where they overlap or touch, by passes in C: a range
    starts a new one when it begins more than one past the highest end before it. A loop
    pair by pair cost a random mix's merges of long source lists (and the walker's segment
    keys) a tenth of a microsecond per range."""
    count = len(items)
    if count < 2:
        return tuple(map(tuple, items))
    starts = list(map(itemgetter(0), items))
    highest = list(accumulate(map(itemgetter(1), items), max))
    breaks = list(compress(range(1, count), map(gt, islice(starts, 1, None), map(_ONE.__add__, highest))))
    if len(breaks) == count - 1:
        return tuple(map(tuple, items))  # nothing to merge
    firsts = [0, *breaks]
    lasts = [*map(_MINUS_ONE.__add__, breaks), count - 1]
    return tuple(zip(map(starts.__getitem__, firsts), map(highest.__getitem__, lasts)))


_ONE, _MINUS_ONE = 1, -1


_FEW = 8  # a union with this few ranges on one side splices them into the other


def splice(long: Ranges, shorts: Ranges) -> Ranges:
    """``long`` ∪ ``shorts`` (both canonical), ``long`` itself when nothing is added: every place
    the short ranges touch is found by bisection and ``long`` is copied once, its untouched
    stretches as slices (inserting them one at a time copied it once per range)."""
    if not shorts:
        return long
    if not long:
        return shorts
    count = len(long)
    pieces: list = []
    kept = 0  # long[:kept] is in pieces already
    pending: list[tuple[int, int]] = []  # the ranges of one spliced stretch, to be merged
    stretch_end = -1  # the end (exclusive) in ``long`` of the stretch being built
    for lo, hi in shorts:
        # The ranges of ``long`` this range touches or is adjacent to: long[start:end].
        start = bisect_left(long, (lo, -1))
        if start > 0 and long[start - 1][1] >= lo - 1:
            start -= 1
        end = start
        while end < count and long[end][0] <= hi + 1:
            end += 1
        if pending and start < stretch_end:
            # Touches the stretch being built (the same range of ``long``): one stretch.
            pending.append((lo, hi))
            if end > stretch_end:
                pending.extend(long[stretch_end:end])
                stretch_end = end
            continue
        if pending:
            pieces.append(normalize(pending))
            kept = stretch_end
        if start == end - 1 and long[start][0] <= lo and long[start][1] >= hi:
            pending = []
            continue  # already inside one range: nothing changes
        pieces.append(long[kept:start])
        pending = [(lo, hi), *long[start:end]]
        stretch_end = end
        kept = start
    if pending:
        pieces.append(normalize(pending))
        kept = stretch_end
    if not pieces:
        return long
    pieces.append(long[kept:])
    return joined(pieces)


def contains(a: Ranges, value: int) -> bool:
    index = bisect_right(a, (value, float("inf"))) - 1
    return index >= 0 and a[index][0] <= value <= a[index][1]


def size(a: Ranges) -> int:
    if len(a) == 1:  # most port sets and many source lists
        lo, hi = a[0]
        return hi - lo + 1
    return len(a) - sum(starmap(sub, a))  # sum of hi - lo + 1, in C


def covers(a: Ranges, b: Ranges) -> bool:
    """b ⊆ a."""
    return not subtract(b, a)
