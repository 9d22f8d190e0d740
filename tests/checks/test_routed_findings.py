"""Routed exposure as findings (issue 12, item 4): FORWARD rules and policies that admit new
connections to the hosts behind a router, with the host path's codes and severities, one finding
per rule or group of rules, naming the destination networks (linter/checks/routed_checks.py)."""

from __future__ import annotations

from pathlib import Path

from linter.checks import Settings
from linter.pipeline import lint_file, run_checks
from tests.engine.helpers import ruleset

EXPOSURE = {"PL101", "PL201", "PL202", "PL302", "PL401"}
CASES = Path(__file__).parent.parent / "conformance" / "cases"

NAT = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
"""

HOME_ROUTER = NAT + """*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -d 192.168.1.10 -p tcp --dport 23 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -d 192.168.1.0/24 -p tcp --dport 3389 -j ACCEPT
COMMIT
"""

VLANS = NAT + """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:vlan10 - [0:0]
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1.+ -o eth0 -j ACCEPT
-A FORWARD -o eth1.10 -j vlan10
-A FORWARD -i eth1.20 -o eth1.30 -d 10.30.0.0/24 -p tcp --dport 445 -j ACCEPT
-A FORWARD -i eth0 -o eth1.30 -d 10.30.0.0/24 -p tcp --dport 80 -j ACCEPT
-A vlan10 -d 10.10.0.5/32 -p tcp --dport 23 -j ACCEPT
-A vlan10 -d 10.10.0.6/32 -p tcp --dport 23 -j ACCEPT
-A vlan10 -d 10.10.0.9/32 -p tcp --dport 23 -j ACCEPT
-A vlan10 -d 10.10.0.12/32 -p tcp --dport 23 -j ACCEPT
-A vlan10 -d 10.10.0.20/32 -p tcp -m multiport --dports 3306,5432 -j ACCEPT
COMMIT
"""


def exposure_findings(text: str) -> list[tuple[int, str, str, str]]:
    found = run_checks(ruleset(text), Settings())
    return sorted((f.line, f.code, str(f.severity), f.message) for f in found if f.code in EXPOSURE)


def test_home_router_forward_policy_and_rules():
    assert exposure_findings(HOME_ROUTER) == [
        # The FORWARD policy lets the internet (eth0, MASQUERADE's output) through to the LAN:
        # judged as INPUT's policy would be, once, on the policy line.
        (10, "PL401", "critical", "Base chain FORWARD accepts by default: every tcp, udp and sctp port is reachable "
                                  "from the internet on eth0 routed to any address, including docker 2375, etcd 2379, "
                                  "nomad 4646, mesos-master 5050, hazelcast 5701-5703, redis 6379 and 398 more"),
        (16, "PL101", "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet "
                                  "on eth0 routed to 192.168.1.10"),
        (17, "PL201", "high", "port 3389/tcp (commonly rdp) is reachable from the internet on eth0 routed to "
                              "192.168.1.0/24"),
        # Line 15 (the LAN out to the internet) is what a router is for: no finding.
    ]


def test_rules_of_one_vlan_chain_are_one_finding():
    assert exposure_findings(VLANS) == [
        # From another VLAN (internal: MASQUERADE says eth0 is the outside): low.
        (16, "PL201", "low", "port 445/tcp (commonly smb) is reachable from internal networks on eth1.20 routed to "
                             "10.30.0.0/24; it is also unencrypted"),
        (17, "PL101", "info", "port 80/tcp (commonly http) is a plaintext protocol reachable from the internet on "
                              "eth0 routed to 10.30.0.0/24"),
        # Four rules opening telnet to four hosts of VLAN 10: one finding naming the hosts.
        (18, "PL101", "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet "
                                  "on eth0 routed to 10.10.0.5-10.10.0.6, 10.10.0.9, 10.10.0.12 by 4 rules "
                                  "(lines 18, 19, 20 and 1 more)"),
        (22, "PL201", "high", "2 services are reachable from the internet on eth0 routed to 10.10.0.20: mysql "
                              "(3306/tcp), postgresql (5432/tcp); plaintext: postgresql"),
    ]


def test_forward_policy_with_no_known_uplink_stays_a_hygiene_finding():
    # Nothing says which interface faces the internet: connections to anywhere may be the LAN
    # going out, so the policy keeps the medium hygiene finding, not an exposure.
    text = """*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth1 -o eth2 -d 10.2.0.0/24 -p tcp --dport 22 -j ACCEPT
COMMIT
"""
    assert exposure_findings(text) == [
        (3, "PL401", "medium", "Base chain FORWARD accepts by default: policy accept and no final drop"),
        (5, "PL201", "info", "port 22/tcp (commonly ssh) is reachable from the internet on eth1 routed to "
                             "10.2.0.0/24"),
    ]


def test_routed_and_local_findings_of_one_rule_keep_apart_fingerprints():
    text = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:allowed - [0:0]
-A INPUT -j allowed
-A FORWARD -d 10.9.0.0/16 -j allowed
-A allowed -p tcp --dport 23 -j ACCEPT
COMMIT
"""
    found = [f for f in run_checks(ruleset(text), Settings()) if f.code == "PL101"]
    assert sorted((f.line, str(f.severity), f.message) for f in found) == [
        (8, "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet"),
        (8, "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet "
                        "routed to 10.9.0.0/16"),
    ]
    assert len({f.fingerprint for f in found}) == 2


def test_docker_published_ports_are_not_reported_twice():
    # Docker's DOCKER chain accepts what its DNAT sent on: the host path reports those ports as
    # forwarded (lines 11 and 12); the routed path adds nothing for Docker's chains.
    findings = lint_file(str(CASES / "docker-user.rules"), Settings()).findings
    assert not [f for f in findings if "routed to" in f.message]
    assert sorted((f.line, f.code) for f in findings if f.code in EXPOSURE) == [
        (11, "PL201"), (12, "PL101"), (22, "PL201")]


def test_a_rule_that_names_only_the_output_interface_says_it():
    text = NAT + """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -i eth0 -o virbr0 -p tcp -m multiport --dports 5432,6379 -j ACCEPT
COMMIT
"""
    assert exposure_findings(text) == [
        (12, "PL201", "critical", "2 services are reachable from the internet on eth0 routed to any address out of "
                                  "virbr0: redis (6379/tcp), postgresql (5432/tcp); plaintext: redis, postgresql"),
    ]


def test_checks_evaluate_the_routed_path_for_port_protocols_only():
    from linter.engine.exposure import ExposureAnalysis

    ports_only = ExposureAnalysis([ruleset(VLANS)], loopback=False, routed_protocols=((6, 6), (17, 17), (132, 132)))
    everything = ExposureAnalysis([ruleset(VLANS)], loopback=False)
    assert {e.protocol for e in ports_only.routed_exposures()} == {6, 17, 132}

    def key(e):
        return (e.protocol, e.reach, e.ports, e.sources, sorted(e.interfaces), e.destinations, sorted(e.out_interfaces))
    assert sorted(map(key, ports_only.routed_exposures())) == \
        sorted(key(e) for e in everything.routed_exposures() if e.protocol in (6, 17, 132))
