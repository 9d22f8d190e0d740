"""The JSON report (schema version 1; later versions only add fields)."""

from __future__ import annotations

import json

from linter.findings import Finding

SCHEMA_VERSION = 1


def render(findings: list[Finding], errors: list[Finding], files: int) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "portlint"},
        "files": files,
        "findings": [f.as_record() for f in findings],
        "errors": [f.as_record() for f in errors],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
