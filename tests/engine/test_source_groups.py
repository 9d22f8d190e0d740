"""Segment groups decided on sources alone (engine/source_groups.py): the walk gives exactly what
the walker's general path gives (every group's rules through Walker._apply_group), result by
result (values, trails, assumptions, verdicts, order), and spends the same budget; held boxes
or not, in INPUT and in chains jumped to (where RETURN hands parts back)."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import heldcuts, source_groups  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.test_heldjumps import _walked  # noqa: E402


def source_segments(seed: int, runs: int = 30, v6: bool = False) -> str:
    """Runs of 8-14 rules on sources (drops, rejects, accepts, jumps by /16, a LOG before a
    drop of the same network, an accept after one) in INPUT and in the chains it jumps to
    (returns there too), between port drops and jumps by protocol."""
    rnd = random.Random(seed)
    chains = [f"CHAIN-{index}" for index in range(max(2, runs // 3))]

    def network(length: int = 24) -> str:
        first, second = rnd.randint(1, 3), rnd.randint(0, 60)
        if v6:
            return f"2001:db8:{first}:{second:x}::/64" if length == 24 else f"2001:db8:{first + 4}::/48"
        return f"10.{first}.{second}.0/24" if length == 24 else f"172.{16 + first * 4 + rnd.randint(0, 3)}.0.0/16"

    def run(chain: str, returns: bool) -> list[str]:
        lines = []
        for _ in range(rnd.randint(8, 14)):
            kind = rnd.random()
            net = network()
            if kind < 0.4:
                lines.append(f"-A {chain} -s {net} -j DROP")
            elif kind < 0.5:
                lines.append(f"-A {chain} -s {net} -j REJECT")
            elif kind < 0.6 and returns:
                lines.append(f"-A {chain} -s {net} -j RETURN")
            elif kind < 0.7:
                lines.append(f"-A {chain} -s {net} -j ACCEPT")
            elif kind < 0.8:
                lines += [f"-A {chain} -s {net} -j LOG", f"-A {chain} -s {net} -j DROP"]
            elif kind < 0.85:
                lines += [f"-A {chain} -s {net} -j DROP", f"-A {chain} -s {net} -j ACCEPT"]
            elif chain == "INPUT":
                lines.append(f"-A {chain} -s {network(16)} -j {rnd.choice(chains)}")
            else:
                lines.append(f"-A {chain} -s {net} -j DROP")
        return lines

    def between(chain: str) -> list[str]:
        ports = ",".join(map(str, sorted(rnd.sample(range(1024, 1100), 3))))
        lines = [f"-A {chain} -p {rnd.choice(['tcp', 'udp'])} -m multiport --dports {ports} -j DROP"]
        if chain == "INPUT" and rnd.random() < 0.5:
            lines.append(f"-A INPUT -p tcp -j {rnd.choice(chains)}")
        return lines

    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for _ in range(runs):
        body += run("INPUT", False) + between("INPUT")
    for chain in chains:
        body += run(chain, True) + between(chain) + (run(chain, True) if rnd.random() < 0.5 else [])
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p udp -m udp --dport 1050 -j ACCEPT"]
    heads = [":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"] + [f":{c} - [0:0]" for c in chains]
    return "*filter\n" + "\n".join(heads + body) + "\nCOMMIT\n"


def _both_ways(monkeypatch, text: str, family: Family, long: int) -> dict:
    """The walk as shipped and without the lane (every group through Walker._apply_group), with
    lists past ``long`` ranges held; how many groups the lane decided."""
    monkeypatch.setattr(heldcuts, "LONG", long)
    decided = []
    real = source_groups.decide_parts

    def deciding(*args):
        decided.append(1)
        return real(*args)
    monkeypatch.setattr(source_groups, "decide_parts", deciding)
    lane = _walked(text, family)
    monkeypatch.setattr(source_groups, "source_only", lambda rule: None)
    general = _walked(text, family)
    return {"lane": lane, "general": general, "decided": len(decided)}


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("long", [16, 10**9])
def test_source_groups_decide_as_the_general_path(monkeypatch, seed, long):
    ways = _both_ways(monkeypatch, source_segments(seed), Family.IPV4, long)
    assert ways["lane"] == ways["general"]
    assert ways["lane"][0] and ways["decided"] > 20


@pytest.mark.parametrize("seed", [0, 5])
def test_ipv6_source_groups_decide_as_the_general_path(monkeypatch, seed):
    ways = _both_ways(monkeypatch, source_segments(seed, v6=True), Family.IPV6, 16)
    assert ways["lane"] == ways["general"]
    assert ways["lane"][0] and ways["decided"] > 10
