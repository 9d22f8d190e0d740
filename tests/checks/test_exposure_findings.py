"""Findings an engineer would sign: one per cause, calibrated on reach, interface roles read
from the ruleset (issues 12 and 13)."""

from __future__ import annotations

import pytest

from linter.checks import Settings
from linter.collapse import collapse_repeats
from linter.engine.roles import infer_roles
from linter.findings import Finding, Severity
from linter.pipeline import lint_file, run_checks
from tests.engine.helpers import ruleset

EXPOSURE = {"PL101", "PL201", "PL202", "PL302", "PL401"}

ROUTER = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 192.168.1.0/24 -o ppp0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -i eth1 -p tcp -m tcp --dport 445 -j ACCEPT
-A INPUT -i ppp0 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 23,3306 -j ACCEPT
-A INPUT -p udp -m udp --dport 10000:20000 -j ACCEPT
-A INPUT -s 198.51.100.7/32 -p tcp -m tcp --dport 5432 -j ACCEPT
-A INPUT -s 198.51.0.0/16 -p tcp -m tcp --dport 6379 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 1024:65535 -j ACCEPT
COMMIT
"""


def exposure_findings(text: str, settings: Settings | None = None) -> list[tuple[int, str, str, str]]:
    found = run_checks(ruleset(text), settings or Settings())
    return sorted((f.line, f.code, str(f.severity), f.message) for f in found if f.code in EXPOSURE)


def test_router_one_finding_per_rule_calibrated_on_reach():
    assert exposure_findings(ROUTER) == [
        # eth1 is the LAN: MASQUERADE -o ppp0 says where the internet is.
        (13, "PL201", "low", "port 445/tcp (commonly smb) is reachable from internal networks on eth1; it is also "
                             "unencrypted"),
        (14, "PL201", "info", "port 22/tcp (commonly ssh) is reachable from the internet on ppp0"),
        # Two services of one rule: one finding, rated by the worse (telnet); databases listed first.
        (15, "PL101", "critical", "2 services are reachable from the internet on ppp0: mysql (3306/tcp), "
                                  "telnet (23/tcp); plaintext: telnet"),
        # A deliberate range is one finding about the range, not critical for memcached's number.
        (16, "PL302", "medium", "10001 ports (10000-20000/udp) are reachable from the internet on ppp0 without "
                                "connection tracking; includes memcached 11211, dnp3 20000, gelf 12201, "
                                "ubiquiti-discovery 10001, dropbox-lansync 17500, minecraft-bedrock 19132-19133"),
        # One admin host: low. A /16: one step below the internet.
        (17, "PL201", "low", "port 5432/tcp (commonly postgresql) is reachable from 198.51.100.7 only on ppp0; it is "
                             "also unencrypted"),
        (18, "PL201", "high", "port 6379/tcp (commonly redis) is reachable from 198.51.0.0/16 only on ppp0; it is "
                              "also unencrypted"),
        (19, "PL302", "critical", "every other tcp port (64511 ports) is reachable from the internet on ppp0 without "
                                  "connection tracking; includes docker 2375, etcd 2379, nomad 4646, mesos-master "
                                  "5050, hazelcast 5701-5703, redis 6379 and 272 more"),
    ]


COMMENTED = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m tcp --dport 9001 -m comment --comment "tor ORPort" -j ACCEPT
-A INPUT -p tcp -m tcp --dport 15432 -m comment --comment "postgres replica" -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -m comment --comment "ssh for the admins" -j ACCEPT
-A INPUT -p tcp -m tcp --dport 2323 -m comment --comment "legacy console" -j ACCEPT
-A INPUT -p udp -m udp --dport 10000:20000 -m comment --comment "asterisk rtp" -j ACCEPT
-A INPUT -p tcp -m tcp --dport 9090 -j ACCEPT
COMMIT
"""


