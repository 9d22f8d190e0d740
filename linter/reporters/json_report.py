"""The JSON report (schema version 1; later versions only add fields).

    {"version": 1, "tool": {...}, "files": 3,
     "findings": [record...],      what counts for the exit code
     "errors": [record...],        inputs that could not be read
     "suppressed": [record + "suppression": {kind, justification, scope, line, until}...],
     "baselined": 2}

A record is Finding.as_record(). "suppressed" holds findings silenced inline
(kind "inline") and those recorded in the baseline (kind "baseline").
"""

from __future__ import annotations

from linter.findings import Finding
from linter.reporters.json_text import indented
from linter.reporters.safe import escape_json

SCHEMA_VERSION = 1


def render(report) -> str:
    from linter import __version__

    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "portlint", "version": __version__},
        "files": len(report.files),
        "findings": [f.as_record() for f in sorted(report.findings, key=Finding.sort_key)],
        "errors": [f.as_record() for f in sorted(report.errors, key=Finding.sort_key)],
        "suppressed": [s.as_record() for s in sorted(report.suppressed, key=lambda s: s.finding.sort_key())],
        "baselined": report.baselined,
    }
    return escape_json(indented(document)) + "\n"
