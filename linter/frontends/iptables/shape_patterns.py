"""A shape's line as one regular expression: the values of a line of a known shape in one match.

plans.py finds a line's shape by cutting its values out (a ``re.split`` and a tuple of the
pieces as a dictionary key); a shape seen often also gets a pattern that matches exactly the
lines of that shape, the shape's literal text with a group where each value goes, so that
the next lines of a shape recently seen are recognised and have their values read by one
``fullmatch``. ``RecentShapes`` keeps the patterns of the few shapes used last.

Why a match means the same shape: the groups use the value pattern of the key's own split
(``VALUE``), each followed by the literal text that follows it there (a space or the end
of the line), so a group takes exactly the word or quoted string the split would take; the
literal pieces are those of the shape's first clean line, in which the split found nothing
else to cut out, and a value the split would leave in place (a ``-j`` verdict,
``LITERAL_TARGETS``) is refused after the match. The chain comes first: a built-in chain
is part of the shape (literal, and must be a built-in chain of the table being read); a
user chain is not (a group, which must be a chain name read before and not built in).
"""

from __future__ import annotations

import re

from linter.frontends.iptables.rule_options import STANDARD_VERDICTS, TARGETS

# A value cut out of a shape: a word of printable ASCII without space, quote, backslash or "!"
# that does not start with "-", or such a string (spaces allowed) in double quotes. The repeats
# are possessive (``*+``: no backtracking into them), which matches what the greedy ``*`` would:
# a word is always followed by a space or the end of the line, a quoted string by its closing
# quote, none of which the repeated class holds, so a shorter repeat could never be followed by
# what comes next; a failing alternative of an alternation (shape_runs.py) then fails at once.
VALUE = r'("[ #-,.-\[\]-~][ !#-\[\]-~]*+"|[#-,.-\[\]-~][#-\[\]-~]*+)'
# -j names that stay in a shape (no value): the interpreter reads them as verdicts or target extensions.
LITERAL_TARGETS = frozenset(STANDARD_VERDICTS) | frozenset(TARGETS)
RECENT = 8  # patterns tried before a line's shape is looked up the long way
COMPILE_AFTER = 3  # lines of a shape found the long way before its pattern is made


_JUMPS = ("-j", "--jump")


def longest_first(word: str) -> tuple:
    """Sort key of alternatives: longer words first (a prefix must not win), then by text, so the
    pattern's text is the same in every process (a set's order is not: regex_code.py stores
    compiled patterns by their text)."""
    return -len(word), word


def word_tree(words) -> str:
    """An alternation matching exactly the ``words`` (non-empty), as a tree keyed on their letters:
    the words sharing a first letter share one branch, so a text is compared with one branch per
    first letter rather than with every word (``re`` tries an alternation's branches in turn)."""
    by_first: dict = {}
    for word in sorted(words, key=longest_first):
        by_first.setdefault(word[:1], []).append(word[1:])
    branches = []
    for first, rests in sorted(by_first.items()):
        if len(rests) == 1:
            branches.append(re.escape(first + rests[0]))
            continue
        # "" (a word ending here) comes last: longer words first, as in a flat alternation.
        longer = [rest for rest in rests if rest]
        tail = word_tree(longer) if longer else ""
        if len(longer) < len(rests):
            tail = f"{tail}|" if longer else ""
        branches.append(f"{re.escape(first)}(?:{tail})")
    return "|".join(branches)


# Before a -j value in shape_source(key, True): the value is no literal target (as plans.py's split).
NOT_LITERAL = rf"(?!(?:{word_tree(LITERAL_TARGETS)})(?: |\Z))"


def shape_pattern(key: tuple[str, ...]):
    """The ``fullmatch`` of the lines of the shape ``key`` (plans.py: the pieces between the values,
    alternately literal text and the option before a value, then the built-in chain or "")."""
    return re.compile(shape_source(key)).fullmatch


def shape_source(key: tuple[str, ...], literal_jumps: bool = False) -> str:
    """The regular expression of ``shape_pattern``: a group for a user chain, then one per value;
    with ``literal_jumps`` a ``-j`` value that is a literal target does not match (so that an
    alternation of shapes goes on to the shape where that target is literal text)."""
    chain = key[-1]
    return f"-A {re.escape(chain) if chain else '([^ ]+)'} {options_source(key, literal_jumps)}"


def options_source(key: tuple[str, ...], literal_jumps: bool = False) -> str:
    """The part of ``shape_source`` after the chain and its space: the values' groups."""
    return VALUE.join(options_pieces(key, literal_jumps))


def options_pieces(key: tuple[str, ...], literal_jumps: bool = False) -> list[str]:
    """The literal parts of ``options_source``, between which its values' groups (``VALUE``) go:
    one more than the shape has values."""
    pieces = [re.escape(key[0])]
    for k in range(1, len(key) - 1, 2):
        option = key[k]
        guard = NOT_LITERAL if literal_jumps and option in _JUMPS else ""
        pieces[-1] += f"{re.escape(option)} {guard}"
        pieces.append(re.escape(key[k + 1]))
    return pieces


class RecentShapes:
    """The plans with a pattern of the shapes used last, the most used first; and ``last``, the
    plan of the last line found, whose follower (the plan of the line after it, the last time)
    is tried first: lines of a few shapes tend to come in the same order (kube-proxy's KUBE-SEP
    chains). Followers are kept here by the plan's id, not on the plans: a plan following itself
    would be a reference cycle, which the paused collector would keep, and the reader with it."""

    __slots__ = ("entries", "last", "followers", "version", "clears")

    def __init__(self) -> None:
        self.entries: list = []
        self.last = None
        self.followers: dict = {}
        self.version = 0  # counts changes to which plans ``entries`` holds (shape_runs.py)
        self.clears = 0  # counts ``clear`` calls: the plans of before are gone

    def clear(self) -> None:
        self.entries.clear()
        self.last = None
        self.followers.clear()
        self.version += 1
        self.clears += 1

    def add(self, plan) -> None:
        """``plan`` (whose pattern is made) as the most recent; the least recent is forgotten."""
        entries = self.entries
        for k, known in enumerate(entries):
            if known is plan:
                del entries[k]
                break
        else:
            if len(entries) >= RECENT:
                entries.pop()
            self.version += 1
        entries.insert(0, plan)

    def find(self, line: str):
        """(plan, the groups its pattern read: the user chain if the shape has none, then the
        values) of the first recent shape whose pattern reads ``line``, else None. A literal
        target among them (``-j DROP`` where the shape has a chain to jump to) is no value: that
        line is of another shape (or a chain named so: the long way reads it)."""
        last = self.last
        if last is not None:
            following = self.followers.get(id(last))
            if following is not None:
                m = following.pattern(line)
                if m is not None:
                    groups = m.groups()
                    if LITERAL_TARGETS.isdisjoint(groups):
                        self.last = following
                        return following, groups
        entries = self.entries
        for k, plan in enumerate(entries):
            m = plan.pattern(line)
            if m is not None:
                groups = m.groups()
                if not LITERAL_TARGETS.isdisjoint(groups):
                    continue
                if k:  # one step to the front: the shapes most used come to be tried first
                    entries[k - 1], entries[k] = plan, entries[k - 1]
                if last is not None:
                    self.followers[id(last)] = plan
                self.last = plan
                return plan, groups
        return None
