"""Chains of one shape, walked once: kube-proxy's KUBE-SVC and KUBE-SEP chains.

Kube-proxy writes, per service, a KUBE-SVC chain choosing an endpoint at random and, per
endpoint, a KUBE-SEP chain: "from the endpoint's own address, mark for masquerade; DNAT to
it". Ten thousand services are ten thousand chains that differ only in their addresses,
ports and DNAT targets, each entered by one box (its cluster IP and port).

A chain's *subtree* is the chain and every chain it jumps to (in the order first reached);
its *shape* is the subtree with every address and port range of a match left out (the
*constants*, kept in order) and DNAT targets left out. Walking boxes through a subtree only
cuts their ranges at the constants' bounds and at their own; splitting, subtracting and
merging commute with renaming those bounds in order. So when another subtree of the same
shape is entered by boxes of the same kind (equal but for their ranges and their path so
far) whose bounds lie in the same order among its constants as the first walk's did among
its own, its walk is the first walk renamed: every range bound becomes the other subtree's
bound of the same label, every step and assumption names the rule at the same place in the
other subtree, and a DNAT is applied again with the other subtree's rule.

A template is recorded on the second walk of a shape (most shapes of an ordinary ruleset
are met once) and used only where the renaming is exact: ranges of at most eight intervals
(merging compares longer lists by identity), no loop back into the chains being walked,
and a budget that the copied walk's cost does not carry past its limit.
"""

from __future__ import annotations

from itertools import count

from linter.engine.chains import chains_by_name
from linter.engine.memo import IdentityCache
from linter.engine.order_test import label_reads, order_test
from linter.engine.space import Box
from linter.engine.template_made import compile_items, made_all
from linter.engine.walk import Outcome
from linter.model import (
    AddressMatch, Direction, InterfaceMatch, MarkMatch, OpaqueMatch, PortMatch, ProtocolMatch, StateMatch,
    VerdictKind,
)

MAX_CHAINS = 32  # a larger subtree has no shape
MAX_RULES = 128
MAX_CHAIN_RULES = 7  # fewer than walk.MIN_SEGMENT: every rule is walked on its own, no dispatch run
MAX_POINTS = 17  # distinct bounds per dimension: every set of their atoms is at most 8 intervals
MAX_TEMPLATES = 8  # per shape and kind of entering boxes

# Box fields holding ranges, and the class of constants each is cut by: source ports, destination
# ports (before and after a DNAT), source addresses, destination addresses (before and after).
_WIDE = (2, 3, 4, 5, 9, 10)
_CLASS = {2: 0, 3: 1, 4: 2, 5: 3, 9: 3, 10: 1}
_CLASSES = 4
_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)
_NAT = (VerdictKind.DNAT, VerdictKind.REDIRECT)
_NAT_SHAPED = (VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.SNAT, VerdictKind.MASQUERADE)
# Matches decided by a box's exact dimensions (protocol, state, input interface, marks) or by
# nothing about it (opaque): equal matches split boxes of one kind alike.
_EXACT = (ProtocolMatch, StateMatch, OpaqueMatch, MarkMatch)


class Subtree:
    """A chain and the chains it reaches: its shape, its chains in order and its constants."""

    __slots__ = ("shape", "chains", "constants")

    def __init__(self, shape: int, chains: tuple, constants: tuple):
        self.shape = shape  # the number of its shape: equal for subtrees alike but for their constants
        self.chains = chains
        self.constants = constants  # per class: the bounds of every range of a match, in rule order


_SUBTREES: IdentityCache = IdentityCache(100_000)


_NO_POINTS = ((), (), (), ())


_SOURCE = Direction.SOURCE
_JUMP, _GOTO = _JUMPS
_ADDRESS_TERM, _PORT_TERM = -1, -2  # (apart from every interned number, which is >= 0)


_PARTS: IdentityCache = IdentityCache(100_000)
_INTERNED: dict = {}
_NUMBERS = count()


def _intern(key) -> int:
    """One number per distinct shape (never given twice, even once the table starts afresh)."""
    number = _INTERNED.get(key)
    if number is None:
        if len(_INTERNED) > 200_000:
            _INTERNED.clear()
        number = _INTERNED[key] = next(_NUMBERS)
    return number


