"""Runs of rules that differ in one address only: a dispatch segment met as a whole.

A dispatch segment (walk.Segment) groups a run of rules by their disjoint keys on one
dimension. Two things make long runs (blocklists, country blocks, allow-lists) cheap here:

* A box whose value on that dimension holds every key whole (one interval from the first key
  to the last, or a few whose gaps no key meets) meets every group, and the part of it in a
  group's one-interval key is that key: the parts are the keys, in group order, found
  without searching the segment's index for each (``whole_parts``).
* A group whose first rule tests nothing but its key and accepts, drops or rejects (a
  "plain" rule: ``-s 1.2.3.4 -j DROP``) takes the whole of every part that meets it, and
  the rules after it in the group meet nothing. Such a group needs no splitting at all: the
  walk gives each part the rule's verdict, and the dead-rule analysis only counts the boxes
  that meet it (``plain_firsts``, ``whole_boxes``).

Both answer exactly what the segment's general path answers, in the same order: they are
taken only when their conditions hold, and the callers fall back otherwise.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
import functools
from itertools import chain
from operator import itemgetter

from linter.engine import intervals as iv, memo
from linter.engine.memo import IdentityCache
from linter.engine.coalesce import COALESCE_AT_LEAST
from linter.engine.rangelist import is_long
from linter.engine.shaped_copies import copy_results
from linter.engine.space import Box, with_dport, with_dst, with_src
from linter.model import AddressMatch, Direction, InterfaceMatch, PortMatch, ProtocolMatch, Rule, StateMatch, VerdictKind


def current_src(box: Box) -> iv.Ranges:
    return box.src


def current_dst(box: Box) -> iv.Ranges:
    return box.cur_dst


def current_dport(box: Box) -> iv.Ranges:
    return box.cur_dport


# What a segment of each dimension reads from a box (what later rules see), and how it
# rebuilds one with another value there.
READ = {"dst": current_dst, "src": current_src, "dport": current_dport}
REBUILD = {"dst": with_dst, "src": with_src, "dport": with_dport}

_PLAIN_KINDS = frozenset({VerdictKind.ACCEPT, VerdictKind.DROP, VerdictKind.REJECT})
_DIRECTION = {"src": Direction.SOURCE, "dst": Direction.DESTINATION}

_PLAIN: IdentityCache = IdentityCache(10_000)
_SHAPED: IdentityCache[bool] = IdentityCache(10_000)
# Matches that never read an address: rules alike but for their address key split every
# part of their keys the same way.
_ADDRESS_BLIND = (ProtocolMatch, PortMatch, StateMatch)
_SINGLE: IdentityCache[bool] = IdentityCache(10_000)
_ONE_RULE: IdentityCache[bool] = IdentityCache(10_000)


def is_plain(rule: Rule, dimension: str) -> bool:
    """Whether ``rule`` matches every packet of its key on ``dimension`` (its one match is a plain
    address match there) and ends the packet's way with no side effect (accept, drop, reject)."""
    matches = rule.matches
    if len(matches) != 1 or rule.statements:
        return False
    match = matches[0]
    verdict = rule.verdict
    return type(match) is AddressMatch and not match.negated and match.direction is _DIRECTION.get(dimension) \
        and verdict.kind in _PLAIN_KINDS and verdict.terminal


def plain_firsts(segment) -> list[Rule] | None:
    """The first rule of each group of ``segment`` when every one of them is plain and every key
    is one interval; None otherwise (remembered per segment)."""
    found = _PLAIN.get(segment)
    if found is None:
        firsts = [group[0] for group in segment.groups]
        plain = single_keys(segment) and _all_plain(firsts, segment.dimension)
        found = _PLAIN.put(segment, firsts if plain else False)
    return found or None


def _all_plain(rules: list[Rule], dimension: str) -> bool:
    """all(is_plain(rule, dimension) for rule in rules), each verdict object judged once (a
    blocklist's rules share theirs)."""
    direction = _DIRECTION.get(dimension)
    judged: dict[int, bool] = {}
    for rule in rules:
        matches = rule.matches
        if len(matches) != 1 or rule.statements:
            return False
        match = matches[0]
        if type(match) is not AddressMatch or match.negated or match.direction is not direction:
            return False
        verdict = rule.verdict
        plain = judged.get(id(verdict))
        if plain is None:
            plain = judged[id(verdict)] = verdict.kind in _PLAIN_KINDS and verdict.terminal
        if not plain:
            return False
    return True


