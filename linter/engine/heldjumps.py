"""Jumps that take held boxes whole: their holes go in with them and come back out.

A random mix's INPUT jumps by protocol (`-p tcp -j CHAIN-N`) a few thousand times. The box of
new connections going on holds the list of every source not dropped yet (engine/heldcuts.py:
its latest cuts kept as holes). Such a jump takes the whole box, so the walker cut its holes out
(a copy of the long list) before the jump, the chain held cuts of its own and cut those out at
its end (a second copy): two copies of a list of up to 30,000 ranges per jump.

Here a jump that takes every held box whole, or misses it, is applied as ``Walker._apply_rule``
applies a jump, but each held box enters the chain with its holes: the chain's walk takes them
as its own held cuts (``Walker.carry``), and what falls off its end comes back still held.
Coalesce, before the chain and at its end, merges held boxes as if settled (HeldCuts.coalesce):
the pieces a held box takes back (what a jump by source network returned) fill its holes. What
each rule decides, and the boxes that go on, are what settling first gives: a held box is
settled before anything that may match or read it, in the chain as in its caller.

Only where nothing else can come between: no trace, no marks, not past the budget, no
assumption made by the jump's matches, and a held list too long for engine/shapewalk.py's
templates (a template's replay would not walk the chain).
"""

from __future__ import annotations

from linter.engine import heldchain
from linter.engine.heldcuts import HeldCuts
from linter.engine.quickmiss import quick_split
from linter.engine.shapewalk import MAX_POINTS
from linter.engine.space import Box, state_parts, with_trail
from linter.engine.walk import MAX_DEPTH, chain_named, step
from linter.model import Rule, Table, Chain, VerdictKind

_JUMP = VerdictKind.JUMP  # (a module constant: an Enum's class attribute costs ~140 ns on Python 3.11)


def jump_holding(walker, held: HeldCuts, table: Table, chain: Chain, rule: Rule, pending: list[Box],
                 results: list, stack: tuple[str, ...]) -> list[Box] | None:
    """What goes on past ``rule`` (a jump the walker does not pass whole) for ``pending``, the held
    boxes' holes carried through the chain it jumps to; None where this does not apply (nothing
    done then: the caller applies the rule as usual)."""
    verdict = rule.verdict
    if verdict.kind is not _JUMP or rule.statements or walker.record or walker.marks \
            or walker.budget.degraded:
        return None
    target = chain_named(table, verdict.target)
    if target is None or target.name in stack or len(stack) >= MAX_DEPTH:
        return None
    decide = walker.decide
    split = []
    for whole in pending:
        holes = held.holes_of(whole)
        parts = state_parts(whole, rule)
        if holes is not None and (len(parts) != 1 or len(whole.src) <= MAX_POINTS):
            return None
        for box in parts:
            inside, outside = quick_split(box, rule, False, decide)
            if inside is not None and inside.assumptions is not box.assumptions:
                return None  # (matched only by assuming: _apply_rule's other branch)
            if holes is not None and not (
                    inside is None and len(outside) == 1 and outside[0].src is box.src
                    or inside is not None and not outside and inside.src is box.src):
                return None  # a held box split by the jump: settled first, as usual
            split.append((box, inside, outside, holes))
    walker.budget.spent += len(pending) + 1
    next_pending: list[Box] = []
    matched: list[Box] = []
    before: dict[int, tuple] = {}
    carried = HeldCuts()
    for box, inside, outside, holes in split:
        next_pending.extend(outside)
        if inside is None:
            if holes is not None and outside[0] is not box:
                held.adopt(outside[0], held.release(box))  # missed whole: still held (a copy of it)
            continue
        trail = inside.trail
        inside = with_trail(inside, step(trail, "rule", table, chain, rule))
        before[id(inside.trail)] = trail
        if holes is not None:
            carried.adopt(inside, held.release(box))
        matched.append(inside)
    if not matched:
        return next_pending
    parts = carried.coalesce(matched)
    back = heldchain.enter_carried(walker, carried, table, target, parts, stack, results)  # (a short chain)
    if back is None:
        if carried:
            walker.carry = (parts, carried)  # taken by the walk of ``target`` (Walker._run)
        try:
            back = walker.enter(table, chain, rule, target, parts, stack, results)
        finally:
            walker.carry = None
    for box in back:
        holes = carried.holes_of(box) if carried else None
        trail = before.get(id(box.trail))
        if trail is not None:
            box = with_trail(box, trail)  # (the trail it had before the jump, as _apply_rule gives it)
        if holes is not None:
            held.adopt(box, holes)
        next_pending.append(box)
    return next_pending
