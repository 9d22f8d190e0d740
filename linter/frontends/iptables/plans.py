"""Shape plans: rule lines that differ only in their values are interpreted once per shape.

Large rule sets repeat a few rule shapes with different values (a blocklist's
``-A INPUT -s a.b.c.d/32 -j DROP``, kube-proxy's ``-A KUBE-SERVICES -d IP -p tcp -m comment
--comment "TEXT" -m tcp --dport N -j CHAIN``). A line's shape is its option text with the
value after ``-s``, ``-d``, ``--dport``, ``--comment``... (and a ``-j`` chain name) cut out,
plus the chain when it is a built-in one. The first line of a shape is read the usual way
(tokenizer and RuleReader's option interpreter); when that read reported nothing and each
value cut out was read the plain way (the address of ``-s``, the port of ``--dport``, a
comment, the chain of a jump), its result becomes the shape's plan, and later lines of the
shape only have their values read into the plan's places. A value that cannot be read that
way (a bad address) sends its line the usual way, so diagnostics are the interpreter's own.

Why a plan holds for every line of its shape: the values cut out are printable ASCII
words (or double-quoted strings) without quotes, backslashes or ``!`` and not starting
with ``-``, and a ``-j`` name cut out is no standard verdict or target extension. The
tokenizer splits such a line as it split the first one, and the interpreter takes these
tokens as the option's value whatever they say; ``make_plan`` checks on the first line that
it did.
"""

from __future__ import annotations

import re

from linter.frontends.makers import (
    ADDRESS_MATCH_BUILDER as new_match,
    ADDRESS_SET_BUILDER as new_set,
    address_match as make_address_match,
    port_match as make_port_match,
    verdict as make_verdict,
)
from linter.frontends.iptables.rule_options import ADDRESS_OPTIONS, statements_for
from linter.frontends.iptables.shape_patterns import (
    COMPILE_AFTER, LITERAL_TARGETS, RecentShapes, VALUE, longest_first, shape_pattern,
)
from linter.frontends.iptables.tokens import STRING, WORD
from linter.frontends.iptables.values import plain_ipv4, plain_nat_to, plain_port, plain_port_list
from linter.frontends.iptables.values import address_tail, PLACES, TAILS
from linter.model import AddressMatch, AddressSet, Direction, Family, Verdict, VerdictKind

# Options whose value is cut out of a line's shape.
MASKED_AFTER = frozenset({
    "-s", "--source", "--src", "-d", "--destination", "--dst",
    "--dport", "--sport", "--destination-port", "--source-port",
    "--dports", "--sports", "--destination-ports", "--source-ports",
    "--comment", "-j", "--jump",
    "--to-destination", "--to-source", "--to", "--to-ports", "--on-ip", "--on-port",
})
_JUMPS = ("-j", "--jump")
UNPLANNABLE = False  # the plan of a shape whose first line could not be made one
MAX_PLANS = 4096  # shapes kept; lines of later new shapes are read the usual way

_OPTIONS = "|".join(re.escape(o) for o in sorted(MASKED_AFTER, key=longest_first))
_LITERALS = "|".join(re.escape(t) for t in sorted(LITERAL_TARGETS, key=longest_first))
# An option and its value (shape_patterns.VALUE) unless the value is a literal target.
_VALUE = re.compile(rf'(?:^|(?<= ))({_OPTIONS}) (?!(?:{_LITERALS})(?: |\Z)){VALUE}(?= |\Z)')
_split = _VALUE.split