def single_rules(segment) -> bool:
    """Whether every group of ``segment`` is one rule (remembered per segment)."""
    found = _ONE_RULE.get(segment)
    if found is None:
        found = _ONE_RULE.put(segment, max(map(len, segment.groups)) == 1)
    return found


def single_keys(segment) -> bool:
    """Whether every key of ``segment`` is one interval (remembered per segment)."""
    found = _SINGLE.get(segment)
    if found is None:
        found = _SINGLE.put(segment, all(len(key) == 1 for key in segment.keys))
    return found


@dataclass
class KeySplit:
    """How boxes meet the groups of a segment whose keys are one interval each."""

    skipping: list[Box]  # the parts of the boxes outside every key, as Segment.partition gives them
    meeting: list[Box]  # the boxes that meet some key, in order
    # Per meeting box, the groups whose key it does not hold whole: group -> its part there
    # (EMPTY where it misses the key). Every other group's part is its key.
    partial: list[dict[int, iv.Ranges]]
    order: list[int]  # the groups met, in the order Segment.partition meets them

    def parts(self, group: int, key: iv.Ranges):
        """(box, its part in the group's key) for every meeting box that meets ``group``."""
        for box, partial in zip(self.meeting, self.partial):
            part = partial.get(group, key)
            if part:
                yield box, part


MAX_INTERVALS = 64  # a box of more intervals than this is partitioned the general way


def split_by_keys(segment, boxes: list[Box]) -> KeySplit | None:
    """How ``boxes`` meet the groups of ``segment``, found from the gaps of each box (few) rather
    than from every key: None unless every key is one interval, each box has at most
    MAX_INTERVALS intervals there and holds most keys whole, and fewer than COALESCE_AT_LEAST
    boxes meet the keys (so that their parts in one group never merge)."""
    if not segment.covered or not single_keys(segment):
        return None
    address = segment.dimension in _DIRECTION
    covered = segment.covered
    first = covered[0][0]
    last = covered[-1][1]
    read = READ[segment.dimension]
    rebuild = REBUILD[segment.dimension]
    skipping: list[Box] = []
    meeting: list[Box] = []
    partials: list[dict[int, iv.Ranges]] = []
    for box in boxes:
        if address and box.family is not segment.family:
            skipping.append(box)
            continue
        current = read(box)
        if current[-1][1] < first or current[0][0] > last:
            skipping.append(box)  # misses every key: subtracting them would give it back
            continue
        if len(current) > MAX_INTERVALS:
            return None
        rest = _rest(current, covered)
        if rest:
            skipping.append(box if rest is current else rebuild(box, rest))
        if rest is current:
            continue
        partial = _partial_keys(segment, current, first, last)
        if partial is None:
            return None
        meeting.append(box)
        partials.append(partial)
    if len(meeting) >= COALESCE_AT_LEAST:
        return None
    return KeySplit(skipping, meeting, partials, _order(len(segment.groups), partials))


_RESTS: dict[tuple, tuple] = memo.per_file({})


def _rest(current: iv.Ranges, covered: iv.Ranges) -> iv.Ranges:
    """iv.subtract(current, covered), remembered: a run's boxes mostly hold the same values (the
    whole space, or all of it but loopback), and subtracting thousands of keys is a pass over
    them. What is taken from the memo is a copy: boxes never share a long list they did not
    share before (merging compares those by identity)."""
    key = (id(covered), current)
    found = _RESTS.get(key)
    if found is None or found[0] is not covered:
        if len(_RESTS) > 1_000:
            _RESTS.clear()
        rest = outside(current, covered) if len(current) <= MAX_INTERVALS else iv.subtract(current, covered)
        _RESTS[key] = (covered, rest, rest is current)
        return rest
    _, rest, unchanged = found
    return current if unchanged else tuple(list(rest))


