"""Walking boxes of packet space through chains, the way netfilter evaluates rules.

First match wins; a jump pushes and RETURN (or falling off a user chain) pops; a
goto does not come back; non-terminal targets (LOG, MARK, counters) let the
packet go on. The result of walking a chain is a list of (box, outcome) pairs.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, insort
from dataclasses import dataclass, field

from linter.engine import intervals as iv
from linter.engine.memo import IdentityCache
from linter.engine.space import (
    FIRST_PACKET, Box, _with_dport, _with_dst, coalesce, extend_path, replace, split_rule, state_parts, with_trail,
)
from linter.addresses import LOOPBACK_V4, LOOPBACK_V6
from linter.model import AddressMatch, Chain, Direction, Family, OpaqueMatch, PortMatch, Rule, Table, VerdictKind


class Outcome(str, enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"  # explicit RETURN or fell off the end of the chain
    QUEUE = "queue"


@dataclass(frozen=True, slots=True)
class Step:
    """One event on a packet's path: a chain entered or left, a rule matched, a policy applied."""

    event: str  # "enter", "rule", "leave", "policy"
    table: Table
    chain: Chain
    rule: Rule | None = None
    detail: str = ""


def step(trail: tuple, event: str, table: Table, chain: Chain, rule: Rule | None = None, detail: str = "") -> tuple:
    """The trail with one more Step (shared with every other box that took the same way)."""
    identity = (event, id(table), id(chain), id(rule), detail)
    return extend_path(trail, identity, Step, event, table, chain, rule, detail)


_VERDICT_OUTCOME = {
    VerdictKind.ACCEPT: Outcome.ACCEPT,
    VerdictKind.DROP: Outcome.DROP,
    VerdictKind.REJECT: Outcome.REJECT,
    VerdictKind.RETURN: Outcome.RETURN,
    VerdictKind.QUEUE: Outcome.QUEUE,
    VerdictKind.SNAT: Outcome.ACCEPT,
    VerdictKind.MASQUERADE: Outcome.ACCEPT,
    VerdictKind.DNAT: Outcome.ACCEPT,
    VerdictKind.REDIRECT: Outcome.ACCEPT,
}

# Terminal targets portlint keeps as OTHER (TPROXY, SYNPROXY, NETMAP...): the packet is taken in
# (diverted to a local socket, answered for, or rewritten), except these.
_OTHER_OUTCOME = {"NFQUEUE": Outcome.QUEUE, "MIRROR": Outcome.DROP}


def verdict_outcome(verdict) -> Outcome:
    """The outcome of a terminal verdict other than jump and goto."""
    outcome = _VERDICT_OUTCOME.get(verdict.kind)
    if outcome is None:
        outcome = _OTHER_OUTCOME.get((verdict.target or "").upper(), Outcome.ACCEPT)
    return outcome


MAX_DEPTH = 64


