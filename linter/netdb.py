"""Protocol and service names: a built-in table, extended by /etc/protocols and /etc/services.

The built-in tables make results the same on machines without netbase; the system
files add what they know.
"""

from __future__ import annotations

import functools
from pathlib import Path

from linter.numbers import bounded_int

BUILTIN_PROTOCOLS: dict[str, int] = {
    "icmp": 1, "igmp": 2, "ipip": 4, "ipencap": 4, "tcp": 6, "egp": 8, "udp": 17, "ipv6": 41,
    "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51,
    "ipv6-icmp": 58, "icmpv6": 58, "icmp6": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ospf": 89,
    "vrrp": 112, "l2tp": 115, "sctp": 132, "dccp": 33, "udplite": 136, "mh": 135, "ipv6-mh": 135,
    "pim": 103, "comp": 108, "ipcomp": 108, "mpls-in-ip": 137,
}
PROTOCOL_NAMES: dict[int, str] = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp", 1: "icmp", 58: "icmpv6",
                                  136: "udplite", 47: "gre", 50: "esp", 51: "ah"}
PORT_PROTOCOLS = frozenset({6, 17, 132, 33, 136})
# The transports services are registered and published under (rules/registry, compose `ports:`).
TRANSPORT_NAMES: dict[int, str] = {6: "tcp", 17: "udp", 132: "sctp"}
TRANSPORT_NUMBERS: dict[str, int] = {name: number for number, name in TRANSPORT_NAMES.items()}

BUILTIN_SERVICES: dict[tuple[str, str], int] = {}
for _name, _port, _protos in [
    ("ftp-data", 20, "tcp"), ("ftp", 21, "tcp"), ("ssh", 22, "tcp"), ("telnet", 23, "tcp"),
    ("smtp", 25, "tcp"), ("domain", 53, "tcp udp"), ("dns", 53, "tcp udp"), ("tftp", 69, "udp"),
    ("http", 80, "tcp udp"), ("www", 80, "tcp"), ("kerberos", 88, "tcp udp"), ("pop3", 110, "tcp"),
    ("sunrpc", 111, "tcp udp"), ("ident", 113, "tcp"), ("auth", 113, "tcp"), ("nntp", 119, "tcp"),
    ("ntp", 123, "tcp udp"), ("netbios-ns", 137, "tcp udp"), ("netbios-dgm", 138, "tcp udp"),
    ("netbios-ssn", 139, "tcp udp"), ("imap", 143, "tcp"), ("imap2", 143, "tcp"), ("snmp", 161, "tcp udp"),
    ("snmp-trap", 162, "tcp udp"), ("bgp", 179, "tcp"), ("ldap", 389, "tcp udp"), ("https", 443, "tcp udp"),
    ("microsoft-ds", 445, "tcp"), ("isakmp", 500, "udp"), ("exec", 512, "tcp"), ("login", 513, "tcp"),
    ("shell", 514, "tcp"), ("syslog", 514, "udp"), ("printer", 515, "tcp"), ("submission", 587, "tcp"),
    ("ipp", 631, "tcp"), ("ldaps", 636, "tcp udp"), ("rsync", 873, "tcp"), ("ftps", 990, "tcp"),
    ("imaps", 993, "tcp"), ("pop3s", 995, "tcp"), ("openvpn", 1194, "tcp udp"), ("ms-sql-s", 1433, "tcp"),
    ("pptp", 1723, "tcp"), ("nfs", 2049, "tcp udp"), ("mysql", 3306, "tcp"), ("ms-wbt-server", 3389, "tcp"),
    ("sip", 5060, "tcp udp"), ("postgresql", 5432, "tcp"), ("x11", 6000, "tcp"), ("redis", 6379, "tcp"),
    ("http-alt", 8080, "tcp"), ("smtps", 465, "tcp"), ("submissions", 465, "tcp"), ("echo", 7, "tcp udp"),
    ("discard", 9, "tcp udp"), ("daytime", 13, "tcp udp"), ("chargen", 19, "tcp udp"), ("finger", 79, "tcp"),
    ("bootps", 67, "udp"), ("bootpc", 68, "udp"), ("mdns", 5353, "udp"), ("svn", 3690, "tcp"),
    ("git", 9418, "tcp"), ("mongodb", 27017, "tcp"), ("memcache", 11211, "tcp udp"),
]:
    for _proto in _protos.split():
        BUILTIN_SERVICES[(_name, _proto)] = _port


def _read_table(path: str) -> list[list[str]]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].split()
        if len(line) >= 2:
            rows.append(line)
    return rows


@functools.lru_cache(maxsize=1)
def _protocols() -> dict[str, int]:
    table = dict(BUILTIN_PROTOCOLS)
    for row in _read_table("/etc/protocols"):
        if row[1].isdigit():
            for name in [row[0], *row[2:]]:
                table.setdefault(name.lower(), int(row[1]))
    return table


@functools.lru_cache(maxsize=1)
def _services() -> tuple[dict[tuple[str, str], int], dict[tuple[int, str], str]]:
    by_name = dict(BUILTIN_SERVICES)
    by_port: dict[tuple[int, str], str] = {}
    for row in _read_table("/etc/services"):
        port, _, proto = row[1].partition("/")
        if port.isdigit() and proto:
            for name in [row[0], *row[2:]]:
                by_name.setdefault((name.lower(), proto), int(port))
            by_port.setdefault((int(port), proto), row[0])
    for (name, proto), port in BUILTIN_SERVICES.items():
        by_port.setdefault((port, proto), name)
    return by_name, by_port


def protocol_number(name: str) -> int | None:
    """The IP protocol number for a name or a decimal number string; None when unknown."""
    name = name.strip().lower()
    if name.isdigit():
        value = bounded_int(name)
        return value if 0 <= value <= 255 else None
    return _protocols().get(name)


def protocol_name(number: int) -> str:
    """A readable name for a protocol number ("tcp", "udp"...), or the number itself."""
    if number in PROTOCOL_NAMES:
        return PROTOCOL_NAMES[number]
    for name, value in _protocols().items():
        if value == number:
            return name
    return str(number)


def service_port(name: str, proto: str = "tcp") -> int | None:
    """The port of a service name for ``proto`` ("tcp"/"udp"/"sctp"), or None."""
    by_name = _services()[0]
    key = name.strip().lower()
    port = by_name.get((key, proto))
    if port is None and proto not in ("tcp", "udp"):
        port = by_name.get((key, "tcp"))
    if port is None:
        port = by_name.get((key, "tcp")) or by_name.get((key, "udp"))
    return port


def service_name(port: int, proto: str = "tcp") -> str | None:
    """The system's name for a port, or None."""
    return _services()[1].get((port, proto))
