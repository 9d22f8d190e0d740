"""Runs of rules that mix rules for everyone with rules for a few sources each (ufw's user chains).

`allow from NET to any port P` decides NET's packets to port P. Walked rule by rule, it leaves
in every box it meets a residue, NET with every other port, that no later rule merges with:
every later rule for everyone (`allow port Q`) then meets one box per such source, and a
chain of N user rules costs N x N box splits.

A SourceRun keeps such a rule's decided part as a *hole* instead: its matching part gets the
verdict at once, and the boxes going on are left as they were, still covering NET x P, which
is known to be decided. A later rule that cannot meet any hole (another port) is applied to
the boxes as they are, so it costs the same few boxes whatever the number of sources. Only a
rule that may meet a hole (the same port, or a rule about that source without a port) first
cuts the holes of the sources concerned out of the boxes ("materialises" them), as the rule
by rule walk would have; the run's end materialises every source still holding holes.

So what each rule decides, and what goes on past the run, is exactly what walking the rules
one by one gives; only how the boxes are split differs. The walker (engine/walk.py) and the
dead-rule analysis (engine/shadow.py) both run a SourceRun through the same ``run`` function,
each with its own way of applying one rule.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable

from linter.engine import intervals as iv
from linter.engine.known_sizes import note_cut
from linter.engine.portblocks import cut_by_blocks, worth_blocks
from linter.engine.coalesce import coalesce
from linter.engine.space import Box, has_opaque, has_path_decided, split_rule, with_dport, with_src
from linter.model import AddressMatch, Direction, Family, PortMatch, ProtocolMatch, Rule, VerdictKind

MIN_HOLES = 8  # rules kept as holes for a run to be worth it
MAX_HOLE_PORTS = 64  # a rule testing more ports than this is applied as usual
MAX_LOOKUP_PORTS = 1024  # a rule testing more ports is taken to meet every hole
LONG_LIST = 64  # ranges past which equal lists held by different boxes are cut once

_HOLE_VERDICTS = frozenset({VerdictKind.ACCEPT, VerdictKind.DROP, VerdictKind.REJECT})

# How each rule of a run is applied.
HOLE = 0  # kept as a hole of its source (when it meets none of that source's holes)
KEYED = 1  # a rule about one source: that source's holes are cut out first
FREE = 2  # a rule for any source: the holes at its ports (or all, without ports) are cut out first


@dataclass
class SourceRun:
    """Consecutive rules of a chain, each with what the run needs to know about it."""

    rules: list[Rule]
    kinds: list[int]
    sources: list[int]  # per rule: index of its source in ``keys`` (-1: no source)
    ports: list[tuple[int, ...] | None]  # per rule: the destination ports it tests (None: any, or too many)
    keys: list[tuple[Family, iv.Ranges]] = field(default_factory=list)
    hole_like: list[bool] = field(default_factory=list)  # per rule: decides all it matches, at few ports
    port_cuts: list[tuple[iv.Ranges, iv.Ranges] | None] = field(default_factory=list)  # per rule: see _cut_ports

    @property
    def groups(self) -> list[list[Rule]]:
        """The run's rules as one group (engine/hull.py reads ``groups`` of a block that has them)."""
        return [self.rules]


def _source_key(rule: Rule) -> tuple[Family, iv.Ranges] | None:
    for match in rule.matches:
        if type(match) is AddressMatch and not match.negated and match.direction is Direction.SOURCE:
            return match.addresses.family, match.addresses.ranges
    return None


def _ports(rule: Rule) -> tuple[int, ...] | None:
    for match in rule.matches:
        if type(match) is PortMatch and not match.negated and match.direction is Direction.DESTINATION:
            ranges = match.ports.ranges
            if iv.size(ranges) > MAX_LOOKUP_PORTS:
                return None
            return tuple(port for lo, hi in ranges for port in range(lo, hi + 1))
    return None


def _port_cut(rule: Rule) -> tuple[iv.Ranges, iv.Ranges] | None:
    """(protocols, destination ports) of a rule's plain matches on both, or None."""
    protocols = ports = None
    for match in rule.matches:
        if match.negated:
            continue
        if type(match) is ProtocolMatch and protocols is None:
            protocols = iv.normalize(tuple((p, p) for p in sorted(match.protocols)))
        elif type(match) is PortMatch and match.direction is Direction.DESTINATION and ports is None:
            ports = match.ports.ranges
    return (protocols, ports) if protocols and ports else None


