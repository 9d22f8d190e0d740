"""The engine's public face for checks: the questions a check asks, answered in model terms.

Checks import this module and nothing else of the engine (tests/test_layering.py): they never
build boxes, walk chains, read a box's trail or match protocols and ports by hand. Answers are
model-level values: exposures, spans, chains and sorted ``(low, high)`` ranges of ports.

Range arithmetic on those ranges (union, subtract, intersect, size, normalize) is part of the
vocabulary, re-exported from ``intervals``.
"""

from __future__ import annotations

from linter.engine.exposure import (  # noqa: F401  (re-exported vocabulary)
    Decider, Exposure, ExposureAnalysis, NetworkClasses, destinations_text, interfaces_record,
)
from linter.engine.intervals import (  # noqa: F401  (re-exported vocabulary)
    Ranges, contains, full, intersect, normalize, size, subtract, union,
)
from linter.addresses import family_max
from linter.engine.rule_scan import scanned as rule_scan_made  # noqa: F401  (re-exported)
from linter.engine.shadow import ShadowAnalysis, chain_budget as dead_rule_budget  # noqa: F401  (re-exported)
from linter.engine.space import ALL_STATES, Box, replace
from linter.engine.universe import (  # noqa: F401  (OTHER_IFACE, describe_interface re-exported)
    LOOPBACK_IFACE, OTHER_IFACE, describe_interface, initial_boxes, interface_representatives, loopback_ranges,
)
from linter.engine.verdict_kinds import LARGE as LARGE_CHAIN, kinds_of, lacks  # noqa: F401  (re-exported)
from linter.engine.walk import Outcome, Walker, chain_named, unpruned  # noqa: F401  (chain_named re-exported)
from linter.model import (
    Chain, Direction, Family, Hook, Policy, PortMatch, ProtocolMatch, Rule, Ruleset, Span, Table, VerdictKind,
)

__all__ = [
    "Decider", "Exposure", "ExposureAnalysis", "NetworkClasses", "Ranges", "LOOPBACK_IFACE",
    "OTHER_IFACE", "contains", "full", "intersect", "normalize", "size", "subtract", "union",
    "describe_interface", "loopback_ranges",
    "chain_named", "destinations_text", "interfaces_record",
    "exposure_of", "interfaces_of", "internet_accepted", "dropped_by", "drops_forwarded",
    "input_default", "accepts_by_default", "dead_rules_of", "destination_ports", "kinds_of", "lacks", "LARGE_CHAIN",
    "rule_scan_made",
]


def exposure_of(rulesets: list[Ruleset], classes: NetworkClasses, routed_protocols=None) -> ExposureAnalysis:
    """What reaches accept from where, for rulesets that run on one host (the host's own
    connections to itself left out: no check reads them). ``routed_protocols`` (protocol ranges)
    limits the routed path's summary to those protocols."""
    return ExposureAnalysis(rulesets, classes, loopback=False, routed_protocols=routed_protocols)


def interfaces_of(rulesets: list[Ruleset]) -> frozenset[str]:
    """The input interfaces the rules tell apart (each a representative of the interfaces alike)."""
    return interface_representatives(rulesets)


def internet_accepted(analysis: ExposureAnalysis, protocol: int) -> Ranges:
    """Ports of ``protocol`` that new IPv4 connections from the internet reach on the INPUT path."""
    accepted: Ranges = ()
    for exposure in analysis.exposures():
        if exposure.family is Family.IPV4 and exposure.protocol == protocol and exposure.reach == "internet" \
                and not exposure.forwarded:
            accepted = union(accepted, exposure.ports)
    return accepted


def _public_v4(classes: NetworkClasses) -> Ranges:
    return classes.classes(Family.IPV4)[0][1]


def dropped_by(analysis: ExposureAnalysis, classes: NetworkClasses, protocol: int,
               ports: Ranges) -> tuple[Span, str] | None:
    """The rule or policy that drops new IPv4 connections from the internet to ``ports`` of
    ``protocol`` on the INPUT path: (its span, a note saying so), or None."""
    public = _public_v4(classes)
    for result in analysis.results(Family.IPV4):
        if result.verdict not in (Outcome.DROP, Outcome.REJECT) or result.forwarded:
            continue
        if not _concerns(result.box, protocol, ports, public):
            continue
        # A part the walk dropped at once (no later rule could accept it: engine/hull.py) is
        # walked again to find the rule that drops it.
        for box, verdict in unpruned(result.box, result.verdict):
            if verdict in (Outcome.DROP, Outcome.REJECT) and _concerns(box, protocol, ports, public):
                found = _dropping_step(box, verdict)
                if found is not None:
                    return found
    return None


def _concerns(box: Box, protocol: int, ports: Ranges, public: Ranges) -> bool:
    """Whether ``box`` holds new internet connections of ``protocol`` to ``ports``."""
    return contains(box.proto, protocol) and bool(intersect(box.dport, ports)) \
        and bool(box.iif - {LOOPBACK_IFACE}) and bool(intersect(box.src, public))


def _dropping_step(box: Box, verdict: Outcome) -> tuple[Span, str] | None:
    """(span, note) of the rule or policy that dropped ``box``, from its trail."""
    for step in reversed(box.trail):
        if step.event == "rule" and step.rule is not None:
            return step.rule.span, f"{verdict.value}s it: {step.rule.text or 'this rule'}"
        if step.event == "policy":
            return step.chain.span, f"the {step.detail.upper()} policy of {step.table.name} {step.chain.name} drops it"
    return None


