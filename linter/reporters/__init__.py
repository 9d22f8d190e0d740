"""Reporters: turn finding records into text, JSON and the formats CI systems read.

Reporters read Finding records only (and rule metadata for the formats that describe
rules); they never see a parse tree or a firewall rule. Every format is a module here,
named in FORMATS and imported only when chosen. A module offers either
``render(report) -> str`` or, for the formats written for people,
``write(report, stream, color)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from operator import attrgetter

from linter.findings import Finding, Severity, Suppressed

# name -> (module, what it is for)
FORMATS: dict[str, tuple[str, str]] = {
    "text": ("linter.reporters.text", "for people: each finding with its line, a caret and a hint, then a summary"),
    "concise": ("linter.reporters.concise", "one line per finding, then a summary"),
    "json": ("linter.reporters.json_report", "portlint's own JSON, schema version 1"),
    "sarif": ("linter.reporters.sarif", "SARIF 2.1.0 (GitHub code scanning and other SARIF viewers)"),
    "junit": ("linter.reporters.junit", "JUnit XML: a test suite per file, a test case per rule"),
    "github": ("linter.reporters.github", "GitHub Actions workflow command annotations"),
    "gitlab": ("linter.reporters.gitlab", "GitLab Code Quality report (JSON)"),
}
# What --statistics prints instead of the findings (text, or JSON with --format json).
STATISTICS_FORMATS: dict[str, tuple[str, str]] = {
    "statistics": ("linter.reporters.statistics", "how many findings each rule has"),
    "statistics-json": ("linter.reporters.statistics_json", "the same, as JSON"),
}


# Finding.sort_key's tuple, made in C (a random mix's 7,400 findings are sorted per report).
FINDING_ORDER = attrgetter("path", "line", "column", "code", "key")


@dataclass
class Report:
    """What a run found, as reporters see it."""

    findings: list[Finding]  # what counts for the exit code (inputs that could not be read excluded)
    errors: list[Finding] = field(default_factory=list)  # inputs that could not be read
    suppressed: list[Suppressed] = field(default_factory=list)  # inline suppressions and the baseline
    files: list[str] = field(default_factory=list)  # every input, as findings name it
    rules: dict[str, Severity] | None = None  # rules that ran, with their (configured) severity; None: all
    file_rules: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per file, when it differs
    quiet: bool = False  # -q: the findings and nothing else (no summary line)

    @property
    def reported(self) -> list[Finding]:
        """Errors and findings, in file order."""
        return sorted([*self.errors, *self.findings], key=FINDING_ORDER)

    @property
    def baselined(self) -> int:
        return sum(1 for s in self.suppressed if s.kind == "baseline")

    @property
    def inline_suppressed(self) -> int:
        return sum(1 for s in self.suppressed if s.kind != "baseline")

    def rule_severities(self) -> dict[str, Severity]:
        """Every rule that ran, code -> default severity (as configured)."""
        if self.rules is not None:
            return dict(self.rules)
        from linter.rulebook import all_rules

        return {code: meta.severity for code, meta in all_rules().items()}

    def rules_for(self, path: str) -> tuple[str, ...]:
        """The rules that ran on ``path``."""
        if path in self.file_rules:
            return self.file_rules[path]
        return tuple(self.rule_severities())


def write_report(fmt: str, report: Report, stream, color: bool = False) -> None:
    """Write ``report`` in format ``fmt`` to ``stream``."""
    module = importlib.import_module((FORMATS.get(fmt) or STATISTICS_FORMATS[fmt])[0])
    if hasattr(module, "write"):
        module.write(report, stream, color)
    else:
        stream.write(module.render(report))
