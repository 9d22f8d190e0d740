"""engine/decided_index.py's coverage test against plain box subtraction: random boxes of the
kinds the random mix adds (source drops, port drops, protocol-and-source crossings, state and
interface accepts, boxes for this host or not) added in random order, every answer compared
with whether the box minus every added box is empty. The probes' shortcuts (a dimension no
entry narrows at the probe, the probe's values for whole dimensions kept between adds, the
candidates of a one-packet probe) must never change an answer."""

from __future__ import annotations

import random

import pytest

from linter.engine import decided_index
from linter.engine.decided_lane import _minus
from linter.engine.port_probe import probe_ports
from linter.engine.shadow import universe
from linter.engine.space import replace
from linter.model import Family

INTERFACES = {"eth0", "eth1", "lo"}
STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID")


def _ranges(pick: random.Random, top: int, cuts: tuple[int, ...]) -> tuple:
    """One or two ranges whose bounds come from a few values, so that boxes overlap often."""
    bounds = sorted(pick.sample(cuts, 2 if pick.random() < 0.7 else 4))
    pairs = list(zip(bounds[::2], bounds[1::2]))
    return tuple((lo, min(hi, top)) for lo, hi in pairs)


def _box(pick: random.Random, whole):
    """A random box: most dimensions whole, one to three narrowed."""
    changes = {}
    for _ in range(pick.choice((1, 1, 2, 2, 3))):
        kind = pick.choice(("src", "src", "dport", "proto", "dst", "sport", "iif", "state", "local"))
        if kind == "src":
            changes["src"] = _ranges(pick, 2**32 - 1, tuple(range(0, 2**32, 2**28)) + (2**24, 2**24 + 255, 2**25))
        elif kind == "dst":
            changes["dst"] = _ranges(pick, 2**32 - 1, (0, 2**30, 2**31, 2**32 - 1))
        elif kind == "dport":
            changes["dport"] = _ranges(pick, 65535, (22, 53, 80, 443, 1000, 8080, 65535))
            changes.setdefault("proto", pick.choice((((6, 6),), ((17, 17),), ((6, 6), (17, 17)))))
        elif kind == "sport":
            changes["sport"] = _ranges(pick, 65535, (0, 1024, 2048, 65535))
        elif kind == "proto":
            changes["proto"] = pick.choice((((6, 6),), ((17, 17),), ((1, 1),), ((0, 5),)))
        elif kind == "iif":
            changes["iif"] = frozenset(pick.sample(sorted(INTERFACES), pick.randint(1, 2)))
        elif kind == "state":
            changes["state"] = frozenset(pick.sample(STATES, pick.randint(1, 3)))
        else:
            changes["local"] = pick.choice((True, False))
    return replace(whole, **changes)


def _inside(box, added) -> bool:
    pieces = [box]
    for hole in added:
        pieces = [piece for part in pieces for piece in _minus(part, hole)]
        if not pieces:
            return True
    return not pieces


@pytest.mark.parametrize("seed", range(60))
def test_covers_is_box_subtraction(seed):
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    added = []
    for _ in range(pick.randint(10, 60)):
        box = _box(pick, whole)
        assert index.covers(box) == _inside(box, added), (box, added)
        if pick.random() < 0.7:
            index.add(box)
            added.append(box)
        if pick.random() < 0.3:  # (a box made of what was added: often covered)
            parts = [pick.choice(added) for _ in range(2)] if added else []
            if parts:
                from linter.engine.decided_lane import _both

                both = _both(*parts)
                if both is not None:
                    assert index.covers(both) is True


@pytest.mark.parametrize("seed", range(30))
def test_testing_the_unskipped_entries_first_changes_no_answer_nor_work(monkeypatch, seed):
    """A probe whose unskipped entries are few tests them before its candidates: the answers and
    the work charged (which decides when the lane gives up) are the candidate scan's."""

    def run(few: int):
        monkeypatch.setattr(decided_index, "_FEW_UNSKIPPED", few)
        pick = random.Random(seed)
        space = universe(Family.IPV4, INTERFACES)
        whole = replace(space[0], local=None)
        index = decided_index.DecidedIndex(space, 10**9)
        found = []
        for _ in range(pick.randint(10, 80)):
            box = _box(pick, whole)
            found.append((index.covers(box), index.spent))
            if pick.random() < 0.7:
                index.add(box)
        return found

    assert run(decided_index._FEW_UNSKIPPED) == run(-1)


