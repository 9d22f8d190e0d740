"""Jumps to chains that change nothing (engine/transparent.py), met by a walk holding cuts
(engine/heldcuts.py): ``Walker._apply_held`` lets the held boxes go past such a jump unsettled,
and the walk gives exactly what cutting at every rule gives, result by result (values, trails,
assumptions, verdicts, order), and spends the same budget."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import heldcuts, walk  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.test_heldcuts import mixed_rules  # noqa: E402
from tests.engine.test_heldjumps import _walked, varied_rules  # noqa: E402


def with_transparent_jumps(text: str, seed: int, share: float = 0.08, v6: bool = False) -> str:
    """``text`` with jumps into chains that bring every packet back as it was (an empty chain,
    a chain of LOG rules, one that jumps on to the empty one) put between INPUT's rules: by
    source /16, by protocol, by port, and unconditional."""
    rnd = random.Random(seed)
    lines = text.splitlines()
    nets = ["2001:db8:110::/56", "2001:db8:220::/56", "2001:db8:330::/56"] if v6 \
        else ["1.10.0.0/16", "2.20.0.0/16", "3.30.0.0/16"]
    hows = [f"-s {net}" for net in nets] + ["-p tcp", "-p udp",
            "-p tcp -m tcp --dport 1050", ""]
    out = []
    for line in lines:
        if line.startswith("-A INPUT") and rnd.random() < share:
            out.append(f"-A INPUT {rnd.choice(hows)} -j {rnd.choice(['EMPTY', 'LOGS', 'ONWARD'])}".replace("  ", " "))
        out.append(line)
        if line == ":OUTPUT ACCEPT [0:0]":
            out += [":EMPTY - [0:0]", ":LOGS - [0:0]", ":ONWARD - [0:0]"]
    commit = out.index("COMMIT")
    out[commit:commit] = [f"-A LOGS -s {nets[0]} -j LOG", "-A LOGS -j LOG", "-A ONWARD -j EMPTY"]
    return "\n".join(out) + "\n"


def _held_and_never(monkeypatch, text: str, family: Family = Family.IPV4) -> tuple:
    """The walk holding lists past 16 ranges, with the count of transparent jumps held boxes
    went past unsettled; the walk holding none."""
    unsettled = []
    real = walk.Walker._apply_held

    def counting(self, held, table, chain, rule, pending, *rest):
        holding = bool(held)
        went = real(self, held, table, chain, rule, pending, *rest)
        unsettled.append(holding and went is pending and bool(held))
        return went
    monkeypatch.setattr(walk.Walker, "_apply_held", counting)
    monkeypatch.setattr(heldcuts, "LONG", 16)
    held = _walked(text, family)
    monkeypatch.setattr(heldcuts, "LONG", 10**9)
    never = _walked(text, family)
    return held, never, sum(unsettled)


@pytest.mark.parametrize("seed", range(6))
def test_transparent_jumps_pass_held_boxes_as_cutting_at_every_rule(monkeypatch, seed):
    held, never, unsettled = _held_and_never(monkeypatch, with_transparent_jumps(mixed_rules(seed, 400), seed))
    assert held == never
    assert unsettled > 3  # (held boxes went past transparent jumps unsettled)


@pytest.mark.parametrize("seed", [0, 1, 2, 4, 6, 9, 11])
def test_transparent_jumps_in_varied_mixes(monkeypatch, seed):
    held, never, _ = _held_and_never(monkeypatch, with_transparent_jumps(varied_rules(seed, 300), seed))
    assert held == never  # (a transparent jump by source may be met in a held run: engine/heldrun.py)


@pytest.mark.parametrize("seed", [0, 2, 5])
def test_transparent_jumps_in_ipv6(monkeypatch, seed):
    text = with_transparent_jumps(varied_rules(seed, 300, v6=True), seed, v6=True)
    held, never, unsettled = _held_and_never(monkeypatch, text, Family.IPV6)
    assert held[0]  # (the rules are IPv6 ones: something was decided)
    assert held == never
