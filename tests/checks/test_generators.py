"""Generated rulesets: the tool is recognised, and hints say what to change in its own terms."""

from __future__ import annotations

from linter.checks import Settings
from linter.checks.generators import generator_of, restrict_hint
from linter.pipeline import lint_file
from tests.conftest import SAMPLES
from tests.engine.helpers import ruleset


def test_generators_are_recognised_by_their_chains():
    assert generator_of(ruleset((SAMPLES / "ufw.rules").read_text())) == "ufw"
    assert generator_of(ruleset((SAMPLES / "docker-host.rules").read_text())) == "docker"
    assert generator_of(ruleset("*filter\n:INPUT DROP [0:0]\n:f2b-sshd - [0:0]\nCOMMIT\n")) == "fail2ban"
    assert generator_of(ruleset("*filter\n:INPUT DROP [0:0]\nCOMMIT\n")) is None


def test_hints_in_the_generators_terms():
    assert restrict_hint("ufw", "ufw-user-input", "tcp", "3389", "rdp") == (
        "ufw delete allow 3389/tcp, then ufw allow from 10.0.0.0/8 to any port 3389 proto tcp "
        "(your own network instead of 10.0.0.0/8)")
    assert restrict_hint("ufw", "ufw-user-input", "tcp", "80,443", None, "dapp_Nginx%20Full") == (
        "ufw delete allow 'Nginx Full', then ufw allow from 10.0.0.0/8 to any app 'Nginx Full' "
        "(your own network instead of 10.0.0.0/8)")
    assert restrict_hint("ufw", "ufw-before-input", "udp", "68", None) == \
        "This rule comes from /etc/ufw/before.rules: edit it there"
    assert restrict_hint("firewalld", "filter_IN_public_allow", "tcp", "23", "telnet").startswith(
        "firewall-cmd --permanent --zone=public --remove-service=telnet")
    assert restrict_hint(None, "INPUT", "tcp", "23", "telnet") is None


def test_ufw_sample_findings_and_hints():
    result = lint_file(str(SAMPLES / "ufw.rules"), Settings())
    found = [(f.code, f.line, str(f.severity), f.hint) for f in result.findings]
    # ufw limit's `-m recent --set` rule records sources: not "a rule that only counts packets".
    assert [f for f in found if f[0] == "PL015"] == []
    assert ("PL201", 102, "high", "ufw delete allow 3389/tcp, then ufw allow from 10.0.0.0/8 to any port 3389 "
                                  "proto tcp (your own network instead of 10.0.0.0/8)") in found


def _generator_name_by_name(tables) -> str | None:
    """What _generator answers, asked of each table and chain name in turn (its plain form)."""
    from linter.checks.generators import _CHAIN_SIGNS, _TABLE_SIGNS

    names = [(table.name, chain.name) for table in tables for chain in table.chains]
    for generator, table_name in _TABLE_SIGNS:
        if any(table == table_name for table, _ in names):
            return generator
    for generator, sign in _CHAIN_SIGNS:
        if any(sign.search(chain) for _, chain in names):
            return generator
    return None


def test_generator_search_of_every_name_at_once_is_exact():
    # The names joined a line each and searched once (re.M) answer what a search per name does:
    # random names built from pieces of every sign, anchors' neighbours and line breaks.
    import random
    from types import SimpleNamespace

    from linter.checks.generators import _generator

    pieces = ["ufw-user-", "ufw6-before-", "ufw-", "filter_", "nat_", "IN_", "FWD_", "_allow", "IN_x_allow",
              "KUBE-", "SERVICES", "SVC-", "NODEPORTS", "f2b-", "LOCALINPUT", "ALLOWIN", "PVEFW-", "net2fw",
              "loc-fw", "DOCKER", "-USER", "-ISOLATION-STAGE-1", "INPUT", "x", "_", "-", "\n", "é"]
    tables_names = ["filter", "nat", "firewalld", "fw4", "inet"]
    rng = random.Random(14)
    for _ in range(3000):
        tables = []
        for _ in range(rng.randint(0, 3)):
            chains = tuple(SimpleNamespace(name="".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))))
                           for _ in range(rng.randint(0, 4)))
            name = rng.choice(tables_names) if rng.random() < 0.1 else "filter"
            tables.append(SimpleNamespace(name=name, chains=chains))
        document = SimpleNamespace(generator=None, tables=tables)
        assert _generator(document) == _generator_name_by_name(tables)