class Plan:
    """A shape's read: its result, and where each value cut out goes.

    ``fills`` is (value index, kind, info, match index) per value, kind "addr" (a ``-s``/``-d``
    address), "value" (a modelled module option such as ``--dport``), "jump" or "nat" (a NAT
    target's one option; these two make the verdict, match index -1), and once the plan is made
    (value index, the reader's function for that kind and info, match index); ``comments`` the comment's
    pieces as (value index or None, text) when one is cut out; ``statements`` the rule's
    statements when the verdict is not filled in. ``pattern`` matches the lines of the shape
    (shape_patterns.py), made once ``found`` lines were looked up the long way.
    """

    __slots__ = ("matches", "verdict", "comment", "ignore", "fills", "comments", "statements", "key",
                 "builtin_chain", "pattern", "found", "filler", "lone", "pair", "two")

    def __init__(self, matches, verdict, comment, ignore, fills, comments) -> None:
        self.matches = matches
        self.verdict = verdict
        self.comment = comment
        self.ignore = ignore
        self.fills = fills
        self.comments = comments
        self.statements = statements_for(verdict)
        self.key = None
        self.builtin_chain = None
        self.pattern = None
        self.found = 0
        self.filler = None  # what ShapePlans.fill calls, set once ``fills`` hold the readers
        # (the reader of the one value, verdict, comment, ignore, statements) of a plan whose one match
        # is filled in and nothing else (``filler`` is then ``one``): shape_runs.py reads it in place.
        self.lone = None
        # (the other match, whether the value's match is the second, the value's reader, the reader's
        # memo, handler, negated, protocol, the plain reader of its ports and their direction, the
        # maker of a port match, verdict, comment, ignore, statements) of a plan of two matches, one
        # of them a module option's (a port list) filled in from its one value and nothing else
        # (``filler`` is then ``first_of_two`` or ``second_of_two``): shape_runs.py reads it in
        # place, as the reader's ``option`` does (_value_reader).
        self.pair = None
        # (the address memo's get, the address reader, the match between, a memo of the port values'
        # matches and its get, the port option's reader, verdict, comment, ignore, statements) of a plan
        # of an address, one kept match and a port option, filled in from its two values in that
        # order and nothing else (``filler`` is then ``two_matches``): shape_runs.py reads it in place
        # (_two_in_place).
        self.two = None


class ShapePlans:
    """The plans of one RuleReader's lines; ``head`` is the tokenizer's ``-A``/``-I`` pattern."""

    def __init__(self, reader, head) -> None:
        self.reader = reader
        self.head = head.match
        self.plans: dict = {}
        self.recent = RecentShapes()
        self.chains_changed = reader.chains_changed
        self.pending = None  # (line, key, values) of the last line with no plan yet
        self.chains_read: set[str] = set()  # chain names the head pattern was seen to read whole

    def lookup(self, line: str, builtin, patterns: bool = True):
        """(chain, (matches, verdict, comment, ignore, statements)) of an ``-A`` line whose shape
        has a plan, else None (then ``learn`` may make one from the line's usual read). The
        recent shapes' patterns are tried first unless ``patterns`` is False (none reads the line)."""
        self.pending = None
        if self.reader.chains_changed != self.chains_changed:
            self.plans.clear()
            self.recent.clear()
            self.chains_changed = self.reader.chains_changed
        if patterns:
            planned = self.by_pattern(line, builtin)
            if planned is not None:
                return planned
        if line[:3] != "-A ":
            return None
        head = line.split(" ", 2)
        if len(head) < 3:
            return None
        chain = head[1]
        if chain not in self.chains_read and not self.chain_read(line, chain):
            return None
        shaped = shape_key(head[2], chain if chain in builtin else "")
        if shaped is None:
            return None
        key, values = shaped
        plan = self.plans.get(key)
        if plan:
            plan.found += 1
            if plan.found >= COMPILE_AFTER:
                if plan.pattern is None:
                    plan.key = key
                    plan.builtin_chain = key[-1] or None
                    plan.pattern = shape_pattern(key)
                self.recent.add(plan)
                self.recent.last = plan
            try:
                return chain, self.fill(plan, values)
            except ValueError:  # BadValue: the usual read reports it
                return None
        if plan is None and len(self.plans) < MAX_PLANS:
            self.pending = (line, key, values)
        return None

    def by_pattern(self, line: str, builtin):
        """``lookup``'s answer when the pattern of a shape used recently reads ``line``, else None."""
        found = self.recent.find(line)
        if found is None:
            return None
        plan, values = found
        chain = plan.builtin_chain
        if chain is None:  # a user chain: the pattern's first group
            chain = values[0]
            values = values[1:]
            if chain in builtin or chain not in self.chains_read and not self.chain_read(line, chain):
                return None
        elif chain not in builtin:
            return None
        try:
            return chain, self.fill(plan, values)
        except ValueError:  # BadValue: the usual read reports it
            return None

    def chain_read(self, line: str, chain: str) -> bool:
        """Whether the grammar's CHAIN reads ``chain`` whole after the ``-A`` of ``line`` (as the
        tokenizer's head does), remembered in ``chains_read``."""
        m = self.head(line)
        if m is None or m.group(1) or m.start(2) or m.group(3) != chain:
            return False
        self.chains_read.add(chain)
        return True

    def learn(self, line: str, tokens, result, clean: bool) -> None:
        """Make the plan of ``line``'s shape from its usual read (``clean``: it reported nothing)."""
        pending = self.pending
        self.pending = None
        if pending is None or pending[0] is not line:
            return
        _, key, values = pending
        if not clean:
            return  # a bad value: the shape's next line may make its plan
        plan = None
        if not tokens or tokens[0][3] < 0:  # the tokenizer's str.split path
            plan = _make_plan(_masked(tokens), [_unquoted(v) for v in values], tokens, result, self.reader.uses)
        if plan is not None:
            reader = self.reader
            kinds = plan.fills
            plan.fills = tuple((index, _value_reader(reader, kind, info), place)
                               for index, kind, info, place in plan.fills)
            plan.filler = _filler(plan)
            if plan.fills and plan.fills[0][0] == 0:
                name = plan.filler.__name__
                if name == "one":
                    plan.lone = (plan.fills[0][1], plan.verdict, plan.comment, plan.ignore, plan.statements)
                elif name in ("first_of_two", "second_of_two") and kinds[0][1] == "value" and len(values) == 1:
                    place = plan.fills[0][2]
                    handler, negated, proto_name, _ = kinds[0][2]
                    plain, direction = _PLAIN_PORTS.get(handler, (_no_range, None))
                    plan.pair = (plan.matches[1 - place], place == 1, plan.fills[0][1], reader.memo, handler,
                                 negated, proto_name, plain, direction, make_port_match, plan.verdict,
                                 plan.comment, plan.ignore, plan.statements)
                elif name == "two_matches" and len(values) == 2:
                    plan.two = _two_in_place(reader, plan, kinds)
        self.plans[key] = plan or UNPLANNABLE

    @staticmethod
    def fill(plan: Plan, values):
        """(matches, verdict, comment, ignore, statements) of a line of ``plan``'s shape (raises
        BadValue, a ValueError, when a value cannot be read the plain way)."""
        return plan.filler(values)


