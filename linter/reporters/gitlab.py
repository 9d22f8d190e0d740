"""GitLab Code Quality: a JSON array of issues for the merge request widget.

    [{"description": "...", "check_name": "PL101", "fingerprint": "...", "severity": "critical",
      "location": {"path": "fw/rules.v4", "lines": {"begin": 3}}}]

Severities: info -> info, low -> minor, medium -> major, high -> critical, critical -> blocker.
GitLab keeps one issue per fingerprint, so a finding that shares its fingerprint with an
earlier one in the report (the same thing opened twice in a file) gets the fingerprint
with its occurrence number folded in; the first keeps the plain one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

from linter.findings import Severity, relative_path
from linter.reporters.safe import escape_json


SEVERITIES = {
    Severity.INFO: "info", Severity.LOW: "minor", Severity.MEDIUM: "major",
    Severity.HIGH: "critical", Severity.CRITICAL: "blocker",
}


def render(report) -> str:
    seen: Counter = Counter()
    issues = []
    for finding in report.reported:
        fingerprint = finding.fingerprint
        seen[fingerprint] += 1
        if seen[fingerprint] > 1:
            fingerprint = hashlib.sha256(f"{fingerprint}:{seen[fingerprint]}".encode()).hexdigest()[:32]
        issues.append({
            "description": f"{finding.code} {finding.message}",
            "check_name": finding.code,
            "fingerprint": fingerprint,
            "severity": SEVERITIES[finding.severity],
            "location": {"path": relative_path(finding.path), "lines": {"begin": finding.line}},
        })
    return escape_json(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n"