def outside(current: iv.Ranges, covered: iv.Ranges) -> iv.Ranges:
    """iv.subtract(current, covered) for a few ranges ``current`` and many ``covered`` (a
    segment's keys): what lies in ``current`` between the keys it reaches is read off the
    keys' gaps in one comprehension (a blocklist's box keeps 100,000 of them)."""
    out: list[tuple[int, int]] = []
    taken = False
    for lo, hi in current:
        first = _first_reaching(covered, lo)
        last = bisect_right(covered, (hi, _AFTER_ALL))  # past the last key starting at or before hi
        if first >= last:
            out.append((lo, hi))
            continue
        taken = True
        if covered[first][0] > lo:
            out.append((lo, covered[first][0] - 1))
        out.extend([(low[1] + 1, high[0] - 1) for low, high in zip(covered[first:last - 1], covered[first + 1:last])
                    if high[0] > low[1] + 1])
        if covered[last - 1][1] < hi:
            out.append((covered[last - 1][1] + 1, hi))
    return tuple(out) if taken else current


def _first_reaching(ranges: iv.Ranges, value: int) -> int:
    """The index of the first range of ``ranges`` whose end is at or past ``value``."""
    index = bisect_left(ranges, (value,))
    if index > 0 and ranges[index - 1][1] >= value:
        return index - 1
    return index


_AFTER_ALL = float("inf")


def _partial_keys(segment, current: iv.Ranges, first: int, last: int) -> dict[int, iv.Ranges] | None:
    """group -> the part of its key in ``current``, for the keys that meet a gap of ``current``
    between the segment's first and last address (each gap looked up in the sorted index);
    None when that is more than half the keys (the general way is as quick then)."""
    gaps = [(hi + 1, lo - 1) for (_, hi), (lo, _) in zip(current, current[1:])]
    if current[0][0] > first:
        gaps.append((first, current[0][0] - 1))
    if current[-1][1] < last:
        gaps.append((current[-1][1] + 1, last))
    partial: dict[int, iv.Ranges] = {}
    if not gaps:
        return partial
    starts = segment.starts
    index = segment.index
    keys = segment.keys
    most = len(keys) // 2
    for lo, hi in gaps:
        position = bisect_left(starts, lo)
        if position > 0 and index[position - 1][1] >= lo:
            position -= 1  # the key starting before the gap reaches into it
        while position < len(starts) and starts[position] <= hi:
            group = index[position][2]
            partial[group] = iv.intersect(keys[group], current)
            if len(partial) > most:
                return None
            position += 1
    return partial


def _order(groups: int, partials: list[dict[int, iv.Ranges]]) -> list[int]:
    """The groups met in Segment.partition's order: those the first box meets, ascending, then
    for each later box those it is the first to meet, ascending."""
    if not partials:
        return []
    unmet = {group for group, part in partials[0].items() if not part}
    order = [group for group in range(groups) if group not in unmet] if unmet else list(range(groups))
    for partial in partials[1:]:
        if not unmet:
            break
        new = sorted(group for group in unmet if partial.get(group, True))
        order.extend(new)
        unmet.difference_update(new)
    return order


def fresh(ranges: iv.Ranges) -> iv.Ranges:
    """A new tuple equal to ``ranges``. A part is never the rule's own key object: merging
    remembers long unions by the identity of what it united (coalesce._merged_ranges), and parts
    shared between walks would find each other's unions where the partition's own new
    tuples never do."""
    return tuple([*ranges])


def split_parts(segment, boxes: list[Box]) -> tuple[list[Box], dict] | None:
    """Segment.partition's answer by split_by_keys, or None where that does not apply."""
    split = split_by_keys(segment, boxes)
    if split is None:
        return None
    rebuild = REBUILD[segment.dimension]
    by_group: dict[int, tuple[list[Rule], list[Box]]] = {}
    groups = segment.groups
    keys = segment.keys
    for index in split.order:
        group = groups[index]
        by_group[id(group)] = (group, [rebuild(box, fresh(part)) for box, part in split.parts(index, keys[index])])
    return split.skipping, by_group


