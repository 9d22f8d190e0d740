"""The other groups' results of a shaped run (runs.shaped_walk), built in one loop.

``shaped_walk`` walks the first group of a run of groups alike but for their keys and copies
each of its results once per other group: the box with that group's key, its trail with that
group's rule's step. A copy's trail is what ``walk.rule_steps`` would make of it,
``space.extend_path`` done in place: the same lookup of the path cache by the same key, the
same emptying of a full cache before a new extension is stored, the same Step. Only the
calls are saved (two per copy, plus a NamedTuple's ``__new__``), which at 100,000 copies
were half of the copying's cost.

Where no copy can find its extension in the cache (``no_hits``: none of the trails the copies
extend begins a key of the cache, and no two copies extend one trail by one rule), every copy
misses, and what the copies leave in the cache follows from counting alone: the entries stored
since the last emptying, in order. Then the boxes, trails and those last entries are built by
maps and zips in C (``_in_bulk``), and the entries an emptying would drop are never made: an
allow-list's 100,000 copies cost 60 of their 120 ms in the cache.
"""

from __future__ import annotations

from functools import partial
from itertools import chain as chained, islice, repeat
from operator import itemgetter

from linter.engine import space
from linter.engine.space import Box

_new = tuple.__new__

BULK_AT_LEAST = 64  # fewer copies are made one by one (setting up the maps costs more)


def copy_results(cuts: list, groups, keys, table, chain, step_class, results: list, distinct=None,
                 walked=()) -> None:
    """Append to ``results`` ``(copy, outcome)`` for each group of ``groups`` (with its key of
    ``keys``) and each ``(head, tail, outcome, position, before)`` of ``cuts`` (in that order:
    groups outer): the box ``(*head, fresh key, *tail, trail)``, its trail ``before`` extended
    by the step of the group's rule at ``position`` (``step_class("rule", table, chain, rule,
    "")``, shared through the path cache as ``extend_path`` shares it). ``distinct()``: whether
    no rule object is in two places of ``groups`` and ``walked``, the group walked (asked only
    where the copies are many: runs.distinct_rules)."""
    count = len(groups) * len(cuts)
    if count >= BULK_AT_LEAST and distinct is not None and distinct() and no_hits(cuts, groups, walked, space._PATHS, count):
        _in_bulk(cuts, groups, keys, table, chain, step_class, results)
    else:
        _one_by_one(cuts, groups, keys, table, chain, step_class, results.append)


def no_hits(cuts: list, groups, walked, paths: dict, count: int) -> bool:
    """Whether no copy's lookup can find an entry of the path cache: no key of the cache (now,
    or stored by an earlier copy) is one a copy looks up, (id of the trail extended, ("rule",
    table id, chain id, id of a rule of ``groups``, "")). Two cuts extend one trail at different
    positions (different rules: ``groups`` and ``walked``, the group walked, share no rule
    object, none of them twice). Not tried where the cache holds many more keys than the copies
    would look up (each is read once here)."""
    if len(paths) > 4 * count:
        return False
    extended = {id(before) for *_, before in cuts}
    if len({(id(before), position) for _, _, _, position, before in cuts}) < len(cuts):
        return False
    # The rules the trails were extended by: the group walked's (no copy's), or others.
    others = {identity[3] if type(identity) is tuple and len(identity) == 5 else None
              for before_id, identity in paths if before_id in extended}
    others.difference_update(map(id, walked))
    others.discard(None)  # (an identity of another shape is no copy's)
    return not others or others.isdisjoint(map(id, chained.from_iterable(groups)))


def _in_bulk(cuts: list, groups, keys, table, chain, step_class, results: list) -> None:
    """copy_results where every copy misses the cache (no_hits): the same boxes, trails, order
    and cache left behind. Each miss would store one entry, emptying the cache first once it
    holds more than PATH_CACHE_SIZE (unless held): only the entries stored after the last
    emptying are made, and stored in the same order."""
    paths = space._PATHS
    size = space.PATH_CACHE_SIZE
    width = len(cuts)
    total = len(groups) * width
    kept = 0  # the first copy whose entry is left in the cache (those before it are emptied away)
    if not space._HOLDING[0]:
        first_empty = max(0, size + 1 - len(paths))  # the store before which the cache is emptied first
        if first_empty < total:
            kept = first_empty + (total - 1 - first_empty) // (size + 1) * (size + 1)
            paths.clear()
    from_group = kept // width
    table_id, chain_id = id(table), id(chain)
    make_step = partial(_new, step_class)
    make_box = partial(_new, Box)
    copies = []
    entries = []
    for head, tail, outcome, position, before in cuts:
        rules = list(map(itemgetter(position), groups))
        steps = map(make_step, zip(repeat("rule"), repeat(table), repeat(chain), rules, repeat("")))
        trails = list(map(before.__add__, zip(steps)))  # (zip of one: each step in a 1-tuple)
        fresh = map(tuple, map(list, keys))  # a new tuple equal to the key (tuple() of a tuple is itself)
        boxes = map(make_box, zip(*map(repeat, head), fresh, *map(repeat, tail), trails))
        copies.append(zip(boxes, repeat(outcome)))
        ids = map(id, islice(rules, from_group, None))
        entries.append(zip(zip(repeat(id(before)), zip(repeat("rule"), repeat(table_id), repeat(chain_id), ids, repeat(""))),
                           zip(repeat(before), islice(trails, from_group, None))))
    results.extend(chained.from_iterable(zip(*copies)))  # groups outer, cuts inner
    paths.update(islice(chained.from_iterable(zip(*entries)), kept - from_group * width, None))


def _one_by_one(cuts: list, groups, keys, table, chain, step_class, append) -> None:
    """copy_results copy by copy, each looking its trail up in the cache."""
    paths = space._PATHS
    holding = space._HOLDING
    get = paths.get
    table_id, chain_id = id(table), id(chain)
    # Per cut, once: the box's fields in a list whose key and trail places each copy fills (a
    # Box is made from the list: no tuple of the fields built first), and the trail's id.
    rows = [([*head, None, *tail, None], len(head), outcome, position, before, id(before))
            for head, tail, outcome, position, before in cuts]
    for group, key in zip(groups, keys):
        for row, at, outcome, position, before, before_id in rows:
            rule = group[position]
            path_key = (before_id, ("rule", table_id, chain_id, id(rule), ""))
            hit = get(path_key)
            if hit is not None and hit[0] is before:
                trail = hit[1]
            else:
                if len(paths) > space.PATH_CACHE_SIZE and not holding[0]:
                    paths.clear()
                trail = before + (_new(step_class, ("rule", table, chain, rule, "")),)
                paths[path_key] = (before, trail)
            row[at] = (*key,)
            row[-1] = trail
            append((_new(Box, row), outcome))
