"""What a published port's host IP means: all interfaces, loopback, a private or a public
address, or invalid (Compose refuses it). Resolved once while reading the compose file, so
checks read ``Publication.host`` and never parse the text."""

from __future__ import annotations

import ipaddress
import re

from linter.addresses import LOOPBACK_V4, LOOPBACK_V6, NON_INTERNET_V4, NON_INTERNET_V6, PRIVATE_V4, PRIVATE_V6
from linter.model import Family, HostAddress

HOST_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$")
UNSPECIFIED = {"0.0.0.0", "::", "::ffff:0.0.0.0"}


def in_ranges(ranges, value: int) -> bool:
    return any(lo <= value <= hi for lo, hi in ranges)


def host_address(host_ip: str | None) -> HostAddress:
    """Classify a host IP as written in a compose file (brackets already removed).
    None (no host IP) is every interface; an empty or blank one is invalid, as Compose refuses it."""
    if host_ip is None:
        return HostAddress(host_ip, "all", None)
    if not host_ip.strip():
        return HostAddress(host_ip, "invalid", None, reason="empty")
    text = host_ip[1:-1] if host_ip.startswith("[") and host_ip.endswith("]") else host_ip
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        reason = "a host name" if HOST_NAME.match(text) else "malformed"
        return HostAddress(host_ip, "invalid", None, reason=reason)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
        if int(address) == 0:
            return HostAddress(host_ip, "all", Family.IPV4, 0)
    family = Family.IPV6 if address.version == 6 else Family.IPV4
    value = int(address)
    if str(address) in UNSPECIFIED or value == 0:
        return HostAddress(host_ip, "all", family, 0)
    loop, private, non = (LOOPBACK_V6, PRIVATE_V6, NON_INTERNET_V6) if family is Family.IPV6 else \
        (LOOPBACK_V4, PRIVATE_V4, NON_INTERNET_V4)
    if in_ranges(loop, value):
        scope = "loopback"
    elif in_ranges(private, value) or in_ranges(non, value):
        scope = "private"
    else:
        scope = "public"
    return HostAddress(host_ip, scope, family, value)
