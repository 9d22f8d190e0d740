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
    """a ∩ b (``a`` or ``b`` itself when the result equals it: boxes split from one another
    keep sharing their range tuples)."""
    if not a or not b:
        return EMPTY
    if a is b:
        return a
    if len(a) == 1 and len(b) == 1:
        (a_lo, a_hi), = a
        (b_lo, b_hi), = b
        lo = a_lo if a_lo > b_lo else b_lo
        hi = a_hi if a_hi < b_hi else b_hi
        if lo > hi:
            return EMPTY
        if lo == a_lo and hi == a_hi:
            return a
        if lo == b_lo and hi == b_hi:
            return b
        return ((lo, hi),)
    out = []
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        a_lo, a_hi = a[i]
        b_lo, b_hi = b[j]
        lo = a_lo if a_lo > b_lo else b_lo
        hi = a_hi if a_hi < b_hi else b_hi
        if lo <= hi:
            out.append((lo, hi))
        if a_hi < b_hi:
            i += 1
        else:
            j += 1
    if len(out) == len_a and all(x == y for x, y in zip(out, a)):
        return a
    return tuple(out)


def subtract(a: Ranges, b: Ranges) -> Ranges:
    """a ∖ b (``a`` itself when nothing is taken away)."""
    if not a or not b:
        return a
    if len(a) == 1 and len(b) == 1:
        (a_lo, a_hi), = a
        (b_lo, b_hi), = b
        if b_hi < a_lo or b_lo > a_hi:
            return a
        if b_lo <= a_lo:
            return ((b_hi + 1, a_hi),) if b_hi < a_hi else EMPTY
        if b_hi >= a_hi:
            return ((a_lo, b_lo - 1),)
        return ((a_lo, b_lo - 1), (b_hi + 1, a_hi))
    out = []
    j = 0
    len_b = len(b)
    for lo, hi in a:
        while j < len_b and b[j][1] < lo:
            j += 1
        k = j
        cur = lo
        while k < len_b and b[k][0] <= hi:
            b_lo, b_hi = b[k]
            if b_lo > cur:
                out.append((cur, b_lo - 1))
            if b_hi + 1 > cur:
                cur = b_hi + 1
            k += 1
        if cur <= hi:
            out.append((cur, hi))
    if len(out) == len(a) and all(x == y for x, y in zip(out, a)):
        return a
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
