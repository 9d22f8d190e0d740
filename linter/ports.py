"""The port registry: what portlint knows of a port (rules/registry/ports.yaml).

Each entry names a service, its ports and transports, its category, whether it is
plaintext (and its encrypted alternative) and the risk of exposing it to the
internet. Ports the registry does not list still get a name from the system's
services database when it has one.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from itertools import accumulate, islice
from dataclasses import dataclass

from linter.grammars import data_dir, read_yaml
from linter.findings import Severity
from linter.netdb import service_name, service_port
from linter.numbers import bounded_int

RISKS = ("none", "low", "medium", "high", "critical")
# Categories whose exposure is the problem even more than their cleartext: reported by PL201.
RISKY_CATEGORIES = frozenset({"file-sharing", "database", "cache", "container-api", "orchestration",
                              "remote-desktop", "backdoor", "industrial"})
# What matters most on a host when a wide range lets many services in, by category (lower first):
# data and control of the host before the historical ports of long-dead trojans.
CATEGORY_WEIGHT = {
    "database": 0, "cache": 0, "container-api": 0, "orchestration": 0,
    "remote-admin": 1, "remote-desktop": 1,
    "file-sharing": 2, "industrial": 2,
    "directory": 3, "mail": 3, "messaging": 3, "monitoring": 3, "development": 3, "printing": 3,
    "network-management": 4, "discovery": 4, "proxy": 4, "voip": 4, "web": 4, "dns": 4, "time": 4,
    "media": 5, "vpn": 5, "game": 5, "other": 5,
    "backdoor": 6,
}


class RegistryError(ValueError):
    """A registry entry that breaks the schema."""


@dataclass(frozen=True)
class PortEntry:
    name: str
    ranges: tuple[tuple[int, int], ...]
    transports: tuple[str, ...]
    description: str
    category: str
    plaintext: bool
    alternative: str | None
    risk: str
    why: str
    references: tuple[str, ...] = ()
    finding: str | None = None  # "plaintext" or "risky"; None derives it from plaintext and category
    title: str | None = None  # how people write the name ("PostgreSQL"); None: the name
    aliases: tuple[str, ...] = ()  # other names people write in comments ("postgres", "pgsql")
    images: tuple[str, ...] = ()  # container images that run it ("postgres", "bitnami/postgresql")
    evidence_only: bool = False  # named only by a comment or an image, never by the port number alone

    @property
    def display_name(self) -> str:
        """The name for people: the title, else the registry name."""
        return self.title or self.name

    @property
    def rank_key(self) -> tuple:
        """Sort key putting what matters most on a host first: databases, caches and container or
        cluster APIs, then remote administration, file sharing, ... and trojans' historical ports
        last; within a category the riskier first, then by port."""
        return (CATEGORY_WEIGHT.get(self.category, 5), -RISKS.index(self.risk), self.ranges[0][0], self.name)

    def covers(self, port: int, transport: str) -> bool:
        """Whether this entry's ports include ``port`` on ``transport``."""
        return transport in self.transports and any(lo <= port <= hi for lo, hi in self.ranges)

    @property
    def check_kind(self) -> str:
        """Which check reports this service: "plaintext" (PL101) or "risky" (PL201)."""
        if self.finding:
            return self.finding
        return "plaintext" if self.plaintext and self.category not in RISKY_CATEGORIES else "risky"

    @property
    def severity(self) -> Severity | None:
        """The severity of exposing this service to the internet, None for risk 'none'."""
        found = _RISK_SEVERITIES.get(self.risk, _UNREAD)  # asked per exposure: no parse each time
        if found is _UNREAD:
            found = None if self.risk == "none" else Severity.parse(self.risk)
        return found

    def ports_text(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


_RISK_SEVERITIES: dict[str, Severity | None] = {"none": None, **{str(s): s for s in Severity}}
_UNREAD = object()


def parse_port_list(text: str) -> tuple[tuple[int, int], ...]:
    """ "23", "6000-6063" or "137-139,445" as ranges."""
    ranges = []
    for part in str(text).split(","):
        part = part.strip()
        lo, _, hi = part.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise RegistryError(f"bad port list {text!r}")
        lo_i, hi_i = int(lo), int(hi or lo)
        if not 0 < lo_i <= hi_i <= 65535:
            raise RegistryError(f"port out of range in {text!r}")
        ranges.append((lo_i, hi_i))
    return tuple(sorted(ranges))


def _names(data: dict, key: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(f"{data.get('name')}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def entry_from_dict(data: dict) -> PortEntry:
    """A registry entry from its YAML (or configuration) form."""
    try:
        title = data.get("title")
        if title is not None and (not isinstance(title, str) or not title.strip()):
            raise RegistryError(f"{data.get('name')}: title must be a non-empty string")
        evidence_only = data.get("evidence_only", False)
        if not isinstance(evidence_only, bool):
            raise RegistryError(f"{data.get('name')}: evidence_only must be true or false")
        aliases = tuple(a.lower() for a in _names(data, "aliases"))
        images = tuple(normalize_image(i) for i in _names(data, "images"))
        risk = str(data["risk"]).lower()
        if data.get("finding") not in (None, "plaintext", "risky"):
            raise RegistryError(f"{data.get('name')}: finding must be plaintext or risky")
        if risk not in RISKS:
            raise RegistryError(f"{data.get('name')}: risk must be one of {', '.join(RISKS)}")
        return _entry(
            name=str(data["name"]), ranges=parse_port_list(data["ports"]),
            transports=tuple(str(t).lower() for t in data.get("transports", ["tcp"])),
            description=str(data.get("description", "")), category=str(data.get("category", "other")),
            plaintext=bool(data.get("plaintext", False)), alternative=data.get("alternative"),
            risk=risk, why=str(data.get("why", "")), references=tuple(data.get("references") or ()),
            finding=data.get("finding"), title=title, aliases=aliases, images=images,
            evidence_only=evidence_only,
        )
    except KeyError as exc:
        raise RegistryError(f"registry entry {data!r} lacks {exc}") from None


def _entry(**fields) -> PortEntry:
    """``PortEntry(**fields)`` for every field, made without the frozen dataclass's __init__ (one
    generic setattr per field: a third of building the ~430 entries of the registry every run
    reads). The same object: its fields stored in its ``__dict__`` in field order."""
    made = object.__new__(PortEntry)
    made.__dict__.update(fields)
    return made


def normalize_image(image: str) -> str:
    """An image reference without registry host, tag and digest, lowercase:
    "docker.io/library/postgres:16@sha256:..." → "postgres",
    "mcr.microsoft.com/mssql/server:2022-latest" → "mssql/server"."""
    text = image.strip().lower().split("@", 1)[0]
    parts = text.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts and ":" in parts[-1]:
        parts[-1] = parts[-1].split(":", 1)[0]
    if len(parts) > 1 and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


class PortRegistry:
    """Look-ups by port, range, name and image, per transport, with interval search.

    Entries marked ``evidence_only`` (a Tor relay's 9001, UniFi's 8443) are found by name,
    alias or image only: the port number alone keeps naming the entry that owns it.
    """

    def __init__(self, entries: list[PortEntry]):
        self.entries = list(entries)
        self._index: dict[str, list[tuple[int, int, PortEntry]]] = {}
        self._images: dict[str, list[PortEntry]] = {}
        for entry in self.entries:
            for image in entry.images:
                self._images.setdefault(image, []).append(entry)
            if entry.evidence_only:
                continue
            for transport in entry.transports:
                for lo, hi in entry.ranges:
                    self._index.setdefault(transport, []).append((lo, hi, entry))
        for rows in self._index.values():
            rows.sort(key=lambda row: (row[0], row[1]))
        # Per transport, the highest port the rows up to each one reach: the rows before the
        # first that reaches a port all end below it (a look-up of a high port scanned every
        # row below it: ufw's 33,000 `allow port Q` at 100,000 rules missed the cache).
        self._reach = {transport: list(accumulate((row[1] for row in rows), max))
                       for transport, rows in self._index.items()}
        self._overlapping: dict[tuple, tuple] = {}

    def with_additions(self, extra: list[PortEntry]) -> "PortRegistry":
        """A registry where ``extra`` entries replace any entry on the same port and transport."""
        kept = []
        for entry in self.entries:
            clash = not entry.evidence_only and any(
                not e.evidence_only and set(entry.transports) & set(e.transports)
                and any(lo <= h2 and l2 <= hi for lo, hi in entry.ranges for l2, h2 in e.ranges)
                for e in extra
            )
            if not clash:
                kept.append(entry)
        return PortRegistry(kept + list(extra))

    def lookup(self, port: int, transport: str = "tcp") -> PortEntry | None:
        """The entry covering ``port`` for ``transport``."""
        hits = self.overlapping(((port, port),), transport)
        return hits[0][0] if hits else None

    def overlapping(self, ranges, transport: str) -> list[tuple[PortEntry, tuple[tuple[int, int], ...]]]:
        """Entries whose ports meet ``ranges``, each with the ports that meet, in port order."""
        ranges = tuple(ranges)
        key = (ranges, transport)
        cached = self._overlapping.get(key)
        if cached is not None:  # thousands of rules open the same few ports
            return list(cached)
        if len(self._overlapping) >= 10_000:
            self._overlapping.clear()
        found: dict[str, tuple[PortEntry, list]] = {}
        rows = self._index.get(transport, [])
        reach = self._reach.get(transport, [])
        for lo, hi in ranges:
            for r_lo, r_hi, entry in islice(rows, bisect_left(reach, lo), None):
                if r_lo > hi:
                    break
                if r_hi >= lo:
                    found.setdefault(entry.name, (entry, []))[1].append((max(lo, r_lo), min(hi, r_hi)))
        result = self._overlapping[key] = tuple((entry, tuple(sorted(parts))) for entry, parts in
                                                sorted(found.values(), key=lambda item: min(item[1])))
        return list(result)

    def by_name(self, name: str) -> PortEntry | None:
        """The entry called ``name``, else the one with that alias."""
        wanted = name.strip().lower()
        for entry in self.entries:
            if entry.name == wanted:
                return entry
        for entry in self.entries:
            if wanted in entry.aliases:
                return entry
        return None

    def by_image(self, image: str, *, lookalike: bool = True) -> list[PortEntry]:
        """Entries that list ``image`` (registry host, tag and digest ignored), in file order.

        With ``lookalike``, an image the registry does not list by its full path is looked up
        by its last component when that is an official image ("myorg/postgres" is likely
        PostgreSQL; "mailu/nginx" is a mail proxy, so callers trust a lookalike less)."""
        key = normalize_image(image)
        found = self._images.get(key)
        if found is None and lookalike and "/" in key:
            found = self._images.get(key.rsplit("/", 1)[1])
        return list(found or ())

    def describe(self, port: int, transport: str = "tcp") -> str:
        """A short name for a port: the registry's, the system's, or the number."""
        entry = self.lookup(port, transport)
        if entry:
            return entry.name
        return service_name(port, transport) or str(port)

    def resolve_query(self, query: str) -> list[tuple[int, str]]:
        """``portlint port`` queries: "23", "23/udp", "telnet" → [(port, transport)]."""
        text, _, transport = query.strip().lower().partition("/")
        transports = [transport] if transport else ["tcp", "udp", "sctp"]
        if text.isdigit():
            return [(bounded_int(text), t) for t in transports]
        entry = self.by_name(text)
        if entry:
            return [(entry.ranges[0][0], t) for t in entry.transports if not transport or t == transport]
        out = []
        for t in transports:
            port = service_port(text, t)
            if port is not None and (port, "tcp") not in [(p, "tcp") for p, _ in out]:
                out.append((port, t))
        return out


@functools.lru_cache(maxsize=1)
def default_registry() -> PortRegistry:
    """The registry shipped with portlint."""
    path = data_dir("rules") / "registry" / "ports.yaml"
    data = read_yaml(path) if path.exists() else []
    return PortRegistry([entry_from_dict(item) for item in data or []])
