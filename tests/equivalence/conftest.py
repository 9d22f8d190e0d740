"""Summary lines of the translate equivalence test, printed at the end of the run."""

from __future__ import annotations

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("portlint translate equivalence")
        for line in SUMMARY:
            terminalreporter.write_line(line)
