"""A template's order pattern compiled into one comparison of the constants and entering
boxes (engine/order_test.py) answers what shapewalk._fits answers on shapewalk._values, on
random constants, boxes and patterns."""

from __future__ import annotations

import random

import pytest

from linter.engine import intervals as iv
from linter.engine.order_test import label_reads, order_test
from linter.engine.shapewalk import _WIDE, Subtree, _fits, _values
from linter.engine.space import Box
from linter.model import Family

ALL = iv.full(2**32 - 1)
_BOX = Box(Family.IPV4, ((0, 255),), ((0, 65535),), ((0, 65535),), ALL, ALL, frozenset({"eth0"}), frozenset({"new"}))


def _pattern(values: list[list[int]]) -> tuple:
    """The pattern Template.record makes of ``values``."""
    pattern = []
    for these in values:
        order = sorted(range(len(these)), key=these.__getitem__)
        equal = [False] + [these[a] == these[b] for a, b in zip(order, order[1:])]
        pattern.append((order, equal))
    return tuple(pattern)


def _ranges(rng: random.Random, length: int, top: int):
    if length < 0:
        return None
    return tuple((lo, lo + rng.randint(-1, 2)) for lo in (rng.randint(-2, top) for _ in range(length)))


def _draw(rng, counts, lengths, top, recorded=None):
    """Constants and boxes of the given numbers; near ``recorded`` (its values moved in
    order, sometimes nudged) where given."""
    if recorded is not None and rng.random() < 0.4:
        shift, nudge = rng.randint(0, 5), rng.choice([0, 0, 1])

        def moved(value):
            return (value + 2) * 2 + shift + rng.randint(0, nudge)
        constants, boxes = recorded
        constants = tuple(tuple(moved(v) for v in these) for these in constants)
        boxes = [box._replace(**{Box._fields[f]: None if box[f] is None else
                                 tuple((moved(lo), moved(hi + 1) - 1) for lo, hi in box[f]) for f in _WIDE})
                 for box in boxes]
        return constants, boxes
    constants = tuple(tuple(rng.randint(-2, top) for _ in range(count)) for count in counts)
    boxes = [_BOX._replace(**{Box._fields[f]: _ranges(rng, length, top) for f, length in zip(_WIDE, box_lengths)})
             for box_lengths in lengths]
    return constants, boxes


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_test_answers_what_the_loop_answers_on_listed_values(seed):
    rng = random.Random(seed)
    top = rng.choice([1, 3, 8, 2**16, 2**32])
    counts = [rng.choice([0, 0, 2, 4, 6]) for _ in range(4)]
    lengths = [[rng.choice([-1, 0, 1, 1, 2, 3]) for _ in _WIDE] for _ in range(rng.randint(1, 3))]
    answers = set()
    for _ in range(20):
        recorded = _draw(rng, counts, lengths, top)
        constants, boxes = recorded
        pattern = _pattern(_values(Subtree(0, (), constants), boxes))
        fits = order_test(pattern, label_reads(constants, boxes))
        for _ in range(30):
            constants, boxes = _draw(rng, counts, lengths, top, recorded)
            answer = fits(*constants, boxes)
            assert answer == _fits(pattern, _values(Subtree(0, (), constants), boxes))
            answers.add(answer)
    assert answers == {True, False}


def test_a_pattern_without_labels_fits_everything():
    empty = ((), (), (), ())
    assert order_test(_pattern([[], [], [], []]), label_reads(empty, []))((), (), (), (), []) is True