def _filler(plan: Plan):
    """``plan``'s fill function: the most common plans (one match filled in, nothing else) get one
    of their own that does only that."""
    fills = plan.fills
    if len(fills) == 1 and plan.comments is None and fills[0][2] >= 0:
        index, read, place = fills[0]
        verdict, comment, ignore, statements = plan.verdict, plan.comment, plan.ignore, plan.statements
        if len(plan.matches) == 1:
            def one(values):
                value = values[index]
                return (read(value[1:-1] if value[0] == '"' else value),), verdict, comment, ignore, statements
            return one
        template = plan.matches
        if len(template) == 2:  # a protocol and a port list: the tuple made at once, no list
            return _one_of_two(template, index, read, place, verdict, comment, ignore, statements)

        def one_of_several(values):
            value = values[index]
            matches = list(template)
            matches[place] = read(value[1:-1] if value[0] == '"' else value)
            return tuple(matches), verdict, comment, ignore, statements
        return one_of_several
    if len(fills) == 2 and plan.comments is None and fills[0][2] >= 0 and fills[1][2] >= 0:
        return _two_matches(plan)
    verdict_fills = [(index, read) for index, read, place in fills if place < 0]
    if len(fills) == 2 and len(verdict_fills) == 1 and plan.comments is None:
        return _match_and_verdict(plan)
    if len(verdict_fills) <= 1 and (plan.comments is None or len(plan.comments) == 1):
        return _some_values(plan, verdict_fills[0] if verdict_fills else None)
    # Not a closure over the plan: plan -> filler -> plan would be a reference cycle (see RecentShapes).
    matches, verdict, comment, ignore, statements, comments = (plan.matches, plan.verdict, plan.comment, plan.ignore,
                                                               plan.statements, plan.comments)

    def any_plan(values):
        made_matches = matches
        made_verdict = verdict
        made_statements = statements
        if fills:
            made_matches = list(matches)
            for index, read, place in fills:
                value = values[index]
                made = read(value[1:-1] if value[0] == '"' else value)
                if place < 0:
                    made_verdict = made
                    made_statements = statements_for(made)
                else:
                    made_matches[place] = made
            made_matches = tuple(made_matches)
        made_comment = comment
        if comments is not None and len(comments) == 1:
            made_comment = _unquoted(values[comments[0][0]])
        elif comments is not None:
            made_comment = "; ".join(text if index is None else _unquoted(values[index]) for index, text in comments)
        return made_matches, made_verdict, made_comment, ignore, made_statements
    return any_plan


