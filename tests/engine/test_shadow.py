"""Dead-rule analysis (PL402): what a jump brings back, dispatch runs, and its cost bound."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shadow  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.engine.universe import interface_representatives  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import findings, ruleset  # noqa: E402

HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def dead(text: str) -> list[tuple[str, int, object]]:
    return findings(text, {"PL402"})


def test_a_chain_that_may_return_through_an_opaque_match_leaves_the_next_rule_alive():
    text = HEAD + (":lim - [0:0]\n"
                   "-A INPUT -p tcp --dport 22 -j lim\n"
                   "-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                   "-A lim -m limit --limit 3/min -j RETURN\n"
                   "-A lim -j DROP\nCOMMIT\n")
    assert dead(text) == []


def test_a_chain_that_drops_everything_it_is_given_kills_the_same_rule_after_the_jump():
    text = HEAD + (":deny - [0:0]\n"
                   "-A INPUT -p tcp --dport 22 -j deny\n"
                   "-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                   "-A deny -j LOG\n"
                   "-A deny -j DROP\nCOMMIT\n")
    assert dead(text) == [("PL402", 7, None)]


def test_what_comes_back_is_cut_to_what_jumped():
    # The chain returns udp only; tcp/22 that jumped does not come back, tcp/80 never jumped.
    text = HEAD + (":tcp-only - [0:0]\n"
                   "-A INPUT -p tcp --dport 22 -j tcp-only\n"
                   "-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                   "-A INPUT -p tcp --dport 80 -j ACCEPT\n"
                   "-A tcp-only -p tcp -j DROP\nCOMMIT\n")
    assert dead(text) == [("PL402", 7, None)]


def test_a_goto_returns_to_the_caller_of_the_chain_that_took_it():
    # INPUT -> outer; outer's goto hands udp to inner, which returns it: to INPUT, past outer's
    # drop. So INPUT's udp rule is alive, and outer's last rule sees no udp.
    text = HEAD + (":outer - [0:0]\n:inner - [0:0]\n"
                   "-A INPUT -j outer\n"
                   "-A INPUT -p udp --dport 53 -j ACCEPT\n"
                   "-A outer -p udp -g inner\n"
                   "-A outer -j DROP\n"
                   "-A outer -p udp --dport 53 -j ACCEPT\n"
                   "-A inner -p tcp -j DROP\nCOMMIT\n")
    found = findings(text, {"PL402", "PL403"})
    assert found == [("PL403", 11, None)]


def test_a_marking_chain_brings_everything_back():
    text = HEAD + (":mark - [0:0]\n"
                   "-A INPUT -s 192.0.2.1 -j mark\n"
                   "-A INPUT -s 192.0.2.1 -j ACCEPT\n"
                   "-A mark -j MARK --set-mark 1\nCOMMIT\n")
    assert dead(text) == []


def test_a_duplicate_inside_a_dispatch_run_is_dead_and_the_others_are_not():
    rules = "".join(f"-A INPUT -d 198.51.100.{i} -p tcp --dport 443 -j ACCEPT\n" for i in range(1, 13))
    duplicate = "-A INPUT -d 198.51.100.5 -p tcp --dport 443 -j ACCEPT\n"
    text = HEAD + rules + duplicate + "-A INPUT -d 198.51.100.99 -j ACCEPT\nCOMMIT\n"
    assert dead(text) == [("PL402", 5 + 12, None)]


def test_a_chain_past_its_budget_is_left_unjudged(monkeypatch):
    monkeypatch.setattr(shadow, "SHADOW_BUDGET", 3)
    monkeypatch.setattr(shadow, "SHADOW_BUDGET_PER_RULE", 0)
    text = HEAD + ("-A INPUT -p tcp -j DROP\n"
                   "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    document = ruleset(text)
    table = document.tables[0]
    analysis = ShadowAnalysis(table, Family.IPV4, interface_representatives([document]))
    verdicts = analysis.chain(table.chains[0])
    assert (verdicts.judged, verdicts.dead, verdicts.shadowed) == (False, set(), set())
    # Whoever jumps to it is told that anything may come back.
    assert analysis.returned(table.chains[0]) == analysis.space
