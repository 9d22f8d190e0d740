"""coalesce.merged_in_sources: where it answers, it is what coalesce answers (the boxes, their
field objects where they matter, and the holes held boxes come out with); where coalesce would
merge otherwise, it does not answer."""

from __future__ import annotations

import random

from linter.engine import intervals as iv
from linter.engine.coalesce import coalesce, merged_in_sources
from linter.engine.heldcuts import HeldCuts
from linter.engine.space import Box, replace, with_src
from linter.model import Family

EVERYWHERE = ((0, 2**32 - 1),)


def _base(rnd: random.Random) -> Box:
    listed = sorted(rnd.sample(range(0, 2**20), 300))
    src = iv.normalize((value * 16, value * 16 + rnd.randint(0, 9)) for value in listed)
    return Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((22, 22), (443, 443)), src, EVERYWHERE,
               frozenset({"eth0"}), frozenset({"new", "invalid"}), trail=("jumped",))


def _boxes(rnd: random.Random) -> tuple[list[Box], HeldCuts]:
    """A held box (holes of its own list) and pieces of its list, some of them the holes'
    (what jumps returned); now and then a field of another object, equal or not, two pieces
    alike, a piece on another path, or nothing held."""
    whole = _base(rnd)
    held = HeldCuts()
    boxes = []
    ranges = whole.src
    holes = sorted(rnd.sample(range(len(ranges)), rnd.randint(1, 20)))
    if rnd.random() < 0.85:
        held.adopt(whole, [ranges[i] for i in holes])
    boxes.append(whole)
    for _ in range(rnd.randint(4, 9)):
        kind = rnd.random()
        if kind < 0.6:
            piece = with_src(whole, (ranges[rnd.choice(holes)],))
        elif kind < 0.75:
            start = rnd.randrange(len(ranges) - 3)
            piece = with_src(whole, ranges[start:start + rnd.randint(1, 3)])
        else:
            piece = with_src(whole, ((2**31 + rnd.randint(0, 10**6),) * 2,))
        change = rnd.random()
        if change < 0.02:
            piece = replace(piece, dport=((22, 22), (443, 443)))  # equal, another object
        elif change < 0.04:
            piece = replace(piece, dport=((443, 443),))
        elif change < 0.06:
            piece = replace(piece, trail=("other",))
        elif change < 0.08 and len(boxes) > 1:
            piece = with_src(whole, boxes[-1].src)  # alike in sources
        boxes.insert(rnd.randint(0, len(boxes)), piece)
    return boxes, held


def _held_view(held: HeldCuts) -> list:
    return sorted((tuple(box), tuple(holes)) for box, holes in held.values())


def test_where_it_answers_coalesce_answers_the_same():
    rnd = random.Random(7)
    answered = declined = 0
    for _ in range(600):
        boxes, held = _boxes(rnd)
        again = HeldCuts()
        again.update({key: (box, list(holes)) for key, (box, holes) in held.items()})
        fast = merged_in_sources(list(boxes), held)
        slow = coalesce(list(boxes), again)
        if fast is None:
            declined += 1
            continue
        answered += 1
        assert fast == slow
        # A field is the same input object in both, or a new list in both (made by each call).
        inputs = {id(field) for box in boxes for field in box}
        for mine, theirs in zip(fast, slow):
            assert all(a is b or id(a) not in inputs and id(b) not in inputs for a, b in zip(mine, theirs))
        assert _held_view(held) == _held_view(again)
    assert answered > 120 and declined > 50


def test_fewer_than_coalesce_merges_are_not_answered():
    rnd = random.Random(1)
    boxes, held = _boxes(rnd)
    assert merged_in_sources(boxes[:5], held) is None
