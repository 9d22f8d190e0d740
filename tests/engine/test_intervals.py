"""Interval sets: the arithmetic under every port, protocol and address set."""

from __future__ import annotations

from hypothesis import given, strategies as st

from linter.engine import intervals as iv


def _ranges(draw_list):
    return iv.normalize((min(a, b), max(a, b)) for a, b in draw_list)


pairs = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200)), max_size=6)


def _points(ranges):
    return {p for lo, hi in ranges for p in range(lo, hi + 1)}


@given(pairs, pairs)
def test_operations_agree_with_python_sets(a, b):
    ra, rb = _ranges(a), _ranges(b)
    pa, pb = _points(ra), _points(rb)
    assert _points(iv.intersect(ra, rb)) == pa & pb
    assert _points(iv.subtract(ra, rb)) == pa - pb
    assert _points(iv.union(ra, rb)) == pa | pb
    assert iv.size(ra) == len(pa)
    assert iv.covers(ra, rb) == (pb <= pa)
    for value in (0, 5, 100, 200):
        assert iv.contains(ra, value) == (value in pa)


def test_canonical_form():
    assert iv.union(((1, 3),), ((4, 6), (10, 12))) == ((1, 6), (10, 12))
    assert iv.subtract(((0, 65535),), ((22, 22),)) == ((0, 21), (23, 65535))
    assert iv.intersect(((0, 10), (20, 30)), ((5, 25),)) == ((5, 10), (20, 25))


def test_huge_address_space_is_cheap():
    full = iv.full(2**128 - 1)
    hole = iv.subtract(full, ((2**127, 2**127),))
    assert iv.size(hole) == 2**128 - 1
