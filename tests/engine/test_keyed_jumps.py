"""A dispatch segment of one-rule groups that differ in key, port and jump target (kube-proxy's
KUBE-SERVICES, engine/keyed_jumps.py) is analysed with exactly the general path's dead and
shadowed rules, budget spent and boxes going on: compared on generated segments."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import keyed_jumps, memo, shadow  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

# Targets: a kube-proxy service (DNATs its tcp), one that DNATs one port only, one that returns
# part of the cluster range first (its returned space cuts the keys), one that only marks
# (transparent), an empty one, and two that share a shape with the first.
TARGETS = {
    "SVC-A": ["-p tcp -j DNAT --to-destination 10.1.0.1:80"],
    "SVC-B": ["-p tcp -m tcp --dport 80 -j DNAT --to-destination 10.1.0.2:80"],
    "SVC-C": ["-d 10.96.0.0/29 -j RETURN", "-p tcp -j DNAT --to-destination 10.1.0.3:80"],
    "SVC-D": ["-j MARK --set-xmark 0x4000/0x4000"],
    "SVC-E": [],
    "SVC-F": ["-p tcp -j DNAT --to-destination 10.1.0.4:80"],
    "SVC-G": ["-p udp -j DNAT --to-destination 10.1.0.5:53"],
}
PORTS = (53, 80, 443, 8080)


def _table(seed: int, groups: int, before: str = "") -> str:
    """A nat table whose KUBE-SERVICES dispatches ``groups`` cluster IPs (some skipped)."""
    pick = random.Random(seed)
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]"]
    lines += [f":{name} - [0:0]" for name in TARGETS]
    lines += ["-A PREROUTING -j KUBE-SERVICES", "-A OUTPUT -j KUBE-SERVICES"]
    if before:
        lines.append(f"-A KUBE-SERVICES {before}")
    address = 0
    for _ in range(groups):
        address += pick.choice((1, 1, 1, 2))
        protocol = pick.choice(("tcp", "tcp", "tcp", "udp"))
        target = pick.choice(sorted(TARGETS))
        lines.append(f"-A KUBE-SERVICES -d 10.96.{address // 256}.{address % 256}/32 -p {protocol} -m {protocol} "
                     f"--dport {pick.choice(PORTS)} -j {target}")
    lines.append("-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j RETURN")
    lines += [f"-A {name} {rule}" for name, rules in TARGETS.items() for rule in rules]
    return "\n".join(lines) + "\nCOMMIT\n"


def _analysed(text: str, monkeypatch, general: bool):
    """Every chain's verdicts, and what each segment left (spent, over budget, boxes going on,
    settled), with or without keyed_jumps; and how often keyed_jumps took a segment."""
    memo.forget_every_file()
    taken = []
    with monkeypatch.context() as patch:
        if general:
            patch.setattr(keyed_jumps, "keyed_classes", lambda segment: None)
        original_keyed = keyed_jumps.keyed_segment
        patch.setattr(keyed_jumps, "keyed_segment", lambda *args: taken.append(1) or original_keyed(*args))
        segments = []
        original = ShadowAnalysis._segment

        def _segment(self, segment, state, index_of, start):
            original(self, segment, state, index_of, start)
            segments.append((state.spent, state.over_budget, tuple(state.pending), state.settled is state.pending,
                             sorted(state.dead), sorted(state.shadowed)))

        patch.setattr(ShadowAnalysis, "_segment", _segment)
        table = ruleset(text).tables[0]
        analysis = ShadowAnalysis(table, Family.IPV4, {"eth0", "lo"})
        chains = [(chain.name, sorted(v.dead), sorted(v.shadowed), v.judged, v.returned and tuple(v.returned))
                  for chain in table.chains for v in (analysis.chain(chain),)]
    return chains, segments, len(taken)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("groups", (12, 40, 400))
def test_a_keyed_segment_is_analysed_as_the_general_path_does(monkeypatch, seed, groups):
    text = _table(seed, groups)
    shortcut = _analysed(text, monkeypatch, general=False)
    assert shortcut[2] >= 1  # the segment took the shortcut
    assert shortcut[:2] == _analysed(text, monkeypatch, general=True)[:2]


@pytest.mark.parametrize("before", ("-p udp -m udp --dport 53 -j RETURN", "-p tcp -m tcp --dport 80 -j ACCEPT",
                                    "-d 10.96.0.0/24 -p tcp -j RETURN"))
def test_rules_nothing_reaches_are_dead_and_shadowed_as_the_general_path_finds(monkeypatch, before):
    text = _table(5, 300, before)
    shortcut = _analysed(text, monkeypatch, general=False)
    general = _analysed(text, monkeypatch, general=True)
    assert shortcut[:2] == general[:2]
    services = next(chain for chain in shortcut[0] if chain[0] == "KUBE-SERVICES")
    assert services[1] and services[1] == services[2]  # some dead, each would match on its own


@pytest.mark.parametrize("budget", (0, 30, 300, 1_000, 2_000, 4_000))
def test_the_budget_runs_out_where_the_general_path_runs_out(monkeypatch, budget):
    monkeypatch.setattr(shadow, "SHADOW_BUDGET", budget)
    monkeypatch.setattr(shadow, "SHADOW_BUDGET_PER_RULE", 0)
    text = _table(3, 600)
    shortcut = _analysed(text, monkeypatch, general=False)
    assert shortcut[:2] == _analysed(text, monkeypatch, general=True)[:2]


def test_one_rule_groups_of_other_matches_or_goto_are_not_keyed():
    text = _table(1, 10).replace("-j SVC-A", "-g SVC-A")
    table = ruleset(text).tables[0]
    from linter.engine.walk import Segment, blocks_of
    services = next(chain for chain in table.chains if chain.name == "KUBE-SERVICES")
    segments = [block for block in blocks_of(services) if isinstance(block, Segment)]
    assert segments and all(keyed_jumps.keyed_classes(segment) is None for segment in segments)


@pytest.mark.parametrize("seed", range(4))
def test_a_segment_keyed_on_sources_is_analysed_as_the_general_path_does(monkeypatch, seed):
    # (The returned space of SVC-C then cuts nothing of the keys; one of sources does.)
    text = _table(seed, 200).replace("-A KUBE-SERVICES -d ", "-A KUBE-SERVICES -s ").replace(
        "-A SVC-B -p tcp", "-A SVC-B -s 10.96.0.0/28 -j RETURN\n-A SVC-B -p tcp")
    shortcut = _analysed(text, monkeypatch, general=False)
    assert shortcut[2] >= 1
    assert shortcut[:2] == _analysed(text, monkeypatch, general=True)[:2]
