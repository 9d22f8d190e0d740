"""Held source cuts (engine/heldcuts.py): the walk decides exactly what cutting at every rule
decides, in the same order, with fewer copies of long source lists."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import heldcuts, intervals as iv  # noqa: E402
from linter.engine.exposure import ExposureAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402


def mixed_rules(seed: int, rules: int = 300) -> str:
    """A random mix in the shape of the benchmark's: source /24 drops in INPUT between port
    drops and jumps (by protocol or source /16) into chains of drops and early returns, and
    some rules the held boxes must be settled for (a /8 drop, a LOG by source, an accept)."""
    rnd = random.Random(seed)
    chains = [f"CHAIN-{index}" for index in range(8)]

    def network(length: int = 24) -> str:
        second = rnd.choice([10, 20, 30, 40])  # a few /16s, so jumps by /16 meet dropped /24s
        return f"{rnd.randint(1, 4)}.{second}.{0 if length == 16 else rnd.randint(0, 255)}.0/{length}"

    def ports() -> str:
        chosen = ",".join(str(p) for p in sorted(rnd.sample(range(1024, 1100), 3)))
        return f"-p {rnd.choice(['tcp', 'udp'])} -m multiport --dports {chosen}"

    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    per_chain: dict[str, list[str]] = {chain: [] for chain in chains}
    for _ in range(rules):
        kind = rnd.random()
        if kind < 0.5:
            body.append(f"-A INPUT -s {network()} -j DROP")
        elif kind < 0.7:
            body.append(f"-A INPUT {ports()} -j DROP")
        elif kind < 0.72:
            body.append(f"-A INPUT -s {rnd.randint(1, 4)}.0.0.0/8 -j LOG")
        elif kind < 0.73:
            body.append(f"-A INPUT -s {rnd.randint(5, 9)}.0.0.0/8 -j DROP")
        elif kind < 0.74:
            body.append(f"-A INPUT -p tcp -m tcp --dport {rnd.randint(1024, 1100)} -j ACCEPT")
        else:
            how = f"-p {rnd.choice(['tcp', 'udp'])}" if rnd.random() < 0.5 else f"-s {network(16)}"
            body.append(f"-A INPUT {how} -j {rnd.choice(chains)}")
    for _ in range(rules):
        chain = rnd.choice(chains)
        kind = rnd.random()
        if kind < 0.6:
            per_chain[chain].append(f"-A {chain} -s {network()} -j DROP")
        elif kind < 0.8:
            per_chain[chain].append(f"-A {chain} {ports()} -j DROP")
        else:
            per_chain[chain].append(f"-A {chain} -s {network()} -j RETURN")
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"]
    for chain in chains:
        body += per_chain[chain]
    heads = [":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"] + [f":{c} - [0:0]" for c in chains]
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


def _walked(text: str) -> list:
    """Every result of the walk in order: box values, outcome, and the rules of its path."""
    analysis = ExposureAnalysis([ruleset(text)], loopback=False)
    out = []
    for result in analysis.results(Family.IPV4):
        box = result.box
        path = tuple((s.event, s.chain.name, s.rule.span.line if s.rule is not None else None, s.detail)
                     for s in box.trail)
        out.append((tuple(box[:14]), box.assumptions, path, result.verdict))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_held_cuts_walk_as_cutting_at_every_rule(monkeypatch, seed):
    text = mixed_rules(seed)
    monkeypatch.setattr(heldcuts, "LONG", 4)  # hold the short lists of a small ruleset too
    copies = []
    real_subtract = iv.subtract
    monkeypatch.setattr(iv, "subtract", lambda a, b: (copies.append(len(a)) if len(a) > 4 else None) or real_subtract(a, b))
    held = _walked(text)
    held_copies = len(copies)
    monkeypatch.setattr(heldcuts, "LONG", 10**9)  # never held: every rule cuts
    copies.clear()
    assert _walked(text) == held
    assert held_copies < len(copies) / 2  # (and it held: far fewer long lists were copied)


def test_without_cuts_holes_out_as_subtract():
    rnd = random.Random(7)
    for _ in range(200):
        ranges, at = [], 0
        for _ in range(rnd.randint(1, 40)):
            at += rnd.randint(2, 9)
            ranges.append((at, at + rnd.randint(0, 12)))
            at = ranges[-1][1]
        ranges = tuple(ranges)
        holes = []
        for lo, hi in ranges:
            cut = rnd.randint(lo, hi)
            while cut <= hi and rnd.random() < 0.5:
                end = rnd.randint(cut, hi)
                holes.append((cut, end))
                cut = end + rnd.randint(1, 3)
        assert iv.without_inside(ranges, holes) == iv.subtract(ranges, iv.normalize(holes))


def test_only_plain_source_rules_are_held():
    rules = ruleset("*filter\n:INPUT DROP [0:0]\n"
                    "-A INPUT -s 10.0.0.0/8 -j DROP\n"
                    "-A INPUT ! -s 10.0.0.0/8 -j DROP\n"
                    "-A INPUT -s 10.0.0.0/8 -p tcp -j DROP\n"
                    "-A INPUT -d 10.0.0.0/8 -j DROP\nCOMMIT\n").tables[0].chains[0].rules
    assert heldcuts.source_only(rules[0]) == (Family.IPV4, ((0x0A000000, 0x0AFFFFFF),))
    assert [heldcuts.source_only(rule) for rule in rules[1:]] == [None, None, None]


@pytest.mark.parametrize("seed", range(6))
def test_a_long_list_met_by_one_range_gives_what_intersect_gives(seed):
    """cut_by_source's bisections of a long tuple by one range (heldcuts._in_range): intersect's
    answer, by value and by identity (the list itself where all of it is inside, the range's
    own tuple where the answer equals it)."""
    rnd = random.Random(seed)
    for _ in range(300):
        ranges, low = [], rnd.randint(0, 50)
        for _ in range(rnd.randint(65, 120)):
            high = low + rnd.randint(0, 6)
            ranges.append((low, high))
            low = high + rnd.randint(2, 8)
        src = tuple(ranges)
        top = src[-1][1] + 20
        lo = rnd.choice([rnd.randint(0, top), src[rnd.randrange(len(src))][0], src[rnd.randrange(len(src))][1] + 1])
        hi = rnd.choice([lo, lo + rnd.randint(0, 12), lo + rnd.randint(0, top), src[rnd.randrange(len(src))][1]])
        if rnd.random() < 0.05:
            lo, hi = src[0][0] - rnd.randint(0, 3), src[-1][1] + rnd.randint(0, 3)  # (all of it inside)
        if hi < lo:
            lo, hi = hi, lo
        wanted = ((lo, hi),)
        found = heldcuts._in_range(src, lo, hi, wanted)
        expected = iv.intersect(src, wanted)
        assert found == expected
        assert (found is src) == (expected is src) and (found is wanted) == (expected is wanted)
