"""Shape plans: rule lines that differ only in their values are interpreted once per shape.

Large rule sets repeat a few rule shapes with different values (a blocklist's
``-A INPUT -s a.b.c.d/32 -j DROP``, kube-proxy's ``-A KUBE-SERVICES -d IP -p tcp -m comment
--comment "TEXT" -m tcp --dport N -j CHAIN``). A line's shape is its option text with the
value after ``-s``, ``-d``, ``--dport``, ``--comment``... (and a ``-j`` chain name) cut out,
plus the chain when it is a built-in one. The first line of a shape is read the usual way
(tokenizer and RuleReader's option interpreter); when that read reported nothing and each
value cut out was read the plain way (the address of ``-s``, the port of ``--dport``, a
comment, the chain of a jump), its result becomes the shape's plan, and later lines of the
shape only have their values read into the plan's places. A value that cannot be read that
way (a bad address) sends its line the usual way, so diagnostics are the interpreter's own.

Why a plan holds for every line of its shape: the values cut out are printable ASCII
words (or double-quoted strings) without quotes, backslashes or ``!`` and not starting
with ``-``, and a ``-j`` name cut out is no standard verdict or target extension. The
tokenizer splits such a line as it split the first one, and the interpreter takes these
tokens as the option's value whatever they say; ``make_plan`` checks on the first line that
it did.
"""

from __future__ import annotations

import re

from linter.frontends.iptables.rule_options import STANDARD_VERDICTS, TARGETS
from linter.frontends.iptables.tokens import STRING, WORD

# Options whose value is cut out of a line's shape.
MASKED_AFTER = frozenset({
    "-s", "--source", "--src", "-d", "--destination", "--dst",
    "--dport", "--sport", "--destination-port", "--source-port",
    "--dports", "--sports", "--destination-ports", "--source-ports",
    "--comment", "-j", "--jump",
    "--to-destination", "--to-source", "--to", "--to-ports", "--on-ip", "--on-port",
})
# -j names that stay in the shape: the interpreter reads them as verdicts or target extensions.
LITERAL_TARGETS = frozenset(STANDARD_VERDICTS) | frozenset(TARGETS)
_JUMPS = ("-j", "--jump")
UNPLANNABLE = False  # the plan of a shape whose first line could not be made one
MAX_PLANS = 4096  # shapes kept; lines of later new shapes are read the usual way

_OPTIONS = "|".join(re.escape(o) for o in sorted(MASKED_AFTER, key=len, reverse=True))
_LITERALS = "|".join(re.escape(t) for t in sorted(LITERAL_TARGETS, key=len, reverse=True))
# An option and its value: a word of printable ASCII without space, quote, backslash or "!"
# that does not start with "-", or such a string (spaces allowed) in double quotes.
_VALUE = re.compile(
    rf'(?:^|(?<= ))({_OPTIONS}) (?!(?:{_LITERALS})(?: |\Z))'
    rf'("[ #-,.-\[\]-~][ !#-\[\]-~]*"|[#-,.-\[\]-~][#-\[\]-~]*)(?= |\Z)'
)
_split = _VALUE.split


class Plan:
    """A shape's read: its result, and where each value cut out goes.

    ``fills`` is (value index, kind, info, match index) per value, kind "addr" (a ``-s``/``-d``
    address), "value" (a modelled module option such as ``--dport``), "jump" or "nat" (a NAT
    target's one option; these two make the verdict, match index -1); ``comments`` the comment's pieces as (value index or None, text) when one is cut out.
    """

    __slots__ = ("matches", "verdict", "comment", "ignore", "fills", "comments")

    def __init__(self, matches, verdict, comment, ignore, fills, comments) -> None:
        self.matches = matches
        self.verdict = verdict
        self.comment = comment
        self.ignore = ignore
        self.fills = fills
        self.comments = comments


