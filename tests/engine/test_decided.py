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
