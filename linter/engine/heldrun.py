"""A run of plain rules met by a walk that holds cuts, walked in one loop.

A random mix's INPUT holds the long list of sources not dropped yet (engine/heldcuts.py) from
its first `-s NET -j DROP` on, and its next 45,000 blocks are mostly rules of two kinds: source
drops (`-s NET/24 -j DROP`, ~21,000 at 100,000 rules) and port drops or `-p udp -j CHAIN` jumps
that every box going on misses (~15,000). ``Walker._run`` met each through its block dispatch:
the all-miss test (engine/allmiss.py, which builds the rule's quick tests only to find that a
source drop may match the held box), then ``_apply_held``, its source key, ``_passes_whole``
and ``heldchain.decide_matched``.

Here, from one such block on, the blocks are walked by the same steps in one loop, while each is

- a rule on sources alone with DROP or REJECT (or RETURN where the walk collects what returns):
  cut as ``_apply_held`` cuts it (``HeldCuts.cut_by_source``), what it matches decided and
  charged as ``heldchain.decide_matched`` decides it. The walker asks the all-miss test first;
  where that holds, the cut finds nothing inside and gives the same boxes and charge (an
  address match of another family misses on both; a box outside the rule's bounds intersects
  nothing);
- or a terminal rule or a jump every box misses on the quick tests: the boxes go on as they
  are, charged as engine/allmiss.py charges (its test, read the same way);
- or a jump by source network (`-s NET/16 -j CHAIN`, ~6,300 at 100,000 rules): cut as
  ``_apply_held`` cuts it, the part inside applied by ``Walker._apply_rule`` as matched whole
  (the chain walked as the walker walks it). What comes back may leave more boxes than met
  the run, or the chain may spend past the budget: the run then ends after the jump, so the
  walker merges or settles what goes on as after its own step (its regrow mark lies above
  the count the run met: it merged past it before).

The loop stops before anything else: another rule (a goto or an accept by source too), a
dispatch run or a source run, a block where the walk cuts boxes to the accept hull (a
checkpoint), no box left, or a rule that could take the budget past its limit (past it the
walker merges boxes between rules). Neither of the first two kinds leaves more boxes than it
met (a cut by source leaves each box or one part of it going on), so the walker would neither
coalesce nor settle between them: what goes on, what is decided, in what order and at what
charge, is what the walker's own loop gives.
"""

from __future__ import annotations

from itertools import islice

from linter.engine.allmiss import every_box_misses, protocol_missed
from linter.engine.heldcuts import HeldCuts, lone_grown, lone_of, source_only
from linter.engine.heldpass import passes_single
from linter.engine.quickmiss import miss_tests
from linter.engine.space import Box, with_src
from linter.model import TERMINAL_KINDS, Rule, VerdictKind

_JUMP, _RETURN, _OTHER = VerdictKind.JUMP, VerdictKind.RETURN, VerdictKind.OTHER


