"""What the front ends tell the model so checks and the engine need not read the syntax:
a chain's role, the loader, set references, notrack statements, a publication's host scope."""

from __future__ import annotations

import textwrap

from linter.compose_nat import compose_as_ruleset
from linter.frontends import FrontEndOptions, parse_source
from linter.model import Family, HostAddress, Statement
from linter.source import SourceFile

SAVE = """\
*raw
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p udp --dport 53 -j CT --notrack
-A PREROUTING -p udp --dport 123 -j NOTRACK
-A PREROUTING -p udp --dport 161 -j CT --zone 1
COMMIT
*mangle
:INPUT ACCEPT [0:0]
COMMIT
*filter
:INPUT DROP [0:0]
:SVC - [0:0]
COMMIT
"""

NFT = """\
table inet f {
  set admins { type ipv4_addr; elements = { 10.0.0.1 } }
  set unused { type ipv4_addr; }
  chain input { type filter hook input priority 0; policy drop;
    ip saddr @admins tcp dport 22 accept
    jump svc
  }
  chain pre { type nat hook prerouting priority dstnat; }
  chain svc { notrack }
}
"""


def parsed(text: str, fmt: str, name: str = "rules"):
    return parse_source(SourceFile(name, text), fmt).document


def roles(ruleset) -> list[tuple[str, str, str | None]]:
    return [(table.name, chain.name, chain.role) for table in ruleset.tables for chain in table.chains]


def test_iptables_chains_carry_their_table_as_role():
    ruleset = parsed(SAVE, "iptables-save")
    assert roles(ruleset) == [("raw", "PREROUTING", "raw"), ("raw", "OUTPUT", "raw"),
                              ("mangle", "INPUT", "mangle"), ("mangle", "PREROUTING", "mangle"),
                              ("mangle", "FORWARD", "mangle"), ("mangle", "OUTPUT", "mangle"),
                              ("mangle", "POSTROUTING", "mangle"), ("filter", "INPUT", "filter"),
                              ("filter", "SVC", "filter"), ("filter", "FORWARD", "filter"),
                              ("filter", "OUTPUT", "filter")]
    assert (ruleset.loader, ruleset.restrict_example, ruleset.generator) == ("iptables", "-s 10.0.0.0/8", None)


def test_iptables_notrack_targets_become_notrack_statements():
    rules = parsed(SAVE, "iptables-save").table("raw").chain("PREROUTING").rules
    assert [rule.statements for rule in rules] == [(Statement("notrack", "notrack"),),
                                                  (Statement("notrack", "notrack"),), ()]


def test_script_rules_carry_role_and_notrack_too():
    script = textwrap.dedent("""\
        #!/bin/sh
        iptables -t raw -A PREROUTING -p udp --dport 53 -j CT --notrack
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        """)
    ruleset = parsed(script, "iptables-script", "firewall.sh")
    raw = ruleset.table("raw").chain("PREROUTING")
    assert (raw.role, raw.rules[0].statements) == ("raw", (Statement("notrack", "notrack"),))
    assert ruleset.table("filter").chain("INPUT").role == "filter"
    assert (ruleset.loader, ruleset.restrict_example) == ("iptables", "-s 10.0.0.0/8")


def test_nft_base_chains_carry_their_type_and_tables_their_used_sets():
    ruleset = parsed(NFT, "nftables", "rules.nft")
    table = ruleset.table("f")
    assert [(chain.name, chain.role) for chain in table.chains] == [("input", "filter"), ("pre", "nat"),
                                                                    ("svc", None)]
    assert table.used_sets == frozenset({"admins"})
    assert table.chain("svc").rules[0].statements[0].name == "notrack"
    assert (ruleset.loader, ruleset.restrict_example) == ("nft", "ip saddr 10.0.0.0/8")


def test_compose_publications_carry_their_host_scope_and_docker_rules_their_origin(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text('services:\n  db:\n    image: postgres\n    ports: ["127.0.0.1:5432:5432", "8080:80",'
                    ' "[2001:db8::1]:443:443", "myhost:25:25"]\n')
    project = parse_source(SourceFile(str(path), path.read_text()), "compose", FrontEndOptions()).document
    hosts = [pub.host for pub in project.services[0].publications]
    assert hosts == [HostAddress("127.0.0.1", "loopback", Family.IPV4, 0x7F000001),
                     HostAddress(None, "all", None),
                     HostAddress("2001:db8::1", "public", Family.IPV6, 0x20010DB8000000000000000000000001),
                     HostAddress("myhost", "invalid", None, reason="a host name")]
    docker = compose_as_ruleset(project)
    assert (docker.loader, docker.generator, docker.restrict_example) == ("docker", "docker", "-s 10.0.0.0/8")
    assert roles(docker) == [("nat", "PREROUTING", "nat"), ("nat", "OUTPUT", "nat"),
                             ("filter", "FORWARD", "filter"), ("filter", "DOCKER", "filter")]


def test_iptables_queue_and_mirror_targets_say_their_outcome():
    ruleset = parsed("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 80 -j NFQUEUE --queue-num 0\n"
                     "-A INPUT -p tcp --dport 81 -j MIRROR\n-A INPUT -p tcp --dport 82 -j TPROXY --on-port 1\n"
                     "COMMIT\n", "iptables-save")
    verdicts = [rule.verdict for rule in ruleset.table("filter").chain("INPUT").rules]
    assert [(v.target, v.terminal, v.other_outcome) for v in verdicts] == [
        ("NFQUEUE", True, "queue"), ("MIRROR", True, "drop"), ("TPROXY", True, None)]