def _number_of(part, shape_of):
    """The interned number of ``shape_of(part)`` (False stays False), remembered per object."""
    found = _PARTS.get(part)
    if found is None:
        shape = shape_of(part)
        found = _PARTS.put(part, False if shape is False else _intern(shape))
    return found


def _exact_term(match):
    kind = type(match)
    if kind in _EXACT or kind is InterfaceMatch and match.direction == "in":
        return _plain(match)
    return False


def _action(verdict):
    if verdict.kind in _JUMPS:
        return verdict.kind
    if verdict.kind in _NAT_SHAPED:
        # What a NAT rewrites is applied again from the rule itself; its options are only text.
        family = verdict.to_addresses.family if verdict.to_addresses is not None else None
        return verdict.kind, family, verdict.to_ports is None
    return _plain(verdict)


def _statements(statements):
    return tuple(map(_plain, statements))


def _plain(value):
    """A model object as a tuple of its type and fields (nested ones too): hashed and compared
    without the dataclasses' own Python-level methods."""
    kind = type(value)
    names = getattr(kind, "__slots__", None)
    if names is None or not hasattr(kind, "__dataclass_fields__"):
        return value
    return (kind,) + tuple(_plain(getattr(value, name)) for name in names)


def subtree_of(table, chain) -> Subtree | None:
    """The subtree of ``chain`` (remembered per chain), or None when it has no shape worth
    keeping (too large, a dispatch run, or a match the renaming does not cover)."""
    found = _SUBTREES.get(chain)
    if found is None:
        found = _SUBTREES.put(chain, _subtree(table, chain) or False)
    return found or None


def _subtree(table, root) -> Subtree | None:
    # (One written-out loop, the chains' own shapes read from _LOCAL's entries in place: a
    # kube-proxy ruleset builds 10,000 subtrees of five chains each.)
    named = chains_by_name(table)
    chains = [root]
    index = {root.name: 0}
    shapes = []
    sports: list[int] = []
    dports: list[int] = []
    sources: list[int] = []
    destinations: list[int] = []
    rules = 0
    entries = _LOCAL._entries
    for chain in chains:  # (chains grows as targets are first reached)
        hit = entries.get(id(chain))
        local = hit[1] if hit is not None and hit[0] is chain else _local(chain)
        if local is False:
            return None
        rules += len(chain.rules)
        if rules > MAX_RULES:
            return None
        number, points, targets = local
        if targets:
            refs = []
            for name in targets:
                target = named.get(name or "")
                if target is None:
                    refs.append(-1)  # undefined: the walk goes on past the rule
                    continue
                reached = index.get(target.name)
                if reached is None:
                    if len(chains) >= MAX_CHAINS:
                        return None
                    reached = index[target.name] = len(chains)
                    chains.append(target)
                refs.append(reached)
            shapes.append((number, tuple(refs)))
        else:
            shapes.append((number, ()))
        if points is not _NO_POINTS:
            more_sports, more_dports, more_sources, more_destinations = points
            if more_sports:
                sports.extend(more_sports)
            if more_dports:
                dports.extend(more_dports)
            if more_sources:
                sources.extend(more_sources)
            if more_destinations:
                destinations.extend(more_destinations)
    return Subtree(_intern(tuple(shapes)), tuple(chains), (tuple(sports), tuple(dports), tuple(sources),
                                                          tuple(destinations)))


_LOCAL: IdentityCache = IdentityCache(100_000)


