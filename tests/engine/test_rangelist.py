"""engine/rangelist.py: a chunked range list reads as its tuple, and its cuts answer as
intervals.py does, to the object; the dead-rule analysis with and without it agrees."""

from __future__ import annotations

import pickle
import random
import sys
from pathlib import Path

import pytest

from linter.engine import intervals as iv, rangelist, simple_cut
from linter.engine.rangelist import RangeList, held, intersect, is_long, subtract

ROOT = Path(__file__).resolve().parents[2]


def _ranges(rnd: random.Random, count: int, top: int = 70_000) -> iv.Ranges:
    points = sorted(rnd.sample(range(top), 2 * count))
    return iv.normalize((points[2 * i], points[2 * i + 1]) for i in range(count))


def _long(rnd: random.Random, count: int = 600) -> tuple[iv.Ranges, RangeList]:
    ranges = _ranges(rnd, count)
    chunked = held(ranges)
    assert type(chunked) is RangeList
    return ranges, chunked


def test_a_range_list_reads_compares_and_hashes_as_its_tuple():
    ranges, chunked = _long(random.Random(1), 300)
    assert len(chunked) == len(ranges) and bool(chunked)
    assert chunked == ranges and ranges == chunked and not chunked != ranges
    assert hash(chunked) == hash(ranges)
    assert {ranges: 1}[chunked] == 1
    assert list(chunked) == list(ranges) and tuple(chunked) == ranges
    assert [chunked[i] for i in (0, 1, 57, -1, -2)] == [ranges[i] for i in (0, 1, 57, -1, -2)]
    assert chunked[10:20] == ranges[10:20] and type(chunked[10:20]) is tuple
    assert chunked[:] is chunked and chunked[0:len(ranges)] is chunked  # (as a whole slice of a tuple)
    assert chunked + ((1, 2),) == ranges + ((1, 2),) and ((1, 2),) + chunked == ((1, 2),) + ranges
    assert ranges[5] in chunked and (chunked < ranges) is False and chunked <= ranges
    assert chunked.index(ranges[7]) == 7
    assert iv.size(chunked) == iv.size(ranges) and iv.contains(chunked, ranges[3][0])
    assert pickle.loads(pickle.dumps(chunked)) == ranges
    assert chunked != ranges[:-1] and chunked != list(ranges)
    with pytest.raises(TypeError):
        chunked + [(1, 2)]


def test_long_lists_and_only_they_are_held_and_compared_by_identity():
    rnd = random.Random(2)
    short = _ranges(rnd, rangelist.HOLD_AT_LEAST - 1)
    assert held(short) is short
    _, chunked = _long(rnd)
    assert held(chunked) is chunked
    assert is_long(chunked) and is_long(short) and not is_long(short[:8]) and not is_long(frozenset())


@pytest.mark.parametrize("seed", range(40))
def test_subtract_answers_as_intervals_subtract_to_the_object(seed):
    rnd = random.Random(seed)
    ranges, chunked = _long(rnd, rnd.choice((260, 600, 1500)))
    for _ in range(30):
        if not ranges:
            break
        taken = _ranges(rnd, rnd.randint(1, 5)) if rnd.random() < 0.8 else (rnd.choice(ranges),)
        expected = iv.subtract(ranges, taken)
        cuts: dict = {}  # (one dict per ranges taken away)
        found = subtract(chunked, taken, cuts if rnd.random() < 0.5 else None)
        assert subtract(chunked, taken, cuts) == expected  # (the chunks cut already, from the dict)
        assert found == expected and (found is chunked) == (expected is ranges)
        assert type(found) is tuple or len(found) > rangelist.SHORT_AT_MOST
        if type(found) is RangeList:
            assert all(found.chunks) and found.heads == tuple(chunk[0][0] for chunk in found.chunks)
            assert sum(map(len, found.chunks)) == found.count
        ranges, chunked = expected, found
    # A long tuple is held as it is cut.
    long_tuple = _ranges(rnd, 400)
    taken = (long_tuple[10],)
    assert type(subtract(long_tuple, taken)) is RangeList and subtract(long_tuple, ((70_001, 70_002),)) is long_tuple


def test_a_cut_of_lists_sharing_their_chunks_shares_the_rest():
    rnd = random.Random(3)
    ranges, chunked = _long(rnd, 900)
    siblings = [(iv.subtract(ranges, hole), subtract(chunked, hole)) for hole in ((ranges[3],), (ranges[700],))]
    taken = (ranges[400], ranges[401])
    cuts: dict = {}
    results = [(iv.subtract(plain, taken), subtract(mine, taken, cuts)) for plain, mine in siblings]
    for expected, found in results:
        assert found == expected
    first, second = (found for _, found in results)
    assert first is not second and any(a is b for a, b in zip(first.chunks, second.chunks) if a != first.chunks[0])


@pytest.mark.parametrize("seed", range(40))
def test_intersect_answers_as_intervals_intersect_to_the_object(seed):
    rnd = random.Random(100 + seed)
    ranges, chunked = _long(rnd, rnd.choice((300, 800)))
    others = [((0, 70_000),), ranges[4:9], _ranges(rnd, rnd.randint(1, 6)), _ranges(rnd, 40),
              iv.subtract(((0, 70_000),), (ranges[2], ranges[-3])), tuple(list(ranges)),
              (ranges[6],), (), ((ranges[0][0], ranges[-1][1]),)]
    other_ranges, other_chunked = _long(rnd, 500)
    for other, other_mine in [(o, o) for o in others] + [(other_ranges, other_chunked)]:
        for a, b, mine_a, mine_b in ((ranges, other, chunked, other_mine), (other, ranges, other_mine, chunked)):
            expected = iv.intersect(a, b)
            found = intersect(mine_a, mine_b)
            assert found == expected
            assert (found is mine_a) == (expected is a) and (found is mine_b) == (expected is b)
    assert intersect(chunked, chunked) is chunked


