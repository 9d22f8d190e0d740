"""A growing set of integers kept as sorted range bounds in blocks (engine/decided_index.py's Union).

The set's ranges are sorted, disjoint and non-adjacent; their bounds, each range's first value
and one past its last in turn (``lo0, hi0 + 1, lo1, hi1 + 1, ...``), are strictly increasing. A
value is held when the number of bounds at or below it is odd. The bounds are cut into blocks
of whole ranges (an even number of bounds each) with each block's first bound kept apart, so a
value is found by two bisections and a new range is a splice into one short block: the
dead-rule lane's source drops fill one such set with up to 25k ranges in random order, and a
splice into one long list moved half of it each time. A range that joins ranges of two blocks
(rare: it must reach the first range of the next block) is added to the bounds as one list,
then cut into blocks again.
"""

from __future__ import annotations

from bisect import bisect_right

from linter.engine import intervals as iv

_BLOCK = 512  # bounds per block when cut (256 ranges; even: whole ranges); a block past twice that is halved
_LIMIT = 2 * _BLOCK  # (bounds a block may hold before it is halved)
_BELOW = -1  # the first block's key: every value (none is negative: ports, addresses, protocols) lies past it


class Union:
    """A growing set of integers as sorted, disjoint, non-adjacent ranges, by their bounds in
    blocks (``blocks``: lists of bounds, each of whole ranges, only the first one ever empty;
    ``firsts``: each block's first bound, the first block's _BELOW)."""

    __slots__ = ("firsts", "blocks")

    def __init__(self, ranges: iv.Ranges = ()):
        self._cut([bound for lo, hi in ranges for bound in (lo, hi + 1)])

    def _cut(self, bounds: list[int]) -> None:
        blocks = [bounds[at:at + _BLOCK] for at in range(0, len(bounds), _BLOCK)] or [[]]
        self.blocks = blocks
        self.firsts = [_BELOW] + [block[0] for block in blocks[1:]]

    @property
    def bounds(self) -> list[int]:
        """Every bound, in order (a copy)."""
        return [bound for block in self.blocks for bound in block]

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
        grew = False
        for lo, hi in ranges:
            firsts, blocks = self.firsts, self.blocks
            after = hi + 1
            k = bisect_right(firsts, lo) - 1
            block = blocks[k]
            at = bisect_right(block, lo)  # bounds at or below lo: odd when a range holds lo
            if at & 1:
                if after <= block[at]:
                    continue  # (held already: most protocols and ports added are)
                first = at - 1  # (the range holding lo grows to the right)
                lo = block[first]
            elif at and block[at - 1] == lo:
                first = at - 2  # (lo just past a range: joined to it)
                lo = block[first]
            elif at == len(block) and (k + 1 == len(blocks) or after < firsts[k + 1]):
                block += (lo, after)  # (past the block's ranges and apart from the next block's)
                grew = True
                if len(block) > _LIMIT:
                    self._halve(k)
                continue
            elif at < len(block) and after < block[at]:
                block[at:at] = (lo, after)  # (apart from every range: a new one, the commonest case)
                grew = True
                if len(block) > _LIMIT:
                    self._halve(k)
                continue
            else:
                first = at  # (it reaches the next range, or touches it)
            # The ranges from ``first`` to the one holding or touching hi become one.
            last = bisect_right(block, after, first)
            if last & 1:  # (after lies inside a range, or at its first value: that range's end)
                after = block[last]
                last += 1
            elif last == len(block) and k + 1 < len(blocks) and after >= firsts[k + 1]:
                self._add_across(lo, after)  # (it reaches a range of the next block)
                grew = True
                continue
            block[first:last] = (lo, after)  # (first > 0 or k == 0: the block's first bound is kept)
            grew = True
            if len(block) > _LIMIT:
                self._halve(k)
        return grew

    def _halve(self, k: int) -> None:
        """Cut block ``k`` (grown past _LIMIT bounds) in two."""
        block = self.blocks[k]
        half = len(block) // 4 * 2  # (even: whole ranges on each side)
        self.blocks.insert(k + 1, block[half:])
        self.firsts.insert(k + 1, block[half])
        del block[half:]

    def _add_across(self, lo: int, after: int) -> None:
        """Add the range [lo, after) that joins ranges of two blocks or more: on all the bounds
        as one list, which is then cut into blocks again."""
        bounds = self.bounds
        first = bisect_right(bounds, lo)
        if first & 1:
            first -= 1
            lo = bounds[first]
        elif first and bounds[first - 1] == lo:
            first -= 2
            lo = bounds[first]
        last = bisect_right(bounds, after, first)
        if last & 1:
            after = bounds[last]
            last += 1
        bounds[first:last] = (lo, after)
        self._cut(bounds)

    def _at(self, value: int) -> tuple[int, list, int]:
        """The block that would hold ``value``, that block, and how many of its bounds lie at
        or below ``value`` (odd: the set holds it)."""
        k = bisect_right(self.firsts, value) - 1
        block = self.blocks[k]
        return k, block, bisect_right(block, value)

    def has(self, value: int) -> bool:
        """Whether ``value`` is in this set."""
        block = self.blocks[bisect_right(self.firsts, value) - 1]
        return bisect_right(block, value) & 1 == 1

    def meets(self, ranges: iv.Ranges) -> bool:
        """Whether some value of ``ranges`` is in this set."""
        for lo, hi in ranges:
            k, block, at = self._at(lo)
            if at & 1:
                return True
            if at < len(block):
                if block[at] <= hi:
                    return True
            elif k + 1 < len(self.blocks) and self.firsts[k + 1] <= hi:
                return True
        return False

    def covers(self, ranges: iv.Ranges) -> bool:
        """Whether every value of ``ranges`` is in this set."""
        for lo, hi in ranges:
            _, block, at = self._at(lo)
            if not at & 1 or block[at] <= hi:
                return False
        return True

    def _ranges_from(self, value: int):
        """This set's ranges as (first value, one past the last) from the first one ending
        past ``value``, in order."""
        k, block, at = self._at(value)
        at -= at & 1
        blocks = self.blocks
        while k < len(blocks):
            block = blocks[k]
            for position in range(at, len(block), 2):
                yield block[position], block[position + 1]
            k += 1
            at = 0

    def inside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` ∩ this set."""
        out = []
        for lo, hi in ranges:
            for start, after in self._ranges_from(lo):
                if start > hi:
                    break
                end = after - 1
                out.append((lo if lo > start else start, hi if hi < end else end))
        return tuple(out)

    def outside(self, ranges: iv.Ranges) -> iv.Ranges:
        """``ranges`` minus this set."""
        out = []
        for lo, hi in ranges:
            for start, after in self._ranges_from(lo):
                if start > hi:
                    break
                if start > lo:
                    out.append((lo, start - 1))
                lo = after
            if lo <= hi:
                out.append((lo, hi))
        return tuple(out)

    def first_outside(self, ranges: iv.Ranges) -> int | None:
        """The smallest value of ``ranges`` not in this set, or None."""
        firsts, blocks = self.firsts, self.blocks
        for lo, hi in ranges:
            block = blocks[bisect_right(firsts, lo) - 1]  # (_at, inline: a probe asks this of every box)
            at = bisect_right(block, lo)
            if not at & 1:
                return lo
            if block[at] <= hi:
                return block[at]
        return None
