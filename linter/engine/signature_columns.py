"""The signatures coalesce() compares many boxes by, held as columns, and their groups.

A signature is a small number per compared field of a box (equal values, equal numbers). As
tuples, one per box, the quarter of a million boxes ufw's user chain gives back at 100,000
user rules held 88 bytes each at the walk's peak (24 MiB); as one array per field they hold
4 bytes per field. Grouping them by the hashes of their keys in one dict (or one set, to ask
whether any two are alike) held a hash int, a place int and a slot per box (another 22-30
MiB); here the hashes are first dealt into buckets by their low bits (two equal hashes, one
bucket), each bucket asked on its own which hashes it holds twice, and only the places of
those are grouped. coalesce.py takes this for
lists of LEAN_AT boxes and more; shorter ones keep their tuples, which cost less to set up.
"""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import compress, repeat

_CODE = "i"  # a code is below the number of distinct values met: an overflow raises, never wraps
_PLACE = "l"
BUCKETS = 64  # buckets of places, by the low bits of their hashes (a power of two)


class SignatureColumns:
    """The signatures of a list of boxes, row ``at`` being the box at ``at``; a position names a
    column (a compared field, in the order the columns were given)."""

    __slots__ = ("columns", "size")

    def __init__(self, columns: list[array], size: int):
        """``columns``: one array of codes per compared field, each ``size`` long."""
        self.columns = columns
        self.size = size

    @classmethod
    def of(cls, code_lists, size: int) -> SignatureColumns:
        """The columns of ``code_lists``, one iterable of ``size`` codes per field."""
        return cls([array(_CODE, codes) for codes in code_lists], size)

    def __len__(self) -> int:
        return self.size

    def keys(self, positions: list[int]):
        """The rows' codes at ``positions``, one tuple per row, in row order."""
        picked = [self.columns[p] for p in positions]
        if not picked:
            return repeat((), self.size)
        return zip(*picked)

    def hashes(self, positions: list[int]) -> array:
        """The hashes of ``keys(positions)``, in an array (no int object per row)."""
        return array("q", map(hash, self.keys(positions)))

    def alike(self, places, positions: list[int]) -> bool:
        """Whether the rows at ``places`` hold the same codes at ``positions``."""
        for p in positions:
            codes = list(map(self.columns[p].__getitem__, places))
            if codes.count(codes[0]) != len(codes):
                return False
        return True

    def append(self, row: tuple) -> int:
        """``row`` added after the others; its place."""
        for column, code in zip(self.columns, row):
            column.append(code)
        self.size += 1
        return self.size - 1

    def reordered(self, order: array) -> SignatureColumns:
        """The rows at the places ``order``, in that order."""
        return SignatureColumns([array(_CODE, map(column.__getitem__, order)) for column in self.columns], len(order))


def _buckets(hashes: array) -> list[array]:
    """The numbers of ``hashes`` dealt by their low bits (two equal numbers, one bucket)."""
    parts = [array("q") for _ in range(BUCKETS)]
    deal = [part.append for part in parts]
    mask = BUCKETS - 1
    for number in hashes:
        deal[number & mask](number)
    return parts


def any_repeated(hashes: array) -> bool:
    """Whether some number occurs twice in ``hashes`` (``len(set(hashes)) < len(hashes)``)."""
    for part in _buckets(hashes):
        if len(set(part)) < len(part):
            return True
    return False


def repeated_groups(hashes: array) -> dict[int, array]:
    """The places of each number met more than once in ``hashes``, in order, by the first of
    them (a number met once is in no group); empty when every number is met once."""
    repeated: set[int] = set()
    for part in _buckets(hashes):
        if len(set(part)) < len(part):
            repeated.update(number for number, count in Counter(part).items() if count > 1)
    if not repeated:
        return {}
    get = hashes.__getitem__
    groups: dict[int, array] = {}
    for at in compress(range(len(hashes)), map(repeated.__contains__, hashes)):  # (only the repeated)
        number = get(at)
        found = groups.get(number)
        if found is None:
            groups[number] = array(_PLACE, (at,))
        else:
            found.append(at)
    return {places[0]: places for places in groups.values()}
