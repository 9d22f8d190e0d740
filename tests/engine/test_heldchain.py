"""Short chains walked by held boxes carried in (engine/heldchain.py) and parts of held boxes
decided in place (heldchain.decide_matched): the walk gives exactly what the walker's general
path gives, result by result (values, trails, assumptions, verdicts, order), and spends the
same budget; and what cutting at every rule gives."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import heldchain, heldcuts, heldrun  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import _walked, varied_rules  # noqa: E402


def short_chains(seed: int, rules: int = 400, v6: bool = False) -> str:
    """The benchmark's shape: INPUT drops source /24s between port drops and `-p tcp|udp -j
    CHAIN-N` jumps (and some by source /16) into many chains of a few rules each: source drops,
    rejects and returns, port drops on ports the boxes hold or not; and a few rules the lane
    does not take (an accept or a jump by source, a LOG, a wide drop settling the held box)."""
    rnd = random.Random(seed)
    chains = [f"CHAIN-{index}" for index in range(rules // 5)]

    def network(length: int = 24) -> str:
        first, second = rnd.randint(1, 4), rnd.choice([10, 20, 30, 40])
        third = 0 if length < 24 else rnd.randint(0, 255)
        if v6:
            return f"2001:db8:{first}{second}:{third:x}::/{length + 40}"
        return f"{first}.{second}.{third}.0/{length}"

    def ports() -> str:
        chosen = sorted(rnd.sample(range(1024, 1100), 3) + ([rnd.choice([22, 443])] if rnd.random() < 0.1 else []))
        return f"-p {rnd.choice(['tcp', 'tcp', 'udp'])} -m multiport --dports {','.join(map(str, chosen))}"

    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for _ in range(rules):
        kind = rnd.random()
        if kind < 0.5:
            body.append(f"-A INPUT -s {network()} -j DROP")
        elif kind < 0.65:
            body.append(f"-A INPUT {ports()} -j DROP")
        elif kind < 0.9:
            body.append(f"-A INPUT -p {rnd.choice(['tcp', 'tcp', 'udp'])} -j {rnd.choice(chains)}")
        else:
            body.append(f"-A INPUT -s {network(16)} -j {rnd.choice(chains)}")
    for chain in chains:
        for _ in range(rnd.randint(1, 7)):
            kind = rnd.random()
            if kind < 0.4:
                body.append(f"-A {chain} -s {network()} -j DROP")
            elif kind < 0.5:
                body.append(f"-A {chain} -s {network()} -j REJECT")
            elif kind < 0.65:
                body.append(f"-A {chain} -s {network()} -j RETURN")
            elif kind < 0.9:
                body.append(f"-A {chain} {ports()} -j DROP")
            elif kind < 0.93:
                body.append(f"-A {chain} -s {network()} -j ACCEPT")
            elif kind < 0.95:
                body.append(f"-A {chain} -s {network(16)} -j {rnd.choice(chains)}")
            elif kind < 0.97:
                body.append(f"-A {chain} -s {network(16)} -j LOG")
            else:
                body.append(f"-A {chain} -s {network(12)} -j DROP")
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT",
             "-A INPUT -p udp -m udp --dport 1050 -j ACCEPT"]
    heads = [":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"] + [f":{c} - [0:0]" for c in chains]
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


def _both_ways(monkeypatch, text: str, family: Family = Family.IPV4) -> dict:
    """The walk as shipped (lists past 16 ranges held), the same without this module's lanes,
    and with nothing held; how many carried walks the lane took and declined, and how many
    matched parts it decided (the runs engine/heldrun.py walks in one loop left to the walker)."""
    monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
    taken = {"walked": 0, "declined": 0, "decided": 0}
    walk_carried, decide_matched = heldchain.walk_carried, heldchain.decide_matched

    def walking(*args):
        went = walk_carried(*args)
        taken["walked" if went is not None else "declined"] += 1
        return went

    def deciding(*args):
        done = decide_matched(*args)
        taken["decided"] += done
        return done
    monkeypatch.setattr(heldcuts, "LONG", 16)
    monkeypatch.setattr(heldchain, "walk_carried", walking)
    monkeypatch.setattr(heldchain, "decide_matched", deciding)
    lanes = _walked(text, family)
    monkeypatch.setattr(heldchain, "walk_carried", lambda *args: None)
    monkeypatch.setattr(heldchain, "decide_matched", lambda *args: False)
    general = _walked(text, family)
    monkeypatch.setattr(heldcuts, "LONG", 10**9)
    never = _walked(text, family)
    return {"lanes": lanes, "general": general, "never": never, **taken}


@pytest.mark.parametrize("seed", range(8))
def test_short_chains_walk_as_the_general_path(monkeypatch, seed):
    ways = _both_ways(monkeypatch, short_chains(seed))
    assert ways["lanes"] == ways["general"]
    assert ways["lanes"] == ways["never"]
    assert ways["walked"] > 3 and ways["declined"] > 0 and ways["decided"] > 10


@pytest.mark.parametrize("seed", [0, 3, 7])
def test_ipv6_short_chains_walk_as_the_general_path(monkeypatch, seed):
    ways = _both_ways(monkeypatch, short_chains(seed, v6=True), Family.IPV6)
    assert ways["lanes"][0][0]  # (the rules are IPv6 ones: something was decided)
    assert ways["lanes"] == ways["general"]
    assert ways["walked"] > 0


@pytest.mark.parametrize("seed", range(4))
def test_mixed_and_varied_rules_walk_as_the_general_path(monkeypatch, seed):
    decided = 0
    for text in (mixed_rules(seed, 400), varied_rules(seed, 300)):
        ways = _both_ways(monkeypatch, text)
        assert ways["lanes"] == ways["general"]
        decided += ways["decided"]
    assert decided > 0


def _walks_counted(monkeypatch) -> list[dict]:
    """Each evaluation's SharedWalks.walks (shape -> subtrees walked), read when it ends."""
    from linter.engine import paths, shapewalk
    counted = []
    real = paths.PathEvaluator._evaluate

    def evaluating(self, *args, **kwargs):
        try:
            return real(self, *args, **kwargs)
        finally:
            if isinstance(self.walker.shared, shapewalk.SharedWalks):
                counted.append(dict(self.walker.shared.walks))
    monkeypatch.setattr(paths.PathEvaluator, "_evaluate", evaluating)
    return counted


@pytest.mark.parametrize("seed", range(5))
def test_chains_entered_straight_from_the_jump_walk_and_count_as_entered(monkeypatch, seed):
    """heldchain.enter_carried against Walker.enter with the carry: the same results, budget and
    cuts, and engine/shapewalk.py counts the same walks of each shape."""
    from tests.engine.test_passthrough import _walked as walked_with_cuts
    taken = []
    real = heldchain.enter_carried

    def entering(*args):
        back = real(*args)
        taken.append(back is not None)
        return back
    monkeypatch.setattr(heldcuts, "LONG", 16)
    for text in (short_chains(seed), mixed_rules(seed, 400)):
        counted = _walks_counted(monkeypatch)
        monkeypatch.setattr(heldchain, "enter_carried", entering)
        straight = walked_with_cuts(text), counted[:]
        counted.clear()
        monkeypatch.setattr(heldchain, "enter_carried", lambda *args: None)
        entered = walked_with_cuts(text), counted[:]
        assert straight == entered
    assert sum(taken) > 3


def test_plans_read_protocol_misses_as_the_quick_tests(monkeypatch):
    """_plan_of's rules led by a protocol match every entering box lies outside (their quick
    tests not built) are taken, and the walk equals the one where the tests are built for all."""
    from linter.engine import allmiss
    real, taken = allmiss.protocol_missed, []

    def counting(*args):
        taken.append(real(*args))
        return taken[-1]
    for seed in range(6):
        monkeypatch.setattr(heldcuts, "LONG", 8)
        monkeypatch.setattr(heldchain, "protocol_missed", counting)
        lane = _walked(short_chains(seed))
        monkeypatch.setattr(heldchain, "protocol_missed", lambda *args: False)
        assert _walked(short_chains(seed)) == lane
        monkeypatch.undo()
    assert sum(taken) > 3
