"""A rule that every pending box misses on the quick tests: the boxes go on as they are.

Between its jumps and source drops, a random mix's INPUT has thousands of `-p udp -m multiport
--dports ... -j DROP` rules and `-p udp -j CHAIN` jumps, and tcp port drops on ports the boxes
going on (tcp 22 and 443 once cut to the accept hull) do not hold. Each met the few boxes going
on twice: once asking whether it missed the held box (engine/heldcuts.py ``misses_all``), then
in ``Walker._apply_rule``, a state split, a quick split and a list per box.

Here the quick tests of engine/quickmiss.py are read once per box: when every box lies wholly
outside the rule's leading protocol, port or address bounds, ``_apply_rule`` would split none
(``quick_split`` answers ``(None, [box])`` for each) and hand back the boxes in their order,
having charged the budget one for the rule and one per box, or nothing for a rule the walker
passes whole. That is what is returned and charged here; any other rule goes the usual way.

Only for terminal verdicts (goto included) and jumps (a non-terminal rule may change a box it does not match
away: notrack, marks, a trace's steps), not in a trace, and not where a box would be split by
conntrack state first (``state_parts``: a box of several states meeting a rule with a match
the packet's path decides).
"""

from __future__ import annotations

from linter.engine.quickmiss import miss_tests
from linter.engine.space import Box, has_path_decided, protocol_ranges
from linter.model import ProtocolMatch, Rule, VerdictKind

_PROTO = Box._fields.index("proto")


def missed_by_all(walker, table, rule, pending: list[Box], stack: tuple[str, ...]) -> list[Box] | None:
    """The boxes going on past ``rule`` when every box of ``pending`` misses it on the quick
    tests (the budget charged as ``Walker._apply_rule`` charges it); None otherwise (nothing
    done: the caller applies the rule as usual)."""
    verdict = rule.verdict
    if walker.record or not (verdict.terminal or verdict.kind is VerdictKind.JUMP):
        return None
    tests = miss_tests(rule)
    if tests is None:
        return None
    if not every_box_misses(pending, tests, rule):
        return None
    if not walker._passes_whole(table, rule, stack):
        walker.budget.spent += len(pending) + 1
    return list(pending)


def every_box_misses(pending: list[Box], tests: tuple, rule: Rule) -> bool:
    """Whether every box of ``pending`` misses ``rule`` (``tests``: its quick tests) unsplit:
    none split by conntrack state first, each wholly outside some leading test's bounds."""
    for box in pending:
        # (Asked only of a box of several states, as state_parts asks: remembering the answer
        # for every rule walked held 6 MB more at 100,000 rules.)
        if len(box.state) > 1 and has_path_decided(rule):
            return False
        # quickmiss.misses(box, tests), read in place (~200,000 boxes a random mix's walk):
        for field, nat, lowest, highest, whole, family in tests:
            if nat >= 0 and box[nat] is not None:
                return False
            ranges = box[field]
            first = ranges[0][0]
            last = ranges[-1][1]
            if last < lowest or first > highest:
                break  # (missed)
            if not whole or first < lowest or last > highest or (family is not None and family is not box[0]):
                return False
        else:
            return False  # (every test holds all of the box: it may match)
    return True


def protocol_missed(pending: list[Box], rule: Rule) -> bool:
    """True where ``rule``'s first match is a protocol match every box of ``pending`` lies wholly
    outside (none split by conntrack state first): ``every_box_misses(pending, miss_tests(rule),
    rule)`` answers True then, its first test being that match's bounds, read the same way. False
    says nothing. (A random mix's held runs meet ~15,000 `-p udp` rules at 100,000 rules with tcp
    boxes: their port tests were built only to go unread.)"""
    bounds = leading_protocol(rule)
    if bounds is None:
        return False
    lowest, highest = bounds
    for box in pending:
        if len(box.state) > 1 and has_path_decided(rule):
            return False
        proto = box[_PROTO]
        if proto[-1][1] >= lowest and proto[0][0] <= highest:
            return False
    return True


def leading_protocol(rule: Rule) -> tuple[int, int] | None:
    """The lowest and highest protocol number of ``rule``'s first match, where that is a protocol
    match, not negated: a box whose protocols lie wholly outside them misses ``rule`` on its
    first quick test (miss_tests), whatever the others say. None otherwise."""
    matches = rule.matches
    match = matches[0] if matches else None
    if type(match) is not ProtocolMatch or match.negated or not match.protocols:
        return None
    ranges = protocol_ranges(match.protocols)
    return ranges[0][0], ranges[-1][1]
