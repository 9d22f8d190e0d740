"""coalesce(): which boxes merge (one dimension apart, one path), and which do not."""

from __future__ import annotations

from linter.engine.coalesce import coalesce
from linter.engine.rangelist import HOLD_AT_LEAST, RangeList, held
from linter.engine.space import Box, replace
from linter.model import Family

ALL_PORTS = ((0, 65535),)
EVERYWHERE = ((0, 2**32 - 1),)
STATES = frozenset({"new"})


def _box(dport=((22, 22),), src=EVERYWHERE, proto=((6, 6),), **changes) -> Box:
    box = Box(Family.IPV4, proto, ALL_PORTS, dport, src, EVERYWHERE, frozenset({"eth0"}), STATES)
    return replace(box, **changes) if changes else box


def _long(start: int) -> tuple:
    return tuple((start + i * 4, start + i * 4 + 1) for i in range(20))  # more than 8 ranges


def test_boxes_one_dimension_apart_merge_in_order():
    boxes = [_box(((22, 22),)), _box(((80, 80),), proto=((17, 17),)), _box(((23, 23),)),
             _box(((24, 30),)), _box(((443, 443),), proto=((17, 17),)), _box(((1000, 1000),), src=((1, 1),))]
    merged = coalesce(boxes)
    assert merged == [_box(((22, 30),)), _box(((80, 80), (443, 443)), proto=((17, 17),)),
                      _box(((1000, 1000),), src=((1, 1),))]
    assert merged[2] is boxes[5]  # nothing to merge with: the box itself


def test_boxes_two_dimensions_apart_stay_apart():
    boxes = [_box(((22, 22),), src=((1, 1),)), _box(((23, 23),), src=((2, 2),)),
             _box(((24, 24),), proto=((17, 17),)), _box(((25, 25),), src=((3, 3),)),
             _box(((26, 26),), src=((4, 4),), proto=((17, 17),)), _box(((27, 27),), src=((5, 5),))]
    assert coalesce(boxes) == boxes


def test_long_lists_are_compared_by_identity():
    """Equal long source lists held by different boxes do not let the boxes merge on ports;
    one list held by both does."""
    shared = _long(1000)
    alike = [_box(((port, port),), src=shared) for port in (1, 2, 3)] + \
        [_box(((port, port),), src=_long(1000)) for port in (4, 5, 6)]
    merged = coalesce(alike)
    assert [box.dport for box in merged] == [((1, 3),), ((4, 4),), ((5, 5),), ((6, 6),)]
    assert merged[0].src is shared


def test_boxes_of_different_paths_do_not_merge():
    boxes = [_box(((port, port),), trail=("a",) if port % 2 else ("b",)) for port in range(10, 22)]
    merged = coalesce(boxes)
    assert sorted((box.trail, box.dport) for box in merged) == [
        (("a",), ((11, 11), (13, 13), (15, 15), (17, 17), (19, 19), (21, 21))),
        (("b",), ((10, 10), (12, 12), (14, 14), (16, 16), (18, 18), (20, 20)))]


def test_long_range_lists_are_compared_by_identity_as_tuples_are():
    """A RangeList (engine/rangelist.py, the dead-rule analysis's long lists) is a long list to
    coalesce: equal ones held by different boxes keep the boxes apart, one held by both merges them."""
    ranges = tuple((i * 4, i * 4 + 1) for i in range(HOLD_AT_LEAST))
    shared = held(ranges)
    assert type(shared) is RangeList and held(ranges) is not shared
    alike = [_box(((port, port),), src=shared) for port in (1, 2, 3)] + \
        [_box(((port, port),), src=held(ranges)) for port in (4, 5, 6)]
    merged = coalesce(alike)
    assert [box.dport for box in merged] == [((1, 3),), ((4, 4),), ((5, 5),), ((6, 6),)]
    assert merged[0].src is shared
