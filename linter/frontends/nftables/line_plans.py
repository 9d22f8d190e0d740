"""Shape plans for plain rule lines: lines that differ only in their addresses and ports are read once per shape.

A blocklist of 100,000 ``ip saddr 1.2.3.4 drop`` lines, or an allow-list of
``ip saddr NET tcp dport { 22 } accept`` ones, repeats a few shapes with different values.
A line's shape is its text (a LINERUN token's, see element_runs.py) with each IPv4 address,
IPv4 prefix and decimal number that stands alone between blanks, braces or commas cut out.
The first line of a shape is read the usual way (atoms, Cursor, TableBuilder.model_rules).
It becomes the shape's plan when that read changed nothing but its result (no diagnostic,
no PL013 note, no anonymous chain), gave one rule, and each value cut out is found in exactly
one of the rule's matches, made of that value alone: an ``AddressMatch`` whose set is the
address (its text the value), or a ``PortMatch`` whose set is the one port; or, when a value
has no such match, the numbers of a { } list of numbers alone fill together the one
``PortMatch`` whose set is theirs (the random mix's ``tcp dport { a,b,c }``). The plan is then
checked once more: a line of the shape with every value changed is read the usual way and
must give what the plan gives. That check and the pattern are made when a second line of the
shape comes (a ``Pending`` plan until then): most shapes of a kube-proxy ruleset have one line
(a chain name in each), and checking each cost a second read and a regular expression.
Later lines of the shape only have their values read into the plan's places: the plan's
pattern (the shape's literals around values of the first line's kinds) takes such a line
whole, and a line is tried first against the last plan used, so a run of lines of one shape
is never split. A value the plan cannot take the way the reader
would (an octet over 255, a leading zero) was never cut out, so its line has a shape of its
own; a value of another kind is not taken by the pattern, and a number over 65535 for a port
makes ``Plan.take`` give up: either way the line is read the usual way, with the reader's
diagnostics.

Why a plan holds for every line of its shape: a value cut out is one whole atom (an IPV4 or a
NUM token; a prefix is IPV4 "/" NUM) between blanks, braces or commas, so the line's other
atoms are the same in every line of the shape; the reader takes its meaning from the atoms
around it (the selector, the operator, the group), and the value only fills the match those
give. Both checks above are made on real reads, so a value the reader uses any other way
(a ttl, a mark, a NAT address, a range end) leaves its shape without a plan.
"""

from __future__ import annotations

import re
import socket

from lark import Token

from linter.frontends import makers as make
from linter.frontends.nftables.builders import RuleB
from linter.model import AddressMatch, Family, MAX_PORT, normalize_ranges, PortMatch, PortSet, Rule
from linter.source import SourceFile

# Shapes kept per table. When they fill up, those without a checked plan (seen once, or
# unplannable) are forgotten, if that frees half of the room; once checked plans take more,
# lines of later new shapes are read the usual way.
MAX_PLANS = 4096
_OTHER_TRIES = 16  # values tried for each value of the line that checks a plan
MAX_TRIES = 2  # first lines of a shape read before it is given up (the first may note a PL013)

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A value: an IPv4 address with an optional prefix length, or a port-sized decimal number
# without leading zeros, alone between blanks, braces or commas.
_DOTTED = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_LENGTH = r"3[0-2]|[12]?[0-9]"
_PORT = r"0|[1-9][0-9]{0,4}"
_CORE = rf"({_DOTTED}(?:/(?:{_LENGTH}))?|{_PORT})"
_VALUE = re.compile(rf"(?<![^ \t{{,])(?=[0-9]){_CORE}(?=[ \t}},]|$)")
_ADDRESS, _PREFIX, _NUMBER = "a", "p", "n"
# A number of a { } list of numbers alone (``tcp dport { 22,80,443 }``): the list's values fill
# one PortMatch together (its ports, sorted and merged as the reader's PortSet).
_LISTED = "l"
# The values of one kind, in a shape's pattern: an address is one group, a prefix three (the
# value, its address, its length), a number one.
_KIND_PATTERNS = {_ADDRESS: f"({_DOTTED})", _PREFIX: f"(({_DOTTED})/({_LENGTH}))", _NUMBER: f"({_PORT})",
                  _LISTED: f"({_PORT})"}
_UNPLANNABLE = None


def _kind(value: str) -> str:
    return _PREFIX if "/" in value else _ADDRESS if "." in value else _NUMBER


