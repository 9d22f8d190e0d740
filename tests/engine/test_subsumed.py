"""engine/subsumed.drop_subsumed: an accept that only assumed more than another accept of the
same box is dropped, and only then (the results grouped by DNAT target first give the same
answer as comparing every box with every other)."""

from __future__ import annotations

import random

from linter.engine.paths import Result
from linter.engine.space import Assumption, Box
from linter.engine.choices import settle_choices
from linter.engine.subsumed import assumed_match, drop_subsumed, settle_results
from linter.engine.walk import Outcome
from linter.model import Family, OpaqueMatch, Rule, Span, Verdict, VerdictKind

FULL = ((0, 2**32 - 1),)
SPAN = Span("t.rules", 1, 1)
MARK = Rule(matches=(OpaqueMatch("mark", "--mark 0x4000"),), verdict=Verdict(VerdictKind.ACCEPT), span=SPAN)
PICK = Rule(matches=(OpaqueMatch("statistic", "--mode random --probability 0.5"),), verdict=Verdict(VerdictKind.JUMP, "A"),
            span=SPAN)


def box(dport=80, nat_dst=None, assumptions=()):
    return Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((dport, dport),), FULL, FULL, frozenset({"eth0"}),
               frozenset({"new"}), nat_dst=nat_dst, assumptions=assumptions)


def assumed(rule, matched=True):
    return (Assumption(rule, rule.matches[0], matched),)


def reference(results: list) -> list:
    """What drop_subsumed returned before it grouped by DNAT target: every accepted box
    keyed whole, each assumed accept compared with the others of its key."""
    assumed_sets: dict[tuple, list[frozenset]] = {}
    keyed = []
    for result in results:
        b = result.box
        if result.verdict is not Outcome.ACCEPT:
            keyed.append(None)
            continue
        key = (b.family, b.proto, b.sport, b.dport, b.src, b.dst, b.iif, b.state, b.local, b.nat_dst,
               b.nat_dport, result.forwarded, b.oif)
        matched = frozenset((id(a.rule), id(a.match)) for a in b.assumptions if a.matched)
        assumed_sets.setdefault(key, []).append(matched)
        keyed.append((key, matched))
    kept = []
    for result, entry in zip(results, keyed):
        if entry is not None and entry[1]:
            others = assumed_sets[entry[0]]
            if len(others) > 1 and (frozenset() in others or len(others) <= 64 and any(o < entry[1] for o in others)):
                continue
        kept.append(result)
    return kept


def test_an_assumed_accept_of_a_box_accepted_for_certain_is_dropped():
    certain = Result(box(), Outcome.ACCEPT, False)
    marked = Result(box(assumptions=assumed(MARK)), Outcome.ACCEPT, False)
    assert drop_subsumed([marked, certain]) == [certain]


def test_assumed_accepts_of_other_boxes_or_dnat_targets_stay():
    certain = Result(box(nat_dst=((1, 1),)), Outcome.ACCEPT, True)
    other_port = Result(box(dport=81, nat_dst=((1, 1),), assumptions=assumed(MARK)), Outcome.ACCEPT, True)
    other_target = Result(box(nat_dst=((2, 2),), assumptions=assumed(PICK)), Outcome.ACCEPT, True)
    dropped = Result(box(nat_dst=((1, 1),), assumptions=assumed(MARK)), Outcome.DROP, True)
    results = [other_port, certain, other_target, dropped]
    assert drop_subsumed(results) == results


def test_fewer_assumptions_subsume_more_but_equal_ones_do_not():
    both = (Assumption(MARK, MARK.matches[0], True), Assumption(PICK, PICK.matches[0], True))
    more = Result(box(assumptions=both), Outcome.ACCEPT, False)
    fewer = Result(box(assumptions=assumed(PICK)), Outcome.ACCEPT, False)
    again = Result(box(assumptions=assumed(PICK)), Outcome.ACCEPT, False)  # an equal tuple, not the same one
    assert drop_subsumed([more, fewer, again]) == [fewer, again]
    # Assumed not to match: nothing assumed matched, as good as certain.
    not_matched = Result(box(assumptions=assumed(MARK, False)), Outcome.ACCEPT, False)
    assert drop_subsumed([more, fewer, not_matched, again]) == [not_matched]


def test_grouped_by_dnat_target_it_drops_what_comparing_every_box_drops():
    rng = random.Random(14)
    rules = [MARK, PICK, Rule(matches=(OpaqueMatch("recent", "--rcheck"),), verdict=Verdict(VerdictKind.ACCEPT), span=SPAN)]
    tuples = [()] + [tuple(Assumption(rule, rule.matches[0], rng.random() < 0.8) for rule in rng.sample(rules, k))
                     for k in (1, 1, 2, 2, 3) for _ in range(3)]
    long_target = tuple((n * 4, n * 4 + 1) for n in range(12))  # a long list: grouped by identity
    for _ in range(400):
        results = []
        for _ in range(rng.randrange(1, 30)):
            nat = rng.choice([None, ((1, 1),), ((2, 2),), long_target])
            results.append(Result(box(dport=rng.choice((22, 80)), nat_dst=nat, assumptions=rng.choice(tuples)),
                                  rng.choice((Outcome.ACCEPT, Outcome.ACCEPT, Outcome.DROP)), nat is not None))
        assert drop_subsumed(results) == reference(results)


def test_settle_results_is_settle_choices_after_drop_subsumed():
    """settle_results' one pass (no accept assumed a match: the results as they are) gives what
    the two passes give, on random results where it is taken (nothing assumed, or assumptions
    none of which matched, or only refusals assuming) and where it is not."""
    rng = random.Random(1411)
    rules = [MARK, PICK]
    tuples = [()] + [tuple(Assumption(rule, rule.matches[0], matched) for rule in rng.sample(rules, k))
                     for k in (1, 2) for matched in (False, True) for _ in range(2)]
    taken = 0
    for _ in range(600):
        pool = rng.choice(([()], [(), tuples[1]], tuples))
        results = []
        for _ in range(rng.randrange(0, 25)):
            verdict = rng.choice((Outcome.ACCEPT, Outcome.ACCEPT, Outcome.DROP))
            assumptions = rng.choice(tuples if verdict is Outcome.DROP and rng.random() < 0.3 else pool)
            results.append(Result(box(dport=rng.choice((22, 80)), assumptions=assumptions), verdict, False))
        expected = settle_choices(drop_subsumed(results), Outcome.ACCEPT)
        got = settle_results(results)
        assert got == expected
        if not assumed_match(results, Outcome.ACCEPT):
            taken += 1
            assert got is results and expected is results
    assert 100 < taken < 550
