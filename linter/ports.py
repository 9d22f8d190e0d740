"""The port registry: what portlint knows of a port (rules/registry/ports.yaml).

Each entry names a service, its ports and transports, its category, whether it is
plaintext (and its encrypted alternative) and the risk of exposing it to the
internet. Ports the registry does not list still get a name from the system's
services database when it has one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from linter.grammars import data_dir, read_yaml
from linter.findings import Severity
from linter.netdb import service_name, service_port
from linter.numbers import bounded_int

RISKS = ("none", "low", "medium", "high", "critical")
# Categories whose exposure is the problem even more than their cleartext: reported by PL201.
RISKY_CATEGORIES = frozenset({"file-sharing", "database", "cache", "container-api", "orchestration",
                              "remote-desktop", "backdoor", "industrial"})


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

    @property
    def check_kind(self) -> str:
        """Which check reports this service: "plaintext" (PL101) or "risky" (PL201)."""
        if self.finding:
            return self.finding
        return "plaintext" if self.plaintext and self.category not in RISKY_CATEGORIES else "risky"

    @property
    def severity(self) -> Severity | None:
        """The severity of exposing this service to the internet, None for risk 'none'."""
        return None if self.risk == "none" else Severity.parse(self.risk)

    def ports_text(self) -> str:
        return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges)


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


def entry_from_dict(data: dict) -> PortEntry:
    """A registry entry from its YAML (or configuration) form."""
    try:
        risk = str(data["risk"]).lower()
        if data.get("finding") not in (None, "plaintext", "risky"):
            raise RegistryError(f"{data.get('name')}: finding must be plaintext or risky")
        if risk not in RISKS:
            raise RegistryError(f"{data.get('name')}: risk must be one of {', '.join(RISKS)}")
        return PortEntry(
            name=str(data["name"]), ranges=parse_port_list(data["ports"]),
            transports=tuple(str(t).lower() for t in data.get("transports", ["tcp"])),
            description=str(data.get("description", "")), category=str(data.get("category", "other")),
            plaintext=bool(data.get("plaintext", False)), alternative=data.get("alternative"),
            risk=risk, why=str(data.get("why", "")), references=tuple(data.get("references") or ()),
            finding=data.get("finding"),
        )
    except KeyError as exc:
        raise RegistryError(f"registry entry {data!r} lacks {exc}") from None


class PortRegistry:
    """Look-ups by port, range and name, per transport, with interval search."""

    def __init__(self, entries: list[PortEntry]):
        self.entries = list(entries)
        self._index: dict[str, list[tuple[int, int, PortEntry]]] = {}
        for entry in self.entries:
            for transport in entry.transports:
                for lo, hi in entry.ranges:
                    self._index.setdefault(transport, []).append((lo, hi, entry))
        for rows in self._index.values():
            rows.sort(key=lambda row: (row[0], row[1]))

    def with_additions(self, extra: list[PortEntry]) -> "PortRegistry":
        """A registry where ``extra`` entries replace any entry on the same port and transport."""
        kept = []
        for entry in self.entries:
            clash = any(
                set(entry.transports) & set(e.transports)
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
        found: dict[str, tuple[PortEntry, list]] = {}
        rows = self._index.get(transport, [])
        for lo, hi in ranges:
            for r_lo, r_hi, entry in rows:
                if r_lo > hi:
                    break
                if r_hi >= lo:
                    found.setdefault(entry.name, (entry, []))[1].append((max(lo, r_lo), min(hi, r_hi)))
        return [(entry, tuple(sorted(parts))) for entry, parts in
                sorted(found.values(), key=lambda item: min(item[1]))]

    def by_name(self, name: str) -> PortEntry | None:
        wanted = name.strip().lower()
        for entry in self.entries:
            if entry.name == wanted:
                return entry
        return None

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