def _source_only(pick: random.Random, whole):
    """A source drop's box: the universe narrowed in its sources only (its other fields the
    universe's own objects, as decided_lane.plain_match makes it)."""
    if pick.random() < 0.15:
        return replace(whole, src=_ranges(pick, 2**32 - 1, tuple(range(0, 2**32, 2**28)) + (2**24, 2**24 + 255, 2**25)))
    size = pick.choice((2**8, 2**8, 2**16))  # (a /24 or a /16 network: rarely covered)
    start = pick.randrange(0, 2**32, size)
    return replace(whole, src=((start, start + size - 1),))


@pytest.mark.parametrize("seed", range(60))
def test_a_source_drop_tested_and_added_in_one_go_is_covers_then_add(seed):
    """cover_or_add_source answers as covers() and, when not covered, adds as add(), with the
    same work charged (covers_source as covers()): the same answers and spent, box after box,
    as an index doing both."""
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    fused = decided_index.DecidedIndex(space, 10**9)
    plain = decided_index.DecidedIndex(space, 10**9)
    added = []
    sources = 0.6 if seed % 2 else 0.95  # (the share of source drops: a mix's is ~0.6 of its tests)
    for _ in range(pick.randint(20, 120)):
        box = _source_only(pick, whole) if pick.random() < sources else _box(pick, whole)
        covered = plain.covers(box)
        assert covered == _inside(box, added), (box, added)
        source_only = box.src != whole.src and box.proto is whole.proto and box.dport is whole.dport
        if source_only and pick.random() < 0.25:  # (a jump's match: tested, not added)
            assert fused.covers_source(box) is covered
        elif source_only and pick.random() < 0.9:
            # (from the box, or, for a box of the universe narrowed in its sources only, from its
            # sources alone as decided_lane asks for a source drop's)
            fused_answer = fused.cover_or_add_sources(box.src, whole) \
                if box == replace(whole, src=box.src) and pick.random() < 0.5 else fused.cover_or_add_source(box)
            assert fused_answer is covered
            if not covered:
                plain.add(box)
                added.append(box)
        else:
            assert fused.covers(box) is covered
            if pick.random() < 0.7:
                plain.add(box)
                fused.add(box)
                added.append(box)
        assert fused.spent == plain.spent
        assert _entries(fused) == _entries(plain) and fused.whole_bits == plain.whole_bits


def test_the_fused_source_test_takes_its_own_path_once_the_source_entry_exists(monkeypatch):
    """Most source drops are answered by cover_or_add_source itself, not by covers()."""
    pick = random.Random(7)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    general = []
    monkeypatch.setattr(index, "covers", lambda box, covers=index.covers: general.append(box) or covers(box))
    for _ in range(200):
        size = pick.choice((2**8, 2**16))
        start = pick.randrange(0, 2**32, size)
        index.cover_or_add_source(replace(whole, src=((start, start + size - 1),)))
    assert 0 < len(general) < 10


def _ports_only(pick: random.Random, whole):
    """A port drop's box: the universe narrowed in its protocols and destination ports only
    (its other fields the universe's own objects, as decided_lane.plain_match makes it); now
    and then two protocols or every port (not merged as a port drop)."""
    proto = pick.choice((((6, 6),), ((6, 6),), ((17, 17),), ((6, 6), (17, 17))))
    if pick.random() < 0.05:
        return replace(whole, proto=proto)
    ports = sorted(pick.sample(range(1, 200), 3))
    if pick.random() < 0.2:
        return replace(whole, proto=proto, dport=((ports[0], ports[2]),))
    return replace(whole, proto=proto, dport=tuple((port, port) for port in ports))


@pytest.mark.parametrize("seed", range(60))
def test_a_port_drop_tested_and_added_in_one_go_is_covers_then_add(seed):
    """cover_or_add_ports answers as covers() and, when not covered, adds as add(), with the
    same work charged: the same answers, spent and entries, box after box, as an index doing
    both (among source drops, port drops and other boxes, as a mix's chain holds them)."""
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    fused = decided_index.DecidedIndex(space, 10**9)
    plain = decided_index.DecidedIndex(space, 10**9)
    added = []
    for _ in range(pick.randint(20, 150)):
        roll = pick.random()
        box = _ports_only(pick, whole) if roll < 0.6 else _source_only(pick, whole) if roll < 0.8 \
            else _box(pick, whole)
        covered = plain.covers(box)
        assert covered == _inside(box, added), (box, added)
        if roll < 0.6:
            assert fused.cover_or_add_ports(box) is covered
            if not covered:
                plain.add(box)
                added.append(box)
        else:
            assert fused.covers(box) is covered
            if pick.random() < 0.7:
                plain.add(box)
                fused.add(box)
                added.append(box)
        assert fused.spent == plain.spent
        assert _entries(fused) == _entries(plain) and fused.whole_bits == plain.whole_bits


