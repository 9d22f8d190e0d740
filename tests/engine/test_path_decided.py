"""Matches the ruleset itself decides for a new connection's first packet: conntrack status,
the original tuple, tcp flags, limits and fragments are exact, not "possibly"."""

from __future__ import annotations

from linter.checks import Settings
from linter.engine import intervals as iv
from linter.engine.exposure import ExposureAnalysis
from linter.engine.shadow import ShadowAnalysis
from linter.engine.space import ALL_STATES, Box, split_rule, state_parts
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.nftables import parse as parse_nft
from linter.model import Family
from linter.pipeline import run_checks
from linter.source import SourceFile
from tests.engine.helpers import exposure, findings, ruleset, verdict

FIREWALLD = """\
table inet firewalld {
    chain filter_INPUT {
        type filter hook input priority filter + 10; policy accept;
        ct state { established, related } accept
        ct status dnat accept
        iifname "lo" accept
        ct state invalid drop
        jump filter_INPUT_ZONES
        reject with icmpx admin-prohibited
    }
    chain filter_FWD {
        type filter hook forward priority filter + 10; policy accept;
        ct state { established, related } accept
        ct status dnat accept
        iifname "lo" accept
        ct state invalid drop
        reject with icmpx admin-prohibited
    }
    chain filter_INPUT_ZONES {
        goto filter_IN_public
    }
    chain filter_IN_public {
        jump filter_IN_public_allow
    }
    chain filter_IN_public_allow {
        tcp dport 22 accept
        ip6 daddr fe80::/64 udp dport 546 accept
    }
}
"""

DNAT_TO_LOCAL = """\
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        tcp dport 8080 dnat to :80
    }
}
"""


def nft(text: str, path: str = "firewalld.nft"):
    result = parse_nft(SourceFile(path, text))
    assert [d for d in result.diagnostics if d.code != "PL013"] == []
    return result.document


def summary(documents, family=Family.IPV4):
    """(protocol, reach, ports, possible, forwarded) of every exposure of ``family`` to the internet."""
    return sorted((e.protocol, e.reach, e.ports, e.possible, e.forwarded)
                  for e in ExposureAnalysis(documents).exposures()
                  if e.family is family and e.reach == "internet")


def test_firewalld_ct_status_dnat_does_not_expose_every_port():
    assert summary([nft(FIREWALLD)]) == [(6, "internet", ((22, 22),), False, False)]
    assert summary([nft(FIREWALLD)], Family.IPV6) == [(6, "internet", ((22, 22),), False, False)]
    assert [f for f in run_checks(nft(FIREWALLD), Settings()) if "possibly" in f.message] == []


def test_dnat_and_ct_status_dnat_really_expose_the_dnated_port():
    # 8080 is redirected to port 80 of this host; filter_INPUT accepts it by `ct status dnat`.
    found = summary([nft(DNAT_TO_LOCAL, "nat.nft"), nft(FIREWALLD)])
    assert found == [(6, "internet", ((22, 22),), False, False), (6, "internet", ((8080, 8080),), False, False)]
    [rule_8080] = [e for e in ExposureAnalysis([nft(DNAT_TO_LOCAL, "nat.nft"), nft(FIREWALLD)]).exposures()
                   if e.ports == ((8080, 8080),) and e.family is Family.IPV4 and e.reach == "internet"]
    assert [d.span.line for d in rule_8080.deciders] == [4, 5]  # the DNAT, then `ct status dnat accept`


def test_trace_reports_the_decision():
    documents = [nft(DNAT_TO_LOCAL, "nat.nft"), nft(FIREWALLD)]
    dnated = trace_flow(make_flow(dport=8080, iface="eth0"), documents)
    assert (dnated.verdict, dnated.assumed, dnated.other_verdicts) == ("accept", (), ())
    plain = trace_flow(make_flow(dport=8081, iface="eth0"), documents)
    assert (plain.verdict, plain.assumed, plain.other_verdicts) == ("reject", (), ())
    # an established packet's status is not known: the trace says what it assumed
    late = trace_flow(make_flow(dport=8081, iface="eth0", state="established"), documents)
    assert late.verdict == "accept" and late.other_verdicts == ()


DOCKER = """\
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.2:5432
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.3:80
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5432 -j ACCEPT
-A DOCKER -d 172.17.0.3/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
{user}-A DOCKER-USER -j RETURN
COMMIT
"""


def forwarded_ports(text: str):
    return sorted((e.ports, e.possible) for e in exposure(text) if e.forwarded and e.reach == "internet")


def test_docker_user_ctorigdstport_protects_a_published_port():
    # Before DNAT the port is 5432; DOCKER-USER sees the container's address and port, and
    # --ctorigdstport the port the client asked for (Docker's documented way).
    assert forwarded_ports(DOCKER.format(user="")) == [(((5432, 5432),), True), (((8080, 8080),), True)]
    protected = DOCKER.format(user="-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 5432 -j DROP\n")
    assert forwarded_ports(protected) == [(((8080, 8080),), True)]
    # the original destination port is 8080, not the container's 80
    wrong = DOCKER.format(user="-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 80 -j DROP\n")
    assert forwarded_ports(wrong) == [(((5432, 5432),), True), (((8080, 8080),), True)]
    only_lan = DOCKER.format(user="-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 ! --ctorigsrc "
                                  "192.168.0.0/16 -j DROP\n")
    assert forwarded_ports(only_lan) == [(((5432, 5432),), True)]