class Plan:
    """A shape's rule and where each value goes: ``fills`` is (match index, kind) per value.

    A shape is its literals; the kinds of its values (address, prefix, number) are the first
    line's, and a line whose values are of other kinds is read the usual way (``match``,
    the shape's pattern for values of these kinds, does not take it)."""

    __slots__ = ("rule", "fills", "match", "places", "one")

    def __init__(self, rule: Rule, fills: tuple, shape: tuple) -> None:
        self.rule = rule
        self.fills = fills
        self.match = _shape_pattern(shape, [kind for _, kind in fills]).fullmatch
        places = []
        at = 0  # the value's group in the pattern (a prefix has three)
        for index, kind in fills:
            if kind is _LISTED and places and places[-1][1] is _LISTED and places[-1][0] == index:
                places[-1][4] += 1  # the list's next value: one more group for its place
                at += 1
                continue
            # [match index, kind, group, the plan's match there, what was made there: the port
            # matches by port text, or the last address's text and match, which an allow-list's
            # next line often has too: equal values share one object, as the iptables reader's;
            # for a list, how many values it has]
            places.append([index, kind, at, rule.matches[index],
                           {} if kind is _NUMBER else 1 if kind is _LISTED else [None, None]])
            at += 3 if kind is _PREFIX else 1
        self.places = tuple(tuple(place) for place in places)
        # one address to fill (a blocklist's shape): the matches before and after it
        index, kind = fills[0]
        self.one = (rule.matches[:index], rule.matches[index], rule.matches[index + 1:], kind) \
            if len(fills) == 1 and kind is not _NUMBER else None

    def take(self, found: re.Match, span, text: str) -> Rule | None:
        """The rule of the line ``text`` whose values ``match`` found, or None when a port is
        over 65535 (the line is read the usual way, with the reader's diagnostic)."""
        rule = self.rule
        one = self.one
        if one is not None:
            head, old, tail, kind = one
            if kind is _ADDRESS:
                value = found[1]
                low = high = _number(_aton(value), "big")
            else:
                value, address, length = found.group(1, 2, 3)
                host = _HOSTS[int(length)]
                low = _number(_aton(address), "big") & ~host
                high = low | host
            made = make.address_match(old.direction, Family.IPV4, ((low, high),), value, old.negated)
            return make.rule((*head, made, *tail), rule.verdict, span, rule.comment, rule.statements, text)
        groups = found.groups()
        matches = list(rule.matches)
        for index, kind, at, old, made_here in self.places:
            value = groups[at]
            if kind is _NUMBER:
                made = made_here.get(value)
                if made is None:
                    port = int(value)
                    if port > MAX_PORT:
                        return None
                    made = made_here[value] = make.port_match(old.direction, ((port, port),), old.negated)
            elif kind is _LISTED:  # made_here: how many values the list has
                ports = [int(text) for text in groups[at:at + made_here]]
                if max(ports) > MAX_PORT:
                    return None
                made = make.port_match(old.direction, normalize_ranges([(port, port) for port in ports]), old.negated)
            elif made_here[0] == value:
                made = made_here[1]
            else:
                if kind is _ADDRESS:
                    low = high = _number(_aton(value), "big")
                else:
                    host = _HOSTS[int(groups[at + 2])]
                    low = _number(_aton(groups[at + 1]), "big") & ~host
                    high = low | host
                made = make.address_match(old.direction, Family.IPV4, ((low, high),), value, old.negated)
                made_here[0] = value
                made_here[1] = made
            matches[index] = made
        return make.rule(tuple(matches), rule.verdict, span, rule.comment, rule.statements, text)

    def apply(self, text: str, span) -> Rule | None:
        """The rule of a line of this shape, or None when its values are not of the plan's kinds
        or a port is over 65535."""
        found = self.match(text)
        return self.take(found, span, text) if found is not None else None


class Pending:
    """A shape's plan as its first line left it, not checked yet (``LinePlans._checked``)."""

    __slots__ = ("rule", "shape", "values", "made", "fills")

    def __init__(self, rule: RuleB, shape: tuple, values: list[str], made: Rule, fills: tuple) -> None:
        self.rule = rule
        self.shape = shape
        self.values = values
        self.made = made
        self.fills = fills


