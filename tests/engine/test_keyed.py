"""engine/keyed.py: a long range list cut by a dispatch index gives the same pieces, group by
group, whether the list or the index drives the search."""

from __future__ import annotations

import random

from linter.engine import keyed


def _index(rnd: random.Random) -> list[tuple[int, int, int]]:
    rows, lo = [], rnd.randint(0, 50)
    for _ in range(rnd.randint(1, 12)):
        hi = lo + rnd.randint(0, 40)
        rows.append((lo, hi, rnd.randint(0, 4)))
        lo = hi + rnd.randint(1, 30)
    return rows


def _ranges(rnd: random.Random, count: int) -> tuple:
    out, lo = [], rnd.randint(0, 5)
    for _ in range(count):
        hi = lo + rnd.randint(0, 6)
        out.append((lo, hi))
        lo = hi + rnd.randint(2, 8)
    return tuple(out)


def test_both_searches_give_the_same_pieces_in_the_same_order(monkeypatch):
    rnd = random.Random(14)
    for _ in range(300):
        index = _index(rnd)
        starts = [row[0] for row in index]
        current = _ranges(rnd, rnd.randint(1, 120))
        walked: dict = {}
        for lo, hi in current:  # the definition: every range against every interval
            for r_lo, r_hi, group in index:
                if lo <= r_hi and r_lo <= hi:
                    walked.setdefault(group, []).append((max(lo, r_lo), min(hi, r_hi)))
        for ratio in (0, 10**9):  # the index drives, then the list
            monkeypatch.setattr(keyed, "SEARCH_BY_INDEX", ratio)
            assert keyed.pieces_by_group(current, index, starts) == walked


def test_a_long_source_list_is_searched_by_the_index():
    current = tuple((i * 256, i * 256 + 200) for i in range(10_000))
    index = [(512, 1023, 0), (5_000 * 256, 5_000 * 256 + 9, 1)]
    assert keyed.pieces_by_group(current, index, [512, 5_000 * 256]) == {
        0: [(512, 712), (768, 968)], 1: [(5_000 * 256, 5_000 * 256 + 9)]}