def _local(chain):
    """(the number of the chain's own shape, its constants per class, the names it jumps to in
    rule order), or False (remembered per chain). Chains of one own shape get one number.

    A rule's shape is its matches' terms (address and port matches by their kind and number
    of ranges, their bounds the constants; other matches, which must be decided by a box's
    exact dimensions, by the number of their interned form), its action (where it jumps left
    out) and its statements; False for a rule like it that could split boxes otherwise than by
    its constants. Front ends share equal match and verdict objects between rules: their parts
    of a shape are remembered per object. Enum members are named by their identity (hashing
    one runs Python code), and the loop is written out: a kube-proxy ruleset shapes 90,000
    rules."""
    found = _LOCAL.get(chain)
    if found is not None:
        return found
    rules = chain.rules
    if len(rules) > MAX_CHAIN_RULES:
        return _LOCAL.put(chain, False)
    sports: list[int] = []
    dports: list[int] = []
    sources: list[int] = []
    destinations: list[int] = []
    shapes = []
    targets = []
    parts = _PARTS._entries  # (_number_of's cache read in place: 40,000 protocol matches and verdicts)
    for rule in rules:
        terms = []
        for match in rule.matches:
            kind = type(match)
            if kind is AddressMatch:
                addresses = match.addresses
                ranges = addresses.ranges
                direction = match.direction
                into = sources if direction is _SOURCE else destinations
                terms.append((_ADDRESS_TERM, id(direction), id(addresses.family), match.negated, len(ranges)))
            elif kind is PortMatch:
                ranges = match.ports.ranges
                direction = match.direction
                into = sports if direction is _SOURCE else dports
                terms.append((_PORT_TERM, id(direction), match.negated, len(ranges)))
            else:
                hit = parts.get(id(match))
                term = hit[1] if hit is not None and hit[0] is match else _number_of(match, _exact_term)
                if term is False:
                    return _LOCAL.put(chain, False)
                terms.append(term)
                continue
            for lo, hi in ranges:
                into.append(lo)
                into.append(hi + 1)
        verdict = rule.verdict
        verdict_kind = verdict.kind
        if verdict_kind is _JUMP or verdict_kind is _GOTO:
            action = id(verdict_kind)
            targets.append(verdict.target)
        elif verdict_kind in _NAT_SHAPED:
            # What a NAT rewrites is applied again from the rule itself; its options are only text.
            to = verdict.to_addresses
            action = (id(verdict_kind), None if to is None else id(to.family), verdict.to_ports is None)
        else:
            action = _number_of(verdict, _action)
        statements = rule.statements
        shapes.append((tuple(terms), action, statements and _number_of(statements, _statements)))
    number = _intern((id(chain.hook), id(chain.policy), chain.type, tuple(shapes)))
    if sports or dports or sources or destinations:
        points = tuple(sports), tuple(dports), tuple(sources), tuple(destinations)
    else:
        points = _NO_POINTS
    return _LOCAL.put(chain, (number, points, tuple(targets)))


def _kind(walker, table, boxes) -> tuple[tuple | None, bool]:
    """(what a template for ``boxes`` entering a subtree must agree on, or None when they do not
    share one path so far (the trail and assumptions every result starts with); whether an
    entering range list has more than MAX_POINTS ranges: their low bounds alone are then that
    many distinct values of one class, too wide for any template)."""
    first = boxes[0]
    trail, assumptions = first.trail, first.assumptions
    exact = []
    wide = False
    for box in boxes:
        # (The fields unpacked at once, the wide ones' lengths written out: 20,000 calls a kube walk.)
        family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif, mark, ctmark, \
            box_assumptions, box_trail = box
        if box_trail is not trail or box_assumptions is not assumptions:
            return None, False
        lengths = (-1 if sport is None else len(sport), -1 if dport is None else len(dport),
                   -1 if src is None else len(src), -1 if dst is None else len(dst),
                   -1 if nat_dst is None else len(nat_dst), -1 if nat_dport is None else len(nat_dport))
        if not wide and max(lengths) > MAX_POINTS:
            wide = True
        # (The family by identity: hashing an enum member runs Python code.)
        exact.append((id(family), proto, iif, state, local, oif, mark, ctmark, lengths))
    return (id(table), walker.marks, walker.certain, walker.first_packet, id(walker.routing), tuple(exact)), wide


