"""Helpers that turn nft values into model matches (addresses, tcp flags, ct status, numbers)."""

from __future__ import annotations

import functools
import re
import socket
from dataclasses import dataclass

from lark import Token

from linter.addresses import parse_address_range
from linter.frontends.nftables.atoms import render, Sel, Val
from linter.model import (
    AddressMatch,
    AddressSet,
    CtStatusMatch,
    Direction,
    Family,
    IPV4_MAX,
    IPV6_MAX,
    ProtocolMatch,
    TCP_FLAG_BITS,
    TcpFlagsMatch,
)
from linter.numbers import bounded_int


@dataclass(frozen=True)
class Implied:
    """Marker: an ip/ip6 match that only applies to that family (replaced in with_families)."""

    family: Family


def full_family(family: Family, negated: bool = False) -> AddressMatch:
    top = IPV6_MAX if family is Family.IPV6 else IPV4_MAX
    text = "ipv6" if family is Family.IPV6 else "ipv4"
    return AddressMatch(Direction.SOURCE, AddressSet(family, ((0, top),), text), negated)


def extend(matches: list, new: list) -> list:
    for match in new:
        if isinstance(match, (ProtocolMatch, Implied)) and match in matches:
            continue
        if isinstance(match, ProtocolMatch) and not match.negated and any(
                isinstance(m, ProtocolMatch) and not m.negated and m.protocols == match.protocols for m in matches):
            continue
        matches.append(match)
    return matches


PATH_DECIDED = {("tcp", "flags"), ("ct", "status"), ("ip", "frag-off")} | {
    ("ct", "original", *family, key) for family in ((), ("ip",), ("ip6",)) for key in ("saddr", "daddr")} | {
    ("ct", "original", "proto-src"), ("ct", "original", "proto-dst")}
CT_STATUS_BITS = {"expected": 0x1, "seen-reply": 0x2, "assured": 0x4, "confirmed": 0x8, "snat": 0x10,
                  "dnat": 0x20, "dying": 0x200}


def number_value(value: Val | None, names: dict) -> int | None:
    """The number a flag value stands for: names of ``names``, numbers, ``a|b``, ``a,b``, ``(a)``."""
    if value is None:
        return None
    kind = value.kind
    if kind == "tok":
        atom = value.a
        if atom.type == "NUM":
            return number_or_none(atom.value)
        return names.get(atom.value) if atom.type == "WORD" else None
    if kind == "paren":
        return number_value(value.a, names)
    if kind == "list" or kind == "binop" and value.b[0] == "|":
        items = value.a if kind == "list" else [value.a, value.b[1]]
        total = 0
        for item in items:
            bits = number_value(item, names)
            if bits is None:
                return None
            total |= bits
        return total
    return None


def tcp_flags_match(op: str, value: Val, ops: list, explicit: bool, text: str) -> list | None:
    """nft ``tcp flags`` in the forms nft gives a meaning to (nft 1.0: ``tcp flags syn`` is
    "syn set", ``== syn`` and ``!= syn`` compare the whole byte, ``! syn`` is "syn unset",
    ``syn / syn,ack`` and ``& (syn|ack) == syn`` compare under a mask)."""
    slashes = [i for i, item in enumerate(value.a) if item.kind == "prefix"] if value.kind == "list" else []
    if len(slashes) == 1:
        # `syn,ack / syn,ack,fin`: commas bind looser than "/" in the reader; the flags before
        # the "/" are the value, those after it the mask.
        at = slashes[0]
        items = value.a
        bits = Val("list", [*items[:at], items[at].a])
        mask = Val("list", [items[at].b, *items[at + 1:]])
        value = Val("prefix", bits, mask, first=value.first, last=value.last)
    if value.kind == "prefix" and not ops and op in ("==", "!="):
        bits, mask = number_value(value.a, TCP_FLAG_BITS), number_value(value.b, TCP_FLAG_BITS)
        if bits is None or mask is None:
            return None
        return [TcpFlagsMatch(mask, bits, negated=op == "!=", text=text)]
    bits = number_value(value, TCP_FLAG_BITS)
    if bits is None or bits > 0xFF:
        return None
    if ops:
        mask = number_value(ops[0][1], TCP_FLAG_BITS)
        if mask is None or op not in ("==", "!="):
            return None
        return [TcpFlagsMatch(mask, bits, negated=op == "!=", text=text)]
    if op == "!":
        return [TcpFlagsMatch(bits, 0, text=text)]
    if op in ("==", "!=") and (explicit or op == "!="):
        return [TcpFlagsMatch(0xFF, bits, negated=op == "!=", text=text)]
    if op == "==" and value.kind != "group":
        return [TcpFlagsMatch(bits, 0, any_of=True, text=text)]
    return None


