"""coalesce._merged_held's holes less what the other members hold, taken out in place
(``_take_out``): the very list iv.subtract gives, range for range, on random holes and parts
(adjacent holes, parts reaching several holes, parts inside one, parts past either end)."""

from __future__ import annotations

import random

import pytest

from linter.engine import coalesce, intervals as iv


def _holes(rnd: random.Random, count: int) -> list[tuple[int, int]]:
    out = []
    at = rnd.randint(0, 20)
    for _ in range(count):
        lo = at + rnd.choice([0, 1, 1, 2, 5, 30])  # (0: adjacent to the one before)
        hi = lo + rnd.choice([0, 0, 1, 3, 10])
        out.append((lo, hi))
        at = hi + 1
    return out


@pytest.mark.parametrize("seed", range(40))
def test_holes_taken_out_in_place_as_subtract_gives(seed):
    rnd = random.Random(seed)
    for _ in range(50):
        holes = _holes(rnd, rnd.randint(0, 40))
        top = holes[-1][1] + 40 if holes else 100
        parts = iv.normalize((lo, lo + rnd.choice([0, 0, 2, 7, 25, 80]))
                             for lo in (rnd.randint(0, top) for _ in range(rnd.randint(1, 6))))
        expected = list(iv.subtract(tuple(holes), parts))
        coalesce._take_out(holes, parts)
        assert holes == expected
