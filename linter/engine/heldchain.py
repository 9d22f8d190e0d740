"""A short chain walked by held boxes carried into it, rule by rule without the walker's dispatch.

A random mix's INPUT jumps `-p tcp -j CHAIN-N` about 3,000 times at 100,000 rules, each jump
carrying the held box of new connections (engine/heldjumps.py: the long list of sources not
dropped yet, its latest cuts kept as holes) and the few pieces jumps by source network
returned. Each target is a chain of ~5 rules met once: `-s NET -j DROP`, `-s NET -j RETURN`,
and port drops on ports the boxes do not hold. ``Walker._run`` met each rule through its block
dispatch, the all-miss test, ``_apply_held``, ``_apply_rule``, ``met`` and ``after_split``.

Here such a chain is walked by the same steps, read in place:

- a rule on sources alone with DROP, REJECT or RETURN cuts the boxes as ``_apply_held`` does
  (``HeldCuts.cut_by_source``); what it matches is decided as ``_apply_rule(matched_whole=True)``
  decides it (a step on its trail, a DROP or REJECT result deferred as engine/known_sizes.py
  defers it; a RETURN's part handed back untouched), and charged as those charge. (The all-miss
  test the walker asks first is left out: where it holds, the cut finds nothing inside and
  gives the same boxes and charge.)
- every other rule must be missed by every entering box on the quick tests
  (engine/quickmiss.py), checked before anything is done; it is charged as engine/allmiss.py
  charges. The boxes met later are the entering ones or parts of them cut by source only, and a
  part of a box misses whatever the box misses on those tests (its bounds lie within the box's).

The walk is taken only where nothing else can come between: every block a plain rule, no trace,
no marks, a RETURN's parts collected by the caller, and the budget not crossed even if every
rule met every entering box (the boxes going on are never more than those entering: the walker
would neither merge nor settle them between rules). What falls off the end is what the walker
gives there (``HeldCuts.coalesce``, held boxes going back still held).
"""

from __future__ import annotations

from linter.engine.allmiss import protocol_missed
from linter.engine.heldcuts import HeldCuts, lone_of, source_only
from linter.engine.known_sizes import collector
from linter.engine.quickmiss import miss_tests, misses
from linter.engine.space import Box, has_path_decided, with_src
from linter.engine.walk import Outcome, blocks_of, rule_steps
from linter.model import Chain, Rule, Table, VerdictKind

DECIDED = {VerdictKind.DROP: Outcome.DROP, VerdictKind.REJECT: Outcome.REJECT, VerdictKind.RETURN: Outcome.RETURN}
# (enum members as module constants: a class attribute of an Enum costs ~140 ns on Python 3.11)
_JUMP, _RETURNS = VerdictKind.JUMP, Outcome.RETURN
_new_box = tuple.__new__
_SRC_AT = Box._fields.index("src")

def _plan_of(blocks: list, pending: list[Box]) -> list | None:
    """Per rule (rule, source key, outcome) for a cut by source, (rule, None, None) for a rule
    every box of ``pending`` misses on the quick tests (unsplit by conntrack state); None where
    the chain cannot be walked here. (Not remembered: a random mix's carried jumps each enter a
    chain met once, and 3,000 plans held 3 MB.)"""
    several = False  # (whether some box has several conntrack states: only then is a rule's
    for box in pending:  # path-decided match asked about, as the walker's all-miss test asks)
        if len(box.state) > 1:
            several = True
            break
    steps = []
    for rule in blocks:
        if type(rule) is not Rule:
            return None  # (a dispatch run or a source run)
        verdict = rule.verdict
        key = source_only(rule)
        if key is not None:
            outcome = DECIDED.get(verdict.kind)
            if outcome is None:
                return None
            steps.append((rule, key, outcome))
            continue
        if not (verdict.terminal or verdict.kind is _JUMP):
            return None
        if not protocol_missed(pending, rule):  # (then the quick tests say the same: not built)
            tests = miss_tests(rule)
            if tests is None:
                return None
            by_state = several and has_path_decided(rule)
            for box in pending:
                if by_state and len(box.state) > 1 or not misses(box, tests):
                    return None
        steps.append((rule, None, None))
    return steps


def walk_carried(walker, held: HeldCuts, table: Table, chain: Chain, blocks: list, pending: list[Box],
                 stack: tuple[str, ...], results: list, returned: list[Box] | None) -> list[Box] | None:
    """What falls off the end of ``chain`` (``blocks``: its blocks) for ``pending``, held boxes
    carried in with their holes in ``held`` (``stack``: the chain's own name last), as
    ``Walker._run`` gives it; None where this does not apply (nothing done then)."""
    if returned is None or walker.record or walker.marks or not pending:
        return None
    plan = _plan_of(blocks, pending)
    if not plan:
        return None
    budget = walker.budget
    if budget.spent + len(plan) * (len(pending) + 1) > budget.limit:
        return None  # (past the budget the walker merges boxes between rules)
    stepped = rule_steps(table, chain)
    lone = None  # (a list of boxes, its lone_shape)
    for rule, key, outcome in plan:
        if not pending:
            break
        if key is None:
            # (engine/allmiss.py: every box goes on as it is.)
            if not walker._passes_whole(table, rule, stack):
                budget.spent += len(pending) + 1
            continue
        # (the lone lane first, as engine/heldrun.py takes it: ``pending`` is only rebound here)
        if lone is None or lone[0] is not pending:
            lone = (pending, lone_of(held, pending))
        if lone[1] is not None and decide_lone(budget, stepped, rule, outcome, held, lone[1], key, pending,
                                               results, returned):
            continue
        inside, going_on = held.cut_by_source(key, pending)
        budget.spent += len(pending) - len(inside)
        pending = going_on
        if not inside:
            budget.spent += 1
            continue
        decide_parts(budget, stepped, rule, outcome, inside, results, returned)
    return held.coalesce(pending)


