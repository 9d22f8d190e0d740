"""Human output in the ruff style: location, code, severity, message, the line and a caret."""

from __future__ import annotations

import os
import re
from collections import Counter
from itertools import repeat
from operator import is_, itemgetter

from linter.findings import Finding, Severity
from linter.reporters.safe import printed_as_is, safe_line, safe_text

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


# A quoted line longer than this is shown as a window around the caret, "..." marking the cuts.
SHOWN_CHARS = 240


def _window(line: str, start: int, length: int) -> tuple[str, int, int]:
    """(the part of ``line`` to show, the caret's start in it, the caret's length)."""
    if len(line) <= SHOWN_CHARS:
        return line, start, length
    first = min(max(start - SHOWN_CHARS // 4, 0), max(len(line) - SHOWN_CHARS, 0))
    last = first + SHOWN_CHARS
    shown = ("..." if first else "") + line[first:last] + ("..." if last < len(line) else "")
    offset = 3 if first else 0
    caret = max(min(start, len(line)) - first, 0)
    return shown, caret + offset, max(min(length, last - max(start, first)), 1)


def _frame(finding: Finding) -> list[str]:
    width = len(str(finding.line))
    if finding.excerpt:
        first, _, caret = finding.excerpt.partition("\n")
        if len(first) > SHOWN_CHARS:
            start = len(caret) - len(caret.lstrip(" "))
            first, start, length = _window(first, start, len(caret.strip()) or 1)
            caret = " " * start + "^" * length
        return [f"{' ' * width} |", f"{finding.line} | {first}", f"{' ' * width} | {caret}"]
    if not finding.source_line:
        return []
    line = finding.source_line.rstrip("\r\n").expandtabs(1)
    start = max(finding.column - 1, 0)
    if finding.end_line == finding.line and finding.end_column and finding.end_column > finding.column:
        length = finding.end_column - finding.column
    else:
        length = max(len(line.rstrip()) - start, 1)
    line, start, length = _window(line, start, length)
    return [f"{' ' * width} |", f"{finding.line} | {line}", f"{' ' * width} | {' ' * start}{'^' * length}"]


def console_for(stream, color: bool):
    """A rich Console on ``stream``: colour only when asked and the stream is a terminal; no wrapping when piped."""
    from rich.console import Console

    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=stream, no_color=not color, highlight=False, emoji=False,
                   color_system="auto" if color else None, width=None if tty else 10_000)


def wants_color(no_color: bool = False) -> bool:
    """Colour unless --no-color or NO_COLOR (https://no-color.org) says otherwise."""
    return not no_color and "NO_COLOR" not in os.environ


# Text whose every character takes one column, so str.expandtabs places tabs as rich does.
_ONE_COLUMN_EACH = re.compile("[\t\n\x20-\x7e]*")


class PlainConsole:
    """Prints text as a rich Console without colour and without wrapping would, without importing
    rich (a tenth of a pre-commit run's start-up): the same characters, tabs expanded to
    8 columns. Lines rich would measure differently (a tab after wide characters) go to rich."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self._rich = None

    def line(self, segments) -> None:
        text = safe_line("".join(piece for piece, _ in segments))
        if "\t" in text:
            if not _ONE_COLUMN_EACH.fullmatch(text):
                if self._rich is None:
                    self._rich = console_for(self.stream, False)
                _rich_line(self._rich, segments)
                return
            text = "\n".join(part.expandtabs(8) for part in text.split("\n"))
        self.stream.write(text + "\n")

    def notes(self, related) -> None:
        """The "= note:" lines of a finding's related locations, as ``line`` prints each: written
        at once (a collapsed allow-list finding has 50,000). Path and note are made safe once
        each (the numbers and the words between them need nothing); a line with a tab is left
        to ``line``."""
        safe: dict[str, str] = {}
        out = []
        for path, line, column, note in related:
            shown_path = safe.get(path)
            if shown_path is None:
                shown_path = safe[path] = safe_text(path)
            shown_note = safe.get(note)
            if shown_note is None:
                shown_note = safe[note] = safe_text(note)
            if "\t" in shown_path or "\t" in shown_note:
                self.stream.write("".join(out))
                out.clear()
                self.line([("  ", None), (f"= note: {path}:{line}:{column}: {note}", "dim")])
                continue
            out.append(f"  = note: {shown_path}:{line}:{column}: {shown_note}\n")
        self.stream.write("".join(out))

    def findings(self, findings: list[Finding], show_source: bool) -> None:
        """Every line of ``findings`` as ``line`` (and ``notes``) print them, a few hundred
        findings at a time: their lines as they stand when none needs guarding
        (``printed_as_is``: a random mix's 30,000 lines were guarded and written one by one),
        else each of those findings line by line as before."""
        for start in range(0, len(findings), _FINDINGS_AT_ONCE):
            self._write_some(findings[start:start + _FINDINGS_AT_ONCE], show_source)

    def _write_some(self, some: list[Finding], show_source: bool) -> None:
        """The lines of a few findings: at once when none needs guarding, else finding by finding.
        A finding with many notes of one kind (a collapsed allow-list's 50,000) is written on its
        own, its notes at once (each finding's text is the same however they are grouped)."""
        lines: list[str] = []
        first = 0  # the first of ``some`` whose lines are in ``lines``
        for index, finding in enumerate(some):
            if show_source and len(finding.related) >= _MANY_NOTES:
                notes = _alike_notes(finding.related)
                if notes is not None:
                    self._write_lines(some[first:index], lines, show_source)
                    self._write_with_notes(finding, notes)
                    lines = []
                    first = index + 1
                    continue
            lines += _plain_lines(finding, show_source)
        self._write_lines(some[first:], lines, show_source)

    def _write_lines(self, some: list[Finding], lines: list[str], show_source: bool) -> None:
        """``lines``, the lines of ``some``, at once when none needs guarding, else finding by finding."""
        write = self.stream.write
        if printed_as_is(lines):
            if lines:
                lines.append("")
                write("\n".join(lines))
            return
        for finding in some:
            lines = _plain_lines(finding, show_source)
            if printed_as_is(lines):
                lines.append("")
                write("\n".join(lines))
                continue
            self._write_guarded(finding, show_source)

    def _write_guarded(self, finding: Finding, show_source: bool) -> None:
        for segments in _finding_lines(finding, show_source, self.notes):
            self.line(segments)

    def _write_with_notes(self, finding: Finding, notes: tuple[str, str, str]) -> None:
        """One finding with its source shown whose "= note:" lines are ``notes`` (_alike_notes)."""
        lines = _plain_lines(finding, True, notes=False)
        cut = len(lines) - (2 if finding.hint else 1)  # the notes come before the hint and the blank line
        before, after = lines[:cut], lines[cut:]
        if printed_as_is(before) and printed_as_is(after):
            before.append("")
            after.append("")
            write = self.stream.write
            write("\n".join(before))
            for piece in notes:
                write(piece)
            write("\n".join(after))
        else:
            self._write_guarded(finding, True)


# How each severity reads (Severity.__str__ is Python code reading an enum property: ~1 us a finding).
_SEVERITY_WORD = {severity: f"{severity}" for severity in Severity}
_FINDINGS_AT_ONCE = 256  # (a bounded piece of text at a time: ufw's 100,000 rules make 240,000 lines)
_MANY_NOTES = 256  # a finding with this many notes or more has them written by _alike_notes when it can
_PATH, _LINE, _COLUMN, _NOTE = (itemgetter(index) for index in range(4))


def _alike_notes(related: tuple) -> tuple[str, str, str] | None:
    """The "= note:" lines of ``related`` (each ending in a line break) as ``notes`` prints them,
    in three pieces to write one after the other (not copied into one more string of megabytes),
    when every one is of one path, one column and one note (the same objects) and each is printed as it stands;
    else None. Made by one join of the line numbers (a collapsed allow-list's 50,000): the
    path, column and note are written once and checked once (``printed_as_is``), and the line
    numbers are ints (their text is digits)."""
    path, _, column, note = related[0]
    if type(path) is not str or type(note) is not str or type(column) is not int:
        return None
    if not (printed_as_is([path]) and printed_as_is([note])):  # (safe_text leaves each as it is, no tab)
        return None
    # The same objects, not only equal ones (True == 1 but prints otherwise): a collapse repeats them.
    if not (all(map(is_, map(_PATH, related), repeat(path))) and all(map(is_, map(_NOTE, related), repeat(note)))
            and all(map(is_, map(_COLUMN, related), repeat(column)))):
        return None
    lines = list(map(_LINE, related))
    if set(map(type, lines)) != {int}:
        return None
    head, tail = f"  = note: {path}:", f":{column}: {note}\n"
    return head, (tail + head).join(map(str, lines)), tail


def _plain_lines(finding: Finding, show_source: bool, notes: bool = True) -> list[str]:
    """The text of each line ``_finding_lines`` gives for ``finding`` (its pieces joined, notes
    written in place, or left out when not ``notes``), unguarded."""
    severity = finding.severity
    severity = _SEVERITY_WORD[severity] if type(severity) is Severity else f"{severity}"
    lines = [f"{finding.path}:{finding.line}:{finding.column}: {finding.code} [{severity}] {finding.message}"]
    if show_source:
        lines += _frame(finding)
        if finding.related and notes:
            lines += [f"  = note: {path}:{line}:{column}: {note}" for path, line, column, note in finding.related]
        if finding.hint:
            lines.append(f"  = hint: {finding.hint}")
        lines.append("")
    return lines


def _rich_line(console, segments) -> None:
    from rich.text import Text

    console.print(Text.assemble(*((piece, style or "") for piece, style in safe_segments(segments))), soft_wrap=True)


def safe_segments(segments) -> list:
    """The pieces of one line made safe as safe_line() makes the whole line (reporters/safe.py)."""
    pieces = [(safe_text(piece), style) for piece, style in segments]
    joined = "".join(piece for piece, _ in pieces)
    guarded = safe_line(joined)
    if guarded == joined:
        return pieces
    # The line started with "::": its first colon became "%3A", in the piece that holds it.
    start = len(joined) - len(joined.lstrip())
    for index, (piece, style) in enumerate(pieces):
        if start < len(piece):
            pieces[index] = (piece[:start] + "%3A" + piece[start + 1:], style)
            break
        start -= len(piece)
    return pieces


def _wants_rich(stream, color: bool) -> bool:
    """Whether output to ``stream`` may have colour; rich decides the rest (terminal kind, FORCE_COLOR)."""
    if not color:
        return False
    if "FORCE_COLOR" in os.environ or "TTY_COMPATIBLE" in os.environ:
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def write(report, stream, color: bool = False) -> None:
    """The text format of a Report."""
    render(output_for(stream, color), report.reported, len(report.files),
           suppressed=report.inline_suppressed, baselined=report.baselined, quiet=report.quiet)


def output_for(stream, color: bool):
    """Where ``render`` prints: a rich Console when colour can be shown, else a PlainConsole."""
    return console_for(stream, color) if _wants_rich(stream, color) else PlainConsole(stream)


def print_line(stream, color: bool, text: str) -> None:
    """One line of plain text (no markup) on ``stream``, as ``render`` prints its summary."""
    console = output_for(stream, color)
    if isinstance(console, PlainConsole):
        console.line([(text, None)])
    else:
        _rich_line(console, [(text, None)])


def _finding_lines(finding: Finding, show_source: bool, notes=None):
    """The lines of one finding, each a list of (text, style) pieces; ``notes``: what writes the
    related locations' lines instead (PlainConsole.notes), in their place."""
    style = SEVERITY_STYLE[finding.severity]
    yield [(f"{finding.path}:{finding.line}:{finding.column}:", "bold"), (" ", None), (finding.code, style),
           (" ", None), (f"[{finding.severity}]", style), (f" {finding.message}", None)]
    if show_source:
        for line in _frame(finding):
            yield [(line, "blue")]
        if notes is None:
            for path, line, column, note in finding.related:
                yield [("  ", None), (f"= note: {path}:{line}:{column}: {note}", "dim")]
        elif finding.related:
            notes(finding.related)
        if finding.hint:
            yield [("  ", None), (f"= hint: {finding.hint}", "dim")]
        yield []


def render(console, findings: list[Finding], files: int, show_source: bool = True,
           suppressed: int = 0, baselined: int = 0, quiet: bool = False) -> None:
    """Print every finding and (unless ``quiet``) a summary line on ``console`` (a rich Console
    or a PlainConsole)."""
    plain = isinstance(console, PlainConsole)
    emit = console.line if plain else (lambda segments: _rich_line(console, segments))
    if plain:
        console.findings(findings, show_source)
    else:
        for finding in findings:
            for segments in _finding_lines(finding, show_source):
                emit(segments)
    if not quiet:
        emit([(summary(findings, files, suppressed, baselined), None)])


def summary(findings: list[Finding], files: int, suppressed: int = 0, baselined: int = 0) -> str:
    """One line: how many findings of which severity in how many files, and how many were set aside."""
    in_files = f"in {files} file{'s' if files != 1 else ''}"
    if not findings:
        text = f"No findings {in_files}"
    else:
        counts = Counter(f.severity for f in findings)
        parts = ", ".join(f"{counts[s]} {s}" for s in sorted(counts, reverse=True))
        text = f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({parts}) {in_files}"
    aside = [f"{n} {what}" for n, what in ((suppressed, "suppressed"), (baselined, "baselined")) if n]
    return text + (f"; {', '.join(aside)}" if aside else "") + "."