class LinePlans:
    """The plans of one table's plain rule lines (``builder`` is its TableBuilder)."""

    def __init__(self, builder) -> None:
        self.builder = builder
        self.plans: dict = {}
        self.tries: dict = {}
        self.full = False  # whether checked plans fill half of the room (_forget_unplanned)

    def chain_rules(self, rules: list[RuleB]) -> list[Rule]:
        """The model rules of a chain's rules: each read as ``builder.rules`` reads it, a rule
        line (a LINERUN token) of a planned shape from its plan."""
        out: list[Rule] = []
        append, extend = out.append, out.extend
        split, plans, read = _VALUE.split, self.plans, self.builder.rules
        last = None  # the plan of the last planned line: the next line is most often of its shape
        for rule in rules:
            if not rule.is_line:
                extend(read(rule))
                continue
            text = rule.text
            if last is not None:
                found = last.match(text)
                if found is not None:
                    made = last.take(found, rule.span, text)
                    if made is not None:
                        append(made)
                    else:
                        extend(read(rule))
                    continue
            pieces = split(text)
            if len(pieces) < 2:
                extend(read(rule))
                continue
            shape = tuple(pieces[0::2])
            plan = plans.get(shape, False)
            if type(plan) is Pending:
                plan = plans[shape] = self._checked(plan)
            if plan:
                last = plan
                made = plan.apply(text, rule.span)
                if made is not None:
                    append(made)
                else:
                    extend(read(rule))
            elif plan is _UNPLANNABLE or len(plans) >= MAX_PLANS and not self._forget_unplanned():
                extend(read(rule))
            else:
                extend(self._first(rule, shape, pieces[1::2]))
        return out

    def _forget_unplanned(self) -> bool:
        """Make room for new shapes by forgetting those without a checked plan, when that frees at
        least half of it; False (for good: checked plans stay) when it would not.

        A kube-proxy ruleset's services chain has a shape a line (a chain name in each), which
        would otherwise fill the room before the chains whose lines are all of one shape. A shape
        forgotten is only a shape seen anew: its next line is read the usual way and may start
        its plan again; no plan is kept or used unchecked."""
        if self.full:
            return False
        plans = self.plans
        forget = [shape for shape, plan in plans.items() if type(plan) is not Plan]
        if len(forget) < MAX_PLANS // 2:
            self.full = True
            return False
        for shape in forget:
            del plans[shape]
        return True

    def _first(self, rule: RuleB, shape: tuple, values: list[str]) -> list[Rule]:
        """A rule line of a shape without a plan yet, read the usual way; its read becomes the plan when it may."""
        before = self._effects()
        out = self.builder.rules(rule)
        if self._effects() != before:
            tries = self.tries.get(shape, 0) + 1
            self.tries[shape] = tries
            if tries >= MAX_TRIES:
                self.plans[shape] = _UNPLANNABLE
            return out
        self.plans[shape] = self._plan(rule, shape, values, out)
        return out

    def _effects(self) -> tuple:
        """What a read may change besides its result."""
        builder = self.builder
        state = builder.state
        return (len(state.diagnostics), state.errors_reported, len(state.opaque_seen), builder.table.bindings,
                len(builder.extra_chains))

    def _plan(self, rule: RuleB, shape: tuple, values: list[str], out: list[Rule]) -> Pending | None:
        if len(out) != 1:
            return _UNPLANNABLE
        fills = _fills(out[0], shape, values)
        if fills is None:
            return _UNPLANNABLE
        return Pending(rule, shape, values, out[0], fills)

    def _checked(self, pending: Pending) -> Plan | None:
        """The plan of a shape whose second line has come, or None when the check (``_holds``) fails.

        The check reads a made-up line with the builder's state saved and restored around it, so
        when it is made changes nothing but its cost."""
        plan = Plan(pending.made, pending.fills, pending.shape)
        return plan if self._holds(plan, pending.rule, pending.shape, pending.values) else _UNPLANNABLE

    def _holds(self, plan: Plan, rule: RuleB, shape: tuple, values: list[str]) -> bool:
        """Whether a line of the shape with every value changed reads (the usual way) as the plan says."""
        taken = set(values)
        changed = []
        for value in values:
            other = _other_value(value, taken)
            if other is None:
                return False
            taken.add(other)
            changed.append(other)
        text = _join(shape, changed)
        pieces = _VALUE.split(text)
        if tuple(pieces[0::2]) != shape or list(map(_kind, pieces[1::2])) != list(map(_kind, values)):
            return False
        run = Token("LINERUN", text, 0, 1, 1, 1, len(text) + 1, len(text))
        probe = RuleB(None, rule.span, text, rule.handle, SourceFile(rule.source.path, text), run)
        builder = self.builder
        state = builder.state
        saved = (len(state.diagnostics), state.errors_reported, set(state.opaque_seen), builder.table.bindings,
                 len(builder.extra_chains))
        try:
            read = builder.rules(probe)
        finally:
            del state.diagnostics[saved[0]:]
            state.errors_reported = saved[1]
            state.opaque_seen = saved[2]
            builder.table.bindings = saved[3]
            del builder.extra_chains[saved[4]:]
        return read == [plan.apply(text, rule.span)]


def _span(value: str, _number=int.from_bytes, _aton=socket.inet_aton) -> tuple[int, int]:
    """An address or prefix _VALUE took as (low, high): its octets and length are in range
    (so inet_aton reads the four decimal octets, nothing else)."""
    address, _, length = value.partition("/")
    number = _number(_aton(address), "big")
    if not length:
        return number, number
    host = _HOSTS[int(length)]
    low = number & ~host
    return low, low | host


