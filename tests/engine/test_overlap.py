"""overlap.meets: whether two range lists share a value, as bool(intervals.intersect) says."""

from __future__ import annotations

import random

import pytest

from linter.engine import intervals as iv
from linter.engine.overlap import meets


def _ranges(rng: random.Random, count: int, top: int):
    points = sorted(rng.sample(range(top), 2 * count))
    return iv.normalize((points[2 * k], points[2 * k + 1] - rng.randint(0, 1)) for k in range(count))


@pytest.mark.parametrize("seed", range(40))
def test_meets_is_whether_the_intersection_is_empty(seed):
    rng = random.Random(seed)
    for _ in range(200):
        # one-address lists against long ones (the searched way), and lists of like lengths (merged)
        a = _ranges(rng, rng.choice((1, 1, 2, 5)), 400)
        b = _ranges(rng, rng.choice((1, 3, 40, 150)), 400)
        assert meets(a, b) is bool(iv.intersect(a, b)), (a, b)
        assert meets(b, a) is meets(a, b)


def test_edges_touching_and_empty():
    assert meets(((5, 5),), ((0, 4), (5, 9)))
    assert not meets(((5, 5),), ((0, 4), (6, 9)))
    assert meets(((0, 0),), tuple((2 * n, 2 * n) for n in range(50)))
    assert not meets(((1, 1),), tuple((2 * n, 2 * n) for n in range(50)))
    assert meets(((97, 120),), tuple((2 * n, 2 * n) for n in range(50)))  # reaches the last range
    assert not meets(((99, 120),), tuple((2 * n, 2 * n) for n in range(50)))  # past it
    assert not meets((), ((0, 9),)) and not meets(((0, 9),), ())
    whole = ((0, 65535),)
    assert meets(whole, whole)
