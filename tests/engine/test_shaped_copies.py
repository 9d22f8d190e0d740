"""A shaped run's copies made in bulk (engine/shaped_copies.py ``_in_bulk``, taken where no copy
can find its trail in the path cache) give exactly what making them one by one gives: the same
boxes in the same order, the same trails shared the same way, and the same path cache left
behind (its keys in order, each entry's trail), whether the cache empties once, several times
or never (held), and with the lookups that would hit taken one by one instead."""

from __future__ import annotations

import random

import pytest

from linter.engine import shaped_copies, space
from linter.engine.shaped_copies import copy_results
from linter.engine.space import Box
from linter.engine.walk import Step
from linter.model import Family

_BOX = Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((0, 65535),), ((0, 2**32 - 1),), ((0, 2**32 - 1),),
           frozenset({"eth0"}), frozenset({"new"}))
_FIELDS = len(Box._fields)


class _Rule:
    """A stand-in for a rule: only its identity is read."""


def _scenario(chance: random.Random):
    table, chain = object(), object()
    width = chance.randrange(1, 4)
    groups = [[_Rule() for _ in range(width)] for _ in range(chance.randrange(1, 60))]
    walked = [_Rule() for _ in range(width)]
    if chance.random() < 0.15 and len(groups) > 1:
        groups[-1][0] = groups[0][0]  # a rule object twice
    befores = [tuple(Step("rule", table, chain, _Rule(), "") for _ in range(chance.randrange(0, 3)))
               for _ in range(chance.randrange(1, 3))]
    cuts = []
    for _ in range(chance.randrange(1, 4)):
        at = chance.choice((4, 5, 3))
        fields = list(_BOX)
        cuts.append((tuple(fields[:at]), tuple(fields[at + 1:_FIELDS - 1]), chance.choice(("accept", "drop")),
                     chance.randrange(width), chance.choice(befores)))
    keys = [((lo, lo + chance.randrange(0, 9)),) for lo in range(0, 20 * len(groups), 20)]
    return table, chain, groups, walked, befores, cuts, keys


def _fill(chance: random.Random, cache: dict, table, chain, groups, walked, befores) -> list:
    """Entries put in the cache before the copies: some the copies look up (hits), some of the
    walked group's, some others; returns the objects stored (labelled by position)."""
    stored = []
    for _ in range(chance.randrange(0, 12)):
        before = chance.choice(befores)
        roll = chance.random()
        rule = (chance.choice(chance.choice(groups)) if roll < 0.2 else chance.choice(walked) if roll < 0.6
                else _Rule())
        trail = before + (Step("rule", table, chain, rule, ""),)
        cache[(id(before), ("rule", id(table), id(chain), id(rule), ""))] = (before, trail)
        stored.append(trail)
    for _ in range(chance.randrange(0, 6)):
        cache[(id(chance.choice(befores)), (id(object()), 1, True))] = ((), ())  # another shape of key
    return stored


def _labels(results, cache, known) -> tuple:
    """The results and cache by value, each trail object named by where it is first seen."""
    names: dict[int, str] = {id(trail): f"known{n}" for n, trail in enumerate(known)}

    def name(trail):
        return names.setdefault(id(trail), f"new{len(names)}")
    made = [(tuple(box), outcome, name(box.trail)) for box, outcome in results]
    left = [(key, id(before), name(trail)) for key, (before, trail) in cache.items()]
    return made, left


def _run(monkeypatch, scenario, filled: dict, known: list, bulk: bool, size: int, held: bool):
    table, chain, groups, walked, befores, cuts, keys = scenario
    cache = dict(filled)
    monkeypatch.setattr(space, "_PATHS", cache)
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", size)
    monkeypatch.setattr(space, "_HOLDING", [held])
    monkeypatch.setattr(shaped_copies, "BULK_AT_LEAST", 1 if bulk else 10**9)
    taken = []
    original = shaped_copies._in_bulk
    monkeypatch.setattr(shaped_copies, "_in_bulk", lambda *args: taken.append(1) or original(*args))
    results: list = []
    distinct = len({id(rule) for group in groups + [walked] for rule in group}) == len(groups) * len(walked) + len(walked)
    copy_results(cuts, groups, keys, table, chain, Step, results, lambda: distinct, walked)
    for box, _ in results:
        assert all(box[at] is not key for key in keys for at in range(_FIELDS))  # a fresh key
    return _labels(results, cache, known), bool(taken)


@pytest.mark.parametrize("size", [3, 8, 40, 5000])
@pytest.mark.parametrize("held", [False, True])
def test_copies_made_in_bulk_are_the_copies_made_one_by_one(monkeypatch, size, held):
    taken = set()
    for seed in range(120):
        chance = random.Random(seed)
        scenario = _scenario(chance)
        filled: dict = {}
        known = _fill(chance, filled, *scenario[:5])
        with monkeypatch.context() as patched:
            slow, _ = _run(patched, scenario, filled, known, False, size, held)
        with monkeypatch.context() as patched:
            fast, bulk = _run(patched, scenario, filled, known, True, size, held)
        assert fast == slow, seed
        taken.add(bulk)
    assert taken == {True, False}  # (both ways met)
