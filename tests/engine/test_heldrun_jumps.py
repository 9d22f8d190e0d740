"""Jumps by source network walked in a held run (engine/heldrun.py): the walk gives exactly
what the walker's own loop gives, result by result (values, trails, assumptions, verdicts,
order), spends the same budget and is cut at the same place, within and past the budget; and
what cutting at every rule gives."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import budget as budget_module, heldcuts, heldrun  # noqa: E402
from linter.engine.heldcuts import source_only  # noqa: E402
from linter.model import Family, Rule, VerdictKind  # noqa: E402
from tests.engine.test_held_transparent import with_transparent_jumps  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import _walked, varied_rules  # noqa: E402
from tests.engine.test_passthrough import _walked as _walked_with_cuts  # noqa: E402

_HELD_RUN = heldrun.held_run


def _jumps_both_ways(monkeypatch, text: str, family: Family = Family.IPV4, walked=_walked) -> dict:
    """The walk with held runs (lists past 16 ranges held), without them, and (within the
    budget) with nothing held; how many jumps by source the runs walked."""
    jumps = [0]

    def counting(walker, held, table, chain, blocks, start, *rest):
        went = _HELD_RUN(walker, held, table, chain, blocks, start, *rest)
        if went is not None:
            jumps[0] += sum(1 for rule in blocks[start:went[0]] if type(rule) is Rule
                            and rule.verdict.kind is VerdictKind.JUMP and source_only(rule) is not None)
        return went
    monkeypatch.setattr(heldcuts, "LONG", 16)
    monkeypatch.setattr(heldrun, "held_run", counting)
    lane = walked(text, family)
    monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
    general = walked(text, family)
    ways = {"lane": lane, "general": general, "jumps": jumps[0]}
    if walked is _walked:
        monkeypatch.setattr(heldcuts, "LONG", 10**9)
        ways["never"] = walked(text, family)
    return ways


@pytest.mark.parametrize("seed", range(8))
def test_source_jumps_in_runs_walk_as_the_walkers_loop(monkeypatch, seed):
    ways = _jumps_both_ways(monkeypatch, with_transparent_jumps(mixed_rules(seed, 400), seed))
    assert ways["lane"] == ways["general"] == ways["never"]
    assert ways["jumps"] > 5


@pytest.mark.parametrize("seed", [0, 1, 2, 4, 6, 9, 11])
def test_varied_source_jumps_in_runs(monkeypatch, seed):
    ways = _jumps_both_ways(monkeypatch, varied_rules(seed, 300))
    assert ways["lane"] == ways["general"] == ways["never"]


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_ipv6_source_jumps_in_runs(monkeypatch, seed):
    ways = _jumps_both_ways(monkeypatch, with_transparent_jumps(varied_rules(seed, 300, v6=True), seed, v6=True),
                            Family.IPV6)
    assert ways["lane"][0] and ways["lane"] == ways["general"]


@pytest.mark.parametrize("seed", range(4))
def test_past_the_budget_source_jumps_in_runs(monkeypatch, seed):
    # A jump may spend past the budget or bring back more boxes than met it: the run ends
    # after it and the walker merges as after its own step.
    monkeypatch.setattr(budget_module, "OPS_PER_RULE", 0)
    jumped = 0
    for limit in (300, 1000, 3000, 8000):
        monkeypatch.setattr(budget_module, "MIN_OPS", limit)
        ways = _jumps_both_ways(monkeypatch, mixed_rules(seed, 300), walked=_walked_with_cuts)
        assert ways["lane"] == ways["general"]
        jumped += ways["jumps"]
    assert jumped > 3
