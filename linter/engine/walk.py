"""Walking boxes of packet space through chains, the way netfilter evaluates rules.

First match wins; a jump pushes and RETURN (or falling off a user chain) pops; a
goto does not come back; non-terminal targets (LOG, MARK, counters) let the
packet go on. The result of walking a chain is a list of (box, outcome) pairs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from dataclasses import replace as replace_routing
from functools import partial
from typing import NamedTuple

from linter.engine import intervals as iv, memo
from linter.engine.budget import MAX_FOLLOWED_DEPTH, Budget
from linter.engine.chains import chain_named  # noqa: F401  (re-exported: callers find chains here)
from linter.engine.keyed import pieces_by_group
from linter.engine.known_sizes import collector
from linter.engine.hull import cut as cut_to_hull, hull_of, suffix_rules
from linter.engine.marks import mark_effect, marked, marks_only, sets_marks
from linter.engine.memo import IdentityCache
from linter.engine.quickmiss import quick_split
from linter.engine.transparent import is_transparent, jump_changes_nothing, sets_notrack  # noqa: F401  (re-exported)
from linter.engine.heldcuts import HeldCuts, holds_long, source_only
from linter.engine.sourcerun import SourceRun, fold_source_runs, run as run_sources
from linter.engine.segment_keys import KeyStretches, covered_by, dispatch_key, grow_keys, keyless_at
from linter.engine.runs import READ, REBUILD, plain_firsts, plain_verdicts, same_shape, shaped_walk, split_by_keys, split_parts
from linter.engine.coalesce import coalesce
from linter.engine.passthrough import passes_through
from linter.engine.jump_copies import copied_jumps
from linter.engine.allmiss import missed_by_all
from linter.engine.space import (
    CUT_ASSUMPTION, FIRST_PACKET, Box, Routing, with_dport, with_dst, with_proto as _setter_proto,
    with_sport as _setter_sport, with_src, extend_path, merge_equal,
    replace, split_rule, state_parts, trails_back, value_key, with_trail,
)
from linter.addresses import LOOPBACK_V4, LOOPBACK_V6
from linter.model import (
    Chain, Family, OpaqueMatch, Policy, Rule, Table, VerdictKind,
)


class Outcome(str, enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"  # explicit RETURN or fell off the end of the chain
    QUEUE = "queue"


class Step(NamedTuple):
    """One event on a packet's path: a chain entered or left, a rule matched, a policy applied.
    (A NamedTuple: hundreds of thousands are made, and a frozen dataclass costs 5x to build.)"""

    event: str  # "enter", "rule", "leave", "policy"
    table: Table
    chain: Chain
    rule: Rule | None = None
    detail: str = ""


def step(trail: tuple, event: str, table: Table, chain: Chain, rule: Rule | None = None, detail: str = "") -> tuple:
    """The trail with one more Step (shared with every other box that took the same way)."""
    identity = (event, id(table), id(chain), id(rule), detail)
    return extend_path(trail, identity, _new_step, (event, table, chain, rule, detail))


def rule_steps(table: Table, chain: Chain):
    """``(trail, rule) -> step(trail, "rule", table, chain, rule)`` (runs of rules step a trail once per rule)."""
    table_id, chain_id = id(table), id(chain)

    def stepped(trail: tuple, rule: Rule) -> tuple:
        return extend_path(trail, ("rule", table_id, chain_id, id(rule), ""), _new_step, ("rule", table, chain, rule, ""))
    return stepped


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

# Terminal targets portlint keeps as OTHER (TPROXY, SYNPROXY, NETMAP...): the packet is taken in (diverted to a
# local socket, answered for, or rewritten), except where the front end says otherwise (Verdict.other_outcome).
_OTHER_OUTCOME = {"queue": Outcome.QUEUE, "drop": Outcome.DROP}

# Enum members read once (a class attribute read per jump; kube-proxy's 20,000 service jumps).
_JUMP, _GOTO, _RETURN_KIND, _DNAT, _REDIRECT = (VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.RETURN,
                                                VerdictKind.DNAT, VerdictKind.REDIRECT)
_ACCEPTS, _DROPS, _REJECTS, _RETURNS = Outcome.ACCEPT, Outcome.DROP, Outcome.REJECT, Outcome.RETURN
_new_step = partial(tuple.__new__, Step)  # Step(*fields) made in C (step, rule_steps): what Step's own __new__ makes


def verdict_outcome(verdict) -> Outcome:
    """The outcome of a terminal verdict other than jump and goto."""
    outcome = _VERDICT_OUTCOME.get(verdict.kind)
    if outcome is None:
        outcome = _OTHER_OUTCOME.get(verdict.other_outcome, Outcome.ACCEPT)
    return outcome


MAX_DEPTH = MAX_FOLLOWED_DEPTH  # nested jumps followed (engine/budget.py)


class Walker:
    """Walks boxes through the chains of one table.

    ``record`` adds every step (chains entered and left, every matching rule,
    non-terminal ones included) to each box's trail, for ``portlint trace``;
    without it only deciding rules (verdicts and jumps) are recorded.
    """

    def __init__(self, record: bool = False, budget: Budget | None = None, certain: bool = False):
        self.record = record
        # ``certain``: a rule whose opaque match would have to match is taken as not matching
        # (as a trace takes it), instead of going on both ways: for the routed path, where a
        # router's chains of -m mac / -m recent rules would double the boxes at every one.
        self.certain = certain
        # Set while walking new connections' first packets through a chain that runs before
        # conntrack (paths.PathEvaluator): their state is invalid there, their flags a SYN's.
        self.first_packet = False
        self.budget = budget if budget is not None else Budget(2**62)
        # Set by PathEvaluator when some rule reads a mark: then MARK/CONNMARK are applied (and
        # chains that set marks are walked), else they change nothing anyone reads.
        self.marks = False
        # Set by PathEvaluator: in a base chain that drops by policy, what no later rule can
        # accept is dropped at once (engine/hull.py) instead of being split by every rule.
        self.prune = False
        # Past the budget: (chain, packets, possible) already walked in this walk -> what came back.
        self._entered: dict[tuple, list[Box]] = {}

    shared = None  # set by PathEvaluator: an engine/shapewalk.SharedWalks
    carry = None  # (boxes, HeldCuts): held boxes entering a chain with their holes (engine/heldjumps.py)
    routing: "Routing | None" = None  # routes the ruleset reveals (Docker's bridges): set by PathEvaluator
    _routing_first: "Routing | None" = None

    def route_by(self, routing: "Routing | None") -> None:
        """Decide output interfaces after a DNAT from ``routing`` (None: they stay opaque)."""
        self.routing = routing
        self._routing_first = replace_routing(routing, first_packet=True) if routing is not None else None

    @property
    def decide(self):
        if self.routing is not None:
            return self._routing_first if self.first_packet else self.routing
        return FIRST_PACKET if self.first_packet else True

    def walk(self, table: Table, chain: Chain, boxes: list[Box], stack: tuple[str, ...] = ()) -> list[tuple[Box, Outcome]]:
        """Every (box, outcome) of walking ``boxes`` through ``chain`` (RETURN: fell off or returned)."""
        if not stack:
            self._entered = {}  # a chain walked again from another base chain goes on differently
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
        checkpoints = self._checkpoints(table, chain) if not stack and self.prune and not self.record else None
        stack = stack + (chain.name,)
        budget = self.budget
        budget.spent += 1
        pending = boxes
        regrow = regrow_at(pending)
        merge_at = 2
        held = None  # engine/heldcuts.py: cuts of long source lists not made yet
        carried = self.carry
        if carried is not None and carried[0] is boxes:
            self.carry = None
            held = carried = carried[1]  # boxes' holes, carried in by a jump (engine/heldjumps.py)
            if checkpoints is None and (went := heldchain.walk_carried(self, held, table, chain, blocks_of(chain),
                                                                       pending, stack, results, returned)) is not None:
                return went  # a short chain of source cuts and rules every box misses (engine/heldchain.py)
        blocks = blocks_of(chain)
        for position, block in (walked := enumerate(blocks)):
            if not pending:
                break
            went = None
            if held and (type(block) is not Rule or checkpoints and position in checkpoints):
                if type(block) is Segment and not (checkpoints and position in checkpoints):
                    went = heldsegments.segment_holding(self, held, table, chain, block, pending, results, stack, returned)
                if went is None:
                    pending = held.settle(pending)
            if checkpoints and position in checkpoints:
                pending = self._cut(table, chain, checkpoints[position], pending, results)
                if not pending:
                    break
            if went is not None:
                pending = went  # a segment met by held boxes (engine/heldsegments.py)
            elif isinstance(block, Segment):
                pending = self._apply_segment(table, chain, block, pending, results, stack, returned)
            elif type(block) is SourceRun:  # engine/sourcerun.py: rules for a few sources each
                pending = run_sources(block, pending, lambda rule, boxes: self._apply_rule(
                    table, chain, rule, boxes, results, stack, returned), self.record, self.decide, chunked=True)
            elif held is not None and (run := heldrun.held_run(self, held, table, chain, blocks, position, checkpoints,
                                                                pending, results, stack, returned)) is not None:
                pending = heldrun.skip(walked, position, *run)  # source cuts, rules every box misses (engine/heldrun.py)
            elif (missed := missed_by_all(self, table, block, pending, stack)) is not None:
                pending = missed  # engine/allmiss.py: every box misses the rule
            elif held is not None or (not self.record and source_only(block) and holds_long(pending)):
                if held is None:
                    held = new_held()
                pending = self._apply_held(held, table, chain, block, pending, results, stack, returned)
            else:
                pending = self._apply_rule(table, chain, block, pending, results, stack, returned)
            if held and (len(pending) >= regrow or budget.spent > budget.limit and len(pending) >= merge_at):
                pending = held.settle(pending)
            if len(pending) >= regrow:
                # A rule that tests a port leaves, in every box it meets, the other protocols' part of that
                # port: ufw's `allow from NET port P` rules multiplied each source's boxes by the rules after
                # it. Merged once the boxes doubled, the merging costs as much as the splitting did, not more.
                pending = coalesce(pending)
                regrow = regrow_at(pending)
            if budget.spent > budget.limit and len(pending) >= merge_at:  # (Budget.degraded, read in place)
                # Merged again once the boxes doubled: merging at every rule cost a key of
                # every box at every rule (ufw's user rules: 15 of 36 s at 1,000 rules).
                pending = self._merged(table, chain, block, pending)
                merge_at = 2 * len(pending)
        if held is carried and held is not None:
            return held.coalesce(pending)  # back to the jump, still held
        return coalesce(held.settle(pending) if held else pending)

    def _checkpoints(self, table: Table, chain: Chain) -> dict[int, tuple] | None:
        """Block position -> the accepting rules after it, where boxes are cut to their hull."""
        if chain.hook is None or chain.policy is not Policy.DROP:
            return None
        found = _CHECKPOINTS.get(chain)
        if found is None:
            found = _CHECKPOINTS.put(chain, suffix_rules(table, blocks_of(chain)))
        return found

    def _cut(self, table: Table, chain: Chain, rules: tuple, pending: list[Box],
             results: list[tuple[Box, Outcome]]) -> list[Box]:
        """Boxes cut to what ``rules`` may accept; the rest dropped here ("pruned": no later rule accepts it)."""
        kept = []
        hulls = _HULLS.setdefault(id(rules), (rules, {}))[1] if len(_HULLS) < 10_000 else {}
        for box in pending:
            hull = hulls.get(box.family)
            if hull is None:
                hull = hulls[box.family] = hull_of(rules, box.family)
            if hull.is_full():
                kept.append(box)
                continue
            inside, outside = cut_to_hull(box, hull, _HULL_DIMENSIONS)
            for part in outside:
                results.append((with_trail(part, step(part.trail, "pruned", table, chain)), Outcome.DROP))
            if inside is not None:
                kept.append(inside)
        return kept

    def _merged(self, table: Table, chain: Chain, block, pending: list[Box]) -> list[Box]:
        """Past the budget: one box per set of packets (and certainty) at this point."""
        merged = merge_equal(pending)
        if len(merged) < len(pending):
            self.budget.note(table, chain, block if isinstance(block, Rule) else None, "paths")
        return merged

    def _apply_held(self, held: HeldCuts, table: Table, chain: Chain, rule: Rule, pending: list[Box],
                    results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                    returned: list[Box] | None) -> list[Box]:
        """_apply_rule with the long source lists of ``held`` cut only when they must be
        (engine/heldcuts.py): what each rule decides and what goes on are the same."""
        if (rule.verdict.terminal or rule.verdict.kind is _JUMP) and self._passes_whole(table, rule, stack):
            return pending  # (_apply_rule's answer, held boxes and all: not settled for a rule nothing meets)
        if (key := source_only(rule)) is not None and (rule.verdict.terminal or rule.verdict.kind is _JUMP):
            return heldchain.apply_by_source(self, held, table, chain, rule, key, pending, results, stack, returned)
        if held and not held.misses_all(pending, lambda box: self._split_whole(rule, box)):
            if rule.verdict.kind is _JUMP:  # (not passed whole: above)
                went = heldjumps.jump_holding(self, held, table, chain, rule, pending, results, stack)
                if went is not None:
                    return went
            pending = held.settle(pending)
        return self._apply_rule(table, chain, rule, pending, results, stack, returned)

    def _split_whole(self, rule: Rule, box: Box) -> tuple:
        """(None, [box]) when ``rule`` misses all of ``box`` and splits it in no other way."""
        parts = state_parts(box, rule)
        if len(parts) != 1:
            return box, parts
        return quick_split(box, rule, self.record, self.decide)

    def _passes_whole(self, table: Table, rule: Rule, stack: tuple[str, ...]) -> bool:
        """Whether every box goes on past ``rule`` (a terminal rule or a jump) as it came, unsplit."""
        verdict = rule.verdict
        if verdict.kind is _JUMP and not self.record and jump_changes_nothing(table, verdict.target, stack) \
                and (mark_effect(rule) if self.marks and rule.statements else None) is None \
                and not (self.marks and sets_marks(table, chain_named(table, verdict.target))):
            return True  # everything that jumps comes back unchanged (KUBE-MARK-MASQ): as a MARK would
        # Taken as not matching: splitting boxes by its other matches would only cut them into
        # pieces that go on alike (a MAC list of a few hundred hosts, each with -s).
        return self.certain and _never_certain(rule)

    def _apply_rule(self, table: Table, chain: Chain, rule: Rule, pending: list[Box],
                    results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                    returned: list[Box] | None = None, matched_whole: bool = False) -> list[Box]:
        """Split ``pending`` by one rule; matched parts get its verdict, the rest is returned.
        ``matched_whole``: the caller knows split_rule answers ``(box, [])`` for every box, unsplit
        by state, and that the rule is not passed whole (parts in a plain source rule's ranges)."""
        verdict = rule.verdict
        kind = verdict.kind
        if not verdict.terminal and kind is not _JUMP:
            if sets_notrack(rule):
                return self._apply_notrack(table, chain, rule, pending)
            if self.marks and (effect := mark_effect(rule)) is not None:
                return self._apply_mark(table, chain, rule, pending, effect)
            return self._record_nonterminal(table, chain, rule, pending) if self.record else pending
        if not matched_whole and self._passes_whole(table, rule, stack):  # (matched_whole: known not to)
            return pending
        effect = mark_effect(rule) if self.marks and rule.statements else None  # `meta mark set 1 accept`
        self.budget.spent += len(pending) + 1
        next_pending, matched, assumed, before = self.met(table, chain, rule, kind, pending, matched_whole)
        if not matched and not assumed:
            return next_pending
        return self.after_split(table, chain, rule, effect, next_pending, matched, assumed, before, results, stack,
                                returned)

    def met(self, table: Table, chain: Chain, rule: Rule, kind: VerdictKind, pending: list[Box],
            matched_whole: bool = False) -> tuple:
        """How ``rule`` (terminal, or a jump) splits ``pending``: (what goes on, the matched parts with its
        step, those matched only by assumption, each matched part's trail before it by its new trail's id)."""
        next_pending: list[Box] = []
        matched: list[Box] = []
        assumed: list[Box] = []  # matched only by assuming an opaque match of this rule matched
        # A chain entered and left again is no part of how a box is decided: what comes back
        # takes the trail it had before the jump (and a RETURN leaves no step), so it can
        # coalesce with what did not jump. A trace records both.
        forget = not self.record and (kind is _JUMP or kind is _RETURN_KIND)
        before: dict[int, tuple] = {}
        for whole in pending:
            for box in state_parts(whole, rule) if not matched_whole else (whole,):  # (quickmiss.py:)
                inside, outside = quick_split(box, rule, self.record, self.decide) if not matched_whole else (box, ())
                next_pending.extend(outside)
                if inside is not None:
                    if forget and kind is _RETURN_KIND:
                        pass
                    else:
                        trail = inside.trail
                        inside = with_trail(inside, step(trail, "rule", table, chain, rule))
                        if forget:
                            before[id(inside.trail)] = trail
                    if inside.assumptions is not box.assumptions and not self.record:
                        if self.certain:
                            continue
                        assumed.append(inside)
                    else:
                        matched.append(inside)
        return next_pending, matched, assumed, before

    def after_split(self, table: Table, chain: Chain, rule: Rule, effect, next_pending: list[Box], matched: list[Box],
                    assumed: list[Box], before: dict, results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                    returned: list[Box] | None = None) -> list[Box]:
        """_apply_rule once ``rule`` split the boxes (``met``; ``effect``: its marks', or None): what goes on."""
        verdict = rule.verdict
        kind = verdict.kind
        if effect is not None:
            matched = [effect(box) for box in matched]
            assumed = [effect(box) for box in assumed]
        if kind is _JUMP or kind is _GOTO:
            target = chain_named(table, verdict.target)
            if target is None or target.name in stack:
                # Undefined chain or loop: the kernel would refuse the ruleset;
                # hygiene checks report it, evaluation goes on past the rule.
                next_pending.extend(matched)
                next_pending.extend(assumed)
                return next_pending
            if len(stack) >= MAX_DEPTH:
                # Deeper than the engine follows: whatever jumps may be accepted in there
                # (never less exposure than the truth), or come back and go on.
                self.budget.note(table, chain, rule, "depth")
                results.extend((with_trail(_assume_cut(box), step(box.trail, "rule", table, chain, rule, CUT_DETAIL)),
                                Outcome.ACCEPT) for box in matched + assumed)
                next_pending.extend(matched)
                return next_pending
            # Every part that matched enters the target together (merged), not one by one. A part that matched
            # only by assuming an opaque match of this rule leaves its "no match" branch going on with the whole
            # box: what it brings back lies inside that, so only the certain part's return goes on (a trace
            # keeps every assumption: nothing was put in ``assumed``).
            for parts, certain in ((matched, True), (assumed, False)):
                if not parts:
                    continue
                effects = marks_only(target) if self.marks and not self.record and not self.budget.degraded else None
                if effects is not None:
                    # KUBE-MARK-MASQ, jumped to from every endpoint: its marks set here, as a
                    # walk through it would (one step, no outcome), without entering it.
                    self.budget.spent += 1
                    back = coalesce([marked(box, effects) for box in coalesce(parts)])
                else:
                    back = self.enter(table, chain, rule, target, coalesce(parts), stack, results)
                if kind is _GOTO:
                    # Back to this chain's caller.
                    if returned is not None:
                        returned.extend(back)
                    else:
                        results.extend((sub_box, Outcome.RETURN) for sub_box in back)
                elif certain:
                    if before:
                        trails_back(back, before)  # in place (``back`` is a list of its own: enter, space.py)
                    next_pending.extend(back)
        else:
            matched.extend(assumed)
            outcome = verdict_outcome(verdict)
            if outcome is _RETURNS and returned is not None:
                returned.extend(matched)
            elif (outcome is _DROPS or outcome is _REJECTS) and (sizes := collector()) is not None:
                results.extend((box, outcome) for box in sizes.defer(matched))  # engine/descent.py
            elif outcome is _ACCEPTS and (sizes := collector()) is not None:
                # (What goes on to a later chain is built again there: engine/paths.py.)
                results.extend((box, outcome) for box in sizes.defer(
                    [apply_nat(box, rule, self.routing) for box in matched], ports=False))
            else:
                results.extend((apply_nat(box, rule, self.routing), outcome) for box in matched)
        return next_pending

    def enter(self, table: Table, chain: Chain, rule: Rule, target: Chain, boxes: list[Box],
               stack: tuple[str, ...], results: list[tuple[Box, Outcome]]) -> list[Box]:
        """Walk ``boxes`` into ``target``: final outcomes go to ``results``, what comes back is returned."""
        if not self.budget.degraded:
            return self._walk_target(table, target, boxes, stack, results)
        # Past the budget: packets that already entered this chain in this walk, as certain (or as possible) as
        # these, met every outcome in there already: only what came back is needed, not another walk (that made
        # twenty chains of two opaque jumps each cost a million walks).
        back: list[Box] = []
        for box in boxes:
            key = (id(target), value_key(box), box.possible)
            known = self._entered.get(key)
            if known is None:
                known = self._entered[key] = self._walk_target(table, target, [box], stack, results)
            else:
                self.budget.note(table, chain, rule, "paths")
            back.extend(known)
        return back

    def _walk_target(self, table: Table, target: Chain, boxes: list[Box], stack: tuple[str, ...],
                     results: list[tuple[Box, Outcome]]) -> list[Box]:
        if self.record:
            # Each chain's enter and leave steps: through walk(), results and all.
            back = []
            for sub_box, outcome in self.walk(table, target, boxes, stack):
                if outcome is Outcome.RETURN:
                    back.append(sub_box)
                else:
                    results.append((sub_box, outcome))
            return back
        through = passes_through(self, table, target, blocks_of(target), boxes, stack, self._passes_whole)
        if through is not None:
            return through  # engine/passthrough.py: every rule misses every box
        if self.shared is not None:  # engine/shapewalk.py: chains of one shape walked once
            return self.shared(self, table, target, boxes, stack, results)
        return self.walk_into(table, target, boxes, stack, results)

    def walk_into(self, table: Table, target: Chain, boxes: list[Box], stack: tuple[str, ...],
                  results: list[tuple[Box, Outcome]]) -> list[Box]:
        """Walk ``boxes`` into ``target`` (not recording): outcomes go to ``results``, what comes back is returned."""
        back = []
        back.extend(self._run(table, target, boxes, stack, results, back))
        return back

    def _apply_segment(self, table: Table, chain: Chain, segment: "Segment", pending: list[Box],
                       results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                       returned: list[Box] | None = None) -> list[Box]:
        """A run of rules dispatching on disjoint destinations (or ports): each part of a box
        meets only the rules of its own group, in order; the rest skips the run."""
        skipping, going_on = self.segment_outputs(table, chain, segment, pending, results, stack, returned, True)
        return coalesce(skipping + going_on)

    def segment_outputs(self, table: Table, chain: Chain, segment: "Segment", pending: list[Box],
                        results: list[tuple[Box, Outcome]], stack: tuple[str, ...],
                        returned: list[Box] | None = None, merged: bool = False) -> tuple[list[Box], list[Box]]:
        """_apply_segment before its coalesce: (the parts outside every key, in the order of
        ``pending``; what comes out of the groups; ``merged``: fewer boxes that coalesce alike)."""
        self.budget.spent += len(pending)
        if not self.record and plain_firsts(segment) and (split := split_by_keys(segment, pending)):
            # Each group's first rule takes every part in its key (engine/runs.py): no splitting.
            self.budget.spent += plain_verdicts(segment, split, results, rule_steps(table, chain), verdict_outcome)
            return split.skipping, []
        if not self.record and same_shape(segment) and (split := split_by_keys(segment, pending)) \
                and split.meeting and not any(split.partial):
            # Groups alike but for their keys: the first is walked, the others copied (runs.py).
            walk_group = lambda rules, parts, out: self._apply_group(table, chain, rules, parts, out, stack, returned)  # noqa: E731
            return split.skipping, shaped_walk(segment, split, walk_group, (table, chain, Step), results, self.budget)
        if not self.record and (went := copied_jumps(self, table, chain, segment, pending, results, stack, returned,
                                                     merged, self._apply_group, self._passes_whole)) is not None:
            return went  # one-rule jump groups alike but for their keys and targets (engine/jump_copies.py)
        skipping, by_group = segment.partition(pending)
        # Parts of different boxes bound for one group go through it together, merged first (a group
        # deciding on sources alone decides them at once: engine/source_groups.py; not at start-up).
        from linter.engine.source_groups import walk_groups
        return skipping, walk_groups(self, table, chain, segment, by_group, results, stack, returned)

    def _apply_group(self, table, chain, rules, parts, results, stack, returned) -> list[Box]:
        """A segment group's rules in order on the parts in its key; returns what goes on."""
        for rule in rules:
            if not parts:
                break
            parts = self._apply_rule(table, chain, rule, parts, results, stack, returned)
        return parts

    def _apply_notrack(self, table: Table, chain: Chain, rule: Rule, pending: list[Box]) -> list[Box]:
        """``-j CT --notrack`` / ``-j NOTRACK`` / nft ``notrack``: the matched part goes on untracked."""
        self.budget.spent += len(pending)
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

    def _apply_mark(self, table: Table, chain: Chain, rule: Rule, pending: list[Box], effect) -> list[Box]:
        """MARK / CONNMARK: the matched part goes on with its marks changed."""
        out = []
        for box in pending:
            inside, outside = split_rule(box, rule.matches, rule, self.record, self.decide)
            out.extend(outside)
            if inside is not None:
                inside = effect(inside)
                if self.record:
                    inside = replace(inside, trail=step(inside.trail, "rule", table, chain, rule))
                out.append(inside)
        return out

    def _record_nonterminal(self, table: Table, chain: Chain, rule: Rule, pending: list[Box]) -> list[Box]:
        self.budget.spent += len(pending)
        out = []
        for box in (part for whole in pending for part in state_parts(whole, rule)):
            inside, outside = split_rule(box, rule.matches, rule, self.record, self.decide)
            if inside is not None:
                out.append(replace(inside, trail=step(inside.trail, "rule", table, chain, rule)))
            out.extend(outside)
        return out


def regrow_at(pending: list[Box]) -> int:
    """How many boxes a walk through a chain may hold before they are merged again."""
    return 2 * max(len(pending), REGROW_AT_LEAST)


REGROW_AT_LEAST = 32  # below this, merging saves less than it costs


def unpruned(box: Box, outcome: Outcome) -> list[tuple[Box, Outcome]]:
    """A walk result as it would be without cutting to the accept hull: a box dropped by a
    "pruned" step is walked again through that chain, so each part names the rule (or the
    policy: a "policy" step) that drops it. Other results are returned as they are."""
    if not box.trail or box.trail[-1].event != "pruned":
        return [(box, outcome)]
    last = box.trail[-1]
    again = []
    for part, result in Walker().walk(last.table, last.chain, [with_trail(box, box.trail[:-1])]):
        if result is Outcome.RETURN:
            part = with_trail(part, step(part.trail, "policy", last.table, last.chain, detail=Policy.DROP.value))
            result = Outcome.DROP
        again.append((part, result))
    return again


CUT_DETAIL = "cut"  # a "rule" step where the engine stopped following: it decides what is reported there


def _assume_cut(box: Box) -> Box:
    """``box`` marked as reached only by an assumption: the engine stopped following its path."""
    return replace(box, assumptions=box.assumptions + (CUT_ASSUMPTION,))


UNTRACKED = frozenset({"untracked"})


def apply_nat(box: Box, rule: Rule, routing: Routing | None = None) -> Box:
    """Rewrite the destination of a box for DNAT and REDIRECT; other verdicts leave it as it is.
    ``routing``: its ``host`` addresses, when known, keep a DNAT to one of them local."""
    verdict = rule.verdict
    if verdict.kind is _DNAT or verdict.kind is _REDIRECT:
        nat_dst, nat_dport, local = nat_fields(verdict, box.family, box.cur_dst, box.cur_dport, box.local, routing)
        return replace(box, nat_dst=nat_dst, nat_dport=nat_dport, local=local)
    return box


def nat_fields(verdict, family: Family, dst: iv.Ranges, dport: iv.Ranges, local: bool,
               routing: Routing | None) -> tuple[iv.Ranges, iv.Ranges, bool]:
    """(nat_dst, nat_dport, local) of a packet of ``family`` to ``dst``:``dport`` (as it is
    now), ``local`` or not, once a DNAT or REDIRECT ``verdict`` rewrote it (apply_nat)."""
    if verdict.kind is VerdictKind.REDIRECT:
        return dst, verdict.to_ports.ranges if verdict.to_ports is not None else dport, True
    nat_dst = dst
    if verdict.to_addresses is not None and verdict.to_addresses.family is family:
        nat_dst = verdict.to_addresses.ranges
        loopback = LOOPBACK_V6 if family is Family.IPV6 else LOOPBACK_V4
        # Still for this host: a loopback target, or the very address the packet was
        # sent to (a local one) with only the port changed. Any other address is
        # taken as forwarded: the engine does not know the host's other addresses.
        local = iv.covers(loopback, nat_dst) or (local and nat_dst == dst)
        own = routing.own(family) if routing is not None and routing.host else None
        if own is not None:
            local = iv.covers(own, nat_dst)  # another address of this host is still this host
    return nat_dst, verdict.to_ports.ranges if verdict.to_ports is not None else dport, local


# --- Dispatch segments ----------------------------------------------------------
# Large rulesets (kube-proxy, blocklists, allow-lists) are long runs of rules that each test one destination
# address, source address or port. Walking every box through every such rule costs rules x boxes; grouping a run
# by its disjoint keys makes it rules x log(rules): a box is cut once by the run's keys, and each part meets
# only the rules of its own key.

MIN_SEGMENT = 8
_ADDRESS_DIMENSIONS = ("dst", "src")
_DIMENSIONS = ("dst", "src", "dport")  # the order of preference between equally good runs


@dataclass
class Segment:
    dimension: str  # "dst", "src" or "dport"
    family: Family | None
    groups: list[list[Rule]] = field(default_factory=list)
    keys: list[iv.Ranges] = field(default_factory=list)
    index: list[tuple[int, int, int]] = field(default_factory=list)  # (lo, hi, group), sorted
    covered: iv.Ranges = ()
    starts: list[int] = field(default_factory=list)

    def partition(self, boxes: list[Box]) -> tuple[list[Box], dict[int, tuple[list[Rule], list[Box]]]]:
        """(the parts of ``boxes`` outside every key, which skip the run; per group met, in the
        order met: (its rules, the parts of ``boxes`` in its key))."""
        found = split_parts(self, boxes)  # one-interval keys: found from the boxes' gaps
        if found is not None:
            return found
        skipping: list[Box] = []
        by_group: dict[int, tuple[list[Rule], list[Box]]] = {}
        address = self.dimension in _ADDRESS_DIMENSIONS
        read = READ[self.dimension]
        rebuild = REBUILD[self.dimension]
        for box in boxes:
            if address and box.family is not self.family:
                skipping.append(box)
                continue
            current = read(box)
            rest = iv.subtract(current, self.covered)
            if rest:
                skipping.append(box if rest is current else rebuild(box, rest))
            if rest is current:
                continue
            for group, part in self.parts(current):
                by_group.setdefault(id(group), (group, []))[1].append(rebuild(box, part))
        return skipping, by_group

    def parts(self, current: iv.Ranges):
        """(group rules, the part of ``current`` that falls in the group's key), in rule order."""
        found = pieces_by_group(current, self.index, self.starts)
        for group in sorted(found):
            pieces = found[group]
            yield self.groups[group], (pieces[0],) if len(pieces) == 1 else iv.normalize(tuple(pieces))


_CHECKPOINTS: IdentityCache[dict] = IdentityCache(10_000)
_HULLS: dict[int, tuple] = memo.per_file({})
_HULL_DIMENSIONS = {
    "proto": (lambda box: box.proto, _setter_proto),
    "sport": (lambda box: box.sport, _setter_sport),
    "dport": (READ["dport"], with_dport),
    "src": (READ["src"], with_src),
    "dst": (READ["dst"], with_dst),
}

_NEVER_CERTAIN: IdentityCache[bool] = IdentityCache(100_000)


def _never_certain(rule: Rule) -> bool:
    """Whether the rule has an OpaqueMatch (never decided: never matches with ``Walker.certain``; remembered)."""
    found = _NEVER_CERTAIN.get(rule)
    if found is None:
        found = _NEVER_CERTAIN.put(rule, any(type(m) is OpaqueMatch for m in rule.matches))
    return found


_BLOCKS: IdentityCache[list] = IdentityCache(100_000)


def blocks_of(chain: Chain) -> list:
    """The chain's rules, with long dispatching runs folded into Segments (cached per chain)."""
    known = _BLOCKS.get(chain)
    if known is not None:
        return known
    rules = chain.rules
    if len(rules) < MIN_SEGMENT:
        return _BLOCKS.put(chain, list(rules))
    blocks: list = []
    i = 0
    last_start = len(rules) - MIN_SEGMENT  # no segment starts past it (too few rules left)
    short_until: dict[str, int] = {}  # no run on the dimension starting before it is long enough
    # No run outgrows its first rule's stretch of keys of one family (engine/segment_keys.py).
    stretches = KeyStretches(rules, _DIMENSIONS, MIN_SEGMENT)
    while i < len(rules):
        best = None
        for dimension in stretches.long_at(i) if i <= last_start else ():
            key = dispatch_key(rules[i], dimension)
            if key is None or i < short_until.get(dimension, 0):
                continue
            segment, j = _grow_segment(rules, i, dimension, key[0], None if best is None else best[0])
            if segment is None:
                if keyless_at(rules, j, dimension, key[0]):  # engine/segment_keys.py
                    short_until[dimension] = j
                continue
            # A part walks the rules of its own group: the best run leaves the fewest rules
            # to walk (a run on dport often has a few large groups, one on addresses many).
            score = j - i - max(len(group) for group in segment.groups)
            if best is None or score > best[0]:
                best = (score, segment, j)
        if best is None:
            i = stretches.pass_short(blocks, i, last_start)  # (rule i, and those after it from which no run starts)
        else:
            blocks.append(best[1])
            i = best[2]
    # (Not where a base chain drops by policy: the walker cuts boxes to the accept hull between blocks.)
    return _BLOCKS.put(chain, blocks if chain.hook is not None and chain.policy is Policy.DROP else fold_source_runs(blocks, rules, Segment))


def _grow_segment(rules, start: int, dimension: str, family, beat: int | None = None):
    groups, keys, intervals, end = grow_keys(rules, start, dimension, family, beat)  # engine/segment_keys.py
    if end - start < MIN_SEGMENT:
        return None, end  # (too short: no Segment built)
    segment = Segment(dimension, family, groups, keys)
    intervals.sort()
    segment.index = intervals
    segment.starts = [row[0] for row in intervals]
    segment.covered = covered_by(intervals)
    return segment, end


def new_held() -> HeldCuts:
    """A walk's first held cuts, the lanes for held boxes imported first (engine/held*.py: they import this module)."""
    global heldchain, heldjumps, heldrun, heldsegments
    from linter.engine import heldchain, heldjumps, heldrun, heldsegments  # (not at start-up: most rulesets hold none)
    return HeldCuts()