def _may_be_hole(rule: Rule, ports) -> bool:
    verdict = rule.verdict
    return (verdict.kind in _HOLE_VERDICTS and verdict.terminal and not rule.statements and ports is not None
            and len(ports) <= MAX_HOLE_PORTS and not has_opaque(rule) and not has_path_decided(rule))


def fold_source_runs(blocks: list, rules: list[Rule], expandable: type) -> list:
    """``blocks`` (a chain's rules and dispatch segments) with each stretch of rules and
    ``expandable`` segments that is mostly runs worth folding replaced by SourceRuns: runs of
    rules with disjoint sources where at least MIN_HOLES rules are kept as holes and as many
    rules for any source come after one (the pattern that grows quadratically). Other stretches
    stay as they were."""
    if len(rules) < 2 * MIN_HOLES:
        return blocks
    position = {id(rule): index for index, rule in enumerate(rules)}
    out: list = []
    stretch: list = []
    for block in blocks + [None]:
        if type(block) is Rule or (block is not None and type(block) is expandable):
            stretch.append(block)
            continue
        if stretch:
            out.extend(_fold_stretch(stretch, position))
            stretch = []
        if block is not None:
            out.append(block)
    return out


def _fold_stretch(stretch: list, position: dict[int, int]) -> list:
    rules = sorted((rule for block in stretch for rule in ([block] if type(block) is Rule else
                    [r for group in block.groups for r in group])), key=lambda rule: position[id(rule)])
    pieces: list[tuple[SourceRun | None, list[Rule]]] = []
    folded = 0
    i = 0
    while i < len(rules):
        found, j = _grow_run(rules, i)
        pieces.append((found, rules[i:j]))
        if found is not None:
            folded += j - i
        i = j
    if folded * 10 < len(rules) * 9:
        return stretch
    out: list = []
    for found, piece in pieces:
        if found is None:
            out.extend(piece)
        else:
            out.append(found)
    return out


def _grow_run(rules: list[Rule], start: int) -> tuple[SourceRun | None, int]:
    """The run of rules from ``start`` (None when not worth folding) and where it ends: at a
    source overlapping another source of the run, or the end."""
    run = SourceRun([], [], [], [])
    index: dict[tuple[Family, iv.Ranges], int] = {}
    taken: dict[Family, list[tuple[int, int]]] = {}
    holes = free_after = 0
    j = start
    while j < len(rules):
        rule = rules[j]
        key = _source_key(rule)
        ports = _ports(rule)
        group = -1
        if key is not None:
            group = index.get(key, -1)
            if group < 0:
                spans = taken.setdefault(key[0], [])
                if not key[1] or _overlaps(spans, key[1]):
                    break
                for span in key[1]:
                    spans.insert(bisect_right(spans, span), span)
                group = index[key] = len(run.keys)
                run.keys.append(key)
        kind = FREE if group < 0 else HOLE if _may_be_hole(rule, ports) else KEYED
        holes += kind == HOLE
        free_after += kind == FREE and holes > 0
        run.rules.append(rule)
        run.kinds.append(kind)
        run.sources.append(group)
        run.ports.append(ports)
        run.hole_like.append(_may_be_hole(rule, ports))
        run.port_cuts.append(_port_cut(rule))
        j += 1
    if holes < MIN_HOLES or free_after < MIN_HOLES:
        return None, max(j, start + 1)
    return run, j


def _overlaps(spans: list[tuple[int, int]], ranges: iv.Ranges) -> bool:
    for lo, hi in ranges:
        position = bisect_right(spans, (lo, hi))
        if position > 0 and spans[position - 1][1] >= lo:
            return True
        if position < len(spans) and spans[position][0] <= hi:
            return True
    return False


