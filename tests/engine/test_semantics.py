"""The engine evaluates rule order the way netfilter does; findings follow from it."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine.universe import OTHER_IFACE  # noqa: E402
from tests.engine.helpers import exposure, findings, findings_full, ruleset, verdict  # noqa: E402

TELNET_AFTER_CATCH_ALL = """*filter
:INPUT DROP [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp -j DROP
-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT
COMMIT
"""


def test_shadowed_telnet_is_not_exposed_but_the_shadowing_is_reported():
    assert findings(TELNET_AFTER_CATCH_ALL, {"PL101", "PL402"}) == [("PL402", 5, None)]
    assert verdict(ruleset(TELNET_AFTER_CATCH_ALL), dport=23) == "drop"


def test_rule_after_unconditional_drop():
    text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j DROP\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n"
    assert findings(text, {"PL101", "PL402", "PL403", "PL401"}) == [("PL403", 4, None)]


TELNET_IN_USER_CHAIN = """*filter
:INPUT DROP [0:0]
:SERVICES - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -j SERVICES
-A INPUT -j DROP
-A SERVICES -p tcp -m tcp --dport 22 -j ACCEPT
-A SERVICES -p tcp -m tcp --dport 23 -j ACCEPT
COMMIT
"""


def test_telnet_through_a_user_chain_is_reported_at_its_rule():
    assert findings(TELNET_IN_USER_CHAIN, {"PL101"}) == [("PL101", 8, ((23, 23),))]
    assert verdict(ruleset(TELNET_IN_USER_CHAIN), dport=23) == "accept"
    assert verdict(ruleset(TELNET_IN_USER_CHAIN), dport=25) == "drop"


SMB_PRIVATE_AFTER_RETURN = """*filter
:INPUT DROP [0:0]
:SMB - [0:0]
-A INPUT -p tcp -m multiport --dports 139,445 -j SMB
-A SMB ! -s 192.168.0.0/16 -j RETURN
-A SMB -p tcp -j ACCEPT
COMMIT
"""


def test_smb_from_private_only_after_return_is_not_internet_exposed():
    assert findings(SMB_PRIVATE_AFTER_RETURN, {"PL101", "PL201"}) == []
    reaches = {(e.reach, e.ports) for e in exposure(SMB_PRIVATE_AFTER_RETURN) if e.protocol == 6 and e.reach != "loopback"}
    assert reaches == {("private", ((139, 139), (445, 445)))}
    rules = ruleset(SMB_PRIVATE_AFTER_RETURN)
    assert verdict(rules, src="192.168.1.5", dport=445) == "accept"
    assert verdict(rules, src="198.51.100.5", dport=445) == "drop"


def test_established_only_accept_exposes_nothing():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m tcp --dport 23 -m conntrack --ctstate ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 3306 -m state --state RELATED,ESTABLISHED -j ACCEPT
COMMIT
"""
    assert findings(text, {"PL101", "PL201"}) == []
    assert [e for e in exposure(text) if e.reach != "loopback"] == []
    assert verdict(ruleset(text), dport=23, state="established") == "accept"


DOCKER_DNAT = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
-A INPUT -p tcp -m tcp --dport 5432 -j DROP
-A FORWARD -o docker0 -j DOCKER
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT
COMMIT
"""


def test_docker_dnat_to_a_database_is_reported_although_input_drops_it():
    found = findings(DOCKER_DNAT, {"PL201"})
    assert found == [("PL201", 9, ((5432, 5432),))]
    trace = verdict(ruleset(DOCKER_DNAT), dport=5432)
    assert trace == "drop"  # -o docker0 is unknown before routing: taken as not matching in a trace


def test_goto_does_not_come_back():
    text = """*filter
:INPUT DROP [0:0]
:G - [0:0]
-A INPUT -p tcp -g G
-A INPUT -p tcp --dport 23 -j ACCEPT
-A G -p tcp --dport 80 -j ACCEPT
COMMIT
"""
    rules = ruleset(text)
    assert verdict(rules, dport=80) == "accept"
    assert verdict(rules, dport=23) == "drop"  # falls off G: INPUT's policy applies, not the next rule
    assert findings(text, {"PL101"}) == [("PL101", 6, ((80, 80),))]  # HTTP, a note; never Telnet


def test_negated_interface_and_wildcards():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT ! -i eth+ -p tcp --dport 23 -j ACCEPT
-A INPUT -i eth1 -p tcp --dport 21 -j ACCEPT
COMMIT
"""
    rules = ruleset(text)
    assert verdict(rules, dport=23, iface="eth0") == "drop"
    assert verdict(rules, dport=23, iface="wlan0") == "accept"
    assert verdict(rules, dport=21, iface="eth1") == "accept"
    assert verdict(rules, dport=21, iface="eth2") == "drop"


def test_policy_accept_without_final_drop_and_protocol_all():
    text = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    # The default accept is one finding, on the policy line, rated by what it exposes (Telnet, SMB...):
    # the same whether or not other rules exist (see test_empty_default_accept_chain_is_the_same_exposure).
    assert sorted((line, c) for c, line, _ in findings(text, {"PL101", "PL201", "PL202", "PL401"})) == [
        (2, "PL401"), (3, "PL201")]
    policy = [f for f in findings_full(text) if f.code == "PL401"][0]
    assert policy.severity.name == "CRITICAL"
    assert policy.message.startswith("Base chain INPUT accepts by default: every other tcp, udp and sctp port")


def test_empty_default_accept_chain_is_the_same_exposure():
    empty = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
    unrelated = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -j ACCEPT\nCOMMIT\n"
    for text in (empty, unrelated):
        found = [(f.code, f.line, f.severity.name) for f in findings_full(text)
                 if f.code in ("PL101", "PL201", "PL202", "PL401")]
        assert found == [("PL401", 2, "CRITICAL")], text
    assert "every tcp, udp and sctp port is reachable from the internet" in \
        [f for f in findings_full(empty) if f.code == "PL401"][0].message


def _exposure_summary(text: str) -> set:
    return {(e.protocol, e.reach, e.ports, e.interfaces, tuple(d.span.line for d in e.deciders))
            for e in exposure(text) if e.reach != "loopback"}


def test_exposure_does_not_depend_on_how_the_rules_split_the_space():
    # The same accepted space, whatever the order of the matches in the one rule: the
    # policy lets every tcp port in on every interface. Reading -d before -i used to keep
    # the tcp space whole, reading -i first split it by interface, and the policy's
    # exposure then read as two ("on eth1" and "on any" for the same 65536 ports).
    head = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    d_first = head + "-A INPUT -d 10.99.0.0/24 -i eth1 -p udp -m udp --dport 1024:30002 -j DROP\nCOMMIT\n"
    i_first = head + "-A INPUT -i eth1 -d 10.99.0.0/24 -p udp -m udp --dport 1024:30002 -j DROP\nCOMMIT\n"
    assert _exposure_summary(d_first) == _exposure_summary(i_first)
    tcp = [e for e in exposure(i_first) if e.protocol == 6 and e.reach == "internet"]
    assert len(tcp) == 1 and tcp[0].ports == ((0, 65535),)
    assert [c for c, _, _ in findings(i_first, {"PL201"})] == [c for c, _, _ in findings(d_first, {"PL201"})]
    # Interfaces whose ports differ stay apart.
    split = head + "-A INPUT -i eth1 -p udp -m udp --dport 1024:30002 -j DROP\nCOMMIT\n"
    udp = sorted((sorted(e.interfaces), e.ports) for e in exposure(split) if e.protocol == 17 and e.reach == "internet")
    assert udp == [([OTHER_IFACE], ((0, 65535),)), (["eth1"], ((0, 1023), (30003, 65535)))]


def test_reach_of_a_source_does_not_depend_on_where_a_rule_split_it_off():
    # 192.0.2.99 jumps to a chain that drops only udp/9 on every interface but eth0: on eth0 it
    # meets the policy like everyone else, so there it is part of the internet, not a
    # restricted source. With -s read first, a box of 192.0.2.99 on eth0 alone used to reach
    # the policy apart from the rest of the internet and be reported as "reachable from
    # 192.0.2.99 only on eth0". (A jump to a chain that can change nothing, an empty one, is
    # not part of any path: see test_a_jump_that_changes_nothing_is_not_a_path.)
    head = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:discard - [0:0]\n"
            "-A discard -p udp --dport 9 -j DROP\n")
    s_first = head + "-A INPUT -s 192.0.2.99/32 ! -i eth0 -j discard\nCOMMIT\n"
    i_first = head + "-A INPUT ! -i eth0 -s 192.0.2.99/32 -j discard\nCOMMIT\n"
    assert _exposure_summary(s_first) == _exposure_summary(i_first)
    # On the other interfaces its tcp comes back from "discard" as it went in: a chain entered
    # and left again decides nothing, so 192.0.2.99 is part of the internet there too, not a
    # restricted source reached "via" the jump.
    restricted = [e for e in exposure(s_first) if e.protocol == 6 and e.reach == "restricted"]
    assert restricted == []
    tcp = [e for e in exposure(s_first) if e.protocol == 6 and e.reach == "internet"]
    assert [(sorted(e.interfaces), e.via) for e in tcp] == [([OTHER_IFACE, "eth0"], ())]
    assert findings(s_first, {"PL201"}) == findings(i_first, {"PL201"})


