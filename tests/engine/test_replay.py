"""Many boxes through one base chain (engine/replay.py): the same outcomes as walking each."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine.marks import marks_read  # noqa: E402
from linter.engine.replay import MIN_BOXES, plan_of, walk_many  # noqa: E402
from linter.engine.space import Box, value_key  # noqa: E402
from linter.engine.walk import Outcome, Walker, step  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

FORWARD = ("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FORWARD - [0:0]\n"
           "-A FORWARD -j KUBE-FORWARD\n"
           "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
           "-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n"
           "-A KUBE-FORWARD -d 10.0.0.0/8 -p tcp --dport 8080 -j ACCEPT\n"
           "-A KUBE-FORWARD -d 10.0.0.0/8 -j REJECT\nCOMMIT\n")
NAT = ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
       "-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 127.0.0.1:8080\n"
       "-A PREROUTING -p tcp --dport 81 -j DNAT --to-destination 10.1.0.5\nCOMMIT\n")
ALL = iv.full(2**32 - 1)


def _chain(document, table_name: str, chain_name: str):
    table = next(t for t in document.tables if t.name == table_name)
    return table, next(c for c in table.chains if c.name == chain_name)


def _boxes(table, chain, count: int, nat: bool) -> list[Box]:
    """``count`` boxes with a path each (as after kube-proxy's DNATs): one address each, in
    10.0.0.0/8 (every third one outside it), half of them marked, one straddling 10.0.0.0/8."""
    boxes = []
    for index in range(count):
        address = (10 << 24) + index if index % 3 else (11 << 24) + index
        one = ((address, address),)
        port = 8080 if nat else 80 + index % 2
        box = Box(Family.IPV4, ((6, 6), (17, 17)), ((0, 65535),), ((port, port),),
                  ALL, ALL if nat else one, frozenset({"eth0"}), frozenset({"new"}),
                  local=not nat, nat_dst=one if nat else None, nat_dport=((8080, 8080),) if nat else None,
                  mark=0x4000 if index % 2 else 0)
        boxes.append(box._replace(trail=step((), "rule", table, chain, None, f"path {index}")))
    straddling = ((9 << 24, (10 << 24) + 5),)
    boxes.append(boxes[0]._replace(nat_dst=straddling, trail=step((), "rule", table, chain, None, "straddling")))
    return boxes


def _walker(document) -> Walker:
    walker = Walker()
    walker.marks = marks_read([document])
    walker.prune = True
    return walker


def _expected(document, table, chain, boxes):
    """Each box walked on its own, as (its packets, outcome, the steps after its own)."""
    found = []
    for box in boxes:
        for done, outcome in _walker(document).walk(table, chain, [box]):
            found.append((value_key(done), outcome, done.trail[len(box.trail):], done.trail[:len(box.trail)] == box.trail))
    return sorted(found, key=repr)


def _got(document, table, chain, boxes):
    found = []
    for done, outcome in walk_many(_walker(document), table, chain, boxes):
        origin = next(box for box in boxes if done.trail[:len(box.trail)] == box.trail)
        found.append((value_key(done), outcome, done.trail[len(origin.trail):], True))
    return sorted(found, key=repr)


def test_boxes_of_one_kind_take_the_outcomes_and_steps_of_the_one_walked():
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    boxes = _boxes(table, chain, 3 * MIN_BOXES, nat=True)
    got = _got(document, table, chain, boxes)
    assert got == _expected(document, table, chain, boxes)
    outcomes = [outcome.value for _, outcome, _, _ in got]
    # The 96 marked boxes are accepted by the mark; of the 64 unmarked ones inside 10/8, tcp is
    # accepted on 8080 and udp rejected; the 32 unmarked ones outside fall off; the straddling
    # box is cut in three.
    assert (outcomes.count("accept"), outcomes.count("reject"), outcomes.count("return")) == (161, 65, 33)


def test_a_dnat_is_applied_again_to_each_box():
    document = ruleset(NAT)
    table, chain = _chain(document, "nat", "PREROUTING")
    boxes = _boxes(table, chain, 2 * MIN_BOXES, nat=False)
    target = ((10 << 24) + (1 << 16) + 5,) * 2
    boxes.append(boxes[1]._replace(dst=(target,), trail=step((), "rule", table, chain, None, "to the target")))
    got = _got(document, table, chain, boxes)
    assert got == _expected(document, table, chain, boxes)
    accepted = [key for key, outcome, _, _ in got if outcome is Outcome.ACCEPT]
    assert len(accepted) == len(boxes)  # tcp of each; udp falls off
    # Port 80 to loopback stays local; port 81 to 10.1.0.5 is forwarded, but for the box that
    # was sent to 10.1.0.5 itself (only its port could have changed).
    local_index = Box._fields.index("local")
    nat_dst_index = Box._fields.index("nat_dst")
    to_target = [key for key in accepted if key[nat_dst_index] == (target,)]
    assert len(to_target) == len(boxes) // 2 and sum(key[local_index] for key in to_target) == 1


def test_the_key_of_a_box_is_the_atom_of_each_address_and_port_the_rules_read():
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    plan = plan_of(table, chain, _walker(document))
    assert plan.addresses == [10 << 24, 11 << 24]
    assert plan.dports == [8080, 8081]
    boxes = _boxes(table, chain, 4, nat=True)
    one, outside, straddling = boxes[1], boxes[3], boxes[-1]
    assert plan.key(one) == plan.key(one._replace(nat_dst=(((10 << 24) + 9,) * 2,), trail=()))
    assert plan.key(outside)[4] != plan.key(one)[4]  # 11.0.0.3: another atom
    assert plan.key(one._replace(mark=0)) != plan.key(one)
    assert plan.key(straddling) is None
    # Once a DNAT rewrote a box, its destination as sent is read by none of these rules.
    assert plan.key(one._replace(dst=((0, 2**32 - 1),))) == plan.key(one)


def test_a_chain_reading_an_unmodelled_match_has_no_plan():
    document = ruleset("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                       "-A FORWARD -m addrtype --dst-type LOCAL -j ACCEPT\n"
                       "-A FORWARD -m conntrack --ctorigdst 10.0.0.1 -j ACCEPT\nCOMMIT\n")
    table, chain = _chain(document, "filter", "FORWARD")
    plan = plan_of(table, chain, _walker(document))
    assert plan is not None and plan.originals  # the original destination is read
    assert (10 << 24) + 1 in plan.addresses and (127 << 24) in plan.addresses  # loopback bounds for addrtype