def _values(subtree: Subtree, boxes) -> list[list[int]]:
    """Per class, the value of every label: the subtree's constants, then the entering boxes'
    range bounds of that class, box by box, field by field (in _WIDE's order)."""
    sports, dports, sources, destinations = subtree.constants
    sports, dports, sources, destinations = list(sports), list(dports), list(sources), list(destinations)
    # (_WIDE's fields written out, each into its class: 20,000 calls a kube walk.)
    for box in boxes:
        _, _, sport, dport, src, dst, _, _, _, nat_dst, nat_dport, _, _, _, _, _ = box
        if sport is not None:
            for lo, hi in sport:
                sports += (lo, hi + 1)
        if dport is not None:
            for lo, hi in dport:
                dports += (lo, hi + 1)
        if src is not None:
            for lo, hi in src:
                sources += (lo, hi + 1)
        if dst is not None:
            for lo, hi in dst:
                destinations += (lo, hi + 1)
        if nat_dst is not None:
            for lo, hi in nat_dst:
                destinations += (lo, hi + 1)
        if nat_dport is not None:
            for lo, hi in nat_dport:
                dports += (lo, hi + 1)
    return [sports, dports, sources, destinations]


def _fits(pattern, values) -> bool:
    """Whether ``values`` lie in the order (and are equal where) the template's did."""
    for (order, equal), these in zip(pattern, values):
        previous = -1
        for label, same in zip(order, equal):
            value = these[label]
            if value < previous or (value == previous) is not same:
                return False
            previous = value
    return True


class SharedWalks:
    """The templates of one evaluation (``Walker.shared``, set by PathEvaluator): they hold the
    evaluation's tables and rules, so they go with it."""

    def __init__(self):
        self._walks: dict[int, int] = {}  # shape -> subtrees of it walked (see ``walks``)
        # Walks too wide for any template, not counted yet: (table, chain, stack) of each.
        self._uncounted: list[tuple] = []
        # (shape, kind of entering boxes, drop_nat) -> templates
        self.templates: dict[tuple, list[Template]] = {}
        # Set while the caller throws away every result a DNAT or REDIRECT rewrote (the routed
        # path without NAT, PathEvaluator.evaluate_routed): a template whose every result is
        # such an accept, nothing coming back, then gives nothing, its boxes never made.
        self.drop_nat = False

    @property
    def walks(self) -> dict[int, int]:
        """Shape -> how many subtrees of it were walked (not replayed) in this evaluation. A
        walk too wide for templates is counted only when the count is read: its subtree is not
        built before (a random mix's 3,000 `-p tcp` jumps carrying a long source list each
        enter a chain met once, whose shape no later walk asks for)."""
        uncounted = self._uncounted
        if uncounted:
            self._uncounted = []
            walks = self._walks
            for table, target, stack in uncounted:
                subtree = subtree_of(table, target)
                if subtree is not None and not _in_stack(subtree, stack):
                    walks[subtree.shape] = walks.get(subtree.shape, 0) + 1
        return self._walks

    def untemplated(self, walker, table, boxes: list[Box]) -> bool | None:
        """How a call walks ``boxes`` without a template: True where it counts the walk late (too
        wide: ``count_late``), False where it does not count it (no one path so far); None where
        it may take or record a template."""
        kind, wide = _kind(walker, table, boxes)
        return False if kind is None else True if wide else None

    def count_late(self, table, target, stack: tuple) -> None:
        """A walk of ``target`` too wide for templates, counted when ``walks`` is read."""
        self._uncounted.append((table, target, stack))

    def __call__(self, walker, table, target, boxes: list[Box], stack: tuple, results: list) -> list[Box]:
        """``walker.walk_into(table, target, boxes, stack, results)``, taken from the walk of a
        subtree of the same shape where one fits (module docstring)."""
        kind, wide = _kind(walker, table, boxes)
        if kind is None:
            return walker.walk_into(table, target, boxes, stack, results)
        # Too wide: no template can fit or be recorded (each would need more than MAX_POINTS
        # bounds in one class), and listing the bounds of long range lists cost a random mix 20 s.
        # Walked, and counted (later: ``walks``) where its subtree has a shape.
        if wide:
            self.count_late(table, target, stack)
            return walker.walk_into(table, target, boxes, stack, results)
        subtree = subtree_of(table, target)
        if subtree is None or _in_stack(subtree, stack):
            return walker.walk_into(table, target, boxes, stack, results)
        key = (subtree.shape, kind, self.drop_nat)  # a walk made while dropping lacks what it dropped
        templates = self.templates.get(key)
        budget = walker.budget
        if templates:
            template = _fitting(templates, walker, table, subtree, boxes)
            if template is not None:
                budget.spent += template.spent
                if self.drop_nat and template.all_nat:
                    return []
                return template.replay(walker, table, subtree, boxes, results)
        counts = self.walks
        walks = counts[subtree.shape] = counts.get(subtree.shape, 0) + 1
        if walks < 2 or templates is not None and len(templates) >= MAX_TEMPLATES:
            return walker.walk_into(table, target, boxes, stack, results)
        before, already = budget.spent, len(results)
        back = walker.walk_into(table, target, boxes, stack, results)
        if not budget.degraded:
            template = Template.record(walker, table, subtree, boxes, _values(subtree, boxes),
                                       results[already:], back, budget.spent - before)
            if template is not None:
                self.templates.setdefault(key, []).append(template)
        return back

    def drops(self, walker, table, target, boxes: list[Box], stack: tuple) -> int | None:
        """What ``self(walker, table, target, boxes, stack, results)`` charges the budget when
        it gives nothing back and no result at all, by a template (all-DNAT, or empty) while
        the caller drops what a DNAT rewrote (``drop_nat``); None where it would do anything
        else (then nothing is done here: the caller walks as usual). Asks what the call asks,
        in its order, and changes nothing."""
        if not self.drop_nat:
            return None
        kind, wide = _kind(walker, table, boxes)
        if kind is None or wide:
            return None
        subtree = subtree_of(table, target)
        if subtree is None or _in_stack(subtree, stack):
            return None
        templates = self.templates.get((subtree.shape, kind, True))
        if not templates:
            return None
        template = _fitting(templates, walker, table, subtree, boxes)
        # An all-DNAT template gives nothing while dropping; one that holds nothing (a walk made
        # while dropping, into subtrees that gave nothing) replays to nothing, no path extended.
        if template is None or not (template.all_nat or not template.results and not template.back):
            return None
        return template.spent


