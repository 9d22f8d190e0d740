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


def _deleted(holes: list, places: list) -> list:
    out = list(holes)
    for at in reversed(places):
        del out[at]
    return out


@pytest.mark.parametrize("seed", range(20))
def test_parts_that_are_holes_found_and_taken_out_as_take_out_does(seed):
    """_exact_holes: None unless each range of the parts is one hole exactly; where it finds
    them, deleting them gives what _take_out gives (and a hole lies inside its list's range)."""
    rnd = random.Random(seed)
    found = 0
    for _ in range(80):
        holes = _holes(rnd, rnd.randint(0, 40))
        if holes and rnd.random() < 0.6:
            parts = iv.normalize(rnd.sample(holes, rnd.randint(1, min(6, len(holes)))))
        else:
            top = holes[-1][1] + 40 if holes else 100
            parts = iv.normalize((lo, lo + rnd.choice([0, 0, 2, 7])) for lo in (rnd.randint(0, top) for _ in range(rnd.randint(0, 4))))
        places = coalesce._exact_holes(holes, parts)
        exact = all(piece in holes for piece in parts)
        assert (places is not None) == exact
        if places is not None:
            found += 1
            expected = list(holes)
            coalesce._take_out(expected, parts)
            assert _deleted(holes, places) == expected
    assert found > 20


@pytest.mark.parametrize("seed", range(10))
def test_merged_held_alike_with_and_without_exact_holes(monkeypatch, seed):
    from linter.engine.heldcuts import HeldCuts
    from linter.engine.space import Box, with_src
    from linter.model import Family
    rnd = random.Random(seed)
    everywhere = ((0, 2**32 - 1),)
    for _ in range(40):
        listed = iv.normalize((v * 100, v * 100 + rnd.randint(20, 90)) for v in rnd.sample(range(400), rnd.randint(30, 120)))
        box = Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((22, 22),), listed, everywhere,
                  frozenset({"eth0"}), frozenset({"new"}), trail=("t",))
        holes = sorted({(lo + 5, lo + 5 + rnd.randint(0, 4)) for lo, hi in rnd.sample(listed, rnd.randint(1, len(listed) // 4))})
        pieces = [with_src(box, (hole,)) for hole in rnd.sample(holes, rnd.randint(0, min(5, len(holes))))]
        if rnd.random() < 0.3:
            lo = rnd.randint(0, 50_000)
            pieces.append(with_src(box, ((lo, lo + rnd.randint(0, 300)),)))
        answers = []
        for exact in (coalesce._exact_holes, lambda holes, parts: None):
            monkeypatch.setattr(coalesce, "_exact_holes", exact)
            held = HeldCuts()
            held.adopt(box, list(holes))
            merged = coalesce._merged_held([box] + pieces, held)
            answers.append((merged, held.holes_of(merged)))
        assert answers[0] == answers[1]
