"""The summary's order (summary_order.in_summary_order): exactly a stable sort by the summary key,
whether the exposures have a few keys (grouped) or many (sorted as a list)."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from linter.engine.summary_order import REACH_ORDER, _summary_key, in_summary_order
from linter.model import Family


def _exposures(chance: random.Random, count: int, ports_choices: int) -> list:
    ports = [((p, p),) for p in range(1, ports_choices + 1)] + [((1, 5), (7, 9))]
    made = []
    for number in range(count):
        made.append(SimpleNamespace(
            family=chance.choice((Family.IPV4, Family.IPV6)), protocol=chance.choice((6, 17, 1)),
            reach=chance.choice(REACH_ORDER), ports=chance.choice(ports) if chance.random() < 0.9 else (),
            possible=chance.random() < 0.2, destinations=chance.choice(((), ((1, 2),), ((3, 3), (5, 6)))),
            number=number))
    return made


@pytest.mark.parametrize("seed", range(12))
def test_the_order_is_a_stable_sort_by_the_summary_key(seed):
    chance = random.Random(seed)
    for count, ports_choices in ((0, 1), (1, 1), (7, 1), (500, 2), (500, 40), (300, 1000)):
        exposures = _exposures(chance, count, ports_choices)
        expected = sorted(exposures, key=_summary_key)
        found = in_summary_order(list(exposures))
        assert [e.number for e in found] == [e.number for e in expected]


def test_two_keys_in_turns_come_out_each_in_its_order():
    a = [SimpleNamespace(family=Family.IPV4, protocol=6, reach="restricted", ports=((22, 22),), possible=False,
                         destinations=(), number=n) for n in range(0, 200, 2)]
    b = [SimpleNamespace(family=Family.IPV4, protocol=6, reach="restricted", ports=((443, 443),), possible=False,
                         destinations=(), number=n) for n in range(1, 200, 2)]
    turns = [e for pair in zip(a, b) for e in pair]
    assert in_summary_order(turns) == a + b
