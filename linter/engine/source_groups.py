"""A dispatch segment's groups met one by one, those that decide on sources alone decided at once.

A random mix's INPUT holds a few hundred segments on sources (engine/walk.py's Segment) mixing
`-s NET -j DROP` with `-s NET/16 -j CHAIN`: not all plain (engine/runs.py's lanes decline),
so each group met walks its parts through ``Walker._apply_group``. A group's parts lie in its
key, and a group whose first rule is a plain source match (its key: engine/heldcuts.py's
``source_only``) matches all of each: ``Walker._apply_rule`` split each part by the rule
(the quick tests, then split_rule) only to find it matched whole.

Here such a group's first rule, when it drops, rejects or returns, decides the parts as
``Walker._apply_rule(matched_whole=True)`` decides them (engine/heldchain.py's
``decide_parts``: the same steps, results and charge), and nothing goes on past it: the
group's later rules meet nothing. Every other group walks as before, in the same order.
Only without a trace (a trace records misses the quick path leaves out).
"""

from __future__ import annotations

from linter.engine.coalesce import coalesce
from linter.engine.heldchain import DECIDED, decide_parts
from linter.engine.heldcuts import source_only
from linter.engine.space import Box
from linter.engine.walk import Outcome, rule_steps

_RETURNS = Outcome.RETURN  # (a module constant: an Enum's class attribute costs ~10x a global)


def walk_groups(walker, table, chain, segment, by_group: dict, results: list, stack: tuple[str, ...],
                returned: list[Box] | None) -> list[Box]:
    """What comes out of the groups of ``segment`` (a ``Segment.partition`` answer's ``by_group``:
    per group met, its rules and the parts in its key), as ``Walker.segment_outputs`` walks
    them: each group's parts merged first, then its rules in order."""
    going_on: list[Box] = []
    decides = not walker.record and segment.dimension == "src"
    stepped = None
    for group, parts in by_group.values():
        parts = coalesce(parts)
        if decides:
            rule = group[0]
            outcome = DECIDED.get(rule.verdict.kind)
            if outcome is not None and (outcome is not _RETURNS or returned is not None) \
                    and source_only(rule) is not None:
                if stepped is None:
                    stepped = rule_steps(table, chain)
                decide_parts(walker.budget, stepped, rule, outcome, parts, results, returned)
                continue
        going_on.extend(walker._apply_group(table, chain, group, parts, results, stack, returned))
    return going_on
