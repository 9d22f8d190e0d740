"""Jumps that carry held boxes' holes in and out (engine/heldjumps.py), dispatch runs that cut
held boxes only by their keys (engine/heldsegments.py) and coalesce of held boxes
(engine/coalesce.py): the walk gives exactly what cutting at every rule gives, result by result
(values, trails, assumptions, verdicts, order), and spends the same budget."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import heldcuts, heldjumps, heldsegments  # noqa: E402
from linter.engine.exposure import ExposureAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402


def varied_rules(seed: int, rules: int = 300, v6: bool = False, runs: bool = False) -> str:
    """A random mix whose jumps are not all plain: by interface, by state, by an opaque match
    (assumptions), gotos, chains that jump on, returns by port, loops, sources of another
    family; in IPv6 too."""
    rnd = random.Random(seed)
    chains = [f"CHAIN-{index}" for index in range(10)]

    def network(length: int = 24) -> str:
        first, second = rnd.randint(1, 4), rnd.choice([10, 20, 30, 40])
        if v6:
            return f"2001:db8:{first}{second}:{0 if length == 16 else rnd.randint(1, 255):x}::/{length + 40}"
        return f"{first}.{second}.{0 if length == 16 else rnd.randint(0, 255)}.0/{length}"

    def ports() -> str:
        chosen = ",".join(str(p) for p in sorted(rnd.sample(range(1024, 1100), 3)))
        return f"-p {rnd.choice(['tcp', 'udp'])} -m multiport --dports {chosen}"

    def jump_how() -> str:
        if rnd.random() < 0.01:
            return "-m recent --name seen --rcheck"  # (each doubles the paths after it: a few)
        return rnd.choice([
            "-p tcp", "-p udp", f"-s {network(16)}", "-i eth0", "-i eth1",
            "-m conntrack --ctstate NEW", "-p tcp -m conntrack --ctstate NEW,INVALID",
            "-p tcp -m tcp --dport 22", "", "-p tcp ! --syn",
        ])

    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    per_chain: dict[str, list[str]] = {chain: [] for chain in chains}
    for _ in range(rules):
        kind = rnd.random()
        if runs and kind < 0.05:
            # A run of rules on sources alone: a dispatch segment (engine/heldsegments.py).
            for _ in range(rnd.randint(8, 14)):
                target = rnd.choice(["DROP", "DROP", "RETURN", rnd.choice(chains)])
                body.append(f"-A INPUT -s {network(rnd.choice([24, 24, 16]))} -j {target}")
        elif kind < 0.45:
            body.append(f"-A INPUT -s {network()} -j DROP")
        elif kind < 0.6:
            body.append(f"-A INPUT {ports()} -j DROP")
        elif kind < 0.62:
            body.append(f"-A INPUT -p tcp -m tcp --dport {rnd.randint(1024, 1100)} -j ACCEPT")
        else:
            body.append(f"-A INPUT {jump_how()} -{rnd.choice('jjjjg')} {rnd.choice(chains)}")
    for position in range(rules):
        chain = rnd.choice(chains)
        kind = rnd.random()
        if kind < 0.5:
            per_chain[chain].append(f"-A {chain} -s {network()} -j DROP")
        elif kind < 0.65:
            per_chain[chain].append(f"-A {chain} {ports()} -j DROP")
        elif kind < 0.8:
            per_chain[chain].append(f"-A {chain} -s {network()} -j RETURN")
        elif kind < 0.85:
            per_chain[chain].append(f"-A {chain} -p tcp -m tcp --dport 22 -j RETURN")
        elif kind < 0.96:
            per_chain[chain].append(f"-A {chain} -p tcp -m tcp --dport 443 -j ACCEPT")
        else:
            # Jumps on, to a chain after this one (and a few back: loops the walk goes past).
            index = chains.index(chain)
            target = chains[rnd.randint(index + 1, len(chains) - 1)] if index + 1 < len(chains) and rnd.random() < 0.95 \
                else rnd.choice(chains)
            per_chain[chain].append(f"-A {chain} {jump_how()} -j {target}")
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"]
    for chain in chains:
        body += per_chain[chain]
    heads = [":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"] + [f":{c} - [0:0]" for c in chains]
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


def _walked(text: str, family: Family = Family.IPV4) -> tuple[list, int]:
    """Every result of the walk in order (box values, assumptions, the rules of its path,
    verdict) and the budget spent (within the budget: past it, which of several ways through
    the rules a result names depends on how boxes were split, held or not)."""
    analysis = ExposureAnalysis([ruleset(text)], loopback=False)
    out = []
    assert not analysis.results(family) or not analysis.cuts
    for result in analysis.results(family):
        box = result.box
        path = tuple((s.event, s.chain.name, s.rule.span.line if s.rule is not None else None, s.detail)
                     for s in box.trail)
        assumed = tuple((a.rule.span.line, a.matched) for a in box.assumptions)
        out.append((tuple(box[:14]), assumed, path, result.verdict))
    return out, analysis.spent


def _three_ways(monkeypatch, text: str, family: Family = Family.IPV4, long: int = 16) -> dict:
    """The walk with held cuts, jumps carrying holes and held coalesce (as shipped, holding lists
    past ``long`` ranges); held cuts without the jumps; nothing held. Counts of jumps taken so."""
    carried = []
    real = heldjumps.jump_holding

    def counting(*args):
        went = real(*args)
        carried.append(went is not None)
        return went
    monkeypatch.setattr(heldjumps, "jump_holding", counting)
    monkeypatch.setattr(heldcuts, "LONG", long)
    full = _walked(text, family)
    monkeypatch.setattr(heldjumps, "jump_holding", lambda *args: None)
    no_jumps = _walked(text, family)
    monkeypatch.setattr(heldcuts, "LONG", 10**9)
    never = _walked(text, family)
    return {"full": full, "no_jumps": no_jumps, "never": never, "carried": sum(carried)}


@pytest.mark.parametrize("seed", range(6))
def test_carried_jumps_walk_as_cutting_at_every_rule(monkeypatch, seed):
    ways = _three_ways(monkeypatch, mixed_rules(seed, 400))
    assert ways["full"] == ways["never"]
    assert ways["no_jumps"] == ways["never"]
    assert ways["carried"] > 10  # (the jumps did carry holes)


@pytest.mark.parametrize("seed", [0, 1, 2, 4, 6, 9, 11])  # (within the budget)
def test_varied_jumps_walk_as_cutting_at_every_rule(monkeypatch, seed):
    ways = _three_ways(monkeypatch, varied_rules(seed, 300))
    assert ways["full"] == ways["never"]
    assert ways["no_jumps"] == ways["never"]
    assert ways["carried"] > 0


@pytest.mark.parametrize("seed", [0, 2, 5, 9, 11])
def test_ipv6_jumps_walk_as_cutting_at_every_rule(monkeypatch, seed):
    ways = _three_ways(monkeypatch, varied_rules(seed, 300, v6=True), Family.IPV6)
    assert ways["full"][0]  # (the rules are IPv6 ones: something was decided)
    assert ways["full"] == ways["never"]
    assert ways["carried"] > 0


@pytest.mark.parametrize("seed", [0, 2, 4, 5, 9])
def test_source_runs_walk_as_cutting_at_every_rule(monkeypatch, seed):
    segments = []
    real = heldsegments.segment_holding

    def counting(*args):
        went = real(*args)
        segments.append(went is not None)
        return went
    monkeypatch.setattr(heldsegments, "segment_holding", counting)
    ways = _three_ways(monkeypatch, varied_rules(seed, 250, runs=True))
    assert ways["full"] == ways["never"]
    assert any(segments)  # (held boxes went through dispatch runs uncut)


@pytest.mark.parametrize("long", [2, 8, 9, 12])
def test_short_held_lists_walk_as_cutting_at_every_rule(monkeypatch, long):
    # Lists held from a few ranges on: once settled they may be short enough for coalesce to
    # compare by value (HeldCuts.coalesce settles such a box first).
    ways = _three_ways(monkeypatch, varied_rules(11, 300), long=long)
    assert ways["full"] == ways["never"]
