"""One-rule jump groups copied per kind of rule (engine/jump_copies.py): the walk of a
KUBE-SERVICES-like run gives exactly the general path's results (values, order, trails,
assumptions), budget and what goes on, with the pieces made per group or united per kind."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine import jump_copies  # noqa: E402
from linter.engine.marks import marks_read  # noqa: E402
from linter.engine.paths import PathEvaluator  # noqa: E402
from linter.engine.shapewalk import SharedWalks  # noqa: E402
from linter.engine.space import Box  # noqa: E402
from linter.engine.walk import Segment, Walker, blocks_of  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

ALL = iv.full(2**32 - 1)
PORTS = (80, 443, 53, 8080)


def _box(**changes) -> Box:
    box = Box(Family.IPV4, ((0, 255),), ((0, 65535),), ((0, 65535),), ALL, ALL, frozenset({"eth0", "eth1"}),
              frozenset({"new"}))
    return box._replace(**changes)


def _table(chance: random.Random, services: int = 24, odd: float = 0.2) -> str:
    """A kube-proxy-like nat table: per service a rule `-d IP -p tcp --dport P -j SVC` (of a few
    ports), its KUBE-SVC chain choosing among endpoint chains that DNAT; with probability
    ``odd`` a service is written otherwise: matches reordered, udp, a state or interface
    match, a negated port, an ACCEPT or RETURN instead of the jump, two rules for one cluster
    IP, or a chain that sends some of the packets back (RETURN, falling off its end)."""
    chains = [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
              ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]"]
    rules = ["-A PREROUTING -j KUBE-SERVICES", "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"]
    for number in range(services):
        svc = f"KUBE-SVC-{number}"
        chains.append(f":{svc} - [0:0]")
        port = chance.choice(PORTS)
        cluster = f"10.96.{number // 200}.{number % 200 + 1}/32"
        line = f"-A KUBE-SERVICES -d {cluster} -p tcp -m tcp --dport {port} -j {svc}"
        weird = chance.random() < odd and chance.randrange(10)
        if weird == 1:
            line = f"-A KUBE-SERVICES -p tcp -m tcp --dport {port} -d {cluster} -j {svc}"
        elif weird == 2:
            line = f"-A KUBE-SERVICES -d {cluster} -p udp -m udp --dport {port} -j {svc}"
        elif weird == 3:
            line = f"-A KUBE-SERVICES -d {cluster} -p tcp -m tcp --dport {port} -m conntrack --ctstate NEW -j {svc}"
        elif weird == 4:
            line = f"-A KUBE-SERVICES -d {cluster} -i eth0 -p tcp -m tcp --dport {port} -j {svc}"
        elif weird == 5:
            line = f"-A KUBE-SERVICES -d {cluster} -p tcp -m tcp ! --dport {port} -j {svc}"
        elif weird == 6:
            line = f"-A KUBE-SERVICES -d {cluster} -p tcp -m tcp --dport {port} -j " + chance.choice(["ACCEPT", "RETURN"])
        elif weird == 7:
            line += f"\n-A KUBE-SERVICES -d {cluster} -p tcp -m tcp --dport {port + 1} -j {svc}"
        rules.append(line)
        if weird == 8:
            rules.append(f"-A {svc} -s 10.2.0.0/16 -j RETURN")
        endpoints = chance.randrange(1, 4)
        for index in range(endpoints):
            sep = f"KUBE-SEP-{number}-{index}"
            endpoint = f"10.1.{number // 200}.{(number * 3 + index) % 250 + 2}"
            chains.append(f":{sep} - [0:0]")
            left = endpoints - index
            pick = f"-m statistic --mode random --probability {1 / left:.11f} " if left > 1 else ""
            rules.append(f"-A {svc} {pick}-j {sep}")
            rules.append(f"-A {sep} -s {endpoint}/32 -j KUBE-MARK-MASQ")
            rules.append(f"-A {sep} -p tcp -m tcp -j DNAT --to-destination {endpoint}:{port + 1000}")
        if weird == 9:
            rules.append(f"-A {svc} -j LOG")  # what the last endpoint does not take falls off
    filter_table = ("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                    "-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n-A FORWARD -d 10.1.0.0/16 -j ACCEPT\n"
                    "COMMIT\n")
    return "*nat\n" + "\n".join(chains + rules) + "\nCOMMIT\n" + filter_table


def _described(results) -> list:
    return [(outcome, tuple(box[:-2]), tuple((a.rule.span.line, a.matched) for a in box.assumptions),
             tuple((s.event, s.chain.name if s.chain else None, s.rule.span.line if s.rule else None, s.detail)
                   for s in box.trail)) for box, outcome in results]


def _walk(document, boxes, shared: bool):
    table = next(t for t in document.tables if t.name == "nat")
    chain = next(c for c in table.chains if c.name == "PREROUTING")
    walker = Walker()
    walker.marks = marks_read([document])
    walker.shared = SharedWalks() if shared else None
    results = walker.walk(table, chain, boxes)
    return _described(results), walker.budget.spent


def _evaluated(document):
    local = PathEvaluator([document])
    finals = [local.evaluate([_box()])]
    for keep_nat in (False, True):
        routed = PathEvaluator([document])
        finals.append(routed.evaluate_routed([_box(oif=frozenset({"eth2"}), local=False)], keep_nat=keep_nat))
    return [[(r.verdict, r.forwarded, tuple(r.box[:-2]), len(r.box.trail)) for r in found] for found in finals]


class _Counted:
    def __init__(self, monkeypatch):
        self.copied = self.united = 0
        copied, united = jump_copies._copied, jump_copies._united

        def count_copied(*args):
            self.copied += 1
            return copied(*args)

        def count_united(*args):
            self.united += 1
            return united(*args)
        monkeypatch.setattr(jump_copies, "_copied", count_copied)
        monkeypatch.setattr(jump_copies, "_united", count_united)


BOXES = [
    [_box()],
    [_box(proto=((6, 6),))],
    [_box(proto=((6, 6), (17, 17)), dport=((53, 443),))],
    [_box(src=((0, 2**24),)), _box(src=((2**25, 2**26),), iif=frozenset({"eth1"}))],  # two boxes of one path
    [_box(dst=((0x0A600000, 0x0A600010),))],  # cutting through the keys: the general way
]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("shared", [True, False])
def test_copied_jump_groups_walk_as_each_group_walked(monkeypatch, seed, shared):
    # Odd services among the others (seeds 0-5), or none (6-11: the pieces united per kind).
    document = ruleset(_table(random.Random(seed), odd=0.2 if seed < 6 else 0.0))
    counted = _Counted(monkeypatch)
    fast = [_walk(document, boxes, shared) for boxes in BOXES]
    assert counted.copied and (counted.united or seed < 6)
    monkeypatch.setattr(jump_copies, "COALESCE_AT_LEAST", 10**9)  # the pieces made per group
    assert [_walk(document, boxes, shared) for boxes in BOXES] == fast
    monkeypatch.setattr(jump_copies, "jump_kinds", lambda segment: None)  # every group walked
    assert [_walk(document, boxes, shared) for boxes in BOXES] == fast


@pytest.mark.parametrize("seed", range(6))
def test_path_evaluation_is_the_same_with_and_without_copies(monkeypatch, seed):
    document = ruleset(_table(random.Random(100 + seed), services=30, odd=0.3))
    counted = _Counted(monkeypatch)
    fast = _evaluated(document)
    assert counted.copied
    monkeypatch.setattr(jump_copies, "jump_kinds", lambda segment: None)
    assert _evaluated(ruleset(_table(random.Random(100 + seed), services=30, odd=0.3))) == fast


def test_every_piece_made_when_too_few_united_boxes_would_not_merge(monkeypatch):
    # One kind of rule: two united pieces and the part skipping the run are fewer boxes than
    # coalesce merges; the pieces are made group by group instead.
    text = _table(random.Random(7), odd=0.0).replace("--dport 443 ", "--dport 80 ").replace(
        "--dport 53 ", "--dport 80 ").replace("--dport 8080 ", "--dport 80 ")
    document = ruleset(text)
    made = []
    original = jump_copies._made
    monkeypatch.setattr(jump_copies, "_made", lambda *args: made.append(1) or original(*args))
    fast = _walk(document, [_box()], True)
    assert made
    monkeypatch.setattr(jump_copies, "jump_kinds", lambda segment: None)
    assert _walk(document, [_box()], True) == fast


def test_kinds_are_rules_alike_beside_key_and_target():
    text = _table(random.Random(3), services=12, odd=0.0)
    lines = text.split("\n")
    services = [n for n, line in enumerate(lines) if line.startswith("-A KUBE-SERVICES -d")]
    lines[services[3]] = lines[services[3]].replace(" -p tcp", " -p udp").replace("-m tcp", "-m udp")
    lines[services[5]] = lines[services[5]].replace(" -j KUBE-SVC-5", " -j ACCEPT")
    document = ruleset("\n".join(lines))
    table = next(t for t in document.tables if t.name == "nat")
    chain = next(c for c in table.chains if c.name == "KUBE-SERVICES")
    segment, = [b for b in blocks_of(chain) if isinstance(b, Segment)]
    kinds = jump_copies.jump_kinds(segment)
    ports = [rule.matches[2].ports.ranges for group in segment.groups for rule in group]
    assert kinds[5] == -1  # an accept: no kind
    for a in range(len(kinds)):
        for b in range(len(kinds)):
            if -1 in (kinds[a], kinds[b]) or a == b:
                continue
            same = ports[a] == ports[b] and (a == 3) == (b == 3)
            assert (kinds[a] == kinds[b]) is same


@pytest.mark.parametrize("seed", range(12))
def test_once_a_group_sends_boxes_back_every_piece_is_made_as_walking_makes_it(monkeypatch, seed):
    # A jump that brings boxes back (or a group of no kind) ends the uniting: from there what
    # goes on past the run is, box for box before any merging, what walking each group gives.
    document = ruleset(_table(random.Random(seed), odd=0.3))
    outputs = []
    original = Walker.segment_outputs

    def kept(self, *args):
        found = original(self, *args)
        outputs.append((_described((box, None) for box in found[0]), _described((box, None) for box in found[1])))
        return found
    monkeypatch.setattr(Walker, "segment_outputs", kept)
    made = []
    made_pieces = jump_copies._made
    monkeypatch.setattr(jump_copies, "_made", lambda *args: made.append(1) or made_pieces(*args))
    united = []
    unite = jump_copies._united
    monkeypatch.setattr(jump_copies, "_united", lambda *args: united.append(1) or unite(*args))
    _walk(document, [_box()], True)
    fast = list(outputs)
    if not made or united:
        return  # (this table's run is united at its end: its boxes differ before merging)
    outputs.clear()
    monkeypatch.setattr(jump_copies, "jump_kinds", lambda segment: None)
    _walk(document, [_box()], True)
    assert outputs == fast
