"""Turning the read tables into model Rules: named sets inlined, verdict maps and concatenations expanded."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from linter import netdb
from linter.addresses import AddressError
from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends.nftables import choices as nft_choices
from linter.frontends.nftables import marks as nft_marks
from linter.frontends.nftables.atoms import Group, Sel, split_lines, Term, unquote, Val, VerdictSpec, word_of
from linter.frontends.nftables.builders import RuleB, SetB, span_of, TableB
from linter.frontends.nftables.cursor import Cursor
from linter.frontends.nftables.elements import set_elements
from linter.frontends.nftables.keywords import (
    ADDR_TYPES,
    CT_STATE_ALL,
    CT_STATE_BITS,
    CT_STATE_NUMBER,
    CT_STATES,
    IMPLIED_PROTOCOLS,
    L3_VALUES,
    MAX_EXPANSION,
    PORT_PROTOCOLS,
    ReadError,
    VERDICTS,
)
from linter.frontends.nftables.line_plans import LinePlans
from linter.frontends.nftables.matches import (
    address,
    ct_status_match,
    extend,
    full_family,
    has_var,
    Implied,
    module_of,
    number_or_none,
    number_value,
    PATH_DECIDED,
    tcp_flags_match,
    value_text,
)
from linter.model import (
    AddressMatch,
    AddressSet,
    AddrTypeMatch,
    Chain,
    Direction,
    Family,
    FragmentMatch,
    InterfaceMatch,
    IPV4_MAX,
    IPV6_MAX,
    LimitMatch,
    MAX_PORT,
    NamedSet,
    normalize_ranges,
    OpaqueMatch,
    OriginalAddressMatch,
    OriginalPortMatch,
    PortMatch,
    PortSet,
    ProtocolMatch,
    Rule,
    Span,
    StateMatch,
    Statement,
    Table,
    Verdict,
    VerdictKind,
)
from linter.numbers import shown
from linter.source import SourceFile

if TYPE_CHECKING:
    from linter.frontends.nftables.state import State


class TableBuilder:
    """Turns one table's rules into model objects (named sets inlined, maps expanded)."""

    def __init__(self, state: State, table: TableB):
        self.state = state
        self.table = table
        self.family = table.family
        self.extra_chains: list[Chain] = []
        self.path = ""
        self.source: SourceFile | None = None

    def build(self) -> Table:
        chains = []
        plans = LinePlans(self)
        for chain in self.table.chains.values():
            rules = plans.chain_rules(chain.rules)
            chains.append(Chain(chain.name, tuple(rules), chain.span, chain.hook, chain.type, chain.priority,
                                chain.policy, chain.device, role=chain.type if chain.hook is not None else None))
        chains.extend(self.extra_chains)
        sets = tuple(
            NamedSet(s.name, s.span, s.type, s.flags, tuple(el.text for el in s.elements))
            for s in self.table.sets.values()
        )
        return Table(self.table.name, self.family, tuple(chains), self.table.span, sets, used_sets(sets, chains))

    # -- diagnostics
    def diag(self, code: str, message: str, atom, hint: str | None = None) -> None:
        self.state.errors_reported += 1
        span = span_of(self.path, atom) if atom is not None else self.rule_span
        excerpt = caret_excerpt(self.source.line(span.line), span.column) if code == "PL010" else None
        self.state.diagnostics.append(Diagnostic(code, message, span, hint=hint, excerpt=excerpt))

    def text(self, first, last) -> str:
        return self.source.text[first.start_pos:last.end_pos].strip()

    def opaque(self, module: str, first, last, negated: bool = False) -> OpaqueMatch:
        self.state.note_opaque(module, span_of(self.path, first))
        return OpaqueMatch(module, self.text(first, last), negated)

    # -- rules
    def rules(self, rule: RuleB, atoms=None, span=None, text=None) -> list[Rule]:
        self.path, self.source = rule.source.path, rule.source
        self.rule_span = span or rule.span
        try:
            terms = Cursor(atoms if atoms is not None else rule.atoms).read_rule()
        except ReadError as exc:
            self.diag("PL010", f"Syntax error: {exc}", exc.atom)
            return []
        try:
            return self.model_rules(terms, span or rule.span, text if text is not None else rule.text)
        except ReadError as exc:
            self.diag("PL010", f"Syntax error: {exc}", exc.atom)
            return []
        except RecursionError:
            self.diag("PL010", "Syntax error: nesting too deep", None)
            return []

    def model_rules(self, terms: list[Term], span: Span, text: str) -> list[Rule]:
        alts: list[tuple[list, VerdictSpec | None]] = [([], None)]
        statements: list[Statement] = []
        verdict: VerdictSpec | None = None
        comment = None
        has_log = False
        too_large = False
        pending_text = ""
        for term in terms:
            kind = term.kind
            if kind == "match":
                options = self.term_matches(term)
                if len(options) == 1:
                    for matches, _ in alts:
                        extend(matches, options[0])
                else:
                    if len(alts) * len(options) > MAX_EXPANSION:
                        too_large = True
                        self.too_large(term)
                        op = OpaqueMatch(module_of(term.sel), self.text(term.first, term.last))
                        for matches, _ in alts:
                            matches.append(op)
                        continue
                    alts = [(extend(list(m), option), v) for m, v in alts for option in options]
            elif kind in ("vmap", "nat") and (kind == "vmap" or term.nat[4] is not None):
                options = self.map_options(term)
                if options is _TOO_LARGE:
                    self.too_large(term)
                    options = None
                if options is None:
                    op = self.opaque(module_of(term.sel) if term.sel else "map", term.first, term.last)
                    for matches, _ in alts:
                        matches.append(op)
                    if kind == "nat":
                        verdict = VerdictSpec(term.nat[0], options=term.nat[3])
                    continue
                if term.sel is not None:
                    options = nft_choices.exhaustive(self.text(term.sel.first, term.sel.last), options)
                if len(alts) * len(options) > MAX_EXPANSION:
                    self.too_large(term)
                    op = OpaqueMatch(module_of(term.sel) if term.sel else "map", self.text(term.first, term.last))
                    for matches, _ in alts:
                        matches.append(op)
                    continue
                alts = [(extend(list(m), conj), spec) for m, _v in alts for conj, spec in options]
            elif kind == "nat":
                nat_kind, addresses, ports, options, _, family = term.nat
                spec = VerdictSpec(nat_kind, options=options)
                spec.to_addresses = self.nat_addresses(addresses, family)
                spec.to_ports = self.nat_ports(ports)
                if nat_kind is VerdictKind.OTHER:
                    spec.target = "TPROXY"
                    pending_text = self.text(term.first, term.last)
                if verdict is None:
                    verdict = spec
                else:
                    statements.append(Statement(term.first.value, self.text(term.first, term.last)))
            elif kind == "verdict":
                spec = term.verdict
                if spec.binding is not None:
                    spec = VerdictSpec(spec.kind, self.binding_chain(spec.binding))
                if verdict is not None and verdict.kind is VerdictKind.OTHER and not verdict.terminal_other:
                    # tproxy does not end the rule: it is a statement before the verdict
                    statements.append(Statement("tproxy", pending_text))
                    verdict = spec
                elif verdict is None:
                    verdict = spec
            elif kind == "opaque" and term.over is not None:
                op = LimitMatch(term.module, term.over, text=self.text(term.first, term.last))
                for matches, _ in alts:
                    matches.append(op)
            elif kind == "opaque":
                op = self.opaque(term.module, term.first, term.last)
                for matches, _ in alts:
                    matches.append(op)
            elif kind == "stmt":
                statements.append(nft_marks.statement(term.module, self.text(term.first, term.last)))
                has_log = has_log or term.module == "log"
            elif kind == "comment":
                comment = term.module
        del too_large
        out = []
        for matches, alt_verdict in alts:
            spec = alt_verdict or verdict
            if spec is None:
                model_verdict = Verdict(VerdictKind.LOG if has_log else VerdictKind.CONTINUE)
            else:
                model_verdict = Verdict(spec.kind, spec.target, spec.to_addresses, spec.to_ports, tuple(spec.options),
                                        spec.terminal_other)
            out.append(Rule(tuple(self.with_families(matches)), model_verdict, span, comment, tuple(statements), text))
        return out

    def too_large(self, term: Term) -> None:
        self.state.diagnostics.append(Diagnostic(
            "PL034", f"Expansion larger than {MAX_EXPANSION} rules; kept as one opaque match",
            span_of(self.path, term.first, term.last),
        ))

    def with_families(self, matches: list) -> list:
        """Add the IPv4/IPv6 dependency of ip/ip6 matches in inet, bridge and netdev tables."""
        if self.family in (Family.IPV4, Family.IPV6):
            return [m for m in matches if not isinstance(m, Implied)]
        out = []
        for index, match in enumerate(matches):
            if isinstance(match, Implied):
                if not any(isinstance(m, AddressMatch) and m.addresses.family is match.family for m in matches):
                    full = full_family(match.family)
                    if full not in out:
                        out.append(full)
                continue
            out.append(match)
        return out

    # -- anonymous chains
    def binding_chain(self, group: Group) -> str:
        self.table.bindings += 1
        name = f"__chain{self.table.bindings}"
        saved = (self.path, self.source, self.rule_span)
        rules: list[Rule] = []
        for line in split_lines(group.items):
            if not line:
                continue
            span = span_of(self.path, line[0], line[-1])
            dummy = RuleB(line, span, self.text(line[0], line[-1]), 0, self.source)
            rules.extend(self.rules(dummy))
            self.path, self.source, self.rule_span = saved
        self.extra_chains.append(Chain(name, tuple(rules), span_of(self.path, group)))
        return name

    # -- sets
    def lookup_set(self, ref) -> SetB | None:
        named = self.table.sets.get(ref.value[1:])
        if named is None:
            self.diag("PL011", f"Undefined set {ref.value}", ref, hint="declare the set in the same table")
        return named

    def flatten(self, value: Val) -> list[Val] | None:
        """The elements a value stands for (sets, lists and named sets opened), or None."""
        kind = value.kind
        if kind == "group":
            out = []
            for element in set_elements(value.a):
                val = element_value(element.key)
                if val is None:
                    continue
                inner = self.flatten(val)
                if inner is None:
                    return None
                out.extend(inner)
            return out
        if kind == "list":
            out = []
            for item in value.a:
                inner = self.flatten(item)
                if inner is None:
                    return None
                out.extend(inner)
            return out
        if kind == "ref":
            named = self.lookup_set(value.a)
            if named is None:
                return None
            out = []
            for element in named.elements:
                val = element_value(element.key)
                if val is not None:
                    inner = self.flatten(val) if val.kind != "ref" else None
                    if inner is None:
                        return None
                    out.extend(inner)
            return out
        if kind == "paren":
            return self.flatten(value.a) if value.a is not None else None
        return [value]

    # -- matches
    def term_matches(self, term: Term) -> list[list]:
        """The alternatives (each a list of matches) a match term stands for."""
        sel = term.sel
        if len(sel.parts) == 1:
            return [self.matches_for(sel.parts[0], term.op, term.value, term, masked=sel.masked)]
        if term.op != "==" or sel.masked:
            return [self.opaque_for(sel, term)]
        elements = self.flatten(term.value)
        if elements is None:
            return [self.opaque_for(sel, term)]
        options = []
        if len(elements) > MAX_EXPANSION:
            self.too_large(term)
            return [[OpaqueMatch(module_of(sel), self.text(term.first, term.last))]]
        for element in elements:
            parts = element.a if element.kind == "concat" else [element]
            if len(parts) != len(sel.parts):
                return [self.opaque_for(sel, term)]
            conj: list = []
            for part, component in zip(sel.parts, parts):
                extend(conj, self.matches_for(part, "==", component, term))
            options.append(conj)
        if not options:
            return [self.matches_for(sel.parts[0], "==", Val("empty", None), term)]
        return options

    def opaque_for(self, sel: Sel, term: Term) -> list:
        return [self.opaque(module_of(sel), term.first, term.last, term.op == "!=")]

    def matches_for(self, words: tuple, op: str, value: Val, term: Term, masked: bool = False) -> list:
        """The matches of one selector compared with one value (a set, range, element...)."""
        head = words[0]
        key = words[1] if len(words) > 1 else ""
        implied: list = []
        proto = IMPLIED_PROTOCOLS.get(head)
        if proto is not None and len(words) > 1:
            implied.append(ProtocolMatch(frozenset({proto}), text=head))
        if head in ("ip", "ip6") and len(words) > 1:
            implied.append(Implied(Family.IPV4 if head == "ip" else Family.IPV6))
        negated = op == "!="
        simple = op in ("==", "!=") and not masked
        errors_before = self.state.errors_reported
        module = " ".join(w for w in words if w)
        result = None
        if words in PATH_DECIDED:
            if term.kind == "match" and len(term.sel.parts) == 1:
                result = self.path_decided(words, op, value, term, masked)
        elif simple and head in ("ip", "ip6") and key in ("saddr", "daddr") and len(words) == 2:
            family = Family.IPV4 if head == "ip" else Family.IPV6
            addresses = self.addresses(value, family, term)
            if addresses is not None:
                direction = Direction.SOURCE if key == "saddr" else Direction.DESTINATION
                result = [AddressMatch(direction, addresses, negated)]
        elif head in PORT_PROTOCOLS or head == "th":
            if key in ("sport", "dport") and not masked:
                ports = self.ports(value, op, head, term)
                if ports is not None:
                    direction = Direction.SOURCE if key == "sport" else Direction.DESTINATION
                    result = [PortMatch(direction, ports, negated and op == "!=")]
        elif simple and words in (("ip", "protocol"), ("ip6", "nexthdr"), ("meta", "l4proto")):
            protocols = self.protocols(value, term)
            if protocols is not None:
                result = [ProtocolMatch(protocols, negated, value_text(value))]
        elif words == ("ct", "state") and (simple or op == "!" and value.kind in ("tok", "list")):
            states = self.names(value, term, CT_STATES, "conntrack state")
            if states is not None:
                # A packet has exactly one state bit, so `! a,b` (no bit of a|b set) is "not a or b".
                result = [StateMatch(frozenset(states), negated or op == "!")]
        elif simple and words in (("meta", "iifname"), ("meta", "iif"), ("meta", "oifname"), ("meta", "oif")):
            names = self.names(value, term, None, "interface")
            if names is not None:
                direction = "in" if key in ("iifname", "iif") else "out"
                result = [InterfaceMatch(direction, tuple(names), negated)]
        elif simple and head == "fib" and key in ("saddr", "daddr") and words[2] == "type":
            types = self.names(value, term, ADDR_TYPES, "address type")
            if types is not None:
                direction = Direction.SOURCE if key == "saddr" else Direction.DESTINATION
                result = [AddrTypeMatch(direction, frozenset(t.upper() for t in types), negated)]
        elif simple and words in (("meta", "nfproto"), ("meta", "protocol"), ("ether", "type")):
            families = self.names(value, term, None, "")
            if families is not None and families and all(f in L3_VALUES for f in families):
                kinds = {L3_VALUES[f] for f in families}
                if len(kinds) == 1:
                    # Only IPv4 and IPv6 packets are modelled: `!= ipv4` is IPv6.
                    only = kinds.pop()
                    if negated:
                        only = Family.IPV6 if only is Family.IPV4 else Family.IPV4
                    result = [full_family(only)]
                elif not negated:
                    result = []
            if result is not None and head == "ether":
                implied = []
        if result is None and module in nft_marks.MARK_MODULES and term.kind == "match" and len(term.sel.parts) == 1:
            mark = nft_marks.mark_match(self.text(term.first, term.last))
            result = [mark] if mark is not None else None
        if result is None:
            if self.state.errors_reported > errors_before or has_var(value):
                # already reported (PL011/PL031): no "not modelled" note on top
                shown = self.text(term.first, term.last) if term.kind == "match" else value_text(value)
                result = [OpaqueMatch(module, shown, negated)]
            elif term.kind == "match" and len(term.sel.parts) == 1:
                result = [self.opaque(module, term.first, term.last, negated)]
            else:  # a component of a concatenation or a map key: say which
                self.state.note_opaque(module, span_of(self.path, term.first))
                shown = "{}" if value.kind == "empty" else value_text(value)
                result = [OpaqueMatch(module, f"{module} {shown}", negated)]
        return implied + result

    def path_decided(self, words: tuple, op: str, value: Val, term: Term, masked: bool) -> list | None:
        """A match a packet's path decides (tcp flags, ct status, the original tuple, fragments),
        or None when written in a form portlint keeps opaque."""
        ops = term.sel.ops if masked else []
        if masked and (len(ops) != 1 or ops[0][0] != "&" or ops[0][1] is None):
            return None
        text = self.text(term.first, term.last)
        negated = op == "!="
        if words == ("tcp", "flags"):
            return tcp_flags_match(op, value, ops, term.explicit, text)
        if words == ("ct", "status"):
            return ct_status_match(op, value, ops, term.explicit, text)
        if words == ("ip", "frag-off"):
            if ops and number_value(ops[0][1], {}) == 0x1FFF and op in ("==", "!=") \
                    and number_value(value, {}) == 0:
                return [FragmentMatch(op == "==", text)]
            return None
        if masked or op not in ("==", "!="):
            return None
        field_name = words[-1]
        if field_name in ("proto-src", "proto-dst"):
            ports = self.ports(value, op, "tcp", term)
            if ports is None:
                return None
            direction = Direction.SOURCE if field_name == "proto-src" else Direction.DESTINATION
            return [OriginalPortMatch(direction, ports, negated, text=text)]
        if len(words) == 4:
            family = Family.IPV4 if words[2] == "ip" else Family.IPV6
        elif self.family in (Family.IPV4, Family.IPV6):
            family = self.family
        else:
            return None  # `ct original saddr` in an inet table: nft needs the family
        addresses = self.addresses(value, family, term)
        if addresses is None:
            return None
        direction = Direction.SOURCE if field_name == "saddr" else Direction.DESTINATION
        return [OriginalAddressMatch(direction, addresses, negated, text=text)]

    def _has_unknown(self, value: Val) -> bool:
        atom = value.first
        return atom is not None and getattr(atom, "type", "") == "VAR"

    def addresses(self, value: Val, family: Family, term: Term) -> AddressSet | None:
        if value.kind == "empty":
            return AddressSet(family, (), "")
        elements = self.flatten(value)
        if elements is None:
            return None
        ranges = []
        for element in elements:
            span = self.address_range(element, family)
            if span is None:
                return None
            ranges.append(span)
        return AddressSet(family, normalize_ranges(ranges), value_text(value))

    def address_range(self, value: Val, family: Family | None) -> tuple[int, int] | None:
        kind = value.kind
        try:
            if kind == "tok":
                atom = value.a
                if atom.value == "*":  # the catch-all element
                    return 0, IPV6_MAX if family is Family.IPV6 else IPV4_MAX
                if atom.type in ("IPV4", "COLONADDR"):
                    return address(atom.value, family)
                if atom.type == "VAR":
                    return None
                if atom.type == "STRING" or atom.type == "WORD":
                    return None  # a host name: nft resolves it when loading
                raise AddressError(f"not an IP address: {atom.value!r}")
            if kind == "paren" and value.a is not None:
                return self.address_range(value.a, family)
            if kind == "prefix" and value.a.kind in ("tok", "paren") and value.b.kind == "tok":
                inner = value.a.a.a if value.a.kind == "paren" else value.a.a
                return address(f"{inner.value}/{value.b.a.value}", family)
            if kind == "range":
                low = self.address_range(value.a, family)
                high = self.address_range(value.b, family)
                if low is None or high is None:
                    return None
                if low[0] > high[1]:
                    raise AddressError(f"range start is above its end: {value_text(value)!r}")
                return low[0], high[1]
        except AddressError as exc:
            self.diag("PL011", f"Invalid address: {exc}", value.first)
            return None
        if kind == "tok" or value.first is None:
            return None
        self.diag("PL011", f"Invalid address {value_text(value)!r}", value.first)
        return None

    def ports(self, value: Val, op: str, proto: str, term: Term) -> PortSet | None:
        if value.kind == "empty":
            return PortSet(())
        if op in ("<", "<=", ">", ">="):
            port = self.port_number(value, proto)
            if port is None:
                return None
            bounds = {"<": (0, port - 1), "<=": (0, port), ">": (port + 1, MAX_PORT), ">=": (port, MAX_PORT)}[op]
            if bounds[0] > bounds[1]:
                return PortSet(())
            return PortSet((bounds,))
        if op not in ("==", "!="):
            return None
        elements = self.flatten(value)
        if elements is None:
            return None
        ranges = []
        for element in elements:
            if element.kind == "range":
                low = self.port_number(element.a, proto)
                high = self.port_number(element.b, proto)
                if low is None or high is None:
                    return None
                if low > high:
                    self.diag("PL011", f"Port range start is above its end: {value_text(element)}", element.first)
                    return None
                ranges.append((low, high))
            elif element.kind == "tok" and element.a.value == "*":
                ranges.append((0, MAX_PORT))
            else:
                port = self.port_number(element, proto)
                if port is None:
                    return None
                ranges.append((port, port))
        return PortSet(normalize_ranges(ranges))

    def port_number(self, value: Val, proto: str) -> int | None:
        if value.kind != "tok":
            return None
        atom = value.a
        text = unquote(atom.value)
        if atom.type == "NUM":
            number = number_or_none(text)
            if number is None or number > MAX_PORT:
                self.diag("PL011", f"Invalid port {shown(text)} (ports are 0-65535)", atom)
                return None
            return number
        if atom.type in ("WORD", "STRING"):
            port = netdb.service_port(text, proto if proto in ("tcp", "udp", "sctp", "dccp") else "tcp")
            if port is None:
                self.diag("PL011", f"Unknown service name {text!r}", atom, hint="use a port number")
            return port
        return None

    def protocols(self, value: Val, term: Term) -> frozenset[int] | None:
        if value.kind == "empty":
            return frozenset()
        elements = self.flatten(value)
        if elements is None:
            return None
        out = set()
        for element in elements:
            if element.kind == "range" and element.a.kind == "tok" and element.b.kind == "tok":
                low, high = number_or_none(element.a.a.value), number_or_none(element.b.a.value)
                if low is None or high is None or high > 255:
                    return None
                out.update(range(low, high + 1))
                continue
            if element.kind != "tok" or element.a.type == "VAR":
                return None
            number = netdb.protocol_number(unquote(element.a.value))
            if number is None:
                self.diag("PL011", f"Unknown protocol {element.a.value!r}", element.a)
                return None
            out.add(number)
        return frozenset(out)

    def names(self, value: Val, term: Term, allowed: set | None, what: str) -> list[str] | None:
        if value.kind == "empty":
            return []
        elements = self.flatten(value)
        if elements is None:
            return None
        out = []
        for element in elements:
            if element.kind != "tok" or element.a.type not in ("WORD", "STRING", "NUM"):
                return None
            name = unquote(element.a.value)
            if what == "conntrack state" and name not in allowed and CT_STATE_NUMBER.fullmatch(name):
                # `nft -n list ruleset` writes states as their bits: 0x2 is established.
                bits = int(name, 0)
                named = [state for bit, state in CT_STATE_BITS if bits & bit]
                if named and not bits & ~CT_STATE_ALL:
                    out.extend(named)
                    continue
            if allowed is not None and name not in allowed:
                if what:
                    self.diag("PL011", f"Unknown {what} {name!r}", element.a)
                return None
            out.append(name)
        return out

    # -- maps
    def map_options(self, term: Term) -> list[tuple[list, VerdictSpec]] | None:
        if term.kind == "vmap":
            sel, mapping = term.sel, term.value
            nat = None
        else:
            sel, mapping = term.nat[4]
            nat = term.nat
        if mapping is None or sel is None or sel.masked:
            return None
        if mapping.kind == "group":
            if nat is None and mapping.a.run is not None and len(sel.parts) == 1:
                from linter.frontends.nftables import vmap_runs  # only maps need it

                options = vmap_runs.map_options(self, sel.parts[0], term, mapping.a.run.value)
                if options is not None:
                    return options
            elements = set_elements(mapping.a)
        elif mapping.kind == "ref":
            named = self.lookup_set(mapping.a)
            if named is None:
                return None
            elements = named.elements
        else:
            return None
        catchall: list = []
        entries: list = []  # (the key's values, verdict spec), in the map's order
        from linter.frontends.nftables import vmap_groups  # only maps need it

        too_many = len(elements) > MAX_EXPANSION
        plain_verdicts: dict = {}  # a plain verdict's words: its spec, read once
        if too_many and nat is not None:
            return _TOO_LARGE
        for element in elements:
            if element.data is None:
                continue
            key = element_value(element.key)
            if key is None:
                continue
            if nat is None:
                plain = vmap_groups.plain_verdict_key(element.data)
                spec = plain_verdicts.get(plain) if plain is not None else None
                if spec is None:
                    cursor = Cursor(element.data)
                    if word_of(cursor.peek()) not in VERDICTS:
                        continue
                    spec = cursor.read_verdict().verdict
                    if plain is not None:
                        plain_verdicts[plain] = spec
                if spec.binding is not None:
                    if too_many:
                        return _TOO_LARGE  # before any anonymous chain is made, as for a NAT map
                    spec = VerdictSpec(spec.kind, self.binding_chain(spec.binding))
            else:
                data = Cursor(element.data).read_value(colon=True)
                spec = VerdictSpec(nat[0], options=nat[3])
                if data is not None:
                    addr_val, port_val = data, None
                    if data.kind == "colon":
                        addr_val, port_val = data.a, data.b
                    elif data.kind == "concat" and len(data.a) == 2:
                        addr_val, port_val = data.a
                    spec.to_addresses = self.nat_addresses(addr_val, nat[5])
                    spec.to_ports = self.nat_ports(port_val)
            if key.kind == "tok" and key.a.value == "*":
                catchall.append(([], spec))  # nft tries it after every other element
                continue
            if too_many and key.kind in ("group", "list"):
                return _TOO_LARGE  # opening it may report: not past the budget
            if key.kind in ("group", "list"):
                keys = self.flatten(key)
                if keys is None:
                    return None
            else:
                keys = [key]
            for one in keys:
                if (len(one.a) if one.kind == "concat" else 1) != len(sel.parts):
                    return None
            entries.append((keys, spec))
        options = None
        if nat is None and len(sel.parts) == 1:
            options = vmap_groups.grouped_options(self, sel.parts[0], term, entries)
        if options is None:
            if too_many:
                return _TOO_LARGE
            options = vmap_groups.element_options(self, sel, term, entries)
        options.extend(catchall)
        if not options:
            conj = self.matches_for(sel.parts[0], "==", Val("empty", None), term)
            options.append((conj, VerdictSpec(VerdictKind.CONTINUE)))
        return options

    def nat_addresses(self, value: Val | None, family_word: str | None) -> AddressSet | None:
        if value is None:
            return None
        family = {"ip": Family.IPV4, "ip6": Family.IPV6}.get(family_word or "")
        if family is None and self.family in (Family.IPV4, Family.IPV6):
            family = self.family
        span = self.address_range(value, family)
        if span is None:
            return None
        atom = value.first
        fam = Family.IPV6 if atom is not None and getattr(atom, "type", "") == "COLONADDR" or (
            value.kind == "paren" and value.a is not None and getattr(value.a.first, "type", "") == "COLONADDR"
        ) else Family.IPV4
        if value.kind in ("range", "prefix") and getattr(value.a.first, "type", "") == "COLONADDR":
            fam = Family.IPV6
        return AddressSet(fam, (span,), value_text(value))

    def nat_ports(self, value: Val | None) -> PortSet | None:
        if value is None:
            return None
        if value.kind == "range":
            low = self.port_number(value.a, "tcp")
            high = self.port_number(value.b, "tcp")
            if low is None or high is None or low > high:
                return None
            return PortSet(((low, high),))
        port = self.port_number(value, "tcp")
        return PortSet(((port, port),)) if port is not None else None


_TOO_LARGE: list = []
_PLAIN_ATOMS = frozenset({"IPV4", "COLONADDR", "NUM", "STRING"})


def element_value(key: list) -> Val | None:
    """A set element's key as a value: what ``Cursor(key).read_value(colon=False)`` reads,
    without the cursor for the common one-atom key (an address, a number, a string)."""
    if len(key) == 1:
        atom = key[0]
        if atom.type in _PLAIN_ATOMS:
            return Val("tok", atom, first=atom, last=atom)
    return Cursor(key).read_value(colon=False)


def used_sets(sets: tuple[NamedSet, ...], chains: list[Chain]) -> frozenset[str]:
    """The named sets some rule refers to (``@name`` in its text, as written)."""
    if not sets:
        return frozenset()
    texts = "\n".join(rule.text for chain in chains for rule in chain.rules)
    return frozenset(named.name for named in sets if re.search(r"@" + re.escape(named.name) + r"\b", texts))
