"""Runs of plain rules walked in one loop by a walk holding cuts (engine/heldrun.py): the walk
gives exactly what the walker's own loop gives, result by result (values, trails, assumptions,
verdicts, order), spends the same budget and is cut at the same place, within and past the
budget; and what cutting at every rule gives."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import budget as budget_module, heldcuts, heldrun  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.test_heldchain import short_chains  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import _walked, varied_rules  # noqa: E402
from tests.engine.test_passthrough import _walked as _walked_with_cuts  # noqa: E402

_HELD_RUN = heldrun.held_run  # (the lane itself: each test puts a counting one in its place)


def _both_ways(monkeypatch, text: str, family: Family = Family.IPV4, long: int = 16, walked=_walked) -> dict:
    """The walk with the lane (lists past ``long`` ranges held), the same without it, and with
    nothing held (``walked``: what is compared of each); how many runs the lane took and how
    many blocks they held."""
    taken = {"runs": 0, "blocks": 0}
    real = _HELD_RUN

    def counting(walker, held, table, chain, blocks, start, *rest):
        went = real(walker, held, table, chain, blocks, start, *rest)
        if went is not None:
            taken["runs"] += 1
            taken["blocks"] += went[0] - start
        return went
    monkeypatch.setattr(heldcuts, "LONG", long)
    monkeypatch.setattr(heldrun, "held_run", counting)
    lane = walked(text, family)
    monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
    general = walked(text, family)
    if walked is not _walked:
        return {"lane": lane, "general": general, **taken}  # (past the budget, held or not differ)
    monkeypatch.setattr(heldcuts, "LONG", 10**9)
    never = walked(text, family)
    return {"lane": lane, "general": general, "never": never, **taken}


@pytest.mark.parametrize("seed", range(6))
def test_runs_walk_as_the_walkers_loop(monkeypatch, seed):
    ways = _both_ways(monkeypatch, short_chains(seed))
    assert ways["lane"] == ways["general"]
    assert ways["lane"] == ways["never"]
    assert ways["runs"] > 3 and ways["blocks"] > ways["runs"]


@pytest.mark.parametrize("seed", range(4))
def test_mixed_and_varied_rules_walk_as_the_walkers_loop(monkeypatch, seed):
    blocks = 0
    for text in (mixed_rules(seed, 400), varied_rules(seed, 300), varied_rules(seed, 300, runs=True)):
        ways = _both_ways(monkeypatch, text, long=8)
        assert ways["lane"] == ways["general"]
        blocks += ways["blocks"]
    assert blocks > 0


@pytest.mark.parametrize("seed", [0, 3])
def test_ipv6_runs_walk_as_the_walkers_loop(monkeypatch, seed):
    for text in (short_chains(seed, v6=True), varied_rules(seed, 300, v6=True)):
        ways = _both_ways(monkeypatch, text, Family.IPV6)
        assert ways["lane"][0][0] and ways["lane"] == ways["general"]
        assert ways["runs"] > 0


@pytest.mark.parametrize("seed", [1, 4])
def test_past_the_budget_runs_walk_as_the_walkers_loop(monkeypatch, seed):
    """Budgets the walk crosses at every stage of it: the same results, the same cut."""
    text = short_chains(seed, 300)
    monkeypatch.setattr(budget_module, "OPS_PER_RULE", 0)
    monkeypatch.setattr(heldcuts, "LONG", 16)
    spent = _walked(text)[1]
    cut = 0
    for limit in range(0, spent, max(1, spent // 12)):
        monkeypatch.setattr(budget_module, "MIN_OPS", limit)
        ways = _both_ways(monkeypatch, text, walked=_walked_with_cuts)
        assert ways["lane"] == ways["general"]
        cut += bool(ways["lane"][2]) and ways["runs"] > 0
    assert cut > 3


def test_returns_in_a_held_user_chain_walk_as_the_walkers_loop(monkeypatch):
    """A user chain jumped to by source holding a long list: its source drops, rejects and
    returns, and rules every box misses, met in one loop with what returns collected."""
    rnd = random.Random(11)
    body = ["-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    body += [f"-A INPUT -s 10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.0/24 -j DROP" for _ in range(60)]
    body.append("-A INPUT -m conntrack --ctstate NEW -j HELD")
    for _ in range(120):
        kind = rnd.random()
        network = f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.0/24"
        if kind < 0.4:
            body.append(f"-A HELD -s {network} -j DROP")
        elif kind < 0.55:
            body.append(f"-A HELD -s {network} -j REJECT")
        elif kind < 0.75:
            body.append(f"-A HELD -s {network} -j RETURN")
        elif kind < 0.95:
            body.append(f"-A HELD -p udp -m multiport --dports {rnd.randint(2000, 3000)},4000 -j DROP")
        else:
            body.append("-A HELD -p tcp -m tcp --dport 22 -j ACCEPT")
    body += ["-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"]
    text = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:HELD - [0:0]\n" + \
        "\n".join(body) + "\nCOMMIT\n"
    ways = _both_ways(monkeypatch, text)
    assert ways["lane"] == ways["general"] == ways["never"]
    assert ways["runs"] > 0 and ways["blocks"] > 20
