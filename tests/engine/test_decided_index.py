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
