"""PortRegistry.overlapping starts each look-up at the first row that reaches the port (by
bisection on the rows' running highest end): it answers as a scan of every row does."""

from __future__ import annotations

import random

from linter.ports import PortRegistry, default_registry, entry_from_dict


def _scanned(registry: PortRegistry, ranges, transport: str) -> list:
    """What overlapping answers, by a scan of every entry's ranges."""
    found: dict[str, tuple] = {}
    rows = sorted(((lo, hi, entry) for entry in registry.entries if not entry.evidence_only
                   if transport in entry.transports for lo, hi in entry.ranges), key=lambda row: row[:2])
    for lo, hi in ranges:
        for r_lo, r_hi, entry in rows:
            if r_lo <= hi and r_hi >= lo:
                found.setdefault(entry.name, (entry, []))[1].append((max(lo, r_lo), min(hi, r_hi)))
    return [(entry, tuple(sorted(parts))) for entry, parts in sorted(found.values(), key=lambda item: min(item[1]))]


def test_every_port_and_some_ranges_are_found_as_a_full_scan_finds_them():
    registry = default_registry()
    rnd = random.Random(4)
    for transport in ("tcp", "udp", "sctp"):
        queries = [((port, port),) for port in range(0, 65536, 7)]
        queries += [((lo, lo + rnd.randrange(3000)),) for lo in rnd.sample(range(65536), 300)]
        queries += [((1, 100), (5000, 6100), (60000, 65535)), ((0, 65535),)]
        for ranges in queries:
            assert registry.overlapping(ranges, transport) == _scanned(registry, ranges, transport), ranges


def test_a_wide_entry_before_narrow_ones_is_found_past_them():
    wide = entry_from_dict({"name": "wide", "ports": "100-900", "transports": ["tcp"], "description": "w", "risk": "low"})
    narrow = [entry_from_dict({"name": f"n{port}", "ports": str(port), "transports": ["tcp"], "description": "n", "risk": "low"})
              for port in (200, 300, 400)]
    registry = PortRegistry([wide, *narrow])
    assert [entry.name for entry, _ in registry.overlapping(((850, 860),), "tcp")] == ["wide"]
    assert [entry.name for entry, _ in registry.overlapping(((300, 300),), "tcp")] == ["wide", "n300"]
    assert registry.overlapping(((901, 65535),), "tcp") == [] == registry.overlapping(((1, 2),), "udp")
