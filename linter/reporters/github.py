"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=fw/rules.v4,line=3,col=1,endLine=3,title=PL101 plaintext-protocol-exposed::Telnet ...

error for critical and high, warning for medium, notice for low and info. Data escapes
%, CR and LF; property values also escape ':' and ',' (the runner's own rules), so no
message can end a command early or start another. Suppressed findings are not shown.
"""

from __future__ import annotations

from linter.findings import Finding, Severity, relative_path
from linter.reporters.safe import safe_text


COMMANDS = {
    Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
    Severity.LOW: "notice", Severity.INFO: "notice",
}


def escape_data(text: str) -> str:
    """A command's data: other control characters become ``?`` (reporters/safe.py), then the
    runner's escapes for %, CR and LF."""
    return safe_text(text, keep_newlines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    properties = {
        "file": relative_path(finding.path),
        "line": str(finding.line),
        "col": str(finding.column),
        "endLine": str(max(finding.end_line or finding.line, finding.line)),
        "title": f"{finding.code} {finding.name}",
    }
    message = finding.message + (f"\n{finding.hint}" if finding.hint else "")
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{COMMANDS[finding.severity]} {props}::{escape_data(message)}"


def render(report) -> str:
    return "".join(annotation(f) + "\n" for f in report.reported)
