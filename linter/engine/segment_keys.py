"""Growing a dispatch segment's keys over a run of rules (walk.blocks_of, walk.Segment).

A run of rules that each test one plain value on one dimension (a source address, a
destination, a destination port) is grouped by that value, its key, as long as every new key
is disjoint from the keys before it. Blocklists and allow-lists are such runs of 100,000
rules: this is one pass over them with the key read in place (no call per rule), and keys that
come in ascending order (sorted lists) are checked against the highest address so far only.
"""

from __future__ import annotations

import re
from bisect import bisect_left, insort

from linter.model import AddressMatch, Direction, PortMatch

_KIND = {
    "dst": (AddressMatch, Direction.DESTINATION),
    "src": (AddressMatch, Direction.SOURCE),
    "dport": (PortMatch, Direction.DESTINATION),
}


def dispatch_key(rule, dimension: str):
    """(family or None, ranges) of the rule's first plain (not negated) match on ``dimension``,
    or None."""
    kind, direction = _KIND[dimension]
    for match in rule.matches:
        if match.negated:
            continue
        if type(match) is kind and match.direction is direction:
            if kind is PortMatch:
                return None, match.ports.ranges
            return match.addresses.family, match.addresses.ranges
    return None


def grow_keys(rules, start: int, dimension: str, family, beat: int | None = None):
    """(groups of rules, their keys, (lo, hi, group) of every key's intervals in the order
    met, the end of the run) for the run of ``rules`` from ``start`` whose keys on
    ``dimension`` are of ``family`` and each equal to or disjoint from every key before it.

    With ``beat`` (the best score of another dimension's run, walk.blocks_of), the growing
    stops early, the run cut short, once its score (its length less its largest group) can no
    longer pass ``beat``: a run's score never falls as it grows (a rule adds one to its length
    and at most one to its largest group), so a run cut short loses as the whole one would."""
    kind, direction = _KIND[dimension]
    port = kind is PortMatch
    groups: list[list] = []
    keys: list = []
    intervals: list[tuple[int, int, int]] = []
    by_key: dict | None = None  # key -> its group; built once a key is not above all the others
    taken: list[tuple[int, int]] | None = None  # sorted, disjoint; built once a key comes out of order
    top = -1  # the highest address (or port) of any key so far
    end = len(rules)
    biggest = 1  # the largest group's size so far (followed only with ``beat``)
    last_key = last_group = None  # keys[-1] and groups[-1]: an allow-list's ports for one source share a key
    for j in range(start, end):
        rule = rules[j]
        ranges = None
        for match in rule.matches:
            if match.negated:
                continue
            if type(match) is kind and match.direction is direction:
                if port:
                    ranges = match.ports.ranges
                elif match.addresses.family is family:
                    ranges = match.addresses.ranges
                break
        if not ranges:  # (None: no key; an empty key is never one of the keys so far)
            break
        if ranges[0][0] > top:
            group = None  # above every key so far (a sorted list): equal to none, overlapping none
        elif ranges == last_key:
            last_group.append(rule)  # (the key of the rule before)
            if beat is not None and len(last_group) > biggest:
                biggest = len(last_group)
                if end - start - biggest <= beat:
                    break  # (cut short: cannot beat the other run)
            continue
        else:
            if by_key is None:
                by_key = {key: index for index, key in enumerate(keys)}
            group = by_key.get(ranges)
            if group is None:
                if taken is None:
                    taken = sorted([(lo, hi) for lo, hi, _ in intervals])
                if _overlaps(taken, ranges):
                    break
        if group is None:
            group = len(groups)
            if by_key is not None:
                by_key[ranges] = group
            last_group = [rule]
            groups.append(last_group)
            keys.append(ranges)
            last_key = ranges
            for lo, hi in ranges:
                intervals.append((lo, hi, group))
                if taken is not None:
                    if taken[-1] < (lo, hi):
                        taken.append((lo, hi))
                    else:
                        insort(taken, (lo, hi))
                if hi > top:
                    top = hi
        else:
            members = groups[group]
            members.append(rule)
            if beat is not None and len(members) > biggest:
                biggest = len(members)
                if end - start - biggest <= beat:
                    break  # (cut short: cannot beat the other run)
    else:
        j = max(start, end)  # (every rule taken; none when ``start`` is past the end)
    return groups, keys, intervals, j


def keyless_at(rules, end: int, dimension: str, family) -> bool:
    """Whether a run on ``dimension`` of ``family`` that grow_keys stopped at ``end`` stopped
    there because that rule has no key of its own (or the rules ran out): then no run starting
    after the run's start and before ``end`` goes past ``end`` either (each rule between holds a
    key of ``family``, and none can make ``end``'s rule hold one), so walk.blocks_of need not
    grow them once this run was too short."""
    if end >= len(rules):
        return True
    key = dispatch_key(rules[end], dimension)
    return not (key is not None and key[1] and (key[0] is family or dimension == "dport"))


def _overlaps(taken: list[tuple[int, int]], ranges) -> bool:
    for lo, hi in ranges:
        position = bisect_left(taken, (lo, -1))
        if position > 0 and taken[position - 1][1] >= lo:
            return True
        if position < len(taken) and taken[position][0] <= hi:
            return True
    return False