def _entries(index) -> list:
    """An index's entries, their merged lists as plain ranges (a Union has no equality)."""
    return [[tuple(zip(value.starts, value.ends)) if type(value) is decided_index.Union else value
             for value in entry] for entry in index.entries]


def test_the_fused_port_test_merges_most_port_drops_itself(monkeypatch):
    """Once each protocol's port drops have their entry, cover_or_add_ports adds into it
    without add()."""
    pick = random.Random(3)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    general = []
    monkeypatch.setattr(index, "add", lambda box, add=index.add: general.append(box) or add(box))
    for _ in range(200):
        proto = pick.choice((((6, 6),), ((17, 17),)))
        index.cover_or_add_ports(replace(whole, proto=proto, dport=((pick.randrange(1, 60000),) * 2,)))
    assert 0 < len(general) <= 2


@pytest.mark.parametrize("seed", range(40))
def test_a_union_grows_as_iv_union(seed):
    """Union.add keeps the ranges iv.union makes (sorted, disjoint, adjacent ones joined) and says
    whether the set grew, range after range: apart, inside, touching, overlapping several."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    top = pick.choice((20, 100, 1000))
    union = decided_index.Union()
    held: tuple = ()
    for _ in range(150):
        ranges = iv.normalize((lo, min(top, lo + pick.choice((0, 0, 1, 3, 10, 40))))
                              for lo in pick.sample(range(top), pick.randint(1, 3)))
        grown = iv.union(held, ranges)
        assert union.add(ranges) == (grown != held)
        held = grown
        assert tuple(zip(union.starts, union.ends)) == held


@pytest.mark.parametrize("seed", range(60))
def test_a_protocols_crossings_added_in_one_go_are_add(seed):
    """A plain jump's crossings added by decided_lane._add_crossed_plain (a protocol's jump
    crossed with source drops merged straight into their entry, add_source_crossing) leave the
    index as add() of each of _crossed_plain's boxes, in order: the same spent, entries, touched
    values and answers, among the other boxes a mix's chain adds."""
    from linter.engine import decided_lane

    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    fused = decided_index.DecidedIndex(space, 10**9)
    plain = decided_index.DecidedIndex(space, 10**9)
    for _ in range(pick.randint(10, 60)):
        roll = pick.random()
        if roll < 0.7:
            jump = replace(whole, proto=pick.choice((((6, 6),), ((17, 17),), ((6, 6), (17, 17)), ((0, 255),)))) \
                if roll < 0.5 else _source_only(pick, whole) if roll < 0.6 else _ports_only(pick, whole)
            others = [_source_only(pick, whole) if pick.random() < 0.6 else _ports_only(pick, whole)
                      if pick.random() < 0.5 else _box(pick, whole) for _ in range(pick.randint(0, 6))]
            decided_lane._add_crossed_plain(jump, others, whole, fused)
            for crossing in decided_lane._crossed_plain(jump, others, whole):
                plain.add(crossing)
        else:
            box = _box(pick, whole)
            assert fused.covers(box) is plain.covers(box)
            fused.add(box)
            plain.add(box)
        assert fused.spent == plain.spent
        assert _entries(fused) == _entries(plain) and fused.whole_bits == plain.whole_bits
        assert all(tuple(zip(fused.touched[dim].starts, fused.touched[dim].ends))
                   == tuple(zip(plain.touched[dim].starts, plain.touched[dim].ends)) for dim in fused.touched)
        probe = _box(pick, whole)
        assert fused.covers(probe) is plain.covers(probe) and fused.spent == plain.spent


