"""A port verdict map written plainly, read from its text in one pass.

``tcp dport vmap { 1024 : accept, 1025 : drop, 2000-2100 : jump web, * : drop }`` with
100,000 elements spends most of its reading on tokens and values made for each element.
When the whole list is plain decimal ports or port ranges, each with a plain verdict
(accept, drop, return, continue, jump/goto a chain name) and an optional catch-all, one
regular expression reads it, and the map becomes what vmap_groups makes of it: one rule
per distinct verdict, the catch-all last. Anything else (a service name, a hex number,
a comment, reject, an overlap...) returns None and the map is read the general way,
which says what is wrong with it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter.frontends.nftables.atoms import Val, VerdictSpec
from linter.frontends.nftables.keywords import PORT_PROTOCOLS, VERDICTS
from linter.model import MAX_PORT, normalize_ranges, PortMatch, PortSet, VerdictKind

if TYPE_CHECKING:
    from linter.frontends.nftables.atoms import Term
    from linter.frontends.nftables.to_model import TableBuilder

_PORT = r"(?:0|[1-9][0-9]{0,4})"
_VERDICT = r"(?:accept|drop|return|continue|(?:jump|goto)[ \t]+[A-Za-z_][A-Za-z0-9_]*)"
_ELEMENT = rf"(?:{_PORT}(?:[ \t]*-[ \t]*{_PORT})?|\*)[ \t]*:[ \t]*{_VERDICT}"
_LIST = re.compile(rf"\s*{_ELEMENT}(?:\s*,\s*{_ELEMENT})*\s*,?\s*")
_PARTS = re.compile(rf"({_PORT}|\*)(?:[ \t]*-[ \t]*({_PORT}))?[ \t]*:[ \t]*({_VERDICT})")
_PLAIN = {"accept": VerdictKind.ACCEPT, "drop": VerdictKind.DROP, "return": VerdictKind.RETURN,
          "continue": VerdictKind.CONTINUE}


def is_port_selector(words: tuple) -> bool:
    """``tcp dport``, ``udp sport``, ``th dport`` ...: what this reading is for."""
    return len(words) == 2 and words[1] in ("sport", "dport") and (words[0] in PORT_PROTOCOLS or words[0] == "th")


def port_map_options(builder: TableBuilder, words: tuple, term: Term, text: str) -> list | None:
    """The options (matches, verdict spec) of a port map whose elements are ``text``, one per
    distinct verdict in order of first appearance and the catch-all last; None when the text
    is not plainly written or its keys overlap."""
    if _LIST.fullmatch(text) is None:
        return None
    groups: dict[str, list] = {}
    catchall: list = []
    for low_text, high_text, written in _PARTS.findall(text):
        verdict = " ".join(written.split())
        if low_text == "*":
            if high_text:
                return None
            catchall.append(verdict)
            continue
        low = int(low_text)
        high = int(high_text) if high_text else low
        if high > MAX_PORT or low > high:
            return None
        groups.setdefault(verdict, []).append((low, high))
    specs = {}
    for verdict in list(groups) + catchall:
        spec = _spec(verdict)
        if spec is None:
            return None
        specs[verdict] = spec
    total = sum(high - low + 1 for ranges in groups.values() for low, high in ranges)
    if total != sum(high - low + 1 for low, high in normalize_ranges([r for rs in groups.values() for r in rs])):
        return None  # keys overlap: nft refuses that, the per-element reading reports it
    template = builder.matches_for(words, "==", Val("empty", None), term)
    port = template[-1]
    if not isinstance(port, PortMatch):
        return None
    options = []
    for verdict, ranges in groups.items():
        matches = [*template[:-1], PortMatch(port.direction, PortSet(normalize_ranges(ranges)), port.negated)]
        options.append((matches, specs[verdict]))
    options.extend(([], specs[verdict]) for verdict in catchall)
    return options


def _spec(verdict: str) -> VerdictSpec | None:
    kind = _PLAIN.get(verdict)
    if kind is not None:
        return VerdictSpec(kind)
    word, target = verdict.split()
    if target in VERDICTS:
        return None  # `jump drop`: nft reads a keyword there, the general reading says so
    return VerdictSpec(VerdictKind.JUMP if word == "jump" else VerdictKind.GOTO, target)
