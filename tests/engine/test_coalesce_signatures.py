"""coalesce's signatures of the varying fields and grouping by hashes give what full signatures
and groups keyed by their tuples gave (the loop before, kept here as the reference)."""

from __future__ import annotations

import random
from operator import itemgetter

from linter.engine import coalesce as coalescing
from linter.engine.coalesce import _DIMENSIONS, _SET_DIMENSIONS, _BLOCK_OF, _merged_held, _merged_ranges
from linter.engine.space import Box, replace
from linter.model import Family

LONG = tuple((n * 10, n * 10 + 3) for n in range(12))  # past BY_VALUE: compared by identity
LONG_TWIN = LONG[:6] + LONG[6:]  # equal, another object
SHARED = {
    "family": Family.IPV4, "proto": ((6, 6),), "sport": ((0, 65535),), "dport": ((80, 80),),
    "src": ((0, 2**32 - 1),), "dst": ((5, 5),), "iif": frozenset({"eth0"}), "state": frozenset({"new"}),
    "local": True, "nat_dst": None, "nat_dport": None, "oif": None, "mark": 0, "ctmark": 0,
}
POOLS = {
    "proto": [((6, 6),), ((17, 17),), ((0, 5), (7, 16), (18, 255))],
    "sport": [((0, 65535),), ((1024, 65535),)],
    "dport": [((80, 80),), ((443, 443),), ((81, 81),), ((0, 79), (81, 65535)), ((80, 80),)],
    "src": [((0, 2**32 - 1),), ((1, 1),), ((2, 2),), ((3, 3),), LONG, LONG_TWIN],
    "dst": [((5, 5),), ((6, 6),), ((7, 9),), LONG, LONG_TWIN],
    "iif": [frozenset({"eth0"}), frozenset({"eth1"}), frozenset({"eth0", "eth1"})],
    "state": [frozenset({"new"}), frozenset({"established"})],
    "nat_dst": [None, ((100, 100),), ((101, 101),)],
    "oif": [None, frozenset({"eth2"}), frozenset({"eth3"})],
    "mark": [0, 0x4000],
}


def reference(boxes: list[Box], held: dict | None = None) -> list[Box]:
    """_coalesce_path as it was: full signatures, groups keyed by their tuples."""
    width = len(coalescing._VALUE_FIELDS)
    codes: dict = {}

    def signature_of(box):
        code = codes.setdefault
        return tuple([code(v if type(v) is not tuple and type(v) is not coalescing.RangeList
                           or len(v) <= coalescing.BY_VALUE else id(v), len(codes)) for v in box[:width]])

    outside_block = tuple(itemgetter(*(i for i in range(width) if Box._fields[i] not in block))
                          for block in coalescing._BLOCKS)
    other_than = {name: itemgetter(*(i for i in range(width) if i != Box._fields.index(name))) for name in _DIMENSIONS}
    signatures = [signature_of(box) for box in boxes]
    if held:
        for at, box in enumerate(boxes):
            if id(box) in held:
                signatures[at] = coalescing._held_signature(signatures[at], codes)
    apart: set[int] = set()
    for name in _DIMENSIONS:
        if name.startswith("nat_") and all(b.nat_dst is None for b in boxes):
            continue
        if name == "oif" and any(b.oif is None for b in boxes):
            continue
        block = _BLOCK_OF[name]
        if block in apart:
            continue
        if len({outside_block[block](signature) for signature in signatures}) == len(boxes):
            apart.add(block)
            continue
        index = Box._fields.index(name)
        groups: dict[tuple, list[int]] = {}
        for at, signature in enumerate(signatures):
            groups.setdefault(other_than[name](signature), []).append(at)
        if len(groups) == len(boxes):
            continue
        merged, merged_signatures = [], []
        for places in groups.values():
            if len(places) == 1:
                merged.append(boxes[places[0]])
                merged_signatures.append(signatures[places[0]])
                continue
            members = [boxes[at] for at in places]
            if name in _SET_DIMENSIONS:
                box = replace(members[0], **{name: frozenset().union(*(m[index] for m in members))})
            elif held and name == "src" and any(id(m) in held for m in members):
                box = _merged_held(members, held)
            else:
                box = replace(members[0], **{name: _merged_ranges(tuple(m[index] for m in members))})
            signature = signature_of(box)
            if held and id(box) in held:
                signature = coalescing._held_signature(signature, codes)
            merged.append(box)
            merged_signatures.append(signature)
        boxes, signatures = merged, merged_signatures
        apart.clear()
        if len(boxes) < 2:
            break
    return boxes


def _boxes(rng: random.Random) -> list[Box]:
    """Boxes of one path, alike by identity in a random choice of fields, with repeats."""
    varying = rng.sample(list(POOLS), rng.randint(0, 4))
    trail, assumptions = ("step",), ()
    boxes = []
    for _ in range(rng.randint(2, 40)):
        fields = dict(SHARED)
        for name in varying:
            fields[name] = rng.choice(POOLS[name])
        if fields["nat_dst"] is not None:
            fields["nat_dport"] = ((8080, 8080),)
        boxes.append(Box(**fields, assumptions=assumptions, trail=trail))
    if rng.random() < 0.3:
        boxes.extend(rng.sample(boxes, rng.randint(1, len(boxes))))  # the same boxes again
    return boxes


def _same(got: list[Box], expected: list[Box], given: list[Box]) -> None:
    assert got == expected
    # A box not merged is the very box given, in both.
    assert [any(box is g for g in given) for box in got] == [any(box is g for g in given) for box in expected]
    assert [[type(v) for v in box] for box in got] == [[type(v) for v in box] for box in expected]


def test_coalesce_path_merges_as_full_signatures_do():
    rng = random.Random(11)
    merged = 0
    for _ in range(3_000):
        boxes = _boxes(rng)
        expected = reference(list(boxes))
        got = coalescing._coalesce_path(list(boxes))
        _same(got, expected, boxes)
        merged += len(got) < len(boxes)
    assert merged > 1_000


def test_equal_hashes_of_different_keys_group_by_the_keys(monkeypatch):
    """Every key hashed alike: the groups are made by the keys themselves, the same boxes out."""
    rng = random.Random(12)
    for _ in range(500):
        boxes = _boxes(rng)
        expected = reference(list(boxes))
        monkeypatch.setattr(coalescing, "hash", lambda value: 7, raising=False)
        got = coalescing._coalesce_path(list(boxes))
        monkeypatch.undo()
        _same(got, expected, boxes)


def test_a_merge_in_a_field_every_box_shares_widens_the_signatures():
    """Equal boxes (every field the same objects) merge in the first dimension, left out of the
    signatures: the merged box's new list is then compared as a full signature compares it."""
    long_one = tuple((n * 10, n * 10 + 3) for n in range(40))
    box = Box(**dict(SHARED, dst=long_one), assumptions=(), trail=("step",))
    other = box._replace(dport=((443, 443),))
    boxes = [box, box, other, other._replace(src=((1, 1),)), box._replace(src=((1, 1),))]
    _same(coalescing._coalesce_path(list(boxes)), reference(list(boxes)), boxes)
