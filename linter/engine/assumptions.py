"""What the user tells portlint about matches whose answer lives outside the ruleset.

An ipset filled at run time, a set nft loads from elsewhere, ``-m owner``: the engine takes them
as "may match or not", and a finding that rests on one says so. The configuration (or
``trace --assume``) can settle them:

    assume = { "set:blocklist" = "empty", "set:admins" = "all", "match:-m owner" = "no" }

``set:NAME`` is a named set (``ip saddr @NAME``, ``-m set --match-set NAME src``): ``empty``
matches nothing, ``all`` matches everything. ``match:TEXT`` is any opaque match whose text
contains TEXT: ``yes`` it matches, ``no`` it does not. Negation (``! --match-set NAME``) is
applied after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from linter.model import OpaqueMatch

SET_VALUES = {"empty": False, "all": True}
MATCH_VALUES = {"yes": True, "no": False}


class AssumptionError(ValueError):
    """An assumption that cannot be read; the message says why."""


@dataclass(frozen=True)
class Assumptions:
    """Settled opaque matches: named sets and match texts with the answer the user gave."""

    sets: tuple[tuple[str, bool], ...] = ()
    texts: tuple[tuple[str, bool], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sets or self.texts)

    def decide(self, match) -> bool | None:
        """Whether ``match`` matches, as settled (negation applied), or None when nothing settles it."""
        if not isinstance(match, OpaqueMatch):
            return None
        for name, matches in self.sets:
            if _names_set(match.text, name):
                return matches != match.negated
        for text, matches in self.texts:
            if text in match.text:
                return matches != match.negated
        return None


def _names_set(text: str, name: str) -> bool:
    return re.search(rf"(?:@|--match-set\s+){re.escape(name)}(?![\w.-])", text) is not None


def parse_assumptions(items) -> Assumptions:
    """``{"set:blocklist": "empty", ...}`` or ``["set:blocklist=empty", ...]`` as Assumptions."""
    pairs = items.items() if isinstance(items, dict) else (_split(item) for item in items)
    sets, texts = [], []
    for key, value in pairs:
        kind, _, name = str(key).partition(":")
        value = str(value).strip().lower()
        if kind == "set" and name:
            if value not in SET_VALUES:
                raise AssumptionError(f"{key}: {value!r} is not one of {', '.join(SET_VALUES)}")
            sets.append((name, SET_VALUES[value]))
        elif kind == "match" and name:
            if value not in MATCH_VALUES:
                raise AssumptionError(f"{key}: {value!r} is not one of {', '.join(MATCH_VALUES)}")
            texts.append((name, MATCH_VALUES[value]))
        else:
            raise AssumptionError(f"{key!r}: expected set:NAME or match:TEXT")
    return Assumptions(tuple(sets), tuple(texts))


def _split(item: str) -> tuple[str, str]:
    key, sep, value = str(item).rpartition("=")
    if not sep:
        raise AssumptionError(f"{item!r}: expected KEY=VALUE (set:blocklist=empty)")
    return key, value
