"""paths.decided builds the Result the dataclass's constructor builds (equal, same hash, same
fields, frozen)."""

from __future__ import annotations

import dataclasses

import pytest

from linter.engine.paths import Result, decided
from linter.engine.shadow import universe
from linter.engine.walk import Outcome
from linter.model import Family


@pytest.mark.parametrize("outcome", [Outcome.DROP, Outcome.REJECT, Outcome.ACCEPT])
@pytest.mark.parametrize("forwarded", [False, True])
def test_a_decided_box_is_the_result_the_constructor_makes(outcome, forwarded):
    box = universe(Family.IPV4, {"eth0"})[0]
    made = decided(box, outcome, forwarded)
    expected = Result(box, outcome, forwarded)
    assert type(made) is Result and made == expected and hash(made) == hash(expected)
    assert dataclasses.astuple(made) == (box, outcome, forwarded, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.routed = True


@pytest.mark.parametrize("forwarded", [False, True])
def test_decided_all_is_decided_for_each_box_deferred_or_not(forwarded):
    """paths.decided_all makes decided()'s Result per box, in order (a DeferredResult for a
    descent Deferred)."""
    from linter.engine.descent import Deferred
    from linter.engine.known_sizes import LONG, KnownSizes, collecting, note_cut
    from linter.engine.paths import DeferredResult, decided_all

    registry = KnownSizes()
    ports = tuple((p, p) for p in range(0, 2 * (LONG + 5), 2))
    rest = ports[:-1]
    with collecting(registry):
        note_cut(ports, ports[-1:], rest)
    plain = universe(Family.IPV4, {"eth0", "lo"})
    deferred, = registry.defer([plain[0]._replace(dport=rest)])
    assert type(deferred) is Deferred
    boxes = [plain[0], deferred, *plain[1:]]
    made = decided_all(boxes, Outcome.ACCEPT, forwarded)
    expected = [decided(box, Outcome.ACCEPT, forwarded) for box in boxes]
    assert made == expected and [type(m) for m in made] == [type(e) for e in expected]
    assert type(made[1]) is DeferredResult and made[1].box == deferred.box()
    assert decided_all([], Outcome.DROP, forwarded) == []
