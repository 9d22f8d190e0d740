"""settle_choices' look-ups (engine/choices.py: refused boxes found through their united
destinations and ports, certain boxes alike but for their sources found by value first) give
what the definition gives, asked of every pair: random tables of boxes shaped like kube-proxy's
(one port, one address, objects shared or only equal) mixed with wide, long and empty lists,
other protocols, interfaces, states, source ports and both families."""

from __future__ import annotations

import random

import pytest

from linter.engine import choices
from linter.engine.choices import _ByPorts, is_choice, settle_choices
from linter.engine.overlap import meets
from linter.engine.paths import Result
from linter.engine.space import Assumption, Box
from linter.engine.walk import Outcome
from linter.model import Family, OpaqueMatch

STATISTIC = OpaqueMatch("statistic", "-m statistic --mode random --probability 0.5")
NUMGEN = OpaqueMatch("numgen random", "numgen random 0")
RECENT = OpaqueMatch("recent", "-m recent --rcheck")


def _meet_but_sources(a: Box, b: Box) -> bool:
    """Whether two boxes share connections as the client sends them but for their sources (the
    fields settle_choices compares), asked directly."""
    return (a.family is b.family and meets(a.proto, b.proto) and meets(a.dport, b.dport) and meets(a.dst, b.dst)
            and bool(a.iif & b.iif) and bool(a.state & b.state) and meets(a.sport, b.sport))


def _meet(a: Box, b: Box) -> bool:
    return _meet_but_sources(a, b) and meets(a.src, b.src)


def settled_by_definition(results: list, accept) -> list:
    """What settle_choices says, pair by pair: a chosen accept that a refused box meets stays;
    one no other assumption makes possible that a certain accept meets goes; the rest lose their
    choices."""
    refused = [r.box for r in results if r.verdict is not accept]
    certain = [r.box for r in results if r.verdict is accept and not r.box.possible]
    out = []
    for result in results:
        box = result.box
        if result.verdict is not accept or not any(a.matched and is_choice(a.match) for a in box.assumptions):
            out.append(result)
            continue
        if any(_meet(box, other) for other in refused):
            out.append(result)
            continue
        rest = tuple(a for a in box.assumptions if not (a.matched and is_choice(a.match)))
        if not any(a.matched for a in rest) and any(_meet(box, other) for other in certain):
            continue
        out.append(Result(box._replace(assumptions=rest), result.verdict, result.forwarded, result.routed))
    return out


def _ranges(rng: random.Random, top: int, shared: list) -> tuple:
    roll = rng.random()
    if roll < 0.35 and shared:
        return rng.choice(shared)  # the same object as another box's
    if roll < 0.55:
        value = rng.randrange(0, 12)
        return ((value, value),)  # equal to another box's, not the same object
    if roll < 0.65:
        return ()
    if roll < 0.8:
        lo = rng.randrange(0, top)
        return ((lo, min(top, lo + rng.randrange(0, 300))),)  # wide
    # long: more ranges than the look-ups file by value (8) or hash (64)
    count = rng.choice((3, 9, 70))
    starts = sorted(rng.sample(range(0, 400, 4), count))
    return tuple((s, s + rng.randrange(0, 3)) for s in starts)


def _table(seed: int) -> list:
    rng = random.Random(seed)
    ports = [((p, p),) for p in range(8)]
    addresses = [((a, a),) for a in range(8)] + [((0, 3), (5, 5), (9, 11))]
    protos = [((6, 6),), ((17, 17),), ((6, 6), (17, 17)), ((0, 5), (7, 255))]
    sources = [((0, 40),), ((41, 100),), ((3, 3),), ((0, 2), (4, 100)), ((50, 60), (70, 80))]
    results = []
    for _ in range(rng.randrange(1, 120)):
        family = Family.IPV4 if rng.random() < 0.85 else Family.IPV6
        assumptions = []
        for match in (STATISTIC, NUMGEN, RECENT):
            if rng.random() < 0.3:
                assumptions.append(Assumption(None, match, rng.random() < 0.8))
        box = Box(family=family, proto=rng.choice(protos), sport=rng.choice((((0, 65535),), ((1024, 2000),), ((5, 5),))),
                  dport=_ranges(rng, 64, ports), src=rng.choice(sources) if rng.random() < 0.8 else _ranges(rng, 100, sources),
                  dst=_ranges(rng, 64, addresses), iif=rng.choice((frozenset({"eth0"}), frozenset({"eth1"}),
                                                                   frozenset({"eth0", "eth1"}))),
                  state=rng.choice((frozenset({"new"}), frozenset({"new", "invalid"}), frozenset({"invalid"}))),
                  assumptions=tuple(assumptions))
        if rng.random() < 0.5:
            # A service's endpoint (kube-proxy): one of a few ports and addresses, equal or the same objects.
            service = rng.randrange(0, 4)
            dport = ports[service] if rng.random() < 0.5 else ((service, service),)
            dst = addresses[service] if rng.random() < 0.5 else ((service, service),)
            box = box._replace(family=Family.IPV4, proto=protos[0] if rng.random() < 0.8 else rng.choice(protos),
                               dport=dport, dst=dst)
        verdict = Outcome.ACCEPT if rng.random() < 0.7 else rng.choice((Outcome.DROP, Outcome.REJECT))
        results.append(Result(box, verdict, rng.random() < 0.5))
    return results


