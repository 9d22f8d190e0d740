"""A growing set of integers kept as one sorted list of range bounds (engine/decided_index.py's Union).

The set's ranges are sorted, disjoint and non-adjacent; the list holds each one's first value
and one past its last in turn: ``[lo0, hi0 + 1, lo1, hi1 + 1, ...]``, strictly increasing. A value
is held when the number of bounds at or below it is odd (one bisection), and a range added
apart from the others is one splice of two items into one list. The dead-rule lane's source
drops fill such a set with up to 25k ranges in random order: each splice moves the list's tail,
and one list moves half the memory two parallel lists (starts and ends) did.
"""

from __future__ import annotations

from bisect import bisect_right

from linter.engine import intervals as iv


class Union:
    """A growing set of integers as sorted, disjoint, non-adjacent ranges, by their bounds
    (``bounds``: each range's first value and one past its last, in order)."""

    __slots__ = ("bounds",)

    def __init__(self, ranges: iv.Ranges = ()):
        self.bounds = [bound for lo, hi in ranges for bound in (lo, hi + 1)]

    @property
    def starts(self) -> list[int]:
        """The ranges' first values (a copy)."""
        return self.bounds[0::2]

    @property
    def ends(self) -> list[int]:
        """The ranges' last values (a copy)."""
        return [after - 1 for after in self.bounds[1::2]]

    def add(self, ranges: iv.Ranges) -> bool:
        """Add ``ranges``; whether the set grew."""
        bounds = self.bounds
        grew = False
        for lo, hi in ranges:
            after = hi + 1
            at = bisect_right(bounds, lo)  # bounds at or below lo: odd when a range holds lo
            if at & 1:
                if after <= bounds[at]:
                    continue  # (held already: most protocols and ports added are)
                first = at - 1  # (the range holding lo grows to the right)
                lo = bounds[first]
            elif at and bounds[at - 1] == lo:
                first = at - 2  # (lo just past a range: joined to it)
                lo = bounds[first]
            elif at == len(bounds) or after < bounds[at]:
                bounds[at:at] = (lo, after)  # (apart from every range: a new one, the commonest case)
                grew = True
                continue
            else:
                first = at  # (it reaches the next range, or touches it)
            # The ranges from ``first`` to the one holding or touching hi become one.
            last = bisect_right(bounds, after, first)
            if last & 1:  # (after lies inside a range, or at its first value: that range's end)
                after = bounds[last]
                last += 1
            bounds[first:last] = (lo, after)
            grew = True
        return grew

    def has(self, value: int) -> bool:
        """Whether ``value`` is in this set."""
        return bisect_right(self.bounds, value) & 1 == 1

    def meets(self, ranges: iv.Ranges) -> bool:
        """Whether some value of ``ranges`` is in this set."""
        bounds = self.bounds
        for lo, hi in ranges:
            at = bisect_right(bounds, lo)
            if at & 1 or at < len(bounds) and bounds[at] <= hi:
                return True
        return False

    def covers(self, ranges: iv.Ranges) -> bool:
        """Whether every value of ``ranges`` is in this set."""
        bounds = self.bounds
        for lo, hi in ranges:
            at = bisect_right(bounds, lo)
            if not at & 1 or bounds[at] <= hi:
                return False
        return True

    def inside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` ∩ this set."""
        bounds, out = self.bounds, []
        count = len(bounds)
        for lo, hi in ranges:
            at = bisect_right(bounds, lo)
            at -= at & 1  # (the first range ending past lo)
            while at < count and bounds[at] <= hi:
                start, end = bounds[at], bounds[at + 1] - 1
                out.append((lo if lo > start else start, hi if hi < end else end))
                at += 2
        return tuple(out)

    def outside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` minus this set."""
        bounds, out = self.bounds, []
        count = len(bounds)
        for lo, hi in ranges:
            at = bisect_right(bounds, lo)
            at -= at & 1
            while at < count and bounds[at] <= hi:
                if bounds[at] > lo:
                    out.append((lo, bounds[at] - 1))
                lo = bounds[at + 1]
                at += 2
            if lo <= hi:
                out.append((lo, hi))
        return tuple(out)

    def first_outside(self, ranges: iv.Ranges) -> int | None:
        """The smallest value of ``ranges`` not in this set, or None."""
        bounds = self.bounds
        for lo, hi in ranges:
            at = bisect_right(bounds, lo)
            if not at & 1:
                return lo
            if bounds[at] <= hi:
                return bounds[at]
        return None
