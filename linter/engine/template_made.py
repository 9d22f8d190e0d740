"""The boxes of one replay of a shapewalk template, built in one loop.

A template (engine/shapewalk.py) describes each result of a subtree's walk in labels: its
exact fields, its wide fields (an entering box's list, or labels of the replay's values),
the steps and assumptions it adds to the entering path, and the DNAT rule applied again.
Replaying it for 10,000 kube-proxy services builds 68,000 boxes, and building them one call
per step, assumption and NAT cost more than the walk it replaces.

Here a replay resolves each distinct step and assumption of the template once (the chain,
rule and match at its place in the replayed subtree), and extends paths as
``space.extend_path`` does, in place: the same lookup of the path cache by the same key,
the same emptying of a full cache before a new extension is stored, the same object made.
The template's steps (and its assumptions) form a prefix tree, compiled once: a replay
extends each node's path once, when an item first needs it, and every later item ending at
or passing through it takes it from the replay's own list. That list is emptied whenever the
path cache is, and a node is kept in it only while its parent is, so it holds only what the
path cache would give from the entering path on. A DNAT's new destination is worked out once per NAT
rule and destination of the replay (``walk.nat_fields`` reads nothing else). Every item's wide
fields come from one function per template, written out and compiled: each label's value read
straight from the subtree's constants or an entering box's range, where shapewalk._values would
list it (order_test.label_reads), so a replay lists no values.
"""

from __future__ import annotations

from linter.engine import space
from linter.engine.space import Assumption, Box
from linter.engine.walk import Step, apply_nat, nat_fields
from linter.model import VerdictKind

_new = tuple.__new__
_NAT = (VerdictKind.DNAT, VerdictKind.REDIRECT)


def _step(args) -> Step:
    return _new(Step, args)


def _make_assumption(args) -> Assumption:
    """``Assumption(*args)`` without the frozen dataclass's ``__init__`` (its field-by-field
    ``object.__setattr__`` calls cost more than the rest of a replayed box): the same object,
    its slots filled by their own descriptors."""
    made = _new_object(Assumption)
    rule, match, matched = args
    _set_rule(made, rule)
    _set_match(made, match)
    _set_matched(made, matched)
    return made


_new_object = object.__new__
_set_rule = Assumption.rule.__set__
_set_match = Assumption.match.__set__
_set_matched = Assumption.matched.__set__


def _trie(sequences: list[tuple]) -> tuple[list[tuple[int, int]], list[int]]:
    """(the nodes of the prefix tree of ``sequences``, each (its parent's number or -1, the
    position it adds), parents before children; per sequence the number of its node, -1 for
    an empty one)."""
    nodes: list[tuple[int, int]] = []
    number: dict[tuple[int, int], int] = {}
    ends = []
    for sequence in sequences:
        node = -1
        for position in sequence:
            key = (node, position)
            found = number.get(key)
            if found is None:
                found = number[key] = len(nodes)
                nodes.append(key)
            node = found
        ends.append(node)
    return nodes, ends


class _Extensions:
    """Paths extended as ``space.extend_path`` extends them, each node of a template's prefix
    trees (one per kind: trails, assumptions) once per replay: a node's path is what
    ``extend_path`` gives its parent's path and its spec, looked up in (and stored into) the
    path cache the first time the replay needs it. Every node made is forgotten whenever the
    path cache is emptied (what extend_path would give from then on is built again)."""

    __slots__ = ("made", "starts")

    def __init__(self, trees: tuple, starts: tuple):
        self.made = tuple([None] * len(nodes) for nodes, _ in trees)
        self.starts = starts

    def path(self, kind: int, node: int, trees: tuple, specs: tuple, make) -> tuple:
        """The path of ``node`` of tree ``kind`` (the kind's start for -1)."""
        if node < 0:
            return self.starts[kind]
        made = self.made[kind]
        found = made[node]
        if found is not None:
            return found
        nodes = trees[kind][0]
        # The nodes from the nearest one made (or the start) down to this one, in order.
        chain = [node]
        parent = nodes[node][0]
        while parent >= 0 and made[parent] is None:
            chain.append(parent)
            parent = nodes[parent][0]
        path = self.starts[kind] if parent < 0 else made[parent]
        paths = space._PATHS
        for at in reversed(chain):
            above, position = nodes[at]
            identity, args = specs[position]
            key = (id(path), identity)
            hit = paths.get(key)
            if hit is not None and hit[0] is path:
                extended = hit[1]
            else:
                if len(paths) > space.PATH_CACHE_SIZE and not space._HOLDING[0]:
                    paths.clear()
                    for table in self.made:
                        table[:] = [None] * len(table)
                extended = path + (make(args),)
                paths[key] = (path, extended)
            # Kept only where its parent is (or is the start): a node below one forgotten is
            # reached again only through its parent's new path (extend_path from the start).
            if above < 0 or made[above] is not None:
                made[at] = extended
            path = extended
        return path