def _same(got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert (a.box, a.verdict, a.forwarded, a.routed) == (b.box, b.verdict, b.forwarded, b.routed)


@pytest.mark.parametrize("seed", range(300))
@pytest.mark.parametrize("after", [4, 1])
def test_settle_choices_is_its_definition(seed, after, monkeypatch):
    monkeypatch.setattr(choices, "UNITE_AFTER", after)
    results = _table(seed)
    _same(settle_choices(results, Outcome.ACCEPT), settled_by_definition(results, Outcome.ACCEPT))


@pytest.mark.parametrize("seed", range(100))
@pytest.mark.parametrize("after, at_most", [(4, 1 << 17), (1, 1 << 17), (1, 6)])
def test_few_boxes_found_through_their_unions_are_those_that_meet(seed, after, at_most, monkeypatch):
    # The refused boxes' index with its unions (few=True) and without answer alike, box by box,
    # the unions made at once, after a few questions, or not for more than a few ranges.
    monkeypatch.setattr(choices, "UNITE_AFTER", after)
    monkeypatch.setattr(choices, "UNITE_AT_MOST", at_most)
    results = _table(1000 + seed)
    boxes = [r.box for r in results]
    held, asked = boxes[: len(boxes) // 3], boxes[len(boxes) // 3:]
    united, plain = _ByPorts(held, few=True), _ByPorts(held)
    for box in asked:
        expected = [other for other in held if _meet_but_sources(box, other)]
        assert sorted(map(id, united.near(box))) == sorted(map(id, plain.near(box))) == sorted(map(id, expected))


def test_kube_proxy_shaped_services_drop_every_chosen_endpoint():
    # Services of one cluster IP and port each: two chosen endpoints, the last one certain, and
    # refused boxes elsewhere (other ports, other addresses): every chosen accept is explained.
    results = []
    for service in range(40):
        dst, dport = ((1000 + service, 1000 + service),), ((80 + service % 3, 80 + service % 3),)
        base = Box(family=Family.IPV4, proto=((6, 6),), sport=((0, 65535),), dport=dport, src=((0, 500),), dst=dst,
                   iif=frozenset({"eth0"}), state=frozenset({"new"}))
        for endpoint in range(2):
            results.append(Result(base._replace(src=((endpoint, endpoint),),
                                                assumptions=(Assumption(None, STATISTIC, True),)), Outcome.ACCEPT, True))
        results.append(Result(base._replace(dst=((1000 + service, 1000 + service),)), Outcome.ACCEPT, True))
    results.append(Result(Box(family=Family.IPV4, proto=((6, 6),), sport=((0, 65535),), dport=((0, 79),),
                              src=((0, 500),), dst=((1000, 1040),), iif=frozenset({"eth0"}), state=frozenset({"new"})),
                          Outcome.DROP, False))
    settled = settle_choices(results, Outcome.ACCEPT)
    _same(settled, settled_by_definition(results, Outcome.ACCEPT))
    assert len(settled) == 41


def _paths_table(seed: int) -> list:
    # One path's boxes come one after another, alike but for their sources, sharing every
    # other field's object and their assumption tuple (what settle_choices reads once for a
    # run of them), the runs mixed with _table's boxes.
    rng = random.Random(seed)
    sources = [((0, 40),), ((41, 100),), ((3, 3),), ((0, 2), (4, 100)), ((50, 60), (70, 80)), ()]
    results = []
    for result in _table(seed):
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            box = result.box._replace(src=rng.choice(sources)) if rng.random() < 0.8 else result.box
            verdict = result.verdict if rng.random() < 0.9 else rng.choice((Outcome.ACCEPT, Outcome.DROP))
            results.append(Result(box, verdict, result.forwarded))
    return results


@pytest.mark.parametrize("seed", range(200))
def test_runs_of_one_paths_boxes_settle_as_defined(seed):
    results = _paths_table(5000 + seed)
    _same(settle_choices(results, Outcome.ACCEPT), settled_by_definition(results, Outcome.ACCEPT))


@pytest.mark.parametrize("seed", range(5))
def test_one_range_sources_meet_as_meets_says(seed):
    # _sources_meet places a one-range source by bisection in each box's sources: what meets()
    # says of every pair, at the ranges' edges too.
    rng = random.Random(seed)
    for _ in range(400):
        top = rng.choice((15, 255, 2**32 - 1))
        boxes = []
        for _ in range(rng.randint(0, 4)):
            count = rng.randint(0, min(6, (top + 1) // 2))
            values = sorted(rng.sample(range(top + 1), 2 * count))
            src = tuple((values[i], values[i + 1]) for i in range(0, 2 * count, 2))
            boxes.append(Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((80, 80),), src, ((1, 1),),
                             frozenset({"eth0"}), frozenset({"new"})))
        edges = [v for box in boxes for lo, hi in box.src for v in (lo - 1, lo, hi, hi + 1) if 0 <= v <= top]
        lo = rng.choice(edges) if edges and rng.random() < 0.7 else rng.randrange(top + 1)
        hi = rng.choice([v for v in edges if v >= lo] or [lo]) if rng.random() < 0.5 else rng.randint(lo, top)
        src = ((lo, hi),)
        assert choices._sources_meet(src, boxes) == any(meets(src, box.src) for box in boxes), (src, boxes)
