"""Compose and the host firewall in one run: PL220 (Docker's DNAT bypasses INPUT) and PL221
(DOCKER-USER matching a host port), on hand-built rulesets and through the pipeline."""

import importlib

import pytest

from linter.checks import LintRun, Settings
from linter.frontends import FrontEndOptions
from linter.frontends.compose.project import parse
from linter.model import (
    Chain, Direction, Family, Hook, OriginalPortMatch, Policy, PortMatch, PortSet, ProtocolMatch, Rule, Ruleset, Span,
    StateMatch, Table, Verdict, VerdictKind,
)
from linter.pipeline import lint_paths, run_checks
from linter.source import read_source

FW = "/etc/iptables/rules.v4"
TCP = ProtocolMatch(frozenset({6}), text="tcp")
ACCEPT, DROP = Verdict(VerdictKind.ACCEPT), Verdict(VerdictKind.DROP)


def rule(line, verdict, *matches, text=""):
    return Rule(tuple(matches), verdict, Span(FW, line, 1), text=text)


def dport(*ports):
    return PortMatch(Direction.DESTINATION, PortSet.of(*ports))


def firewall(input_rules=(), policy=Policy.DROP, docker_user=None):
    chains = [Chain("INPUT", tuple(input_rules), Span(FW, 2, 1), hook=Hook.INPUT, type="filter", priority=0,
                    policy=policy),
              Chain("FORWARD", (), Span(FW, 3, 1), hook=Hook.FORWARD, type="filter", priority=0, policy=Policy.DROP)]
    if docker_user is not None:
        chains.append(Chain("DOCKER-USER", tuple(docker_user), Span(FW, 4, 1)))
    return Ruleset(FW, "iptables-save", Family.IPV4, (Table("filter", Family.IPV4, tuple(chains), Span(FW, 1, 1)),))


SSH_ONLY = [
    rule(5, ACCEPT, StateMatch(frozenset({"established", "related"})), text="-A INPUT -m conntrack --ctstate "
                                                                           "ESTABLISHED,RELATED -j ACCEPT"),
    rule(6, ACCEPT, TCP, dport(22), text="-A INPUT -p tcp --dport 22 -j ACCEPT"),
]


def project(tmp_path, ports, image="postgres:16"):
    path = tmp_path / "compose.yaml"
    path.write_text(f"services:\n  db:\n    image: {image}\n    ports:\n"
                    + "".join(f'      - "{p}"\n' for p in ports))
    result = parse(read_source(str(path)), FrontEndOptions(environ={}))
    assert result.diagnostics == []
    return result.document


def cross(*documents, codes=("PL220", "PL221")):
    return [f for f in run_checks(LintRun(tuple(documents)), Settings()) if f.code in codes]


def test_pl220_input_policy_drop_does_not_protect_a_published_port(tmp_path):
    [finding] = cross(project(tmp_path, ["5432:5432"]), firewall(SSH_ONLY))
    assert (finding.code, finding.path, finding.line, finding.column) == ("PL220", str(tmp_path / "compose.yaml"), 5, 9)
    assert str(finding.severity) == "high"
    assert "publishes PostgreSQL 5432/tcp" in finding.message and "FORWARD" in finding.message
    assert finding.related == ((FW, 2, 1, "the DROP policy of filter INPUT drops it"),)
    assert finding.ports == ((5432, 5432),)


def test_pl220_judges_the_host_port_not_the_container_port(tmp_path):
    fw = firewall([rule(5, DROP, TCP, dport(5432), text="-A INPUT -p tcp --dport 5432 -j DROP")],
                  policy=Policy.ACCEPT)
    assert cross(project(tmp_path, ["15432:5432"]), fw) == []  # INPUT accepts 15432: nothing is bypassed
    [finding] = cross(project(tmp_path, ["5432:5432"]), fw)
    assert finding.related == ((FW, 5, 1, "drops it: -A INPUT -p tcp --dport 5432 -j DROP"),)


def test_pl220_explicit_drop_on_the_host_port(tmp_path):
    fw = firewall([rule(7, DROP, TCP, dport(15432), text="-A INPUT -p tcp --dport 15432 -j DROP")],
                  policy=Policy.ACCEPT)
    [finding] = cross(project(tmp_path, ["15432:5432"]), fw)
    assert finding.related == ((FW, 7, 1, "drops it: -A INPUT -p tcp --dport 15432 -j DROP"),)


