"""Reading option values: addresses, ports, port lists and NAT targets, with the errors they raise."""

from __future__ import annotations

import ipaddress
import re

from linter import netdb
from linter.frontends.makers import address_set as make_address_set, port_set as make_port_set
from linter.addresses import AddressError, parse_address_range
from linter.model import AddressSet, Family, IPV4_MAX, MAX_PORT, normalize_ranges, PortSet
from linter.numbers import bounded_int, shown


# --- Values -------------------------------------------------------------------------


class BadValue(ValueError):
    """A value that cannot be read; ``offset`` is where in the token the problem starts."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


class Unmodelled(BadValue):
    """A value iptables accepts but portlint does not model (PL013; the match becomes may-match)."""


class HostName(Unmodelled):
    """A host name where an address is expected: iptables resolves it when loading, portlint does not."""


_HOST_NAME = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
                        r"[A-Za-z0-9])?)*\.?(?:/[0-9.]+)?\Z")


def _number(text: str) -> int:
    """A C-style unsigned number: decimal, 0x hex or leading-zero octal (as inet_aton)."""
    if text[:2] in ("0x", "0X"):
        return bounded_int(text[2:], 16)
    if len(text) > 1 and text[0] == "0":
        return bounded_int(text[1:], 8)
    if not text.isdigit():
        raise ValueError(text)
    return bounded_int(text)


_HOST_BITS = [(1 << (32 - bits)) - 1 for bits in range(33)]
# The host bits of a prefix length of one or two digits as written ("8", "08", "32"), up to 32.
_HOST_BITS_OF = {f"{bits:0{width}d}": _HOST_BITS[bits] for bits in range(33) for width in (1, 2)
                 if len(f"{bits:0{width}d}") == width or width == 2}


# The four parts of a dotted address in digits as inet_aton reads them, which is how iptables
# reads them: one to three digits, decimal, or octal after a leading 0 ("010" is 8, "08" is no
# part); a part above 255 is none. A part's value is the same in each of the four places.
_PART = {str(n): n for n in range(256)}
_PART.update({f"0{n:o}": n for n in range(8)})  # "00" .. "07"
_PART.update({f"0{n:02o}": n for n in range(64)})  # "000" .. "077"
# Each place's table gives the part already shifted into place (one lookup and an or per part).
_FIRST = {text: n << 24 for text, n in _PART.items()}
_SECOND = {text: n << 16 for text, n in _PART.items()}
_THIRD = {text: n << 8 for text, n in _PART.items()}
# For readers that do plain_ipv4's work in place (plans.py): the four places' tables, and the
# host bits of a prefix length as written.
PLACES = (_FIRST, _SECOND, _THIRD, _PART)
HOST_BITS_OF = _HOST_BITS_OF

# The last part of a plain address as written after its third dot ("4", "0/24", "0/"): (the
# part's value, the mask keeping the network bits, the host bits), for ``address_tail``. Only
# parts plain_ipv4 reads are kept: at most ~330 forms of a part times ~45 of a prefix length.
_TAILS: dict[str, tuple[int, int, int]] = {}
TAILS = _TAILS


def address_tail(last: str) -> tuple[int, int, int] | None:
    """What plain_ipv4 reads from the text after an address's third dot (``d`` or ``d/len``), as
    (the part's value, the mask keeping the network bits, the host bits), remembered in TAILS;
    None when plain_ipv4 reads no such text."""
    d, _, bits = last.partition("/")
    part = _PART.get(d)
    if part is None:
        return None
    host = 0
    if bits:  # "d/" alone has no prefix length, as in plain_ipv4
        host = _HOST_BITS_OF.get(bits)
        if host is None:
            return None
    tail = _TAILS[last] = (part, ~host, host)
    return tail


def plain_ipv4(text: str) -> tuple[int, int] | None:
    """The range of ``a.b.c.d`` or ``a.b.c.d/len`` in plain digits (as ``_ipv4_range`` reads it),
    or None for every other text (hex parts, masks, fewer parts, errors: ``_ipv4_slow``'s).

    Four parts of one to three ASCII digits, and after a slash nothing or a prefix length of one
    or two digits up to 32: the parts are read by table (no regular expression, no inet_aton)."""
    addr, _, bits = text.partition("/")
    try:
        a, b, c, d = addr.split(".")
        value = _FIRST[a] | _SECOND[b] | _THIRD[c] | _PART[d]
    except (ValueError, KeyError):  # not four parts, or a part that is none
        return None
    if not bits:  # no prefix length, or nothing after the slash
        return value, value
    host = _HOST_BITS_OF.get(bits)
    if host is None:  # over 32, or no one- or two-digit number
        return None
    lo = value & ~host
    return lo, lo | host


def dotted_quad(text: str) -> int | None:
    """The address ``a.b.c.d`` in plain digits (``plain_ipv4``'s four parts), else None."""
    try:
        a, b, c, d = text.split(".")
        return _FIRST[a] | _SECOND[b] | _THIRD[c] | _PART[d]
    except (ValueError, KeyError):
        return None


def _ipv4_range(text: str) -> tuple[int, int]:
    """``a.b.c.d[/len|/mask]`` as iptables reads it (missing octets are 0, ``010`` is octal)."""
    return plain_ipv4(text) or _ipv4_slow(text)


def _ipv4_slow(text: str) -> tuple[int, int]:
    addr, slash, mask = text.partition("/")
    parts = addr.split(".")
    if not 1 <= len(parts) <= 4 or not addr:
        if _HOST_NAME.match(text):
            raise HostName(f"Host name {text!r}")
        raise BadValue(f"Not an IPv4 address: {text!r}")
    value = 0
    try:
        for i in range(4):
            part = _number(parts[i]) if i < len(parts) else 0
            if part > 255:
                raise ValueError(part)
            value = value << 8 | part
    except ValueError:
        if _HOST_NAME.match(text):
            raise HostName(f"Host name {text!r}") from None
        raise BadValue(f"Not an IPv4 address: {text!r}") from None
    if not slash:
        return value, value
    if mask.isdigit():
        try:
            bits = bounded_int(mask)
        except ValueError:  # a digit int() does not read ("/³")
            raise BadValue(f"Invalid prefix length /{mask}", len(addr) + 1) from None
        if bits > 32:
            raise BadValue(f"Invalid prefix length /{mask}", len(addr) + 1)
    else:
        try:
            netmask = int(ipaddress.IPv4Address(mask))
        except ValueError:
            raise BadValue(f"Invalid netmask {mask!r}", len(addr) + 1) from None
        inverted = ~netmask & IPV4_MAX
        if inverted & (inverted + 1):
            raise Unmodelled(f"Non-contiguous netmask {mask}", len(addr) + 1)
        bits = 32 - inverted.bit_length()
    host = (1 << (32 - bits)) - 1
    lo = value & ~host & IPV4_MAX
    return lo, lo | host


def _ipv6_range(text: str) -> tuple[int, int]:
    try:
        _, lo, hi = parse_address_range(text, Family.IPV6)
    except AddressError:
        if ":" not in text and _HOST_NAME.match(text) and not text.replace(".", "").replace("/", "").isdigit():
            raise HostName(f"Host name {text!r}") from None
        if "." in text and ":" not in text:
            raise BadValue(f"IPv4 address in an IPv6 ruleset: {text!r}") from None
        raise BadValue(f"Not an IPv6 address: {text!r}") from None
    return lo, hi


def address_range(text: str, family: Family) -> tuple[int, int]:
    """One address or prefix (no ranges) in ``family`` as integers."""
    if family is Family.IPV4 and ":" not in text:
        return _ipv4_range(text)
    if family is Family.IPV6:
        return _ipv6_range(text)
    if ":" in text and not text.startswith(":") and text.count(":") >= 2 or text.startswith("::"):
        raise BadValue(f"IPv6 address in an IPv4 ruleset: {text!r}")
    return _ipv4_range(text)


def address_list(text: str, family: Family, allow_ranges: bool = False) -> list[tuple[int, int]]:
    """A comma list of addresses/prefixes (and ``a-b`` ranges when allowed)."""
    out = []
    offset = 0
    for item in text.split(","):
        try:
            if not item:
                raise BadValue("Empty address in the list")
            if "-" in item:
                if not allow_ranges:
                    raise BadValue(f"Address ranges need -m iprange: {item!r}")
                first, _, last = item.partition("-")
                lo = address_range(first, family)[0]
                hi = address_range(last, family)[1]
                if lo > hi:
                    raise BadValue(f"Address range {item!r} starts above its end")
                out.append((lo, hi))
            else:
                out.append(address_range(item, family))
        except BadValue as exc:
            exc.offset += offset
            raise
        offset += len(item) + 1
    return out


def _port(text: str, proto: str, offset: int = 0) -> int:
    if text.isdigit() and text.isascii():
        value = bounded_int(text)
        if value > MAX_PORT:
            raise BadValue(f"Port {shown(text)} is above {MAX_PORT}", offset)
        return value
    value = netdb.service_port(text, proto) if text else None
    if value is None:
        raise BadValue(f"Unknown port or service name {text!r} for {proto}", offset)
    return value


def port_range(text: str, proto: str, sep: str = ":", offset: int = 0) -> tuple[int, int]:
    """``p``, ``a:b``, ``:b`` (0:b) or ``a:`` (a:65535)."""
    if sep in text:
        first, _, last = text.partition(sep)
        lo = _port(first, proto, offset) if first else 0
        hi = _port(last, proto, offset + len(first) + 1) if last else MAX_PORT
        if lo > hi:
            raise BadValue(f"Port range {text} starts above its end", offset)
        return lo, hi
    value = _port(text, proto, offset)
    return value, value


_PLAIN_PORT = re.compile(r"[0-9]{1,5}").fullmatch
# Possessive repeats (no backtracking): a run of digits is followed by "," or the end, which a
# shorter run could not be followed by, so they match what the greedy ones would.
_PLAIN_PORT_LIST = re.compile(r"[0-9]{1,5}+(?:,[0-9]{1,5}+){0,14}+").fullmatch


def plain_port(text: str) -> tuple[tuple[int, int]] | None:
    """``(port_range(text, ...),)`` for a port in plain digits, or None for every other text."""
    if _PLAIN_PORT(text) is None:
        return None
    port = int(text)
    return ((port, port),) if port <= MAX_PORT else None


def plain_port_list(text: str) -> tuple[tuple[int, int], ...] | None:
    """``multiport_list(text, ...)`` for up to 15 ports in plain digits, or None for every other text."""
    if _PLAIN_PORT_LIST(text) is None:
        return None
    ports = sorted(map(int, text.split(",")))
    if ports[-1] > MAX_PORT:
        return None
    if len(ports) == 3:  # three ports apart from each other (a common short list): its ranges at once
        a, b, c = ports
        if a + 1 < b and b + 1 < c:
            return (a, a), (b, b), (c, c)
    # normalize_ranges of the ports as one-port ranges, for ports alone: sorted, a port at most one
    # above the last one extends its range (an equal one changes nothing), any other starts one.
    merged = []
    lo = hi = ports[0]
    for port in ports:
        if port > hi + 1:
            merged.append((lo, hi))
            lo = port
        hi = port
    merged.append((lo, hi))
    return tuple(merged)


def multiport_list(text: str, proto: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    count = 0
    offset = 0
    for item in text.split(","):
        if not item:
            raise BadValue("Empty port in the list", offset)
        ranges.append(port_range(item, proto, ":", offset))
        count += 2 if ":" in item else 1
        offset += len(item) + 1
    if count > 15:
        raise BadValue("multiport takes at most 15 ports (a range counts as two)")
    return normalize_ranges(ranges)


def plain_nat_to(text: str) -> tuple[AddressSet, PortSet | None] | None:
    """``nat_to`` of ``a.b.c.d`` or ``a.b.c.d:port`` in plain digits in an IPv4 ruleset (the same
    objects), or None for every other text: the address as ``dotted_quad`` reads it, the port one
    to five ASCII digits up to 65535."""
    addr, colon, port = text.partition(":")
    value = dotted_quad(addr)
    if value is None:
        return None
    ports = None
    if colon:
        if len(port) > 5 or not port.isascii() or not port.isdigit():
            return None
        number = int(port)
        if number > MAX_PORT:
            return None
        ports = make_port_set(((number, number),))
    return make_address_set(Family.IPV4, ((value, value),), addr), ports


def nat_to(text: str, family: Family, proto: str) -> tuple[AddressSet | None, PortSet | None]:
    """``[addr[-addr]][:port[-port[/base]]]``, IPv6 as ``[addr]:port``; either part may be absent."""
    addr, ports = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise BadValue(f"Missing ']' in {text!r}")
        addr, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise BadValue(f"Expected ':port' after ']' in {text!r}", end + 1)
        ports = rest[1:]
        port_offset = end + 2
    elif family is Family.IPV6:
        port_offset = 0
    else:
        addr, _, ports = text.partition(":")
        port_offset = len(addr) + 1
    addresses = None
    if addr:
        first, _, last = addr.partition("-")
        lo = address_range(first, family)[0]
        hi = address_range(last or first, family)[1]
        if lo > hi:
            raise BadValue(f"Address range {addr!r} starts above its end")
        addresses = make_address_set(family, ((lo, hi),), addr)
    port_set = None
    if ports:
        ports = ports.split("/", 1)[0]
        port_set = make_port_set((port_range(ports, proto, "-", port_offset),))
    if addresses is None and port_set is None:
        raise BadValue(f"Empty address and port: {text!r}")
    return addresses, port_set
