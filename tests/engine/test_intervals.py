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


short_ranges = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 3)), min_size=20, max_size=120)
few_pairs = st.lists(st.tuples(st.integers(0, 600), st.integers(0, 600)), max_size=3)


@given(short_ranges, few_pairs)
def test_one_long_list_against_a_few_ranges(a, b):
    """The searched paths (one list more than SKEWED times longer) agree with python sets."""
    ra, rb = _ranges((lo, lo + length) for lo, length in a), _ranges(b)
    pa, pb = _points(ra), _points(rb)
    assert _points(iv.intersect(ra, rb)) == pa & pb
    assert _points(iv.intersect(rb, ra)) == pa & pb
    assert _points(iv.subtract(ra, rb)) == pa - pb
    assert _points(iv.subtract(rb, ra)) == pb - pa
    for result in (iv.intersect(ra, rb), iv.subtract(ra, rb), iv.subtract(rb, ra)):
        assert result == iv.normalize(result)  # sorted, disjoint, not adjacent


def test_searched_paths_return_their_input_when_nothing_changes():
    long = tuple((i * 10, i * 10 + 3) for i in range(100))
    assert iv.subtract(long, ((5, 8),)) is long
    assert iv.subtract(long, ((4000, 5000),)) is long
    assert iv.intersect(long, ((0, 2000),)) is long
    assert iv.subtract(long, ((12, 12),)) == long[:1] + ((10, 11), (13, 13)) + long[2:]
    assert iv.subtract(long, ((3, 10), (12, 21), (995, 995))) == \
        ((0, 2), (11, 11), (22, 23)) + long[3:99] + ((990, 993),)


def test_union_of_a_long_and_a_short_list_splices_as_sorting_would():
    import random

    from linter.engine import intervals as iv
    rnd = random.Random(7)
    for _ in range(500):
        long = iv.normalize((lo, lo + rnd.randint(0, 5)) for lo in rnd.sample(range(0, 400, 2), rnd.randint(9, 60)))
        short = iv.normalize((lo, lo + rnd.randint(0, 30)) for lo in rnd.sample(range(0, 420), rnd.randint(1, 8)))
        expected = iv.normalize(list(long) + list(short))
        if len(long) <= 8:
            continue  # adjacent ranges merged: not the long-and-short case
        assert iv.union(long, short) == expected
        assert iv.union(short, long) == expected


def test_a_long_list_inside_a_few_ranges_is_returned_itself():
    """intersect() of a long list with a few ranges that hold all of it gives the long list
    itself, either way round, and a copy as soon as one range of it is cut or left out."""
    long = tuple((i * 10, i * 10 + 3) for i in range(100))
    covering = ((0, 503), (505, 509), (510, 2000))  # two stretches, the gap at 504 in no range
    assert iv.intersect(long, covering) is long
    assert iv.intersect(covering, long) is long
    assert iv.intersect(long, ((0, 502), (510, 2000))) == long[:50] + ((500, 502),) + long[51:]
    assert iv.intersect(long, ((1, 2000),)) == ((1, 3),) + long[1:]
    assert iv.intersect(long, ((0, 985),)) == long[:-1]
    assert iv.intersect(long, ((10, 2000),)) == long[1:]
    assert iv.intersect(long, ((0, 9), (20, 2000))) == long[:1] + long[2:]


@given(short_ranges, few_pairs)
def test_intersect_with_a_few_wide_ranges_agrees_with_python_sets(a, b):
    ra = _ranges((lo, lo + length) for lo, length in a)
    rb = _ranges((lo * 7, lo * 7 + width * 5) for lo, width in b)  # wide: often holds all of ra
    pa, pb = _points(ra), _points(rb)
    for result in (iv.intersect(ra, rb), iv.intersect(rb, ra)):
        assert _points(result) == pa & pb
        assert result == iv.normalize(result)
        if pa <= pb and len(ra) > iv.SKEWED * len(rb):
            assert result is ra


def test_normalize_merges_overlapping_touching_and_nested_ranges():
    assert iv.normalize([]) == ()
    assert iv.normalize([[3, 4]]) == ((3, 4),)
    assert iv.normalize([(10, 12), (0, 100), (5, 6), (102, 110), (101, 101), (200, 200)]) == \
        ((0, 110), (200, 200))
    assert iv.normalize([(5, 6), (1, 2), (9, 9)]) == ((1, 2), (5, 6), (9, 9))
    assert iv.normalize([(1, 2), (1, 2), (3, 3)]) == ((1, 3),)
    assert all(type(pair) is tuple for pair in iv.normalize([[7, 8], [1, 2]]))


@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 12)), max_size=40))
def test_normalize_agrees_with_python_sets(pairs_):
    ranges = iv.normalize((lo, lo + length) for lo, length in pairs_)
    assert _points(ranges) == {p for lo, length in pairs_ for p in range(lo, lo + length + 1)}
    assert all(hi + 1 < lo for (_, hi), (lo, _) in zip(ranges, ranges[1:]))  # sorted, apart
    assert all(lo <= hi for lo, hi in ranges)


def test_one_range_around_a_long_list_gives_the_list_itself():
    long = tuple((i * 10, i * 10 + 3) for i in range(1, 200))
    assert iv.intersect(((0, 10**6),), long) is long
    assert iv.intersect(long, ((10, 1993),)) is long
    # Not around it: cut at its ends as usual.
    assert iv.intersect(((11, 1993),), long) == ((11, 13),) + long[1:]
    assert iv.intersect(long, ((10, 1992),)) == long[:-1] + ((1990, 1992),)
