"""engine/decided_any.py: DecidedIndex._candidate scanning only the entries filed under _ANY
that a probe can meet gives what scanning every one of them gives: the same entry found (or
none) at every probe, the same answers and the same work charged, box after box, on random
indexes of source drops, port drops (merged per protocol under _ANY), protocol crossings and
other boxes, some merged in their protocols (a Union there, which may grow)."""

from __future__ import annotations

import random

import pytest

from linter.engine import decided_any, decided_index
from linter.engine.shadow import universe
from linter.engine.space import replace
from linter.model import Family
from tests.engine.test_decided_index import INTERFACES, _box, _ports_only, _source_only


def _protocol_only(pick: random.Random, whole):
    """A box of one protocol or a few (merged in its protocols: a Union under _ANY)."""
    low = pick.choice((1, 6, 17, 41, 50, 58, 132))
    return replace(whole, proto=((low, low + pick.choice((0, 0, 3))),))


def _run(seed: int, monkeypatch, every: bool) -> list:
    if every:  # (the general scan: every entry filed under _ANY, in order)
        monkeypatch.setattr(decided_any, "any_entries", lambda seen, entries, free, proto, bit: entries)
    found = []
    scanned = decided_index.DecidedIndex._candidate

    def candidate(index, point, free=0):
        entry = scanned(index, point, free)
        found.append((None if entry is None else next(at for at, kept in enumerate(index.entries) if kept is entry),
                      index.spent))
        return entry

    monkeypatch.setattr(decided_index.DecidedIndex, "_candidate", candidate)
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    for _ in range(pick.randint(20, 150)):
        roll = pick.random()
        if roll < 0.45:
            found.append(("ports", index.cover_or_add_ports(_ports_only(pick, whole)), index.spent))
        elif roll < 0.65:
            found.append(("source", index.cover_or_add_source(_source_only(pick, whole)), index.spent))
        elif roll < 0.75:
            box = _protocol_only(pick, whole)
            found.append(("covers", index.covers(box), index.spent))
            index.add(box)
        elif roll < 0.85:
            index.add_source_crossing(pick.choice((((6, 6),), ((17, 17),))), _source_only(pick, whole))
        else:
            box = _box(pick, whole)
            found.append(("covers", index.covers(box), index.spent))
            if pick.random() < 0.6:
                index.add(box)
    monkeypatch.undo()
    return found


@pytest.mark.parametrize("seed", range(60))
def test_scanning_the_any_entries_a_probe_can_meet_is_scanning_all(monkeypatch, seed):
    assert _run(seed, monkeypatch, every=False) == _run(seed, monkeypatch, every=True)


def test_the_any_entries_kept_follow_their_list():
    """An answer is kept per list, free bits and protocol, and made again once the list grew."""
    seen: dict = {}
    tcp = [None, ((6, 6),), None, None, None, None, None, None, 1, ()]
    udp = [None, ((17, 17),), None, None, None, None, None, None, 1, ()]
    entries = [tcp, udp]
    assert decided_any.any_entries(seen, entries, 0, 6, 1) == [tcp]
    wide = [None, ((0, 255),), None, None, None, None, None, None, 8, ()]
    entries.append(wide)
    assert decided_any.any_entries(seen, entries, 0, 17, 1) == [udp, wide]
    assert decided_any.any_entries(seen, entries, 8, 6, 1) == [tcp]
