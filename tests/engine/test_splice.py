"""intervals.splice: a few short range lists spliced into a long one give the canonical union."""

from __future__ import annotations

import random

from linter.engine import intervals as iv


def _ranges(rnd: random.Random, count: int, gap: int) -> tuple:
    out, lo = [], rnd.randint(0, 5)
    for _ in range(count):
        hi = lo + rnd.randint(0, 6)
        out.append((lo, hi))
        lo = hi + rnd.randint(2, gap)
    return tuple(out)


def test_the_splice_is_the_union():
    rnd = random.Random(14)
    for _ in range(2_000):
        long = _ranges(rnd, rnd.randint(0, 60), 8)
        shorts = iv.normalize(_ranges(rnd, rnd.randint(0, 6), 80))
        assert iv.splice(long, shorts) == iv.normalize(long + shorts)


def test_nothing_added_gives_the_long_list_itself():
    long = tuple((i * 10, i * 10 + 5) for i in range(100))
    assert iv.splice(long, ((11, 14), (500, 505))) is long
    assert iv.splice(long, ()) is long


def test_a_range_bridging_two_ranges_and_one_adjacent_to_the_next():
    long = ((0, 5), (10, 15), (20, 25), (40, 45))
    assert iv.splice(long, ((6, 9), (26, 30), (32, 39))) == ((0, 15), (20, 30), (32, 45))