_number, _aton = int.from_bytes, socket.inet_aton
_HOSTS = tuple((1 << (32 - length)) - 1 for length in range(33))


def _shape_pattern(shape: tuple, kinds: list[str]) -> re.Pattern:
    """A pattern a line fully matches exactly when ``_VALUE.split`` cuts it into ``shape`` and
    values of ``kinds`` (the values are its groups, a prefix's with its address and length).

    Why no line of another shape matches: each literal of the shape is its first line's
    text between two values, so it ends with a blank, brace or comma (or is the line's start)
    and the next begins with one (or is its end); a value is digits, dots and a slash. In a
    line ``literal, value, literal...``, no match of _VALUE can then cross a literal's end,
    a literal's characters have the neighbours they had in the first line (where no value
    was found among them), and at a value's first character only the whole value is
    followed by a blank, brace, comma or the end: so _VALUE finds exactly these values."""
    parts = [re.escape(shape[0])]
    for literal, kind in zip(shape[1:], kinds):
        parts.append(_KIND_PATTERNS[kind])
        parts.append(re.escape(literal))
    return re.compile("".join(parts))


def _join(shape: tuple, values: list[str]) -> str:
    out = [shape[0]]
    for literal, value in zip(shape[1:], values):
        out.append(value)
        out.append(literal)
    return "".join(out)


def _fills(rule: Rule, shape: tuple, values: list[str]) -> tuple | None:
    """(match index, kind) per value: the one match made of that value alone, or (when some value
    has none) of the { } list of numbers alone it is in (``_listed_fills``); or None."""
    fills = _single_fills(rule, values)
    return fills if fills is not None else _listed_fills(rule, shape, values)


def _listed_fills(rule: Rule, shape: tuple, values: list[str]) -> tuple | None:
    """``_single_fills``, but the numbers of a { } list of numbers alone (two or more, between
    the literals ``{`` and ``}`` with only commas and blanks between them) fill together the one
    PortMatch whose ports are theirs (sorted and merged, as the reader's PortSet), as _LISTED."""
    fills: list = []
    used: set = set()
    position = 0
    while position < len(values):
        end = position
        if shape[position].rstrip(" \t").endswith("{"):
            while end + 1 < len(values) and _kind(values[end + 1]) is _NUMBER and \
                    shape[end + 1].strip(" \t") == "," and _kind(values[end]) is _NUMBER:
                end += 1
        if end > position and _kind(values[position]) is _NUMBER and shape[end + 1].lstrip(" \t").startswith("}"):
            ranges = normalize_ranges([(int(value), int(value)) for value in values[position:end + 1]])
            found = [index for index, match in enumerate(rule.matches)
                     if type(match) is PortMatch and match.ports.ranges == ranges]
            kind = _LISTED
        else:
            single = _single_fills(rule, values[position:position + 1])
            if single is None:
                return None
            found, kind = [single[0][0]], single[0][1]
        if len(found) != 1 or found[0] in used:
            return None
        used.add(found[0])
        fills.extend([(found[0], kind)] * (end - position + 1))
        position = end + 1
    return tuple(fills)


def _single_fills(rule: Rule, values: list[str]) -> tuple | None:
    """(match index, kind) per value: the one match made of that value alone, or None."""
    fills = []
    used: set = set()
    for value in values:
        found = []
        kind = _kind(value)
        if kind is _NUMBER:
            port = int(value)
            for index, match in enumerate(rule.matches):
                if type(match) is PortMatch and match.ports.ranges == ((port, port),):
                    found.append(index)
        else:
            span = _span(value)
            for index, match in enumerate(rule.matches):
                if type(match) is AddressMatch and match.addresses.text == value and \
                        match.addresses.family is Family.IPV4 and match.addresses.ranges == (span,):
                    found.append(index)
        if len(found) != 1 or found[0] in used:
            return None
        used.add(found[0])
        fills.append((found[0], kind))
    return tuple(fills)


def _other_value(value: str, taken: set) -> str | None:
    """A value of ``value``'s kind unlike every value in ``taken`` (a number, or an address whose
    first octet changed), or None when the next few are all taken (a line of hundreds of values:
    it keeps no plan, and the search stays short)."""
    if _kind(value) is _NUMBER:
        number = int(value)
        for _ in range(_OTHER_TRIES):
            number = (number + 1) % (MAX_PORT + 1)
            if str(number) not in taken:
                return str(number)
        return None
    first, dot, rest = value.partition(".")
    octet = int(first)
    for _ in range(_OTHER_TRIES):
        octet = (octet + 1) % 256
        other = f"{octet}{dot}{rest}"
        if other not in taken:
            return other
    return None
