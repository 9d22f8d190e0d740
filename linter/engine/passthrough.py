"""Chains that every entering box passes through untouched: not walked rule by rule.

A random mix's INPUT jumps by source network (`-s NET/16 -j CHAIN-N`) a few thousand times;
the part of a box in NET enters a chain of a few rules on other source /24s and on ports the
box does not hold, misses every one of them and comes back as it went in. Walking it there
cost a dispatch through engine/shapewalk.py, a Walker._run and a split per rule and box
(~70 us a jump at 100,000 rules).

Here, before such a walk, each rule of the chain is tested against each box with the quick
tests of engine/quickmiss.py (a box wholly outside the bounds of a rule's leading protocol,
port or address match): when every rule misses every box, what the walk gives is known
without walking. Nothing is decided in the chain and nothing is returned by a RETURN; what
falls off the end is the boxes as they entered, merged as Walker._run merges them at a
chain's end; the budget is charged what the walk charges (one for the chain, and for each
rule not passed whole the boxes it meets and one). Any other chain, or a walk that might
cross the budget, is walked as usual.

Only where nothing else can come between: no trace, no held boxes carried in
(engine/heldjumps.py), no long source list the walk would hold (engine/heldcuts.py), every
block a plain rule (no dispatch run), every rule a terminal verdict or a jump (a non-terminal
rule may change a box without matching it away), and no box split by conntrack state at a
rule (Walker._apply_rule's state_parts).
"""

from __future__ import annotations

from linter.engine.coalesce import coalesce
from linter.engine.heldcuts import holds_long
from linter.engine.quickmiss import miss_tests, misses
from linter.engine.space import Box, has_path_decided
from linter.model import Rule, VerdictKind

_JUMP = VerdictKind.JUMP  # (read once: a member looked up through its class costs an attribute read)


def passes_through(walker, table, target, blocks: list, boxes: list[Box], stack: tuple[str, ...],
                   passes_whole) -> list[Box] | None:
    """What comes back from walking ``boxes`` into ``target`` (whose blocks are ``blocks``) when
    every rule of it misses every box (nothing else happens then); None otherwise (nothing
    done: the caller walks the chain). ``passes_whole``: Walker._passes_whole (a rule every
    box goes past unsplit is not charged)."""
    if not boxes or walker.record or walker.carry is not None or holds_long(boxes):
        return None
    if not _all_missed(blocks, boxes):
        return None
    inner = stack + (target.name,)
    cost = 1
    for rule in blocks:
        if not passes_whole(table, rule, inner):
            cost += len(boxes) + 1
    budget = walker.budget
    if budget.spent + cost > budget.limit:
        return None  # (the walk would merge boxes once past the budget)
    budget.spent += cost
    return coalesce(list(boxes))


def walked_anyway(walker, blocks: list, boxes: list[Box]) -> bool:
    """Whether ``passes_through`` answers None for ``boxes`` before it charges anything (some
    rule of ``blocks`` may meet a box, or a condition above rules the lane out); False where it
    might pass them through. Asks what it asks, changes nothing."""
    if not boxes or walker.record or walker.carry is not None or holds_long(boxes):
        return True
    return not _all_missed(blocks, boxes)


def _all_missed(blocks: list, boxes: list[Box]) -> bool:
    """Whether every block of ``blocks`` is a plain rule with a terminal verdict or a jump that
    every box of ``boxes`` misses on the quick tests, none split by conntrack state there."""
    # A rule matching by something a packet's path decides splits a box of several states
    # (state_parts): asked only where some box holds several (most boxes hold one, NEW).
    several = False
    for box in boxes:
        if len(box.state) > 1:
            several = True
            break
    for rule in blocks:
        if type(rule) is not Rule:
            return False  # (a dispatch run)
        verdict = rule.verdict
        tests = miss_tests(rule)
        if tests is None or not (verdict.terminal or verdict.kind is _JUMP):
            return False
        if several and has_path_decided(rule):
            for box in boxes:
                if len(box.state) > 1:
                    return False
        for box in boxes:
            if not misses(box, tests):
                return False
    return True
