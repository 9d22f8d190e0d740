"""The dead-rule analysis of a run of groups alike (engine/shadow.py, _shaped_segment) reads its
rules' positions from where the run starts, checked by RulePositions.at: the same dead rules
as rule by rule, and an allow-list with no dead rule never maps every rule's position."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shadow  # noqa: E402
from tests.engine.test_runs import _dead, _general, allows  # noqa: E402

# What benchmarks/generate.py's allow-list has before its run (a run taken whole after it).
OPENING = "-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"


def _after(head: str, text: str) -> str:
    return text.replace(":OUTPUT ACCEPT [0:0]\n", ":OUTPUT ACCEPT [0:0]\n" + head, 1)


@pytest.mark.parametrize("seed", range(12))
def test_alike_groups_after_other_rules_have_the_dead_rules_of_rule_by_rule(monkeypatch, seed):
    """Random allow-lists after a few other rules, some ports twice in every group (dead at one
    position of each), some sources twice (dead groups)."""
    chance = random.Random(seed)
    ports = chance.choice(((22, 443), (22, 22), (80, 443, 80), (25,), (22, 80, 22, 80)))
    sources = [f"10.{chance.randrange(1, 12)}.0.0/16" for _ in range(chance.randrange(2, 12))]
    head = chance.choice(("", OPENING, "-A INPUT -i lo -j ACCEPT\n",
                          OPENING + "-A INPUT -p udp -m udp --dport 53 -j ACCEPT\n"))
    text = _after(head, allows(*sources, ports=ports))
    fast = _dead(text)
    _general(monkeypatch)
    assert _dead(text) == fast


def test_an_allow_list_with_no_dead_rule_never_maps_every_rule_position(monkeypatch):
    built = []
    missing = shadow.RulePositions.__missing__
    monkeypatch.setattr(shadow.RulePositions, "__missing__", lambda self, key: built.append(key) or missing(self, key))
    assert _dead(_after(OPENING, allows(*(f"10.{i}.0.0/16" for i in range(1, 10))))) == ([], [], True)
    assert not built
    # Dead rules after the opening: their positions are the chain's (2 rules before the run).
    assert _dead(_after(OPENING, allows(*(f"10.{i}.0.0/16" for i in range(1, 10)), ports=(22, 22)))) == \
        ([i for i in range(3, 20, 2)],) * 2 + (True,)
