"""Jumps whose every result a DNAT rewrote, answered on the routed path without NAT without
walking them (engine/nat_dropped.py): the walk gives exactly what the general path gives
(results, what goes on, the budget), on random KUBE-SERVICES-like tables with odd services
among the others, under tight budgets too; and wherever the answer is given, the general
path would have given nothing back, made no result and charged exactly that."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import jump_copies, shapewalk  # noqa: E402
from linter.engine.budget import Budget  # noqa: E402
from linter.engine.marks import marks_read  # noqa: E402
from linter.engine.paths import PathEvaluator  # noqa: E402
from linter.engine.shapewalk import SharedWalks  # noqa: E402
from linter.engine.walk import Walker  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_jump_copies import BOXES, _box, _described, _table  # noqa: E402


class _Lane:
    """Counts the answers of the lane; ``off()`` takes it away (every jump walked)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.taken = 0
        dropped = jump_copies.dropped

        def counted(*args):
            found = dropped(*args)
            if found is not None:
                self.taken += 1
            return found
        monkeypatch.setattr(jump_copies, "dropped", counted)

    def off(self):
        self.monkeypatch.setattr(jump_copies, "dropped", lambda *args: None)


def _checked_calls(monkeypatch):
    """Every template search of the general path checked against ``SharedWalks.drops``: where
    drops answers, the call gives nothing back, adds no result and charges that much."""
    call = SharedWalks.__call__
    answered = [0]

    def checked(self, walker, table, target, boxes, stack, results):
        before, made = walker.budget.spent, len(results)
        expected = self.drops(walker, table, target, boxes, stack)
        back = call(self, walker, table, target, boxes, stack, results)
        if expected is not None:
            answered[0] += 1
            assert back == [] and len(results) == made and walker.budget.spent - before == expected
        return back
    monkeypatch.setattr(shapewalk.SharedWalks, "__call__", checked)
    return answered


def _walk(document, boxes, certain: bool, limit: int | None):
    table = next(t for t in document.tables if t.name == "nat")
    chain = next(c for c in table.chains if c.name == "PREROUTING")
    walker = Walker(certain=certain)
    walker.marks = marks_read([document])
    walker.shared = SharedWalks()
    walker.shared.drop_nat = True
    if limit is not None:
        walker.budget = Budget(limit)
    results = walker.walk(table, chain, boxes)
    return _described(results), walker.budget.spent, walker.budget.degraded


def _routed(document):
    found = []
    for keep_nat in (False, True):
        evaluator = PathEvaluator([document], certain=True)
        results = evaluator.evaluate_routed([_box(oif=frozenset({"eth2"}), local=False)], keep_nat=keep_nat)
        found.append(([(r.verdict, r.forwarded, tuple(r.box[:-2]), len(r.box.trail)) for r in results],
                      evaluator.spent))
    return found


ROUTED = [[box._replace(local=False, oif=frozenset({"eth2"})) for box in boxes] for boxes in BOXES]


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("certain", [True, False])
def test_dropping_walk_is_the_general_walk(monkeypatch, seed, certain):
    document = ruleset(_table(random.Random(seed), odd=0.25 if seed < 5 else 0.0))
    lane = _Lane(monkeypatch)
    fast = [_walk(document, boxes, certain, None) for boxes in ROUTED]
    assert lane.taken
    lane.off()
    answered = _checked_calls(monkeypatch)
    assert [_walk(document, boxes, certain, None) for boxes in ROUTED] == fast
    assert answered[0]


@pytest.mark.parametrize("seed", range(4))
def test_dropping_walk_under_tight_budgets(monkeypatch, seed):
    # Budgets that run out somewhere in the run: a template's cost past the limit is walked
    # (and merged) instead, and so is every jump once the walk is degraded.
    document = ruleset(_table(random.Random(50 + seed), services=30, odd=0.2))
    lane = _Lane(monkeypatch)
    limits = [20, 60, 120, 200, 400, 800]
    fast = [_walk(document, boxes, True, limit) for limit in limits for boxes in ROUTED[:3]]
    lane.off()
    assert [_walk(document, boxes, True, limit) for limit in limits for boxes in ROUTED[:3]] == fast


@pytest.mark.parametrize("seed", range(6))
def test_routed_evaluation_is_the_same_without_the_lane(monkeypatch, seed):
    document = ruleset(_table(random.Random(200 + seed), services=30, odd=0.3))
    lane = _Lane(monkeypatch)
    fast = _routed(document)
    assert lane.taken
    lane.off()
    assert _routed(ruleset(_table(random.Random(200 + seed), services=30, odd=0.3))) == fast


def test_no_answer_unless_dropping(monkeypatch):
    # The local path (and the routed one keeping NAT) never takes the lane.
    document = ruleset(_table(random.Random(7)))
    lane = _Lane(monkeypatch)
    PathEvaluator([document]).evaluate([_box()])
    PathEvaluator([document], certain=True).evaluate_routed([_box(oif=frozenset({"eth2"}), local=False)])
    assert lane.taken == 0
