"""The other groups' results of a shaped run (runs.shaped_walk), built in one loop.

``shaped_walk`` walks the first group of a run of groups alike but for their keys and copies
each of its results once per other group: the box with that group's key, its trail with that
group's rule's step. A copy's trail is what ``walk.rule_steps`` would make of it,
``space.extend_path`` done in place: the same lookup of the path cache by the same key, the
same emptying of a full cache before a new extension is stored, the same Step. Only the
calls are saved (two per copy, plus a NamedTuple's ``__new__``), which at 100,000 copies
were half of the copying's cost.
"""

from __future__ import annotations

from linter.engine import space
from linter.engine.space import Box

_new = tuple.__new__


def copy_results(cuts: list, groups, keys, table, chain, step_class, append) -> None:
    """Append ``(copy, outcome)`` for each group of ``groups`` (with its key of ``keys``) and
    each ``(head, tail, outcome, position, before)`` of ``cuts`` (in that order: groups outer):
    the box ``(*head, fresh key, *tail, trail)``, its trail ``before`` extended by the step of
    the group's rule at ``position`` (``step_class("rule", table, chain, rule, "")``,
    shared through the path cache as ``extend_path`` shares it)."""
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