class Walker:
    """Walks boxes through the chains of one table.

    ``record`` adds every step (chains entered and left, every matching rule,
    non-terminal ones included) to each box's trail, for ``portlint trace``;
    without it only deciding rules (verdicts and jumps) are recorded.
    """

    def __init__(self, record: bool = False, certain: bool = False):
        self.record = record
        # ``certain``: a rule whose opaque match would have to match is taken as not matching
        # (as a trace takes it), instead of going on both ways: for the routed path, where a
        # router's chains of -m mac / -m recent rules would double the boxes at every one.
        self.certain = certain
        # Set while walking new connections' first packets through a chain that runs before
        # conntrack (paths.PathEvaluator): their state is invalid there, their flags a SYN's.
        self.first_packet = False

    @property
    def decide(self) -> bool | str:
        return FIRST_PACKET if self.first_packet else True

    def walk(self, table: Table, chain: Chain, boxes: list[Box], stack: tuple[str, ...] = ()) -> list[tuple[Box, Outcome]]:
        if self.record:
            boxes = [replace(b, trail=step(b.trail, "enter", table, chain)) for b in boxes]
        results: list[tuple[Box, Outcome]] = []
        for box in self._run(table, chain, boxes, stack, results):
            results.append((box, Outcome.RETURN))
        if self.record:
            results = [
                (replace(b, trail=step(b.trail, "leave", table, chain, detail=o.value)), o) for b, o in results
            ]
        return results

    def _run(self, table: Table, chain: Chain, boxes: list[Box], stack: tuple[str, ...],
             results: list[tuple[Box, Outcome]], returned: list[Box] | None = None) -> list[Box]:
        """Walk ``boxes`` through ``chain``: outcomes go to ``results`` (a RETURN verdict's boxes
        to ``returned`` when given), what falls off the end is returned."""
        stack = stack + (chain.name,)
        pending = boxes
        for block in blocks_of(chain):
            if not pending:
                break
            if isinstance(block, Segment):
                pending = self._apply_segment(table, chain, block, pending, results, stack, returned)
            else:
                pending = self._apply_rule(table, chain, block, pending, results, stack, returned)
        return coalesce(pending)

    def _apply_rule(self, table: Table, chain: Chain, rule: Rule, pending: list[Box],
                    results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                    returned: list[Box] | None = None) -> list[Box]:
        """Split ``pending`` by one rule; matched parts get its verdict, the rest is returned."""
        verdict = rule.verdict
        kind = verdict.kind
        if not verdict.terminal and kind is not VerdictKind.JUMP:
            if sets_notrack(rule):
                return self._apply_notrack(table, chain, rule, pending)
            return self._record_nonterminal(table, chain, rule, pending) if self.record else pending
        if kind is VerdictKind.JUMP and not self.record and jump_changes_nothing(table, verdict.target, stack):
            return pending  # everything that jumps comes back unchanged (KUBE-MARK-MASQ): as a MARK would
        if self.certain and _never_certain(rule):
            # Taken as not matching: splitting boxes by its other matches would only cut them
            # into pieces that go on alike (a MAC list of a few hundred hosts, each with -s).
            return pending
        next_pending: list[Box] = []
        matched: list[Box] = []
        assumed: list[Box] = []  # matched only by assuming an opaque match of this rule matched
        for whole in pending:
            for box in state_parts(whole, rule):
                inside, outside = split_rule(box, rule.matches, rule, self.record, self.decide)
                next_pending.extend(outside)
                if inside is not None:
                    inside = with_trail(inside, step(inside.trail, "rule", table, chain, rule))
                    if inside.assumptions is not box.assumptions and not self.record:
                        if self.certain:
                            continue
                        assumed.append(inside)
                    else:
                        matched.append(inside)
        if not matched and not assumed:
            return next_pending
        if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
            target = chain_named(table, verdict.target)
            if target is None or target.name in stack or len(stack) >= MAX_DEPTH:
                # Undefined chain or loop: the kernel would refuse the ruleset;
                # hygiene checks report it, evaluation goes on past the rule.
                next_pending.extend(matched)
                next_pending.extend(assumed)
                return next_pending
            # Every part that matched enters the target together (merged), not one by one.
            # Without a trace, a jump taken only by assuming an opaque match leaves its
            # "no match" branch going on with the whole box: what comes back lies inside it.
            if self.record:
                # Each chain's enter and leave steps: through walk(), results and all
                # (a trace keeps every assumption: nothing was put in ``assumed``).
                for sub_box, outcome in self.walk(table, target, coalesce(matched), stack):
                    if outcome is Outcome.RETURN:
                        if kind is VerdictKind.GOTO:
                            results.append((sub_box, Outcome.RETURN))
                        else:
                            next_pending.append(sub_box)
                    else:
                        results.append((sub_box, outcome))
                return next_pending
            # Final outcomes inside the target go straight to ``results``; what it returns
            # (falling off its end or by a RETURN verdict) comes back here.
            for parts, certain in ((matched, True), (assumed, False)):
                if not parts:
                    continue
                back: list[Box] = []
                back.extend(self._run(table, target, coalesce(parts), stack, results, back))
                if kind is VerdictKind.GOTO:
                    # Back to this chain's caller.
                    if returned is not None:
                        returned.extend(back)
                    else:
                        results.extend((sub_box, Outcome.RETURN) for sub_box in back)
                elif certain:
                    next_pending.extend(back)
        else:
            matched.extend(assumed)
            outcome = verdict_outcome(verdict)
            if outcome is Outcome.RETURN and returned is not None:
                returned.extend(matched)
            else:
                results.extend((apply_nat(box, rule), outcome) for box in matched)
        return next_pending

    def _apply_segment(self, table: Table, chain: Chain, segment: "Segment", pending: list[Box],
                       results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                       returned: list[Box] | None = None) -> list[Box]:
        """A run of rules dispatching on disjoint destinations (or ports): each part of a box
        meets only the rules of its own group, in order; the rest skips the run."""
        next_pending, by_group = segment.partition(pending)
        # Parts of different boxes bound for one group go through it together, merged first.
        for group, parts in by_group.values():
            parts = coalesce(parts)
            for rule in group:
                if not parts:
                    break
                parts = self._apply_rule(table, chain, rule, parts, results, stack, returned)
            next_pending.extend(parts)
        return coalesce(next_pending)

    def _apply_notrack(self, table: Table, chain: Chain, rule: Rule, pending: list[Box]) -> list[Box]:
        """``-j CT --notrack`` / ``-j NOTRACK`` / nft ``notrack``: the matched part goes on untracked."""
        out = []
        for box in (part for whole in pending for part in state_parts(whole, rule)):
            inside, outside = split_rule(box, rule.matches, rule, self.record, self.decide)
            out.extend(outside)
            if inside is not None:
                inside = replace(inside, state=UNTRACKED)
                if self.record:
                    inside = replace(inside, trail=step(inside.trail, "rule", table, chain, rule))
                out.append(inside)
        return out

    def _record_nonterminal(self, table: Table, chain: Chain, rule: Rule, pending: list[Box]) -> list[Box]:
        out = []
        for box in (part for whole in pending for part in state_parts(whole, rule)):
            inside, outside = split_rule(box, rule.matches, rule, self.record, self.decide)
            if inside is not None:
                out.append(replace(inside, trail=step(inside.trail, "rule", table, chain, rule)))
            out.extend(outside)
        return out