def test_pl220_names_the_drop_rule_in_a_chain_that_drops_by_policy(tmp_path):
    # No later rule accepts 5432 (only 22): the walk drops it at once (engine/hull.py); the
    # finding still names the rule that drops it, not the policy.
    fw = firewall([SSH_ONLY[0], rule(6, DROP, TCP, dport(5432), text="-A INPUT -p tcp --dport 5432 -j DROP"),
                   rule(7, ACCEPT, TCP, dport(22), text="-A INPUT -p tcp --dport 22 -j ACCEPT")])
    [finding] = cross(project(tmp_path, ["5432:5432"]), fw)
    assert finding.related == ((FW, 6, 1, "drops it: -A INPUT -p tcp --dport 5432 -j DROP"),)


def test_pl220_ephemeral_publication(tmp_path):
    [finding] = cross(project(tmp_path, ["6379"], image="redis:7"), firewall(SSH_ONLY))
    assert finding.line == 5 and str(finding.severity) == "critical"
    assert finding.ports == ((32768, 60999),) and "random host port" in finding.message


@pytest.mark.parametrize("ports, fw", [
    (["127.0.0.1:5432:5432"], firewall(SSH_ONLY)),          # loopback only: nothing to bypass
    (["10.0.0.5:5432:5432"], firewall(SSH_ONLY)),           # a private address
    (["5432:5432"], firewall(SSH_ONLY + [rule(7, ACCEPT, TCP, dport(5432))])),  # INPUT accepts it anyway
    (["22:22"], firewall(SSH_ONLY)),                        # INPUT accepts 22
    (["5432:5432"], firewall(SSH_ONLY, docker_user=[rule(9, DROP, TCP, dport(5432))])),  # DOCKER-USER drops it
])
def test_pl220_quiet(tmp_path, ports, fw):
    assert cross(project(tmp_path, ports), fw, codes=("PL220",)) == []


def test_pl220_docker_user_matching_the_host_port_does_not_protect(tmp_path):
    fw = firewall(SSH_ONLY, docker_user=[rule(9, DROP, TCP, dport(15432), text="-A DOCKER-USER -p tcp --dport "
                                                                              "15432 -j DROP")])
    found = cross(project(tmp_path, ["15432:5432"]), fw)
    assert sorted((f.code, f.path, f.line) for f in found) == [
        ("PL220", str(tmp_path / "compose.yaml"), 5), ("PL221", FW, 9)]


def test_pl220_docker_user_matching_the_original_port_protects(tmp_path):
    # Docker's documented DOCKER-USER filter: --ctorigdstport is the host port before the DNAT.
    orig = OriginalPortMatch(Direction.DESTINATION, PortSet.of(15432), text="--ctorigdstport 15432")
    fw = firewall(SSH_ONLY, docker_user=[rule(9, DROP, TCP, orig, text="-A DOCKER-USER -p tcp -m conntrack "
                                                                       "--ctorigdstport 15432 -j DROP")])
    assert cross(project(tmp_path, ["15432:5432"]), fw) == []
    # the container port is not the original one: that rule protects nothing
    wrong = OriginalPortMatch(Direction.DESTINATION, PortSet.of(5432), text="--ctorigdstport 5432")
    fw = firewall(SSH_ONLY, docker_user=[rule(9, DROP, TCP, wrong)])
    assert [f.code for f in cross(project(tmp_path, ["15432:5432"]), fw)] == ["PL220"]


def test_pl220_needs_both_kinds_of_document(tmp_path):
    assert cross(project(tmp_path, ["5432:5432"])) == []
    assert cross(firewall(SSH_ONLY)) == []


def test_pl221_docker_user_rule_on_host_port(tmp_path):
    fw = firewall(SSH_ONLY, docker_user=[
        rule(9, DROP, TCP, dport(8080), text="-A DOCKER-USER -p tcp --dport 8080 -j DROP"),
        rule(10, DROP, TCP, dport(80), text="-A DOCKER-USER -p tcp --dport 80 -j DROP"),
        rule(11, DROP, ProtocolMatch(frozenset({17}), text="udp"), dport(8080)),
        rule(12, DROP, TCP, dport(9000), text="-A DOCKER-USER -p tcp --dport 9000 -j DROP"),
    ])
    found = cross(project(tmp_path, ["8080:80", "9000:9000"]), fw, codes=("PL221",))
    assert [(f.path, f.line) for f in found] == [(FW, 9)]
    [finding] = found
    assert "container port 80" in finding.message and "--dport 80" in finding.hint
    assert finding.related == ((str(tmp_path / "compose.yaml"), 5, 9, "service db publishes 8080:80 here"),)


