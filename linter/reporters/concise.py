"""One line per finding (path:line:column: code [severity] message), then the summary."""

from __future__ import annotations

from linter.reporters.text import output_for, render


def write(report, stream, color: bool = False) -> None:
    render(output_for(stream, color), report.reported, len(report.files), show_source=False,
           suppressed=report.inline_suppressed, baselined=report.baselined, quiet=report.quiet)
