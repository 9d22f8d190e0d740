"""engine/known_sizes.py: sizes carried from list to list equal the sizes counted, entries are
read back only for the very list they were noted for, and lists only the registry holds are
let go."""

from __future__ import annotations

import random

from linter.engine import intervals as iv
from linter.engine.known_sizes import LONG, KnownSizes, collecting, note_cut

ALL = ((0, 2**32 - 1),)
# What the public class leaves out, roughly: 10/8, 127/8, 172.16/12, 192.168/16, 224/3.
NOT_PUBLIC = ((0x0A000000, 0x0AFFFFFF), (0x7F000000, 0x7FFFFFFF), (0xAC100000, 0xAC1FFFFF),
              (0xC0A80000, 0xC0A8FFFF), (0xE0000000, 2**32 - 1))
PUBLIC = iv.subtract(ALL, NOT_PUBLIC)


def _networks(count: int, seed: int = 3) -> list[iv.Ranges]:
    rnd = random.Random(seed)
    found: set[int] = set()
    while len(found) < count:
        found.add(rnd.randrange(1, 2**24 - 1) << 8)
    return [((net, net + 255),) for net in sorted(found, key=lambda _: rnd.random())]


def test_a_line_of_cuts_carries_each_size_exactly():
    registry = KnownSizes()
    lists = [ALL]
    current = ALL
    with collecting(registry):
        for net in _networks(400):
            taken = iv.intersect(current, net)
            rest = iv.subtract(current, net)
            note_cut(current, taken, rest)
            current = rest
            lists.append(rest)
    noted = [ranges for ranges in lists if registry.known(ranges) is not None]
    assert len(noted) == sum(len(ranges) > LONG for ranges in lists) > 300
    for ranges in lists:
        assert registry.size(ranges) == iv.size(ranges)


def test_a_class_part_takes_its_size_from_the_whole():
    registry = KnownSizes()
    current = ALL
    for net in _networks(200):
        rest = iv.subtract(current, net)
        registry.note_cut(current, iv.intersect(current, net), rest)
        current = rest
    public = iv.intersect(current, PUBLIC)
    assert public is not current
    registry.note_part(public, current, NOT_PUBLIC)
    assert registry.known(public) == iv.size(public)


def test_nothing_is_noted_outside_a_collection_or_for_an_unknown_whole():
    registry = KnownSizes()
    long_list = tuple((i * 1000, i * 1000 + 9) for i in range(LONG + 10))
    shorter = long_list[1:]
    note_cut(long_list, long_list[:1], shorter)  # no registry collecting: nothing happens
    assert registry.known(shorter) is None
    registry.note_part(shorter, long_list, NOT_PUBLIC)  # the whole's size is not known
    assert registry.known(shorter) is None
    assert registry.size(shorter) == iv.size(shorter)


def test_an_equal_list_built_apart_is_not_taken_for_the_noted_one():
    registry = KnownSizes()
    long_list = tuple((i * 1000, i * 1000 + 9) for i in range(LONG + 10))
    registry.note(long_list, 12345)  # a wrong size, to see whether it is read back
    twin = tuple(list(long_list))
    assert twin == long_list and twin is not long_list
    assert registry.known(twin) is None
    assert registry.size(twin) == iv.size(long_list)
    assert registry.size(long_list) == 12345


def test_lists_only_the_registry_holds_are_let_go():
    registry = KnownSizes()
    kept = tuple((i * 1000, i * 1000 + 9) for i in range(LONG + 10))
    registry.note(kept, iv.size(kept))
    registry.note(tuple((i * 1000, i * 1000 + 9) for i in range(LONG + 11)), 1)  # held by no one else
    registry.let_go()
    assert registry.known(kept) == iv.size(kept)
    assert len(registry) == 1
