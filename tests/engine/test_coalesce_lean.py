"""coalesce's lane for many boxes (_coalesce_lean: signatures in columns, groups found by
buckets of hashes, engine/signature_columns.py) gives what the loop over signature tuples
gives, box for box, on random tables where the lane is taken; and the buckets find what a
plain set and dict of the hashes find."""

from __future__ import annotations

import random
from array import array

from linter.engine import coalesce as coalescing, signature_columns
from linter.engine.signature_columns import SignatureColumns, any_repeated, repeated_groups
from tests.engine.test_coalesce_signatures import _boxes, _same, reference


def _lean_and_tuples(boxes, monkeypatch):
    monkeypatch.setattr(coalescing, "LEAN_AT", 1)
    lean = coalescing._coalesce_path(list(boxes))
    monkeypatch.setattr(coalescing, "LEAN_AT", 1 << 40)
    tuples = coalescing._coalesce_path(list(boxes))
    return lean, tuples


def test_lean_lane_merges_as_the_tuples_do(monkeypatch):
    rng = random.Random(21)
    merged = 0
    for trial in range(2_000):
        monkeypatch.setattr(signature_columns, "BUCKETS", (1, 2, 4, 64)[trial % 4])
        boxes = _boxes(rng)
        lean, tuples = _lean_and_tuples(boxes, monkeypatch)
        _same(lean, tuples, boxes)
        _same(lean, reference(list(boxes)), boxes)
        merged += len(lean) < len(boxes)
    assert merged > 500


def test_lean_lane_groups_by_the_keys_where_hashes_collide(monkeypatch):
    """Every key hashed alike (or a few ways): the groups come from the keys themselves."""
    rng = random.Random(22)
    for trial in range(600):
        boxes = _boxes(rng)
        expected = reference(list(boxes))
        monkeypatch.setattr(signature_columns, "hash", (lambda value: 7) if trial % 2 else
                            (lambda value: len(value) + value[0] % 3 if value else 0), raising=False)
        monkeypatch.setattr(coalescing, "LEAN_AT", 1)
        got = coalescing._coalesce_path(list(boxes))
        monkeypatch.undo()
        _same(got, expected, boxes)


def _plain_groups(numbers: list[int]) -> dict[int, list[int]]:
    places: dict[int, list[int]] = {}
    for at, number in enumerate(numbers):
        places.setdefault(number, []).append(at)
    return {found[0]: found for found in places.values() if len(found) > 1}


def test_buckets_find_what_a_set_and_a_dict_find(monkeypatch):
    rng = random.Random(23)
    for trial in range(1_500):
        monkeypatch.setattr(signature_columns, "BUCKETS", (1, 2, 8, 64)[trial % 4])
        spread = rng.choice((3, 50, 10**6, 2**62))
        numbers = [rng.randrange(-spread, spread) for _ in range(rng.randint(0, 120))]
        hashes = array("q", numbers)
        assert any_repeated(hashes) == (len(set(numbers)) < len(numbers))
        assert {first: list(places) for first, places in repeated_groups(hashes).items()} == _plain_groups(numbers)


def test_columns_reordered_and_appended():
    rows = [(1, 2, 3), (4, 5, 6), (1, 2, 3), (7, 8, 9)]
    columns = SignatureColumns.of(([row[p] for row in rows] for p in range(3)), len(rows))
    assert list(columns.keys([0, 2])) == [(1, 3), (4, 6), (1, 3), (7, 9)]
    assert columns.alike(array("l", (0, 2)), [0, 1, 2]) and not columns.alike([0, 1], [1])
    assert columns.append((5, 5, 5)) == 4
    moved = columns.reordered(array("l", (4, 1, 1)))
    assert len(moved) == 3 and list(moved.keys([0, 1, 2])) == [(5, 5, 5), (4, 5, 6), (4, 5, 6)]
    assert list(SignatureColumns.of(([1, 2],), 2).keys([])) == [(), ()]