def _analyses(text: str) -> list:
    """Every chain's dead-rule analysis (both families where the ruleset has them), as values."""
    from linter.engine.shadow import ShadowAnalysis
    from linter.engine.universe import interface_representatives
    from linter.frontends.iptables.save import parse
    from linter.model import Family
    from linter.source import SourceFile

    document = parse(SourceFile("t.rules", text)).document
    interfaces = interface_representatives([document])
    answers: list = []
    rule_step = ShadowAnalysis._rule

    def counted(self, rule, index, pending, state):  # what goes on past each rule, and the budget spent
        going_on = rule_step(self, rule, index, pending, state)
        answers.append((index, len(going_on), state.spent))
        return going_on

    ShadowAnalysis._rule = counted
    try:
        _chains(document, interfaces, answers)
    finally:
        ShadowAnalysis._rule = rule_step
    return answers


def _chains(document, interfaces, answers: list) -> None:
    from linter.engine.shadow import ShadowAnalysis
    from linter.model import Family

    for table in document.tables:
        for family in (Family.IPV4, Family.IPV6):
            analysis = ShadowAnalysis(table, family, interfaces)
            for chain in table.chains:
                verdicts = analysis.chain(chain)
                returned = None if verdicts.returned is None else [tuple(box) for box in verdicts.returned]
                answers.append((table.name, family, chain.name, verdicts.judged, sorted(verdicts.dead),
                                sorted(verdicts.shadowed), returned))


def _with_lists(monkeypatch, hold: int | None):
    """Hold lists of ``hold`` ranges or more as RangeLists (None: never), in small chunks."""
    at_least = 10 ** 9 if hold is None else hold
    monkeypatch.setattr(rangelist, "HOLD_AT_LEAST", at_least)
    monkeypatch.setattr(simple_cut, "HOLD_AT_LEAST", at_least)
    monkeypatch.setattr(rangelist, "SHORT_AT_MOST", 3)
    monkeypatch.setattr(rangelist, "CHUNK_AT_LEAST", 2)
    monkeypatch.setattr(rangelist, "FEW", 16 if hold is None else 4)


def _mix(rules: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return generate.mix(rules)


MIXED = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:c - [0:0]
:d - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
""" + "".join(f"-A INPUT -p {'tcp' if n % 3 else 'udp'} -m multiport --dports {100 + 7 * n},{300 + 11 * n},{5000 + n} -j DROP\n"
              for n in range(30)) + "".join(f"-A INPUT -s 10.{n}.0.0/16 -j DROP\n" for n in range(12)) + """-A INPUT ! -s 10.0.0.0/8 -p tcp -j c
-A INPUT -p tcp -m multiport --dports 22,80 -j d
-A INPUT -p tcp ! --dport 443 -j DROP
-A INPUT -p udp -m multiport --dports 53,123 -j ACCEPT
-A INPUT -m limit --limit 1/s -j LOG
-A INPUT -p tcp -m multiport --dports 150,157 -j DROP
-A INPUT -s 10.3.0.0/16 -j DROP
-A c -p tcp -m multiport --dports 8080,8443 -j DROP
-A c -s 192.168.0.0/16 -j RETURN
-A c -p tcp --dport 1000:2000 -j DROP
-A d -p tcp --dport 80 -j RETURN
-A d -s 172.16.0.0/12 -j DROP
-A d -j RETURN
-A FORWARD -i eth0 -p tcp -m multiport --dports 1,2,3 -j DROP
-A FORWARD -p udp -m multiport --dports 4,5,6 -j DROP
-A FORWARD -j c
COMMIT
"""


@pytest.mark.parametrize("hold", [2, 6])
@pytest.mark.parametrize("case", ["mixed", "mix 1500", "mix 3000 over budget"])
def test_the_dead_rule_analysis_is_the_same_with_range_lists(monkeypatch, case, hold):
    from linter.engine import shadow

    text = MIXED if case == "mixed" else _mix(int(case.split()[1]))
    if case.endswith("over budget"):  # the budget runs out part of the way through INPUT
        monkeypatch.setattr(shadow, "SHADOW_BUDGET", 20_000)
        monkeypatch.setattr(shadow, "SHADOW_BUDGET_PER_RULE", 0)
        from linter.engine import decided_lane  # (which would judge INPUT: the general path's budget is tested here)
        monkeypatch.setattr(decided_lane, "judge", lambda analysis, chain: None)
    _with_lists(monkeypatch, None)
    plain = _analyses(text)
    _with_lists(monkeypatch, hold)
    made: list = []
    original = rangelist._chunked

    def counted(ranges):
        made.append(len(ranges))
        return original(ranges)

    monkeypatch.setattr(rangelist, "_chunked", counted)
    assert _analyses(text) == plain
    assert made or hold > 2 and case == "mixed"  # (the lists were held; MIXED's long runs are dispatch segments)
    if case.endswith("over budget"):
        judged = [answer[3] for answer in plain if len(answer) == 7]
        assert False in judged and True in judged
