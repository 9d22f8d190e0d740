"""The text report writes a finding's related locations at once (PlainConsole.notes): the same
characters as one PlainConsole.line each, unsafe text and tabs included."""

from __future__ import annotations

import io

from linter.reporters.text import PlainConsole


def _one_by_one(related) -> str:
    stream = io.StringIO()
    console = PlainConsole(stream)
    for path, line, column, note in related:
        console.line([("  ", None), (f"= note: {path}:{line}:{column}: {note}", "dim")])
    return stream.getvalue()


def _at_once(related) -> str:
    stream = io.StringIO()
    PlainConsole(stream).notes(related)
    return stream.getvalue()


def test_notes_at_once_are_the_lines_one_by_one():
    related = [("fw/rules.v4", line, 1, "same finding") for line in range(8, 400, 2)]
    related += [
        ("fw/\x1b[31mred.v4", 3, 5, "also decided by filter INPUT"),  # an escape sequence in a path
        ("fw/rules.v4", 4, 1, "##[group]note"),  # the runner's old command syntax in a note
        ("fw/\u202eevil.v4", 5, 1, "same finding"),  # a bidi override
        ("fw/tab\there.v4", 6, 1, "same finding"),  # a tab: written by line()
        ("fw/rules.v4", 7, 1, "same\tfinding"),
        ("fw/rules.v4", 9, 1, "same finding"),
    ]
    assert _at_once(related) == _one_by_one(related)
    assert "\x1b" not in _at_once(related) and "## [group]" in _at_once(related)
    assert _at_once([]) == ""