def test_the_rules_own_words_name_the_service():
    assert exposure_findings(COMMENTED) == [
        # 9001 "tor ORPort": Tor (no finding), not supervisord. 15432 "postgres": PostgreSQL.
        (4, "PL201", "high", "postgresql (15432/tcp, per the rule's comment) is reachable from the internet; it is "
                             "also unencrypted"),
        # A comment never makes a riskier port harmless: "ssh" on 23 is still Telnet's port, and words
        # that name nothing ("legacy console") leave the port's service.
        (5, "PL101", "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet"),
        (6, "PL101", "critical", "port 2323/tcp (commonly telnet-alt) is a plaintext protocol reachable from the "
                                 "internet"),
        # The range's purpose from its comment: a deliberate range (PL202), not a stateless reply hole.
        (7, "PL202", "medium", "10001 ports (10000-20000/udp, asterisk rtp per the rule's comment) are reachable from "
                               "the internet; includes memcached 11211, dnp3 20000, gelf 12201, ubiquiti-discovery "
                               "10001, dropbox-lansync 17500, minecraft-bedrock 19132-19133"),
        (8, "PL101", "high", "port 9090/tcp (commonly prometheus) is a plaintext protocol reachable from the internet"),
    ]


def test_without_evidence_every_interface_may_face_the_internet():
    text = ROUTER.replace("-A POSTROUTING -s 192.168.1.0/24 -o ppp0 -j MASQUERADE\n", "# no NAT\n")
    found = {line: (code, severity) for line, code, severity, _ in exposure_findings(text)}
    assert found[13] == ("PL201", "critical")  # smb on eth1: nothing says eth1 is internal


def test_configured_interfaces_override_inference():
    settings = Settings(internal_interfaces=("ppp0",), internet_interfaces=("eth1",))
    found = {line: (code, severity) for line, code, severity, _ in exposure_findings(ROUTER, settings)}
    assert found[13] == ("PL201", "critical")
    assert 14 not in found  # ssh on ppp0, now internal: info, not reported


@pytest.mark.parametrize("rule, internet", [
    ("-A POSTROUTING -o eth0 -j MASQUERADE", ("eth0",)),
    ("-A POSTROUTING -o wan+ -j SNAT --to-source 203.0.113.1", ("wan*",)),
    ("-A POSTROUTING ! -o docker0 -j MASQUERADE", ()),  # negated: says nothing
    ("-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE", ()),  # Docker's hairpin
    ("-A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2", ("eth0",)),
])
def test_internet_interfaces_inferred_from_nat(rule, internet):
    text = f"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n{rule}\nCOMMIT\n"
    assert infer_roles([ruleset(text)]).internet == internet


ANTI_SPOOF = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOG_DROP - [0:0]
:NOTFROMHERE - [0:0]
-A INPUT -i eth1.110 -j NOTFROMHERE
-A FORWARD -i eth1.110 -j NOTFROMHERE
-A FORWARD -d 198.51.100.7/32 -p tcp -m tcp --dport 23 -j ACCEPT
-A FORWARD -d 198.51.100.8/32 -i eth1.20 -p tcp -m tcp --dport 445 -j ACCEPT
-A LOG_DROP -j LOG
-A LOG_DROP -j DROP
-A NOTFROMHERE -s 198.51.100.0/24 -j LOG_DROP
-A NOTFROMHERE -s 203.0.113.0/24 -j DROP
-A NOTFROMHERE -j RETURN
COMMIT
"""


def test_an_ingress_filter_names_the_uplink():
    """Packets claiming this site's own sources are dropped only where forgers are: outside."""
    roles = infer_roles([ruleset(ANTI_SPOOF)])
    assert roles.internet == ("eth1.110",)
    assert roles.evidence["eth1.110"] == "spoofed sources dropped on arrival from it (NOTFROMHERE) at line 7"
    assert roles.is_internal("eth1.20") and not roles.is_internal("eth1.110")


def test_an_ingress_filter_is_only_drops_by_source():
    text = ANTI_SPOOF.replace("-A NOTFROMHERE -s 203.0.113.0/24 -j DROP", "-A NOTFROMHERE -s 203.0.113.0/24 -j ACCEPT")
    assert infer_roles([ruleset(text)]).internet == ()
    one_prefix = ANTI_SPOOF.replace("-A NOTFROMHERE -s 203.0.113.0/24 -j DROP\n", "")
    assert infer_roles([ruleset(one_prefix)]).internet == ()


