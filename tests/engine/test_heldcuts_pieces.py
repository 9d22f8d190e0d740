"""cut_by_source's one-piece lane (a held box met by rules on one range each, its holes tested
by one bisection and the piece inserted where it says) and _in_range's bisection of a held
list's starts: the same answers as cutting the box at every rule (split by intersect and
subtract), piece by piece, whatever the order of the rules and however they overlap."""

from __future__ import annotations

import random

import pytest

from linter.engine import heldcuts, intervals as iv
from linter.engine.heldcuts import HeldCuts
from linter.engine.space import Box
from linter.model import Family

EVERYWHERE = ((0, 2**32 - 1),)


def _box(rnd: random.Random) -> Box:
    listed = sorted(rnd.sample(range(0, 2**12), rnd.randint(70, 400)))
    src = iv.normalize((value * 16, value * 16 + rnd.randint(0, 9)) for value in listed)
    return Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((22, 22),), src, EVERYWHERE,
               frozenset({"eth0"}), frozenset({"new"}), trail=("jumped",))


def _wanted(rnd: random.Random, src, earlier: list) -> tuple:
    """One range: often one of the list's own (a /24 dropped), now and then an earlier rule's
    again or a part of one (a hole met again), a wide one, or one reaching past the list."""
    pick = rnd.random()
    if earlier and pick < 0.2:
        lo, hi = rnd.choice(earlier)
        lo, hi = lo + rnd.randint(-8, 4), hi + rnd.randint(-4, 8)
    elif pick < 0.7:
        lo, hi = src[rnd.randrange(len(src))]
        lo, hi = lo + rnd.randint(0, 2), hi - rnd.randint(0, 2)
    elif pick < 0.8:
        lo = rnd.randint(0, 2**16)
        hi = lo + rnd.randint(0, 2**12)
    else:
        lo = rnd.randint(0, 2**16)
        hi = lo + rnd.randint(0, 20)
    lo = max(lo, 0)
    return ((lo, max(lo, hi)),)


@pytest.mark.parametrize("seed", range(8))
def test_one_piece_cuts_give_what_cutting_gives(seed):
    rnd = random.Random(seed)
    for _ in range(20):
        box = _box(rnd)
        held = HeldCuts()
        pending = [box]
        expected_src = box.src
        earlier: list = []
        for _ in range(rnd.randint(1, 120)):
            wanted = _wanted(rnd, expected_src or box.src, earlier)
            earlier.append(wanted[0])
            inside, pending = held.cut_by_source((Family.IPV4, wanted), pending)
            # (cutting at every rule: the part inside, and the rest going on)
            expected_inside = iv.intersect(expected_src, wanted)
            assert [part.src for part in inside] == ([expected_inside] if expected_inside else [])
            expected_src = iv.subtract(expected_src, wanted) if expected_inside else expected_src
            settled = held.settle(list(pending)) if rnd.random() < 0.05 else None
            if settled is not None:
                pending = settled
            now = HeldCuts(held).settle(list(pending))  # (a copy: settling it leaves ``held`` as it was)
            assert [part.src for part in now] == ([expected_src] if expected_src else [])
            if not pending:
                break
            for holes in (entry[1] for entry in held.values()):
                assert holes == sorted(holes)
                assert all(a[1] < b[0] for a, b in zip(holes, holes[1:]))


@pytest.mark.parametrize("seed", range(4))
def test_a_list_met_again_and_again_gives_what_intersect_gives(seed):
    """_in_range on the same list many times in a row (its starts bisected from the second on)."""
    rnd = random.Random(seed)
    for _ in range(30):
        src = _box(rnd).src
        for _ in range(rnd.randint(1, 60)):
            (lo, hi), = _wanted(rnd, src, [])
            wanted = ((lo, hi),)
            found = heldcuts._in_range(src, lo, hi, wanted)
            expected = iv.intersect(src, wanted)
            assert found == expected
            assert (found is src) == (expected is src) and (found is wanted) == (expected is wanted)
