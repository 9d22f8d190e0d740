"""Chains that change nothing about a packet: walking them can be skipped.

A chain is *transparent* when every packet leaves it as it came in, going on (kube-proxy's
and Docker's nat POSTROUTING chains: marks, SNAT and returns): the walker passes over a jump
to it and over such a base chain instead of splitting boxes for nothing.
"""

from __future__ import annotations

from linter.engine.budget import MAX_FOLLOWED_DEPTH as MAX_DEPTH
from linter.engine.chains import chain_named, chains_by_name
from linter.engine.memo import IdentityCache
from linter.model import Chain, Rule, Table, VerdictKind


_PASSING_KINDS = frozenset({VerdictKind.RETURN, VerdictKind.SNAT, VerdictKind.MASQUERADE,
                            VerdictKind.LOG, VerdictKind.CONTINUE})
_TRANSPARENT: IdentityCache[bool] = IdentityCache()


def is_transparent(table: Table, chain: Chain) -> bool:
    """Whether every packet leaves ``chain`` as it came in, going on: no rule here or in a chain
    it jumps to can drop, reject, accept, queue or rewrite the destination, and none changes
    the conntrack state (kube-proxy's and Docker's nat POSTROUTING chains: marks, SNAT and
    returns), and every jump is unconditional. Walking such a chain cannot change what happens
    to a box, nor what exposure reports about its path (accepting rules and choosing jumps)."""
    known = _TRANSPARENT.get(chain)
    if known is not None:
        return known
    return _transparent(table, chain, set())


def jump_changes_nothing(table: Table, name: str | None, active) -> bool:
    """Whether a jump to chain ``name`` brings every packet back as it was (``active``: the
    chains being walked, where a jump would be a loop)."""
    # (chain_named's and is_transparent's look-ups in place: the walk asks this of every jump it
    # passes, ~20,000 at a random mix of 100,000 rules)
    target = chains_by_name(table).get(name or "")
    if target is None or target.name in active:
        return False
    known = _TRANSPARENT.get(target)
    return known if known is not None else _transparent(table, target, set())


def _transparent(table: Table, chain: Chain, active: set[str]) -> bool:
    """is_transparent() for a chain reached through the chains in ``active``. Every answer is
    remembered, so a chain of thousands of jumps costs one visit per chain: "no" is always a
    safe answer (the chain is walked), and "yes" never depends on where a loop was entered."""
    known = _TRANSPARENT.get(chain)
    if known is not None:
        return known
    active.add(chain.name)
    result = True
    try:
        for rule in chain.rules:
            verdict = rule.verdict
            if sets_notrack(rule):
                result = False
                break
            kind = verdict.kind
            if kind in _PASSING_KINDS or (kind is VerdictKind.OTHER and not verdict.terminal):
                continue
            if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
                if rule.matches:
                    result = False  # a jump that chooses traffic is part of how exposure explains a path
                    break
                target = chain_named(table, verdict.target)
                if target is None:
                    continue  # an undefined chain: evaluation goes on past the rule
                if target.name in active or len(active) >= MAX_DEPTH or not _transparent(table, target, active):
                    result = False  # a loop, too deep to follow, or a chain that decides something
                    break
                continue
            result = False
            break
    finally:
        active.discard(chain.name)
    _TRANSPARENT.put(chain, result)
    return result


def sets_notrack(rule: Rule) -> bool:
    """True for a rule that exempts its packets from connection tracking (a ``notrack`` statement:
    nft's, or the one the iptables front end adds for ``-j CT --notrack`` and ``-j NOTRACK``)."""
    return any(statement.name == "notrack" for statement in rule.statements)