def test_routed_exposure_from_the_uplink_is_the_internet_and_from_a_vlan_is_internal(tmp_path):
    path = tmp_path / "router.rules"
    path.write_text(ANTI_SPOOF)
    found = [(f.code, f.line, str(f.severity), f.message) for f in lint_file(str(path), Settings()).findings
             if f.code in EXPOSURE]
    assert found == [
        ("PL101", 9, "critical", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the "
                                 "internet on eth1.110 routed to 198.51.100.7"),
        ("PL201", 10, "low", "port 445/tcp (commonly smb) is reachable from internal networks on eth1.20 "
                             "routed to 198.51.100.8; it is also unencrypted"),
    ]


def test_conventional_names_are_internal():
    roles = infer_roles([])
    assert [roles.is_internal(name) for name in ("lo", "docker0", "br-1a2b", "wg0", "lan", "eth0", "ens3")] == [
        True, True, True, True, True, False, False]


def test_empty_nft_input_chain_accepts_everything_once():
    from linter.frontends.nftables import parse
    from linter.source import SourceFile

    text = "table inet filter {\n  chain input {\n    type filter hook input priority 0; policy accept;\n  }\n}\n"
    document = parse(SourceFile("fw.nft", text)).document
    found = [(f.code, f.line, str(f.severity)) for f in run_checks(document, Settings()) if f.code in EXPOSURE]
    assert found == [("PL401", 2, "critical")]


def test_ufw_fragment_has_no_policy_to_judge(tmp_path):
    path = tmp_path / "before.rules"
    path.write_text("*filter\n:ufw-before-input - [0:0]\n-A ufw-before-input -j ufw-logging-deny\n"
                    "-A ufw-before-input -p tcp --dport 23 -j ACCEPT\nCOMMIT\n")
    found = sorted((f.code, f.line, str(f.severity)) for f in lint_file(str(path), Settings()).findings)
    # No PL401 for the INPUT the file never declares; the jump to ufw's own chain is info; ufw's
    # chain is not "unused"; the telnet accept is judged (reached only when ufw jumps here).
    assert ("PL401", 1, "critical") not in found and ("PL401", 1, "medium") not in found
    assert ("PL404", 3, "info") in found
    assert not [f for f in found if f[0] == "PL405"]


def _finding(line: int, code: str = "PL015", message: str = "Rule has no target; it only counts packets") -> Finding:
    return Finding(code=code, name="x", severity=Severity.INFO, category="hygiene", path="a.rules", line=line,
                   column=1, message=message)


def test_repeated_low_value_findings_collapse_with_a_count():
    many = [_finding(line) for line in (10, 11, 12, 13, 14, 15, 16)]
    other = _finding(5, "PL402", "dead")
    collapsed = collapse_repeats([other] + many)
    assert [f.line for f in collapsed] == [5, 10]
    assert collapsed[1].message == ("Rule has no target; it only counts packets "
                                    "(6 more like it in this file: lines 11, 12, 13, 14, 15, ...)")
    assert [r[1] for r in collapsed[1].related] == [11, 12, 13, 14, 15, 16]
    assert collapse_repeats(many[:3]) == many[:3]  # three stay three


def test_exact_duplicates_are_reported_once():
    twice = [_finding(3, "PL401", "Base chain INPUT accepts by default"), _finding(3, "PL401", "Base chain INPUT accepts by default")]
    assert collapse_repeats(twice) == twice[:1]


def test_numeric_ct_states_of_nft_list_output(tmp_path):
    path = tmp_path / "ruleset.nft"
    path.write_text("table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n"
                    "  ct state 0x6 accept\n  ct state 0x8 tcp dport 23 accept\n }\n}\n")
    found = sorted((f.code, f.line, str(f.severity)) for f in lint_file(str(path), Settings()).findings)
    assert found == [("PL101", 5, "critical")]  # 0x6 established,related; 0x8 new: no PL011, no "possibly"


