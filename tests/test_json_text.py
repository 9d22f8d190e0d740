"""reporters/json_text.indented writes what json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import enum
import json
import math

import pytest
from hypothesis import given, settings, strategies as st

from linter.reporters.json_text import indented


def _reference(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


class _Level(enum.IntEnum):
    LOW = 1


class _Word(str, enum.Enum):
    ACCEPT = "accept"


_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(), st.sampled_from([_Level.LOW, _Word.ACCEPT]),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=8))
_KEYS = st.one_of(st.text(max_size=6), st.integers(-3, 3), st.none(), st.booleans(), st.floats(allow_nan=False))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.lists(inner, max_size=4).map(tuple),
    st.dictionaries(st.text(max_size=6), inner, max_size=5), st.dictionaries(_KEYS, inner, max_size=3)),
    max_leaves=40)


@settings(max_examples=600, deadline=None)
@given(_VALUES)
def test_same_text_as_json_dumps(value):
    assert indented(value) == _reference(value)


@pytest.mark.parametrize("value", [
    {}, [], (), {"a": {}}, {"a": []}, [[], {}], "", 0, -1, 1.5, math.inf, -math.inf, math.nan, None, True, False,
    {"path": "a\u2028b\x00\x7f\"\\", "line": 3, "related": [{"path": "p", "line": 1, "column": 1, "note": "same"}]},
    [{"x": [1, [2, [3, {"y": None}]]]}],
])
def test_edges(value):
    assert indented(value) == _reference(value)


def test_refusals_are_json_dumps_own():
    for value in ({"a": object()}, [{1, 2}], {(1, 2): 3}):
        with pytest.raises(TypeError) as ours:
            indented(value)
        with pytest.raises(TypeError) as theirs:
            _reference(value)
        assert str(ours.value) == str(theirs.value)
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular reference"):
        indented(cycle)
