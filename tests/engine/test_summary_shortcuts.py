"""The exposure summary's shortcuts give what the long way gives: a box's sources cut by an
address class (engine/class_cut.py), and the routed summary asked for some deciders only."""

from __future__ import annotations

import random

from linter.engine import intervals as iv
from linter.engine.class_cut import ClassCut
from linter.engine.exposure import ExposureAnalysis, NetworkClasses
from linter.model import Family
from tests.engine.helpers import ruleset
from tests.engine.test_routed import ROUTER


def test_class_cut_is_the_intersection_for_one_range_and_for_lists():
    rng = random.Random(14)
    for family in (Family.IPV4, Family.IPV6):
        for _, class_ranges in NetworkClasses().classes(family):
            cut = ClassCut(class_ranges)
            top = class_ranges[-1][1]
            edges = [value for lo, hi in class_ranges for value in (lo - 1, lo, hi, hi + 1) if 0 <= value <= top]
            for _ in range(2000):
                lo = rng.choice(edges) if rng.random() < 0.5 else rng.randrange(top + 1)
                hi = min(top, lo + rng.choice((0, 1, 255, 65535, 2**24, rng.randrange(top + 1))))
                assert cut(((lo, hi),)) == iv.intersect(((lo, hi),), class_ranges), (family, lo, hi)
            ranges = ((1, 5), (10, 2**31), (3 * 2**30, 3 * 2**30 + 7))
            assert cut(ranges) == iv.intersect(ranges, class_ranges)
            assert cut(()) == ()


def _random_ranges(rng: random.Random, count: int, top: int) -> iv.Ranges:
    values = sorted(rng.sample(range(top + 1), 2 * count))
    return iv.normalize((values[i], values[i + 1]) for i in range(0, 2 * count, 2))


def test_class_cut_of_a_short_list_is_the_intersection_by_value_and_by_identity():
    # Short lists (2..SHORT ranges) are cut range by range (ClassCut._cut_short): the same ranges
    # as intersect(), the list itself when the class holds all of it, asked in a row or not;
    # classes of up to 40 ranges, so that lists 8 times shorter take intersect()'s skewed lane.
    rng = random.Random(7)
    for _ in range(300):
        top = rng.choice((63, 1023, 2**32 - 1))
        class_ranges = _random_ranges(rng, rng.randint(1, min(40, (top + 1) // 4)), top)
        cut = ClassCut(class_ranges)
        edges = [value for lo, hi in class_ranges for value in (lo - 1, lo, hi, hi + 1) if 0 <= value <= top]
        gaps = list(iv.subtract(((0, top),), class_ranges))
        for _ in range(40):
            count = rng.randint(2, min(10, (top + 1) // 4))
            if rng.random() < 0.5 and len(edges) >= 2 * count:
                values = sorted(rng.sample(edges, 2 * count))
                ranges = iv.normalize((values[i], values[i + 1]) for i in range(0, 2 * count, 2))
            else:
                ranges = _random_ranges(rng, count, top)
            if rng.random() < 0.2:
                ranges = iv.intersect(ranges, class_ranges) or ranges  # (all inside the class)
            elif rng.random() < 0.2 and len(gaps) > 1:
                # The class all inside the list: intersect()'s skewed lane hands back the class.
                ranges = iv.subtract(((0, top),), tuple(sorted(rng.sample(gaps, rng.randint(1, min(3, len(gaps)))))))
            expected = iv.intersect(ranges, class_ranges)
            for _ in range(rng.choice((1, 2))):  # (asked twice in a row: the last cut kept)
                found = cut(ranges)
                assert found == expected, (class_ranges, ranges)
                assert (found is ranges) == (expected is ranges), (class_ranges, ranges)
                assert (found is class_ranges) == (expected is class_ranges), (class_ranges, ranges)


def test_class_cut_of_a_public_net_and_a_private_one():
    public, private = (ClassCut(ranges) for _, ranges in NetworkClasses().classes(Family.IPV4))
    net = ((0x20000000, 0x200000FF),)  # 32.0.0.0/24: public, in no private range
    assert public(net) == net and private(net) == ()
    lan = ((0x0A000000, 0x0A0000FF),)  # 10.0.0.0/24
    assert public(lan) == () and private(lan) == lan


def test_routed_exposures_for_some_deciders_are_those_of_the_whole_list():
    analysis = ExposureAnalysis([ruleset(ROUTER)], loopback=False)
    whole = analysis.routed_exposures()
    for line in (15, 16, 17):
        kept = analysis.routed_exposures(lambda decider, line=line: decider.span.line == line)
        assert kept == [e for e in whole if e.primary is not None and e.primary.span.line == line]
        assert kept
    assert analysis.routed_exposures(lambda decider: False) == []
    assert analysis.routed_exposures() == whole  # the whole list is still the one remembered