def run(source_run: SourceRun, pending: list[Box], apply: Callable[[Rule, list[Box]], list[Box]],
        record: bool, decide, chunked: bool = False) -> list[Box]:
    """Walk ``pending`` through the run: ``apply(rule, boxes)`` applies one rule the caller's way
    (verdicts, dead rules) and returns what goes on; ``record`` and ``decide`` are the caller's
    split_rule arguments. Returns what goes on past the run, as the rules one by one would.
    With ``chunked``, the run's cuts keep long lists as engine/rangelist.py's RangeLists (the
    dead-rule analysis, whose rules cut them so too, and the exposure walk: intervals.py reads
    them chunk by chunk where a rule meets them)."""
    if record:  # a trace: every rule as it comes (its boxes are few)
        for rule in source_run.rules:
            pending = apply(rule, pending)
        return pending
    holes = _Holes(source_run, record, decide)
    shared: dict = {}
    pending = [box if (src := shared.setdefault(box.src, box.src)) is box.src else with_src(box, src)
               for box in pending]
    rules, kinds, groups, ports = source_run.rules, source_run.kinds, source_run.sources, source_run.ports
    hole_like, port_cuts = source_run.hole_like, source_run.port_cuts
    regrow = 2 * max(len(pending), 32)
    for position, rule in enumerate(rules):
        if not pending:
            return pending
        kind = kinds[position]
        group = groups[position]
        if kind == HOLE and group not in holes.done:
            # What it decides is decided; the boxes go on as they were.
            if not holes.meets(group, ports[position]):
                inner = _cut_source(pending, source_run.keys[group], True, chunked)
                apply(rule, _cut_ports(inner, port_cuts[position], True, chunked))
            else:  # the same source and port again: what the source's holes left of it
                apply(rule, holes.without(pending, [group], rest=False))
            holes.add(group, rule, ports[position])
            continue
        if kind == KEYED and group in holes.rules:
            pending = holes.materialise(pending, [group])
        elif kind == FREE and holes.rules:
            met = holes.met_by(ports[position])
            if met and hole_like[position]:
                pending = _cut_ports(pending, port_cuts[position], False, chunked)
                # (`allow port Q` after `allow from NET port Q`.) It decides what the holes
                # left of it; what goes on is every box without it, the holes still holes.
                apply(rule, holes.without(pending, met))
                pending = [part for box in pending for part in split_rule(box, rule.matches, rule, record, decide)[1]]
                continue
            if met and port_cuts[position] is not None:
                # (ufw's limit rules, `-m recent` and a jump, at a port some source's holes
                # hold.) Only the parts at its ports may meet it: those have the holes cut
                # out, the rest goes on as it was, the holes still holes (cutting them out
                # of every box gave each such source a port list of its own, which every
                # later `allow port Q` had to cut again).
                away, near = _apart(_cut_ports(pending, port_cuts[position], False, chunked), port_cuts[position])
                pending = away + apply(rule, holes.without(near, met))
                continue
            if met:
                pending = holes.materialise(pending, met)
        if group >= 0:
            pending = _cut_source(pending, source_run.keys[group], False, chunked)
        pending = apply(rule, _cut_ports(pending, port_cuts[position], False, chunked))
        if len(pending) >= regrow:
            pending = coalesce(pending)
            regrow = 2 * max(len(pending), 32)
    if holes.rules:
        pending = holes.materialise(pending, list(holes.rules))
    return pending


def _cut_source(pending: list[Box], key: tuple[Family, iv.Ranges], inner_only: bool = False,
                chunked: bool = False) -> list[Box]:
    """``pending`` with each box cut in its part inside the source ``key`` and the rest (only
    the part inside with ``inner_only``), each source list cut once however many boxes share
    it (before a rule about that source alone: a blocked network's rule cut every box's long
    list of the sources blocked before it)."""
    family, ranges = key
    return _cut_shared(pending, ranges, lambda box: box.family is family, _source_of, with_src, inner_only, chunked)


def _cut_ports(pending: list[Box], cut: tuple[iv.Ranges, iv.Ranges] | None, inner_only: bool = False,
               chunked: bool = False) -> list[Box]:
    """Before a rule testing protocols and destination ports (``cut``): each box whose
    protocols are all the rule's cut in its part at those ports and the rest (only the part
    at those ports with ``inner_only``), each port list cut once however many boxes share it.
    The rule would cut them so itself; but every `allow port Q` takes one more port out of a
    long list, and boxes that share the list before share it after."""
    if cut is None:
        return pending
    protocols, ports = cut
    return _cut_shared(pending, ports, lambda box: iv.covers(protocols, box.proto), _dport_of, with_dport,
                       inner_only, chunked)


def _apart(pending: list[Box], cut: tuple[iv.Ranges, iv.Ranges]) -> tuple[list[Box], list[Box]]:
    """(the boxes a rule testing ``cut``'s protocols and ports cannot meet, the others), for
    boxes _cut_ports has cut by it: a box of other protocols, or of those protocols only and
    wholly away from those ports, is apart."""
    protocols, ports = cut
    away: list[Box] = []
    near: list[Box] = []
    for box in pending:
        if not iv.intersect(box.proto, protocols) or (iv.covers(protocols, box.proto)
                                                      and not iv.intersect(box.cur_dport, ports)):
            away.append(box)
        else:
            near.append(box)
    return away, near


def _source_of(box: Box) -> iv.Ranges:
    return box.src


def _dport_of(box: Box) -> iv.Ranges:
    return box.cur_dport


