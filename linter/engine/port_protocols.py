"""A protocol match's protocols that have ports, as ranges, remembered per set of protocols.

A random mix's port drops (``-p tcp --dport N``) name the same few protocol sets thousands of
times; the dead-rule analysis's plain readers (engine/decided_lane.py plain_match,
engine/plain_chain.py) intersect each with the protocols that have ports once per set.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.space import PORT_PROTOCOL_RANGES, protocol_ranges

_FOUND: dict[frozenset[int], iv.Ranges] = {}


def port_protocol_ranges(protocols: frozenset[int]) -> iv.Ranges:
    """``iv.intersect(protocol_ranges(protocols), PORT_PROTOCOL_RANGES)``, the same tuple each
    time for one set."""
    found = _FOUND.get(protocols)
    if found is None:
        found = _FOUND[protocols] = iv.intersect(protocol_ranges(protocols), PORT_PROTOCOL_RANGES)
    return found
