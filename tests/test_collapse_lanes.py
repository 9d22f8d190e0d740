"""collapse_repeats against the way it was written before its lanes (places in ascending order
are not looked up; a group already in line order is not sorted again; what stays is picked by
identity in C): random findings, equal field for field, message for message, in the same order."""

from __future__ import annotations

import random
from dataclasses import replace
from itertools import repeat
from operator import attrgetter

from linter.collapse import COLLAPSE_FROM, LINES_LISTED, ORDINARY, ORDINARY_FROM, PER_FILE, PER_MESSAGE, \
    _subject, collapse_repeats
from linter.findings import Finding, Severity

CODES = ("PL201", "PL101", "PL013", "PL404", "PL300")


def _reference(findings: list[Finding]) -> list[Finding]:
    """The collapse as it was (one dictionary of places, every group sorted, a set of ids dropped)."""
    seen: dict = {}
    unique = []
    groups: dict = {}
    for finding in findings:
        place = (finding.code, finding.path, finding.line, finding.column)
        said = seen.get(place)
        if said is None:
            seen[place] = finding
        else:
            if isinstance(said, Finding):
                said = seen[place] = {said.message}
            if finding.message in said:
                continue
            said.add(finding.message)
        unique.append(finding)
        code, path = finding.code, finding.path
        if code in ORDINARY and finding.severity is Severity.INFO:
            key = (path, "ordinary")
        elif code in PER_FILE:
            key = (path, code)
        elif code in PER_MESSAGE:
            key = (path, code, finding.message)
        else:
            continue
        groups.setdefault(key, []).append(finding)
    dropped: set = set()
    replaced: dict = {}
    for key, members in groups.items():
        ordinary = key[-1] == "ordinary"
        if len(members) < (ORDINARY_FROM if ordinary else COLLAPSE_FROM):
            continue
        members.sort(key=attrgetter("path", "line", "column", "code", "key"))
        first, rest = members[0], members[1:]
        if ordinary:
            others = "; ".join(f"{_subject(f.message)} (line {f.line})" for f in rest[:LINES_LISTED])
            if len(rest) > LINES_LISTED:
                others += f" and {len(rest) - LINES_LISTED} more"
            message = f"{first.message}; so are {others}"
        else:
            lines = ", ".join(str(f.line) for f in rest[:LINES_LISTED])
            if len(rest) > LINES_LISTED:
                lines += ", ..."
            message = f"{first.message} ({len(rest)} more like it in this file: lines {lines})"
        related = first.related + tuple(zip(map(attrgetter("path"), rest), map(attrgetter("line"), rest),
                                            map(attrgetter("column"), rest), repeat("same finding")))
        replaced[id(first)] = replace(first, message=message, related=related)
        dropped.update(map(id, rest))
    return [replaced.get(id(f), f) for f in unique if id(f) not in dropped]


def _finding(rng: random.Random, line: int) -> Finding:
    code = rng.choice(CODES)
    return Finding(code=code, name="n", severity=rng.choice((Severity.INFO, Severity.INFO, Severity.HIGH)),
                   category="c", path=rng.choice(("a.rules", "b.rules")), line=line,
                   column=rng.choice((1, 1, 1, 4)), message=f"port {line} is open{rng.choice(('', ' here'))}",
                   key=rng.choice(("k", "j")), related=rng.choice(((), (("a.rules", 1, 1, "jump"),))))


def _state(findings: list[Finding]) -> list[dict]:
    return [dict(vars(f), message=f.message) for f in findings]


def test_the_collapse_equals_the_way_it_was_on_random_findings():
    rng = random.Random(14)
    for _ in range(400):
        size = rng.choice((1, 3, 8, 30, 120))
        if rng.random() < 0.5:  # in line order, as a file's checks give them (the lane)
            lines = sorted(rng.sample(range(1, 400), size))
        else:  # any order, repeated lines
            lines = [rng.randrange(1, 40) for _ in range(size)]
        findings = [_finding(rng, line) for line in lines]
        if rng.random() < 0.3:
            findings += rng.sample(findings, min(3, len(findings)))  # the same objects again
        if rng.random() < 0.3:
            findings += [replace(f) for f in rng.sample(findings, min(3, len(findings)))]  # equal copies
        if rng.random() < 0.3:  # one large group of ordinary findings in one file, in line order
            findings = [replace(findings[0], code="PL201", severity=Severity.INFO, path="c.rules", line=line)
                        for line in range(5, 5 + 3 * size, 3)] + findings
        if rng.random() < 0.1:  # a line that is not a number, in a finding of no group: compared no further
            findings.insert(rng.randrange(len(findings) + 1), replace(findings[0], code="PL300", line=None))
        assert _state(collapse_repeats(list(findings))) == _state(_reference(list(findings)))