_PASSING_KINDS = frozenset({VerdictKind.RETURN, VerdictKind.SNAT, VerdictKind.MASQUERADE,
                            VerdictKind.LOG, VerdictKind.CONTINUE})
_TRANSPARENT: IdentityCache[bool] = IdentityCache()


def is_transparent(table: Table, chain: Chain, _seen: frozenset[str] = frozenset()) -> bool:
    """Whether every packet leaves ``chain`` as it came in, going on: no rule here or in a chain
    it jumps to can drop, reject, accept, queue or rewrite the destination, and none changes
    the conntrack state (kube-proxy's and Docker's nat POSTROUTING chains: marks, SNAT and
    returns), and every jump is unconditional. Walking such a chain cannot change what happens
    to a box, nor what exposure reports about its path (accepting rules and choosing jumps)."""
    known = _TRANSPARENT.get(chain)
    if known is not None:
        return known
    result = _transparent(table, chain, _seen | {chain.name})
    if not _seen:  # one found inside a jump loop depends on where the loop was entered
        _TRANSPARENT.put(chain, result)
    return result


def jump_changes_nothing(table: Table, name: str | None, active) -> bool:
    """Whether a jump to chain ``name`` brings every packet back as it was (``active``: the
    chains being walked, where a jump would be a loop)."""
    target = chain_named(table, name)
    return target is not None and target.name not in active and is_transparent(table, target)


def _transparent(table: Table, chain: Chain, seen: frozenset[str]) -> bool:
    for rule in chain.rules:
        verdict = rule.verdict
        if sets_notrack(rule):
            return False
        kind = verdict.kind
        if kind in _PASSING_KINDS or (kind is VerdictKind.OTHER and not verdict.terminal):
            continue
        if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
            if rule.matches:
                return False  # a jump that chooses traffic is part of how exposure explains a path
            target = chain_named(table, verdict.target)
            if target is None:
                continue  # an undefined chain: evaluation goes on past the rule
            if target.name in seen or len(seen) >= MAX_DEPTH or not is_transparent(table, target, seen):
                return False
            continue
        return False
    return True