def _cut_shared(pending: list[Box], ranges: iv.Ranges, applies: Callable[[Box], bool],
                read: Callable[[Box], iv.Ranges], rebuild: Callable[[Box, iv.Ranges], Box],
                inner_only: bool, chunked: bool = False) -> list[Box]:
    """Each box that ``applies`` cut by ``ranges`` in the dimension ``read`` gives: its part
    outside (unless ``inner_only``) then its part inside, rebuilt with ``rebuild``; each list
    cut once however many boxes share it, or hold an equal one. With ``chunked``, a long list
    is cut as a RangeList (engine/rangelist.py: the same values and objects, no O(n) copy)."""
    intersect, subtract = (_chunked_intersect, _chunked_subtract) if chunked else (iv.intersect, iv.subtract)
    cuts: dict[int, tuple[iv.Ranges, iv.Ranges, iv.Ranges]] = {}
    alike: dict[tuple, tuple[iv.Ranges, iv.Ranges, iv.Ranges]] = {}  # long lists by length and ends
    out: list[Box] = []
    for box in pending:
        if not applies(box):
            out.append(box)
            continue
        current = read(box)
        known = cuts.get(id(current))
        if known is None and len(current) > LONG_LIST:
            # Equal long lists built apart (the dead-rule analysis's boxes for this host and
            # for others) are cut once too, and share the list they leave from then on.
            ends = (len(current), current[0], current[-1])
            known = alike.get(ends)
            if known is not None and known[0] == current:
                cuts[id(current)] = (current, known[1], known[2])
            else:
                known = None
        if known is None:
            inner = intersect(current, ranges)
            # The list itself is kept in the entry: its id stays its own while the entry lives.
            known = cuts[id(current)] = (current, inner, subtract(current, ranges) if inner and not inner_only
                                         else current)
            if known[2] is not current:
                note_cut(current, inner, known[2])  # for the exposure summary (engine/known_sizes.py)
            if len(current) > LONG_LIST:
                alike.setdefault((len(current), current[0], current[-1]), known)
        inner, rest = known[1], known[2]
        if not inner:
            if not inner_only:
                out.append(box)
            continue
        if inner_only:
            out.append(box if inner is current else rebuild(box, inner))
            continue
        if rest:
            out.append(rebuild(box, rest))
        out.append(rebuild(box, inner))
    return out