def _in_stack(subtree: Subtree, stack: tuple) -> bool:
    """Whether a chain of ``subtree`` is being walked (a loop back into it: no template)."""
    for chain in subtree.chains:  # (a loop, not any() over a generator: 20,000 calls a kube walk)
        if chain.name in stack:
            return True
    return False


def _fitting(templates: list, walker, table, subtree: Subtree, boxes):
    """The first of ``templates`` that fits ``boxes`` entering ``subtree`` (their values, as
    _values lists them, fit its pattern: _fits) on this table and routing within the walker's
    budget, or None."""
    budget = walker.budget
    sports, dports, sources, destinations = subtree.constants
    for template in templates:
        if template.table is table and template.routing is walker.routing \
                and template.fits(sports, dports, sources, destinations, boxes) \
                and budget.spent + template.spent <= budget.limit:
            return template
    return None


class Template:
    """One walk of a subtree, in labels: what each result and returned box is made of."""

    __slots__ = ("table", "routing", "pattern", "fits", "spent", "results", "back", "all_nat", "compiled", "outcomes")

    def __init__(self, table, routing, pattern, spent, results, back, reads):
        self.table = table
        self.routing = routing
        self.pattern = pattern
        # _fits(pattern, _values(subtree, boxes)) as one compiled comparison of the constants and
        # boxes (``reads``: where each label is read, engine/order_test.py).
        self.fits = order_test(pattern, reads)
        self.spent = spent
        self.results = results
        self.back = back
        # Every item, results then returned boxes, as engine/template_made.py builds them.
        self.compiled = compile_items([item for item, _ in results] + list(back), reads)
        self.outcomes = [outcome for _, outcome in results]
        # Every box accepted by a DNAT or REDIRECT (applied again on replay: its destination
        # rewritten, never None), none coming back: kube-proxy's KUBE-SVC subtrees.
        self.all_nat = bool(results) and not back and all(
            outcome is Outcome.ACCEPT and item[4] is not None for item, outcome in results)

    @classmethod
    def record(cls, walker, table, subtree: Subtree, boxes, values, results, back, spent) -> "Template | None":
        """The template of a walk (``results`` and ``back``: what it gave ``boxes``), or None
        where renaming it could differ from walking."""
        pattern = []
        labels = []
        for these in values:
            if len(set(these)) > MAX_POINTS:
                return None
            order = sorted(range(len(these)), key=these.__getitem__)
            equal = [False] + [these[a] == these[b] for a, b in zip(order, order[1:])]
            pattern.append((order, equal))
            label_of: dict[int, int] = {}
            for label, value in enumerate(these):
                label_of.setdefault(value, label)
            labels.append(label_of)
        places = {}
        for c, chain in enumerate(subtree.chains):
            for r, rule in enumerate(chain.rules):
                places.setdefault(id(rule), (c, r))
        chains = {id(chain): c for c, chain in enumerate(subtree.chains)}
        entering = boxes[0]
        unrewritten = all(box.nat_dst is None and box.nat_dport is None for box in boxes)
        made = []
        for box, outcome in results:
            item = _item(box, entering, boxes, labels, places, chains, unrewritten, outcome)
            if item is None:
                return None
            made.append((item, outcome))
        returned = []
        for box in back:
            item = _item(box, entering, boxes, labels, places, chains, unrewritten, None)
            if item is None:
                return None
            returned.append(item)
        return cls(table, walker.routing, tuple(pattern), spent, made, returned, label_reads(subtree.constants, boxes))

    def replay(self, walker, table, subtree: Subtree, boxes, results: list) -> list[Box]:
        """This walk renamed onto ``subtree`` entered by ``boxes``: results appended to
        ``results``, what comes back returned."""
        made = made_all(*self.compiled, walker, table, subtree, boxes[0], boxes)
        outcomes = self.outcomes
        results.extend(zip(made, outcomes))
        return made[len(outcomes):]


