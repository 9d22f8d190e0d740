"""Diagnostics: what a front end says about input it could not fully read.

Front ends know nothing of rule metadata; they emit a Diagnostic with a PL0xx code
and the pipeline turns it into a Finding with the rule's name and severity.
"""

from __future__ import annotations

from dataclasses import dataclass

from linter.model import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str | None = None
    excerpt: str | None = None  # a caret excerpt for parse errors (line + "    ^")
    # False for a line that may hold a secret (an env file's): reporters then show no source line
    quote_source: bool = True


def caret_excerpt(line_text: str, column: int) -> str:
    """The offending line and a caret under ``column`` (1-based)."""
    line_text = line_text.rstrip("\r\n").expandtabs(1)
    return f"{line_text}\n{' ' * max(column - 1, 0)}^"


# Every code a front end, the source reader or the suppression scanner may emit; the checks
# register theirs with @check. tests/test_rule_codes.py keeps both equal to the rules in rules/.
DIAGNOSTIC_CODES = frozenset({
    "PL001", "PL002", "PL003", "PL004", "PL005", "PL006", "PL009",
    "PL010", "PL011", "PL012", "PL013", "PL015",
    "PL021", "PL022", "PL023", "PL024",
    "PL031", "PL032", "PL033", "PL034",
    "PL040", "PL041", "PL042", "PL043",
    "PL050", "PL051",
    "PL071", "PL072", "PL073",
})
