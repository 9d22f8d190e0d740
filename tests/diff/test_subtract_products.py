"""diff's products of one side's exposure minus the other's: the sweep over source bounds gives
what asking every entry at every bound gave (the way it was computed before, kept here)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from linter.diff.compute import _subtract_products
from linter.engine import intervals as iv


def _asked_at_every_bound(mine, theirs):
    def ports_at(entries, source):
        ports = ()
        for entry in entries:
            if iv.contains(entry.sources, source):
                ports = iv.union(ports, entry.ports)
        return ports
    same = {(e.ports, e.sources) for e in theirs}
    mine = [e for e in mine if (e.ports, e.sources) not in same]
    if not mine:
        return []
    bounds = sorted({b for e in mine + theirs for lo, hi in e.sources for b in (lo, hi + 1)})
    by_ports = {}
    for lo, nxt in zip(bounds, bounds[1:]):
        left = ports_at(mine, lo)
        if left:
            left = iv.subtract(left, ports_at(theirs, lo))
            if left:
                by_ports[left] = iv.union(by_ports.get(left, ()), ((lo, nxt - 1),))
    return list(by_ports.items())


def _entry(rng, port_sets):
    sources = iv.normalize((lo, lo + rng.randrange(0, 12)) for lo in rng.sample(range(0, 200), rng.randrange(1, 8)))
    return SimpleNamespace(ports=rng.choice(port_sets), sources=sources)


def test_the_sweep_gives_what_every_bound_asked_gave():
    rng = random.Random(14)
    port_sets = [((22, 22),), ((80, 80), (443, 443)), ((1, 1023),), ((3306, 3306),), ((0, 65535),)]
    for _ in range(400):
        mine = [_entry(rng, port_sets) for _ in range(rng.randrange(1, 6))]
        theirs = [_entry(rng, port_sets) for _ in range(rng.randrange(0, 6))]
        if rng.random() < 0.3 and theirs:
            mine.append(theirs[0])  # an entry both sides have as it is
        assert _subtract_products(mine, theirs) == _asked_at_every_bound(mine, theirs)


def test_ranges_of_one_entry_and_shared_port_sets_are_counted_apart():
    # Two entries with equal port sets overlap on 5-9: the set is held until both have ended.
    mine = [SimpleNamespace(ports=((22, 22),), sources=((0, 9),)),
            SimpleNamespace(ports=((22, 22),), sources=((5, 14),))]
    theirs = [SimpleNamespace(ports=((22, 22),), sources=((3, 6),))]
    assert _subtract_products(mine, theirs) == [(((22, 22),), ((0, 2), (7, 14)))]
