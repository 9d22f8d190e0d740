"""Dispatch segments on sources met by held boxes: their part in the keys is cut, not the rest.

A random mix's INPUT holds a few hundred runs of eight or more rules on sources (`-s NET -j
DROP`, `-s NET/16 -j CHAIN`), each a dispatch Segment (engine/walk.py). A held box
(engine/heldcuts.py) was settled before each (a copy of its long source list), its part outside
the keys subtracted (a second copy) and what came back from the groups merged into that (a
third).

Here the held box's part in the segment's keys (a few ranges: its holes left out) goes through
the segment in its place, and the box itself goes on with that part as more holes, placed among
the parts skipping the segment where its own skipping part would be; what comes out is merged
as if settled (HeldCuts.coalesce). Each group meets the same parts, so each rule decides what it
decides in the rule by rule walk, in the same order.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.heldcuts import HeldCuts
from linter.engine.space import Box, with_src


def segment_holding(walker, held: HeldCuts, table, chain, segment, pending: list[Box], results: list,
                    stack: tuple[str, ...], returned: list[Box] | None) -> list[Box] | None:
    """What goes on past ``segment`` (a dispatch run) for ``pending``, the held boxes cut only by
    the keys; None where this does not apply (nothing done: the caller settles and goes on)."""
    if segment.dimension != "src" or walker.record or walker.budget.degraded or not segment.covered:
        return None
    family, covered = segment.family, segment.covered
    inner: list[Box] = []
    placed: list[tuple[int, Box, iv.Ranges]] = []  # (its place among the skipping parts, box, part taken)
    skipping = 0
    for box in pending:
        if held.holes_of(box) is None:
            inner.append(box)
            if box.family is not family or iv.subtract(box.src, covered):
                skipping += 1
            continue
        if box.family is not family:
            return None
        part = held.part_in(box, covered)
        if not held.may_take(box, part):
            return None
        placed.append((skipping, box, part))
        skipping += 1  # (a held box is never all in the keys: fewer holes than ranges)
        if part:
            inner.append(with_src(box, part))
    walker.budget.spent += len(pending) - len(inner)  # (the segment counts every box it meets)
    skipped, going_on = walker.segment_outputs(table, chain, segment, inner, results, stack, returned)
    for place, box, part in placed:
        held.take(box, part)
        skipped.insert(place, box)
    return held.coalesce(skipped + going_on)