def plain_verdicts(segment, split: KeySplit, results: list, stepped, outcome_of) -> int:
    """The walk through a segment of plain groups (plain_firsts): each box's part in each group's
    key gets that group's first rule's verdict, appended to ``results`` as the walk would, in
    the order the walk meets the groups. ``stepped(trail, rule)`` is the trail with that
    rule's step, ``outcome_of(verdict)`` its outcome. Returns the box-rule applications spent
    (one per part and one per rule applied, as Walker._apply_rule counts them)."""
    append = results.append
    firsts = plain_firsts(segment)
    keys = segment.keys
    # Each box cut around the field the segment reads: a part is one tuple built, key and
    # trail put in at once (Box is a NamedTuple whose last field is the trail).
    cuts = [_cut_at(box, segment.dimension) for box in split.meeting]
    outcomes: dict = {}  # verdict kind -> outcome: a plain verdict's outcome is its kind's
    order = split.order
    if len(cuts) == 1 and not split.partial[0] and len(order) == len(keys):
        # One box holding every key whole (a blocklist met by what is not loopback): each
        # group's part is its key, the groups met in rule order.
        (before, after, trail), = cuts
        for rule, key in zip(firsts, keys):
            kind = rule.verdict.kind
            outcome = outcomes.get(kind)
            if outcome is None:
                outcome = outcomes[kind] = outcome_of(rule.verdict)
            append((_new_box(Box, (*before, tuple([*key]), *after, stepped(trail, rule))), outcome))
        return 2 * len(keys)
    spent = 0
    for index in order:
        rule = firsts[index]
        kind = rule.verdict.kind
        outcome = outcomes.get(kind)
        if outcome is None:
            outcome = outcomes[kind] = outcome_of(rule.verdict)
        spent += 1
        key = keys[index]
        for (before, after, trail), partial in zip(cuts, split.partial):
            part = partial.get(index, key)
            if part:
                append((_new_box(Box, (*before, fresh(part), *after, stepped(trail, rule))), outcome))
                spent += 1
    return spent


_new_box = tuple.__new__
_FIELD = {name: position for position, name in enumerate(Box._fields)}


def _cut_at(box: Box, dimension: str) -> tuple[tuple, tuple, tuple]:
    """(the fields before the one REBUILD[dimension] sets, those after it but the trail, the
    trail)."""
    if dimension == "src":
        name = "src"
    elif dimension == "dst":
        name = "dst" if box.nat_dst is None else "nat_dst"
    else:
        name = "dport" if box.nat_dport is None else "nat_dport"
    position = _FIELD[name]
    return box[:position], box[position + 1:-1], box.trail


def same_shape(segment) -> bool:
    """Whether the groups of ``segment`` (an address segment) are alike but for their keys: as
    many rules each, and the rules at one position have the same other matches (none of them
    reading an address or anything a path decides) and the same verdict, an accept, drop or
    reject with no side effect. Each group then splits the part of a box in its key the same
    way, whatever the key (remembered per segment)."""
    found = _SHAPED.get(segment)
    if found is None:
        found = _SHAPED.put(segment, _alike(segment))
    return found


def _alike(segment) -> bool:
    direction = _DIRECTION.get(segment.dimension)
    if direction is None or len(segment.groups) < 2:
        return False
    groups = segment.groups
    shape = tuple(_rule_shape(rule, direction) for rule in groups[0])
    if any(part is None for part in shape):
        return False
    # A rule whose matches before and after its key equal the first group's rule's at its
    # position (the same objects, where the front end shares them), with the same verdict
    # object and no statement, has that rule's shape: only the others are shaped again. The
    # groups are read position by position (an allow-list's 50,000 groups of two rules).
    size = len(shape)
    rest = groups[1:]
    if set(map(len, rest)) != {size}:
        return False
    for position, (rule, part) in enumerate(zip(groups[0], shape)):
        column = map(itemgetter(position), rest)
        for other in _unlike(column, rule.matches, rule.verdict, direction):
            if _rule_shape(other, direction) != part:
                return False
    return True