def _chunked_intersect(a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """iv.intersect(a, b), the same object, a long ``a`` cut as a RangeList."""
    if not _long(a) or not _canonical(b):
        return iv.intersect(a, b)
    from linter.engine import rangelist  # (only big inputs get here: not on the start-up path)
    if type(a) is not rangelist.RangeList:
        return iv.intersect(a, b)  # (a few ranges looked up in a long tuple: nothing copied)
    return rangelist.looked_up(a, b, a, b)


def _chunked_subtract(a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """iv.subtract(a, b), the same object, a long ``a`` cut as a RangeList."""
    if not _long(a) or not _canonical(b):
        return iv.subtract(a, b)
    from linter.engine import rangelist
    return rangelist.subtract(a, b)


def _long(ranges: iv.Ranges) -> bool:
    from linter.engine import rangelist
    return type(ranges) is not tuple or len(ranges) >= rangelist.HOLD_AT_LEAST


def _canonical(ranges: iv.Ranges) -> bool:
    """Whether ``ranges`` is sorted and disjoint (what rangelist's cuts take on trust)."""
    return type(ranges) is tuple and all(lo <= hi for lo, hi in ranges) \
        and all(x[1] < y[0] for x, y in zip(ranges, ranges[1:]))


class _Holes:
    """The holes of one walk through a SourceRun: per source, the rules kept as holes."""

    def __init__(self, source_run: SourceRun, record: bool, decide):
        self.keys = source_run.keys
        self.record = record
        self.decide = decide
        self.rules: dict[int, list[Rule]] = {}  # source -> its rules kept as holes, in order
        self.ports: dict[int, set[int]] = {}  # source -> the ports of its holes
        self.at_port: dict[int, set[int]] = {}  # port -> the sources with a hole there
        self.done: set[int] = set()  # sources materialised: their rules are applied as usual

    def add(self, group: int, rule: Rule, ports: tuple[int, ...]) -> None:
        self.rules.setdefault(group, []).append(rule)
        self.ports.setdefault(group, set()).update(ports)
        for port in ports:
            self.at_port.setdefault(port, set()).add(group)

    def meets(self, group: int, ports: tuple[int, ...]) -> bool:
        """Whether a rule of ``group`` at ``ports`` may meet one of the group's holes."""
        own = self.ports.get(group)
        return own is not None and not own.isdisjoint(ports)

    def met_by(self, ports: tuple[int, ...] | None) -> list[int]:
        """The sources whose holes a rule for any source at ``ports`` (None: any) may meet."""
        if ports is None:
            return list(self.rules)
        met: set[int] = set()
        for port in ports:
            found = self.at_port.get(port)
            if found:
                met.update(found)
        return sorted(met)

    def materialise(self, pending: list[Box], groups: list[int]) -> list[Box]:
        """``pending`` with the holes of ``groups`` cut out; those sources then hold none."""
        out = self.without(pending, groups)
        for group in groups:
            del self.rules[group]
            for port in self.ports.pop(group):
                sources = self.at_port[port]
                sources.discard(group)
                if not sources:
                    del self.at_port[port]
            self.done.add(group)
        return out

    def without(self, pending: list[Box], groups: list[int], rest: bool = True) -> list[Box]:
        """``pending`` with the holes of ``groups`` cut out (only the parts in those sources
        without ``rest``); the holes stay."""
        by_family: dict[Family, list[tuple[iv.Ranges, list[Rule], set[int]]]] = {}
        for group in groups:
            family, ranges = self.keys[group]
            by_family.setdefault(family, []).append((ranges, self.rules[group], self.ports[group]))
        plans = {family: _Plan(entries) for family, entries in by_family.items()}
        out: list[Box] = []
        for box in pending:
            plan = plans.get(box.family)
            if plan is None:
                if rest:
                    out.append(box)
                continue
            out.extend(plan.cut(box, self.record, self.decide, rest))
        return out


class _Plan:
    """Sources of one family to materialise, sorted by address for bisection."""

    def __init__(self, entries: list[tuple[iv.Ranges, list[Rule], set[int]]]):
        # Each row keeps its source's own range tuple: a box holding the whole range takes that
        # object, not an equal copy (one per box per source: ufw 100k kept ~250,000 copies).
        rows = sorted((r[0], r[1], number, r) for number, (ranges, _, _) in enumerate(entries) for r in ranges)
        self.starts = [row[0] for row in rows]
        self.rows = rows
        self.entries = entries
        # The sources whose ranges are canonical (sorted, merged): a box holding them whole
        # takes the entry's own tuple as its source list (what normalize would make, equal).
        self.canonical = [iv.normalize(ranges) == ranges for ranges, _, _ in entries]
        self.covered = iv.normalize(tuple((lo, hi) for lo, hi, _, _ in rows))
        self.rests: dict[int, tuple[iv.Ranges, iv.Ranges]] = {}  # id(src) -> (src, src outside them)
        self.blocks: dict = {}  # engine/portblocks.py: each long port list's blocks

    def cut(self, box: Box, record: bool, decide, rest: bool = True) -> list[Box]:
        """The parts of ``box`` outside the sources (with ``rest``), and in each source minus its holes."""
        src = box.src
        inner = iv.intersect(src, self.covered)
        if not inner:
            return [box] if rest else []
        out = []
        if rest:
            known = self.rests.get(id(src))
            if known is None:
                known = self.rests[id(src)] = (src, iv.subtract(src, self.covered))
                note_cut(src, inner, known[1])
            if known[1]:
                out.append(with_src(box, known[1]))
        met: dict[int, list[tuple[int, int]]] = {}
        for lo, hi in inner:
            position = max(bisect_right(self.starts, lo) - 1, 0)
            while position < len(self.rows) and self.rows[position][0] <= hi:
                r_lo, r_hi, number, whole = self.rows[position]
                if r_hi >= lo:
                    met.setdefault(number, []).append(whole if lo <= r_lo and r_hi <= hi else (max(lo, r_lo), min(hi, r_hi)))
                position += 1
        if worth_blocks(box.cur_dport, len(met)):
            out.extend(cut_by_blocks(box, met, self.entries, record, decide, self.blocks, self.source_part))
            return out
        for number in sorted(met):
            parts = [with_src(box, self.source_part(number, met[number]))]
            for rule in self.entries[number][1]:
                parts = [piece for part in parts for piece in split_rule(part, rule.matches, rule, record, decide)[1]]
            out.extend(parts)
        return out

    def source_part(self, number: int, parts: list[tuple[int, int]]) -> iv.Ranges:
        """``iv.normalize(tuple(parts))`` for the ranges a box holds of source ``number``: the
        source's own tuple when they are all of it (equal values, one object shared by every box)."""
        ranges = self.entries[number][0]
        if self.canonical[number] and len(parts) == len(ranges) and all(a is b for a, b in zip(parts, ranges)):
            return ranges
        return iv.normalize(tuple(parts))
