"""_replay_all's loops for a template of one outcome with no assumption (_replay_one, and a
stepless return whose members all hold the template's exact fields), against its general loop:
the same boxes, outcomes, shared paths and path cache, the same members standing for
themselves."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import replay, space  # noqa: E402
from linter.engine.replay import MIN_BOXES, walk_many  # noqa: E402
from linter.engine.space import Box  # noqa: E402
from linter.engine.walk import step  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_replay import ALL, FORWARD, _chain, _walker  # noqa: E402
from tests.engine.test_replay_fell_off import POSTROUTING  # noqa: E402


def _random_boxes(rng: random.Random, table, chain, nat: bool) -> list[Box]:
    """Boxes with a path each or a few shared ones (one trail object), marked or not, some with
    the exact fields' shared objects and some with equal copies of their own."""
    proto, sport, iif, state, oif = ((6, 6),), ((0, 65535),), frozenset({"eth0"}), frozenset({"new"}), None
    trails = [step((), "rule", table, chain, None, f"path {n}") for n in range(rng.randint(20, 4 * MIN_BOXES))]
    boxes = []
    copies = rng.random() < 0.5
    for index in range(rng.randint(MIN_BOXES, 4 * MIN_BOXES)):
        address = (10 << 24) + rng.randrange(1 << 12) if rng.random() < 0.8 else (11 << 24) + index
        one = ((address, address),)
        own = copies and rng.random() < 0.1
        box = Box(Family.IPV4, ((6, 6),) if own else proto, sport, ((8080 + index % 3,) * 2,),
                  ((rng.randrange(1 << 32),) * 2,), ALL if nat else one, frozenset({"eth0"}) if own else iif, state,
                  local=False, nat_dst=one if nat else None, nat_dport=((80, 80),) if nat else None, oif=oif,
                  mark=0x4000 if rng.random() < 0.5 else 0)
        boxes.append(box._replace(trail=rng.choice(trails)))
    return boxes


def _walked(monkeypatch, document, table, chain, boxes, lane: bool):
    monkeypatch.setattr(replay, "ONE_OUTCOME_LANE", lane)
    space.forget_paths()
    got = walk_many(_walker(document), table, chain, list(boxes))
    paths = {key: (id(kept), tuple(map(id, extended))) for key, (kept, extended) in space._PATHS.items()}
    given = {id(box): at for at, box in enumerate(boxes)}
    # Each result by value, outcome, its trail's steps and which given box it is, if any; trails
    # numbered in the order met (which results share a path).
    numbers: dict[int, int] = {}
    shape = [(box, outcome, box.trail, given.get(id(box)), numbers.setdefault(id(box.trail), len(numbers)))
             for box, outcome in got]
    return shape, paths, {id(trail) for trail in (box.trail for box, _ in got)}


@pytest.mark.parametrize("source, table_name, chain_name, nat", [
    (FORWARD, "filter", "FORWARD", True), (FORWARD, "filter", "FORWARD", False),
    (POSTROUTING, "nat", "POSTROUTING", True)])
def test_the_one_outcome_loops_replay_as_the_general_loop(monkeypatch, source, table_name, chain_name, nat):
    document = ruleset(source)
    table, chain = _chain(document, table_name, chain_name)
    rng = random.Random(hash((table_name, chain_name, nat)) & 0xFFFF)
    taken = 0
    calls = []
    one = replay._replay_one
    monkeypatch.setattr(replay, "_replay_one", lambda *args: calls.append(1) or one(*args))
    for _ in range(30):
        boxes = _random_boxes(rng, table, chain, nat)
        calls.clear()
        got, got_paths, _ = _walked(monkeypatch, document, table, chain, boxes, True)
        expected, expected_paths, _ = _walked(monkeypatch, document, table, chain, boxes, False)
        assert [row[:2] + row[3:] for row in got] == [row[:2] + row[3:] for row in expected]
        assert [row[2] for row in got] == [row[2] for row in expected]
        # The path cache holds the same extensions (keys are ids of the same given paths or of
        # paths made alike: compared by what they hold).
        assert len(got_paths) == len(expected_paths)
        taken += bool(calls) or any(row[3] is not None for row in got)
    assert taken > 10
