"""Cutting one range list by a sorted index of disjoint keyed intervals (a dispatch segment's
keys): the pieces of the list that fall in each key's group.

Two ways to the same pieces, chosen by length: a short list is walked range by range, each
range looking its keys up in the index; a long list (a box's source after thousands of
dropped /24s) is looked up by each of the index's few intervals instead, so the cost is the
index's size times log of the list, not the list's length.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from linter.engine import intervals as iv

# Past this ratio of the list's length to the index's, the index drives the search.
SEARCH_BY_INDEX = 4
_AFTER_ALL = float("inf")  # (value, _AFTER_ALL) sorts after every range starting at value


def pieces_by_group(current: iv.Ranges, index: list[tuple[int, int, int]],
                    starts: list[int]) -> dict[int, list[tuple[int, int]]]:
    """Group -> the pieces of ``current`` inside that group's intervals, in ascending order.

    ``index``: (lo, hi, group) rows, sorted and disjoint; ``starts``: their ``lo`` values."""
    if len(current) > SEARCH_BY_INDEX * len(index):
        return _by_index(current, index)
    found: dict[int, list[tuple[int, int]]] = {}
    count = len(index)
    for lo, hi in current:
        position = max(bisect_left(starts, lo) - 1, 0)
        while position < count and index[position][0] <= hi:
            r_lo, r_hi, group = index[position]
            if r_hi >= lo:
                found.setdefault(group, []).append((max(lo, r_lo), min(hi, r_hi)))
            position += 1
    return found


def _by_index(current: iv.Ranges, index: list[tuple[int, int, int]]) -> dict[int, list[tuple[int, int]]]:
    found: dict[int, list[tuple[int, int]]] = {}
    for r_lo, r_hi, group in index:
        first = bisect_left(current, (r_lo,))  # the first range starting at or after r_lo
        if first > 0 and current[first - 1][1] >= r_lo:
            first -= 1
        last = bisect_right(current, (r_hi, _AFTER_ALL))  # the ranges starting at or before r_hi
        if first >= last:
            continue
        pieces = found.setdefault(group, [])
        for position in range(first, last):
            lo, hi = current[position]
            pieces.append((lo if lo > r_lo else r_lo, hi if hi < r_hi else r_hi))
    return found
