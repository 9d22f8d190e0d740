"""JUnit XML: a test suite per file, a test case per rule that ran on it.

A rule with findings in the file fails its test case; the failure lists every finding
(line, column, message). Rules without findings pass, so a CI test view shows what was
checked as well as what failed. An input that could not be read is an error.
Suppressed findings fail nothing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from linter.findings import Finding
from linter.reporters.safe import safe_lines

# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return safe_lines(_NOT_XML.sub("\ufffd", text))


def _line(finding: Finding) -> str:
    return f"line {finding.line}, column {finding.column}: [{finding.severity}] {finding.message}"


def render(report) -> str:
    from linter.rulebook import all_rules

    metas = all_rules()
    by_file: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in report.reported:
        by_file[finding.path][finding.code].append(finding)
    errors = {(f.path, f.code) for f in report.errors}
    error_files = {path for path, _ in errors}
    paths = list(dict.fromkeys([*report.files, *by_file]))

    root = ET.Element("testsuites", name="portlint")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for path in paths:
        found = by_file.get(path, {})
        codes = [found.keys()] if path in error_files else [report.rules_for(path), found.keys()]
        codes = list(dict.fromkeys(code for group in codes for code in group))
        suite = ET.SubElement(root, "testsuite", name=_clean(path))
        counts = {"tests": len(codes), "failures": 0, "errors": 0}
        for code in codes:
            meta = metas.get(code)
            case = ET.SubElement(suite, "testcase", name=f"{code} {meta.name if meta else ''}".strip(),
                                 classname=_clean(path))
            findings = found.get(code, [])
            if not findings:
                continue
            errored = (path, code) in errors
            tag = "error" if errored else "failure"
            counts["errors" if errored else "failures"] += 1
            first = findings[0]
            message = _line(first) if len(findings) == 1 else f"{len(findings)} findings, first at {_line(first)}"
            element = ET.SubElement(case, tag, message=_clean(message), type=str(max(f.severity for f in findings)))
            element.text = _clean("\n".join(f"{f.path}:{f.line}:{f.column}: {f.code} [{f.severity}] {f.message}"
                                            + (f"\n  hint: {f.hint}" if f.hint else "") for f in findings))
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("skipped", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
