"""Growing a dispatch segment's keys over a run of rules (walk.blocks_of, walk.Segment).

A run of rules that each test one plain value on one dimension (a source address, a
destination, a destination port) is grouped by that value, its key, as long as every new key
is disjoint from the keys before it. Blocklists and allow-lists are such runs of 100,000
rules: this is one pass over them with the key read in place (no call per rule), and keys that
come in ascending order (sorted lists) are checked against the highest address so far only.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from itertools import compress
from operator import le

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
    j = start
    while j < end:
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
        elif ranges == keys[-1]:
            group = len(keys) - 1  # the key of the rule before (an allow-list's ports for one source)
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
            groups.append([rule])
            keys.append(ranges)
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
        j += 1
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


_NO_KEY = object()  # (a rule without a key on a dimension: equal to no family)
_PORT_KEY = object()  # (a port key: of every family alike)


def keyed_reach(rules, start: int, stop: int) -> dict[str, list[int]]:
    """Per dimension, for every rule of ``rules[start:stop]`` (in order), where the stretch of
    rules from it whose keys are of its key's family ends, looking no further than ``stop``
    (the rule itself without a key: its own index). grow_keys from a rule stops at that end or
    before (at the first rule without a key of the family), so walk.blocks_of need not grow a
    run from a rule whose stretch is shorter than a segment, when it ends before ``stop``: one
    pass reading each rule's matches once, instead of a key and a grow per rule and dimension
    (a random mix's INPUT of 50,000 rules, few of them in runs)."""
    count = stop - start
    families = {"dst": [_NO_KEY] * count, "src": [_NO_KEY] * count, "dport": [_NO_KEY] * count}
    dst, src, dport = families["dst"], families["src"], families["dport"]
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
                            src[index] = match.addresses.family
                elif match.direction is destination and not seen_dst:
                    seen_dst = True
                    if match.addresses.ranges:
                        dst[index] = match.addresses.family
            elif kind is PortMatch and match.direction is destination and not seen_port:
                seen_port = True
                if match.ports.ranges:
                    dport[index] = _PORT_KEY
    return {dimension: _reach(found, start) for dimension, found in families.items()}


def _reach(families: list, start: int) -> list[int]:
    """For every index of ``families`` (the rules' from ``start``), the end of the stretch from
    it of one family, as a rule's index (its own where it holds no key)."""
    count = len(families)
    reach = [0] * count
    end = start + count
    following = _NO_KEY
    for index in range(count - 1, -1, -1):
        family = families[index]
        if family is _NO_KEY:
            end = start + index
        elif family is not following:
            end = start + index + 1
        # (else: in the stretch of the rule after it, which ends where that one ends)
        reach[index] = end
        following = family
    return reach


REACH_WINDOW = 1024  # rules whose key stretches KeyStretches reads at a time


class KeyStretches:
    """Which dimensions a run of at least ``least`` rules may start on at a rule, from the
    rules' key stretches (keyed_reach), read a window at a time (a chain that is one long run,
    an allow-list, reads one window before its run is grown and skipped)."""

    def __init__(self, rules, dimensions: tuple, least: int):
        self.rules, self.dimensions, self.least = rules, dimensions, least
        self.ends: list = []
        self.longs: list[int] = []  # (absolute indices: see _read)
        self.base = self.known_until = 0  # ``ends``: the stretches of rules[base:], exact before known_until

    def long_at(self, i: int) -> list[str]:
        """The dimensions (in the order given) whose stretch from rule ``i`` holds ``least`` rules."""
        if i >= self.known_until:
            self._read(i)
        at = i - self.base
        return [dimension for dimension, ends in self.ends if ends[at] - i >= self.least]

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
        reach = keyed_reach(self.rules, i, stop)
        self.ends = [(dimension, reach[dimension]) for dimension in self.dimensions]
        # (A stretch cut at ``stop`` is long enough, or not, alike for a rule ``least`` before it.)
        self.base, self.known_until = i, stop - least + 1 if stop < count else stop
        # The rules (before known_until) whose long_at is not empty: ``ends[at] - (i + at) >= least``
        # for some dimension, read in C (map and compress) rather than a comparison per rule.
        known = range(i, self.known_until)
        longs: set[int] = set()
        for _, ends in self.ends:
            longs.update(compress(known, map(le, range(i + least, self.known_until + least), ends)))
        self.longs = sorted(longs)
