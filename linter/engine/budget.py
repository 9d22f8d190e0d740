"""How much work one evaluation may do before it merges paths instead of following each.

Every opaque match forks a box (it may match or not), so a ruleset can make the number
of distinct paths double at every chain: twenty chains that each jump twice to the next
under ``-m mark`` give a million paths to one port. The packets accepted are the same
whichever path they took; only the explanation (which rules, which assumptions) differs.

An evaluation counts its box-rule applications. Past ``limit`` it is *degraded*: boxes of
equal packets at the same place are merged (the one with the fewest assumptions is kept)
and a chain entered again with packets it has already seen in this walk is not walked
again. Both are exact about which packets reach which verdict (what is accepted, what is
possibly accepted); what is lost is the list of other paths and their conditions. The
first place where paths were merged is kept as a ``Cut`` for a finding, so a report never
shows less than the truth without saying that the analysis was simplified.

A jump deeper than ``MAX_FOLLOWED_DEPTH`` (past what the interpreter's stack can hold) is
not followed: its packets count as possibly accepted there and as going on, which may
claim more exposure than the truth, never less, and it is a ``Cut`` too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from linter.model import Chain, Rule, Table

# Measured (docs/security.md, "Engine budget"): the 100k-rule kube-proxy benchmark spends
# about 3 box-rule applications per rule in `exposure`; 0.6 per rule in a trace.
OPS_PER_RULE = 100
MIN_OPS = 50_000  # small rulesets: room for any sensible use of opaque matches
TRACE_OPS_PER_RULE = 10
TRACE_MIN_OPS = 10_000

# Python frames the walker and the dead-rule analysis use per jump level, and the
# deepest chain of jumps followed: iptables-legacy has no fixed limit (its jump stack is
# sized by the number of chains), nf_tables refuses more than 15 (PL408 reports that).
FRAMES_PER_LEVEL = 8
MAX_FOLLOWED_DEPTH = 2_048 if sys.version_info >= (3, 11) else 1_000  # 3.10 recurses on the C stack


@dataclass(frozen=True)
class Cut:
    """Where an evaluation stopped following paths one by one."""

    table: Table
    chain: Chain
    rule: Rule | None
    reason: str  # "paths" (merged past the budget) or "depth" (a jump too deep to follow)


def describe_cut(cut: Cut) -> str:
    """One line for people: where and how the analysis was simplified."""
    where = cut.rule.span if cut.rule is not None else cut.chain.span
    if cut.reason == "depth":
        what = "jumps nested deeper than portlint follows count as possibly accepted"
    else:
        what = "paths merged past the operation budget; the verdicts are exact, one way through is shown"
    return f"analysis simplified at {cut.table.name} {cut.chain.name} ({where.path}:{where.line}): {what}"


class Budget:
    """The operation count of one evaluation (a PathEvaluator.evaluate call)."""

    __slots__ = ("limit", "spent", "cut")

    def __init__(self, limit: int):
        self.limit = limit
        self.spent = 0
        self.cut: Cut | None = None

    @classmethod
    def for_rulesets(cls, rulesets, record: bool) -> "Budget":
        """The budget for evaluating ``rulesets``: proportional to their rules."""
        rules = sum(len(chain.rules) for ruleset in rulesets for table in ruleset.tables for chain in table.chains)
        if record:
            return cls(max(TRACE_MIN_OPS, TRACE_OPS_PER_RULE * rules))
        return cls(max(MIN_OPS, OPS_PER_RULE * rules))

    @property
    def degraded(self) -> bool:
        """Whether paths are now merged rather than followed one by one."""
        return self.spent > self.limit

    def note(self, table: Table, chain: Chain, rule: Rule | None, reason: str) -> None:
        """Remember the first place where the analysis was simplified."""
        if self.cut is None:
            self.cut = Cut(table, chain, rule, reason)


def recursion_room(levels: int) -> "_RecursionRoom":
    """Enough recursion limit for ``levels`` nested jumps (up to MAX_FOLLOWED_DEPTH), restored after
    (a context manager)."""
    return _RecursionRoom(min(levels, MAX_FOLLOWED_DEPTH) * FRAMES_PER_LEVEL + 1_000)


class _RecursionRoom:
    """recursion_room's context: a class, not a generator (the dead-rule analysis enters one
    per chain, 40,000 at kube-proxy 100k, and a generator's context cost 3 µs each)."""

    __slots__ = ("needed", "before")

    def __init__(self, needed: int):
        self.needed = needed
        self.before = None

    def __enter__(self) -> None:
        before = sys.getrecursionlimit()
        if self.needed > before:
            sys.setrecursionlimit(self.needed)
            self.before = before

    def __exit__(self, *exc) -> bool:
        if self.before is not None:
            sys.setrecursionlimit(self.before)
        return False
