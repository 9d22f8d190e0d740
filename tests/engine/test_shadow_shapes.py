"""Chains of one shape share one dead-rule analysis (engine/shadow_shapes.py), and only then."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shadow  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.engine.shadow_shapes import chain_shape  # noqa: E402
from linter.engine.universe import interface_representatives  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

HEAD = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"


def _endpoints(count: int) -> str:
    """Kube-proxy's layout: a service chain choosing among endpoint chains that mark and DNAT."""
    text = HEAD + ":KUBE-MARK-MASQ - [0:0]\n:KUBE-SERVICES - [0:0]\n"
    text += "".join(f":SVC-{s} - [0:0]\n:SEP-{s}-{e} - [0:0]\n" for s in range(count) for e in range(2))
    text += "-A PREROUTING -j KUBE-SERVICES\n-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000\n"
    for s in range(count):
        text += f"-A KUBE-SERVICES -d 10.96.0.{s}/32 -p tcp --dport 80 -j SVC-{s}\n"
        text += f"-A SVC-{s} -m statistic --mode random --probability 0.5 -j SEP-{s}-0\n-A SVC-{s} -j SEP-{s}-1\n"
        for e in range(2):
            text += (f"-A SEP-{s}-{e} -s 10.1.{s}.{e + 2}/32 -j KUBE-MARK-MASQ\n"
                     f"-A SEP-{s}-{e} -p tcp -j DNAT --to-destination 10.1.{s}.{e + 2}:8080\n")
    return text + "COMMIT\n"


def _analyses(text: str, shapes: bool, monkeypatch):
    document = ruleset(text)
    table = document.tables[0]
    with monkeypatch.context() as patch:
        if not shapes:
            patch.setattr(shadow, "chain_shape", lambda *args: None)
        analysis = ShadowAnalysis(table, Family.IPV4, interface_representatives([document]))
        verdicts = {chain.name: analysis.chain(chain) for chain in table.chains}
    return verdicts


def _plain(verdicts):
    return {name: (set(v.dead), set(v.shadowed), v.judged, sorted(v.returned or [])) for name, v in verdicts.items()}


def test_endpoint_chains_share_one_analysis_equal_to_each_ones_own(monkeypatch):
    text = _endpoints(12)
    shared = _analyses(text, True, monkeypatch)
    alone = _analyses(text, False, monkeypatch)
    assert _plain(shared) == _plain(alone)
    endpoints = {id(v) for name, v in shared.items() if name.startswith("SEP-")}
    services = {id(v) for name, v in shared.items() if name.startswith("SVC-")}
    assert (len(endpoints), len(services)) == (1, 1)
    assert len({id(v) for name, v in alone.items() if name.startswith("SEP-")}) == 24


def test_a_range_equal_to_an_earlier_one_is_another_shape_than_a_different_range(monkeypatch):
    text = HEAD + (":same - [0:0]\n:other - [0:0]\n"
                   "-A same -s 10.0.0.1/32 -j RETURN\n-A same -s 10.0.0.1/32 -j DNAT --to-destination 10.9.9.9\n"
                   "-A other -s 10.0.0.1/32 -j RETURN\n-A other -s 10.0.0.2/32 -j DNAT --to-destination 10.9.9.9\n"
                   "COMMIT\n")
    verdicts = _analyses(text, True, monkeypatch)
    assert (verdicts["same"].dead, verdicts["same"].shadowed) == ({1}, {1})
    assert (set(verdicts["other"].dead), set(verdicts["other"].shadowed)) == (set(), set())
    document = ruleset(text)
    table = document.tables[0]
    same, other = (next(c for c in table.chains if c.name == name) for name in ("same", "other"))
    assert chain_shape(table, same, Family.IPV4, [], {}, None) != chain_shape(table, other, Family.IPV4, [], {}, None)


def test_chains_returning_their_own_addresses_are_each_analysed(monkeypatch):
    text = HEAD + "".join(f":only-{n} - [0:0]\n-A only-{n} -s 10.0.0.{n}/32 -j RETURN\n-A only-{n} -j DNAT "
                          f"--to-destination 10.9.9.9\n" for n in range(1, 4)) + "COMMIT\n"
    verdicts = _analyses(text, True, monkeypatch)
    sources = {name: {box.src for box in v.returned} for name, v in verdicts.items() if name.startswith("only-")}
    assert sources == {f"only-{n}": {(((10 << 24) + n,) * 2,)} for n in range(1, 4)}


def test_address_and_port_matches_are_never_opaque_nor_path_decided():
    """chain_shape skips has_opaque/has_path_decided for a jump whose matches are all address
    and port matches: that holds only while neither kind can be either."""
    from linter.engine.space import _DECIDERS, has_opaque, has_path_decided
    from linter.model import AddressMatch, PortMatch

    rules = ruleset("*filter\n:INPUT DROP [0:0]\n:A - [0:0]\n-A INPUT -s 10.0.0.0/8 ! -d 10.1.0.1 -p tcp "
                    "--dport 22 --sport 1024:65535 -j A\n-A A -j ACCEPT\nCOMMIT\n").tables[0].chains[0].rules
    kinds = {type(match) for match in rules[0].matches}
    assert {AddressMatch, PortMatch} <= kinds
    assert not has_opaque(rules[0]) and not has_path_decided(rules[0])
    assert AddressMatch not in _DECIDERS and PortMatch not in _DECIDERS
