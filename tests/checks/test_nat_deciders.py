"""routed_checks._NatDeciders answers what the whole set of forwarded deciders' spans answers,
whatever the order of the questions (it gathers the set only as far as each question needs)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from linter.checks.routed_checks import _NatDeciders


def test_lazy_nat_deciders_answer_as_the_whole_set():
    rng = random.Random(7)
    for _ in range(500):
        spans = [object() for _ in range(rng.randint(1, 12))]
        exposures = [SimpleNamespace(forwarded=rng.random() < 0.5,
                                     deciders=tuple(SimpleNamespace(span=rng.choice(spans))
                                                    for _ in range(rng.randint(0, 3))))
                     for _ in range(rng.randint(0, 15))]
        whole = {id(d.span) for e in exposures if e.forwarded for d in e.deciders}
        lazy = _NatDeciders(exposures)
        for _ in range(rng.randint(1, 20)):
            span_id = id(rng.choice(spans)) if rng.random() < 0.9 else id(object())
            assert (span_id in lazy) == (span_id in whole)
