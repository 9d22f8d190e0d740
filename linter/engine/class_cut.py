"""A box's addresses cut by one address class (public or private sources): the exposure
summary asks this for every accepted box, two or three times."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from linter.engine import intervals as iv
from linter.engine.descent import built_from
from linter.engine.known_sizes import LONG
from linter.engine.memo import IdentityCache


# Ranges up to which a list is cut range by range (_cut_short) rather than remembered by
# identity: kube-proxy's 22,000 "every source but this endpoint" lists are each cut once.
SHORT = 8


class ClassCut:
    """``ranges ∩ class`` for one class's ranges. A single range (an allow-list rule's
    ``-s NET/24``) is placed by one bisection, inside one class range or in a gap between two;
    a short list is cut range by range (the last one's cut kept: Docker's boxes ask about one
    list several times in a row); longer lists are intersected once per tuple (boxes split
    from one another share them)."""

    def __init__(self, class_ranges: iv.Ranges):
        self.ranges = class_ranges
        self.starts = [lo for lo, _ in class_ranges]
        self.ends = [hi for _, hi in class_ranges]
        # The fewest ranges a list is cut range by range with: a list 8 times shorter than the
        # class's goes to intersect(), which searches the class's ranges instead (its skewed
        # lane, which may hand back the class's own tuple).
        self.short_from = max(2, -(-len(class_ranges) // iv.SKEWED))
        self.last: tuple = (None, None)  # (the short list cut last, its cut)
        self.cache: IdentityCache[iv.Ranges] = IdentityCache(1_000_000)

    def __call__(self, ranges: iv.Ranges) -> iv.Ranges:
        if len(ranges) == 1:
            (lo, hi), = ranges
            at = bisect_right(self.starts, lo) - 1  # the last class range starting at or before lo
            if at >= 0 and self.ranges[at][1] >= hi:
                return ranges  # all inside one class range
            if (at < 0 or self.ranges[at][1] < lo) and (at + 1 >= len(self.ranges) or self.ranges[at + 1][0] > hi):
                return iv.EMPTY  # all in one gap
        elif self.short_from <= len(ranges) <= SHORT:
            last, cut = self.last
            if ranges is not last:
                cut = self._cut_short(ranges)
                self.last = (ranges, cut)
            return cut
        # A list built on read (engine/descent.py) is kept by its Node: kept itself, it would
        # keep the list, which no one reads again.
        key = built_from(ranges) if len(ranges) > LONG else None
        if key is None:
            key = ranges
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, iv.intersect(ranges, self.ranges))
        return found

    def _cut_short(self, ranges: iv.Ranges) -> iv.Ranges:
        """``intersect(ranges, class)`` for a short list (neither list 8 times longer than the
        other): each range finds the class ranges it reaches by two bisections; those wholly
        inside it are kept as they are, the two at its ends cut. The same ranges in the same
        order as intersect's merge, and ``ranges`` itself when they are all of it."""
        out: list = []
        starts, ends, class_ranges = self.starts, self.ends, self.ranges
        for lo, hi in ranges:
            first = bisect_left(ends, lo)  # the first class range ending at or after lo
            last = bisect_right(starts, hi)  # past the last class range starting at or before hi
            if first >= last:
                continue  # in a gap
            c_lo, c_hi = class_ranges[first]
            if first + 1 == last:
                out.append((lo if lo > c_lo else c_lo, hi if hi < c_hi else c_hi))
                continue
            out.append((lo if lo > c_lo else c_lo, c_hi))
            out.extend(class_ranges[first + 1:last - 1])
            c_lo, c_hi = class_ranges[last - 1]
            out.append((c_lo, hi if hi < c_hi else c_hi))
        result = tuple(out)
        return ranges if len(result) == len(ranges) and result == ranges else result