def _one_of_two(template: tuple, index: int, read, place: int, verdict, comment, ignore, statements):
    """The fill function of a plan with two matches, one of them filled in (``place``), and nothing
    else: ``one_of_several``'s answer, the tuple made without a list."""
    if place == 0:
        kept = template[1]

        def first_of_two(values):
            value = values[index]
            return (read(value[1:-1] if value[0] == '"' else value), kept), verdict, comment, ignore, statements
        return first_of_two
    kept = template[0]

    def second_of_two(values):
        value = values[index]
        return (kept, read(value[1:-1] if value[0] == '"' else value)), verdict, comment, ignore, statements
    return second_of_two


def _two_in_place(reader, plan: Plan, kinds: tuple):
    """``Plan.two`` of a ``two_matches`` plan whose values are an address (the first match) and a
    module option's port list (the third), with one match kept between them (an allow-list's
    ``-s NET -p tcp -m tcp --dport N``), else None. What shape_runs.py does with it is what
    ``two_matches`` does through the two readers: the address looked up in the memo its reader
    fills (the reader's own, ``reader.addresses``) and read by that reader when it is not there;
    the ports by the ``option`` reader, through ``reader.memo``, once per text: a memo of the
    plan's own keeps what it made of each, by the text alone. That is the object ``option``
    would give again: its other keys (handler, negation, protocol) are the plan's, and
    ``reader.memo`` only ever gains keys (none is dropped or given another object)."""
    (address_index, address_kind, address_info, address_place), (port_index, port_kind, port_info, port_place) = kinds
    if (address_kind != "addr" or port_kind != "value" or (address_index, port_index) != (0, 1)
            or len(plan.matches) != 3 or (address_place, port_place) != (0, 2)):
        return None
    ports: dict = {}  # the port option's values -> what its reader made of them (through reader.memo)
    return (reader.addresses[address_info].get, plan.fills[0][1], plan.matches[1], ports.get, ports, plan.fills[1][1],
            plan.verdict, plan.comment, plan.ignore, plan.statements)


def _match_and_verdict(plan: Plan):
    """The fill function of a plan with one match and the verdict filled in and nothing else (a
    ``-s NET -j CHAIN``): ``_some_values``'s answer without its loop and checks."""
    ((match_index, read_match, place),) = [fill for fill in plan.fills if fill[2] >= 0]
    ((verdict_index, read_verdict, _),) = [fill for fill in plan.fills if fill[2] < 0]
    template, comment, ignore, statements = plan.matches, plan.comment, plan.ignore, plan.statements
    if len(template) == 1:
        def match_and_verdict(values):
            value = values[match_index]
            made = read_match(value[1:-1] if value[0] == '"' else value)
            value = values[verdict_index]
            return (made,), read_verdict(value[1:-1] if value[0] == '"' else value), comment, ignore, statements
        return match_and_verdict

    def match_of_several_and_verdict(values):
        made = list(template)
        value = values[match_index]
        made[place] = read_match(value[1:-1] if value[0] == '"' else value)
        value = values[verdict_index]
        return tuple(made), read_verdict(value[1:-1] if value[0] == '"' else value), comment, ignore, statements
    return match_of_several_and_verdict


def _two_matches(plan: Plan):
    """The fill function of a plan with two matches filled in and nothing else (an allow-list's
    ``-s NET ... --dport N``): ``_some_values``'s answer without its loop and checks."""
    (first, read_first, first_at), (second, read_second, second_at) = plan.fills
    template, verdict, comment, ignore, statements = (plan.matches, plan.verdict, plan.comment, plan.ignore,
                                                      plan.statements)

    def two_matches(values):
        made = list(template)
        value = values[first]
        made[first_at] = read_first(value[1:-1] if value[0] == '"' else value)
        value = values[second]
        made[second_at] = read_second(value[1:-1] if value[0] == '"' else value)
        return tuple(made), verdict, comment, ignore, statements
    return two_matches