UNTRACKED = frozenset({"untracked"})


def sets_notrack(rule: Rule) -> bool:
    """True for a rule that exempts its packets from connection tracking."""
    verdict = rule.verdict
    if verdict.kind is VerdictKind.OTHER and verdict.target == "NOTRACK":
        return True
    if verdict.kind is VerdictKind.OTHER and verdict.target == "CT" and any(
            name == "--notrack" for name, _ in verdict.options):
        return True
    return any(statement.name == "notrack" for statement in rule.statements)


def apply_nat(box: Box, rule: Rule) -> Box:
    """Rewrite the destination of a box for DNAT and REDIRECT; other verdicts leave it as it is."""
    verdict = rule.verdict
    if verdict.kind is VerdictKind.DNAT:
        nat_dst = box.cur_dst
        local = box.local
        if verdict.to_addresses is not None and verdict.to_addresses.family is box.family:
            nat_dst = verdict.to_addresses.ranges
            loopback = LOOPBACK_V6 if box.family is Family.IPV6 else LOOPBACK_V4
            # Still for this host: a loopback target, or the very address the packet was
            # sent to (a local one) with only the port changed. Any other address is
            # taken as forwarded: the engine does not know the host's other addresses.
            local = iv.covers(loopback, nat_dst) or (box.local and nat_dst == box.cur_dst)
        nat_dport = verdict.to_ports.ranges if verdict.to_ports is not None else box.cur_dport
        return replace(box, nat_dst=nat_dst, nat_dport=nat_dport, local=local)
    if verdict.kind is VerdictKind.REDIRECT:
        nat_dport = verdict.to_ports.ranges if verdict.to_ports is not None else box.cur_dport
        return replace(box, nat_dst=box.cur_dst, nat_dport=nat_dport, local=True)
    return box


_CHAIN_INDEX: IdentityCache[dict[str, Chain]] = IdentityCache(10_000)


def chain_named(table: Table, name: str | None) -> Chain | None:
    """The chain ``name`` of ``table``, through an index built once per table."""
    index = _CHAIN_INDEX.get(table)
    if index is None:
        index = _CHAIN_INDEX.put(table, {chain.name: chain for chain in table.chains})
    return index.get(name or "")


# --- Dispatch segments ----------------------------------------------------------
# Large rulesets (kube-proxy, ipset-like allowlists) are long runs of rules that each
# test one destination address or port. Walking every box through every such rule
# costs rules x boxes; grouping a run by its disjoint keys makes it rules x log(rules).

MIN_SEGMENT = 8


@dataclass
class Segment:
    dimension: str  # "dst" or "dport"
    family: Family | None
    groups: list[list[Rule]] = field(default_factory=list)
    keys: list[iv.Ranges] = field(default_factory=list)
    index: list[tuple[int, int, int]] = field(default_factory=list)  # (lo, hi, group), sorted
    covered: iv.Ranges = ()
    starts: list[int] = field(default_factory=list)

    def partition(self, boxes: list[Box]) -> tuple[list[Box], dict[int, tuple[list[Rule], list[Box]]]]:
        """(the parts of ``boxes`` outside every key, which skip the run; per group met, in the
        order met: (its rules, the parts of ``boxes`` in its key))."""
        skipping: list[Box] = []
        by_group: dict[int, tuple[list[Rule], list[Box]]] = {}
        for box in boxes:
            if self.dimension == "dst" and box.family is not self.family:
                skipping.append(box)
                continue
            current = box.cur_dst if self.dimension == "dst" else box.cur_dport
            rebuild = _with_dst if self.dimension == "dst" else _with_dport
            rest = iv.subtract(current, self.covered)
            if rest:
                skipping.append(rebuild(box, rest))
            for group, part in self.parts(current):
                by_group.setdefault(id(group), (group, []))[1].append(rebuild(box, part))
        return skipping, by_group

    def parts(self, current: iv.Ranges):
        """(group rules, the part of ``current`` that falls in the group's key), in rule order."""
        found: dict[int, list[tuple[int, int]]] = {}
        starts = self.starts
        for lo, hi in current:
            position = max(bisect_left(starts, lo) - 1, 0)
            while position < len(self.index) and self.index[position][0] <= hi:
                r_lo, r_hi, group = self.index[position]
                if r_hi >= lo:
                    found.setdefault(group, []).append((max(lo, r_lo), min(hi, r_hi)))
                position += 1
        for group in sorted(found):
            pieces = found[group]
            yield self.groups[group], (pieces[0],) if len(pieces) == 1 else iv.normalize(tuple(pieces))


