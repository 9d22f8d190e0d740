"""The verdict kinds of a chain's rules, gathered once per large chain.

Several passes over a ruleset act on rules of a few verdict kinds only (jumps and gotos, NAT
targets, MASQUERADE) and step over every other rule. Over a 100,000-rule allow-list each such
pass was a Python loop that skipped 100,000 rules one by one (and some looked an enum member
up per rule, ~0.1 us each). Here a large chain's kinds are gathered once, in C (a set of an
attrgetter mapped over its rules), and remembered by identity: a pass asks ``lacks`` and steps
over the whole chain when none of its rules has a kind it wants, which is exactly what its loop
would have done rule by rule.
"""

from __future__ import annotations

from operator import attrgetter

from linter.engine.memo import IdentityCache

LARGE = 256  # fewer rules: no set built nor remembered (the caller's own loop is as cheap)
_KIND = attrgetter("verdict.kind")
_KINDS: IdentityCache[frozenset] = IdentityCache(1_000)


def kinds_of(chain) -> frozenset:
    """The verdict kinds (model.VerdictKind) of ``chain``'s rules (remembered when it is large)."""
    rules = chain.rules
    if len(rules) < LARGE:
        return frozenset(map(_KIND, rules))
    found = _KINDS.get(chain)
    if found is None:
        # (a set comprehension: each attribute read by the interpreter's specialised slot load,
        # a third of what the attrgetter's generic look-ups mapped in C cost per rule)
        found = _KINDS.put(chain, frozenset({rule.verdict.kind for rule in rules}))
    return found


def lacks(chain, kinds: frozenset) -> bool:
    """Whether no rule of ``chain`` has a verdict of one of ``kinds``: True only for a large
    chain (a small one is answered False, to be walked by the caller as before)."""
    return len(chain.rules) >= LARGE and kinds.isdisjoint(kinds_of(chain))
