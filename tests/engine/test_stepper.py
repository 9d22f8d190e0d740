"""engine/stepper.py against walk.step: the same trails, hits and cache, one Step object."""

from __future__ import annotations

import random

from linter.engine import space
from linter.engine.stepper import stepper
from linter.engine.walk import Step, step
from tests.engine.helpers import ruleset

RULES = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
         "-A FORWARD -d 10.0.0.0/8 -j ACCEPT\nCOMMIT\n")


def _trails(table, chain, rng: random.Random) -> list[tuple]:
    """Trails some of which are one object (boxes of one path), some equal but apart."""
    rule = chain.rules[0]
    made: list[tuple] = [()]
    for index in range(60):
        base = rng.choice(made)
        made.append(step(base, "rule", table, chain, rule, f"d{index % 5}"))
    return [rng.choice(made) for _ in range(300)]


def _run(extend, trails, cache_size: int) -> tuple[list, int]:
    """Each trail extended in turn (the path cache emptied when full, as in a walk)."""
    space.forget_paths()
    saved = space.PATH_CACHE_SIZE
    space.PATH_CACHE_SIZE = cache_size
    try:
        out = [extend(trail) for trail in trails]
        return out, len(space._PATHS)
    finally:
        space.PATH_CACHE_SIZE = saved
        space.forget_paths()


def test_a_stepper_extends_trails_as_step_does():
    document = ruleset(RULES)
    table = document.tables[0]
    chain = next(c for c in table.chains if c.name == "FORWARD")
    for seed in range(20):
        trails = _trails(table, chain, random.Random(seed))
        for size in (5, 40, 50_000):
            space.forget_paths()
            general, general_size = _run(lambda t: step(t, "policy", table, chain, detail="drop"), trails, size)
            space.forget_paths()
            shared, shared_size = _run(stepper("policy", table, chain, detail="drop"), trails, size)
            assert shared == general  # equal trails
            assert shared_size == general_size  # the cache as full
            # The same sharing: two trails are one object in one run exactly when in the other.
            for a in range(0, len(trails), 7):
                for b in range(len(trails)):
                    assert (general[a] is general[b]) == (shared[a] is shared[b])
            assert len({id(t[-1]) for t in shared}) == 1 and type(shared[0][-1]) is Step