def _less_one(read: str) -> str:
    """The text of ``read``'s value less one (a high bound + 1 read back as the bound itself)."""
    if read.startswith("(") and read.endswith(" + 1)"):
        return read[1:-5]
    return f"{read} - 1"


def _wide_function(items: list, reads: list[list[str]]):
    """A function of (the subtree's constants per class, the entering boxes) giving, per item,
    its six wide fields: None, an entering box's very list, or the ranges its label pairs
    name (each (value of the low label, value of the high label - 1)), every label's value
    read where ``reads`` (order_test.label_reads) says _values lists it. Written out once per
    template and compiled: the text holds only integers of the items and of ``reads``."""
    rows = []
    for _, wide, _, _, _ in items:
        fields = []
        for spec in wide:
            if spec is None:
                fields.append("None")
            elif spec[0] == "same":
                fields.append(f"boxes[{int(spec[1])}][{int(spec[2])}]")
            else:
                where = reads[spec[1]]
                pairs = [f"({where[int(low)]}, {_less_one(where[int(high)])})" for low, high in spec[2]]
                fields.append("(" + "".join(pair + ", " for pair in pairs) + ")" if pairs else "()")
        rows.append("(" + ", ".join(fields) + ")")
    source = "def wide(c0, c1, c2, c3, boxes):\n    return [\n" + "".join(f"        {row},\n" for row in rows) + "    ]\n"
    names: dict = {"__builtins__": {}}
    exec(compile(source, "<shapewalk template fields>", "exec", dont_inherit=True), names)
    return names["wide"]


def compile_items(items: list, reads: list[list[str]]) -> tuple:
    """(the distinct steps, the distinct assumptions, ``items`` with their steps and
    assumptions as nodes of the prefix trees of both and their NAT rule numbered, the two
    trees, the function giving every item's wide fields (_wide_function, labels read where
    ``reads`` says), the number of distinct NAT rules): items as shapewalk._item makes them,
    each ``(exact, wide, steps, conditions, nat)``."""
    steps: dict = {}
    conditions: dict = {}
    step_lists = []
    condition_lists = []
    for _, _, item_steps, item_conditions, _ in items:
        step_lists.append(tuple(steps.setdefault(s, len(steps)) for s in item_steps))
        condition_lists.append(tuple(conditions.setdefault(c, len(conditions)) for c in item_conditions))
    step_tree = _trie(step_lists)
    condition_tree = _trie(condition_lists)
    step_specs, condition_specs = tuple(steps), tuple(conditions)
    fresh_steps = _first_reached(step_tree, step_specs)
    fresh_conditions = _first_reached(condition_tree, condition_specs)
    # A NAT rule as (its number among the template's distinct ones, its chain, its place).
    nats: dict = {}
    compiled = [(exact, trail_node, assumed_node,
                 None if nat is None else (nats.setdefault(nat, len(nats)),) + nat, new_steps, new_conditions)
                for (exact, _, _, _, nat), trail_node, assumed_node, new_steps, new_conditions
                in zip(items, step_tree[1], condition_tree[1], fresh_steps, fresh_conditions)]
    return (step_specs, condition_specs, compiled, (step_tree, condition_tree), _wide_function(items, reads),
            len(nats))


def _first_reached(tree: tuple, specs: tuple) -> list[tuple]:
    """Per sequence of ``tree`` (in order), the nodes it reaches first, each (its number, its
    parent's number or -1, its spec), from the root down: while nothing empties the path
    cache, the nodes a lazy replay builds for that item, in the order it builds them."""
    nodes, ends = tree
    reached = [False] * len(nodes)
    fresh = []
    for end in ends:
        chain = []
        node = end
        while node >= 0 and not reached[node]:
            reached[node] = True
            chain.append(node)
            node = nodes[node][0]
        fresh.append(tuple((at, nodes[at][0], specs[nodes[at][1]]) for at in reversed(chain)))
    return fresh