def covered_by(intervals: list[tuple[int, int, int]]) -> tuple:
    """The union of a segment's key intervals, ``(lo, hi, group)`` sorted: iv.normalize's
    answer in one pass, without sorting the pairs again."""
    covered: list[tuple[int, int]] = []
    append = covered.append
    if not intervals:
        return ()
    low, high, _ = intervals[0]
    for lo, hi, _ in intervals:
        if lo <= high + 1:
            if hi > high:
                high = hi
        else:
            append((low, high))
            low, high = lo, hi
    append((low, high))
    return tuple(covered)


def long_starts(rules, start: int, stop: int, least: int) -> dict[str, set[int]]:
    """Per dimension, the rules of ``rules[start:stop]`` (by index in ``rules``) from which the
    stretch of rules whose keys are of the rule's key's family holds ``least`` rules or more,
    looking no further than ``stop``. grow_keys from a rule stops at its stretch's end or
    before (at the first rule without a key of the family), so walk.blocks_of need not grow a
    run from any other rule when its stretch ends before ``stop``: one pass reading each rule's
    matches once, instead of a key and a grow per rule and dimension (a random mix's INPUT of
    50,000 rules, few of them in runs). Each rule's family is written as a byte (0: no key),
    and the stretches are found as runs of one byte by a regular expression, in C."""
    count = stop - start
    dst, src, dport = bytearray(count), bytearray(count), bytearray(count)
    codes: dict = {}  # family -> its byte (1, 2...; a port key is 1 in ``dport``)
    source, destination = Direction.SOURCE, Direction.DESTINATION
    for index in range(count):
        seen_src = seen_dst = seen_port = False
        for match in rules[start + index].matches:
            if match.negated:
                continue
            kind = type(match)
            if kind is AddressMatch:
                if match.direction is source:
                    if not seen_src:
                        seen_src = True
                        if match.addresses.ranges:
                            family = match.addresses.family
                            src[index] = codes.get(family) or codes.setdefault(family, len(codes) + 1)
                elif match.direction is destination and not seen_dst:
                    seen_dst = True
                    if match.addresses.ranges:
                        family = match.addresses.family
                        dst[index] = codes.get(family) or codes.setdefault(family, len(codes) + 1)
            elif kind is PortMatch and match.direction is destination and not seen_port:
                seen_port = True
                if match.ports.ranges:
                    dport[index] = 1
    runs = _RUNS.get(least)
    if runs is None:
        runs = _RUNS[least] = re.compile(rb"([\x01-\xff])\1{%d,}" % (least - 1) if least > 1 else rb"[\x01-\xff]")
    found = {}
    for dimension, families in (("dst", dst), ("src", src), ("dport", dport)):
        starts: set[int] = set()
        for run in runs.finditer(families):
            starts.update(range(start + run.start(), start + run.end() - least + 1))
        found[dimension] = starts
    return found


_RUNS: dict = {}  # least -> the pattern of a run of at least that many equal bytes other than 0


REACH_WINDOW = 1024  # rules whose key stretches KeyStretches reads at a time


class KeyStretches:
    """Which dimensions a run of at least ``least`` rules may start on at a rule, from the
    rules' key stretches (long_starts), read a window at a time (a chain that is one long run,
    an allow-list, reads one window before its run is grown and skipped)."""

    def __init__(self, rules, dimensions: tuple, least: int):
        self.rules, self.dimensions, self.least = rules, dimensions, least
        self.found: list = []  # (dimension, the rules from which its stretch is long), in ``dimensions``' order
        self.longs: list[int] = []  # the rules from which some dimension's stretch is long, sorted
        self.known_until = 0  # (``found`` and ``longs`` are exact before it)

    def long_at(self, i: int) -> list[str]:
        """The dimensions (in the order given) whose stretch from rule ``i`` holds ``least`` rules."""
        if i >= self.known_until:
            self._read(i)
        return [dimension for dimension, starts in self.found if i in starts]

    def pass_short(self, blocks: list, i: int, last: int) -> int:
        """``blocks`` extended with rule ``i`` and every rule after it up to the first (no further
        than ``last``) whose long_at is not empty: that rule's index (the rules' count when none
        is). walk.blocks_of grows no run from a rule whose long_at is empty, and keeps it as it is:
        a random mix's INPUT of 50,000 rules has a few hundred such starts, met here by a
        bisection per window instead of a long_at per rule."""
        rules = self.rules
        stop = i + 1
        while stop <= last:
            if stop >= self.known_until:
                self._read(stop)
            longs = self.longs
            at = bisect_left(longs, stop)
            if at < len(longs):
                stop = longs[at] if longs[at] <= last else len(rules)
                break
            stop = self.known_until
        else:
            stop = len(rules)
        blocks.extend(rules[i:stop])
        return stop

    def _read(self, i: int) -> None:
        """The stretches of the window of rules from ``i``."""
        count, least = len(self.rules), self.least
        stop = min(count, i + REACH_WINDOW + least)
        found = long_starts(self.rules, i, stop, least)
        self.found = [(dimension, found[dimension]) for dimension in self.dimensions]
        # (A stretch cut at ``stop`` is long enough, or not, alike for a rule ``least`` before it:
        # every rule named lies before ``stop - least + 1``.)
        self.known_until = stop - least + 1 if stop < count else stop
        self.longs = sorted(set().union(*(starts for _, starts in self.found)))
