"""The one-pass shape of a chain whose every dimension has one range (engine/shadow_shapes.py's
_one_range_shape) is the very tuple the general renaming gives, so the dead-rule analysis
shares exactly as before: checked call by call on random tables and on kube-proxy's layout."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shadow, shadow_shapes  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.engine.universe import interface_representatives  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

V4 = ["10.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "255.255.255.255", "0.0.0.0",
      "10.0.0.1/32", "10.0.0.2", "10.0.0.0/30"]
V6 = ["::1", "::/0", "2001:db8::/32", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1"]
PORTS = ["0", "65535", "0:65535", "0:80", "80", "80:65535", "1:65534", "22", "80:81"]
MATCHES = ["-p tcp", "-p udp", "-m statistic --mode random --probability 0.5", "-i eth0", "-o eth1",
           "-m conntrack --ctstate NEW", "-m addrtype --dst-type LOCAL", "-m comment --comment x"]


def _rule(rng: random.Random, addresses: list[str], chains: list[str]) -> str:
    parts = []
    for flag in ("-s", "-d"):
        if rng.random() < 0.5:
            parts.append(("! " if rng.random() < 0.2 else "") + f"{flag} {rng.choice(addresses)}")
    if rng.random() < 0.2:
        parts.append(rng.choice(MATCHES))
    if rng.random() < 0.5:
        parts.append("-p tcp")
        for flag in ("--dport", "--sport"):
            if rng.random() < 0.5:
                parts.append(("! " if rng.random() < 0.2 else "") + f"{flag} {rng.choice(PORTS)}")
        if rng.random() < 0.15:
            parts.append(f"-m multiport --dports {rng.choice(PORTS)},{rng.choice(PORTS)}")
    target = rng.choice(["ACCEPT", "DROP", "RETURN", "MARK --set-xmark 0x1/0x1", *chains, *chains])
    if rng.random() < 0.1 and chains:
        target = "-g " + rng.choice(chains)
    else:
        target = "-j " + target
    return " ".join(parts + [target])


def _table(rng: random.Random, family: Family) -> str:
    addresses = V4 if family is Family.IPV4 else V6
    names = [f"C{n}" for n in range(rng.randint(2, 7))]
    text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    text += "".join(f":{name} - [0:0]\n" for name in names)
    for name in ["INPUT", *names]:
        for _ in range(rng.randint(0 if name != "INPUT" else 1, 4)):
            text += f"-A {name} {_rule(rng, addresses, names)}\n"
    return text + "COMMIT\n"


def _compare_calls(text: str, family: Family, monkeypatch) -> tuple[int, int]:
    """Analyse every chain with each shape computed both ways; (calls, calls the lane answered)."""
    document = ruleset(text, "test.rules" if family is Family.IPV4 else "test6.rules")
    table = document.tables[0]
    lane = shadow_shapes._one_range_shape
    counts = [0, 0]

    def both(*args):
        with monkeypatch.context() as patch:
            patch.setattr(shadow_shapes, "_one_range_shape", lambda *rest: shadow_shapes._GENERAL)
            general = shadow_shapes.chain_shape(*args)
        table_, chain, family_, active, done, analyse = args
        if chain.rules and len(chain.rules) < shadow_shapes.MIN_SEGMENT:
            answered = lane(table_, chain.rules, family_, active + [chain.name], done, analyse)
            counts[1] += answered is not shadow_shapes._GENERAL
        quick = shadow_shapes.chain_shape(*args)
        assert quick == general, (chain.name, text)
        counts[0] += 1
        return quick

    with monkeypatch.context() as patch:
        patch.setattr(shadow, "chain_shape", both)
        analysis = ShadowAnalysis(table, family, interface_representatives([document]))
        for chain in table.chains:
            analysis.chain(chain)
    return counts[0], counts[1]


@pytest.mark.parametrize("family", [Family.IPV4, Family.IPV6])
def test_the_lane_gives_the_general_shape_on_random_tables(family, monkeypatch):
    rng = random.Random(14 if family is Family.IPV4 else 6)
    calls = answered = 0
    for _ in range(150):
        text = _table(rng, family)
        try:
            ruleset(text, "test.rules" if family is Family.IPV4 else "test6.rules")
        except AssertionError:
            continue  # a rule the front end warns about: not a table for this comparison
        made, quick = _compare_calls(text, family, monkeypatch)
        calls += made
        answered += quick
    assert calls > 300 and 100 < answered < calls  # both paths exercised


@pytest.mark.parametrize("ranges", [((1 << 100, 1 << 100),), ((5, 3),), ((0, 0),), ((0, (1 << 32) - 1),)])
def test_odd_ranges_give_the_general_shape(ranges, monkeypatch):
    """A range beyond the family's maximum (an IPv6 one in the IPv4 analysis) or reversed is
    renamed among other bounds: the lane leaves it to the general path."""
    from dataclasses import replace

    from linter.model import AddressSet

    table = ruleset("*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n-A A -s 10.0.0.1 -j RETURN\n"
                    "-A A -p tcp --dport 80 -j ACCEPT\nCOMMIT\n").tables[0]
    chain = next(c for c in table.chains if c.name == "A")
    first = chain.rules[0]
    match = first.matches[0]
    odd = replace(match, addresses=AddressSet(match.addresses.family, ranges, "odd"))
    chain = replace(chain, rules=[replace(first, matches=(odd,)), *chain.rules[1:]])
    quick = shadow_shapes.chain_shape(table, chain, Family.IPV4, [], {}, None)
    monkeypatch.setattr(shadow_shapes, "_one_range_shape", lambda *rest: shadow_shapes._GENERAL)
    assert quick == shadow_shapes.chain_shape(table, chain, Family.IPV4, [], {}, None)


def test_kube_proxy_chains_take_the_lane_with_the_general_shape(monkeypatch):
    sample = Path("/tmp/snapin/kube-1000")
    if sample.exists():
        text = sample.read_text()
    else:
        from tests.engine.test_shadow_shapes import _endpoints
        text = _endpoints(40)
    document = ruleset(text)
    table = next(t for t in document.tables if t.name == "nat")
    lane = shadow_shapes._one_range_shape
    seen = []

    def both(*args):
        with monkeypatch.context() as patch:
            patch.setattr(shadow_shapes, "_one_range_shape", lambda *rest: shadow_shapes._GENERAL)
            general = shadow_shapes.chain_shape(*args)
        quick = shadow_shapes.chain_shape(*args)
        assert quick == general, args[1].name
        _, chain, family_, active, done, analyse = args
        if chain.rules and len(chain.rules) < shadow_shapes.MIN_SEGMENT:
            seen.append(lane(args[0], chain.rules, family_, active + [chain.name], done, analyse)
                        is not shadow_shapes._GENERAL)
        return quick

    with monkeypatch.context() as patch:
        patch.setattr(shadow, "chain_shape", both)
        analysis = ShadowAnalysis(table, Family.IPV4, interface_representatives([document]))
        for chain in table.chains:
            analysis.chain(chain)
    assert len(seen) > 40 and sum(seen) > 0.9 * len(seen)