def _some_values(plan: Plan, verdict_fill):
    """The fill function of a plan with any matches, at most one verdict and at most one comment
    filled in. A verdict filled in is a jump or a NAT target's (``_make_plan``), whose statements
    are those of the first line's (none: statements_for depends on the target's name only, for
    targets other than these)."""
    match_fills = tuple((index, read, place) for index, read, place in plan.fills if place >= 0)
    template, verdict, comment, ignore, statements = (plan.matches, plan.verdict, plan.comment, plan.ignore,
                                                      plan.statements)
    comment_index = plan.comments[0][0] if plan.comments is not None else None
    verdict_index, verdict_read = verdict_fill or (None, None)

    def some_values(values):
        matches = template
        if match_fills:
            made = list(template)
            for index, read, place in match_fills:
                value = values[index]
                made[place] = read(value[1:-1] if value[0] == '"' else value)
            matches = tuple(made)
        made_verdict = verdict
        if verdict_index is not None:
            value = values[verdict_index]
            made_verdict = verdict_read(value[1:-1] if value[0] == '"' else value)
        made_comment = comment
        if comment_index is not None:
            value = values[comment_index]
            made_comment = value[1:-1] if value[0] == '"' else value
        return matches, made_verdict, made_comment, ignore, statements
    return some_values


def shape_key(options: str, chain: str):
    """(key, values) of a rule line whose options (what follows ``-A CHAIN ``) are ``options``:
    the values cut out, and the rest (the text between them, alternately literal text and the
    option before a value, then ``chain``, the built-in chain or ""); None when nothing is cut out."""
    parts = _split(options)
    if len(parts) == 1:
        return None
    values = parts[2::3]
    del parts[2::3]
    parts.append(chain)
    return tuple(parts), values


def _value_reader(reader, kind: str, info):
    """A function reading one value of a plan into what ``reader.read`` makes of it, through the
    reader's memo, addresses or jumps (so equal values share one object, as in ``read``): kind
    "addr" (info: -s or -d, negated), "value" (a modelled module option: handler, negated,
    protocol, module), "jump" or "nat" (the verdict of a NAT target with this one option: target,
    option, protocol). The function raises BadValue (a ValueError) when the value cannot be read."""
    memo = reader.memo
    if kind == "nat":
        target, option, proto_name = info
        # --to-destination a.b.c.d:port and the like: read by plain_nat_to into the verdict's
        # other fields, which depend on the target only (target_verdict's reading of it).
        plain = (plain_nat_to if reader.family is Family.IPV4 and option in ADDRESS_OPTIONS and option != "--on-ip"
                 and target != "NETMAP" else _no_range)
        fixed = reader.target_verdict(target, (), [], [])

        def nat(value: str) -> Verdict:
            rewrite = plain(value)
            if rewrite is not None:
                return make_verdict(fixed.kind, fixed.target, rewrite[0], rewrite[1], ((option, value),),
                                    fixed.terminal_other, fixed.other_outcome)
            addresses: list = []
            ports: list = []
            reader.nat_values(target, option, value, proto_name, addresses, ports)
            return reader.target_verdict(target, ((option, value),), addresses, ports)
        return nat
    if kind == "jump":
        jumps = reader.jumps
        known_jump = jumps.get

        def jump(value: str) -> Verdict:
            return known_jump(value) or jumps.setdefault(value, make_verdict(VerdictKind.JUMP, value, None, None, (),
                                                                             False, None))
        return jump
    if kind == "addr":
        canonical, negated = info
        direction = Direction.SOURCE if canonical == "-s" else Direction.DESTINATION
        address_match = reader.address_match
        family = reader.family
        plain = plain_ipv4 if family is Family.IPV4 else _no_range
        known = reader.addresses[canonical, negated]  # the reader's own: the usual read shares them
        known_get = known.get

        def address(value: str) -> AddressMatch:
            match = known_get(value)
            if match is None:
                bounds = plain(value)  # what address_match makes of a plain address, without its tests
                match = known[value] = (address_match(direction, value, negated) if bounds is None else
                                        make_address_match(direction, family, (bounds,), value, negated))
            return match
        if plain is plain_ipv4:
            return _ipv4_address(known, direction, negated, address)
        return address
    handler, negated, proto_name, module = info
    modelled = reader.modelled
    # Ports in plain digits: the PortMatch reader.modelled makes of them, without its tests.
    plain, direction = _PLAIN_PORTS.get(handler, (_no_range, None))

    def option(value: str):
        key = (handler, value, negated, proto_name)
        match = memo.get(key)
        if match is None:
            ranges = plain(value)
            match = memo[key] = (modelled(handler, value, negated, proto_name, module) if ranges is None else
                                 make_port_match(direction, ranges, negated))
        return match
    return option


