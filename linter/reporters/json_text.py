"""``json.dumps(value, indent=2, ensure_ascii=False)``, written without its generators.

With an indent, the standard library encodes in Python, one generator per nested list and
dict, one ``yield`` per piece of text: the JSON report of an allow-list (one finding grouping
50,000 rules, each a related location) spent ~0.28 s there. Here each list and dict is one
``join`` of its items' texts, and the scalars are written by the same functions the encoder
uses (its string quoting, ``int.__repr__``, ``float.__repr__``), so the text is the same byte
for byte. Anything else (a subclass of a JSON type, a key that is not a string, a float that
is not finite, an object the encoder would refuse) goes to ``json.dumps`` itself, which
writes it or fails as it always did (tests/test_json_text.py compares the two).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _quote  # the encoder's own (ensure_ascii=False)
from math import isfinite

_INT = int.__repr__
_FLOAT = float.__repr__


_NAMED: dict = {}  # a string key -> its text before the value
_NAMED_AT_MOST = 4096


class _Unusual(Exception):
    """A value this writer leaves to json.dumps."""


def indented(value) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``."""
    try:
        return _text(value, "\n")
    except (_Unusual, RecursionError):  # (a cycle: json.dumps says so in its own words)
        return json.dumps(value, indent=2, ensure_ascii=False)


def item_text(value, newline: str) -> str | None:
    """The text ``indented`` writes for ``value`` as an item of a list or a member's value in a
    dict whose items begin their lines with ``newline`` (a newline and the indent); None where
    ``indented`` would leave the whole document to json.dumps (an unusual value)."""
    try:
        return _text(value, newline)
    except (_Unusual, RecursionError):
        return None


def _text(value, newline: str) -> str:
    """The text of ``value`` whose line starts with ``newline`` (a newline and the indent)."""
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}"
        inner = newline + "  "
        parts = []
        append = parts.append
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            named = _NAMED.get(key)  # '"key": ', quoted once per key (records repeat a few)
            if named is None:
                named = _quote(key) + ": "
                if len(_NAMED) < _NAMED_AT_MOST:
                    _NAMED[key] = named
            kind = type(item)
            if kind is str:
                append(named + _quote(item))
            elif kind is int:
                append(named + _INT(item))
            elif item is None:
                append(named + "null")
            else:
                append(named + _text(item, inner))
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        inner = newline + "  "
        parts = []
        append = parts.append
        for item in value:
            kind = type(item)
            if kind is str:
                append(_quote(item))
            elif kind is int:
                append(_INT(item))
            else:
                append(_text(item, inner))
        return "[" + inner + ("," + inner).join(parts) + newline + "]"
    if kind is str:
        return _quote(value)
    if kind is int:
        return _INT(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float and isfinite(value):
        return _FLOAT(value)
    raise _Unusual