def _unlike(rules, matches, verdict, direction: Direction):
    """The rules of ``rules`` the shortcut does not show to be of the shape of a rule with
    ``matches`` and ``verdict`` (the same matches beside the key, the key in the same place,
    the same verdict, no statement)."""
    length = len(matches)
    key = _key_position(matches, direction)
    if key >= length:
        return rules
    before, after = matches[:key], matches[key + 1:]
    odd = []
    for rule in rules:
        theirs = rule.matches
        if rule.verdict is verdict and theirs[key + 1:] == after and len(theirs) == length and not rule.statements \
                and (not key or theirs[:key] == before):
            match = theirs[key]  # (_is_key, in place)
            if type(match) is AddressMatch and match.direction is direction and not match.negated:
                continue
        odd.append(rule)
    return odd


def _key_position(matches, direction: Direction) -> int:
    """The position of the key among ``matches`` (those of a rule _rule_shape shapes): the
    first plain address match on ``direction``; len(matches) if there is none."""
    for position, match in enumerate(matches):
        if _is_key(match, direction):
            return position
    return len(matches)


def _is_key(match, direction: Direction) -> bool:
    return type(match) is AddressMatch and not match.negated and match.direction is direction


def _rule_shape(rule: Rule, direction: Direction):
    """(the rule's matches but its address key, its verdict), or None for a rule whose split of
    a key's part could depend on the key or that does more than decide."""
    verdict = rule.verdict
    if rule.statements or verdict.kind not in _PLAIN_KINDS or not verdict.terminal:
        return None
    found = matches_beside_key(rule, direction)
    return None if found is None else (found[0], verdict)


def matches_beside_key(rule: Rule, direction: Direction) -> tuple[tuple, bool] | None:
    """(the rule's matches but its first plain address match on ``direction``, whether it had
    one), or None when another match could read an address (only protocols, ports, states and
    input interfaces leave a key's part split as every other key's)."""
    others = []
    keyed = False
    for match in rule.matches:
        if type(match) is AddressMatch and not keyed and not match.negated and match.direction is direction:
            keyed = True
            continue
        if not (isinstance(match, _ADDRESS_BLIND) or type(match) is InterfaceMatch and match.direction == "in"):
            return None
        others.append(match)
    return tuple(others), keyed


def shaped_walk(segment, split: KeySplit, walk_group, where: tuple, results: list, budget) -> list[Box]:
    """The walk through a segment of groups alike but for their keys (same_shape), every box
    holding every key whole; returns what goes on past the run, not yet merged: boxes that
    coalesce (with the skipping parts before them) into exactly what goes on.

    The first group is walked (``walk_group(rules, parts, results)`` returns what goes on);
    every other group's results and what goes on are the first group's copied with its own
    key and rules (``where``: (table, chain, Step), the trail with that rule's step as
    walk.rule_steps makes it), in the order the walk gives them, and cost ``budget`` what the first group cost. Where a copy could
    differ from the walk (a long range list, which merging compares by identity, or a result
    it cannot place) the other groups are walked as well."""
    groups, keys = segment.groups, segment.keys
    rebuild = REBUILD[segment.dimension]
    spent = budget.spent
    first: list = []
    going_on = walk_group(groups[0], [rebuild(box, fresh(keys[0])) for box in split.meeting], first)
    results.extend(first)
    template = _template(groups[0], first, split.meeting, going_on, READ[segment.dimension], keys[0])
    if template is None:
        for group, key in zip(groups[1:], keys[1:]):
            going_on.extend(walk_group(group, [rebuild(box, fresh(key)) for box in split.meeting], results))
        return going_on
    budget.spent += (budget.spent - spent) * (len(groups) - 1)
    gone_on = list(going_on)
    # Each result cut around the key's field once: a copy is one tuple built (runs of plain_verdicts).
    cuts = [(*_cut_at(box, segment.dimension)[:2], outcome, position, before)
            for box, outcome, position, before in template]
    copy_results(cuts, groups[1:], keys[1:], *where, results, functools.partial(distinct_rules, segment), groups[0])  # engine/shaped_copies.py
    for others in _other_keys(segment, len(split.skipping), len(gone_on)):
        going_on.extend([rebuild(box, others) for box in gone_on])
    return going_on


_DISTINCT: IdentityCache[bool] = IdentityCache(10_000)


