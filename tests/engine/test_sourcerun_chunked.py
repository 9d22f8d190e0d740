"""engine/sourcerun.py's chunked cuts (the dead-rule analysis's runs): a long list cut as a
RangeList answers as intervals.py does, to the object, and the dead-rule analysis of ufw's
chains is the same with and without them."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from linter.engine import intervals as iv, rangelist, simple_cut, sourcerun
from linter.engine.rangelist import RangeList, held, subtract

ROOT = Path(__file__).resolve().parents[2]


def _ranges(rnd: random.Random, count: int, top: int = 70_000) -> iv.Ranges:
    points = sorted(rnd.sample(range(top), 2 * count))
    return iv.normalize((points[2 * i], points[2 * i + 1]) for i in range(count))


def _others(rnd: random.Random, ranges: iv.Ranges) -> list[iv.Ranges]:
    """Few-range lists met with ``ranges``: one port inside a range, a gap, a stretch across
    chunks, all of it, the result itself, nothing, past both ends, unsorted."""
    middle = ranges[len(ranges) // 2]
    gap = (ranges[5][1] + 1, ranges[6][0] - 1)
    return [((middle[0], middle[0]),), (gap,), ((ranges[30][0] + 1, ranges[200][1] - 1),),
            ((0, 70_000),), ((ranges[0][0], ranges[-1][1]),), ranges[40:43], (), ((70_001, 70_009),),
            ((ranges[3][0], ranges[3][1]), (ranges[90][0], ranges[120][1] + 1)), (ranges[9], ranges[2]),
            _ranges(rnd, rnd.randint(1, 4))]


@pytest.mark.parametrize("seed", range(25))
def test_chunked_cuts_answer_as_intervals_to_the_object(seed):
    rnd = random.Random(seed)
    ranges = _ranges(rnd, rnd.choice((300, 700)))
    for other in _others(rnd, ranges):
        expected_in, expected_out = iv.intersect(ranges, other), iv.subtract(ranges, other)
        chunked = held(ranges)  # (a new one each time: comparing one builds its tuple)
        read = held(ranges)
        read.flat()  # (a RangeList already read as one tuple)
        assert type(chunked) is RangeList and chunked._flat is None
        for mine in (ranges, chunked, read):
            found = sourcerun._chunked_intersect(mine, other)
            assert found == expected_in
            assert (found is mine) == (expected_in is ranges) and (found is other) == (expected_in is other)
            rest = sourcerun._chunked_subtract(mine, other)
            assert rest == expected_out and (rest is mine) == (expected_out is ranges)


def test_a_long_tuple_that_loses_nothing_is_not_chunked(monkeypatch):
    ranges = _ranges(random.Random(7), 400)
    made: list = []
    monkeypatch.setattr(rangelist, "_chunked", lambda value: made.append(value))
    for missing in (((ranges[5][1] + 1, ranges[6][0] - 1),), ((70_001, 70_002),), ((-5, ranges[0][0] - 1),)):
        assert subtract(ranges, missing) is ranges
    assert not made


def _ufw(rules: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return generate.ufw(rules)


def _analyses(text: str) -> list:
    """Every chain's dead-rule analysis (both families), what goes on past each rule and the
    budget spent, as values."""
    from linter.engine.shadow import ShadowAnalysis
    from linter.engine.universe import interface_representatives
    from linter.frontends.iptables.save import parse
    from linter.model import Family
    from linter.source import SourceFile

    document = parse(SourceFile("t.rules", text)).document
    interfaces = interface_representatives([document])
    answers: list = []
    rule_step = ShadowAnalysis._rule

    def counted(self, rule, index, pending, state):
        going_on = rule_step(self, rule, index, pending, state)
        answers.append((index, len(going_on), state.spent, sorted(tuple(box) for box in going_on)))
        return going_on

    ShadowAnalysis._rule = counted
    try:
        for table in document.tables:
            for family in (Family.IPV4, Family.IPV6):
                analysis = ShadowAnalysis(table, family, interfaces)
                for chain in table.chains:
                    verdicts = analysis.chain(chain)
                    returned = None if verdicts.returned is None else sorted(tuple(box) for box in verdicts.returned)
                    answers.append((table.name, family, chain.name, verdicts.judged, sorted(verdicts.dead),
                                    sorted(verdicts.shadowed), returned))
    finally:
        ShadowAnalysis._rule = rule_step
    return answers


def _hold(monkeypatch, at_least: int | None) -> None:
    """Lists of ``at_least`` ranges or more held as RangeLists in small chunks (None: never)."""
    value = 10 ** 9 if at_least is None else at_least
    monkeypatch.setattr(rangelist, "HOLD_AT_LEAST", value)
    monkeypatch.setattr(simple_cut, "HOLD_AT_LEAST", value)
    monkeypatch.setattr(rangelist, "SHORT_AT_MOST", 3)
    monkeypatch.setattr(rangelist, "CHUNK_AT_LEAST", 2)


@pytest.mark.parametrize("at_least", [4, 40])
@pytest.mark.parametrize("case", ["ufw 600", "ufw 600 over budget"])
def test_the_dead_rule_analysis_of_ufw_is_the_same_with_chunked_cuts(monkeypatch, case, at_least):
    from linter.engine import shadow

    text = _ufw(600)
    if case.endswith("over budget"):
        monkeypatch.setattr(shadow, "SHADOW_BUDGET", 1_500)
        monkeypatch.setattr(shadow, "SHADOW_BUDGET_PER_RULE", 0)
    _hold(monkeypatch, None)
    plain = _analyses(text)
    _hold(monkeypatch, at_least)
    looked_up: list = []
    original = sourcerun._chunked_intersect

    def counted(a, b):
        found = original(a, b)
        looked_up.append(type(a) is RangeList)
        return found

    monkeypatch.setattr(sourcerun, "_chunked_intersect", counted)
    assert _analyses(text) == plain
    assert True in looked_up  # (the run's cuts met RangeLists)
    if case.endswith("over budget"):
        judged = [answer[3] for answer in plain if len(answer) == 7]
        assert False in judged and True in judged