def test_a_jump_that_changes_nothing_is_not_a_path():
    # kube-proxy's "-s <pod> -j KUBE-MARK-MASQ": the chain only marks, so the jump decides
    # nothing and the source it names is part of the internet like every other.
    head = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:mark - [0:0]\n"
            "-A mark -j MARK --set-xmark 0x4000/0x4000\n")
    text = head + "-A INPUT -s 192.0.2.99/32 ! -i eth0 -j mark\nCOMMIT\n"
    public = [e for e in exposure(text) if e.protocol == 6 and e.reach != "loopback"]
    assert [(e.reach, e.via, e.ports) for e in public] == [("internet", (), ((0, 65535),)),
                                                           ("private", (), ((0, 65535),))]


def test_an_accept_that_only_assumed_more_is_not_reported_beside_a_certain_one():
    # kube-proxy's KUBE-FORWARD: "-m mark --mark 0x4000/0x4000 -j ACCEPT" then "-d 10.0.0.0/8
    # -j ACCEPT". DNATed traffic is accepted either way: one certain exposure, not a second
    # "possibly" one through the mark rule.
    text = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A FORWARD -d 10.0.0.0/8 -j ACCEPT
COMMIT
"""
    forwarded = [(e.reach, e.possible, [d.span.line for d in e.deciders]) for e in exposure(text)
                 if e.forwarded and e.protocol == 6]
    assert forwarded == [("internet", False, [6, 13]), ("private", False, [6, 13])]


def test_a_return_verdict_in_a_nested_chain_goes_back_to_its_caller_only():
    # INPUT -> outer -> inner; inner's RETURN goes back to outer, whose RETURN goes back to
    # INPUT, where 443 is accepted. Neither ends the base chain (its policy drops).
    text = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:outer - [0:0]
:inner - [0:0]
-A INPUT -j outer
-A INPUT -p tcp --dport 443 -j ACCEPT
-A outer -j inner
-A outer -p tcp --dport 443 -j RETURN
-A outer -j DROP
-A inner -p udp -j DROP
-A inner -j RETURN
COMMIT
"""
    assert verdict(ruleset(text), dport=443) == "accept"
    assert verdict(ruleset(text), dport=80) == "drop"
    internet = [(e.protocol, e.ports) for e in exposure(text) if e.reach == "internet"]
    assert internet == [(6, ((443, 443),))]
