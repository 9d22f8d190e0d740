"""Which rules of a chain no packet can reach with a chance to match (dead-rule analysis).

Every packet of a family (any state, source, destination and interface, for this host or
passing through) is walked through a chain's rules in order. A rule that the packets still
going on cannot match is dead; a dead rule that would match some packet on its own is
shadowed by the rules before it.

A jump sends part of the space into another chain and some of it comes back. What comes
back from a chain does not depend on who jumped: it is the packets the chain returns, cut
to the part that jumped. So each chain is analysed once, its returned space is kept, and a
jump to it costs an intersection instead of a walk (kube-proxy's KUBE-SERVICES jumps to
thousands of small chains, each from one rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from linter.addresses import family_max
from linter.engine import intervals as iv
from linter.engine.budget import recursion_room
from linter.engine.rangelist import RangeList, intersect as chunked_intersect
from linter.engine.quickmiss import misses, miss_tests
from linter.engine.sourcerun import SourceRun, run as run_sources
from linter.engine.settled import forget_settled, jump_targets
from linter.engine.simple_cut import cut, simple_cut
from linter.engine.runs import READ, REBUILD, KeySplit, fresh, plain_firsts, same_shape, single_rules, split_by_keys
from linter.engine.coalesce import coalesce
from linter.engine.space import ALL_STATES, Box, has_opaque, has_path_decided, replace, split_rule
from linter.engine.shadow_shapes import chain_shape, shareable
from linter.engine.walk import MAX_DEPTH, Segment, blocks_of, chain_named, is_transparent, jump_changes_nothing, regrow_at
from linter.model import Chain, Family, Rule, Table, VerdictKind

SHADOW_BUDGET = 40_000  # box splits per chain, plus SHADOW_BUDGET_PER_RULE for each of its rules;
SHADOW_BUDGET_PER_RULE = 40  # past that the chain is not judged (PL410 says so): a chain costs at most this
LANE_AT_LEAST = 1_000  # rules of a base chain with jumps judged by engine/decided_lane.py before the general path
PLAIN_CHAINS_AT_LEAST = 64  # chains of a table from which engine/plain_chain.py judges those nobody jumps to


_NONE: frozenset[int] = frozenset()
_JUMP_KINDS = (VerdictKind.JUMP, VerdictKind.GOTO)
INTERN_AT_MOST = 10_000  # ranges (sources and ports) of a returned space shared with equal ones


@dataclass
class ChainVerdicts:
    """The dead-rule analysis of one chain for one family."""

    dead: set[int] | frozenset[int]  # indexes of rules nothing reaches with a chance to match
    shadowed: set[int] | frozenset[int]  # those of them that would match something on their own
    judged: bool  # False when the chain was too costly to analyse (dead and shadowed empty)
    returned: list[Box] | None  # what the chain returns to its caller; None until asked when not judged,
    # and None for a chain nothing jumps to (engine/settled.py: nothing reads it)


def _plain_judge():
    """engine.plain_chain.judge, imported at the first ask (big inputs only) and kept: an import
    statement per chain cost as much as a short chain's judging loop's first steps."""
    global _PLAIN_JUDGE
    if _PLAIN_JUDGE is None:
        from linter.engine.plain_chain import judge
        _PLAIN_JUDGE = judge
    return _PLAIN_JUDGE


_PLAIN_JUDGE = None


def chain_budget(chain: Chain) -> int:
    """The box splits the dead-rule analysis of ``chain`` may spend before giving up on it."""
    return SHADOW_BUDGET + SHADOW_BUDGET_PER_RULE * len(chain.rules)


def universe(family: Family, interfaces) -> list[Box]:
    """Every packet of ``family``: any state, source, destination and interface, for this host
    or passing through it (hygiene is about the rules as written, not one flow or one hook:
    a loopback destination arriving on another interface, which routing drops, counts too)."""
    maximum = family_max(family)
    everything = iv.full(maximum)
    box = Box(family, iv.full(255), iv.full(65535), iv.full(65535), everything, everything,
              frozenset(interfaces), ALL_STATES)
    return [box, replace(box, local=False)]


class RulePositions(dict):
    """id(rule) -> its position among ``rules``, the map built at the first lookup: a run
    analysed whole (a blocklist's 100,000 drops) never asks for it."""

    def __init__(self, rules: list[Rule]):
        super().__init__()
        self.rules = rules

    built = False

    def __missing__(self, key: int) -> int:
        if self.built:
            raise KeyError(key)
        self.built = True
        self.update({id(rule): index for index, rule in enumerate(self.rules)})
        return self[key]

    def at(self, position: int, rule: Rule) -> int:
        """The position of ``rule``: ``position`` where it is there (blocks follow the rules in
        order), else looked up."""
        rules = self.rules
        return position if position < len(rules) and rules[position] is rule else self[id(rule)]


class ShadowAnalysis:
    """Dead-rule analysis of the chains of one table for one family, each chain once."""

    def __init__(self, table: Table, family: Family, interfaces):
        self.table = table
        self.space = universe(family, interfaces)
        self._family = family
        self._done: dict[str, ChainVerdicts] = {}
        self._returned_spaces: dict[tuple[Box, ...], list[Box]] = {}
        self._active: list[str] = []
        self._shapes: dict[tuple, ChainVerdicts] = {}  # analyses every chain of a shape shares
        self._targets = jump_targets(table)  # the chains whose returned space is read
        # Chains analysed for engine/decided_lane.py, which reads their dead rules and judged
        # flag only: their returned space is made when a general-path caller asks for it, as
        # then (the chains active at the analysis kept for that: loops read them).
        self._unread: dict[str, tuple[ChainVerdicts, list[str]]] = {}
        self._read_back_done = _ReadBackDone(self)
        # The rules of the chains engine/plain_chain.py judged for the lane, as it read them
        # (engine/decided_lane.py makes what such a chain decides from them).
        self.plain_reads: dict[str, list] = {}

    def chain(self, chain: Chain) -> ChainVerdicts:
        """The analysis of ``chain`` (computed once)."""
        found = self._done.get(chain.name)  # (most asks: the check asks of every chain again)
        if found is not None:
            return found
        if (kept := self._unread.get(chain.name)) is not None:
            return kept[0]
        return self._chain(chain)  # (_analysis_of's answer, without its look-ups again)

    def unread(self, chain: Chain) -> ChainVerdicts:
        """``chain``'s analysis as chain() gives it, for engine/decided_lane.py, which does not
        read its returned space: that is made only when returned() asks for it."""
        return self._analysis_of(chain, True)

    def _analysis_of(self, chain: Chain, unread: bool) -> ChainVerdicts:
        found = self._done.get(chain.name)
        if found is None:
            if (kept := self._unread.get(chain.name)) is not None:
                return kept[0]
            if unread and not self._shapes:
                # _chain's answer where engine/plain_chain.py judges the chain: with no shape
                # analysed yet, a chain without jumps (all plain_chain judges) has no shape to look
                # up, and _analysed would judge it so first (a random mix's 7,000 called chains).
                found = _plain_judge()(self, chain, chain_budget(chain), self.plain_reads)
                if found is not None:
                    self._unread[chain.name] = (found, self._active[:])  # (judged: always)
                    return found
            return self._chain(chain, unread)
        return found

    def _chain(self, chain: Chain, unread: bool = False) -> ChainVerdicts:
        # The analysis recurses per jump: room for the table's deepest possible chain, made at the
        # outermost chain once its shape is not one analysed already (kube-proxy's 20,000 endpoint
        # chains asked for by the check each find theirs: raising the limit and restoring it cost
        # more than the look-up). chain_shape() analyses a chain it jumps to with none active, so
        # that chain makes its own room.
        if not unread and chain.name not in self._targets and len(self.table.chains) >= PLAIN_CHAINS_AT_LEAST:
            if not self._active:
                with recursion_room(len(self.table.chains)):
                    return self._plain_first(chain)
            return self._plain_first(chain)
        if unread:
            shape = self._shape_of(chain, True)
        else:  # (_shape_of's answer for a chain read back, written out: 30,000 endpoint chains)
            shape = chain_shape(self.table, chain, self._family, self._active,
                                self._read_back_done if self._unread else self._done, self.chain)
        found = self._shapes.get(shape) if shape is not None else None  # engine/shadow_shapes.py
        if found is not None:
            self._done[chain.name] = found
            return found
        if not self._active:
            with recursion_room(len(self.table.chains)):
                return self._analysed(chain, unread, shape)
        return self._analysed(chain, unread, shape)

    def _plain_first(self, chain: Chain) -> ChainVerdicts:
        """_chain for a chain nobody jumps to: a chain of plain rules is judged by
        engine/plain_chain.py before its shape is made (a shape shared with it would give the
        same exact answer)."""
        if (found := _plain_judge()(self, chain, chain_budget(chain))) is not None:
            self._done[chain.name] = found
            return found
        shape = self._shape_of(chain, False)
        found = self._shapes.get(shape) if shape is not None else None
        if found is not None:
            self._done[chain.name] = found
            return found
        return self._analysed(chain, False, shape)

    def _shape_of(self, chain: Chain, unread: bool) -> tuple | None:
        """``chain``'s shape (engine/shadow_shapes.py), None when it has none to look up."""
        if unread and not self._shapes and not any(rule.verdict.kind in _JUMP_KINDS for rule in chain.rules):
            # No analysis to share yet, and an unread chain's is never kept for its shape: its
            # shape would find nothing (and, jumping nowhere, has no target to analyse on the way).
            return None
        done = self._read_back_done if self._unread else self._done
        return chain_shape(self.table, chain, self._family, self._active, done, self.chain)

    def _analysed(self, chain: Chain, unread: bool, shape: tuple | None) -> ChainVerdicts:
        """``chain`` analysed by its rules (its shape, when it has one, found no analysis)."""
        self._active.append(chain.name)
        try:
            if unread:  # its dead rules as the general path finds them, no lane tried (and not kept
                # for its shape: whether it can be shared reads its returned space)
                found = _plain_judge()(self, chain, chain_budget(chain), self.plain_reads) \
                    or self._analyse(chain, False, lanes=False)
                if found.judged:
                    self._unread[chain.name] = (found, self._active[:-1])
                    return found
                found.returned = list(self.space)  # (what returned() makes of a chain not judged)
                self._done[chain.name] = found
                return found
            found = self._analyse(chain, shape is not None or chain.name in self._targets)
        finally:
            self._active.pop()
        if shape is not None and shareable(found, self.space[0].family):
            self._shapes[shape] = found
        self._done[chain.name] = found
        return found

    def returned(self, chain: Chain) -> list[Box]:
        """Every packet ``chain`` may return to its caller (assumptions and trails forgotten).

        For a chain too costly to analyse, everything: its callers then find fewer dead
        rules, never a false one."""
        if chain.name in self._unread:
            self._read_back(chain)
        verdicts = self.chain(chain)
        if verdicts.returned is None:
            verdicts.returned = list(self.space)
        return verdicts.returned

    def _read_back(self, chain: Chain) -> None:
        """Analyse a chain of ``_unread`` again with its returned space, as _chain would have
        then (among the chains active then)."""
        active = self._active
        self._active = self._unread.pop(chain.name)[1] + [chain.name]
        try:
            with recursion_room(len(self.table.chains)):
                self._done[chain.name] = self._analyse(chain, True)
        finally:
            self._active = active

    def _analyse(self, chain: Chain, read_back: bool, lanes: bool = True) -> ChainVerdicts:
        """``read_back``: whether what the chain returns is read (engine/settled.py); when not,
        its ChainVerdicts.returned is None. ``lanes``: whether engine/decided_lane.py may judge it."""
        tried = lanes and not read_back and len(chain.rules) >= LANE_AT_LEAST
        if tried:  # engine/decided_lane.py: a big base chain with jumps is judged by an index first
            from linter.engine.decided_lane import judge, worth_trying_first
            if worth_trying_first(chain) and (found := judge(self, chain)) is not None:
                return found
        index_of = RulePositions(chain.rules)
        position = 0  # of the next block's first rule in chain.rules, while known
        state = _Progress(list(self.space), chain_budget(chain))
        regrow = regrow_at(state.pending)
        blocks = blocks_of(chain)
        for number, block in enumerate(blocks, 1):
            state.last = not read_back and number == len(blocks)  # nothing reads what goes on after it
            if isinstance(block, Segment):
                self._segment(block, state, index_of, position)
                position += sum(map(len, block.groups))
            elif type(block) is SourceRun:  # engine/sourcerun.py
                state.pending = run_sources(block, state.pending, lambda rule, boxes: self._rule(
                    rule, index_of[id(rule)], boxes, state), False, False, chunked=True)
                position += len(block.rules)
            else:
                position = index_of.at(position, block)
                state.pending = self._rule(block, position, state.pending, state)
                position += 1
            if len(state.pending) >= regrow and not state.last:  # see Walker._run: fragments of other protocols
                if state.pending is not state.settled:  # engine/settled.py
                    state.pending = coalesce(state.pending)
                regrow = regrow_at(state.pending)
            if state.over_budget:
                # What the general path made so far is never read again: let it go before the lane
                # builds its own (ufw's INPUT: what came back from its 100,000-rule user chain).
                state = None
                if lanes and not read_back and not tried:  # (a chain without jumps: the general path's own lanes)
                    from linter.engine.decided_lane import judge, worth_trying_first
                    if worth_trying_first(chain) and (found := judge(self, chain)) is not None:
                        return found
                return ChainVerdicts(set(), set(), False, None)
        if not read_back:
            return ChainVerdicts(state.dead or _NONE, state.shadowed or _NONE, True, None)
        settled = state.pending is state.settled and not state.returned  # engine/settled.py
        returned = self._interned(state.pending if settled else forget(state.pending + state.returned))
        return ChainVerdicts(state.dead or _NONE, state.shadowed or _NONE, True, returned)

    def _interned(self, boxes: list[Box]) -> list[Box]:
        """One shared list for equal returned spaces: thousands of generated chains (one per
        Kubernetes endpoint) return the same space, and keeping a copy each cost 100 MB. A space
        of many ranges is kept as it is: hashing it cost its length (ufw's user chain returns
        every source's port list), and few chains return such a space twice."""
        if sum(len(box.src) + len(box.dport) for box in boxes) > INTERN_AT_MOST:
            return boxes
        key = tuple(boxes)
        return self._returned_spaces.setdefault(key, boxes)

    def _segment(self, segment: Segment, state: "_Progress", index_of: RulePositions, start: int) -> None:
        """A dispatch run: each group of rules meets only the part of the space in its key.
        ``start``: the position of its first rule in the chain, as far as known (checked by
        RulePositions.at before it is used)."""
        if plain_firsts(segment) and (split := split_by_keys(segment, state.pending)) is not None:
            self._plain_segment(segment, split, state, index_of)
            return
        if same_shape(segment) and (split := split_by_keys(segment, state.pending)) is not None \
                and split.meeting and not any(split.partial):
            self._shaped_segment(segment, split, state, index_of, start)
            return
        from linter.engine.keyed_jumps import keyed_classes, keyed_segment  # (big inputs only)
        if keyed_classes(segment) is not None and (split := split_by_keys(segment, state.pending)) is not None \
                and split.meeting and not any(split.partial):  # kube-proxy's KUBE-SERVICES
            going_on = keyed_segment(segment, split, state, index_of,
                                     lambda rule, index, parts: self._rule(rule, index, parts, state),
                                     lambda rule, index: self._dead(rule, index, [], state), self._jump_mode)
            if going_on is None:
                return
        else:
            going_on, by_group = segment.partition(state.pending)
            for group in segment.groups:
                parts = coalesce(by_group[id(group)][1] if id(group) in by_group else [])
                for rule in group:
                    parts = self._rule(rule, index_of[id(rule)], parts, state)
                    if state.over_budget:
                        return
                going_on.extend(parts)
        if state.last:
            state.pending = going_on
            return
        state.pending, settled = forget_settled(going_on)
        state.settled = state.pending if settled else None

    def _plain_segment(self, segment: Segment, split: KeySplit, state: "_Progress", index_of: dict[int, int]) -> None:
        """A run whose groups each start with a plain rule (engine/runs.py): the first rule of a
        group takes every part that meets it (each part costs a split, as in _rule), and the
        rules after it are dead; a group nothing meets is dead as a whole."""
        keys = segment.keys
        whole = len(split.meeting) if not any(split.partial) else None  # every box holds every key
        if whole and state.spent + whole * len(keys) <= state.budget and single_rules(segment):
            state.spent += whole * len(keys)  # (a blocklist: every group met, none with a rule after its first)
            state.pending = forget(split.skipping)
            return
        for number, group in enumerate(segment.groups):
            meeting = whole if whole is not None else sum(1 for _ in split.parts(number, keys[number]))
            rest = group
            if meeting:
                state.spent += meeting
                if state.spent > state.budget:
                    state.over_budget = True
                    return
                rest = group[1:]
            for rule in rest:
                self._rule(rule, index_of[id(rule)], [], state)
        state.pending = forget(split.skipping)

    def _shaped_segment(self, segment: Segment, split: KeySplit, state: "_Progress", index_of: RulePositions,
                        start: int) -> None:
        """A run of groups alike but for their keys (runs.same_shape), every box holding every
        key whole: the first group is analysed, and every other one splits its part the same
        way (the same splits spent, the same positions dead). What goes on is what went on
        from the first group with the union of the keys, one box for all of them."""
        groups, keys, rebuild = segment.groups, segment.keys, REBUILD[segment.dimension]
        spent = state.spent
        # The rules' positions from ``start`` (RulePositions.at checks each one): an allow-list's
        # 100,000 rules in one segment, none dead, never build the map of every rule's position.
        at = index_of.at
        parts = [rebuild(box, fresh(keys[0])) for box in split.meeting]
        for offset, rule in enumerate(groups[0]):
            parts = self._rule(rule, at(start + offset, rule), parts, state)
            if state.over_budget:
                return
        each = state.spent - spent
        read = READ[segment.dimension]
        if state.spent + each * (len(groups) - 1) > state.budget or any(read(box) != keys[0] for box in parts):
            going_on = list(split.skipping) + parts  # group by group, as _segment does
            for number in range(1, len(groups)):
                parts = [rebuild(box, fresh(keys[number])) for box in split.meeting]
                for rule in groups[number]:
                    parts = self._rule(rule, index_of[id(rule)], parts, state)
                    if state.over_budget:
                        return
                going_on.extend(parts)
            state.pending = forget(going_on)
            return
        state.spent += each * (len(groups) - 1)
        dead = [(position, at(start + position, rule) in state.shadowed) for position, rule in enumerate(groups[0])
                if at(start + position, rule) in state.dead]
        if dead:
            first = start + len(groups[0])  # of the group's first rule, as far as known
            for group in groups[1:]:
                for position, shadowed in dead:
                    index = at(first + position, group[position])
                    state.dead.add(index)
                    if shadowed:
                        state.shadowed.add(index)
                first += len(group)
        state.pending = forget(split.skipping + [rebuild(box, fresh(segment.covered)) for box in parts])

    def _rule(self, rule: Rule, index: int, pending: list[Box], state: "_Progress") -> list[Box]:
        """Split ``pending`` by one rule, noting whether it is dead; returns what goes on."""
        state.spent += len(pending)
        if state.spent > state.budget:
            state.over_budget = True
            return pending
        if (shape := simple_cut(rule)) is not None:  # engine/simple_cut.py: split_rule's answer, faster
            met, outside_parts = cut(pending, shape, rule)
            if not met:
                return self._dead(rule, index, pending, state)
            return _went_on(outside_parts, pending) if rule.verdict.terminal else pending
        inside_parts: list[Box] = []
        outside_parts: list[Box] = []
        tests = miss_tests(rule)
        for box in pending:
            if tests is not None and misses(box, tests):  # engine/quickmiss.py: split_rule's answer
                outside_parts.append(box)
                continue
            inside, outside = split_rule(box, rule.matches, rule, False, decide=False)
            outside_parts.extend(outside)
            if inside is not None:
                inside_parts.append(inside)
        if not inside_parts:
            return self._dead(rule, index, pending, state)
        verdict = rule.verdict
        kind = verdict.kind
        if not verdict.terminal and kind is not VerdictKind.JUMP:
            return pending
        if has_opaque(rule) or has_path_decided(rule):
            # (What a packet's path decides, a conntrack status or a limit, is opaque here:
            # the analysis of one chain knows no path.)
            # It may not match any packet at all: everything may go on, as it came (and what
            # a jump brings back lies inside that). What it may return still leaves the chain.
            if kind is VerdictKind.RETURN:
                state.returned.extend(inside_parts)
            elif kind is VerdictKind.GOTO:
                state.returned.extend(self._back_from(verdict.target, inside_parts, state))
            return pending
        if kind is VerdictKind.JUMP and jump_changes_nothing(self.table, verdict.target, self._active):
            return pending
        if kind is VerdictKind.RETURN:
            state.returned.extend(inside_parts)
            return _went_on(outside_parts, pending)
        if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
            back = self._back_from(verdict.target, inside_parts, state)
            if kind is VerdictKind.GOTO:
                # What the goto's target returns goes back to this chain's caller.
                state.returned.extend(back)
                return _went_on(outside_parts, pending)
            return forget(outside_parts + back)
        return _went_on(outside_parts, pending)

    def _returned_by(self, name: str | None) -> list[Box] | None:
        """What a jump to chain ``name`` cuts the packets taking it to on their way back; None
        when they all come back."""
        target = self.cutting_target(name)
        return None if target is None else self.returned(target)

    def cutting_target(self, name: str | None) -> Chain | None:
        """The chain a jump to ``name`` enters, when what comes back from it may be less than
        what went (_returned_by's answer is not None)."""
        target = chain_named(self.table, name)
        if target is None or target.name in self._active or len(self._active) >= MAX_DEPTH:
            # Undefined chain or a loop: the kernel refuses the ruleset (PL404/PL406);
            # evaluation goes on past the rule, as the walker does.
            return None
        if not target.rules or is_transparent(self.table, target):
            return None
        return target

    def _jump_mode(self, name: str | None):
        """For engine/keyed_jumps.py, what a jump to ``name`` does where it is taken (as _rule
        asks it): keyed_jumps.SAME when nothing changes (jump_changes_nothing), else
        _returned_by's answer; the chain looked up once for both (KUBE-SERVICES: 10,000 jumps)."""
        table, active = self.table, self._active
        target = chain_named(table, name)
        if target is None or target.name in active:
            return None  # (nothing to walk into, or a loop: as cutting_target says)
        if is_transparent(table, target):
            from linter.engine.keyed_jumps import SAME  # (loaded by the caller already)

            return SAME
        if len(active) >= MAX_DEPTH or not target.rules:
            return None
        return self.returned(target)

    def _dead(self, rule: Rule, index: int, pending: list[Box], state: "_Progress") -> list[Box]:
        """Note the rule nothing reaches (shadowed when it would match something on its own)."""
        state.dead.add(index)
        if any(split_rule(box, rule.matches, rule, False, decide=False)[0] is not None for box in self.space):
            state.shadowed.add(index)
        return pending

    def _back_from(self, name: str | None, parts: list[Box], state: "_Progress") -> list[Box]:
        """The part of ``parts`` that comes back from a jump to chain ``name``."""
        back = self._returned_by(name)
        if back is None:
            return parts
        state.spent += len(parts) * len(back)
        return [box for part in parts for other in back if (box := intersect(part, other)) is not None]


class _ReadBackDone:
    """The analyses done, as engine/shadow_shapes.py reads them (``get`` by name): a chain
    analysed without its returned space gets it first."""

    __slots__ = ("analysis",)

    def __init__(self, analysis: ShadowAnalysis):
        self.analysis = analysis

    def get(self, name: str) -> ChainVerdicts | None:
        analysis = self.analysis
        if name in analysis._unread:
            analysis._read_back(chain_named(analysis.table, name))
        return analysis._done.get(name)


class _Progress:
    """What the walk through one chain has found so far."""

    __slots__ = ("pending", "budget", "dead", "shadowed", "returned", "spent", "over_budget", "settled", "last")

    def __init__(self, pending: list[Box], budget: int):
        self.pending = pending
        self.budget = budget
        self.dead: set[int] = set()
        self.shadowed: set[int] = set()
        self.returned: list[Box] = []
        self.spent = 0
        self.over_budget = False
        self.settled: list[Box] | None = None  # ``pending`` when merging it again changes nothing
        self.last = False  # in the chain's last block, whose boxes going on nobody reads


def _went_on(outside: list[Box], pending: list[Box]) -> list[Box]:
    """What goes on past a rule that ended its matching part: merged again only when the rule
    cut some box in more than one piece (a rule that only shrinks boxes, a source drop, leaves
    them as far merged as they were: coalescing thousands of boxes again at every rule of a
    random mix was most of its dead-rule analysis)."""
    if len(outside) <= len(pending):
        return [replace(b, assumptions=(), trail=()) if b.assumptions or b.trail else b for b in outside]
    return forget(outside)


def forget(boxes: list[Box]) -> list[Box]:
    """The boxes without their path and assumptions, merged. Which rule let a box pass does not
    matter to dead-rule analysis; remembering it kept every opaque match's two outcomes apart, so
    a chain of opaque matches (-o in OUTPUT, -m limit) doubled the boxes at each rule."""
    return coalesce([replace(b, assumptions=(), trail=()) if b.assumptions or b.trail else b for b in boxes])


def intersect(a: Box, b: Box) -> Box | None:
    """The packets in both boxes (as ``a`` sees them: its path is kept), or None.

    Only for boxes no NAT has rewritten: the boxes of this analysis go on past a rule only
    when it did not match, and a matching DNAT ends the chain for them."""
    if a.family is not b.family or a.local is not b.local:
        return None
    both = list(a)  # (by position: NamedTuple._replace with keywords was a third of the cost)
    for index in _RANGE_FIELDS:
        mine, other = a[index], b[index]
        if type(mine) is RangeList or type(other) is RangeList:
            ranges = chunked_intersect(mine, other)  # engine/rangelist.py: iv.intersect's answer
        else:
            ranges = iv.intersect(mine, other)
        if not ranges:
            return None
        both[index] = ranges
    for index in _SET_FIELDS:
        mine = a[index]
        common = mine & b[index]
        if not common:
            return None
        # An equal set is kept, not the new copy: a jump's crossings with what its chain returns
        # are mostly the returned boxes' own sets (ufw INPUT: 240,000 crossings, two sets each).
        both[index] = mine if len(common) == len(mine) else common
    return tuple.__new__(Box, both)


_RANGE_FIELDS = tuple(map(Box._fields.index, ("proto", "src", "dst", "sport", "dport")))  # the long lists last
_SET_FIELDS = tuple(map(Box._fields.index, ("iif", "state")))