def distinct_rules(segment) -> bool:
    """Whether no rule object is in two places of the groups of ``segment`` (remembered per
    segment): the copies of a shaped walk then each extend a trail by a rule no other copy
    extends it by (engine/shaped_copies.py)."""
    found = _DISTINCT.get(segment)
    if found is None:
        rules = list(chain.from_iterable(segment.groups))
        found = _DISTINCT.put(segment, len(set(map(id, rules))) == len(rules))
    return found


def _other_keys(segment, skipping: int, going_on: int) -> list[iv.Ranges]:
    """The keys but the first, as few lists as will do for what goes on past the run.

    What goes on is only merged (the caller coalesces it with the ``skipping`` parts). Copies
    of the first group's ``going_on`` boxes differ from them in the key alone, and keys are
    disjoint from each other and from the skipping parts: coalesce merges each copy like its
    original on every dimension before the key's, and on the key's merges every copy of a box
    into one. Copies holding several keys each merge the same way into the same boxes, as long
    as there are enough of them for coalesce to merge at all (COALESCE_AT_LEAST boxes)."""
    keys = segment.keys
    others = len(keys) - 1
    if not going_on or not others:
        return []
    copies = min(others, max(1, -(-(COALESCE_AT_LEAST - skipping) // going_on) - 1))
    if copies == others:
        return [fresh(key) for key in keys[1:]]
    if copies == 1:
        return [fresh(iv.subtract(segment.covered, keys[0]))]
    size = -(-others // copies)
    starts = range(1, len(keys), size)
    if ascending(segment):
        # The keys of a stretch are all the keys between its first's start and its last's end:
        # their union is what the segment's covered ranges hold there (engine/segment_keys.py).
        return [within(segment.covered, keys[start][0][0], keys[min(start + size, len(keys)) - 1][0][1])
                for start in starts]
    return [iv.normalize(tuple(key[0] for key in keys[start:start + size])) for start in starts]


_ASCENDING: IdentityCache[bool] = IdentityCache(10_000)


def ascending(segment) -> bool:
    """Whether the keys of ``segment`` (one interval each: single_keys) come in ascending
    order, each after the one before it: its index, sorted by address, then lists the groups
    in their order (remembered per segment)."""
    found = _ASCENDING.get(segment)
    if found is None:
        groups = list(map(itemgetter(2), segment.index))
        found = _ASCENDING.put(segment, groups == list(range(len(segment.keys))))
    return found


def within(ranges: iv.Ranges, lo: int, hi: int) -> iv.Ranges:
    """iv.intersect(ranges, ((lo, hi),)) for sorted, disjoint ``ranges``: the ranges reaching
    into [lo, hi] (found by bisection), the first and last cut at its bounds."""
    first = _first_reaching(ranges, lo)
    last = bisect_right(ranges, (hi, _AFTER_ALL))
    found = list(ranges[first:last])
    if not found:
        return ()
    if found[0][0] < lo:
        found[0] = (lo, found[0][1])
    if found[-1][1] > hi:
        found[-1] = (found[-1][0], hi)
    return tuple(found)


def _template(rules: list[Rule], results: list, meeting: list[Box], going_on: list[Box], read, key):
    """(result box, outcome, position of its rule, its trail before that rule) for each result
    of the first group, or None when some result or box cannot be copied exactly."""
    position_of = {id(rule): position for position, rule in enumerate(rules)}
    trails = [box.trail for box in meeting]
    template = []
    for box, outcome in results:
        trail = box.trail
        position = position_of.get(id(trail[-1].rule)) if trail else None
        found = {id(t): t for t in trails if len(t) == len(trail) - 1 and all(a is b for a, b in zip(t, trail))}
        if position is None or len(found) != 1 or not copyable(box, read, key):
            return None
        before, = found.values()
        template.append((box, outcome, position, before))
    if not all(copyable(box, read, key) for box in going_on):
        return None
    return template


_SHORT = 8  # coalesce() compares longer range lists by identity (coalesce._signature)


def copyable(box: Box, read, key: iv.Ranges) -> bool:
    """Whether a copy of ``box`` with another key merges as the walk's own box would: it holds
    the key whole and no long range list."""
    return read(box) == key and not any(is_long(v) for v in box[1:6]) \
        and (box.nat_dst is None or len(box.nat_dst) <= _SHORT) and (box.nat_dport is None or len(box.nat_dport) <= _SHORT)
