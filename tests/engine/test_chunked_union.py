"""engine/chunked_union.py: the chunked Union answers as sorted disjoint ranges would."""

from __future__ import annotations

import random

import pytest

from linter.engine import chunked_union
from linter.engine import intervals as iv
from linter.engine.chunked_union import Union


def _ranges(rng: random.Random, top: int, most: int) -> iv.Ranges:
    found = []
    for _ in range(rng.randint(1, most)):
        lo = rng.randint(0, top)
        found.append((lo, min(top, lo + rng.choice((0, 0, 1, 3, 40)))))
    merged = []  # (sorted, disjoint, non-adjacent)
    for lo, hi in sorted(found):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@pytest.mark.parametrize("seed", range(30))
def test_chunked_union_is_the_flat_union(monkeypatch, seed):
    rng = random.Random(seed)
    monkeypatch.setattr(chunked_union, "_CHUNK", rng.choice((1, 2, 3, 8)))  # (many chunks, splits, rebuilds)
    top = rng.choice((60, 400, 5000))
    union = Union(_ranges(rng, top, 6) if rng.random() < 0.5 else ())
    flat = union.ranges()
    assert all(len(chunk) <= 2 * chunked_union._CHUNK and chunk for chunk in union.starts)
    for _ in range(300):
        ranges = _ranges(rng, top, 3)
        grown = iv.union(flat, ranges)
        assert union.add(ranges) == (grown != flat)
        flat = grown
        assert union.ranges() == flat
        assert all(chunk for chunk in union.starts)
        assert union.firsts == [chunk[0] for chunk in union.starts]
        assert union.lasts == [chunk[-1] for chunk in union.ends]
        probe = _ranges(rng, top + 5, 3)
        assert union.meets(probe) == bool(iv.intersect(probe, flat))
        assert union.covers(probe) == (not iv.subtract(probe, flat))
        assert union.inside(probe) == iv.intersect(probe, flat)
        assert union.outside(probe) == iv.subtract(probe, flat)
        rest = iv.subtract(probe, flat)
        assert union.first_outside(probe) == (rest[0][0] if rest else None)
        value = rng.randint(0, top + 5)
        assert union.holds(value) == bool(iv.intersect(((value, value),), flat))
