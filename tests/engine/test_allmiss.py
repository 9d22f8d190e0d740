"""Rules every pending box misses on the quick tests (engine/allmiss.py): the walk gives exactly
what applying them one box at a time gives, result by result (values, trails, assumptions,
verdicts, order), and spends the same budget, held boxes or not, within and past the budget."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import allmiss, budget as budget_module, heldcuts, heldrun, walk  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import varied_rules  # noqa: E402
from tests.engine.test_passthrough import _walked, small_chains  # noqa: E402


def _both_ways(monkeypatch, text: str, family: Family = Family.IPV4) -> tuple:
    """(the walk with the lane, the walk without it, how many rules the lane took); the runs
    engine/heldrun.py walks in one loop are left to this lane (tests/engine/test_heldrun.py)."""
    monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
    taken = []
    real = allmiss.missed_by_all

    def counting(*args):
        went = real(*args)
        taken.append(went is not None)
        return went
    monkeypatch.setattr(walk, "missed_by_all", counting)
    lane = _walked(text, family)
    monkeypatch.setattr(walk, "missed_by_all", lambda *args: None)
    return lane, _walked(text, family), sum(taken)


@pytest.mark.parametrize("seed", range(5))
def test_rules_missed_by_every_box_walk_as_box_by_box(monkeypatch, seed):
    lane, walked, taken = _both_ways(monkeypatch, small_chains(seed))
    assert lane == walked
    assert taken > 0


@pytest.mark.parametrize("seed", range(4))
def test_held_boxes_walk_as_box_by_box(monkeypatch, seed):
    """Held source lists (short ones held too, so the small tables hold some): the same."""
    monkeypatch.setattr(heldcuts, "LONG", 8)
    for text in (mixed_rules(seed, 400), varied_rules(seed, 300)):
        lane, walked, taken = _both_ways(monkeypatch, text)
        assert lane == walked
        assert taken > 0


@pytest.mark.parametrize("seed", [0, 2])
def test_ipv6_walks_as_box_by_box(monkeypatch, seed):
    for text in (small_chains(seed, v6=True), varied_rules(seed, 300, v6=True)):
        lane, walked, taken = _both_ways(monkeypatch, text, Family.IPV6)
        assert lane[0][0] and lane == walked
        assert taken > 0


@pytest.mark.parametrize("seed", [0, 5])
def test_past_the_budget_the_lane_walks_as_box_by_box(monkeypatch, seed):
    """Budgets the walk crosses at every stage of it: the same results, the same cut."""
    text = varied_rules(seed, 300)
    monkeypatch.setattr(budget_module, "OPS_PER_RULE", 0)
    spent = _walked(text)[1]
    for limit in range(0, spent, max(1, spent // 10)):
        monkeypatch.setattr(budget_module, "MIN_OPS", limit)
        lane, walked, _ = _both_ways(monkeypatch, text)
        assert lane == walked


@pytest.mark.parametrize("seed", range(4))
def test_the_quick_tests_read_in_place_are_quickmiss_misses(seed):
    """missed_by_all reads quickmiss.misses in place: it takes a rule exactly where every box
    misses it by ``misses`` (random boxes of one or several ranges, states, NAT fields)."""
    import random
    from linter.engine.quickmiss import miss_tests, misses
    from linter.engine.space import ALL_STATES, Box
    from tests.engine.helpers import ruleset
    rnd = random.Random(seed)
    parts = ["-s 10.1.{}.0/24", "! -s 10.2.{}.0/24", "-d 10.3.{}.0/24", "-s 10.4.0.0/16,10.5.{}.0/24",
             "-p tcp", "-p udp", "-p tcp -m multiport --dports 2{},80", "-p udp --sport 5{}",
             "-m conntrack --ctstate NEW", "-i eth0"]
    lines = ["-A INPUT " + " ".join(rnd.choice(parts).format(rnd.randint(0, 9)) for _ in range(rnd.randint(1, 2)))
             + rnd.choice([" -j DROP", " -j ACCEPT", " -j RETURN"]) for _ in range(120)]
    rules = ruleset("*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n").tables[0].chain("INPUT").rules

    def ranges(low: int, high: int):
        cuts = sorted(rnd.sample(range(low, high), 4))
        return ((cuts[0], cuts[1]),) if rnd.random() < 0.6 else ((cuts[0], cuts[1]), (cuts[2] + 1, cuts[3]))

    def box() -> Box:
        net = (10 << 24) | (rnd.randint(0, 5) << 16)
        return Box(Family.IPV4, rnd.choice([((6, 6),), ((17, 17),), ((0, 255),), ((6, 6), (17, 17))]),
                   ranges(0, 65535), ranges(0, 100), ranges(net, net + 4 * 256), ranges(net, net + 4 * 256),
                   frozenset({"eth0"}), rnd.choice([ALL_STATES, frozenset({"new"})]),
                   nat_dport=None if rnd.random() < 0.9 else ((80, 80),))
    taken = 0
    for rule in rules:
        tests = miss_tests(rule)
        for _ in range(6):
            pending = [box() for _ in range(rnd.randint(1, 3))]
            went = allmiss.missed_by_all(walk.Walker(), None, rule, pending, ())
            expected = tests is not None and all(
                misses(b, tests) and not (len(b.state) > 1 and allmiss.has_path_decided(rule)) for b in pending)
            assert (went is not None) == expected
            if went is not None:
                assert went == pending
                taken += 1
    assert taken > 20


@pytest.mark.parametrize("seed", range(4))
def test_protocol_missed_answers_only_where_every_box_misses_does(seed):
    """allmiss.protocol_missed (held_run's test of a rule led by a protocol match) says True only
    where every_box_misses(pending, miss_tests(rule), rule) says True, and says it often."""
    import random
    from linter.engine.quickmiss import miss_tests
    from linter.engine.space import ALL_STATES, Box
    from tests.engine.helpers import ruleset
    rnd = random.Random(seed)
    parts = ["-p tcp", "-p udp", "-p icmp", "! -p udp", "-p tcp -m multiport --dports 2{},80", "-p udp --sport 5{}",
             "-p udp -m conntrack --ctstate NEW", "-m conntrack --ctstate NEW -p udp", "-s 10.1.{}.0/24 -p udp"]
    lines = ["-A INPUT " + rnd.choice(parts).format(rnd.randint(0, 9)) + rnd.choice([" -j DROP", " -j RETURN"])
             for _ in range(120)]
    rules = ruleset("*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n").tables[0].chain("INPUT").rules

    def box() -> Box:
        proto = rnd.choice([((6, 6),), ((17, 17),), ((0, 255),), ((6, 6), (17, 17)), ((1, 1), (6, 6))])
        return Box(Family.IPV4, proto, ((0, 65535),), ((22, 22),), ((1, 9),), ((1, 9),), frozenset({"eth0"}),
                   rnd.choice([ALL_STATES, frozenset({"new"})]))
    taken = declined = 0
    for rule in rules:
        for _ in range(8):
            pending = [box() for _ in range(rnd.randint(1, 3))]
            expected = (tests := miss_tests(rule)) is not None and allmiss.every_box_misses(pending, tests, rule)
            if allmiss.protocol_missed(pending, rule):
                assert expected
                taken += 1
            else:
                declined += expected
    assert taken > 100


@pytest.mark.parametrize("seed", range(3))
def test_held_runs_with_and_without_protocol_missed_walk_alike(monkeypatch, seed):
    """held_run's protocol lane taken, the walk equal to the one without it."""
    monkeypatch.setattr(heldcuts, "LONG", 8)
    calls = []
    real = allmiss.protocol_missed

    def counting(*args):
        calls.append(real(*args))
        return calls[-1]
    for text in (mixed_rules(seed, 400), varied_rules(seed, 300)):
        monkeypatch.setattr(heldrun, "protocol_missed", counting)
        lane = _walked(text)
        monkeypatch.setattr(heldrun, "protocol_missed", lambda *args: False)
        assert _walked(text) == lane
    assert sum(calls) > 10
