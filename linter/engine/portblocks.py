"""Cutting many sources' holes out of one box whose destination port list is long.

At the end of a SourceRun (engine/sourcerun.py) every source still holding holes (`allow from
NET port P`, kept as a hole) is cut out of the boxes going on: NET with every port but P. After
k rules for everyone (`allow port Q`) a box's port list holds k ranges, so cut source by source
each of m sources gets a list of its own of k ranges: m x k in all (ufw with 10,000 user rules:
3,000 sources and 3,000 ports, nine million ranges kept by what goes on and by the results).

Here the long list is cut into blocks of about sqrt(k) consecutive ranges, and the sources are
grouped by the blocks their holes' ports fall in. A group's sources keep every port outside
those blocks in one box (one list per group, shared by every box that held the same list),
and each source only its blocks' ranges minus its holes: m x sqrt(k) ranges. The parts cover
exactly what source by source gives; only how the space is split differs.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import chain
from math import isqrt

from linter.engine import intervals as iv
from linter.engine.space import Box, split_rule, with_dport, with_src

MIN_BLOCK = 32  # ranges per block at least (a short list is cut source by source)


def worth_blocks(ports: iv.Ranges, sources: int) -> bool:
    """Whether cutting ``sources`` sources' holes out of a box with port list ``ports`` is
    better done by blocks."""
    return sources > 1 and len(ports) > 2 * MIN_BLOCK


def cut_by_blocks(box: Box, met: dict[int, list[tuple[int, int]]], entries: list, record: bool, decide,
                  cache: dict, source_part=None) -> list[Box]:
    """The parts of ``box`` in the sources ``met`` (entry number -> the source ranges of
    ``box`` in it) minus their holes; ``entries[number]`` is (ranges, hole rules, hole
    ports). ``cache`` keeps the blocks of each port list (one dict per materialisation).
    ``source_part(number, ranges)``: ``iv.normalize(tuple(ranges))``, maybe a shared equal tuple."""
    if source_part is None:
        source_part = _normalized
    ports = box.nat_dport if box.nat_dport is not None else box.dport
    size = max(MIN_BLOCK, isqrt(len(ports)))
    known = cache.get(id(ports))
    if known is None:
        starts = [ports[index][0] for index in range(0, len(ports), size)]
        # The list itself is kept in the entry: its id stays its own while the entry lives.
        known = cache[id(ports)] = (ports, starts, {})
    _, starts, lists = known
    groups: dict[tuple[int, ...], list[int]] = {}
    for number in sorted(met):
        blocks = {bisect_right(starts, port) - 1 for port in entries[number][2]}
        blocks.discard(-1)  # a port below the list's first range is not in it
        groups.setdefault(tuple(sorted(blocks)), []).append(number)
    out: list[Box] = []
    for blocks, numbers in groups.items():
        near, far = _lists(ports, blocks, size, lists)
        if far:
            sources = iv.normalize(tuple(chain.from_iterable(met[number] for number in numbers)))
            out.append(with_dport(with_src(box, sources), far))
        if not near:
            continue
        for number in numbers:
            parts = [with_dport(with_src(box, source_part(number, met[number])), near)]
            for rule in entries[number][1]:
                parts = [piece for part in parts for piece in split_rule(part, rule.matches, rule, record, decide)[1]]
            out.extend(parts)
    return out


def _lists(ports: iv.Ranges, blocks: tuple[int, ...], size: int,
           lists: dict[tuple[int, ...], tuple[iv.Ranges, iv.Ranges]]) -> tuple[iv.Ranges, iv.Ranges]:
    """(the ranges of ``blocks``, the other ranges) of ``ports``, each pair made once."""
    found = lists.get(blocks)
    if found is None:
        near = tuple(chain.from_iterable(ports[block * size:(block + 1) * size] for block in blocks))
        far_pieces = []
        kept = 0
        for block in blocks:
            far_pieces.append(ports[kept:block * size])
            kept = (block + 1) * size
        far_pieces.append(ports[kept:])
        far = tuple(chain.from_iterable(far_pieces)) if blocks else ports
        found = lists[blocks] = (near, far)
    return found


def _normalized(number: int, ranges: list[tuple[int, int]]) -> iv.Ranges:
    return iv.normalize(tuple(ranges))
