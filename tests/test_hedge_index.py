"""service_identity.hedge looks the evidence-only entries up in an index of narrow ranges: the
same answer as asking every registry entry, for every entry's own ports."""

from __future__ import annotations

from linter import service_identity as si
from linter.findings import Severity
from linter.ports import default_registry


def _hedge_by_scan(registry, entry, ports, transport):
    others = tuple(other for other in registry.entries
                   if other.evidence_only and other is not entry and transport in other.transports
                   and all(any(lo <= p_lo and p_hi <= hi and hi - lo < si.SHARED_AT_MOST for lo, hi in other.ranges)
                           for p_lo, p_hi in ports))
    own = entry.severity or Severity.INFO
    if not others or min((other.severity or Severity.INFO) for other in others) >= own:
        return None
    return si.Hedge(others, min(own, Severity.MEDIUM))


def test_hedge_index_agrees_with_a_scan_of_the_registry():
    registry = default_registry()
    hedged = 0
    for entry in registry.entries:
        port_sets = [((lo, lo),) for lo, _ in entry.ranges] + [entry.ranges, ((9001, 9001),), ((0, 0),)]
        for transport in ("tcp", "udp"):
            for ports in port_sets:
                expected = _hedge_by_scan(registry, entry, ports, transport)
                assert si.hedge(registry, entry, ports, transport) == expected, (entry.name, ports, transport)
                hedged += expected is not None
    assert hedged  # some ports are shared by services of different risk (9001: supervisord, Tor)