class ShapePlans:
    """The plans of one RuleReader's lines; ``head`` is the tokenizer's ``-A``/``-I`` pattern."""

    def __init__(self, reader, head) -> None:
        self.reader = reader
        self.head = head.match
        self.plans: dict = {}
        self.chains_changed = reader.chains_changed
        self.pending = None  # (line, key, values) of the last line with no plan yet
        self.chains_read: set[str] = set()  # chain names the head pattern was seen to read whole

    def lookup(self, line: str, builtin):
        """(chain, chain column, end of the head, result) of an ``-A`` line whose shape has a
        plan, else None (then ``learn`` may make one from the line's usual read)."""
        self.pending = None
        if line[:3] != "-A ":
            return None
        head = line.split(" ", 2)
        if len(head) < 3:
            return None
        chain = head[1]
        if chain not in self.chains_read:
            # The name as the grammar's CHAIN reads it, then a space: the tokenizer's head too.
            m = self.head(line)
            if m is None or m.group(1) or m.start(2) or m.group(3) != chain:
                return None
            self.chains_read.add(chain)
        parts = _split(head[2])
        if len(parts) == 1:
            return None
        values = parts[2::3]
        del parts[2::3]
        parts.append(chain if chain in builtin else "")
        key = tuple(parts)
        if self.reader.chains_changed != self.chains_changed:
            self.plans.clear()
            self.chains_changed = self.reader.chains_changed
        plan = self.plans.get(key)
        if plan:
            try:
                return chain, 4, 3 + len(chain), self._fill(plan, values)
            except ValueError:  # BadValue: the usual read reports it
                return None
        if plan is None and len(self.plans) < MAX_PLANS:
            self.pending = (line, key, values)
        return None

    def learn(self, line: str, tokens, result, clean: bool) -> None:
        """Make the plan of ``line``'s shape from its usual read (``clean``: it reported nothing)."""
        pending = self.pending
        self.pending = None
        if pending is None or pending[0] is not line:
            return
        _, key, values = pending
        if not clean:
            return  # a bad value: the shape's next line may make its plan
        plan = None
        if not tokens or tokens[0][3] < 0:  # the tokenizer's str.split path
            plan = _make_plan(_masked(tokens), [_unquoted(v) for v in values], tokens, result, self.reader.uses)
        self.plans[key] = plan or UNPLANNABLE

    def _fill(self, plan: Plan, values):
        """(matches, verdict, comment, ignore) of a line of ``plan``'s shape."""
        matches = plan.matches
        verdict = plan.verdict
        if plan.fills:
            value_match = self.reader.value_match
            matches = list(matches)
            for index, kind, info, place in plan.fills:
                value = values[index]
                made = value_match(kind, info, value[1:-1] if value[0] == '"' else value)
                if place < 0:
                    verdict = made
                else:
                    matches[place] = made
            matches = tuple(matches)
        comment = plan.comment
        comments = plan.comments
        if comments is not None and len(comments) == 1:
            comment = _unquoted(values[comments[0][0]])
        elif comments is not None:
            comment = "; ".join(text if index is None else _unquoted(values[index])
                                for index, text in plan.comments)
        return matches, verdict, comment, plan.ignore


def _unquoted(value: str) -> str:
    return value[1:-1] if value[0] == '"' else value


def _masked(tokens) -> list[int]:
    """The positions of the tokens a shape cuts out, by the rule ``_VALUE`` follows."""
    masked = []
    previous = ""
    for k, (kind, value, _, _) in enumerate(tokens):
        if (previous in MASKED_AFTER and (kind == WORD or kind == STRING) and value and value[0] not in "-!"
                and (previous not in _JUMPS or value not in LITERAL_TARGETS)):
            masked.append(k)
            previous = ""
        else:
            previous = value if kind == WORD else ""
    return masked


def _make_plan(masked: list[int], values: list[str], tokens, result, uses) -> Plan | None:
    """The plan of a shape from the interpreter's ``result`` for its first line and the
    ``uses`` it recorded ((token position, kind, info, what it made) per value read), or None
    unless the values cut out are the masked tokens and each was read once, the plain way."""
    if [tokens[k][1] for k in masked] != values:
        return None
    matches, verdict, comment, ignore = result
    index_of = {pos: k for k, pos in enumerate(masked)}
    fills = []
    covered = []
    pieces = []
    for pos, kind, info, made in uses:
        index = index_of.get(pos)
        if kind == "comment":
            pieces.append((index, made))
        elif index is None:
            continue
        elif kind == "jump":
            if verdict is not made:
                return None
            fills.append((index, kind, info, -1))
        elif kind == "nat":
            # The verdict is rebuilt from this value only when it is the target's one option.
            if len(verdict.options) != 1 or verdict.options[0] != (info[1], values[index]):
                return None
            fills.append((index, kind, info, -1))
        else:
            places = [k for k, m in enumerate(matches) if m is made]
            if len(places) != 1:
                return None
            fills.append((index, kind, info, places[0]))
        if index is not None:
            covered.append(index)
    if sorted(covered) != list(range(len(masked))):
        return None
    comments = tuple(pieces) if any(index is not None for index, _ in pieces) else None
    return Plan(matches, verdict, comment, ignore, tuple(fills), comments)
