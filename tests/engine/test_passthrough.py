"""Chains every entering box passes through untouched (engine/passthrough.py): the walk gives
exactly what walking them rule by rule gives, result by result (values, trails, assumptions,
verdicts, order), and spends the same budget; chains the lane does not cover are walked."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import budget as budget_module, passthrough, walk  # noqa: E402
from linter.engine.exposure import ExposureAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402


def small_chains(seed: int, rules: int = 200, v6: bool = False) -> str:
    """INPUT jumping by source network, protocol, interface, state or an opaque match into many
    chains of a few rules each: drops and returns by source, port drops, jumps on, and rules the
    lane leaves to the walk (by interface, by state, a LOG)."""
    rnd = random.Random(seed)
    chains = [f"C{index}" for index in range(40)]

    def network(length: int = 24) -> str:
        first, second = rnd.randint(1, 12), rnd.choice([10, 20, 30, 40, 50])
        if v6:
            return f"2001:db8:{first}{second}:{0 if length == 16 else rnd.randint(1, 255):x}::/{length + 40}"
        return f"{first}.{second}.{0 if length == 16 else rnd.randint(0, 255)}.0/{length}"

    def ports() -> str:
        chosen = ",".join(str(p) for p in sorted(rnd.sample(range(1024, 1100), 3)))
        return f"-p {rnd.choice(['tcp', 'udp'])} -m multiport --dports {chosen}"

    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for _ in range(rules):
        kind = rnd.random()
        if kind < 0.3:
            body.append(f"-A INPUT -s {network()} -j DROP")
        elif kind < 0.4:
            body.append(f"-A INPUT {ports()} -j DROP")
        else:
            how = f"-s {network(16)}" if rnd.random() < 0.6 else rnd.choice([
                "-p tcp", "-p udp", "-i eth0", "-m conntrack --ctstate NEW,INVALID", "-m recent --name x --rcheck"])
            body.append(f"-A INPUT {how} -{rnd.choice('jjjg')} {rnd.choice(chains)}")
    per_chain: dict[str, list[str]] = {}
    for index, chain in enumerate(chains):
        lines = []
        for _ in range(rnd.randint(1, 6)):
            kind = rnd.random()
            if kind < 0.35:
                lines.append(f"-A {chain} -s {network()} -j DROP")
            elif kind < 0.55:
                lines.append(f"-A {chain} {ports()} -j DROP")
            elif kind < 0.7:
                lines.append(f"-A {chain} -s {network()} -j RETURN")
            elif kind < 0.75:
                lines.append(f"-A {chain} -p tcp -m tcp --dport 22 -j ACCEPT")
            elif kind < 0.78:
                lines.append(f"-A {chain} -p tcp -m tcp --dport 1050 -m conntrack --ctstate NEW -j DROP")
            elif kind < 0.81:
                lines.append(f"-A {chain} -s {network()} -j LOG")
            elif kind < 0.84:
                lines.append(f"-A {chain} -i eth1 -j DROP")
            elif index + 1 < len(chains):
                lines.append(f"-A {chain} -s {network()} -j {chains[rnd.randint(index + 1, len(chains) - 1)]}")
        per_chain[chain] = lines
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 2000 -j ACCEPT"]
    for chain in chains:
        body += per_chain[chain]
    heads = [":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"] + [f":{c} - [0:0]" for c in chains]
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


def _walked(text: str, family: Family = Family.IPV4) -> tuple[list, int, list]:
    """Every result of the walk in order (box values, assumptions, the rules of its path,
    verdict), the budget spent and where the walk was cut."""
    analysis = ExposureAnalysis([ruleset(text)], loopback=False)
    out = []
    for result in analysis.results(family):
        box = result.box
        path = tuple((s.event, s.chain.name, s.rule.span.line if s.rule is not None else None, s.detail)
                     for s in box.trail)
        assumed = tuple((a.rule.span.line if a.rule is not None else None, a.matched) for a in box.assumptions)
        out.append((tuple(box[:14]), assumed, path, result.verdict))
    return out, analysis.spent, [(cut.chain.name, cut.reason) for cut in analysis.cuts]


def _both_ways(monkeypatch, text: str, family: Family = Family.IPV4) -> tuple:
    """(the walk with the lane, the walk without it, how many chains the lane passed)."""
    passed = []
    real = passthrough.passes_through

    def counting(*args):
        went = real(*args)
        passed.append(went is not None)
        return went
    monkeypatch.setattr(walk, "passes_through", counting)
    lane = _walked(text, family)
    monkeypatch.setattr(walk, "passes_through", lambda *args: None)
    return lane, _walked(text, family), sum(passed)


@pytest.mark.parametrize("seed", [0, 2, 4, 5, 6, 7])  # (1 and 3 accept or drop most boxes early)
def test_chains_passed_through_walk_as_rule_by_rule(monkeypatch, seed):
    lane, walked, passed = _both_ways(monkeypatch, small_chains(seed))
    assert lane == walked
    assert passed > 0  # (the lane did pass chains)


@pytest.mark.parametrize("seed", [0, 2, 4, 5])
def test_ipv6_chains_passed_through_walk_as_rule_by_rule(monkeypatch, seed):
    lane, walked, passed = _both_ways(monkeypatch, small_chains(seed, v6=True), Family.IPV6)
    assert lane[0]  # (IPv6 rules: something was decided)
    assert lane == walked
    assert passed > 0


@pytest.mark.parametrize("seed", [0, 5])
def test_past_the_budget_the_lane_walks_as_rule_by_rule(monkeypatch, seed):
    """With budgets the walk crosses (at every stage of it), the lane never lets a walk cross
    one unmerged: the same results, the same place of the cut."""
    text = small_chains(seed, 300)
    monkeypatch.setattr(budget_module, "OPS_PER_RULE", 0)
    spent = _walked(text)[1]
    passed = 0
    for limit in range(0, spent, max(1, spent // 12)):
        monkeypatch.setattr(budget_module, "MIN_OPS", limit)
        lane, walked, passed_here = _both_ways(monkeypatch, text)
        assert lane == walked
        passed += passed_here
    assert passed  # (the lane passed chains while the budget lasted)


def test_a_chain_missed_by_every_box_is_not_walked():
    """A jump by a source network into a chain of other networks' drops and port drops: the
    part that jumps comes back whole, charged as walking the chain charges it."""
    text = "\n".join([
        "*filter", ":INPUT DROP [0:0]", ":C - [0:0]",
        "-A INPUT -s 10.1.0.0/16 -j C",
        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
        "-A C -s 10.2.3.0/24 -j DROP",
        "-A C -p udp -m multiport --dports 1024,2000 -j DROP",
        "-A C -s 10.3.0.0/24 -j RETURN",
        "COMMIT", ""])
    chain = ruleset(text).tables[0].chains[1]
    box_text = _walked(text)
    calls = []
    real = passthrough.passes_through

    def spy(walker, table, target, blocks, boxes, stack, passes_whole):
        went = real(walker, table, target, blocks, boxes, stack, passes_whole)
        calls.append((target.name, went is not None, [b.src for b in boxes]))
        return went
    walk.passes_through, saved = spy, walk.passes_through
    try:
        again = _walked(text)
    finally:
        walk.passes_through = saved
    assert again == box_text
    assert calls and all(name == chain.name and went for name, went, _ in calls)


def test_a_chain_with_a_rule_the_lane_does_not_cover_is_walked(monkeypatch):
    """A LOG (non-terminal), a match on the input interface or a conntrack state a box would be
    split by: the chain is walked."""
    for rule in ("-s 10.2.0.0/16 -j LOG", "-i eth1 -j DROP", "-p tcp -m conntrack --ctstate NEW -j DROP"):
        text = "\n".join([
            "*filter", ":INPUT DROP [0:0]", ":C - [0:0]",
            "-A INPUT -s 10.1.0.0/16 -j C",
            "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
            "-A C -s 10.2.3.0/24 -j DROP",
            f"-A C {rule}",
            "COMMIT", ""])
        lane, walked, passed = _both_ways(monkeypatch, text)
        assert lane == walked and passed == 0
