"""The front ends' makers (linter/frontends/makers.py) make the model objects
the dataclasses' constructors make: equal, same type and hash, still frozen."""

from __future__ import annotations

import dataclasses

import pytest

from linter.frontends import makers
from linter.model import (AddressMatch, AddressSet, Chain, Direction, Family, Policy, PortMatch, PortSet, Rule, Span,
                          Verdict, VerdictKind)

SPAN = Span("a.rules", 3, 1, 3, 20)
ADDRESSES = AddressSet(Family.IPV4, ((1, 2),), "0.0.0.1/31")
VERDICT = Verdict(VerdictKind.DNAT, None, ADDRESSES, PortSet(((80, 80),)), (("--to-destination", "x"),), False, None)
CASES = [
    (makers.span("a.rules", 3, 1, 3, 20), SPAN),
    (makers.rule((), VERDICT, SPAN, "c", (), "-A X"), Rule((), VERDICT, SPAN, "c", (), "-A X")),
    (makers.line_rule((), VERDICT, "a.rules", 3, 20, None, (), "-A X"), Rule((), VERDICT, SPAN, None, (), "-A X")),
    (makers.address_set(Family.IPV4, ((1, 2),), "0.0.0.1/31"), ADDRESSES),
    (makers.port_set(((80, 80),)), PortSet(((80, 80),))),
    (makers.port_match(Direction.DESTINATION, ((22, 22),), True),
     PortMatch(Direction.DESTINATION, PortSet(((22, 22),)), True)),
    (makers.address_match(Direction.SOURCE, Family.IPV4, ((1, 2),), "0.0.0.1/31", False),
     AddressMatch(Direction.SOURCE, ADDRESSES, False)),
    (makers.verdict(VerdictKind.DNAT, None, ADDRESSES, PortSet(((80, 80),)), (("--to-destination", "x"),), False,
                    None), VERDICT),
    (makers.chain("INPUT", (), SPAN, "input", "filter", 0, Policy.DROP, None, "filter"),
     Chain("INPUT", (), SPAN, "input", "filter", 0, Policy.DROP, None, "filter")),
]


@pytest.mark.parametrize("made, expected", CASES, ids=[type(e).__name__ for _, e in CASES])
def test_a_made_object_is_the_constructors(made, expected):
    assert type(made) is type(expected)
    assert made == expected and hash(made) == hash(expected)
    assert [getattr(made, f.name) for f in dataclasses.fields(made)] == \
           [getattr(expected, f.name) for f in dataclasses.fields(expected)]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.__setattr__(dataclasses.fields(made)[0].name, None)