def held_run(walker, held: HeldCuts, table, chain, blocks: list, start: int, checkpoints: dict | None,
             pending: list[Box], results: list, stack: tuple[str, ...],
             returned: list[Box] | None) -> tuple[int, list[Box]] | None:
    """(the position of the first block not walked here, the boxes going on past the blocks
    before it) for ``blocks[start:]`` of ``chain`` (``stack``: its name last) met by ``pending``
    in a walk holding ``held``; None where ``blocks[start]`` is not walked here (nothing done)."""
    if walker.record or walker.certain:
        return None  # (a trace steps every rule; a certain walk passes some rules whole)
    budget = walker.budget
    limit = budget.limit
    stepped = None
    lone = None  # (a list of boxes, its lone_shape): source drops that leave the boxes as they are
    position = start
    end = len(blocks)
    most = len(pending)  # (fewer than the walker's regrow mark: it merged past that before this block)
    while position < end and pending:
        rule = blocks[position]
        if type(rule) is not Rule or checkpoints and position in checkpoints \
                or budget.spent + len(pending) + 1 > limit:
            break
        verdict = rule.verdict
        kind = verdict.kind
        # (Verdict.terminal read in place, a jump asked first: ~48,000 rules of a random mix)
        if not (kind is _JUMP or (kind in TERMINAL_KINDS if kind is not _OTHER else verdict.terminal_other)):
            break
        if protocol_missed(pending, rule):  # (what every_box_misses answers below, its tests not built)
            if kind is not _JUMP or not walker._passes_whole(table, rule, stack):
                budget.spent += len(pending) + 1
            position += 1
            continue
        key = source_only(rule)
        if key is not None and kind is _JUMP:
            # A jump by source network: _apply_held's steps (the walker's all-miss test, where it
            # holds, gives what a cut finding nothing inside gives). What the chain sends back
            # may leave more boxes than met it, or the budget spent: the run ends after such a
            # jump, so the walker merges or settles what goes on as after its own step.
            position += 1
            if walker._passes_whole(table, rule, stack):
                continue  # (everything comes back unchanged: nothing charged, nothing settled)
            if lone is None or lone[0] is not pending:
                lone = (pending, lone_of(held, pending))
            part = held.cut_lone(lone[1], key) if lone[1] is not None else None
            if part is not None:  # (cut_by_source's answer: below; a new list, to be added to)
                inside, pending_next = [with_src(lone[1][0], part)] if part else [], pending.copy()
            else:
                inside, pending_next = held.cut_by_source(key, pending)
            budget.spent += len(pending) - len(inside)
            if len(inside) == 1 and passes_single(walker, table, chain, rule, inside[0], stack):
                pending_next.append(inside[0])  # (engine/heldpass.py: its chain passes it through)
            elif inside:
                pending_next.extend(walker._apply_rule(table, chain, rule, inside, results, stack, returned,
                                                       matched_whole=True))
            else:
                budget.spent += 1
            lone_grown(held, pending, pending_next)  # (the next run's drops find its shape made)
            pending = pending_next
            if len(pending) > most or budget.spent > limit:
                break
            continue
        if key is not None:
            outcome = heldchain.DECIDED.get(kind)
            if outcome is None or returned is None and kind is _RETURN:
                break  # (a goto by source, an accept: the walker's way)
            # (_apply_held with decide_matched, read in place; no rule on sources alone is
            # passed whole by a walk that is not certain.)
            # One held box and short pieces beside the rule's network (most drops): the boxes go
            # on as they are, the same list (only rebound here, never changed in place: what a
            # jump sends back goes into cut_by_source's new list; a RETURN's part to ``returned``).
            if lone is None or lone[0] is not pending:
                lone = (pending, lone_of(held, pending))
            if lone[1] is not None:
                if stepped is None:
                    stepped = walk.rule_steps(table, chain)
                if heldchain.decide_lone(budget, stepped, rule, outcome, held, lone[1], key, pending,
                                         results, returned):
                    position += 1
                    continue
            inside, pending_next = held.cut_by_source(key, pending)
            budget.spent += len(pending) - len(inside)
            pending = pending_next
            if inside:
                if stepped is None:
                    stepped = walk.rule_steps(table, chain)
                heldchain.decide_parts(budget, stepped, rule, outcome, inside, results, returned)
            else:
                budget.spent += 1
        else:
            tests = miss_tests(rule)
            if tests is None or not every_box_misses(pending, tests, rule):
                break
            if kind is not _JUMP or not walker._passes_whole(table, rule, stack):  # (no jump: never, not certain)
                budget.spent += len(pending) + 1
        position += 1
    if position == start:
        return None
    return position, pending


def skip(walked, position: int, after: int, pending: list[Box]) -> list[Box]:
    """``pending``, once the blocks walked here (``position`` up to ``after``, held_run's answer)
    are taken from ``walked``, the walker's enumerate of the blocks (its loop goes on from there)."""
    if after > position + 1:
        next(islice(walked, after - position - 2, None), None)
    return pending


from linter.engine import heldchain, walk  # noqa: E402  (walk.py imports this module)
