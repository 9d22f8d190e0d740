"""Adding an ACCEPT rule never lowers the worst severity of a ruleset's findings.

An accept can only let more in: whatever it changes in how findings are grouped, named or
calibrated, the worst finding must not get milder. Random small iptables-save rulesets (seeded,
so a failure reproduces) get one random accept inserted at a random place.
"""

from __future__ import annotations

import random

import pytest

from linter.checks import Settings
from linter.findings import Severity
from linter.pipeline import run_checks
from tests.engine.helpers import ruleset

CASES = 250
PORTS = ("22", "23", "80", "445", "3306", "5432", "6379", "2375", "9001", "161", "10000:20000", "1024:65535",
         "21,23,3389")
SOURCES = ("198.51.100.7/32", "198.51.0.0/16", "10.0.0.0/8", "0.0.0.0/1", "203.0.113.0/24")
INTERFACES = ("eth0", "eth1", "lo", "wg0", "docker0")
COMMENTS = ("tor ORPort", "ssh", "postgres", "asterisk rtp", "legacy console")


def _match(rng: random.Random) -> str:
    parts = []
    if rng.random() < 0.7:
        proto = rng.choice(("tcp", "udp"))
        parts.append(f"-p {proto}")
        if rng.random() < 0.8:
            ports = rng.choice(PORTS)
            parts.append(f"-m multiport --dports {ports}" if "," in ports else f"-m {proto} --dport {ports}")
    if rng.random() < 0.3:
        parts.append(f"{'! ' if rng.random() < 0.2 else ''}-s {rng.choice(SOURCES)}")
    if rng.random() < 0.3:
        parts.append(f"{'! ' if rng.random() < 0.2 else ''}-i {rng.choice(INTERFACES)}")
    if rng.random() < 0.2:
        parts.append(f"-m conntrack --ctstate {rng.choice(('NEW', 'ESTABLISHED,RELATED', 'INVALID'))}")
    if rng.random() < 0.1:
        parts.append(f'-m comment --comment "{rng.choice(COMMENTS)}"')
    return " ".join(parts)


def _rule(rng: random.Random, target: str | None = None) -> str:
    target = target or rng.choice(("ACCEPT", "ACCEPT", "DROP", "REJECT", "SVC"))
    return f"-A {rng.choice(('INPUT', 'INPUT', 'SVC'))} {_match(rng)} -j {target}".replace("-A SVC -j SVC", "-A SVC -j RETURN")


def _ruleset(rules: list[str], policy: str, nat: str) -> str:
    body = "\n".join(r for r in rules if not r.startswith("-A SVC") or "-j SVC" not in r)
    return (f"*nat\n:PREROUTING ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n{nat}COMMIT\n"
            f"*filter\n:INPUT {policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:SVC - [0:0]\n{body}\nCOMMIT\n")


def _worst(text: str) -> Severity:
    found = run_checks(ruleset(text), Settings())
    return max((f.severity for f in found if f.code in ("PL101", "PL201", "PL202", "PL302", "PL401")),
               default=Severity.INFO)


@pytest.mark.parametrize("seed", range(CASES))
def test_adding_an_accept_never_lowers_the_worst_severity(seed):
    rng = random.Random(seed)
    rules = [_rule(rng) for _ in range(rng.randint(0, 8))]
    policy = rng.choice(("DROP", "DROP", "ACCEPT"))
    nat = rng.choice(("", "-A POSTROUTING -o eth0 -j MASQUERADE\n"))
    before = _worst(_ruleset(rules, policy, nat))
    extended = list(rules)
    extended.insert(rng.randint(0, len(rules)), _rule(rng, "ACCEPT"))
    after = _worst(_ruleset(extended, policy, nat))
    assert after >= before, _ruleset(extended, policy, nat)
