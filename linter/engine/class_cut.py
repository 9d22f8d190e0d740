"""A box's addresses cut by one address class (public or private sources): the exposure
summary asks this for every accepted box, two or three times."""

from __future__ import annotations

from bisect import bisect_right

from linter.engine import intervals as iv
from linter.engine.descent import built_from
from linter.engine.known_sizes import LONG
from linter.engine.memo import IdentityCache


class ClassCut:
    """``ranges ∩ class`` for one class's ranges. A single range (an allow-list rule's
    ``-s NET/24``) is placed by one bisection, inside one class range or in a gap between two;
    longer lists are intersected once per tuple (boxes split from one another share them)."""

    def __init__(self, class_ranges: iv.Ranges):
        self.ranges = class_ranges
        self.starts = [lo for lo, _ in class_ranges]
        self.cache: IdentityCache[iv.Ranges] = IdentityCache(1_000_000)

    def __call__(self, ranges: iv.Ranges) -> iv.Ranges:
        if len(ranges) == 1:
            (lo, hi), = ranges
            at = bisect_right(self.starts, lo) - 1  # the last class range starting at or before lo
            if at >= 0 and self.ranges[at][1] >= hi:
                return ranges  # all inside one class range
            if (at < 0 or self.ranges[at][1] < lo) and (at + 1 >= len(self.ranges) or self.ranges[at + 1][0] > hi):
                return iv.EMPTY  # all in one gap
        # A list built on read (engine/descent.py) is kept by its Node: kept itself, it would
        # keep the list, which no one reads again.
        key = built_from(ranges) if len(ranges) > LONG else None
        if key is None:
            key = ranges
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, iv.intersect(ranges, self.ranges))
        return found
