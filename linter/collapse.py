"""Repeated low-value findings of one kind in one file, collapsed into one finding with a count.

A CI log's first screen must show causes, not 508 copies of "rule has no target" in an
accounting ruleset. The first finding of each group stays where it is, says how many more
there are and lists their lines; the others become its related locations (SARIF shows them).
"""

from __future__ import annotations

from dataclasses import replace
from itertools import compress, islice, repeat
from operator import attrgetter, itemgetter, lt

from linter.findings import Finding, Severity

# Findings that are worth one line per file, not one per rule: accounting rules without a
# target, unmodelled matches, unused chains, the variables of a fragment whose defines live in
# the file that includes it.
PER_FILE = frozenset({"PL013", "PL015", "PL031", "PL405"})
# Findings whose identical messages in one file share one cause (every jump to one missing chain).
PER_MESSAGE = frozenset({"PL404"})
COLLAPSE_FROM = 4  # fewer than this stay as they are
# Ordinary services on the internet (SSH, HTTP: info) are worth one line per file: the first keeps
# its place and names the others with their lines.
ORDINARY = frozenset({"PL101", "PL201"})
ORDINARY_FROM = 2
LINES_LISTED = 5


def collapse_repeats(findings: list[Finding]) -> list[Finding]:
    """``findings`` without exact duplicates (a file both walked and included by another is read
    twice), and with each large group of repeats replaced by its first finding and a count."""
    # Messages are compared only between findings of one code at one place: most are never
    # read (Finding.deferred), and comparing the place first is the same test. Each finding is
    # placed in its group in the same pass (an allow-list's 50,000): ordinary info findings of a
    # file together, PER_FILE codes by file, PER_MESSAGE codes by file and message.
    # While each place comes after the one before (a file's findings, in file order), it is no
    # place seen before and nothing is looked up; from the first that does not, every place is
    # looked up in ``seen``, made then of the places so far (all different).
    seen: dict[tuple, Finding | set[str]] = {}  # place -> its one finding, or its messages
    ascending = True
    last: tuple = ()  # the last place while ascending (() is before every place)
    places: list[tuple] = []  # the place of each unique finding while ascending
    unique = []
    loose: list[Finding] = []  # the findings of no group
    groups: dict[tuple, tuple[list[Finding], list[tuple]]] = {}  # key -> (its findings, their places)
    info = Severity.INFO
    for finding in findings:
        code, path = finding.code, finding.path
        place = (path, finding.line, finding.column, code)
        if ascending:
            try:
                ascending = place > last
            except TypeError:  # (a line or column that is not a number; numbers and strings order totally)
                ascending = False
            if ascending:
                last = place
                places.append(place)
            else:
                seen = dict(zip(places, unique))
        if not ascending:
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
        if code in ORDINARY and finding.severity is info:
            key = (path, "ordinary")
        elif code in PER_FILE:
            key = (path, code)
        elif code in PER_MESSAGE:
            key = (path, code, finding.message)
        else:
            loose.append(finding)
            continue
        group = groups.get(key)
        if group is None:
            groups[key] = ([finding], [place])
        else:
            group[0].append(finding)
            group[1].append(place)
    findings = unique
    replaced: dict[int, Finding] = {}
    for key, (members, places) in groups.items():
        ordinary = key[-1] == "ordinary"
        if len(members) < (ORDINARY_FROM if ordinary else COLLAPSE_FROM):
            loose += members
            continue
        # The members' lines and columns from their places (not read again from each finding)
        # while they are in order; None once sorted.
        lines = list(map(_PLACE_LINE, places))
        if _in_order(members, lines):
            lines_of_rest, columns_of_rest = islice(lines, 1, None), map(_PLACE_COLUMN, islice(places, 1, None))
        else:
            lines_of_rest = columns_of_rest = None
        first, rest = members[0], members[1:]
        if ordinary:
            others = "; ".join(f"{_subject(f.message)} (line {f.line})" for f in rest[:LINES_LISTED])
            if len(rest) > LINES_LISTED:
                others += f" and {len(rest) - LINES_LISTED} more"
            message = f"{first.message}; so are {others}"
        else:
            listed = ", ".join(str(f.line) for f in rest[:LINES_LISTED])
            if len(rest) > LINES_LISTED:
                listed += ", ..."
            message = f"{first.message} ({len(rest)} more like it in this file: lines {listed})"
        # (path, line, column, "same finding") of each, made in C: an allow-list's 50,000. Every
        # member is in the group's file (key[0]).
        if lines_of_rest is None:
            lines_of_rest, columns_of_rest = map(_LINE, rest), map(_COLUMN, rest)
        related = first.related + tuple(zip(repeat(key[0]), lines_of_rest, columns_of_rest, repeat("same finding")))
        replaced[id(first)] = replace(first, message=message, related=related)
    if not replaced:
        return findings
    # What stays: the findings of no group or of a group too small, and each collapsed group's
    # first. Picked in unique order by their identities, in C (an allow-list keeps 1 of 50,000).
    staying = set(map(id, loose))
    staying.update(replaced)
    picked = compress(findings, map(staying.__contains__, map(id, findings)))
    return [replaced.get(id(f), f) for f in picked]


def _in_order(members: list[Finding], lines: list[int]) -> bool:
    """Sort the members of one group (all of one file) by Finding.sort_key, given their
    ``lines``; whether they were in that order already."""
    if all(map(lt, lines, islice(lines, 1, None))):
        # One file (the paths are equal), each line after the one before: in order already (an
        # allow-list's 50,000), told without a sort key made for each.
        return True
    members.sort(key=_SORT_KEY)
    return False


# Finding.sort_key's tuple, made in C (an allow-list's 50,000 ordinary findings are sorted here).
_SORT_KEY = attrgetter("path", "line", "column", "code", "key")
_LINE, _COLUMN = attrgetter("line"), attrgetter("column")
_PLACE_LINE, _PLACE_COLUMN = itemgetter(1), itemgetter(2)  # of a place (path, line, column, code)


def _subject(message: str) -> str:
    """ "port 80/tcp (commonly http)" of "port 80/tcp (commonly http) is a plaintext protocol ..."."""
    return message.split(" is ", 1)[0]
