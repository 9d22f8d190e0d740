"""coalesce() tells one path apart in C and groups boxes by trail first: the same answer as
grouping them box by box by path (trail and assumptions, by identity), in the order paths are
first met, for random mixes of paths (one path, every box a path of its own, a few shared
paths among many single ones, one trail with several assumptions tuples, held boxes)."""

from __future__ import annotations

import random

from linter.engine import coalesce as coalescing
from linter.engine.coalesce import coalesce, coalesce_pair
from linter.engine.space import Box
from linter.model import Family

from tests.engine.test_coalesce_pair import POOLS


def _by_path(boxes: list[Box], held: dict | None = None) -> list[Box]:
    """coalesce() as it grouped boxes before: a dict by (id(trail), id(assumptions)), box by box."""
    if len(boxes) < coalescing.COALESCE_AT_LEAST:
        return boxes
    by_path: dict = {}
    for box in boxes:
        by_path.setdefault((id(box.trail), id(box.assumptions)), []).append(box)
    if len(by_path) == len(boxes):
        return boxes
    if len(by_path) == 1:
        return coalescing._coalesce_path(boxes, held)
    merged: list[Box] = []
    for members in by_path.values():
        if len(members) == 1:
            merged.extend(members)
        elif len(members) == 2 and not held:
            merged.extend(coalesce_pair(members))
        else:
            merged.extend(coalescing._coalesce_path(members, held))
    return merged


def _box(rng: random.Random, trail: tuple, assumptions: tuple) -> Box:
    fields = {name: rng.choice(values) for name, values in POOLS.items()}
    if rng.random() < 0.7:  # mostly boxes alike but in their ports, so that many merge
        fields.update(family=Family.IPV4, proto=((6, 6),), src=((1, 1),), dst=((5, 5),), nat_dst=None,
                      nat_dport=None, oif=None, mark=0, ctmark=0, local=False)
        fields["dport"] = ((rng.randint(0, 40), rng.randint(41, 90)),)
    if (fields["nat_dst"] is None) != (fields["nat_dport"] is None):
        fields["nat_dport"] = fields["nat_dst"] and ((8080, 8080),)
    return Box(**fields, assumptions=assumptions, trail=trail)


def _boxes(rng: random.Random) -> list[Box]:
    count = rng.choice([1, 5, 6, 7, 12, 40, 200])
    shape = rng.choice(["one", "own", "few", "many"])
    paths = {"one": 1, "own": count, "few": max(1, count - rng.randint(1, 4)), "many": rng.randint(1, 8)}[shape]
    # Equal tuples that are different objects: paths are told apart by identity, not value.
    trails = [tuple(["step"] * rng.randint(1, 2)) for _ in range(paths)]
    assumed = [(), ("assumed",), tuple(["assumed"])]
    shared_assumptions = rng.random() < 0.6
    boxes = []
    for at in range(count):
        trail = trails[at % paths] if shape != "few" or at < paths else rng.choice(trails)
        assumptions = assumed[0] if shared_assumptions else rng.choice(assumed)
        boxes.append(_box(rng, trail, assumptions))
    rng.shuffle(boxes)
    return boxes


def test_coalesce_groups_paths_as_box_by_box():
    rng = random.Random(2014)
    kinds = {"same": 0, "own": 0, "merged": 0}
    for _ in range(3_000):
        boxes = _boxes(rng)
        expected = _by_path(list(boxes))
        handed = list(boxes)
        got = coalesce(handed)
        assert got == expected
        given = {id(box) for box in boxes}
        assert all(a is b for a, b in zip(got, expected) if id(b) in given)  # the very boxes
        assert [id(b.trail) for b in got] == [id(b.trail) for b in expected]
        kinds["same" if got == boxes else "merged"] += 1
        if len(boxes) >= 6 and len({(id(b.trail), id(b.assumptions)) for b in boxes}) == len(boxes):
            kinds["own"] += 1
            assert got is handed  # every box a path of its own: the list itself
    assert kinds["own"] > 100 and kinds["merged"] > 500 and kinds["same"] > 100


def test_held_boxes_group_as_box_by_box():
    """With ``held`` (source holes, by id), the merges in sources and the entries kept are those
    of grouping box by box."""
    rng = random.Random(77)
    for _ in range(500):
        boxes = _boxes(rng)
        long_sources = tuple((n * 10, n * 10 + 3) for n in range(30))
        boxes = [box._replace(src=long_sources, dport=((1, 1),)) if rng.random() < 0.3 else box for box in boxes]
        chosen = [box for box in boxes if box.src is long_sources][:2]
        held_a = {id(box): (box, [(box.src[0][0], box.src[0][0])]) for box in chosen}
        held_b = {key: (box, list(holes)) for key, (box, holes) in held_a.items()}
        expected = _by_path(list(boxes), held_a if held_a else None)
        got = coalesce(list(boxes), held_b if held_b else None)
        assert got == expected
        assert list(held_a.values()) == list(held_b.values())
        assert [key in held_a for key in map(id, expected)] == [key in held_b for key in map(id, got)]
