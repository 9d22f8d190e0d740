"""Routed exposure as findings: what new connections from outside reach on the hosts this one
routes to (the filter FORWARD path, ExposureAnalysis.routed_exposures).

The same codes and severities as the host path (PL101, PL201, PL202, PL302, PL401: see
exposure_checks), one finding per cause (the FORWARD rule or policy that admits), whatever
destinations, ports and interfaces it admits, naming the networks ("routed to 10.1.0.0/16");
rules of one chain that open the same ports to one output interface (a VLAN), each to its own
hosts, are one cause: a router with dozens of VLANs and a rule per host gets a finding per VLAN
and kind of opening, not one per host, port and VLAN.

Left to other checks: what a DNAT sent on (the host path reports it as forwarded, and Docker's
published ports get PL220/PL222) and Docker's own chains. Not reported: connections from
internal interfaces to anywhere (a router lets its LAN out: that exposes nobody behind it), and
connections to anywhere (most of the internet) arriving on interfaces nothing says face the
internet: without a MASQUERADE, an SNAT or configuration, an uplink and a VLAN look alike.
"""

from __future__ import annotations

from dataclasses import replace

from linter.addresses import format_range, family_max
from linter.checks import CheckContext, check
from linter.checks.causes import LEVEL_ORDER, Cause, reach_level
from linter.checks.common import LIST_AT_MOST, PORT_TRANSPORTS
from linter.checks.exposure_checks import report_causes
from linter.engine import query
from linter.engine.query import OTHER_IFACE, Exposure, ExposureAnalysis, describe_interface, loopback_ranges
from linter.model import Hook, Ruleset

# Chains Docker writes: what they accept is a published port (a DNAT's, reported on the host
# path and by PL220) or Docker's own isolation; an unconditional DOCKER-USER accept is PL222.
DOCKER_CHAINS = ("DOCKER", "DOCKER-USER", "DOCKER-FORWARD", "DOCKER-BRIDGE", "DOCKER-CT",
                 "DOCKER-INTERNAL", "DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2")
EVERY_PORT = 65535  # 1-65535: a rule's --dport 1:65535 leaves only port 0 out
NAMED_AT_MOST = 3  # destination networks named in a message; the rest are counted



@check("PL101", "PL201", "PL202", "PL302", "PL401", on=Ruleset)
def routed_exposure(ctx: CheckContext) -> None:
    """One finding per FORWARD rule (or policy) that lets new connections from outside reach
    plaintext or risky services, a wide port range or every port on the hosts behind this one."""
    report_causes(ctx, routed_causes(ctx))


def routed_policies(ctx: CheckContext) -> set:
    """Where the forward chain policies are that routed_exposure reports as default accepts
    ((path, line, column)): the host path's hygiene PL401 leaves them out."""
    return {(c.decider.span.path, c.decider.span.line, c.decider.span.column)
            for c in routed_causes(ctx) if c.decider.rule is None and c.decider.hook is Hook.FORWARD
            and c.worst.reach in ("internet", "restricted")}


def routed_causes(ctx: CheckContext) -> list[Cause]:
    """The routed exposures worth a finding, gathered per deciding rule or policy, in file
    order; each cause knows the destinations it admits to (``Cause.routed_to``)."""
    analysis: ExposureAnalysis = ctx.exposure
    # Once per document: the host path's check asks first, the routed check then reports (kept
    # in the context, which CheckContext.walk_read does not empty between the two).
    kept = ctx.memo("routed causes")
    found = kept.get("causes")
    if found is not None:
        return found
    found = kept["causes"] = []
    if not any(analysis.routes(family) for family in analysis.families()):
        return found
    nat_deciders = _NatDeciders(analysis.exposures())
    knows_internet = bool(analysis.roles.internet)
    per_rule: dict[tuple, list[Exposure]] = {}

    def reported(decider) -> bool:
        # Not a DNAT's path, nor Docker's: the host path and the Docker checks report those.
        return id(decider.span) not in nat_deciders and decider.chain not in DOCKER_CHAINS
    for exposure in analysis.routed_exposures(reported):
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        decider = exposure.primary
        if transport is None or exposure.reach not in ("internet", "restricted", "internal"):
            continue
        per_rule.setdefault((decider.span.path, decider.span.line, decider.span.column), []).append(exposure)
    kept = [_towards_networks(per_rule[where], knows_internet) for where in sorted(per_rule)]
    for group in _groups([exposures for exposures in kept if exposures]):
        cause = Cause(group[0][0].primary)
        for exposure in _united([e for exposures in group for e in exposures]):
            cause.add(ctx, exposure, PORT_TRANSPORTS[exposure.protocol])
        cause.routed_to = destinations_phrase(cause) + _rules_phrase(group)
        found.append(cause)
    return found


class _NatDeciders:
    """The spans (by id) of every decider of the host path's forwarded exposures (a DNAT's path),
    gathered only as far as a question needs: a kube-proxy node's 20,000 DNAT exposures are
    asked about one FORWARD accept, which the first of them names (gathered whole, the set cost
    ~30 ms at 100k). A span not among them is answered once every exposure is gathered."""

    __slots__ = ("_left", "_spans")

    def __init__(self, exposures: list[Exposure]):
        self._left = iter(exposures)
        self._spans: set[int] = set()

    def __contains__(self, span_id: int) -> bool:
        spans = self._spans
        if span_id in spans:
            return True
        for exposure in self._left:
            if exposure.forwarded:
                for decider in exposure.deciders:
                    spans.add(id(decider.span))
                if span_id in spans:
                    return True
        return False


