"""A template's order pattern compiled into one comparison (engine/order_test.py) answers
what shapewalk._fits answers, on random patterns and values."""

from __future__ import annotations

import random

import pytest

from linter.engine.order_test import order_test
from linter.engine.shapewalk import _fits


def _pattern(values: list[list[int]]) -> tuple:
    """The pattern Template.record makes of ``values``."""
    pattern = []
    for these in values:
        order = sorted(range(len(these)), key=these.__getitem__)
        equal = [False] + [these[a] == these[b] for a, b in zip(order, order[1:])]
        pattern.append((order, equal))
    return tuple(pattern)


def _values(rng: random.Random, lengths: list[int], top: int) -> list[list[int]]:
    # Few distinct values (top small): equal values, ties and reversals are common.
    return [[rng.randint(-2, top) for _ in range(length)] for length in lengths]


@pytest.mark.parametrize("seed", range(40))
def test_the_compiled_test_answers_what_the_loop_answers(seed):
    rng = random.Random(seed)
    top = rng.choice([1, 3, 8, 2**16, 2**32])
    lengths = [rng.choice([0, 0, 2, 4, 6, 10, 17]) for _ in range(4)]
    answers = set()
    for _ in range(30):
        recorded = _values(rng, lengths, top)
        pattern = _pattern(recorded)
        fits = order_test(pattern)
        assert fits(*recorded) == _fits(pattern, recorded)  # (false only for values below 0)
        for _ in range(30):
            values = _values(rng, lengths, top)
            if rng.random() < 0.3:  # the recorded values moved in order: fits, or nearly
                shift, nudge = rng.randint(0, 5), rng.choice([0, 0, 1])
                values = [[(v + 2) * 2 + shift + rng.randint(0, nudge) for v in these] for these in recorded]
            answer = fits(*values)
            assert answer == _fits(pattern, values)
            answers.add(answer)
    assert answers == {True, False}


def test_a_pattern_without_labels_fits_everything():
    assert order_test((([], []), ([], []), ([], []), ([], [])))([], [], [], []) is True
