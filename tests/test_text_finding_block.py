"""The text report writes each finding's lines at once (PlainConsole.finding) when none of them
needs guarding: the output must be what printing them line by line (PlainConsole.line, as
before) gives, for clean findings and for findings holding anything ``safe_line`` or a tab changes."""

from __future__ import annotations

import io
import random

from linter.findings import Finding, Severity
from linter.reporters.text import PlainConsole, _finding_lines, render

# Pieces a value may hold: plain words, and each thing the line-by-line path treats specially.
_PIECES = ["rule", "INPUT", " ", "10.0.0.1", "tcp/22", "-A INPUT -j DROP", "\t", "\n", "\r", "\x1b[31m",
           "::", "::add-mask::", "##[", "##", "[", ":", "\u202e", "\x7f", "\x85", "é", "名", "  "]


def _text(rng: random.Random, special: float) -> str:
    words = []
    for _ in range(rng.randrange(0, 6)):
        words.append(rng.choice(_PIECES) if rng.random() < special else rng.choice(_PIECES[:6]))
    return "".join(words)


def _finding(rng: random.Random, special: float) -> Finding:
    line = rng.randrange(1, 2000)
    source = _text(rng, special) + "-A INPUT -s 10.0.0.1 -j ACCEPT" + _text(rng, special)
    if rng.random() < 0.1:
        source += "x" * rng.randrange(200, 400)  # a long line: shown as a window
    excerpt = None
    if rng.random() < 0.2:
        excerpt = _text(rng, special) + "chain INPUT {" + ("y" * rng.choice((0, 300))) + "\n" + " " * rng.randrange(0, 10) + "^^^"
    related = tuple((rng.choice(["fw/rules.v4", "fw/" + _text(rng, special)]), rng.randrange(1, 99),
                     rng.randrange(1, 9), rng.choice(["same finding", _text(rng, special)]))
                    for _ in range(rng.choice((0, 0, 1, 3, 20))))
    return Finding(code=rng.choice(["PL402", "PL405", "PL403"]), name="n", severity=rng.choice(list(Severity)),
                   category="c", path=rng.choice(["fw/rules.v4", "fw/" + _text(rng, special), "::x"]),
                   line=line, column=rng.randrange(1, 30), message="Rule " + _text(rng, special),
                   hint=rng.choice([None, "", "Delete it", _text(rng, special)]),
                   end_line=rng.choice([None, line]), end_column=rng.choice([None, 5, 40]),
                   source_line=rng.choice([None, "", source]), excerpt=excerpt, related=related)


def _line_by_line(findings, show_source: bool) -> str:
    stream = io.StringIO()
    console = PlainConsole(stream)
    for finding in findings:
        for segments in _finding_lines(finding, show_source, console.notes):
            console.line(segments)
    return stream.getvalue()


def _rendered(findings, show_source: bool) -> str:
    stream = io.StringIO()
    render(PlainConsole(stream), findings, 1, show_source=show_source, quiet=True)
    return stream.getvalue()


def test_findings_at_once_are_their_lines_one_by_one():
    rng = random.Random(14)
    for special in (0.0, 0.05, 0.3):
        findings = [_finding(rng, special) for _ in range(400)]
        for show_source in (True, False):
            assert _rendered(findings, show_source) == _line_by_line(findings, show_source)


def test_each_finding_alone():
    rng = random.Random(15)
    for _ in range(3000):
        finding = _finding(rng, rng.choice((0.0, 0.1, 0.5)))
        assert _rendered([finding], True) == _line_by_line([finding], True), finding