def _united(exposures: list[Exposure]) -> list[Exposure]:
    """Exposures with equal family, protocol, reach and ports as one: sources, interfaces and
    destinations united. A finding names them; it does not need the exact products `portlint
    exposure` lists, and judging each product costs a registry look-up."""
    by_key: dict[tuple, list[Exposure]] = {}
    for exposure in exposures:
        by_key.setdefault((exposure.family, exposure.protocol, exposure.reach, exposure.ports, exposure.nat_ports),
                          []).append(exposure)
    united = []
    for same in by_key.values():
        if len(same) == 1:
            united.append(same[0])
            continue
        # One normalisation per dimension: uniting pairwise was quadratic in a router's hosts.
        united.append(replace(same[0], sources=query.normalize(r for e in same for r in e.sources),
                              interfaces=frozenset().union(*(e.interfaces for e in same)),
                              destinations=query.normalize(r for e in same for r in e.destinations),
                              out_interfaces=frozenset().union(*(e.out_interfaces for e in same))))
    return united


def _groups(per_rule: list[list[Exposure]]) -> list[list[list[Exposure]]]:
    """Rules (each given by its exposures) a reviewer signs together: rules of one chain that
    open the same ports (or nearly all of them, tcp or udp alike) to the same output interfaces
    (a VLAN) from the same reach, each to its own hosts, with the same comment; policies stay
    alone. In the order of their first rule."""
    groups: dict[tuple, list[list[Exposure]]] = {}
    for exposures in per_rule:
        decider = exposures[0].primary
        if decider.rule is None:
            groups[("policy", decider.span.path, decider.span.line)] = [exposures]
            continue
        level = min((reach_level(e) for e in exposures), key=LEVEL_ORDER.index)
        widest = [e for e in exposures if reach_level(e) == level]
        ports: dict[int, query.Ranges] = {}
        for exposure in exposures:
            ports[exposure.protocol] = query.union(ports.get(exposure.protocol, ()), exposure.ports)
        # Rules that open every port (1-65535 or 0-65535) are one kind whatever the protocol: a
        # router's "this host is open" pair of tcp and udp rules is one finding. Rules opening
        # most but not all ports stay apart, so a message's "every port" is never rounded up.
        opened = "every" if all(query.size(p) >= EVERY_PORT for p in ports.values()) else tuple(sorted(ports.items()))
        key = (decider.span.path, decider.table, decider.chain, level,
               frozenset().union(*(e.out_interfaces for e in widest)), opened, decider.rule.comment)
        groups.setdefault(key, []).append(exposures)
    return list(groups.values())


def _rules_phrase(group: list[list[Exposure]]) -> str:
    """' by 5 rules (lines 160, 162, 164 and 2 more)' for a group; nothing for one rule."""
    if len(group) == 1:
        return ""
    lines = [str(exposures[0].primary.span.line) for exposures in group]
    listed = ", ".join(lines[:NAMED_AT_MOST]) + (f" and {len(lines) - NAMED_AT_MOST} more" if len(lines) > NAMED_AT_MOST else "")
    return f" by {len(group)} rules (lines {listed})"


def _towards_networks(exposures: list[Exposure], knows_internet: bool) -> list[Exposure]:
    """One rule's (or policy's) exposures without the connections it lets out to anywhere: from
    internal interfaces, or from any interface when nothing says which one is the uplink. Judged
    on what the rule admits as a whole (per family and kind of interface): the rules before it
    split its destinations into pieces, and a piece of "anywhere" is still a way out."""
    parts: dict[tuple, list[Exposure]] = {}
    for exposure in exposures:
        parts.setdefault((exposure.family, exposure.reach == "internal"), []).append(exposure)
    kept = []
    for (family, internal), part in parts.items():
        if internal or not knows_internet:
            reached = query.normalize(r for e in part for r in e.destinations)
            everything = query.size(query.full(family_max(family))) - query.size(loopback_ranges(family))
            if query.size(reached) * 2 >= everything:
                continue  # most of the internet: connections out, not to networks behind this host
        kept.extend(part)
    return kept


def destinations_phrase(cause: Cause) -> str:
    """The destinations of a cause's widest reach, in words: 'any address', '10.1.0.0/16',
    '10.1.0.0/16, 10.3.0.0/16, 10.5.0.0/24 and 4 more networks'."""
    level = reach_level(cause.worst)
    widest = [e for e in cause.exposures if reach_level(e) == level]
    texts: list[str] = []
    for family in sorted({e.family for e in widest}, key=lambda f: f.value):
        ranges = query.normalize(r for e in widest if e.family is family for r in e.destinations)
        everything = query.subtract(query.full(family_max(family)), loopback_ranges(family))
        if query.size(query.subtract(everything, ranges)) == 0:
            if "any address" not in texts:
                texts.insert(0, "any address")
            continue
        texts.extend(format_range(family, lo, hi) for lo, hi in ranges)
    named = ", ".join(texts[:NAMED_AT_MOST])
    if len(texts) > NAMED_AT_MOST:
        named += f" and {len(texts) - NAMED_AT_MOST} more networks"
    if texts == ["any address"]:
        # No destination named: the output interface is what the rule chose (oifname "virbr0").
        out = frozenset().union(*(e.out_interfaces for e in widest))
        if OTHER_IFACE not in out and len(out) <= LIST_AT_MOST:
            named += f" out of {','.join(sorted(describe_interface(i) for i in out))}"
    return named

