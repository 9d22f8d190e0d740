"""Sets of integers as sorted, disjoint, non-adjacent inclusive ranges.

Ports, protocol numbers and addresses (IPv4 and IPv6 alike) all use this one
representation, so the cost of every operation grows with the number of ranges,
never with the size of the space they cover.
"""

from __future__ import annotations

from bisect import bisect_right

Ranges = tuple[tuple[int, int], ...]
EMPTY: Ranges = ()


def full(maximum: int) -> Ranges:
    return ((0, maximum),)


def intersect(a: Ranges, b: Ranges) -> Ranges:
    """a ∩ b."""
    if not a or not b:
        return EMPTY
    if a is b:
        return a
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def subtract(a: Ranges, b: Ranges) -> Ranges:
    """a ∖ b."""
    if not a or not b:
        return a
    out = []
    j = 0
    for lo, hi in a:
        while j < len(b) and b[j][1] < lo:
            j += 1
        k = j
        cur = lo
        while k < len(b) and b[k][0] <= hi:
            if b[k][0] > cur:
                out.append((cur, b[k][0] - 1))
            cur = max(cur, b[k][1] + 1)
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


def normalize(ranges) -> Ranges:
    """Sorted, merged ranges from any iterable of (lo, hi) pairs."""
    return union((), tuple(ranges), _force=True)


def union(a: Ranges, b: Ranges, _force: bool = False) -> Ranges:
    """a ∪ b, merged (both are taken to be canonical already, unless one is empty)."""
    if not _force:
        if not a:
            return b
        if not b or a is b or a == b:
            return a
    merged: list[list[int]] = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


def contains(a: Ranges, value: int) -> bool:
    index = bisect_right(a, (value, float("inf"))) - 1
    return index >= 0 and a[index][0] <= value <= a[index][1]


def size(a: Ranges) -> int:
    return sum(hi - lo + 1 for lo, hi in a)


def covers(a: Ranges, b: Ranges) -> bool:
    """b ⊆ a."""
    return not subtract(b, a)
