"""A finding with many notes of one path, column and note (a collapsed allow-list's 50,000
"same finding" lines) has them written by one join (text._alike_notes): the output must be what
printing the finding line by line (PlainConsole.line and .notes, as before) gives, for clean
values and for values holding anything ``safe_line`` or a tab changes, and for notes that differ."""

from __future__ import annotations

import io
import random
from dataclasses import replace

from linter.findings import Finding, Severity
from linter.reporters.text import _MANY_NOTES, PlainConsole, _alike_notes, _finding_lines, render

_PIECES = ["rule", "fw", " ", "10.0.0.1", "same finding", "\t", "\n", "\r", "\x1b[31m", "::", "##[", "##", "[",
           ":", "\u202e", "\x7f", "\x85", "é", "名"]


def _text(rng: random.Random, special: float) -> str:
    return "".join(rng.choice(_PIECES) if rng.random() < special else rng.choice(_PIECES[:5])
                   for _ in range(rng.randrange(1, 5)))


def _finding(rng: random.Random, special: float) -> Finding:
    path = rng.choice(["fw/rules.v4", "fw/" + _text(rng, special)])
    note = rng.choice(["same finding", _text(rng, special)])
    column = rng.choice([1, 4])
    lines = sorted(rng.sample(range(2, 100_000), rng.choice((_MANY_NOTES - 1, _MANY_NOTES, 600))))
    related = [(path, line, column, note) for line in lines]
    if rng.random() < 0.3:  # one note that differs: written as before
        at = rng.randrange(len(related))
        spot = list(related[at])
        which = rng.randrange(4)
        odd = (True, 7.0) if which in (1, 2) else ("fw/rules.v4 ", "same finding\t")  # a number not an int
        spot[which] = rng.choice([["other.rules", 7, 9, "jump"][which], *odd])
        related[at] = tuple(spot)
    if rng.random() < 0.2:  # the finding's own related location first
        related.insert(0, ("fw/rules.v4", 3, 1, "the chain jumped to"))
    line = rng.randrange(1, 2000)
    return Finding(code="PL201", name="n", severity=rng.choice(list(Severity)), category="c",
                   path=rng.choice(["fw/rules.v4", "fw/" + _text(rng, special), "::x"]), line=line,
                   column=rng.randrange(1, 30), message="port 22/tcp " + _text(rng, special),
                   hint=rng.choice([None, "", "Allow it only from the networks that need it", _text(rng, special)]),
                   end_line=rng.choice([None, line]), end_column=rng.choice([None, 5, 40]),
                   source_line=rng.choice([None, "", "-A INPUT -s 10.0.0.0/24 -j ACCEPT" + _text(rng, special)]),
                   excerpt=rng.choice([None, "chain INPUT {\n  ^^^"]), related=tuple(related))


def _line_by_line(findings) -> str:
    stream = io.StringIO()
    console = PlainConsole(stream)
    for finding in findings:
        for segments in _finding_lines(finding, True, console.notes):
            console.line(segments)
    return stream.getvalue()


def _rendered(findings, show_source: bool = True) -> str:
    stream = io.StringIO()
    render(PlainConsole(stream), findings, 1, show_source=show_source, quiet=True)
    return stream.getvalue()


def test_alike_notes_at_once_are_the_lines_one_by_one():
    rng = random.Random(14)
    taken = 0
    for _ in range(300):
        special = rng.choice((0.0, 0.0, 0.1, 0.5))
        finding = _finding(rng, special)
        taken += _alike_notes(finding.related) is not None
        assert _rendered([finding]) == _line_by_line([finding]), finding.related[:2]
    assert taken > 50  # the lane is taken, not only the way around it


def test_among_other_findings_in_their_order():
    rng = random.Random(15)
    for _ in range(20):
        findings = [_finding(rng, 0.0) if rng.random() < 0.3 else
                    replace(_finding(rng, 0.05), related=()) for _ in range(rng.randrange(1, 600))]
        assert _rendered(findings) == _line_by_line(findings)
