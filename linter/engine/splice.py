"""The union of one long range list and a few short ones, spliced in one copy.

What comes back from a jump by a source network is merged with what did not jump: a source
list holding every /24 dropped so far, and a few ranges. Inserting the short ranges one at a
time copied the long list once (three slices) per range; here every place they touch is found
by bisection and the long list is copied once, its untouched stretches as slices.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import chain

from linter.engine import intervals as iv


def union_into(long: iv.Ranges, shorts: iv.Ranges) -> iv.Ranges:
    """``long`` ∪ ``shorts`` (both canonical), ``long`` itself when nothing is added."""
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
            pieces.append(iv.normalize(pending))
            kept = stretch_end
        if start == end - 1 and long[start][0] <= lo and long[start][1] >= hi:
            pending = []
            continue  # already inside one range: nothing changes
        pieces.append(long[kept:start])
        pending = [(lo, hi), *long[start:end]]
        stretch_end = end
        kept = start
    if pending:
        pieces.append(iv.normalize(pending))
        kept = stretch_end
    if not pieces:
        return long
    pieces.append(long[kept:])
    return tuple(chain.from_iterable(pieces))
