"""Long range lists held as chunks that versions of a list share (a persistent range list).

A range list (engine/intervals.py: sorted, disjoint ranges in a tuple) that loses a few ranges
is copied whole: a random mix's dead-rule analysis carries hundreds of boxes, each with its own
list of ~1,000 destination port ranges (every port dropped so far), and each rule's three
ports were taken out of every one of them by a copy of all of it. A RangeList holds the same
ranges as a tuple of chunks (each a tuple of ranges) and the first value of each chunk; taking
a few ranges away rebuilds only the chunks they fall in and the short tuples of chunks and
first values, sharing every other chunk with the list it came from: about 2·√n work instead
of n.

It is a drop-in value for a tuple of ranges: it has the same length, items, slices, iteration,
equality, order and hash as the tuple of its ranges (``flat``, built at the first such use and
kept), so every function of intervals.py and every reader of a box gives the same answers.
Only ``type(value) is tuple`` tells them apart: the places that compare long lists by identity
test ``is_long`` (coalesce, keyed_jumps, runs), which holds a RangeList as a long list, as it
would hold the tuple.

Which object a list is matters (coalesce compares long lists by identity): ``subtract`` and
``intersect`` hand back the list itself exactly where intervals.subtract and
intervals.intersect would hand back theirs (nothing taken away, or the other argument where
the result equals it), and a new object (a RangeList, or a tuple when the result is short)
where they would make a new tuple. A whole slice of a RangeList is the RangeList itself, as a
whole slice of a tuple is that tuple.

API: ``held(ranges)`` (a list as a RangeList when it is long), ``subtract(a, b)``,
``intersect(a, b)``, ``looked_up(a, few)``, ``is_long(value)``, ``RangeList.flat()``.
intervals.py hands its skewed cases (a long list met by a few ranges) here when the long list
is a RangeList, so that a walk's rule matching reads it chunk by chunk instead of flattening it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import chain
from math import isqrt

from linter.engine import intervals as iv, memo

HOLD_AT_LEAST = 256  # lists of at least this many ranges are worth holding as chunks
SHORT_AT_MOST = 64  # a result this short is a plain tuple again
FEW = 16  # intersect() takes the complement of a list this short away (else it copies)
CHUNK_AT_LEAST = 32  # ranges per chunk at least (√n for longer lists)


class RangeList:
    """A sorted, disjoint range list in chunks; compares, hashes and reads as its tuple."""

    __slots__ = ("chunks", "heads", "count", "_flat", "_hash")

    def __init__(self, chunks: tuple, heads: tuple, count: int):
        self.chunks = chunks  # tuples of ranges, none empty, in order
        self.heads = heads  # chunks[i][0][0], for bisection
        self.count = count
        self._flat: iv.Ranges | None = None
        self._hash: int | None = None

    def flat(self) -> iv.Ranges:
        """The ranges as one tuple (built once)."""
        flat = self._flat
        if flat is None:
            flat = self._flat = iv.joined(self.chunks)
        return flat

    def __len__(self) -> int:
        return self.count

    def __bool__(self) -> bool:
        return self.count > 0

    def __getitem__(self, index):
        if index == 0:
            return self.chunks[0][0]
        if index == -1:
            return self.chunks[-1][-1]
        flat = self.flat()
        found = flat[index]
        return self if found is flat else found  # (a whole slice of a tuple is the tuple)

    def __iter__(self):
        flat = self._flat
        return iter(flat) if flat is not None else chain.from_iterable(self.chunks)

    def __contains__(self, item) -> bool:
        return item in self.flat()

    def __eq__(self, other) -> bool:
        if other is self:
            return True
        if type(other) is RangeList:
            return self.count == other.count and self.flat() == other.flat()
        if type(other) is tuple:
            return self.count == len(other) and self.flat() == other
        return NotImplemented

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        found = self._hash
        if found is None:
            found = self._hash = hash(self.flat())
        return found

    def __lt__(self, other):
        return self.flat() < _plain(other)

    def __le__(self, other):
        return self.flat() <= _plain(other)

    def __gt__(self, other):
        return self.flat() > _plain(other)

    def __ge__(self, other):
        return self.flat() >= _plain(other)

    def __add__(self, other):
        return self.flat() + _plain(other)

    def __radd__(self, other):
        return _plain(other) + self.flat()

    def __reduce__(self):
        return tuple, (self.flat(),)

    def __repr__(self) -> str:
        return f"RangeList({self.flat()!r})"

    def index(self, value, *args) -> int:
        return self.flat().index(value, *args)

    def count_of(self, value) -> int:
        return self.flat().count(value)


def _plain(value):
    if type(value) is RangeList:
        return value.flat()
    if type(value) is tuple:
        return value
    raise TypeError(f"a range list meets a {type(value).__name__}")


def is_long(value) -> bool:
    """Whether ``value`` is a range list compared by identity where long lists are (a tuple of
    more than 8 ranges, or any RangeList: coalesce._signature, keyed_jumps, runs)."""
    kind = type(value)
    return kind is RangeList or kind is tuple and len(value) > 8


def held(ranges: iv.Ranges) -> iv.Ranges:
    """``ranges`` as a new RangeList when it holds at least HOLD_AT_LEAST ranges, else itself."""
    if type(ranges) is RangeList or len(ranges) < HOLD_AT_LEAST:
        return ranges
    return _chunked(ranges)


def _chunked(ranges) -> RangeList:
    count = len(ranges)
    width = max(CHUNK_AT_LEAST, isqrt(count))
    chunks = tuple([ranges[start:start + width] for start in range(0, count, width)])
    return RangeList(chunks, tuple([chunk[0][0] for chunk in chunks]), count)


def subtract(a: iv.Ranges, b: iv.Ranges, cuts: dict | None = None) -> iv.Ranges:
    """intervals.subtract(a, b) for ``b`` sorted and disjoint: ``a`` itself when nothing is taken
    away, else a new list (a RangeList when ``a`` is long, a tuple when the rest is short).

    ``cuts``: a dict the caller keeps while it takes this same ``b`` from many lists (and the
    lists alive): a chunk they share is cut once, and the lists cut keep sharing its rest."""
    if type(a) is not RangeList:
        if len(a) < HOLD_AT_LEAST:
            return iv.subtract(a, b)
        if not _meets(a, b):  # (chunking a tuple that loses nothing copied it for nothing)
            return a
        rest = _subtract_chunks(_chunked(a), b, cuts)
        return a if rest is None else rest
    rest = _subtract_chunks(a, b, cuts)
    return a if rest is None else rest


def _meets(a: iv.Ranges, b: iv.Ranges) -> bool:
    """Whether some range of ``b`` meets one of the tuple ``a`` (both sorted and disjoint)."""
    count = len(a)
    for lo, hi in b:
        position = bisect_left(a, (lo,))
        if position and a[position - 1][1] >= lo or position < count and a[position][0] <= hi:
            return True
    return False


def _subtract_chunks(a: RangeList, b: iv.Ranges, cuts: dict | None) -> iv.Ranges | None:
    """a less b, or None when nothing is taken away."""
    chunks, heads = a.chunks, a.heads
    count = len(chunks)
    touched: list[list] = []  # [chunk index, the ranges of b that may reach it], in order
    for lo, hi in b:
        number = bisect_right(heads, lo) - 1  # the last chunk starting at or before lo
        if number < 0:
            number = 0
        while number < count and heads[number] <= hi:
            if touched and touched[-1][0] == number:
                touched[-1].append((lo, hi))
            else:
                touched.append([number, (lo, hi)])
            number += 1
    changed: list[tuple[int, iv.Ranges]] = []
    for number, *wanted in touched:
        chunk = chunks[number]
        if cuts is not None:
            found = cuts.get(id(chunk))
            if found is not None and found[0] is chunk:
                if found[1] is not chunk:
                    changed.append((number, found[1]))
                continue
        rest = chunk
        for lo, hi in wanted:
            rest = _cut(rest, lo, hi)
        if cuts is not None:
            cuts[id(chunk)] = (chunk, rest)
        if rest is not chunk:
            changed.append((number, rest))
    if not changed:
        return None
    total = a.count
    new_chunks = list(chunks)
    for number, rest in changed:
        total += len(rest) - len(chunks[number])
        new_chunks[number] = rest
    if total <= SHORT_AT_MOST:
        return iv.joined(new_chunks)
    widest = 2 * max(CHUNK_AT_LEAST, isqrt(total))
    for _, rest in changed:
        if not rest or len(rest) > widest:
            new_chunks = _rebalanced(new_chunks, widest)
            return RangeList(tuple(new_chunks), tuple([chunk[0][0] for chunk in new_chunks]), total)
    new_heads = list(heads)
    for number, rest in changed:
        new_heads[number] = rest[0][0]
    return RangeList(tuple(new_chunks), tuple(new_heads), total)


_AFTER_ALL = float("inf")  # (value, _AFTER_ALL) sorts after every range starting at value


def _cut(chunk: iv.Ranges, lo: int, hi: int) -> iv.Ranges:
    """``chunk`` less the range lo-hi (the chunk itself when it misses it); the pieces left of a
    range cut are shared (shared_piece)."""
    if not chunk:
        return chunk
    first = bisect_left(chunk, (lo,))  # the first range starting at or after lo
    if first and chunk[first - 1][1] >= lo:
        first -= 1
    last = bisect_right(chunk, (hi, _AFTER_ALL), first)  # past the ranges starting at or before hi
    if last <= first:
        return chunk
    start, end = chunk[first][0], chunk[last - 1][1]
    if start < lo:
        if end > hi:
            return chunk[:first] + (shared_piece(start, lo - 1), shared_piece(hi + 1, end)) + chunk[last:]
        return chunk[:first] + (shared_piece(start, lo - 1),) + chunk[last:]
    if end > hi:
        return chunk[:first] + (shared_piece(hi + 1, end),) + chunk[last:]
    return chunk[:first] + chunk[last:]


# The pieces cuts leave (here and in simple_cut.py), one object per value: hundreds of lists
# are cut at the same values (a random mix's boxes, each rule's ports), and a piece of each of
# its own cost 50 MB at 100,000 rules, scattered in memory. Which object a piece is matters
# nowhere (lists are compared by value or by their own identity); the table is emptied past
# PIECES_HELD.
_PIECES: dict[tuple[int, int], tuple[int, int]] = memo.per_file({})
PIECES_HELD = 1 << 17


def shared_piece(lo: int, hi: int) -> tuple[int, int]:
    """The range (lo, hi) as the one object the cuts of this file share for that value."""
    piece = (lo, hi)
    found = _PIECES.get(piece)
    if found is None:
        if len(_PIECES) >= PIECES_HELD:
            _PIECES.clear()
        found = _PIECES[piece] = piece
    return found


def _rebalanced(chunks: list, widest: int) -> list:
    """The chunks without empty ones, each wider than ``widest`` cut in two."""
    out = []
    for chunk in chunks:
        if not chunk:
            continue
        if len(chunk) > widest:
            half = len(chunk) // 2
            out.append(chunk[:half])
            out.append(chunk[half:])
        else:
            out.append(chunk)
    return out


def intersect(a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """intervals.intersect(a, b), the same object where it hands back ``a`` or ``b``, for lists
    of which one or both may be RangeLists. A RangeList met by a few ranges loses the
    complement of those ranges (nothing is copied where it keeps all of it)."""
    if not a or not b:
        return iv.EMPTY
    if a is b:
        return a
    long_, short = (a, b) if type(a) is RangeList else (b, a)
    if type(short) is not RangeList and len(short) <= FEW and len(long_) > iv.SKEWED * len(short):
        # (intervals.intersect's skewed path: the long list itself when covered, else the short
        # one where the result equals it, else a new list.)
        holes = _complement(short, long_[0][0], long_[-1][1])
        if not holes:
            return long_
        rest = subtract(long_, holes)
        if rest is long_:
            return long_
        if len(rest) == len(short) and rest == short:
            return short
        return rest
    flat_a = a.flat() if type(a) is RangeList else a
    flat_b = b.flat() if type(b) is RangeList else b
    found = iv.intersect(flat_a, flat_b)
    if found is flat_a:
        return a
    if found is flat_b:
        return b
    return held(found)


def _complement(ranges: iv.Ranges, lowest: int, highest: int) -> iv.Ranges:
    """The values from ``lowest`` to ``highest`` outside ``ranges`` (sorted, disjoint), as ranges."""
    holes = []
    start = lowest
    for lo, hi in ranges:
        if lo > start:
            if lo - 1 >= highest:
                holes.append((start, highest))
                return tuple(holes)
            holes.append((start, lo - 1))
        if hi + 1 > start:
            start = hi + 1
        if start > highest:
            return tuple(holes)
    holes.append((start, highest))
    return tuple(holes)


def looked_up(long_: RangeList, short: iv.Ranges, a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """intervals.intersect(a, b) where ``long_`` (one of them) is a RangeList and ``short`` (the
    other) a few sorted, disjoint ranges: each of them looked up chunk by chunk, nothing
    flattened; ``a`` or ``b`` itself where the result equals it, as intervals.intersect gives."""
    flat = long_._flat
    if flat is not None:
        found = iv.intersect(flat, short)
        return long_ if found is flat else found
    heads, chunks = long_.heads, long_.chunks
    count = len(chunks)
    out: list = []
    for lo, hi in short:
        number = bisect_right(heads, lo) - 1
        if number < 0:
            number = 0
        while number < count and heads[number] <= hi:
            chunk = chunks[number]
            first = bisect_left(chunk, (lo,))
            if first and chunk[first - 1][1] >= lo:
                first -= 1
            last = bisect_right(chunk, (hi, _AFTER_ALL), first)
            if first < last:
                start = len(out)
                out.extend(chunk[first:last])
                if out[start][0] < lo:
                    out[start] = (lo, out[start][1])
                if out[-1][1] > hi:
                    out[-1] = (out[-1][0], hi)
            number += 1
    if len(out) == long_.count and out == [piece for chunk in chunks for piece in chunk]:
        return long_  # (not flat(): that would build and keep the whole tuple)
    result = tuple(out)
    if len(result) == len(short) and result == short:
        return short
    return result
