"""Parsing addresses into AddressSets (integer ranges) and the well-known address classes."""

from __future__ import annotations

import ipaddress

from linter.model import IPV4_MAX, IPV6_MAX, AddressSet, Family, normalize_ranges


class AddressError(ValueError):
    """An address, prefix or range that cannot be read; the message says why."""


def family_max(family: Family) -> int:
    return IPV6_MAX if family is Family.IPV6 else IPV4_MAX


def parse_address_range(text: str, family: Family | None = None) -> tuple[Family, int, int]:
    """One address, prefix (``/len`` or dotted mask) or ``a-b`` range as (family, lo, hi).

    Host bits in a prefix are ignored, as iptables and nft do (``10.1.2.3/8`` is 10.0.0.0/8).
    """
    text = text.strip()
    if "-" in text and "/" not in text:
        first, _, last = text.partition("-")
        fam_a, lo, _ = parse_address_range(first, family)
        fam_b, _, hi = parse_address_range(last, family)
        if fam_a is not fam_b:
            raise AddressError(f"range mixes IPv4 and IPv6: {text!r}")
        if lo > hi:
            raise AddressError(f"range start is above its end: {text!r}")
        return fam_a, lo, hi
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AddressError(f"not an IP address or prefix: {text!r}") from None
    fam = Family.IPV6 if network.version == 6 else Family.IPV4
    if family in (Family.IPV4, Family.IPV6) and fam is not family:
        raise AddressError(f"{'IPv6' if fam is Family.IPV6 else 'IPv4'} address in an {family.value} ruleset: {text!r}")
    return fam, int(network.network_address), int(network.broadcast_address)


def parse_address_set(items: list[str] | str, family: Family | None = None) -> AddressSet:
    """Several comma-separated or listed addresses of one family as an AddressSet."""
    if isinstance(items, str):
        text = items
        items = [part for part in items.split(",") if part.strip()]
    else:
        text = ",".join(items)
    if not items:
        raise AddressError("empty address list")
    families = set()
    ranges = []
    for item in items:
        fam, lo, hi = parse_address_range(item, family)
        families.add(fam)
        ranges.append((lo, hi))
    if len(families) > 1:
        raise AddressError(f"list mixes IPv4 and IPv6: {text!r}")
    return AddressSet(families.pop(), normalize_ranges(ranges), text)


def _ranges(family: Family, prefixes: list[str]) -> tuple[tuple[int, int], ...]:
    return normalize_ranges(parse_address_range(p, family)[1:] for p in prefixes)


# Sources that count as "private" (internal) rather than the internet.
PRIVATE_V4 = _ranges(Family.IPV4, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"])
PRIVATE_V6 = _ranges(Family.IPV6, ["fc00::/7", "fe80::/10"])
LOOPBACK_V4 = _ranges(Family.IPV4, ["127.0.0.0/8"])
LOOPBACK_V6 = _ranges(Family.IPV6, ["::1/128"])
# Never a real internet source: unspecified, "this network", multicast, reserved. The
# documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) stay
# public on purpose: examples and tests use them to stand for internet addresses.
NON_INTERNET_V4 = _ranges(Family.IPV4, ["0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"])
NON_INTERNET_V6 = _ranges(Family.IPV6, ["::/128", "ff00::/8"])


def format_range(family: Family, lo: int, hi: int) -> str:
    """The shortest readable form of an address range: an address, a prefix or ``a-b``."""
    cls = ipaddress.IPv6Address if family is Family.IPV6 else ipaddress.IPv4Address
    if lo == hi:
        if cls is ipaddress.IPv4Address and 0 <= lo <= 0xFFFFFFFF:
            # The common case (a DNAT target, a host), without building an address object.
            return f"{lo >> 24}.{(lo >> 16) & 255}.{(lo >> 8) & 255}.{lo & 255}"
        return str(cls(lo))
    size = hi - lo + 1
    if 0 <= lo and size > 0 and size & (size - 1) == 0 and lo & (size - 1) == 0 and \
            hi <= (IPV6_MAX if cls is ipaddress.IPv6Address else IPV4_MAX):
        # One prefix (a /24 of an allowlist): the network's text without summarising.
        bits = (128 if cls is ipaddress.IPv6Address else 32) - (size.bit_length() - 1)
        return f"{format_range(family, lo, lo)}/{bits}"
    # Anything else is not one prefix (an aligned power-of-two block is exactly one), so it
    # reads lo-hi; an address out of the family's range raises as cls() always did.
    if cls is ipaddress.IPv4Address and 0 <= lo <= IPV4_MAX and 0 <= hi <= IPV4_MAX:
        return f"{format_range(family, lo, lo)}-{format_range(family, hi, hi)}"
    return f"{cls(lo)}-{cls(hi)}"


def endpoint(address: str, port) -> str:
    """``address:port`` as people and tools write it: an IPv6 address in brackets
    (``[2001:db8::1]:22``), so its colons do not run into the port; no port, the address alone."""
    if port is None:
        return address
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
