"""compose_as_ruleset: Docker's rules for a compose project, and what the engine makes of them."""

from linter.compose_nat import (
    DOCKER_EPHEMERAL, addresses_overlap, compose_as_ruleset, image_of, is_ephemeral,
)
from linter.engine.exposure import ExposureAnalysis
from linter.frontends import FrontEndOptions
from linter.frontends.compose.host_scope import host_address
from linter.frontends.compose.project import parse
from linter.model import Family, Hook, Policy, VerdictKind
from linter.source import read_source

COMPOSE = """\
services:
  web:
    ports:
      - "8080:80"
      - "127.0.0.1:5432:5432"
      - "3000"
      - "9090-9091:8080-8081/udp"
      - "[::1]:7000:7000"
    expose: ["9999"]
  host:
    network_mode: host
    ports: ["1234:1234"]
"""


def load(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(COMPOSE)
    return parse(read_source(str(path)), FrontEndOptions(environ={})).document


def test_docker_rules(tmp_path):
    project = load(tmp_path)
    ruleset = compose_as_ruleset(project)
    assert ruleset.format == "compose" and ruleset.family is Family.IPV4
    nat = ruleset.table("nat")
    prerouting, output = nat.chains
    assert (output.name, output.hook, output.type, output.priority) == ("OUTPUT", Hook.OUTPUT, "nat", -100)
    assert output.rules == prerouting.rules  # the host's own connections take the same DNATs
    assert (prerouting.name, prerouting.hook, prerouting.type, prerouting.priority, prerouting.policy) == (
        "PREROUTING", Hook.PREROUTING, "nat", -100, Policy.ACCEPT)
    assert [r.text for r in prerouting.rules] == [
        "-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
        "-A PREROUTING -d 127.0.0.1/32 -p tcp --dport 5432 -j DNAT --to-destination 172.17.0.2:5432",
        "-A PREROUTING -p tcp --dport 32768:60999 -j DNAT --to-destination 172.17.0.2:3000",
        "-A PREROUTING -p udp --dport 9090 -j DNAT --to-destination 172.17.0.2:8080",
        "-A PREROUTING -p udp --dport 9091 -j DNAT --to-destination 172.17.0.2:8081",
    ]
    assert [r.span.line for r in prerouting.rules] == [4, 5, 6, 7, 7]
    assert [is_ephemeral(r) for r in prerouting.rules] == [False, False, True, False, False]
    assert all(r.verdict.kind is VerdictKind.DNAT for r in prerouting.rules)
    forward, docker = ruleset.table("filter").chains
    assert (forward.hook, forward.policy, forward.rules[0].verdict.target) == (Hook.FORWARD, Policy.DROP, "DOCKER")
    assert [r.text for r in docker.rules] == [
        "-A DOCKER -d 172.17.0.2/32 -p tcp --dport 80 -j ACCEPT",
        "-A DOCKER -d 172.17.0.2/32 -p tcp --dport 5432 -j ACCEPT",
        "-A DOCKER -d 172.17.0.2/32 -p tcp --dport 3000 -j ACCEPT",
        "-A DOCKER -d 172.17.0.2/32 -p udp --dport 8080:8081 -j ACCEPT",
    ]


def test_engine_sees_dockers_path(tmp_path):
    project = load(tmp_path)
    analysis = ExposureAnalysis([compose_as_ruleset(project)])
    forwarded = {(e.protocol, e.ports, e.reach): e for e in analysis.exposures() if e.forwarded}
    web = forwarded[(6, ((8080, 8080),), "internet")]
    assert web.nat_targets == ("172.17.0.2 port 80",) and web.primary.span.line == 4
    assert (6, ((DOCKER_EPHEMERAL,)), "internet") in forwarded
    assert forwarded[(17, ((9090, 9090),), "internet")].nat_ports == ((8080, 8080),)  # one DNAT per port pair
    assert forwarded[(17, ((9091, 9091),), "internet")].nat_ports == ((8081, 8081),)
    # the loopback publication is reachable from this host only
    assert (6, ((5432, 5432),), "loopback") in forwarded
    assert (6, ((5432, 5432),), "internet") not in forwarded


def test_host_addresses():
    assert [host_address(h).scope for h in (None, "0.0.0.0", "::", "[::]", "::ffff:0.0.0.0")] == ["all"] * 5
    assert host_address("127.0.0.5").scope == "loopback" and host_address("::1").scope == "loopback"
    assert host_address("192.168.1.1").scope == "private" and host_address("fd00::1").scope == "private"
    assert host_address("93.184.216.34").scope == "public"
    assert host_address("localhost").reason == "a host name"
    assert host_address("300.1.1.1").reason == "malformed"
    assert (host_address("").scope, host_address("").reason) == ("invalid", "empty")  # Compose refuses it
    assert host_address("  ").reason == "empty"


def test_generated_rules_carry_the_image(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text('services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432", "5433"]\n'
                    '  app:\n    ports: ["8080:80"]\n')
    project = parse(read_source(str(path)), FrontEndOptions(environ={})).document
    nat = compose_as_ruleset(project).tables[0].chain("PREROUTING")
    assert [(rule.comment, image_of(rule), is_ephemeral(rule)) for rule in nat.rules] == [
        ("compose service db, image postgres:16", "postgres:16", False),
        ("portlint:ephemeral-host-port compose service db, image postgres:16", "postgres:16", True),
        ("compose service app", None, False),
    ]


def test_address_overlap():
    every, v4, v6 = host_address(None), host_address("0.0.0.0"), host_address("::")
    one, other = host_address("10.0.0.1"), host_address("10.0.0.2")
    assert addresses_overlap(every, one) and addresses_overlap(v4, one) and addresses_overlap(one, one)
    assert not addresses_overlap(v6, one) and not addresses_overlap(one, other) and not addresses_overlap(v4, v6)
