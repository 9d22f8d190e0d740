"""Sizes of long address lists, carried from the list they were cut from instead of counted.

The exposure summary weighs every accepted box's public sources (internet reach when they
hold at least half of the public space). In a ufw chain of N user rules, `allow port Q`
accepts everyone but the networks denied before it: a list of up to N ranges, a different
one for each such rule, and counting each was quadratic (27 of 62 s at 50,000 user rules).
Those lists are cut from one another one network at a time (engine/sourcerun.py), so each
one's size is its parent's minus what the cut took.

A registry keeps each size with the list itself (so the identity stays the list's), and while
an exposure walk collects, SourceRun's cuts note the sizes of what they leave. Lists that only
the registry still holds are let go now and then: what is noted is only ever read back for
lists something else (a result) holds.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from linter.engine import intervals as iv

LONG = 64  # ranges past which a size is worth remembering (shorter lists are counted)
_HELD_BY_US = 3  # sys.getrefcount of a list only the registry holds (entry, loop name, argument)


class KnownSizes:
    """Sizes of long range lists, by identity (each entry holds its list)."""

    __slots__ = ("_entries", "_prune_at")

    def __init__(self) -> None:
        self._entries: dict[int, tuple[iv.Ranges, int]] = {}
        self._prune_at = 1024

    def __len__(self) -> int:
        return len(self._entries)

    def size(self, ranges: iv.Ranges) -> int:
        """iv.size(ranges), read from the registry when it knows it."""
        if len(ranges) > LONG:
            hit = self._entries.get(id(ranges))
            if hit is not None and hit[0] is ranges:
                return hit[1]
        return iv.size(ranges)

    def known(self, ranges: iv.Ranges) -> int | None:
        """The size noted for ``ranges``, or None (short lists are not noted)."""
        hit = self._entries.get(id(ranges))
        return hit[1] if hit is not None and hit[0] is ranges else None

    def note_cut(self, whole: iv.Ranges, taken: iv.Ranges, rest: iv.Ranges) -> None:
        """``rest`` is ``whole`` without ``taken`` (``taken`` ⊆ ``whole``): its size is noted,
        from ``whole``'s (counted when not known: a list merged or cut elsewhere starts a new
        line of descent, and its descendants are not counted again)."""
        if len(rest) <= LONG or len(taken) > LONG:
            return
        whole_size = self.known(whole) if len(whole) > LONG else None
        if whole_size is None:
            whole_size = iv.size(whole)
        self.note(rest, whole_size - iv.size(taken))

    def note_part(self, part: iv.Ranges, whole: iv.Ranges, others: iv.Ranges) -> None:
        """``part`` is ``whole`` ∩ C for a class C whose complement ``others`` is a few ranges:
        its size is noted when ``whole``'s is known (what ``whole`` holds of ``others`` is
        found by bisection, not by counting ``whole``)."""
        if len(part) <= LONG or part is whole and self.known(part) is not None:
            return
        whole_size = self.known(whole)
        if whole_size is not None:
            self.note(part, whole_size - iv.size(iv.intersect(whole, others)))

    def note(self, ranges: iv.Ranges, size: int) -> None:
        """Remember ``size`` for ``ranges``."""
        self._entries[id(ranges)] = (ranges, size)
        if len(self._entries) >= self._prune_at:
            self.let_go()

    def let_go(self) -> None:
        """Forget the lists no one but the registry holds."""
        # Lists no one else holds can never be asked about again.
        for key, (ranges, _) in list(self._entries.items()):
            if sys.getrefcount(ranges) <= _HELD_BY_US:
                del self._entries[key]
        self._prune_at = len(self._entries) + max(1024, len(self._entries) // 8)


_collecting: list[KnownSizes] = []


@contextmanager
def collecting(registry: KnownSizes) -> Iterator[KnownSizes]:
    """While inside, the cuts that report here (note_cut) are noted in ``registry``."""
    _collecting.append(registry)
    try:
        yield registry
    finally:
        _collecting.pop()


def note_cut(whole: iv.Ranges, taken: iv.Ranges, rest: iv.Ranges) -> None:
    """KnownSizes.note_cut on the registry collecting now, if any."""
    if _collecting:
        _collecting[-1].note_cut(whole, taken, rest)
