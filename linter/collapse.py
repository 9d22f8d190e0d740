"""Repeated low-value findings of one kind in one file, collapsed into one finding with a count.

A CI log's first screen must show causes, not 508 copies of "rule has no target" in an
accounting ruleset. The first finding of each group stays where it is, says how many more
there are and lists their lines; the others become its related locations (SARIF shows them).
"""

from __future__ import annotations

from dataclasses import replace

from linter.findings import Finding

# Findings that are worth one line per file, not one per rule: accounting rules without a
# target, unmodelled matches, unused chains, the variables of a fragment whose defines live in
# the file that includes it.
PER_FILE = frozenset({"PL013", "PL015", "PL031", "PL405"})
# Findings whose identical messages in one file share one cause (every jump to one missing chain).
PER_MESSAGE = frozenset({"PL404"})
COLLAPSE_FROM = 4  # fewer than this stay as they are
LINES_LISTED = 5


def collapse_repeats(findings: list[Finding]) -> list[Finding]:
    """``findings`` without exact duplicates (a file both walked and included by another is read
    twice), and with each large group of repeats replaced by its first finding and a count."""
    seen: set[tuple] = set()
    unique = []
    for finding in findings:
        identity = (finding.code, finding.path, finding.line, finding.column, finding.message)
        if identity not in seen:
            seen.add(identity)
            unique.append(finding)
    findings = unique
    groups: dict[tuple, list[Finding]] = {}
    for finding in findings:
        key = _group_key(finding)
        if key is not None:
            groups.setdefault(key, []).append(finding)
    dropped: set[int] = set()
    replaced: dict[int, Finding] = {}
    for members in groups.values():
        if len(members) < COLLAPSE_FROM:
            continue
        members.sort(key=Finding.sort_key)
        first, rest = members[0], members[1:]
        lines = ", ".join(str(f.line) for f in rest[:LINES_LISTED])
        if len(rest) > LINES_LISTED:
            lines += ", ..."
        message = f"{first.message} ({len(rest)} more like it in this file: lines {lines})"
        related = first.related + tuple((f.path, f.line, f.column, "same finding") for f in rest)
        replaced[id(first)] = replace(first, message=message, related=related)
        dropped.update(id(f) for f in rest)
    return [replaced.get(id(f), f) for f in findings if id(f) not in dropped]


def _group_key(finding: Finding):
    if finding.code in PER_FILE:
        return (finding.path, finding.code)
    if finding.code in PER_MESSAGE:
        return (finding.path, finding.code, finding.message)
    return None