def made_all(step_specs: tuple, condition_specs: tuple, items: list, trees: tuple, wide_of, nat_count: int,
             walker, table, subtree, entering: Box, boxes) -> list[Box]:
    """The box each of ``items`` (compiled by compile_items) describes, in order, for
    ``subtree`` entered by ``boxes`` (the first is ``entering``)."""
    chains = subtree.chains
    table_id = id(table)
    paths = space._PATHS
    # Straight: nothing can empty the path cache during this replay (held, or room for every
    # node of both trees), so each item builds the nodes it reaches first, in the order the
    # lazy build (_Extensions) would, and finds every other node already built.
    straight = space._HOLDING[0] or len(paths) + len(trees[0][0]) + len(trees[1][0]) <= space.PATH_CACHE_SIZE
    if straight:
        trail_made = [None] * len(trees[0][0])
        assumed_made = [None] * len(trees[1][0])
        start_trail, start_assumed = entering.trail, entering.assumptions
        get = paths.get
    else:
        steps = []
        for event, c, r, detail in step_specs:
            chain = chains[c]
            rule = None if r is None else chain.rules[r]
            steps.append(((event, table_id, id(chain), id(rule), detail), (event, table, chain, rule, detail)))
        conditions = []
        for c, r, position, matched in condition_specs:
            rule = chains[c].rules[r]
            match = rule.matches[position]
            conditions.append(((id(rule), id(match), matched), (rule, match, matched)))
        steps, conditions = tuple(steps), tuple(conditions)
        extensions = _Extensions(trees, (entering.trail, entering.assumptions))
        path = extensions.path
        trail_made, assumed_made = extensions.made
    nats: dict = {}
    # Per NAT rule, the entry of ``nats`` last stored for it: an item whose destination,
    # destination ports and family are the very ones it was made for takes it without building
    # the dict's key (it is what the dict holds for that key: every store and hit sets it).
    last_nat = [None] * nat_count
    local, routing = entering.local, walker.routing
    out = []
    wides = wide_of(*subtree.constants, boxes)
    for (exact, trail_node, assumed_node, nat, fresh_steps, fresh_conditions), \
            (sport, dport, src, dst, nat_dst, nat_dport) in zip(items, wides):
        if straight:
            # (extend_path written out: the same look-up by the same key, the same object made.)
            for at, parent, (event, c, r, detail) in fresh_steps:
                extending = start_trail if parent < 0 else trail_made[parent]
                chain = chains[c]
                rule = None if r is None else chain.rules[r]
                key = (id(extending), (event, table_id, id(chain), id(rule), detail))
                hit = get(key)
                if hit is not None and hit[0] is extending:
                    trail_made[at] = hit[1]
                else:
                    extended = trail_made[at] = extending + (_new(Step, (event, table, chain, rule, detail)),)
                    paths[key] = (extending, extended)
            for at, parent, (c, r, position, matched) in fresh_conditions:
                extending = start_assumed if parent < 0 else assumed_made[parent]
                rule = chains[c].rules[r]
                match = rule.matches[position]
                key = (id(extending), (id(rule), id(match), matched))
                hit = get(key)
                if hit is not None and hit[0] is extending:
                    assumed_made[at] = hit[1]
                else:
                    extended = assumed_made[at] = extending + (_make_assumption((rule, match, matched)),)
                    paths[key] = (extending, extended)
            trail = trail_made[trail_node] if trail_node >= 0 else start_trail
            assumptions = assumed_made[assumed_node] if assumed_node >= 0 else start_assumed
        else:
            trail = trail_made[trail_node] if trail_node >= 0 else None
            if trail is None:
                trail = path(0, trail_node, trees, steps, _step)
            assumptions = assumed_made[assumed_node] if assumed_node >= 0 else None
            if assumptions is None:
                assumptions = path(1, assumed_node, trees, conditions, _make_assumption)
        family, proto, iif, state, box_local, oif, mark, ctmark = exact
        if nat is None:
            out.append(_new(Box, (family, proto, sport, dport, src, dst, iif, state, box_local, nat_dst, nat_dport,
                                  oif, mark, ctmark, assumptions, trail)))
            continue
        # The box before the DNAT (not rewritten, local as it entered) as apply_nat rewrites it.
        # (Only a DNAT or REDIRECT rule is ever found here: its rule is looked up on a miss.)
        number, c, r = nat
        found = last_nat[number]
        if found is not None and found[0] is dst and found[1] is dport and found[2] is family:
            nat_dst, nat_dport, box_local = found[3]
            out.append(_new(Box, (family, proto, sport, dport, src, dst, iif, state, box_local, nat_dst, nat_dport,
                                  oif, mark, ctmark, assumptions, trail)))
            continue
        nat_key = (number, id(dst), id(dport))
        found = nats.get(nat_key)
        if found is None or found[0] is not dst or found[1] is not dport or found[2] is not family:
            rule = chains[c].rules[r]
            verdict = rule.verdict
            if verdict.kind not in _NAT:
                box = _new(Box, (family, proto, sport, dport, src, dst, iif, state, local, None, None, oif, mark,
                                 ctmark, assumptions, trail))
                out.append(apply_nat(box, rule, routing))
                continue
            found = nats[nat_key] = (dst, dport, family, nat_fields(verdict, family, dst, dport, local, routing))
        last_nat[number] = found
        nat_dst, nat_dport, box_local = found[3]
        out.append(_new(Box, (family, proto, sport, dport, src, dst, iif, state, box_local, nat_dst, nat_dport, oif,
                              mark, ctmark, assumptions, trail)))
    return out
