"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run; tool.driver lists every rule that ran (and any other code a result names) with
its documentation as help text and a security-severity for GitHub. Paths are relative
to the working directory under the base id %SRCROOT%; results carry the finding's
fingerprint as partialFingerprints["portlint/v1"], so alerts follow a finding across
line moves. Suppressed findings are results with a suppression: "inSource" for inline
comments, "external" for the baseline, each with its justification.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from linter.findings import Finding, Severity, Suppressed, relative_path
from linter.reporters.json_text import indented
from linter.reporters.safe import escape_json


SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "portlint/v1"
SRCROOT = "%SRCROOT%"
LEVELS = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
    Severity.LOW: "note", Severity.INFO: "note",
}
# GitHub's security-severity scale: over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5", Severity.HIGH: "7.5", Severity.MEDIUM: "5.0", Severity.LOW: "3.0", Severity.INFO: "1.0",
}
NOT_SECURITY = ("parse", "meta")
SUPPRESSION_KINDS = {"inline": "inSource", "baseline": "external"}


def artifact_location(path: str) -> dict:
    """A path as SARIF names it: relative to %SRCROOT% (the working directory) or an absolute file URI."""
    relative = relative_path(path)
    if os.path.isabs(relative):
        return {"uri": Path(relative).as_uri()}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SRCROOT}


def region(finding: Finding) -> dict:
    """Start and end of a finding; SARIF's endColumn is the column after the last character."""
    out = {"startLine": finding.line, "startColumn": max(finding.column, 1)}
    end_line = max(finding.end_line or finding.line, finding.line)
    out["endLine"] = end_line
    end_column = finding.end_column
    if end_column is None and end_line == finding.line and finding.source_line:
        end_column = len(finding.source_line.rstrip("\r\n")) + 1
    if end_column is not None:
        if end_line == finding.line and end_column <= out["startColumn"]:
            end_column = out["startColumn"] + 1
        out["endColumn"] = end_column
    return out


def _fenced(text: str) -> str:
    fence = "````" if "```" in text else "```"
    return f"{fence}text\n{text.rstrip()}\n{fence}"


def _use_instead_markdown(text: str) -> str:
    """Prose stays prose; rule lines after a line ending in ':' (or a text that is all rules) are fenced."""
    lines = text.rstrip().splitlines()
    for index, line in enumerate(lines):
        if line.rstrip().endswith(":") and index + 1 < len(lines):
            return "\n".join(lines[:index + 1]) + "\n\n" + _fenced("\n".join(lines[index + 1:]))
    if len(lines) == 1 and lines[0].rstrip().endswith("."):
        return lines[0]
    return _fenced(text)


def help_markdown(meta) -> str:
    """A rule's documentation sections as Markdown."""
    from linter.rulebook import DOC_TITLES

    docs = meta.docs
    parts = [f"## {DOC_TITLES['what_it_does']}", str(docs["what_it_does"]).strip(),
             f"## {DOC_TITLES['why_is_this_bad']}", str(docs["why_is_this_bad"]).strip(),
             f"## {DOC_TITLES['example']}", _fenced(str(docs["example"])),
             f"## {DOC_TITLES['use_instead']}", _use_instead_markdown(str(docs["use_instead"]))]
    references = docs.get("references") or []
    if references:
        parts += [f"## {DOC_TITLES['references']}", "\n".join(f"- {item}" for item in references)]
    if meta.options:
        parts += ["## Options", "\n".join(f"- `{key}` (default `{value}`)" for key, value in meta.options.items())]
    return "\n\n".join(parts) + "\n"


def rule_descriptor(meta, severity: Severity) -> dict:
    # GitHub files rules tagged "security" under security alerts; input and suppression problems are not.
    tags = [meta.category] if meta.category in NOT_SECURITY else ["security", meta.category]
    if meta.cwe:
        tags.append(f"external/cwe/{meta.cwe.lower()}")
    return {
        "id": meta.code,
        "name": meta.name,
        "shortDescription": {"text": meta.name.replace("-", " ").capitalize()},
        "fullDescription": {"text": " ".join(str(meta.docs["what_it_does"]).split())},
        "help": {"text": meta.render_doc(), "markdown": help_markdown(meta)},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[severity], "tags": tags},
    }


def result(finding: Finding, index: int, suppressed: Suppressed | None = None) -> dict:
    out = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact_location(finding.path), "region": region(finding)}}],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.related:
        # Each path's location worked out once (a collapsed allow-list's 50,000 related locations
        # are of one file: a relpath and a quote each took most of a second), a copy of it for each.
        located = {path: artifact_location(path) for path in {entry[0] for entry in finding.related}}
        out["relatedLocations"] = [
            {"id": number, "message": {"text": note}, "physicalLocation": {
                "artifactLocation": located[path].copy(),
                "region": {"startLine": line, "startColumn": max(column, 1)}}}
            for number, (path, line, column, note) in enumerate(finding.related, start=1)
        ]
    if suppressed is not None:
        entry = {"kind": SUPPRESSION_KINDS.get(suppressed.kind, "external"), "status": "accepted"}
        if suppressed.justification:
            entry["justification"] = suppressed.justification
        out["suppressions"] = [entry]
    properties = {"severity": str(finding.severity)}
    if finding.hint:
        properties["hint"] = finding.hint
    out["properties"] = properties
    return out


def sarif_document(report) -> dict:
    from linter import __version__
    from linter.rulebook import all_rules

    metas = all_rules()
    severities = report.rule_severities()
    entries = [(f, None) for f in report.reported] + [(s.finding, s) for s in report.suppressed]
    entries.sort(key=lambda item: item[0].sort_key())
    codes = sorted(set(severities) | {f.code for f, _ in entries})
    rules = [rule_descriptor(metas[code], severities.get(code, metas[code].severity)) for code in codes]
    index = {code: number for number, code in enumerate(codes)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "portlint", "version": __version__, "semanticVersion": __version__,
                                "rules": rules}},
            "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri().rstrip("/") + "/"}},
            "invocations": [{"executionSuccessful": not report.errors}],
            "columnKind": "unicodeCodePoints",
            "results": [result(f, index[f.code], s) for f, s in entries],
        }],
    }


def render(report) -> str:
    return escape_json(indented(sarif_document(report))) + "\n"
