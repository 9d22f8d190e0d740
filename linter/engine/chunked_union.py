"""A growing set of integers as sorted, disjoint, non-adjacent ranges, held in chunks.

engine/decided_index.py merges thousands of rules of one kind (a random mix's source drops)
into one entry whose values in one dimension grow rule by rule: a union of up to ~25,000
ranges at 100k rules. Held as two flat lists, each added range that falls between others is a
list insert that moves the whole tail (tens of kilobytes, once per rule, twice: the entry's
union and the index's "touched" union). Here the ranges are cut into chunks of at most
``2 * _CHUNK`` ranges, with each chunk's last end kept beside them, so that an insert moves
one chunk's tail and a lookup is two bisections. The answers are those of the flat lists.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from linter.engine import intervals as iv

_CHUNK = 256  # ranges per chunk when (re)built; a chunk is split past twice as many


class Union:
    """A growing set of integers as sorted, disjoint, non-adjacent ranges, in chunks: chunk
    ``c`` holds ranges ``starts[c][i]``..``ends[c][i]``; ``lasts[c]`` is its last end and
    ``firsts[c]`` its first start (no chunk is empty)."""

    __slots__ = ("starts", "ends", "firsts", "lasts")

    def __init__(self, ranges: iv.Ranges = ()):
        self._build([lo for lo, _ in ranges], [hi for _, hi in ranges])

    def _build(self, starts: list, ends: list) -> None:
        self.starts = [starts[at:at + _CHUNK] for at in range(0, len(starts), _CHUNK)]
        self.ends = [ends[at:at + _CHUNK] for at in range(0, len(ends), _CHUNK)]
        self.firsts = [chunk[0] for chunk in self.starts]
        self.lasts = [chunk[-1] for chunk in self.ends]

    def ranges(self) -> iv.Ranges:
        """Every range, in order (for tests)."""
        return tuple((lo, hi) for starts, ends in zip(self.starts, self.ends) for lo, hi in zip(starts, ends))

    def add(self, ranges: iv.Ranges) -> bool:
        """Add ``ranges``; whether the set grew."""
        grew = False
        for lo, hi in ranges:
            lasts = self.lasts
            count = len(lasts)
            if not count:
                self._build([lo], [hi])
                grew = True
                continue
            chunk = bisect_left(lasts, lo - 1)  # the chunk of the first range reaching lo or adjacent to it
            if chunk < count:
                starts, ends = self.starts[chunk], self.ends[chunk]
                first = bisect_left(ends, lo - 1)
                if starts[first] <= lo and hi <= ends[first]:
                    continue  # (held already: most protocols and ports added are)
            else:  # (past every range: appended to the last chunk)
                chunk = count - 1
                starts, ends = self.starts[chunk], self.ends[chunk]
                first = len(ends)
            # The ranges from ``first`` on that start at or next to hi merge with it; when they
            # reach into the next chunk (rare), the whole set is rebuilt (the flat lists' cost).
            if chunk + 1 < count and self.firsts[chunk + 1] <= hi + 1:
                self._rebuilt_with(lo, hi)
                grew = True
                continue
            after = bisect_right(starts, hi + 1, first)  # past the last range starting at or next to hi
            if first < after:
                lo = min(lo, starts[first])
                hi = max(hi, ends[after - 1])
            starts[first:after] = [lo]
            ends[first:after] = [hi]
            self.firsts[chunk] = starts[0]
            self.lasts[chunk] = ends[-1]
            if len(starts) > 2 * _CHUNK:  # split in two
                self.starts[chunk:chunk + 1] = [starts[:_CHUNK], starts[_CHUNK:]]
                self.ends[chunk:chunk + 1] = [ends[:_CHUNK], ends[_CHUNK:]]
                self.firsts[chunk:chunk + 1] = [starts[0], starts[_CHUNK]]
                self.lasts[chunk:chunk + 1] = [ends[_CHUNK - 1], ends[-1]]
            grew = True
        return grew

    def _rebuilt_with(self, lo: int, hi: int) -> None:
        """Add ``lo``..``hi`` (not held already) through the flat lists, and chunk them again."""
        starts = [value for chunk in self.starts for value in chunk]
        ends = [value for chunk in self.ends for value in chunk]
        first = bisect_left(ends, lo - 1)
        after = bisect_right(starts, hi + 1)
        if first < after:
            lo = min(lo, starts[first])
            hi = max(hi, ends[after - 1])
        starts[first:after] = [lo]
        ends[first:after] = [hi]
        self._build(starts, ends)

    def holds(self, value: int) -> bool:
        """Whether ``value`` is in the set."""
        chunk = bisect_left(self.lasts, value)
        if chunk == len(self.lasts):
            return False
        return self.starts[chunk][bisect_left(self.ends[chunk], value)] <= value

    def meets(self, ranges: iv.Ranges) -> bool:
        lasts = self.lasts
        count = len(lasts)
        for lo, hi in ranges:
            chunk = bisect_left(lasts, lo)
            if chunk < count and self.starts[chunk][bisect_left(self.ends[chunk], lo)] <= hi:
                return True
        return False

    def covers(self, ranges: iv.Ranges) -> bool:
        lasts = self.lasts
        count = len(lasts)
        for lo, hi in ranges:
            chunk = bisect_left(lasts, lo)
            if chunk == count:
                return False
            ends = self.ends[chunk]
            at = bisect_left(ends, lo)
            if self.starts[chunk][at] > lo or ends[at] < hi:
                return False
        return True

    def inside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` ∩ this set."""
        out = []
        lasts, all_starts, all_ends = self.lasts, self.starts, self.ends
        count = len(lasts)
        for lo, hi in ranges:
            chunk = bisect_left(lasts, lo)
            at = bisect_left(all_ends[chunk], lo) if chunk < count else 0
            while chunk < count:
                starts, ends = all_starts[chunk], all_ends[chunk]
                size = len(starts)
                while at < size and starts[at] <= hi:
                    out.append((max(lo, starts[at]), min(hi, ends[at])))
                    at += 1
                if at < size:
                    break
                chunk += 1
                at = 0
        return tuple(out)

    def outside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` minus this set."""
        out = []
        lasts, all_starts, all_ends = self.lasts, self.starts, self.ends
        count = len(lasts)
        for lo, hi in ranges:
            chunk = bisect_left(lasts, lo)
            at = bisect_left(all_ends[chunk], lo) if chunk < count else 0
            while chunk < count:
                starts, ends = all_starts[chunk], all_ends[chunk]
                size = len(starts)
                while at < size and starts[at] <= hi:
                    if starts[at] > lo:
                        out.append((lo, starts[at] - 1))
                    lo = ends[at] + 1
                    at += 1
                if at < size:
                    break
                chunk += 1
                at = 0
            if lo <= hi:
                out.append((lo, hi))
        return tuple(out)

    def first_outside(self, ranges: iv.Ranges) -> int | None:
        """The smallest value of ``ranges`` not in this set, or None."""
        lasts = self.lasts
        count = len(lasts)
        for lo, hi in ranges:
            chunk = bisect_left(lasts, lo)
            if chunk == count:
                return lo
            ends = self.ends[chunk]
            at = bisect_left(ends, lo)
            if self.starts[chunk][at] > lo:
                return lo
            if ends[at] < hi:
                return ends[at] + 1
        return None
