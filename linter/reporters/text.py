"""Human output in the ruff style: location, code, severity, message, the line and a caret."""

from __future__ import annotations

import os
from collections import Counter

from rich.console import Console
from rich.markup import escape

from linter.findings import Finding, Severity

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _frame(finding: Finding) -> list[str]:
    if finding.excerpt:
        first, _, caret = finding.excerpt.partition("\n")
        width = len(str(finding.line))
        return [f"{' ' * width} |", f"{finding.line} | {first}", f"{' ' * width} | {caret}"]
    if not finding.source_line:
        return []
    line = finding.source_line.rstrip("\r\n").expandtabs(1)
    width = len(str(finding.line))
    start = max(finding.column - 1, 0)
    if finding.end_line == finding.line and finding.end_column and finding.end_column > finding.column:
        length = finding.end_column - finding.column
    else:
        length = max(len(line.rstrip()) - start, 1)
    return [f"{' ' * width} |", f"{finding.line} | {line}", f"{' ' * width} | {' ' * start}{'^' * length}"]


def console_for(stream, color: bool) -> Console:
    """A console on ``stream``: colour only when asked and the stream is a terminal; no wrapping when piped."""
    tty = hasattr(stream, "isatty") and stream.isatty()
    return Console(file=stream, no_color=not color, highlight=False, emoji=False,
                   color_system="auto" if color else None, width=None if tty else 10_000)


def wants_color(no_color: bool = False) -> bool:
    """Colour unless --no-color or NO_COLOR (https://no-color.org) says otherwise."""
    return not no_color and "NO_COLOR" not in os.environ


def write(report, stream, color: bool = False) -> None:
    """The text format of a Report."""
    render(console_for(stream, color), report.reported, len(report.files),
           suppressed=report.inline_suppressed, baselined=report.baselined)


def render(console: Console, findings: list[Finding], files: int, show_source: bool = True,
           suppressed: int = 0, baselined: int = 0) -> None:
    """Print every finding and a summary line."""
    for finding in findings:
        style = SEVERITY_STYLE[finding.severity]
        console.print(
            f"[bold]{escape(finding.path)}:{finding.line}:{finding.column}:[/bold] "
            f"[{style}]{finding.code}[/{style}] [{style}]\\[{finding.severity}][/{style}] {escape(finding.message)}",
            soft_wrap=True,
        )
        if show_source:
            for line in _frame(finding):
                console.print(f"[blue]{escape(line)}[/blue]", soft_wrap=True)
            for path, line, column, note in finding.related:
                console.print(f"  [dim]= note: {escape(path)}:{line}:{column}: {escape(note)}[/dim]", soft_wrap=True)
            if finding.hint:
                console.print(f"  [dim]= hint: {escape(finding.hint)}[/dim]", soft_wrap=True)
            console.print()
    console.print(escape(summary(findings, files, suppressed, baselined)), soft_wrap=True)


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