def drops_forwarded(chains: list[tuple[Table, Chain]], interfaces: frozenset[str], classes: NetworkClasses,
                    protocol: int, host_ports: Ranges, container: int, container_ports: Ranges) -> bool:
    """Whether one of ``chains`` (a FORWARD-path chain such as DOCKER-USER) drops or rejects
    every new IPv4 connection from the internet to ``host_ports`` that a DNAT sent on to the
    address ``container``, port ``container_ports``."""
    not_loopback = subtract(_full_v4(), loopback_ranges(Family.IPV4))
    packets = Box(Family.IPV4, ((protocol, protocol),), _all_ports(), host_ports, _public_v4(classes),
                  not_loopback, frozenset(interfaces - {LOOPBACK_IFACE}), frozenset({"new"}),
                  local=False, nat_dst=((container, container),), nat_dport=container_ports)
    for table, chain in chains:
        outcomes = Walker().walk(table, chain, [packets])
        if outcomes and all(outcome in (Outcome.DROP, Outcome.REJECT) for _, outcome in outcomes):
            return True
    return False


def _full_v4() -> Ranges:
    return ((0, family_max(Family.IPV4)),)


def _all_ports() -> Ranges:
    return ((0, 65535),)


def input_default(rulesets: list[Ruleset], family: Family) -> tuple[str, Span | None]:
    """('drop' or 'accept', the span that decides) for new ``family`` packets that no rule of
    the input filter chains accepts: a chain whose policy drops, or whose rules leave no packet
    returning to the policy (a final catch-all drop, or drops that together cover everything),
    decides drop."""
    interfaces = interface_representatives(rulesets)
    chains = []
    for ruleset in rulesets:
        for table in ruleset.tables:
            if table.family in (Family.ARP, Family.BRIDGE) or not table.family.covers(family):
                continue
            for chain in table.chains:
                if chain.hook is Hook.INPUT and (chain.type or "filter") == "filter" and (chain.role or "filter") == "filter":
                    chains.append((table, chain))
    if not chains:
        tables = [t for r in rulesets for t in r.tables if t.family.covers(family)]
        return "accept", tables[0].span if tables else None
    for table, chain in chains:
        if not accepts_by_default(table, chain, family, interfaces):
            return "drop", chain.span
    return "accept", chains[0][1].span


def accepts_by_default(table: Table, chain: Chain, family: Family, interfaces: frozenset[str]) -> bool:
    """Whether some packet of ``family`` in any conntrack state that no rule with a match
    accepts is accepted all the same: it meets the end of base chain ``chain`` and its
    accepting policy, or an unconditional accept (reached by unconditional jumps only).
    Rules that may or may not match (opaque matches) let the packet go on, so a chain is said to
    drop by default only when it certainly does."""
    if (chain.policy or Policy.ACCEPT) is not Policy.ACCEPT or _ends_in_catch_all_drop(table, chain):
        return False
    if family not in (Family.IPV4, Family.IPV6):
        return True  # packets the engine does not model (arp): only a catch-all is known to drop them
    space = [replace(b, state=ALL_STATES) for b in initial_boxes(family, interfaces)]
    for box, outcome in Walker().walk(table, chain, space):
        if outcome is Outcome.RETURN:
            return True
        if outcome is Outcome.ACCEPT:
            rules = [step.rule for step in box.trail if step.event == "rule" and step.rule is not None]
            if rules and not any(rule.matches for rule in rules):
                return True
    return False


def dead_rules_of(table: Table, family: Family, interfaces: frozenset[str]) -> ShadowAnalysis:
    """The dead-rule analysis of ``table`` for ``family``: ``.chain(chain)`` gives the indexes of
    its rules no packet reaches (``dead``) and those earlier rules cover (``shadowed``)."""
    return ShadowAnalysis(table, family, interfaces)


def destination_ports(rule: Rule, protocol: int) -> Ranges | None:
    """The destination ports ``rule`` matches for ``protocol``: the ranges of its first
    (non-negated) destination port match, or None when the rule names no destination port or
    names only other protocols."""
    protocols = [m for m in rule.matches if isinstance(m, ProtocolMatch) and not m.negated]
    dports = [m for m in rule.matches if isinstance(m, PortMatch) and m.direction is Direction.DESTINATION
              and not m.negated]
    if not dports:
        return None
    if protocols and not all(protocol in m.protocols for m in protocols):
        return None
    return dports[0].ports.ranges


def _ends_in_catch_all_drop(table: Table, chain: Chain, depth: int = 0) -> bool:
    """Whether the chain's first rule without matches drops or rejects, or is an unconditional
    goto (or jump) to a chain that ends that way: the common case, answered without a walk."""
    if depth > 16:
        return False
    for rule in chain.rules:
        if rule.matches:
            continue
        kind = rule.verdict.kind
        if kind in (VerdictKind.DROP, VerdictKind.REJECT):
            return True
        if kind in (VerdictKind.JUMP, VerdictKind.GOTO):
            target = chain_named(table, rule.verdict.target)
            if target is not None and _ends_in_catch_all_drop(table, target, depth + 1):
                return True
            if kind is VerdictKind.GOTO:
                return False
            continue
        if rule.verdict.terminal:
            return False  # an unconditional accept or return: the default is accept
    return False