def ct_status_match(op: str, value: Val, ops: list, explicit: bool, text: str) -> list | None:
    """nft ``ct status``: ``dnat`` / ``dnat,snat`` (any set), ``! dnat`` (none set),
    ``& dnat == dnat``, ``& dnat != 0``... The whole word compared (``== dnat``) stays opaque:
    it holds bits portlint does not know."""
    names_of = {bit: name for name, bit in CT_STATUS_BITS.items()}

    def statuses(bits: int) -> frozenset[str] | None:
        found = frozenset(name for bit, name in names_of.items() if bits & bit)
        return found if sum(CT_STATUS_BITS[n] for n in found) == bits else None

    if ops:
        mask = number_value(ops[0][1], CT_STATUS_BITS)
        bits = number_value(value, CT_STATUS_BITS)
        if mask is None or bits is None or op not in ("==", "!=") or statuses(mask) is None:
            return None
        names = statuses(mask)
        if bits == 0:
            return [CtStatusMatch(names, negated=op == "==", text=text)]
        if bits == mask:
            return [CtStatusMatch(names, all_of=len(names) > 1, negated=op == "!=", text=text)]
        return None
    if value.kind == "group" or explicit or op not in ("==", "!"):
        return None
    bits = number_value(value, CT_STATUS_BITS)
    names = statuses(bits) if bits is not None else None
    if names is None or not names:
        return None
    return [CtStatusMatch(names, negated=op == "!", text=text)]


def module_of(sel: Sel | None) -> str:
    if sel is None:
        return "map"
    return " . ".join(" ".join(w for w in part if w) for part in sel.parts)


def value_text(value: Val) -> str:
    if value.first is None:
        return ""
    atoms = []
    _collect(value, atoms)
    return render(atoms)


def _collect(value: Val, out: list) -> None:
    kind = value.kind
    if kind in ("tok", "group", "ref"):
        out.append(value.a)
    elif kind in ("list", "concat"):
        for index, item in enumerate(value.a):
            if index:
                out.append(Token("OP", "," if kind == "list" else "."))
            _collect(item, out)
    elif kind in ("range", "prefix", "colon"):
        _collect(value.a, out)
        out.append(Token("OP", {"range": "-", "prefix": "/", "colon": ":"}[kind]))
        _collect(value.b, out)
    elif kind == "binop":
        _collect(value.a, out)
        op, right = value.b
        out.append(Token("OP", op))
        _collect(right, out)
    elif kind == "paren" and value.a is not None:
        _collect(value.a, out)
    elif kind == "neg" and value.a is not None:
        out.append(Token("OP", value.b))
        _collect(value.a, out)


def address(text: str, family: Family | None) -> tuple[int, int]:
    """parse_address_range's (low, high): a plain IPv4 address or prefix read directly (a
    100,000-element set is mostly those), anything else through the cached general reader."""
    if family is not Family.IPV6:
        span = _ipv4_span(text)
        if span is not None:
            return span
    return _address(text, family)


@functools.lru_cache(maxsize=8192)
def _address(text: str, family: Family | None) -> tuple[int, int]:
    return parse_address_range(text, family)[1:]


# What _ipv4_span reads: four decimal octets up to 255 without leading zeros, and a length of
# one or two ASCII digits up to 32 (leading zero allowed, as int() reads it).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_SPAN = re.compile(rf"({_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET})(?:/([0-9]|[0-2][0-9]|3[0-2]))?").fullmatch
_HOSTS = tuple((1 << (32 - length)) - 1 for length in range(33))


def _ipv4_span(text: str, _match=_IPV4_SPAN, _aton=socket.inet_aton, _number=int.from_bytes) -> tuple[int, int] | None:
    """``a.b.c.d`` or ``a.b.c.d/len`` as (low, high), or None for any other form, including
    the ones parse_address_range rejects (leading zeros, octets over 255), so that it says why.
    (inet_aton reads the four octets the pattern took: 0.2 us against 1 us by hand.)"""
    found = _match(text)
    if found is None:
        return None
    address, length = found.groups()
    value = _number(_aton(address), "big")
    if length is None:
        return value, value
    host = _HOSTS[int(length)]
    low = value & ~host
    return low, low | host


def has_var(value: Val) -> bool:
    """Whether a value holds a ``$variable`` left in place (undefined: PL031 said so)."""
    atoms: list = []
    _collect(value, atoms)
    return any(getattr(atom, "type", "") == "VAR" for atom in atoms)


def number_or_none(text: str) -> int | None:
    try:
        return bounded_int(text, 0) if text[:2].lower() == "0x" else bounded_int(text, 10)
    except ValueError:
        return None
