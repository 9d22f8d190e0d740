"""A port or IPv4 address verdict map written plainly, read from its text in one pass.

``tcp dport vmap { 1024 : accept, 1025 : drop, 2000-2100 : jump web, * : drop }`` with
100,000 elements spends most of its reading on tokens and values made for each element.
When the whole list is plain decimal ports or port ranges (or IPv4 addresses, prefixes and
ranges for ``ip saddr``/``ip daddr``), each with a plain verdict
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
from linter.addresses import AddressError
from linter.frontends.nftables.matches import address
from linter.model import AddressMatch, AddressSet, Family, MAX_PORT, normalize_ranges, PortMatch, PortSet, VerdictKind

if TYPE_CHECKING:
    from linter.frontends.nftables.atoms import Term
    from linter.frontends.nftables.to_model import TableBuilder

_PORT = r"(?:0|[1-9][0-9]{0,4})"
_IPV4 = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
_VERDICT = r"(?:accept|drop|return|continue|(?:jump|goto)[ \t]+[A-Za-z_][A-Za-z0-9_]*)"
_PORT_KEY = rf"({_PORT}|\*)(?:[ \t]*-[ \t]*({_PORT}))?"
_IPV4_KEY = rf"({_IPV4}(?:/[0-9]{{1,2}})?|\*)(?:[ \t]*-[ \t]*({_IPV4}))?"
_PLAIN = {"accept": VerdictKind.ACCEPT, "drop": VerdictKind.DROP, "return": VerdictKind.RETURN,
          "continue": VerdictKind.CONTINUE}


def _readers(key: str) -> tuple:
    element = rf"{key}[ \t]*:[ \t]*({_VERDICT})"
    plain = element.replace("(", "(?:").replace("(?:?:", "(?:")
    return re.compile(rf"\s*{plain}(?:\s*,\s*{plain})*\s*,?\s*").fullmatch, re.compile(element).findall


_PORTS = _readers(_PORT_KEY)
_ADDRESSES = _readers(_IPV4_KEY)


def is_port_selector(words: tuple) -> bool:
    """``tcp dport``, ``udp sport``, ``th dport`` ...: what this reading is for."""
    return len(words) == 2 and words[1] in ("sport", "dport") and (words[0] in PORT_PROTOCOLS or words[0] == "th")


def map_options(builder: TableBuilder, words: tuple, term: Term, text: str) -> list | None:
    """The options (matches, verdict spec) of a port or IPv4 address map whose elements are
    ``text``, one per distinct verdict in order of first appearance and the catch-all last;
    None when the text is not plainly written or its keys overlap."""
    if is_port_selector(words):
        whole, parts = _PORTS
    elif words in (("ip", "saddr"), ("ip", "daddr")):
        whole, parts = _ADDRESSES
    else:
        return None
    if whole(text) is None:
        return None
    ports = parts is _PORTS[1]
    groups: dict[str, list] = {}
    texts: dict[str, list] = {}
    catchall: list = []
    for low_text, high_text, written in parts(text):
        verdict = " ".join(written.split())
        if low_text == "*":
            if high_text:
                return None
            catchall.append(verdict)
            continue
        if ports:
            low = int(low_text)
            high = int(high_text) if high_text else low
            if high > MAX_PORT or low > high:
                return None
        elif high_text and "/" in low_text:
            return None
        else:
            try:
                low = address(low_text, Family.IPV4)[0]
                high = address(high_text, Family.IPV4)[1] if high_text else address(low_text, Family.IPV4)[1]
            except AddressError:
                return None  # the general reading says what is wrong
            if low > high:
                return None
            texts.setdefault(verdict, []).append(f"{low_text}-{high_text}" if high_text else low_text)
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
    last = template[-1]
    options = []
    for verdict, ranges in groups.items():
        if ports and isinstance(last, PortMatch):
            match = PortMatch(last.direction, PortSet(normalize_ranges(ranges)), last.negated)
        elif not ports and isinstance(last, AddressMatch):
            addresses = AddressSet(Family.IPV4, normalize_ranges(ranges), " , ".join(texts[verdict]))
            match = AddressMatch(last.direction, addresses, last.negated)
        else:
            return None
        options.append(([*template[:-1], match], specs[verdict]))
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
