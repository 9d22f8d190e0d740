"""A ruleset holding IPv4 and IPv6 tables (a script running iptables and ip6tables): each family's
packets meet only their own tables."""

from __future__ import annotations

from linter.engine.exposure import ExposureAnalysis
from linter.engine.paths import base_chains
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.iptables.script import parse
from linter.model import Family, Hook
from linter.source import SourceFile

SCRIPT = """\
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 22
ip6tables -P INPUT ACCEPT
ip6tables -A INPUT -p tcp --dport 23 -j DROP
"""


def ruleset():
    result = parse(SourceFile("fw.sh", SCRIPT))
    assert result.diagnostics == []
    return result.document


def test_base_chains_are_chosen_by_family():
    document = ruleset()
    v4 = base_chains([document], Hook.INPUT, Family.IPV4)
    v6 = base_chains([document], Hook.INPUT, Family.IPV6)
    assert [(t.name, t.family, c.name) for t, c in v4] == [("filter", Family.IPV4, "INPUT"),
                                                            ("nat", Family.IPV4, "INPUT")]
    assert [(t.name, t.family, c.name) for t, c in v6] == [("filter", Family.IPV6, "INPUT")]
    assert base_chains([document], Hook.PREROUTING, Family.IPV6) == []


def test_families_and_exposure_per_family():
    analysis = ExposureAnalysis([ruleset()])
    assert analysis.families() == [Family.IPV4, Family.IPV6]
    internet_tcp = {}
    for exposure in analysis.exposures():
        if exposure.protocol == 6 and exposure.reach == "internet":
            internet_tcp.setdefault(exposure.family, []).extend(exposure.ports)
    assert internet_tcp[Family.IPV4] == [(22, 22), (8080, 8080)]
    assert internet_tcp[Family.IPV6] == [(0, 22), (24, 65535)]


def test_trace_takes_the_flow_s_family():
    document = ruleset()
    assert trace_flow(make_flow(dport=23, iface="eth0"), [document]).verdict == "drop"
    assert trace_flow(make_flow(dport=22, iface="eth0"), [document]).verdict == "accept"
    v6 = trace_flow(make_flow(src="2001:db8:ffff::7", dst="2001:db8::1", dport=23, iface="eth0"), [document])
    assert v6.verdict == "drop" and {s.table.family for s in v6.path} == {Family.IPV6}
    v6 = trace_flow(make_flow(src="2001:db8:ffff::7", dst="2001:db8::1", dport=25, iface="eth0"), [document])
    assert v6.verdict == "accept"