SSH_AND_SYN_CHECK = """\
*filter
:INPUT DROP [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
{check}-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dport 80 --syn -j ACCEPT
-A INPUT -p tcp --dport 443 --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT
-A INPUT -p tcp --dport 25 --tcp-flags SYN,ACK SYN,ACK -j ACCEPT
-A INPUT -p tcp --dport 3389 -m limit --limit 3/min -j ACCEPT
-A INPUT -p tcp --dport 6000 -m hashlimit --hashlimit-above 5/sec --hashlimit-name x -j ACCEPT
-A INPUT -p tcp --dport 5900 -m recent --update --seconds 60 --name x -j ACCEPT
-A INPUT -f -j ACCEPT
COMMIT
"""


def internet(text: str):
    return sorted((e.protocol, e.ports, e.possible) for e in exposure(text)
                  if e.reach == "internet" and e.protocol == 6)


def test_syn_checks_limits_and_fragments_are_decided():
    # 25 wants SYN and ACK; 6000 accepts only above a rate; -f never matches a first packet;
    # only 5900 depends on what earlier packets did (recent --update).
    expected = [(6, ((22, 22),), False), (6, ((80, 80),), False), (6, ((443, 443),), False),
                (6, ((3389, 3389),), False), (6, ((5900, 5900),), True)]
    assert internet(SSH_AND_SYN_CHECK.format(check="")) == expected
    # the usual "new but not a SYN" drop changes nothing for a connection's first packet
    syn_check = SSH_AND_SYN_CHECK.format(check="-A INPUT -p tcp ! --syn -m state --state NEW -j DROP\n")
    assert internet(syn_check) == expected


def test_limit_accept_is_a_certain_accept():
    text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -m limit --limit 3/min -j ACCEPT\nCOMMIT\n"
    document = ruleset(text)
    [ssh] = [f for f in run_checks(document, Settings()) if f.code == "PL201"]
    assert (ssh.line, ssh.ports) == (3, ((22, 22),)) and "possibly" not in ssh.message
    [ssh] = [e for e in exposure(text) if e.reach == "internet"]
    assert (ssh.ports, ssh.possible, ssh.conditions) == (((22, 22),), False, ())
    assert verdict(ruleset(text), dport=22) == "accept"


def test_connlimit_above_does_not_drop_a_first_connection():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 22 -m connlimit --connlimit-above 3 -j REJECT
-A INPUT -p tcp --dport 22 -j ACCEPT
COMMIT
"""
    assert internet(text) == [(6, ((22, 22),), False)]


def test_ctstate_dnat_accepts_what_a_dnat_rewrote():
    text = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 2222 -j REDIRECT --to-ports 22
COMMIT
*filter
:INPUT DROP [0:0]
-A INPUT -m conntrack --ctstate DNAT -j ACCEPT
-A INPUT -m conntrack --ctstate NEW,DNAT -p udp --dport 53 -j ACCEPT
COMMIT
"""
    # (before, --ctstate DNAT was a state no packet has: the redirected port was not reported)
    assert internet(text) == [(6, ((2222, 2222),), False)]
    assert sorted((e.protocol, e.ports, e.possible) for e in exposure(text) if e.reach == "internet") == [
        (6, ((2222, 2222),), False), (17, ((53, 53),), False)]


def test_established_packets_keep_the_status_opaque():
    rules = ruleset("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --syn -j ACCEPT\nCOMMIT\n")
    rule = rules.tables[0].chain("INPUT").rules[0]
    everything = iv.full(2**32 - 1)
    box = Box(Family.IPV4, ((6, 6),), iv.full(65535), iv.full(65535), everything, everything, frozenset({"eth0"}),
              ALL_STATES)
    parts = state_parts(box, rule)
    assert sorted(sorted(p.state) for p in parts) == [["established", "invalid", "related", "untracked"], ["new"]]
    results = {frozenset(p.state): split_rule(p, rule.matches, rule) for p in parts}
    new_in, new_out = results[frozenset({"new"})]
    assert new_in is not None and not new_in.possible and new_out == []
    other_in, _ = results[frozenset({"established", "invalid", "related", "untracked"})]
    assert other_in.possible  # assumed: a later packet's flags are not known


def test_dead_rule_analysis_keeps_path_decided_matches_opaque():
    # Without the path, neither the DNAT status nor "a new packet is a SYN" is known: a rule
    # after `! --syn ... DROP` or behind `--ctstatus` is not dead.
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp ! --syn -m state --state NEW -j DROP
-A INPUT -p icmp -m limit --limit 1/s -j ACCEPT
-A INPUT -p icmp -j DROP
-A INPUT -m conntrack --ctstate NEW --ctstatus CONFIRMED -j ACCEPT
COMMIT
"""
    assert findings(text, {"PL402", "PL403"}) == []
    table = ruleset(text).tables[0]
    verdicts = ShadowAnalysis(table, Family.IPV4, frozenset({"eth0", "lo"})).chain(table.chain("INPUT"))
    assert (verdicts.dead, verdicts.shadowed) == (set(), set())


def test_a_raw_chain_sees_a_first_packet_as_a_syn():
    # Before conntrack the state is invalid, but the packet is still a new connection's SYN.
    text = """table inet raw {
    chain pre {
        type filter hook prerouting priority raw; policy accept;
        tcp dport 22 tcp flags syn drop
        tcp dport 23 tcp flags & (syn|ack) == ack drop
    }
}
"""
    tcp = [row for row in summary([nft(text, "raw.nft")]) if row[0] == 6]
    assert tcp == [(6, "internet", ((0, 21), (23, 65535)), False, False)]
    assert verdict(nft(text, "raw.nft"), dport=22) == "drop"


def test_pl302_counts_a_nat_state_as_connection_tracking():
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 10000:20000 -j ACCEPT
-A INPUT -p udp --dport 10000:20000 -m conntrack --ctstate NEW,DNAT -j ACCEPT
COMMIT
"""
    assert [(code, line) for code, line, _ in findings(text, {"PL302"})] == [("PL302", 3)]
