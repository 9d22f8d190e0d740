"""A source jump met in a held run whose one matched part passes its chain untouched.

A random mix's INPUT jumps by source network (`-s NET/16 -j CHAIN-N`) ~6,300 times at 100,000
rules. In engine/heldrun.py's loop the part of the boxes in NET (one short box, most often)
went through ``Walker._apply_rule(matched_whole=True)``: ``met`` stepped its trail and noted the
old one, ``after_split`` looked the chain up and coalesced the one part, ``enter`` and
``_walk_target`` reached engine/passthrough.py, which found that every rule of the chain misses
the part, and ``after_split`` put the old trail back on what came back: a box equal to the part,
field for field, every field the same object.

Here, for one part, the same questions are asked in place, and where the chain passes it
through the part itself goes on, charged what that path charges (the part and one for the
rule, then passthrough's cost). passthrough's test is asked as it asks it, but for a rule on
one source network alone, tested on its bounds without building its quick tests. The step ``met`` adds to the trail is still made (the path
cache of engine/space.py fills as it did: when it is emptied does not move). Anything else
(marks, an undefined or looping target, too deep, past the budget, a chain some rule of which
may meet the part) is left to ``_apply_rule`` with nothing done.
"""

from __future__ import annotations

from linter.engine.allmiss import leading_protocol
from linter.engine.chains import chain_named
from linter.engine import heldcuts
from linter.engine.heldcuts import source_only
from linter.engine.quickmiss import miss_tests, misses
from linter.engine.space import Box, has_path_decided
from linter.model import TERMINAL_KINDS, Chain, Rule, Table, VerdictKind

_JUMP, _OTHER = VerdictKind.JUMP, VerdictKind.OTHER


def passes_single(walker, table: Table, chain: Chain, rule: Rule, part: Box, stack: tuple[str, ...]) -> bool:
    """Whether ``part`` (the one part of held-run boxes that jump ``rule``, a jump by source
    network the walker does not pass whole, in ``chain`` whose walk's stack is ``stack``) comes
    back from the jump as it went: then the budget is charged as ``Walker._apply_rule`` charges
    it and the part goes on (the caller appends it); False where this does not apply (nothing
    done: the caller applies the rule)."""
    if walker.marks or walker.record or walker.certain:
        return False  # (after_split would set a marks-only chain's marks; a trace walks every step)
    target = chain_named(table, rule.verdict.target)
    if target is None or target.name in stack or len(stack) >= walk.MAX_DEPTH:
        return False
    blocks = walk.blocks_of(target)
    if walker.carry is not None or len(part.src) > heldcuts.LONG:
        return False  # (what passes_through declines)
    jumps = _all_missed(blocks, part)
    if jumps is None:
        return False
    # passthrough's charge: the chain, then every rule not passed whole the part and one.
    # (_passes_whole of a rule that is no jump, for a walk neither certain nor recording: False.)
    inner = stack + (target.name,)
    passes_whole = walker._passes_whole
    cost = 1 + 2 * (len(blocks) - len(jumps))
    for other in jumps:
        if not passes_whole(table, other, inner):
            cost += 2
    budget = walker.budget
    if budget.spent + 2 + cost > budget.limit:
        return False  # (the walk would be entered past the budget, or merge boxes in there)
    walk.step(part.trail, "rule", table, chain, rule)  # (met's step: the path cache as it was)
    budget.spent += 2 + cost
    return True


def _all_missed(blocks: list, part: Box) -> list[Rule] | None:
    """The jumps of ``blocks`` (in order) where engine/passthrough.py's test for ``[part]``
    holds: every block a plain rule with a terminal verdict or a jump that ``part`` misses on
    the quick tests, unsplit by conntrack state; None where it does not. A rule on one source
    network alone is tested on its bounds in place: its quick tests are that one test, which a
    box misses exactly when its list lies wholly below or above it (the tests of most rules of
    a random mix's chains, not built one rule at a time)."""
    several = len(part.state) > 1
    src = part.src
    first, last = src[0][0], src[-1][1]
    proto = part.proto
    proto_first, proto_last = proto[0][0], proto[-1][1]
    jumps = []
    for rule in blocks:
        if type(rule) is not Rule:
            return None  # (a dispatch run)
        verdict = rule.verdict
        kind = verdict.kind
        if kind is _JUMP:
            jumps.append(rule)
        elif not (kind in TERMINAL_KINDS if kind is not _OTHER else verdict.terminal_other):
            return None  # (Verdict.terminal, read in place)
        if several and has_path_decided(rule):
            return None
        key = source_only(rule)
        if key is not None and len(key[1]) == 1:
            low, high = key[1][0]
            if last < low or first > high:
                continue
            return None
        # (A rule led by a protocol match the part lies outside: its first quick test, which the
        # part misses, read without building the rest; the state test is asked above.)
        bounds = leading_protocol(rule)
        if bounds is not None and (proto_last < bounds[0] or proto_first > bounds[1]):
            continue
        tests = miss_tests(rule)
        if tests is None or not misses(part, tests):
            return None
    return jumps

from linter.engine import walk  # noqa: E402  (walk.py imports heldrun, which imports this module)
