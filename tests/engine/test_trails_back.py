"""space.trails_back gives each box the trail it had before a jump, in place, as the copy
into a new list gave it (Walker.after_split)."""

from __future__ import annotations

import random

from linter.engine.space import Box, trails_back, with_trail
from linter.model import Family


def test_trails_back_in_place_as_a_copy_gives_them():
    rng = random.Random(3)
    for _ in range(300):
        olds = [("old", n) for n in range(4)]
        news = [("new", n) for n in range(4)]
        before = {id(new): old for new, old in zip(news, olds) if rng.random() < 0.8}
        boxes = [Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((n, n),), ((0, 9),), ((5, 5),), frozenset(),
                     frozenset({"new"}), trail=rng.choice(news + olds)) for n in range(rng.randint(0, 12))]
        expected = [b if (trail := before.get(id(b.trail))) is None else with_trail(b, trail) for b in boxes]
        given = list(boxes)
        trails_back(given, before)
        assert given == expected
        assert all(g.trail is e.trail for g, e in zip(given, expected))
        assert all((g is b) == (before.get(id(b.trail)) is None) for g, b in zip(given, boxes))
