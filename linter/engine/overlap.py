"""Whether two range lists share a value, without building their intersection.

``bool(intervals.intersect(a, b))`` builds the common ranges only to throw them away: settling
kube-proxy's random choices (engine/choices.py) asks it 150,000 times at 100k rules, mostly of a
one-address list against one of thousands of ranges."""

from __future__ import annotations

from bisect import bisect_left

SKEWED = 8  # past this ratio of lengths the long list is searched, as intervals.intersect does


def meets(a, b) -> bool:
    """Whether the sorted, disjoint range lists ``a`` and ``b`` share a value:
    ``bool(intervals.intersect(a, b))``."""
    if not a or not b:
        return False
    if a is b:
        return True
    if a[0][0] > b[-1][1] or b[0][0] > a[-1][1]:
        return False
    if len(a) == 1 and len(b) == 1:
        return True  # two ranges, neither wholly past the other
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(long_) > SKEWED * len(short):
        end = len(long_)
        for lo, hi in short:
            index = bisect_left(long_, (lo,))  # the first range starting at or after lo
            if index > 0 and long_[index - 1][1] >= lo:
                return True  # the range starting before lo reaches it
            if index < end and long_[index][0] <= hi:
                return True
        return False
    i = j = 0
    len_a, len_b = len(a), len(b)
    while i < len_a and j < len_b:
        a_lo, a_hi = a[i]
        b_lo, b_hi = b[j]
        if (a_lo if a_lo > b_lo else b_lo) <= (a_hi if a_hi < b_hi else b_hi):
            return True
        if a_hi < b_hi:
            i += 1
        else:
            j += 1
    return False
