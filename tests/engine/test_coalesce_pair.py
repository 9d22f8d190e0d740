"""Two boxes of one path merged by coalesce_pair exactly as the general loop merges them."""

from __future__ import annotations

import random

from linter.engine import coalesce as coalescing
from linter.engine.coalesce import coalesce, coalesce_pair
from linter.engine.space import Box
from linter.model import Family

LONG = tuple((n * 10, n * 10 + 3) for n in range(12))  # past BY_VALUE: compared by identity
LONG_TWIN = LONG[:6] + LONG[6:]  # equal, another object
assert LONG_TWIN == LONG and LONG_TWIN is not LONG and len(LONG) > coalescing.BY_VALUE

POOLS = {
    "family": [Family.IPV4, Family.IPV6],
    "proto": [((6, 6),), ((17, 17),), ((0, 5), (7, 16), (18, 255))],
    "sport": [((0, 65535),), ((1024, 65535),)],
    "dport": [((80, 80),), ((443, 443),), ((81, 81),), ((0, 79), (81, 65535))],
    "src": [((0, 2**32 - 1),), ((1, 1),), ((2, 2),), LONG, LONG_TWIN],
    "dst": [((5, 5),), ((6, 6),), ((7, 9),), LONG, LONG_TWIN],
    "iif": [frozenset({"eth0"}), frozenset({"eth1"}), frozenset({"eth0", "eth1"})],
    "state": [frozenset({"new"}), frozenset({"established"})],
    "local": [True, False],
    "nat_dst": [None, ((100, 100),), ((101, 101),)],
    "nat_dport": [None, ((8080, 8080),), ((8081, 8081),)],
    "oif": [None, frozenset({"eth2"}), frozenset({"eth3"})],
    "mark": [0, 0x4000],
    "ctmark": [0, 1],
}


def _pair(rng: random.Random) -> list[Box]:
    first = {name: rng.choice(values) for name, values in POOLS.items()}
    second = dict(first)
    for name in rng.sample(list(POOLS), rng.choice([0, 1, 1, 1, 2])):
        second[name] = rng.choice(POOLS[name])
    if (first["nat_dst"] is None) != (first["nat_dport"] is None):
        first["nat_dport"] = first["nat_dst"] and ((8080, 8080),)
    if (second["nat_dst"] is None) != (second["nat_dport"] is None):
        second["nat_dport"] = second["nat_dst"] and ((8080, 8080),)
    trail, assumptions = ("step",), ()
    return [Box(**first, assumptions=assumptions, trail=trail), Box(**second, assumptions=assumptions, trail=trail)]


def test_a_pair_merges_as_the_general_loop_merges_it():
    rng = random.Random(14)
    merged = apart = 0
    for _ in range(20_000):
        pair = _pair(rng)
        expected = coalescing._coalesce_path(list(pair))
        got = coalesce_pair(list(pair))
        assert got == expected, pair
        assert [type(box[4]) for box in got] == [type(box[4]) for box in expected]
        if len(expected) == 1:
            merged += 1
        else:
            apart += 1
            assert all(a is b for a, b in zip(got, pair))  # the very boxes, in order
    assert merged > 2_000 and apart > 2_000


def test_coalesce_of_paths_of_two_boxes_is_unchanged():
    """coalesce() takes the pair lane only for paths of exactly two boxes, none held: the same
    list as merging each path by the general loop."""
    rng = random.Random(5)
    for _ in range(300):
        boxes = []
        for number in range(rng.randint(3, 12)):
            pair = _pair(rng)
            trail = (f"path-{number}",)
            boxes.extend(box._replace(trail=trail) for box in pair[:rng.choice([1, 2, 2])])
        by_path: dict = {}
        for box in boxes:
            by_path.setdefault(id(box.trail), []).append(box)
        expected = [merged for members in by_path.values()
                    for merged in (coalescing._coalesce_path(members) if len(members) > 1 else members)]
        if len(boxes) < coalescing.COALESCE_AT_LEAST or len(by_path) == len(boxes):
            expected = boxes
        assert coalesce(list(boxes)) == expected
