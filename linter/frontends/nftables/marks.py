"""nft packet and connection marks in the model iptables' marks use.

``meta mark 0x1`` / ``mark and 0xff == 0x1`` / ``ct mark != 0`` become ``MarkMatch`` (as
``-m mark`` / ``-m connmark``); ``meta mark set 0x1``, ``mark set mark or 0x4000``,
``ct mark set meta mark``... become statements whose ``action`` is the MARK or CONNMARK target
iptables would use, so the engine decides them the same way. Both read the term as written:
a form not listed here (a set of marks, a variable, a map) returns None and stays opaque, or
for a statement makes the mark unknown, which is never wrong.
"""

from __future__ import annotations

import re

from linter.model import MarkMatch, Statement, Verdict, VerdictKind
from linter.numbers import bounded_int

MASK32 = 0xFFFFFFFF
MARK_MODULES = frozenset({"meta mark", "ct mark"})

_NUMBER = r"(0x[0-9a-fA-F]+|[0-9]+)"
_SELECTOR = r"(?P<sel>ct\s+mark|meta\s+mark|mark)"
_MATCH = re.compile(
    rf"{_SELECTOR}(?:\s*(?:&|and)\s*(?P<mask>{_NUMBER}))?\s*(?P<op>==|!=|eq|ne)?\s*(?P<value>{_NUMBER})")
_SET = re.compile(rf"{_SELECTOR}\s+set\s+(?P<rest>.+)")
_SOURCE_BINOP = re.compile(rf"{_SELECTOR}(?:\s*(?P<op>\||or|&|and|\^|xor)\s*(?P<value>{_NUMBER}))?")


def _number(text: str) -> int | None:
    try:
        number = bounded_int(text, 16 if text[:2].lower() == "0x" else 10)
    except ValueError:
        return None
    return number if 0 <= number <= MASK32 else None


def _is_conn(selector: str) -> bool:
    return selector.startswith("ct")


def mark_match(text: str) -> MarkMatch | None:
    """The MarkMatch of a mark comparison as written (``meta mark 0x1``, ``mark & 0xff != 0x1``,
    ``ct mark 5``), or None for any other form."""
    found = _MATCH.fullmatch(text.strip())
    if found is None:
        return None
    value = _number(found["value"])
    mask = _number(found["mask"]) if found["mask"] else MASK32
    if value is None or mask is None or value & ~mask:
        return None  # bits outside the mask: a match that never matches, left to nft to refuse
    negated = found["op"] in ("!=", "ne")
    return MarkMatch(value & mask, mask, negated, _is_conn(found["sel"]), text.strip())


def statement(module: str, text: str) -> Statement:
    """A rule's statement; a mark assignment carries the MARK/CONNMARK action it is."""
    if module not in MARK_MODULES:
        return Statement(module, text)
    return Statement(module, text, _mark_action(text))


def _mark_action(text: str) -> Verdict | None:
    found = _SET.fullmatch(text.strip())
    if found is None:
        return None
    to_conn = _is_conn(found["sel"])
    options = _set_options(to_conn, found["rest"].strip())
    # Copying the connection's mark to the packet is CONNMARK --restore-mark, as in iptables.
    target = "CONNMARK" if to_conn or options[:1] == (("--restore-mark", ""),) else "MARK"
    return Verdict(VerdictKind.OTHER, target, options=options)


def _set_options(to_conn: bool, rest: str) -> tuple[tuple[str, str], ...]:
    """The iptables MARK/CONNMARK options with the effect of ``<mark> set <rest>``; () when
    the engine cannot follow it (the mark becomes unknown)."""
    constant = _number(rest) if re.fullmatch(_NUMBER, rest) else None
    if constant is not None:
        return (("--set-xmark", f"{constant:#x}/0xffffffff"),)
    source = _SOURCE_BINOP.fullmatch(rest)
    if source is None:
        return ()
    from_conn = _is_conn(source["sel"])
    op, value = source["op"], _number(source["value"]) if source["value"] else None
    if from_conn != to_conn:
        # ct mark set meta mark: CONNMARK --save-mark; meta mark set ct mark: --restore-mark.
        return ((("--save-mark" if to_conn else "--restore-mark"), ""),) if op is None else ()
    if op is None or value is None:
        return ()  # `mark set mark`: unchanged, but rare enough to leave unknown
    if op in ("|", "or"):
        return ((("--set-mark", f"{value:#x}/{value:#x}")) if to_conn else ("--or-mark", f"{value:#x}"),)
    if to_conn:
        return ()
    return ((("--and-mark" if op in ("&", "and") else "--xor-mark"), f"{value:#x}"),)