_NEVER_CERTAIN: IdentityCache[bool] = IdentityCache(100_000)


def _never_certain(rule: Rule) -> bool:
    """Whether the rule has a match the engine never decides (OpaqueMatch): with
    ``Walker.certain`` it never matches (remembered per rule)."""
    found = _NEVER_CERTAIN.get(rule)
    if found is None:
        found = _NEVER_CERTAIN.put(rule, any(type(m) is OpaqueMatch for m in rule.matches))
    return found


def _dispatch_key(rule: Rule, dimension: str | None = None):
    for match in rule.matches:
        if dimension in (None, "dst") and isinstance(match, AddressMatch) and not match.negated \
                and match.direction is Direction.DESTINATION:
            return "dst", match.addresses.family, match.addresses.ranges
    if dimension == "dst":
        return None
    for match in rule.matches:
        if isinstance(match, PortMatch) and not match.negated and match.direction is Direction.DESTINATION:
            return "dport", None, match.ports.ranges
    return None


_BLOCKS: IdentityCache[list] = IdentityCache(100_000)


def blocks_of(chain: Chain) -> list:
    """The chain's rules, with long dispatching runs folded into Segments (cached per chain)."""
    known = _BLOCKS.get(chain)
    if known is not None:
        return known
    rules = chain.rules
    blocks: list = []
    i = 0
    if len(rules) < MIN_SEGMENT:
        blocks = list(rules)
    while len(rules) >= MIN_SEGMENT and i < len(rules):
        key = _dispatch_key(rules[i])
        if key is None:
            blocks.append(rules[i])
            i += 1
            continue
        segment, j = _grow_segment(rules, i, key[0], key[1])
        if j - i >= MIN_SEGMENT:
            blocks.append(segment)
            i = j
        else:
            blocks.append(rules[i])
            i += 1
    return _BLOCKS.put(chain, blocks)


def _grow_segment(rules, start: int, dimension: str, family):
    segment = Segment(dimension, family)
    by_key: dict[iv.Ranges, int] = {}
    taken: list[tuple[int, int]] = []  # sorted, disjoint: every key's ranges so far
    intervals: list[tuple[int, int, int]] = []
    j = start
    while j < len(rules):
        key = _dispatch_key(rules[j], dimension)
        if key is None or key[0] != dimension or key[1] is not family:
            break
        ranges = key[2]
        group = by_key.get(ranges)
        if group is None:
            if not ranges or _overlaps(taken, ranges):
                break
            group = len(segment.groups)
            by_key[ranges] = group
            segment.groups.append([])
            segment.keys.append(ranges)
            for lo, hi in ranges:
                intervals.append((lo, hi, group))
                insort(taken, (lo, hi))
        segment.groups[group].append(rules[j])
        j += 1
    intervals.sort()
    segment.index = intervals
    segment.starts = [row[0] for row in intervals]
    segment.covered = iv.normalize(tuple((lo, hi) for lo, hi, _ in intervals))
    return segment, j


def _overlaps(taken: list[tuple[int, int]], ranges) -> bool:
    for lo, hi in ranges:
        position = bisect_left(taken, (lo, -1))
        if position > 0 and taken[position - 1][1] >= lo:
            return True
        if position < len(taken) and taken[position][0] <= hi:
            return True
    return False
