"""Human output in the ruff style: location, code, severity, message, the line and a caret."""

from __future__ import annotations

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


def render(console: Console, findings: list[Finding], files: int, show_source: bool = True) -> None:
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
    console.print(summary(findings, files), soft_wrap=True)


def summary(findings: list[Finding], files: int) -> str:
    if not findings:
        return f"No findings in {files} file{'s' if files != 1 else ''}."
    counts = Counter(f.severity for f in findings)
    parts = ", ".join(f"{counts[s]} {s}" for s in sorted(counts, reverse=True))
    return (f"Found {len(findings)} finding{'s' if len(findings) != 1 else ''} ({parts}) "
            f"in {files} file{'s' if files != 1 else ''}.")


def render_concise(console: Console, findings: list[Finding], files: int) -> None:
    """One line per finding, no source, then the summary."""
    render(console, findings, files, show_source=False)