def enter_carried(walker, held: HeldCuts, table: Table, target: Chain, parts: list[Box], stack: tuple[str, ...],
                  results: list) -> list[Box] | None:
    """``walker.enter`` of ``parts`` into ``target`` (a jump's, from a chain whose walk's stack is
    ``stack``), held boxes carried in with their holes in ``held`` (what engine/heldjumps.py
    hands ``Walker._run`` through ``Walker.carry``), where ``walk_carried`` walks ``target``: what
    comes back; None where it does not (nothing done: the jump enters the usual way)."""
    budget = walker.budget
    if walker.record or budget.degraded or not held or not stack:
        return None
    # enter: not past the budget; _walk_target: passes_through declines held boxes carried in,
    # engine/shapewalk.py walks (and counts the walk, or not) or may use a template (not here).
    wide = False
    if walker.shared is not None:
        wide = walker.shared.untemplated(walker, table, parts)
        if wide is None:
            return None
    # walk_into: what returns, then what falls off the end; _run charges the chain first (no
    # checkpoints below a base chain) and hands the walk to walk_carried.
    budget.spent += 1
    back: list[Box] = []
    went = walk_carried(walker, held, table, target, blocks_of(target), parts, stack + (target.name,), results, back)
    if went is None:
        budget.spent -= 1  # (walk_carried declined before doing anything)
        return None
    if wide:
        walker.shared.count_late(table, target, stack)
    back.extend(went)
    return back


def apply_by_source(walker, held: HeldCuts, table: Table, chain: Chain, rule: Rule, key: tuple, pending: list[Box],
                    results: list, stack: tuple[str, ...], returned: list[Box] | None) -> list[Box]:
    """``Walker._apply_held``'s step for ``rule``, a terminal rule or a jump on sources ``key``
    alone that the walker does not pass whole: the boxes going on (``pending`` itself where the
    lone lane leaves them as they are: it is never changed in place here, nor by the walker)."""
    budget = walker.budget
    outcome = DECIDED.get(rule.verdict.kind)
    if outcome is not None and not walker.record and (outcome is not _RETURNS or returned is not None):
        shape = lone_of(held, pending)
        if shape is not None and decide_lone(budget, rule_steps(table, chain), rule, outcome, held, shape, key,
                                             pending, results, returned):
            return pending
    inside, going_on = held.cut_by_source(key, pending)
    # (_apply_rule counts every box it meets: the ones that missed here as well.)
    budget.spent += len(pending) - len(inside)
    if not inside:
        budget.spent += 1
        return going_on
    if not decide_matched(walker, table, chain, rule, inside, results, returned):
        going_on.extend(walker._apply_rule(table, chain, rule, inside, results, stack, returned, matched_whole=True))
    return going_on


def decide_lone(budget, stepped, rule: Rule, outcome: Outcome, held: HeldCuts, shape: tuple, key: tuple,
                pending: list[Box], results: list, returned: list[Box] | None) -> bool:
    """``cut_by_source(key, pending)`` then ``decide_parts`` of what it matches, where
    ``HeldCuts.cut_lone`` tells the boxes go on as they are (``shape``: lone_of(held,
    ``pending``)): True then (the held box's hole noted, the part decided and charged as those
    charge, built in one copy), else False (nothing done)."""
    part = held.cut_lone(shape, key)
    if part is None:
        return False
    # (cut_by_source charges the boxes going on, decide_parts the part and one; or one)
    budget.spent += len(pending) + 1
    if part:
        box = shape[0]
        if outcome is _RETURNS:
            returned.append(with_src(box, part))  # (decide_parts hands a RETURN's part back as it is)
            return True
        decided = _new_box(Box, box[:_SRC_AT] + (part,) + box[_SRC_AT + 1:-1] + (stepped(box[-1], rule),))
        sizes = collector()
        results.append((sizes.defer([decided])[0] if sizes is not None else decided, outcome))
    return True


def decide_matched(walker, table: Table, chain: Chain, rule: Rule, inside: list[Box], results: list,
                   returned: list[Box] | None) -> bool:
    """``Walker._apply_rule(matched_whole=True)`` for ``inside`` (the parts of held boxes in the
    ranges of ``rule``, a rule on sources alone the walker does not pass whole), done here where
    ``rule`` drops, rejects or returns: True then, else False (nothing done). Nothing goes on."""
    outcome = DECIDED.get(rule.verdict.kind)
    if outcome is None or walker.record or outcome is _RETURNS and returned is None:
        return False
    decide_parts(walker.budget, rule_steps(table, chain), rule, outcome, inside, results, returned)
    return True


def decide_parts(budget, stepped, rule: Rule, outcome: Outcome, inside: list[Box], results: list,
                 returned: list[Box] | None) -> None:
    """What ``Walker.met`` and ``after_split`` do with parts a rule without statements matched
    whole (``stepped``: walk.rule_steps of its chain), charged as ``_apply_rule`` charges."""
    budget.spent += len(inside) + 1
    if outcome is _RETURNS:
        returned.extend(inside)  # (a RETURN leaves no step: what comes back goes on as it went)
        return
    # (with_trail read in place: the trail is a Box's last field; ~31,000 calls at a random mix
    # of 100,000 rules, most with one part)
    decided = [_new_box(Box, box[:-1] + (stepped(box[-1], rule),)) for box in inside]
    sizes = collector()  # (a DROP or REJECT result deferred as engine/known_sizes.py defers it)
    if sizes is not None:
        decided = sizes.defer(decided)
    if len(decided) == 1:
        results.append((decided[0], outcome))
    else:
        results.extend([(box, outcome) for box in decided])