def _ipv4_address(known: dict, direction, negated: bool, general):
    """The "addr" reader of an IPv4 file: ``general``'s answer, with values.plain_ipv4 and
    makers.address_match done in place for a plain address (two calls less an address; the same
    parts read by the same tables, the same objects); every other text goes to ``general``. The
    text after the third dot (the last part and any prefix length) is read once per such text
    (values.address_tail): one split and four look-ups an address."""
    known_get = known.get
    family = Family.IPV4
    first, second, third, _ = PLACES
    tail_get = TAILS.get

    def ipv4_address(value: str) -> AddressMatch:
        match = known_get(value)
        if match is not None:
            return match
        try:
            a, b, c, last = value.split(".")
            lo = first[a] | second[b] | third[c]
        except (ValueError, KeyError):  # not four parts, or a part that is none
            return general(value)
        tail = tail_get(last)
        if tail is None:
            tail = address_tail(last)
            if tail is None:  # no part, a prefix length over 32 or of no one or two digits
                return general(value)
        part, keep, host = tail
        lo = (lo | part) & keep
        addresses = new_set()
        addresses.family = family
        addresses.ranges = ((lo, lo | host),)
        addresses.text = value
        addresses.__class__ = AddressSet
        match = new_match()
        match.direction = direction
        match.addresses = addresses
        match.negated = negated
        match.__class__ = AddressMatch
        known[value] = match
        return match
    return ipv4_address


_PLAIN_PORTS = {"port-destination": (plain_port, Direction.DESTINATION), "port-source": (plain_port, Direction.SOURCE),
                "multiport-destination": (plain_port_list, Direction.DESTINATION),
                "multiport-source": (plain_port_list, Direction.SOURCE)}


def _no_range(value: str) -> None:
    return None


def _unquoted(value: str) -> str:
    return value[1:-1] if value[0] == '"' else value


def _masked(tokens) -> list[int]:
    """The positions of the tokens a shape cuts out, by the rule ``_VALUE`` follows."""
    masked = []
    previous = ""
    for k, (kind, value, _, _) in enumerate(tokens):
        if (previous in MASKED_AFTER and (kind == WORD or kind == STRING) and value and value[0] not in "-!"
                and (previous not in _JUMPS or value not in LITERAL_TARGETS)):
            masked.append(k)
            previous = ""
        else:
            previous = value if kind == WORD else ""
    return masked


def _make_plan(masked: list[int], values: list[str], tokens, result, uses) -> Plan | None:
    """The plan of a shape from the interpreter's ``result`` for its first line and the
    ``uses`` it recorded ((token position, kind, info, what it made) per value read), or None
    unless the values cut out are the masked tokens and each was read once, the plain way."""
    if [tokens[k][1] for k in masked] != values:
        return None
    matches, verdict, comment, ignore = result
    index_of = {pos: k for k, pos in enumerate(masked)}
    fills = []
    covered = []
    pieces = []
    for pos, kind, info, made in uses:
        index = index_of.get(pos)
        if kind == "comment":
            pieces.append((index, made))
        elif index is None:
            continue
        elif kind == "jump":
            if verdict is not made:
                return None
            fills.append((index, kind, info, -1))
        elif kind == "nat":
            # The verdict is rebuilt from this value only when it is the target's one option.
            if len(verdict.options) != 1 or verdict.options[0] != (info[1], values[index]):
                return None
            fills.append((index, kind, info, -1))
        else:
            places = [k for k, m in enumerate(matches) if m is made]
            if len(places) != 1:
                return None
            fills.append((index, kind, info, places[0]))
        if index is not None:
            covered.append(index)
    if sorted(covered) != list(range(len(masked))):
        return None
    comments = tuple(pieces) if any(index is not None for index, _ in pieces) else None
    return Plan(matches, verdict, comment, ignore, tuple(fills), comments)
