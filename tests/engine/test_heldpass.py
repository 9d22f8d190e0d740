"""A source jump's one matched part passed through its chain in a held run (engine/heldpass.py):
the walk gives exactly what ``Walker._apply_rule`` gives there, result by result (values,
trails, assumptions, verdicts, order), spends the same budget, is cut at the same place within
and past the budget, and leaves the path cache as large as it did."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import budget as budget_module, heldcuts, heldrun, space  # noqa: E402
from linter.model import Family, VerdictKind  # noqa: E402
from tests.engine.test_heldchain import short_chains  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import varied_rules  # noqa: E402
from tests.engine.test_passthrough import _walked  # noqa: E402

_LANE = heldrun.passes_single


def with_passing_chains(text: str, seed: int, share: float = 0.15, v6: bool = False) -> str:
    """``text`` with jumps by source /16 put between INPUT's rules, into chains of source drops
    and returns that a part in that /16 misses (networks elsewhere), now and then one it meets
    (its own /16), a jump on to another such chain or a rule the quick tests cannot answer."""
    rnd = random.Random(seed)
    chains = [f"PASS-{index}" for index in range(6)]

    def network(own: str | None = None) -> str:
        if own:
            return f"{own}:{rnd.randint(1, 255):x}::/64" if v6 else f"{own}.{rnd.randint(0, 255)}.0/24"
        first, second, third = rnd.randint(5, 9), rnd.randint(10, 99), rnd.randint(1, 255)
        return f"2001:db8:{first}{second}:{third:x}::/64" if v6 else f"{first}.{second}.{third}.0/24"

    def source16() -> tuple[str, str]:
        first, second = rnd.randint(1, 4), rnd.choice([10, 20, 30, 40])
        return (f"2001:db8:{first}{second}::/56", f"2001:db8:{first}{second}") if v6 \
            else (f"{first}.{second}.0.0/16", f"{first}.{second}")
    lines = text.splitlines()
    out = []
    bodies: list[str] = []
    for chain in chains:
        for _ in range(rnd.randint(0, 6)):
            kind = rnd.random()
            if kind < 0.55:
                bodies.append(f"-A {chain} -s {network()} -j DROP")
            elif kind < 0.85:
                bodies.append(f"-A {chain} -s {network()} -j RETURN")
            elif kind < 0.88:
                bodies.append(f"-A {chain} -p udp -m udp --dport {rnd.randint(1, 60000)} -j DROP")
            elif kind < 0.94 and chain != chains[-1]:
                bodies.append(f"-A {chain} -s {network()} -j {chains[-1]}")
            elif kind < 0.97:
                bodies.append(f"-A {chain} -s {network(source16()[1])} -j DROP")
            else:
                bodies.append(f"-A {chain} -m comment --comment x -j LOG")
    for line in lines:
        if line.startswith("-A INPUT") and rnd.random() < share:
            out.append(f"-A INPUT -s {source16()[0]} -j {rnd.choice(chains)}")
        out.append(line)
        if line == ":OUTPUT ACCEPT [0:0]":
            out += [f":{chain} - [0:0]" for chain in chains]
    commit = out.index("COMMIT")
    out[commit:commit] = bodies
    return "\n".join(out) + "\n"


def _both_ways(monkeypatch, text: str, family: Family = Family.IPV4) -> dict:
    """The walk with the lane and without it (each with the path cache emptied first, and its
    size after), and how many parts the lane passed."""
    taken = [0]

    def counting(*args):
        went = _LANE(*args)
        taken[0] += went
        return went
    monkeypatch.setattr(heldcuts, "LONG", 16)
    ways = {}
    for name, lane in (("lane", counting), ("general", lambda *args: False)):
        monkeypatch.setattr(heldrun, "passes_single", lane)
        space._PATHS.clear()
        ways[name] = (_walked(text, family), len(space._PATHS))
    ways["passed"] = taken[0]
    return ways


@pytest.mark.parametrize("seed", range(8))
def test_source_jumps_passed_as_the_walker_applies_them(monkeypatch, seed):
    ways = _both_ways(monkeypatch, with_passing_chains(mixed_rules(seed, 400), seed))
    assert ways["lane"] == ways["general"]
    assert ways["passed"] > 1


@pytest.mark.parametrize("seed", [0, 1, 2, 4, 6, 9])
def test_varied_source_jumps_passed_as_the_walker_applies_them(monkeypatch, seed):
    for text in (varied_rules(seed, 300), varied_rules(seed, 300, runs=True), short_chains(seed)):
        text = with_passing_chains(text, seed)
        ways = _both_ways(monkeypatch, text)
        assert ways["lane"] == ways["general"]


@pytest.mark.parametrize("seed", range(1, 7))
def test_ipv6_source_jumps_passed_as_the_walker_applies_them(monkeypatch, seed):
    passed = 0
    for text in (short_chains(seed, v6=True), varied_rules(seed, 300, v6=True)):
        ways = _both_ways(monkeypatch, with_passing_chains(text, seed, v6=True), Family.IPV6)
        assert ways["lane"][0][0] and ways["lane"] == ways["general"]
        passed += ways["passed"]
    assert passed > 0


@pytest.mark.parametrize("seed", [1, 5])
def test_past_the_budget_source_jumps_passed_as_the_walker_applies_them(monkeypatch, seed):
    """Budgets crossed at every stage of the walk: the same results, the same spent, the same cut."""
    text = with_passing_chains(mixed_rules(seed, 400), seed)
    monkeypatch.setattr(budget_module, "OPS_PER_RULE", 0)
    monkeypatch.setattr(heldcuts, "LONG", 16)
    spent = _walked(text)[1]
    passed = 0
    for limit in range(0, spent + 2, max(1, spent // 16)):
        monkeypatch.setattr(budget_module, "MIN_OPS", limit)
        ways = _both_ways(monkeypatch, text)
        assert ways["lane"] == ways["general"]
        passed += ways["passed"] > 0
    assert passed > 3


@pytest.mark.parametrize("seed", range(4))
def test_chains_tested_as_passthrough_tests_them(monkeypatch, seed):
    """heldpass's test of a chain (rules on one source network on their bounds) answers what
    engine/passthrough.py's answers, at every jump the walks meet."""
    from linter.engine import heldpass, passthrough
    real, asked = heldpass._all_missed, []

    def compared(blocks, part):
        went = real(blocks, part)  # (the chain's jumps, in order, where the test holds; else None)
        assert (went is not None) == passthrough._all_missed(blocks, [part])
        if went is not None:
            assert went == [rule for rule in blocks if rule.verdict.kind is VerdictKind.JUMP]
        asked.append(went is not None)
        return went
    monkeypatch.setattr(heldpass, "_all_missed", compared)
    for text in (with_passing_chains(mixed_rules(seed, 400), seed), with_passing_chains(varied_rules(seed, 300), seed),
                 with_passing_chains(short_chains(seed, v6=True), seed, v6=True)):
        _both_ways(monkeypatch, text, Family.IPV6 if "2001:" in text else Family.IPV4)
    assert True in asked and False in asked


@pytest.mark.parametrize("seed", range(3))
def test_rules_led_by_a_protocol_tested_as_passthrough_tests_them(monkeypatch, seed):
    """_all_missed's protocol test (a rule led by `-p udp` read on that match alone) is reached
    and the chain's answer is passthrough's, at every jump the walks meet."""
    from linter.engine import heldpass, passthrough
    real, reached = heldpass._all_missed, []
    leading = heldpass.leading_protocol

    def compared(blocks, part):
        went = real(blocks, part)
        assert (went is not None) == passthrough._all_missed(blocks, [part])
        return went
    monkeypatch.setattr(heldpass, "_all_missed", compared)

    def counted(rule):
        bounds = leading(rule)
        if bounds is not None:
            reached.append(1)
        return bounds
    monkeypatch.setattr(heldpass, "leading_protocol", counted)
    for text in (with_passing_chains(mixed_rules(seed, 400), seed, share=0.4),
                 with_passing_chains(short_chains(seed), seed, share=0.4)):
        _both_ways(monkeypatch, text)
    assert len(reached) > 3
