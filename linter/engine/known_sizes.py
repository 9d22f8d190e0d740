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

The registry also keeps each noted list's descent (engine/descent.py): while it collects, a
drop or reject the walk decides keeps, instead of a long list noted here, the Node it can be
built from (``defer``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from linter.engine import intervals as iv
from linter.engine.descent import Deferred, Node, built_from, child, root

LONG = 64  # ranges past which a size is worth remembering (shorter lists are counted)
_HELD_BY_US = 3  # sys.getrefcount of a list only the registry holds (entry, loop name, argument)


class KnownSizes:
    """Sizes of long range lists, by identity (each entry holds its list)."""

    __slots__ = ("_entries", "_prune_at")

    def __init__(self) -> None:
        self._entries: dict[int, tuple[iv.Ranges, int, Node | None]] = {}
        self._prune_at = 1024

    def __len__(self) -> int:
        return len(self._entries)

    def size(self, ranges: iv.Ranges) -> int:
        """iv.size(ranges), read from the registry when it knows it."""
        if len(ranges) > LONG:
            known = self.known(ranges)
            if known is not None:
                return known
        return iv.size(ranges)

    def known(self, ranges: iv.Ranges) -> int | None:
        """The size noted for ``ranges``, or None (short lists are not noted)."""
        hit = self._entries.get(id(ranges))
        if hit is not None and hit[0] is ranges:
            return hit[1]
        node = built_from(ranges)  # a list a deferred result built just now (engine/descent.py)
        return node.size if node is not None else None

    def note_cut(self, whole: iv.Ranges, taken: iv.Ranges, rest: iv.Ranges) -> None:
        """``rest`` is ``whole`` without ``taken`` (``taken`` ⊆ ``whole``): its size is noted,
        from ``whole``'s (counted when not known: a list merged or cut elsewhere starts a new
        line of descent, and its descendants are not counted again)."""
        if len(rest) <= LONG or len(taken) > LONG:
            return
        hit = self._entries.get(id(whole)) if len(whole) > LONG else None
        if hit is None or hit[0] is not whole:
            hit = None
        whole_size = iv.size(whole) if hit is None else hit[1]
        parent = hit[2] if hit is not None else None
        if parent is None:
            parent = root(whole, whole_size)
            if hit is not None:
                self._entries[id(whole)] = (whole, whole_size, parent)
        size = whole_size - iv.size(taken)
        self.note(rest, size, child(parent, taken, rest, size))

    def note_part(self, part: iv.Ranges, whole: iv.Ranges, others: iv.Ranges) -> None:
        """``part`` is ``whole`` ∩ C for a class C whose complement ``others`` is a few ranges:
        its size is noted when ``whole``'s is known (what ``whole`` holds of ``others`` is
        found by bisection, not by counting ``whole``)."""
        if len(part) <= LONG or part is whole and self.known(part) is not None:
            return
        whole_size = self.known(whole)
        if whole_size is not None:
            self.note(part, whole_size - iv.size(iv.intersect(whole, others)))

    def note(self, ranges: iv.Ranges, size: int, node: Node | None = None) -> None:
        """Remember ``size`` (and the Node it descends by, if any) for ``ranges``."""
        self._entries[id(ranges)] = (ranges, size, node)
        if len(self._entries) >= self._prune_at:
            self.let_go()

    def let_go(self) -> None:
        """Forget the lists no one but the registry holds."""
        # Lists no one else holds can never be asked about again.
        for key, (ranges, _, node) in list(self._entries.items()):
            # (A checkpoint's Node holds its list too: results may still need the Node.)
            if sys.getrefcount(ranges) <= _HELD_BY_US + (node is not None and node.ranges is ranges):
                del self._entries[key]
        self._prune_at = len(self._entries) + max(1024, len(self._entries) // 8)

    def node_of(self, ranges: iv.Ranges) -> Node | None:
        """The Node noted for ``ranges`` (a list some cut left), or None."""
        hit = self._entries.get(id(ranges))
        return hit[2] if hit is not None and hit[0] is ranges else None

    def defer(self, boxes: list, ports: bool = True) -> list:
        """``boxes`` (decided), each whose long source or destination port list (not without
        ``ports``) has a Node here as a Deferred holding the Node instead (a NAT's ports are
        left as they are)."""
        out = []
        for box in boxes:
            src = self.node_of(box.src) if len(box.src) > LONG else None
            dport = self.node_of(box.dport) if ports and len(box.dport) > LONG and box.nat_dport is None else None
            if src is None and dport is None:
                out.append(box)
                continue
            bare = box._replace(src=iv.EMPTY) if src is not None else box
            out.append(Deferred(bare._replace(dport=iv.EMPTY) if dport is not None else bare, src, dport))
        return out


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


def collector() -> KnownSizes | None:
    """The registry collecting now, or None (also while it holds nothing: with no list noted,
    there is nothing to defer, and most walks note none)."""
    return _collecting[-1] if _collecting and _collecting[-1]._entries else None