def _item(box: Box, entering: Box, boxes, labels, places, chains, unrewritten: bool, outcome):
    """A result box in labels: (its exact fields, its wide fields, its new steps, its new
    assumptions, the NAT rule to apply again or None), or None."""
    prefix, trail = entering.trail, box.trail
    if len(trail) < len(prefix) or any(a is not b for a, b in zip(prefix, trail)):
        return None
    steps = []
    for s in trail[len(prefix):]:
        chain = chains.get(id(s.chain))
        place = places.get(id(s.rule)) if s.rule is not None else None
        if chain is None or s.rule is not None and (place is None or place[0] != chain):
            return None
        steps.append((s.event, chain, None if place is None else place[1], s.detail))
    known, assumed = entering.assumptions, box.assumptions
    if len(assumed) < len(known) or any(a is not b for a, b in zip(known, assumed)):
        return None
    conditions = []
    for a in assumed[len(known):]:
        place = places.get(id(a.rule)) if a.rule is not None else None
        if place is None:
            return None
        position = next((i for i, m in enumerate(a.rule.matches) if m is a.match), None)
        if position is None:
            return None
        conditions.append((place[0], place[1], position, a.matched))
    nat = None
    if outcome is not None and steps and steps[-1][2] is not None:
        last = trail[-1].rule
        if last.verdict.kind in _NAT and outcome is Outcome.ACCEPT:
            if not unrewritten:
                return None
            nat = (steps[-1][1], steps[-1][2])
    wide = []
    for field in _WIDE:
        value = box[field]
        if nat is not None and field >= 9:
            wide.append(None)
            continue
        if value is None:
            wide.append(None)
            continue
        same = next((i for i, b in enumerate(boxes) if b[field] is value), None)
        if same is not None:
            wide.append(("same", same, field))
            continue
        label_of = labels[_CLASS[field]]
        renamed = []
        for lo, hi in value:
            low, high = label_of.get(lo), label_of.get(hi + 1)
            if low is None or high is None:
                return None
            renamed.append((low, high))
        wide.append(("labels", _CLASS[field], tuple(renamed)))
    if nat is None and box.local != entering.local:
        return None
    exact = (box.family, box.proto, box.iif, box.state, box.local, box.oif, box.mark, box.ctmark)
    return exact, tuple(wide), tuple(steps), tuple(conditions), nat

