"""engine/replay.py's FORWARD and POSTROUTING lanes against their general forms: a replayed
path's look-ups skipped once it is new (the same sharing of paths), a box returned with no step
standing for itself (the same values). Plan.key against _atom: test_replay_lanes.py."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import space  # noqa: E402
from linter.engine.replay import MIN_BOXES, walk_many  # noqa: E402
from linter.engine.space import Box, value_key  # noqa: E402
from linter.engine.walk import Outcome, step  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_replay import ALL, FORWARD, _boxes, _chain, _expected, _walker  # noqa: E402

POSTROUTING = ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
               ":KUBE-POSTROUTING - [0:0]\n"
               "-A POSTROUTING -j KUBE-POSTROUTING\n"
               "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n"
               "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0\n"
               "-A KUBE-POSTROUTING -j MASQUERADE --random-fully\nCOMMIT\n")


def _got_pairs(document, table, chain, boxes):
    space.forget_paths()
    return walk_many(_walker(document), table, chain, boxes)


def test_members_of_one_path_share_their_replayed_path_and_others_do_not():
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    boxes = _boxes(table, chain, 3 * MIN_BOXES, nat=True)
    # Pairs of boxes on one path (one trail object), differing in their sources so that no merge
    # takes them together: each pair's replays must end on one path, every other pair on its own.
    shared = []
    for index, box in enumerate(boxes[:-1]):
        if index % 2:
            low = ((1 << 24) * (index % 7 + 1), (1 << 24) * (index % 7 + 1) + 3)
            shared.append(box._replace(src=(low,), trail=shared[-1].trail, mark=shared[-1].mark))
        else:
            shared.append(box._replace(src=(((200 << 24), (200 << 24) + 3),)))
    got = _got_pairs(document, table, chain, shared)
    assert sorted((value_key(b), o, b.trail[1:]) for b, o in got) == sorted(
        (key, outcome, trail) for key, outcome, trail, _ in _expected(document, table, chain, shared))
    by_origin: dict[int, set[int]] = {}
    for box, outcome in got:
        if outcome is Outcome.ACCEPT:
            # (one path and one way through the chain: the steps after the path's own)
            by_origin.setdefault((id(box.trail[0]), tuple(map(id, box.trail[1:]))), set()).add(id(box.trail))
    origins_of: dict[int, set[int]] = {}
    for origin, trails in by_origin.items():
        assert len(trails) == 1  # one path's boxes share the extended path
        for trail in trails:
            origins_of.setdefault(trail, set()).add(origin)
    assert all(len(origins) == 1 for origins in origins_of.values())  # and no two paths share one
    assert len(origins_of) < sum(outcome is Outcome.ACCEPT for _, outcome in got)  # (some paths are shared)


def test_a_box_returned_with_no_step_is_the_member_itself():
    document = ruleset(POSTROUTING)
    table, chain = _chain(document, "nat", "POSTROUTING")
    # The exact fields' objects shared by the boxes (as a replay leaves them), but for the last
    # few boxes, whose equal copies stand for no member's own objects.
    proto, sport, dport, iif, state, oif = ((6, 6),), ((0, 65535),), ((80, 80),), frozenset({"eth0"}), \
        frozenset({"new"}), frozenset({"eth1"})
    boxes = []
    count = 3 * MIN_BOXES
    for index in range(count):
        address = (10 << 24) + index
        if index >= count - 6:
            proto, iif = ((6, 6),), frozenset({"eth0"})
        box = Box(Family.IPV4, proto, sport, dport, ALL, ((address, address),), iif, state, local=False,
                  nat_dst=((address, address),), nat_dport=((8080, 8080),), oif=oif, mark=0x4000 if index % 2 else 0)
        boxes.append(box._replace(trail=step((), "rule", table, chain, None, f"path {index}")))
    got = _got_pairs(document, table, chain, boxes)
    expected = _expected(document, table, chain, boxes)
    assert sorted(((value_key(b), o, b.trail[1:]) for b, o in got), key=repr) == sorted(
        ((key, outcome, trail) for key, outcome, trail, _ in expected), key=repr)
    returned = [box for box, outcome in got if outcome is Outcome.RETURN]
    assert len(returned) == count // 2
    members = {id(box) for box in boxes}
    assert sum(id(box) in members for box in returned) == count // 2 - 3  # the last three: rebuilt