@pytest.mark.parametrize("comment, internet", [("VPN Source NAT", ()), ("Internet Source NAT", ("rex9",))])
def test_a_vpn_masquerade_says_nothing_about_the_internet(comment, internet):
    text = f'*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o rex9 -m comment --comment "{comment}" -j MASQUERADE\nCOMMIT\n'
    assert infer_roles([ruleset(text)]).internet == internet


def test_docker_user_accept_all_is_reported_once(tmp_path):
    from tests.conftest import SAMPLES

    text = (SAMPLES / "docker-host.rules").read_text().replace("-A DOCKER-USER -j RETURN", "-A DOCKER-USER -j ACCEPT")
    path = tmp_path / "docker.rules"
    path.write_text(text)
    found = [(f.code, f.line, str(f.severity)) for f in lint_file(str(path), Settings()).findings
             if f.code in ("PL201", "PL222")]
    # The published PostgreSQL stays high (Docker's -o docker0 after the DNAT is routing, not a
    # condition on who connects); the unconditional accept is one PL222 on its line.
    assert found == [("PL201", 16, "high"), ("PL222", 48, "high")]


def test_ordinary_services_of_a_file_are_one_note():
    ssh = Finding(code="PL201", name="x", severity=Severity.INFO, category="exposure", path="a.rules", line=9,
                  column=1, message="port 22/tcp (commonly ssh) is reachable from the internet")
    http = Finding(code="PL101", name="x", severity=Severity.INFO, category="plaintext", path="a.rules", line=10,
                   column=1, message="port 80/tcp (commonly http) is a plaintext protocol reachable from the internet")
    telnet = Finding(code="PL101", name="x", severity=Severity.CRITICAL, category="plaintext", path="a.rules",
                     line=11, column=1, message="port 23/tcp (commonly telnet) is a plaintext protocol reachable")
    collapsed = collapse_repeats([ssh, http, telnet])
    assert [(f.code, f.line) for f in collapsed] == [("PL201", 9), ("PL101", 11)]
    assert collapsed[0].message == ("port 22/tcp (commonly ssh) is reachable from the internet; so are "
                                    "port 80/tcp (commonly http) (line 10)")


def test_docker_bridge_routes_decide_the_output_interface():
    from linter.engine.roles import bridge_subnets
    from linter.engine.trace import make_flow, trace_flow
    from tests.conftest import SAMPLES

    rules = ruleset((SAMPLES / "docker-host.rules").read_text())
    assert [(name, ranges) for name, _family, ranges in bridge_subnets([rules])] == [
        ("docker0", ((0xAC110000, 0xAC11FFFF),))]  # -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
    # check and trace agree: PostgreSQL published by Docker is accepted, not "possibly".
    found = [f for f in run_checks(rules, Settings()) if f.code == "PL201"]
    assert [(f.line, "possibly" in f.message) for f in found] == [(16, False)]
    assert trace_flow(make_flow(src="198.51.100.4", dport=5432, iface="eth0"), [rules]).verdict == "accept"


HETZNER = """*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 203.0.113.4/32 -p tcp -m multiport ! --dports 22,8006 -j DNAT --to-destination 192.168.10.2
-A POSTROUTING -s 192.168.10.0/24 -o vmbr0 -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -j DROP
-A INPUT -p sctp -j DROP
COMMIT
"""


def test_a_catch_all_dnat_leaves_the_host_only_the_ports_it_keeps():
    from linter.engine.roles import host_addresses
    from linter.model import Family

    assert host_addresses([ruleset(HETZNER)]) == {Family.IPV4: ((0xCB007104, 0xCB007104),)}
    found = {(f.line, f.code): f for f in run_checks(ruleset(HETZNER), Settings())
             if f.code in ("PL201", "PL202", "PL401")}
    # The host's own INPUT sees only 22 and 8006 (every other port goes to the VM): the default
    # accept is about those two, not every port; the VM's ports are the DNAT's finding.
    assert found[(8, "PL401")].ports == ((22, 22), (8006, 8006))
    assert str(found[(8, "PL401")].severity) == "high"
    assert found[(4, "PL202")].message.startswith("every other tcp port (65534 ports) is reachable from the internet "
                                                  "on vmbr0 through DNAT to 192.168.10.2")


