"""One-rule jump groups of a dispatch run, split once per kind of rule: kube-proxy's KUBE-SERVICES.

KUBE-SERVICES is a run of one rule per service, ``-d CLUSTER-IP -p tcp --dport PORT -j
KUBE-SVC-...``: a segment on destinations whose groups differ in their key, their port and
where they jump, so runs.same_shape does not take it. Yet two of its rules whose matches
beside the key are equal (the same protocol and port: a few dozen kinds among 10,000 rules)
split the part of a box in their own key alike: each match beside the key reads only
protocols, ports and states, and the key match takes the whole part (the part *is* the key).
So the first group of each kind is split by ``Walker.met``, and every later group of that
kind gets the same pieces with its own key put in: what goes on past the rule, and the
matched parts with that group's rule's step. The jump itself (``Walker.after_split``) is
taken for every group as ``Walker._apply_rule`` takes it, so results, the budget and what
comes back are the general path's.

A copy holds its key in new tuples where the split's pieces held new ones, and the part's
own tuple where they held the part's, so long-list identity (which merging compares) is
kept as the split would have kept it; pieces holding a long range list anywhere are not
copied at all (their group is split as usual), nor are pieces that matched by assumption.

Where the caller only merges what goes on past the run (Walker._apply_segment), the copies of
a piece are not made one per group: each kind hands on its first group's pieces once, holding
every key of the kind, which coalesce merges into the same boxes (``_united``). A group that
sends boxes back from its jump, or that no kind takes, ends that: from there every group's
pieces are made, those before it too, in order.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.coalesce import COALESCE_AT_LEAST
from linter.engine.memo import IdentityCache
from linter.engine.nat_dropped import dropped
from linter.engine.runs import READ, REBUILD, copyable, fresh, matches_beside_key, split_by_keys
from linter.engine.space import with_trail
from linter.model import AddressMatch, Direction, VerdictKind

_DIRECTION = {"src": Direction.SOURCE, "dst": Direction.DESTINATION}
_JUMP = VerdictKind.JUMP  # (read once: a member looked up through its class costs ~0.3 us)
_KINDS: IdentityCache = IdentityCache(10_000)


def jump_kinds(segment) -> list[int] | None:
    """Per group of ``segment`` (an address segment), the number of its rule's kind: one-rule
    groups jumping (no statement) whose matches beside the key are equal, at the same places,
    with a key match of exactly the group's key; -1 for a group of no kind (walked as usual).
    None when no two groups share a kind (remembered per segment)."""
    found = _KINDS.get(segment)
    if found is None:
        found = _KINDS.put(segment, _kinds(segment) or False)
    return found or None


def _kinds(segment) -> list[int] | None:
    direction = _DIRECTION.get(segment.dimension)
    if direction is None:
        return None
    numbers: dict = {}
    kinds = []
    shared = False
    for group, key in zip(segment.groups, segment.keys):
        rule = group[0]
        kinds.append(-1)
        if len(group) != 1 or rule.verdict.kind is not _JUMP or rule.statements:
            continue
        beside = matches_beside_key(rule, direction)
        if beside is None or not beside[1]:
            continue
        matches = rule.matches
        position = next(i for i, m in enumerate(matches) if type(m) is AddressMatch and not m.negated
                        and m.direction is direction)
        keyed = matches[position]
        if keyed.addresses.family is not segment.family or tuple(keyed.addresses.ranges) != tuple(key):
            continue
        kind = (position, len(matches), beside[0])
        number = numbers.get(kind)
        if number is None:
            number = numbers[kind] = len(numbers)
        else:
            shared = True
        kinds[-1] = number
    return kinds if shared else None


def copied_jumps(walker, table, chain, segment, pending: list, results: list, stack: tuple, returned, merged: bool,
                 apply_group, passes_whole) -> tuple[list, list] | None:
    """``Walker.segment_outputs``'s answer for ``segment`` met by ``pending`` where its one-rule
    jump groups of a kind are copied (module docstring), else None (the caller walks the
    groups itself): (the parts skipping the run, what goes on past its groups), each group
    walked as segment_outputs walks it, in the same order. ``apply_group`` and
    ``passes_whole`` are the walker's own (Walker._apply_group, Walker._passes_whole).

    ``merged``: the caller coalesces the two together and uses nothing else of them
    (Walker._apply_segment); then the copies of one piece may come back as one box holding
    all their keys (``_united``)."""
    if segment.dimension == "dport" or jump_kinds(segment) is None:
        return None
    split = split_by_keys(segment, pending)
    if not split or not split.meeting or any(split.partial):
        return None
    went = walk_groups(walker, table, chain, segment, split, results, stack, returned, merged,
                       lambda rules, parts: apply_group(table, chain, rules, parts, results, stack, returned),
                       lambda rule: passes_whole(table, rule, stack))
    return None if went is None else (split.skipping, went)


def walk_groups(walker, table, chain, segment, split, results: list, stack: tuple, returned, merged: bool,
                walk_group, passes_whole) -> list | None:
    """What goes on past ``segment``'s groups (not merged) for the boxes of ``split`` (a
    runs.KeySplit whose meeting boxes hold every key whole); None where the lane does not
    apply. ``walk_group(rules, parts)`` walks one group the general way and returns what goes
    on; ``passes_whole(rule)``: whether every box passes ``rule`` unsplit."""
    from linter.engine.walk import step  # (walk.py imports this module)
    kinds = jump_kinds(segment)
    meeting = split.meeting
    if kinds is None or not meeting:
        return None
    trail, assumptions = meeting[0].trail, meeting[0].assumptions
    if any(box.trail is not trail or box.assumptions is not assumptions for box in meeting):
        return None
    rebuild, read = REBUILD[segment.dimension], READ[segment.dimension]
    groups, keys = segment.groups, segment.keys
    budget = walker.budget
    dropping = walker.shared is not None and walker.shared.drop_nat  # (the routed path without NAT)
    templates: dict[int, tuple | bool] = {}
    going_on: list = []
    # Groups whose pieces are not made yet (united at the end): (kind, key, the pieces when
    # they were made by the split itself). Only on destinations, coalesce's first dimension.
    deferred: list | None = [] if merged and segment.dimension == "dst" and all(
        box.nat_dst is None for box in meeting) else None
    for index in split.order:
        group, key = groups[index], keys[index]
        number = kinds[index]
        template = templates.get(number) if number >= 0 else False
        rule = group[0]
        if template is False or passes_whole(rule):
            if deferred is not None:
                going_on = _made(deferred, templates, rebuild)
                deferred = None
            going_on.extend(walk_group(group, [rebuild(box, fresh(key)) for box in meeting]))
            continue
        budget.spent += len(meeting) + 1  # as _apply_rule charges (a part per meeting box)
        if template is None:
            parts = [rebuild(box, fresh(key)) for box in meeting]  # as Segment.partition makes them
            met = walker.met(table, chain, rule, VerdictKind.JUMP, parts)
            template = templates[number] = _template(met, parts, trail, assumptions, read, key) or False
            pieces = met[0]
        else:
            # A copy reads of each part only its key (its own new tuple): the parts are not made.
            met = _copied(template, [fresh(key) for _ in meeting], rebuild, key, table, chain, rule, step,
                          deferred is None)
            pieces = None
        next_pending, matched, assumed, before = met
        if dropping and not assumed and (spent := dropped(walker, table, rule, matched, stack)) is not None:
            budget.spent += spent  # (engine/nat_dropped.py: the jump's walk would give nothing)
            back = ()
        elif matched or assumed:
            made = len(next_pending)
            next_pending = walker.after_split(table, chain, rule, None, next_pending, matched, assumed, before,
                                              results, stack, returned)
            back = next_pending[made:]
        else:
            back = ()
        if deferred is not None:
            if template is not False and not back:
                deferred.append((number, key, pieces))
                continue
            # Something came back, or no template: every group's pieces made, in order, from here on.
            going_on = _made(deferred, templates, rebuild)
            deferred = None
            if pieces is None:  # a copy: its pieces were not made
                going_on.extend(_pieces(template, key, rebuild))
                going_on.extend(back)
            else:
                going_on.extend(next_pending)  # the split's own pieces, then what came back
            continue
        going_on.extend(next_pending)
    if deferred:
        united = _united(deferred, templates, rebuild)
        if len(split.skipping) + len(united) >= COALESCE_AT_LEAST:
            return united
        return _made(deferred, templates, rebuild)
    return going_on


def _pieces(template: tuple, key, rebuild) -> list:
    """The pieces going on past a copied group's rule, each with its own key tuple (keys are
    one interval: merging compares such lists by value, never by identity)."""
    return [rebuild(box, fresh(key)) for box, _ in template[0]]


def _made(deferred: list, templates: dict, rebuild) -> list:
    """The pieces of the deferred groups, in order, as the split would give them."""
    going_on = []
    for number, key, pieces in deferred:
        going_on.extend(pieces if pieces is not None else _pieces(templates[number], key, rebuild))
    return going_on


def _united(deferred: list, templates: dict, rebuild) -> list:
    """What coalesce makes of the deferred groups' pieces, given to it in fewer boxes: per kind
    (in the order kinds are first met) each of its template's pieces once, holding the keys of
    every group of the kind.

    Coalescing merges destinations first: boxes equal but for it become the first of them with
    the union of their destinations. A kind's pieces are its first group's pieces with other
    keys, so every signature (all but the destination) is first met, in either list, at a
    kind's first group, on that group's own piece, in the same order; the unions are the same
    sets; a piece alone keeps a one-interval key (compared by value) or a list of its own, as
    a merge makes. After that pass both lists are the same boxes, so the rest of the merge is.
    (Callers make sure enough boxes are given for coalesce to merge at all.)"""
    keys_of: dict[int, list] = {}
    for number, key, _ in deferred:
        keys_of.setdefault(number, []).extend(key)
    united = []
    for number, ranges in keys_of.items():
        going = templates[number][0]
        for box, _ in going:
            united.append(rebuild(box, iv.normalize(ranges)))
    return united


def _template(met: tuple, parts: list, trail: tuple, assumptions: tuple, read, key) -> tuple | None:
    """(the pieces going on, the matched parts; each with where its key tuple came from), or
    None where a copy could differ from splitting."""
    next_pending, matched, assumed, before = met
    if assumed:
        return None
    origins: dict[int, tuple] = {id(read(part)): ("part", p) for p, part in enumerate(parts)}

    def origin(box):
        value = read(box)
        found = origins.get(id(value))
        if found is None:
            found = origins[id(value)] = ("new", len(origins))
        return found

    going = []
    for box in next_pending:
        if box.trail is not trail or box.assumptions is not assumptions or not copyable(box, read, key):
            return None
        going.append((box, origin(box)))
    inside = []
    for box in matched:
        if box.assumptions is not assumptions or before.get(id(box.trail)) is not trail \
                or len(box.trail) != len(trail) + 1 or not copyable(box, read, key):
            return None
        inside.append((box, origin(box)))
    return going, inside, trail


def _copied(template: tuple, part_keys: list, rebuild, key, table, chain, rule, step, pieces: bool = True) -> tuple:
    """``Walker.met``'s answer for ``rule`` on the parts of the meeting boxes in its key (each
    part's key tuple in ``part_keys``), from the template of its kind (what goes on left empty
    unless ``pieces``)."""
    going, inside, trail = template
    values: dict = {}

    def value_of(origin):
        found = values.get(origin)
        if found is None:
            found = values[origin] = part_keys[origin[1]] if origin[0] == "part" else fresh(key)
        return found

    next_pending = [rebuild(box, value_of(origin)) for box, origin in going] if pieces else []
    matched = []
    before: dict[int, tuple] = {}
    for box, origin in inside:
        box = with_trail(rebuild(box, value_of(origin)), step(trail, "rule", table, chain, rule))
        before[id(box.trail)] = trail
        matched.append(box)
    return next_pending, matched, [], before
