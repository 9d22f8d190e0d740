"""port_protocols.port_protocol_ranges: iv.intersect of a set's ranges with the port protocols'."""

from __future__ import annotations

import random

import pytest

from linter.engine import intervals as iv
from linter.engine.port_protocols import port_protocol_ranges
from linter.engine.space import PORT_PROTOCOL_RANGES, protocol_ranges


@pytest.mark.parametrize("seed", range(20))
def test_a_sets_port_protocols_are_the_intersection_every_time(seed):
    """Random protocol sets (among them the port protocols, others, none of them), each asked
    twice: the intersection iv.intersect gives, the same tuple the second time."""
    pick = random.Random(seed)
    for _ in range(30):
        protocols = frozenset(pick.sample((1, 6, 17, 33, 47, 58, 132, 136, 255), pick.randint(1, 4)))
        first = port_protocol_ranges(protocols)
        assert first == iv.intersect(protocol_ranges(protocols), PORT_PROTOCOL_RANGES)
        assert port_protocol_ranges(protocols) is first
