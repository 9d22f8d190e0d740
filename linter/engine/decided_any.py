"""The entries filed under _ANY in the dead-rule analysis's index that a probe can meet.

DecidedIndex._candidate (engine/decided_index.py) looks for an entry holding one packet (a
probe) among the entries filed under the probe's source bucket or destination port, then among
those filed under _ANY: the entries too wide there to be filed by value, such as the merged
source drops and each protocol's merged port drops. A random mix's port drops scan that short
list 14,000 times at 100,000 rules, and most of it cannot hold the probe: an entry narrowing a
dimension the probe is free in (no such entry holds its value there), or one of the other
protocol. Those are left out here, once per list, free bits and protocol.
"""

from __future__ import annotations



def any_entries(seen: dict, entries: list, free: int, proto: int, proto_bit: int) -> list:
    """``entries`` (a list filed under _ANY: entries are only appended to it) less those a
    packet of protocol ``proto`` whose free bits are ``free`` cannot lie in, in their order:
    an entry narrowing a free dimension (``entry[8] & free``: the scan passes over it too), or
    one narrowing protocols (``proto_bit`` in its mask) to sorted ranges (a tuple, never
    changed: a merged entry's Union may grow) not holding ``proto``, which the scan's protocol
    test rejects. ``seen``: the index's cache of these answers."""
    key = (id(entries), free, proto)
    found = seen.get(key)
    if found is None or found[0] != len(entries):
        kept = [entry for entry in entries if not entry[8] & free
                and (not entry[8] & proto_bit or type(entry[1]) is not tuple or _holds(entry[1], proto))]
        found = seen[key] = (len(entries), kept)
    return found[1]


def _holds(ranges: tuple, value: int) -> bool:
    """Whether sorted, disjoint ``ranges`` hold ``value`` (decided_index._has of a tuple)."""
    for lo, hi in ranges:
        if value <= hi:
            return lo <= value
    return False
