"""Numbers written in input text, read at a bounded cost.

Python refuses to convert a decimal string of more than 4,300 digits (ValueError), and
converting one of a few million digits would take seconds. No field of any syntax portlint
reads holds a number anywhere near MAX_DIGITS digits, so every front end reads numbers
through ``bounded_int``: a longer one is TOO_LARGE, which every range check then rejects
as out of range on its own line, like any other bad value (docs/security.md, Budgets).
"""

from __future__ import annotations

# Significant digits read exactly; 64 hex digits are 256 bits, more than any address or mark.
MAX_DIGITS = 64
# What a number of more significant digits is read as: larger than any of them.
TOO_LARGE = 1 << 256

_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def bounded_int(text: str, base: int = 10) -> int:
    """``int(text, base)`` for a number of any length.

    Text short enough is read by int() itself (same errors, same rules). A longer one must be
    plain ASCII digits of ``base`` (after a sign and, for base 0 or 16, a ``0x`` prefix; base 0
    reads the rest as decimal), else ValueError; leading zeros are skipped, and a value of more
    than MAX_DIGITS significant digits is TOO_LARGE (negative: -TOO_LARGE).
    """
    if len(text) <= MAX_DIGITS:
        return int(text, base)
    body = text.strip()
    sign = -1 if body[:1] == "-" else 1
    if body[:1] in ("+", "-"):
        body = body[1:]
    if base in (0, 16) and body[:2] in ("0x", "0X"):
        base, body = 16, body[2:]
    elif base == 0:
        base = 10
    allowed = _DIGITS.get(base)
    if allowed is None or not body or body.strip(allowed):
        raise ValueError(f"invalid literal for int() with base {base}: {shown(text)!r}")
    significant = body.lstrip("0")
    if len(significant) > MAX_DIGITS:
        return sign * TOO_LARGE
    return sign * int(significant or "0", base)


def is_too_large(value: int) -> bool:
    """Whether ``value`` came from a number too long to read exactly (``bounded_int``)."""
    return abs(value) >= TOO_LARGE


def shown(text: str, keep: int = 12) -> str:
    """``text`` for a message: a very long one shortened to its ends and its length."""
    if len(text) <= 2 * keep + 8:
        return text
    return f"{text[:keep]}…{text[-keep:]} ({len(text)} characters)"
