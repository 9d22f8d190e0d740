"""A firewalld configuration (config.Config) as the model Ruleset firewalld's nftables backend
(1.x/2.x) installs: table inet firewalld with filter_INPUT ▸ filter_INPUT_ZONES ▸ filter_IN_<zone>
▸ filter_IN_<zone>_{pre,log,deny,allow,post}, the same shape for forward (filter_FWD_<zone>) and nat
(nat_PRE_<zone>, nat_POST_<zone>). A packet's zone is chosen by its source first, then its input
interface, then the default zone. Each rule's span is the XML element (or command) that made it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linter.addresses import AddressError, parse_address_set
from linter.diagnostics import Diagnostic
from linter.frontends.firewalld.builtin import builtin_services
from linter.frontends.firewalld.config import AddressRef, Config, RichRule, ServiceDef, Zone
from linter.model import (
    AddressMatch, AddressSet, Chain, Direction, Family, Hook, InterfaceMatch, LimitMatch, OpaqueMatch, PortMatch,
    PortSet, Policy, ProtocolMatch, Rule, Ruleset, Span, StateMatch, Statement, Table, Verdict, VerdictKind,
    CtStatusMatch, IPV4_MAX,
)
from linter.frontends.firewalld.render import render
from linter.netdb import protocol_number

FORMAT = "firewalld"
TABLE = "firewalld"
UNKNOWN_SERVICE = "PL072"
UNBOUND_ZONE = "PL073"
MAX_INCLUDE_DEPTH = 32  # services including services: at most this many are followed for one name
ICMP = frozenset({1, 58})
_SUBCHAINS = ("pre", "log", "deny", "allow", "post")
_PORT_PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132, "dccp": 33}
_ACCEPT = Verdict(VerdictKind.ACCEPT)
_DROP = Verdict(VerdictKind.DROP)
_REJECT = Verdict(VerdictKind.REJECT, options=(("with", "icmpx admin-prohibited"),))
_IPV4_ONLY = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, ((0, IPV4_MAX),), "ipv4"))
_IPV6_ONLY = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV6, ((0, 2**128 - 1),), "ipv6"))


def _jump(chain: str, goto: bool = False) -> Verdict:
    return Verdict(VerdictKind.GOTO if goto else VerdictKind.JUMP, target=chain)


def _protocol(name: str) -> ProtocolMatch | None:
    number = _PORT_PROTOCOLS.get(name)
    if number is None:
        number = protocol_number(name) if not name.isdigit() else int(name)
    return ProtocolMatch(frozenset({number}), text=name) if number is not None and 0 <= number <= 255 else None


def _ports(direction: Direction, low: int, high: int) -> PortMatch:
    return PortMatch(direction, PortSet.of((low, high)))


def _address(ref: AddressRef, direction: Direction, ipsets: dict | None = None) -> AddressMatch | OpaqueMatch:
    """A source or destination; an ipset whose definition was read becomes its addresses (one family)."""
    entries = (ipsets or {}).get(ref.ipset) if ref.ipset else None
    try:
        if ref.address is not None:
            return AddressMatch(direction, parse_address_set(ref.address), negated=ref.invert)
        if entries:
            return AddressMatch(direction, parse_address_set(list(entries)), negated=ref.invert)
    except (AddressError, ValueError):
        pass
    word = "saddr" if direction is Direction.SOURCE else "daddr"
    text = f"ether {word} {ref.mac}" if ref.mac else f"ip {word} @{ref.ipset or ref.address}"
    return OpaqueMatch("ipset" if ref.ipset else "mac", text, negated=ref.invert)


@dataclass
class _Chains:
    """The chains being built, in the order firewalld lists them."""

    path: str
    chains: dict[str, list[Rule]] = field(default_factory=dict)
    bases: dict[str, tuple[Hook, str, int]] = field(default_factory=dict)

    def add(self, chain: str, matches, verdict: Verdict, span: Span, statements=(), comment: str | None = None) -> None:
        """Append a rule; its text is the nft firewalld writes for it. ``comment`` says which
        service the rule serves: the evidence a finding names the service by."""
        matches = tuple(m for m in matches if m is not None)
        self.chains.setdefault(chain, []).append(
            Rule(matches, verdict, span, statements=tuple(statements), comment=comment,
                 text=render(matches, verdict, statements)))

    def base(self, chain: str, hook: Hook, kind: str, priority: int) -> None:
        self.bases[chain] = (hook, kind, priority)
        self.chains.setdefault(chain, [])

    def ensure(self, chain: str) -> None:
        self.chains.setdefault(chain, [])

    def table(self, span: Span) -> Table:
        chains = []
        for name, rules in self.chains.items():
            hook, kind, priority = self.bases.get(name, (None, None, None))
            chains.append(Chain(name, tuple(rules), span, hook=hook, type=kind, priority=priority,
                                policy=Policy.ACCEPT if hook is not None else None))
        return Table(TABLE, Family.INET, tuple(chains), span)


class Builder:
    """Turns one Config into a Ruleset. ``focus`` names the zones whose own rules are built: the
    other zones (from sibling files, linted on their own) still take their sources and interfaces
    but end in a reject, so a zone file's findings are only its own."""

    def __init__(self, config: Config, path: str, anchor: Span, focus: set[str] | None = None):
        self.config = config
        self.path = path
        self.anchor = anchor
        self.focus = focus
        self.diagnostics: list[Diagnostic] = []
        self.out = _Chains(path)
        self._services = dict(builtin_services())
        self._services.update(config.services)

    def build(self) -> Ruleset:
        zones = self._zones()
        unreached = self._unreached(zones)
        zones = [zone for zone in zones if zone not in unreached]
        self._input(zones)
        self._forward(zones)
        self._nat(zones)
        return Ruleset(self.path, FORMAT, Family.INET, (self.out.table(self.anchor),))

    def _zones(self) -> list[Zone]:
        zones = list(self.config.zones.values())
        if self.config.default_zone not in self.config.zones:
            from linter.frontends.firewalld.builtin import builtin_zone

            span = self.config.default_zone_span or self.anchor
            default = builtin_zone(self.config.default_zone, span) or Zone(self.config.default_zone, span)
            self.config.zones[default.name] = default
            zones.append(default)
        return zones

    def _focused(self, zone: Zone) -> bool:
        return self.focus is None or zone.name in self.focus

    def _reached(self, zone: Zone) -> bool:
        """Whether any packet can be in ``zone``: it is the default zone or binds an interface or source."""
        return zone.name == self.config.default_zone or bool(zone.interfaces or zone.sources)

    def _unreached(self, zones: list[Zone]) -> list[Zone]:
        """The focused zones no packet reaches: noted (PL073), their services still checked, no chains."""
        found = [zone for zone in zones if self._focused(zone) and not self._reached(zone)]
        for zone in found:
            self.diagnostics.append(Diagnostic(
                UNBOUND_ZONE, f"Zone {zone.name!r} binds no interface or source and is not the default zone "
                              f"({self.config.default_zone}): no packet reaches it", zone.span,
                hint="bind it (<interface name=.../>, <source address=.../>) or set DefaultZone in firewalld.conf"))
            for name, span in zone.services:
                self._service(name, span)
        return found

    # -- zone dispatch: sources first (every zone's), then interfaces, then the default zone
    def _dispatch(self, chain: str, zones: list[Zone], prefix: str, out: bool = False) -> None:
        self.out.ensure(chain)
        for zone in zones:
            for ref, span in zone.sources:
                direction = Direction.DESTINATION if out else Direction.SOURCE
                self.out.add(chain, [_address(ref, direction, self.config.ipsets)],
                             _jump(f"{prefix}_{zone.name}", goto=True), span)
        for zone in zones:
            for name, span in zone.interfaces:
                self.out.add(chain, [InterfaceMatch("out" if out else "in", (name,))],
                             _jump(f"{prefix}_{zone.name}", goto=True), span)
        default = self.config.zones[self.config.default_zone]
        self.out.add(chain, [], _jump(f"{prefix}_{default.name}", goto=True),
                     self.config.default_zone_span or default.span)

    def _zone_chain(self, prefix: str, zone: Zone) -> str:
        chain = f"{prefix}_{zone.name}"
        for part in _SUBCHAINS:
            self.out.add(chain, [], _jump(f"{chain}_{part}"), zone.span)
            self.out.ensure(f"{chain}_{part}")
        return chain

    # -- input
    def _input(self, zones: list[Zone]) -> None:
        out, span = self.out, self.anchor
        out.base("filter_INPUT", Hook.INPUT, "filter", 10)
        out.add("filter_INPUT", [StateMatch(frozenset({"established", "related"}))], _ACCEPT, span)
        out.add("filter_INPUT", [CtStatusMatch(frozenset({"dnat"}), text="ct status dnat")], _ACCEPT, span)
        out.add("filter_INPUT", [InterfaceMatch("in", ("lo",))], _ACCEPT, span)
        out.add("filter_INPUT", [StateMatch(frozenset({"invalid"}))], _DROP, span)
        out.add("filter_INPUT", [], _jump("filter_INPUT_ZONES"), span)
        # firewalld ends filter_INPUT with a reject too, but every zone chain ends in its target, so
        # nothing reaches it: left out, it would only be reported as a dead rule (PL402).
        self._dispatch("filter_INPUT_ZONES", zones, "filter_IN")
        policies = self._policy_chains()
        for zone in zones:
            chain = f"filter_IN_{zone.name}"
            before = [p for p in policies if p.takes(zone.name) and p.priority < 0]
            after = [p for p in policies if p.takes(zone.name) and p.priority > 0]
            for policy in before:
                out.add(chain, [], _jump(f"filter_IN_policy_{policy.name}"), policy.rules.span)
            if not self._focused(zone):
                for policy in after:
                    out.add(chain, [], _jump(f"filter_IN_policy_{policy.name}"), policy.rules.span)
                out.add(chain, [], _REJECT, zone.span)  # the zone's own file decides
                continue
            self._zone_chain("filter_IN", zone)
            self._zone_allows(zone, f"{chain}_allow")
            for rule in zone.rules:
                self._rich(zone, rule, chain)
            for policy in after:
                out.add(chain, [], _jump(f"filter_IN_policy_{policy.name}"), policy.rules.span)
            self._target(chain, zone, forward=False)

    def _policy_chains(self) -> list:
        """Build filter_IN_policy_<name> for the policies whose egress is this host, in priority
        order. A policy of another file (not in focus) keeps only what it drops and rejects: what it
        accepts is reported in its own file. Forwarding policies are not modelled (a PL013 note)."""
        built = []
        for policy in sorted(self.config.policies.values(), key=lambda p: p.priority):
            own = self.focus is None or policy.name in self.focus
            if policy.disabled:
                continue
            if "HOST" not in policy.egress:
                if own:
                    self.diagnostics.append(Diagnostic(
                        "PL013", f"Policy {policy.name!r} does not end at this host (egress-zone HOST): forwarding "
                                 "policies are not modelled yet", policy.rules.span))
                continue
            chain = self._zone_chain("filter_IN_policy", policy.rules)
            if own:
                self._zone_allows(policy.rules, f"{chain}_allow")
            for rule in policy.rules.rules:
                if own or rule.action in ("reject", "drop"):
                    self._rich(policy.rules, rule, chain)
            if own or policy.rules.target != "ACCEPT":
                self._target(chain, policy.rules, forward=False)
            built.append(policy)
        return built

    def _target(self, chain: str, zone: Zone, forward: bool) -> None:
        span = zone.target_span or zone.span
        if zone.target == "ACCEPT":
            self.out.add(chain, [], _ACCEPT, span)
        elif zone.target == "DROP":
            self.out.add(chain, [], _DROP, span)
        elif zone.target == "%%REJECT%%":
            self.out.add(chain, [], _REJECT, span)
        elif zone.target == "default" and not forward:
            # "default": ICMP is let in unless icmp-block-inversion, everything else rejected.
            if not zone.icmp_block_inversion:
                self.out.add(chain, [ProtocolMatch(ICMP, text="{ icmp, ipv6-icmp }")], _ACCEPT, span)
            self.out.add(chain, [], _REJECT, span)
        # CONTINUE (policies) and a forward "default": the caller's rules decide

    def _zone_allows(self, zone: Zone, chain: str) -> None:
        for name, span in zone.services:
            service = self._service(name, span)
            if service is not None:
                self._service_rules(chain, service, [], _ACCEPT, span)
        for spec in zone.ports:
            self.out.add(chain, [_protocol(spec.protocol), _ports(Direction.DESTINATION, spec.low, spec.high)],
                         _ACCEPT, spec.span)
        for name, span in zone.protocols:
            match = _protocol(name)
            if match is None:
                self.diagnostics.append(Diagnostic("PL011", f"Unknown protocol {name!r}", span))
                continue
            self.out.add(chain, [match], _ACCEPT, span)
        for spec in zone.source_ports:
            self.out.add(chain, [_protocol(spec.protocol), _ports(Direction.SOURCE, spec.low, spec.high)],
                         _ACCEPT, spec.span)
        for name, span in zone.icmp_blocks:
            self.out.add(chain.replace("_allow", "_deny"), [ProtocolMatch(ICMP, text="icmp"),
                                                          OpaqueMatch("icmp type", f"icmp type {name}")],
                         _ACCEPT if zone.icmp_block_inversion else _REJECT, span)

    def _service(self, name: str, span: Span) -> list[ServiceDef] | None:
        """The service ``name`` and the services it includes (each keeps its own destination), or
        None with a PL072 when it is not known (an unknown include is reported too)."""
        found: list[ServiceDef] = []
        pending = [name]
        while pending and len(found) < MAX_INCLUDE_DEPTH:
            current = pending.pop(0)
            if any(service.name == current for service in found):
                continue
            service = self._services.get(current)
            if service is None:
                self.diagnostics.append(Diagnostic(
                    UNKNOWN_SERVICE, f"Unknown firewalld service {current!r}"
                                     f"{'' if current == name else f' (included by {name!r})'}: not a built-in "
                                     "service nor defined in services/; what it opens is not known", span,
                    hint="define it in services/<name>.xml next to zones/, or use <port port= protocol=/>"))
                if current == name:
                    return None
                continue
            found.append(service)
            pending.extend(service.includes)
        return found

    def _service_rules(self, chain: str, services: list[ServiceDef], matches: list, verdict: Verdict, span: Span,
                       statements=()) -> None:
        for service in services:
            # The service's name (and a custom one's own words) name what the rule opens.
            comment = f"firewalld service {service.name}" + (f": {service.about}" if service.about else "")
            destinations = [AddressMatch(Direction.DESTINATION, parse_address_set(address))
                            for _family, address in service.destination] or [None]
            for destination in destinations:
                for low, high, protocol in service.ports:
                    self.out.add(chain, [*matches, destination, _protocol(protocol),
                                         _ports(Direction.DESTINATION, low, high)], verdict, span, statements, comment)
                for low, high, protocol in service.source_ports:
                    self.out.add(chain, [*matches, destination, _protocol(protocol),
                                         _ports(Direction.SOURCE, low, high)], verdict, span, statements, comment)
                for protocol in service.protocols:
                    match = _protocol(protocol)
                    if match is not None:
                        self.out.add(chain, [*matches, destination, match], verdict, span, statements, comment)

    # -- rich rules
    def _rich(self, zone: Zone, rule: RichRule, zone_chain: str) -> None:
        element = rule.element
        kind = element[0] if element else None
        if kind in ("masquerade", "forward-port"):
            return  # nat: _nat() places these
        matches: list = []
        if rule.family == "ipv4":
            matches.append(_IPV4_ONLY)
        elif rule.family == "ipv6":
            matches.append(_IPV6_ONLY)
        if rule.source is not None:
            matches.append(_address(rule.source, Direction.SOURCE, self.config.ipsets))
        if rule.destination is not None:
            matches.append(_address(rule.destination, Direction.DESTINATION, self.config.ipsets))
        if rule.priority < 0:
            chains = {"log": f"{zone_chain}_pre", "action": f"{zone_chain}_pre"}
        elif rule.priority > 0:
            chains = {"log": f"{zone_chain}_post", "action": f"{zone_chain}_post"}
        else:
            chains = {"log": f"{zone_chain}_log",
                      "action": f"{zone_chain}_allow" if rule.action == "accept" else f"{zone_chain}_deny"}
        if rule.log or rule.audit:
            self._rich_element(rule, matches, Verdict(VerdictKind.CONTINUE), chains["log"],
                               (Statement("log", "log"),))  # the prefix and level do not change what passes
        if rule.action in ("accept", "reject", "drop"):
            verdict = {"accept": _ACCEPT, "reject": _REJECT, "drop": _DROP}[rule.action]
            limit = [LimitMatch("limit", text="limit")] if rule.limited else []
            self._rich_element(rule, matches + limit, verdict, chains["action"])
        elif kind == "icmp-block":
            self._rich_element(rule, matches, _REJECT, chains["action"].replace("_allow", "_deny"))

    def _rich_element(self, rule: RichRule, matches: list, verdict: Verdict, chain: str, statements=()) -> None:
        element = rule.element
        kind, value = element if element else (None, None)
        if kind == "service":
            service = self._service(value, rule.span)
            if service is not None:
                self._service_rules(chain, service, matches, verdict, rule.span, statements)
            return
        if kind in ("port", "source-port"):
            direction = Direction.DESTINATION if kind == "port" else Direction.SOURCE
            matches = [*matches, _protocol(value.protocol), _ports(direction, value.low, value.high)]
        elif kind == "protocol":
            match = _protocol(value)
            if match is None:
                self.diagnostics.append(Diagnostic("PL011", f"Unknown protocol {value!r}", rule.span))
                return
            matches = [*matches, match]
        elif kind == "icmp-block":
            matches = [*matches, ProtocolMatch(ICMP, text="icmp"), OpaqueMatch("icmp type", f"icmp type {value}")]
        self.out.add(chain, matches, verdict, rule.span, statements)

    # -- forward
    def _forward(self, zones: list[Zone]) -> None:
        out, span = self.out, self.anchor
        out.base("filter_FORWARD", Hook.FORWARD, "filter", 10)
        out.add("filter_FORWARD", [StateMatch(frozenset({"established", "related"}))], _ACCEPT, span)
        out.add("filter_FORWARD", [CtStatusMatch(frozenset({"dnat"}), text="ct status dnat")], _ACCEPT, span)
        out.add("filter_FORWARD", [InterfaceMatch("in", ("lo",))], _ACCEPT, span)
        out.add("filter_FORWARD", [StateMatch(frozenset({"invalid"}))], _DROP, span)
        out.add("filter_FORWARD", [], _jump("filter_FORWARD_ZONES"), span)
        # Reached only from a zone whose target leaves forwarding undecided ("default"); when every zone
        # decides, firewalld's final reject is dead and left out (it would be a PL402).
        if any(self._focused(zone) and zone.target not in ("ACCEPT", "DROP", "%%REJECT%%") for zone in zones):
            out.add("filter_FORWARD", [], _REJECT, span)
        self._dispatch("filter_FORWARD_ZONES", zones, "filter_FWD")
        for zone in zones:
            if not self._focused(zone):
                out.add(f"filter_FWD_{zone.name}", [], _REJECT, zone.span)
                continue
            chain = self._zone_chain("filter_FWD", zone)
            if zone.forward is not None:  # intra-zone forwarding: out through the zone's own interfaces
                for name, _span in zone.interfaces:
                    out.add(f"{chain}_allow", [InterfaceMatch("out", (name,))], _ACCEPT, zone.forward)
                for ref, _span in zone.sources:
                    out.add(f"{chain}_allow", [_address(ref, Direction.DESTINATION, self.config.ipsets)], _ACCEPT,
                            zone.forward)
            self._target(chain, zone, forward=True)

    # -- nat
    def _nat(self, zones: list[Zone]) -> None:
        out, span = self.out, self.anchor
        out.base("nat_PREROUTING", Hook.PREROUTING, "nat", -90)
        out.add("nat_PREROUTING", [], _jump("nat_PREROUTING_ZONES"), span)
        self._dispatch("nat_PREROUTING_ZONES", zones, "nat_PRE")
        out.base("nat_POSTROUTING", Hook.POSTROUTING, "nat", 110)
        out.add("nat_POSTROUTING", [], _jump("nat_POSTROUTING_ZONES"), span)
        self._dispatch("nat_POSTROUTING_ZONES", zones, "nat_POST", out=True)
        for zone in zones:
            pre, post = f"nat_PRE_{zone.name}", f"nat_POST_{zone.name}"
            if not self._focused(zone):
                out.ensure(pre)
                out.ensure(post)
                continue
            self._zone_chain("nat_PRE", zone)
            self._zone_chain("nat_POST", zone)
            for forward in zone.forward_ports:
                self._forward_port(f"{pre}_allow", forward, [])
            if zone.masquerade is not None:
                out.add(f"{post}_allow", [_IPV4_ONLY, InterfaceMatch("out", ("lo",), negated=True)],
                        Verdict(VerdictKind.MASQUERADE), zone.masquerade)
            for rule in zone.rules:
                if rule.element and rule.element[0] in ("forward-port", "masquerade"):
                    matches = [_IPV4_ONLY] if rule.family == "ipv4" else [_IPV6_ONLY] if rule.family == "ipv6" else []
                    if rule.source is not None:
                        matches.append(_address(rule.source, Direction.SOURCE, self.config.ipsets))
                    if rule.destination is not None:
                        matches.append(_address(rule.destination, Direction.DESTINATION, self.config.ipsets))
                    if rule.element[0] == "forward-port":
                        self._forward_port(f"{pre}_allow", rule.element[1], matches)
                    else:
                        out.add(f"{post}_allow", [*matches, InterfaceMatch("out", ("lo",), negated=True)],
                                Verdict(VerdictKind.MASQUERADE), rule.span)

    def _forward_port(self, chain: str, forward, matches: list) -> None:
        ports = [_protocol(forward.protocol), _ports(Direction.DESTINATION, forward.low, forward.high)]
        to_ports = PortSet.of(forward.to_port) if forward.to_port else None
        if forward.to_addr is None:
            self.out.add(chain, [*matches, *ports], Verdict(VerdictKind.REDIRECT, to_ports=to_ports), forward.span)
            return
        target = parse_address_set(forward.to_addr)
        family = _IPV4_ONLY if target.family is Family.IPV4 else _IPV6_ONLY
        self.out.add(chain, [family, *matches, *ports],
                     Verdict(VerdictKind.DNAT, to_addresses=target, to_ports=to_ports,
                             options=(("family", "ip" if target.family is Family.IPV4 else "ip6"),)), forward.span)