def test_configured_host_addresses(tmp_path):
    from linter.config import load_config
    from linter.model import Family

    config = tmp_path / ".portlint.toml"
    config.write_text('host-addresses = ["198.51.100.9"]\n')
    settings = load_config(config).settings()
    assert settings.host_addresses == ((Family.IPV4, 0xC6336409, 0xC6336409),)
    text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -d 198.51.100.10 -p tcp --dport 23 -j ACCEPT\nCOMMIT\n"
    assert [f.code for f in run_checks(ruleset(text), settings) if f.code == "PL101"] == []  # not this host
    assert [f.code for f in run_checks(ruleset(text), Settings()) if f.code == "PL101"] == ["PL101"]


def test_causes_sharing_their_first_exposures_shape_keep_their_own_ports():
    # Port 23 alone, internet, no comment: rules 6, 7 and 8's first exposures have one shape, so
    # the second and third causes share one set of ports and services; rule 8's later exposure
    # (2323, not on eth0) must reach neither rule 7's finding nor rule 6's.
    text = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i eth0 -p tcp -m tcp --dport 2323 -j DROP
-A INPUT -i eth5 -p tcp -m tcp --dport 23 -j ACCEPT
-A INPUT -i eth6 -p tcp -m tcp --dport 23 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 23,2323 -j ACCEPT
COMMIT
"""
    assert exposure_findings(text) == [
        (6, "PL101", "critical",
         "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet on eth5"),
        (7, "PL101", "critical",
         "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet on eth6"),
        (8, "PL101", "critical", "2 services are reachable from the internet: telnet (23/tcp), telnet-alt (2323/tcp);"
                                 " plaintext: telnet, telnet-alt"),
    ]


def test_ephemeral_exposures_picked_by_causes_are_what_its_own_pass_picks():
    # _causes picks PL301's exposures in its own pass (exposure_checks._ephemeral_exposures reads
    # them): the same exposures, in the same order, as PL301's own pass over the summary.
    import random

    from linter.checks import CheckContext
    from linter.checks import exposure_checks

    rng = random.Random(301)
    picked_in_all = 0
    for _ in range(40):
        lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
        for _ in range(rng.randint(1, 12)):
            proto = rng.choice(["tcp", "udp", "sctp", "icmp"])
            port = rng.choice([22, 80, 33000, 40000, 49200, 60999, 61000, 65000])
            source = rng.choice(["", "-s 198.51.100.7/32 ", "-s 10.0.0.0/8 ", "-i lo ", "-i eth1 "])
            if proto == "icmp":
                lines.append(f"-A INPUT {source}-p icmp -j ACCEPT")
            elif rng.random() < 0.2:
                lines.append(f"-A INPUT {source}-p {proto} -m {proto} --dport {port}:{port + 20} -j ACCEPT")
            else:
                lines.append(f"-A INPUT {source}-p {proto} -m {proto} --dport {port} -j ACCEPT")
        lines.append("COMMIT")
        document = ruleset("\n".join(lines) + "\n")
        for settings in (Settings(), Settings(ephemeral_ranges=(("IANA", 49152, 65535), ("low", 30000, 40000)))):
            alone = CheckContext(document, settings)
            own, own_overlaps = exposure_checks._ephemeral_exposures(alone)
            after = CheckContext(document, settings)
            exposure_checks._causes(after)
            picked, picked_overlaps = exposure_checks._ephemeral_exposures(after)
            assert [(e.protocol, e.ports, e.reach, e.sources, e.interfaces) for e in picked] == \
                [(e.protocol, e.ports, e.reach, e.sources, e.interfaces) for e in own]
            assert [picked_overlaps(e.ports) for e in picked] == [own_overlaps(e.ports) for e in own]
            picked_in_all += len(picked)
    assert picked_in_all > 40  # (the random rulesets do overlap the ranges)