IPTABLES_SAVE = """\
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp --dport 5432 -j DROP
COMMIT
"""


def test_cross_file_pl220_through_the_pipeline(tmp_path):
    try:
        importlib.import_module("linter.frontends.iptables.save")
    except ModuleNotFoundError:
        pytest.skip("the iptables-save front end is not merged into this branch yet")
    (tmp_path / "rules.v4").write_text(IPTABLES_SAVE)
    (tmp_path / "compose.yaml").write_text(
        'services:\n  db:\n    image: postgres:16\n    ports:\n      - "5432:5432"\n')
    result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    [finding] = [f for f in result.findings if f.code == "PL220"]
    assert finding.path == str(tmp_path / "compose.yaml") and finding.line == 5
    assert finding.related and finding.related[0][0] == str(tmp_path / "rules.v4") and finding.related[0][1] == 8


def test_lint_paths_runs_cross_file_checks_once(tmp_path, monkeypatch):
    """The LintRun mechanism, with a stand-in front end for the firewall file."""
    import sys
    import types

    from linter import frontends
    from linter.frontends import FRONT_ENDS, ParseResult

    fake = types.ModuleType("portlint_test_fake_firewall")

    def fake_parse(source):
        ruleset = firewall(SSH_ONLY)
        return ParseResult(Ruleset(source.path, ruleset.format, ruleset.family, ruleset.tables))

    fake.parse = fake_parse
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setitem(FRONT_ENDS, "iptables-save", fake.__name__)
    frontends._takes_options.cache_clear()
    try:
        (tmp_path / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\nCOMMIT\n")
        (tmp_path / "compose.yaml").write_text('services:\n  db:\n    ports:\n      - "5432:5432"\n')
        result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    finally:
        frontends._takes_options.cache_clear()
    found = [(f.code, f.path, f.line) for f in result.findings if f.code == "PL220"]
    assert found == [("PL220", str(tmp_path / "compose.yaml"), 4)]
    [finding] = [f for f in result.findings if f.code == "PL220"]
    assert finding.source_line == '      - "5432:5432"'
    assert finding.related == ((FW, 2, 1, "the DROP policy of filter INPUT drops it"),)  # the stand-in's spans


def _host(tmp_path, name: str, input_rules: str = "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"):
    folder = tmp_path / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                                     + input_rules + "COMMIT\n")
    return folder


def _compose(folder):
    (folder / "compose.yaml").write_text('services:\n  db:\n    image: postgres:16\n    ports:\n      - "5432:5432"\n')


def _pl220(tmp_path):
    result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    return sorted((f.path, f.line) for f in result.findings if f.code in ("PL220", "PL221"))


def test_pl220_judges_a_compose_file_against_the_rulesets_beside_it(tmp_path):
    pytest.importorskip("linter.frontends.iptables.save")
    web = _host(tmp_path, "web")
    _host(tmp_path, "db", "-A INPUT -p tcp -m tcp --dport 5432 -j ACCEPT\n")  # another host: not joined
    _compose(web)
    assert _pl220(tmp_path) == [(str(web / "compose.yaml"), 5)]


def test_pl220_says_nothing_when_the_host_cannot_be_told(tmp_path):
    pytest.importorskip("linter.frontends.iptables.save")
    for name in ("a", "b", "c"):
        _host(tmp_path, name)
    (tmp_path / "app").mkdir()
    _compose(tmp_path / "app")
    assert _pl220(tmp_path) == []  # three hosts elsewhere: which one runs it?
    crowded = _host(tmp_path, "many")
    for index in range(5):
        (crowded / f"host{index}.rules").write_text((crowded / "rules.v4").read_text())
    _compose(crowded)
    assert _pl220(tmp_path) == []  # six rulesets beside it are several hosts, not one


def test_pl220_in_a_repository_of_thirty_hosts_takes_the_compose_files_own(tmp_path):
    # Thirty rulesets used to be evaluated as one host (30 real dumps took minutes with the engine
    # of the time); now the compose file is judged against the ruleset beside it only.
    pytest.importorskip("linter.frontends.iptables.save")
    rules = "".join(f"-A INPUT -s 10.{i}.0.0/16 -p tcp -m tcp --dport {1000 + i} -j ACCEPT\n" for i in range(40))
    for index in range(30):
        _host(tmp_path, f"host{index:02d}", rules)
    _compose(tmp_path / "host07")
    assert _pl220(tmp_path) == [(str(tmp_path / "host07" / "compose.yaml"), 5)]