@pytest.mark.parametrize("seed", range(40))
def test_touched_values_are_the_union_of_what_entries_narrow(seed):
    """An index's touched values in each range dimension are the union of the entries' values
    there (of the entries narrowing it), also once they hold the universe's and adds to them
    stop (touched_whole): wide source boxes among source drops, port drops and other boxes."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    for _ in range(pick.randint(20, 120)):
        roll = pick.random()
        if roll < 0.1:
            start = pick.randrange(0, 2**32, 2**24)
            box = replace(whole, src=iv.subtract(whole.src, ((start, start + 2**24 - 1),)))
        else:
            box = _source_only(pick, whole) if roll < 0.5 else _ports_only(pick, whole) if roll < 0.8 \
                else _box(pick, whole)
        if roll < 0.5 and index.source_entry is not None:
            index.cover_or_add_source(box)
        elif 0.5 <= roll < 0.8:
            index.cover_or_add_ports(box)
        else:
            index.add(box)
        for dim, touched in index.touched.items():
            slot = decided_index._SLOT[dim]
            values = ()
            for entry in index.entries:
                if entry[8] & decided_index._BIT[dim]:
                    mine = entry[slot]
                    values = iv.union(values, tuple(zip(mine.starts, mine.ends)) if type(mine) is decided_index.Union
                                      else mine)
            assert tuple(zip(touched.starts, touched.ends)) == values
            assert (dim in index.touched_whole) == (values == whole[dim])


@pytest.mark.parametrize("seed", range(40))
def test_a_port_drops_probe_is_probe(seed):
    """port_probe.probe_ports gives _probe's packet and free bits (and leaves the whole probe's values and
    bits as _probe does) for port drops and any other box, at any state of the index: among
    source drops, port drops and other boxes added, each box probed by both on twin indexes."""
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    fused = decided_index.DecidedIndex(space, 10**9)
    plain = decided_index.DecidedIndex(space, 10**9)
    for _ in range(pick.randint(20, 120)):
        roll = pick.random()
        box = _ports_only(pick, whole) if roll < 0.5 else _source_only(pick, whole) if roll < 0.7 \
            else _box(pick, whole)
        bits = decided_index._BIT
        assert probe_ports(fused, box, bits[1], bits[3]) == plain._probe(box)
        assert fused.whole_values == plain.whole_values and fused.whole_bits == plain.whole_bits
        if pick.random() < 0.6:
            fused.add(box)
            plain.add(box)


@pytest.mark.parametrize("seed", range(20))
def test_the_whole_point_kept_is_the_whole_probes(seed):
    """_missed_sources()'s remembered packet is always the whole probe's values as they are:
    source drops tested among other boxes added, the packet compared after each."""
    pick = random.Random(seed)
    space = universe(Family.IPV4, INTERFACES)
    whole = replace(space[0], local=None)
    index = decided_index.DecidedIndex(space, 10**9)
    for _ in range(pick.randint(20, 120)):
        roll = pick.random()
        box = _source_only(pick, whole) if roll < 0.5 else _ports_only(pick, whole) if roll < 0.7 \
            else _box(pick, whole)
        if roll < 0.5:
            index.cover_or_add_source(box)
        elif not index.covers(box):
            index.add(box)
        point, values = index.whole_point, index.whole_values
        if point is not None:
            assert point == (values[1][0][0], values[2][0][0], values[3][0][0], values[5][0][0],
                             *values[6], *values[7])


@pytest.mark.parametrize("seed", range(40))
def test_a_unions_answers_are_iv_s(seed):
    """Union's has, meets, covers, inside, outside and first_outside (on its one list of bounds)
    answer as engine/intervals.py does on the same ranges, as the set grows."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    top = pick.choice((20, 100, 1000))
    union = decided_index.Union()
    held: tuple = ()
    for _ in range(80):
        ranges = iv.normalize((lo, min(top, lo + pick.choice((0, 1, 3, 10, 40))))
                              for lo in pick.sample(range(top), pick.randint(1, 3)))
        held = iv.union(held, ranges)
        union.add(ranges)
        asked = iv.normalize((lo, min(top + 5, lo + pick.choice((0, 2, 30))))
                             for lo in pick.sample(range(top + 5), pick.randint(1, 3)))
        assert union.inside(asked) == iv.intersect(asked, held)
        assert union.outside(asked) == iv.subtract(asked, held)
        assert union.meets(asked) == bool(iv.intersect(asked, held))
        assert union.covers(asked) == (not iv.subtract(asked, held))
        out = iv.subtract(asked, held)
        assert union.first_outside(asked) == (out[0][0] if out else None)
        value = pick.randrange(top + 5)
        assert union.has(value) == bool(iv.intersect(((value, value),), held))
