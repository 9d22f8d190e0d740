"""Compose and the host firewall together: checks over every document of a run.

- PL220: a port compose publishes on all interfaces that the firewall's INPUT path
  drops. Docker's DNAT in nat PREROUTING sends the connection to the container
  through filter FORWARD, so the INPUT drop never sees it.
- PL221: a DOCKER-USER rule that matches a published *host* port that differs from
  the container port. DOCKER-USER runs in FORWARD, after the DNAT: the packet then
  carries the container port, and the rule never matches.
- PL222 (per ruleset): an unconditional ACCEPT in DOCKER-USER, which lets every
  forwarded connection through before Docker's rules and isolation see it.

Both read the engine: the firewall's exposure (its own INPUT path), Docker's path
from compose_nat.compose_as_ruleset, and a walk of DOCKER-USER for the packets
Docker forwards. A compose project is judged against the firewall rulesets in its
directory (up to four, one host's), else against the run's only ruleset (host_firewalls).

Both are about IPv4. A publication without a host address is bound on [::] as well,
so it is reachable over IPv6 too; PL220 does not say so. The host's IPv6 rules are
compared with its IPv4 rules by PL230/PL431 (family_consistency.py); see
docs/compose.md, "IPv6".
"""

from __future__ import annotations

import posixpath

from linter.checks import CheckContext, LintRun, check
from linter.checks.compose_checks import container_service
from linter.checks.exposure_checks import PORT_TRANSPORTS, _ports_text
from linter.compose_nat import (
    CONTAINER_BASE, PROTOCOL_NUMBERS, compose_as_ruleset, host_address, published_ports,
)
from linter.engine import intervals as iv
from linter.engine.exposure import ExposureAnalysis, NetworkClasses
from linter.engine.space import Box
from linter.engine.universe import LOOPBACK_IFACE, interface_representatives
from linter.engine.walk import Outcome, Walker, unpruned
from linter.findings import Severity
from linter.model import ComposeProject, Direction, Family, PortMatch, ProtocolMatch, Ruleset, Table, VerdictKind

DOCKER_USER = "DOCKER-USER"


MAX_HOST_RULESETS = 4  # more firewall files beside one compose file are taken for several hosts


def _firewalls(run: LintRun) -> list[Ruleset]:
    return [d for d in run.of_type(Ruleset) if d.format != "compose"]


def host_firewalls(project: ComposeProject, firewalls: list[Ruleset]) -> list[Ruleset]:
    """The firewall rulesets of the host a compose project runs on: those in the compose file's
    directory (rules.v4 beside docker-compose.yml), else the run's only one. Unrelated
    rulesets are not joined into one imaginary host: a repository of thirty hosts' rules and
    one compose file used to be judged as a single host (and took minutes)."""
    folder = posixpath.dirname(project.path.replace("\\", "/"))
    beside = [f for f in firewalls if posixpath.dirname(f.path.replace("\\", "/")) == folder]
    if beside:
        return beside if len(beside) <= MAX_HOST_RULESETS else []
    return firewalls if len(firewalls) == 1 else []


def _classes(ctx: CheckContext) -> NetworkClasses:
    return ctx.settings.network_classes()


def _internet_accepted(analysis: ExposureAnalysis, protocol: int) -> iv.Ranges:
    """Ports of ``protocol`` that new IPv4 connections from the internet reach on the INPUT path."""
    accepted: iv.Ranges = ()
    for exposure in analysis.exposures():
        if exposure.family is Family.IPV4 and exposure.protocol == protocol and exposure.reach == "internet" \
                and not exposure.forwarded:
            accepted = iv.union(accepted, exposure.ports)
    return accepted


def _public_v4(ctx: CheckContext) -> iv.Ranges:
    return _classes(ctx).classes(Family.IPV4)[0][1]


def _dropped_by(ctx: CheckContext, analysis: ExposureAnalysis, protocol: int, ports: iv.Ranges):
    """The rule or policy that drops new internet connections to ``ports``: (span, note) or None."""
    public = _public_v4(ctx)
    for result in analysis.results(Family.IPV4):
        if result.verdict not in (Outcome.DROP, Outcome.REJECT) or result.forwarded:
            continue
        if not _concerns(result.box, protocol, ports, public):
            continue
        # A part the walk dropped at once (no later rule could accept it) is walked again to
        # find the rule that drops it.
        for box, verdict in unpruned(result.box, result.verdict):
            if verdict in (Outcome.DROP, Outcome.REJECT) and _concerns(box, protocol, ports, public):
                found = _dropping_step(box, verdict)
                if found is not None:
                    return found
    return None


def _concerns(box: Box, protocol: int, ports: iv.Ranges, public: iv.Ranges) -> bool:
    """Whether ``box`` holds new internet connections of ``protocol`` to ``ports``."""
    return iv.contains(box.proto, protocol) and bool(iv.intersect(box.dport, ports)) \
        and bool(box.iif - {LOOPBACK_IFACE}) and bool(iv.intersect(box.src, public))


def _dropping_step(box: Box, verdict: Outcome):
    """(span, note) of the rule or policy that dropped ``box``, from its trail."""
    for step in reversed(box.trail):
        if step.event == "rule" and step.rule is not None:
            return step.rule.span, f"{verdict.value}s it: {step.rule.text or 'this rule'}"
        if step.event == "policy":
            return step.chain.span, f"the {step.detail.upper()} policy of {step.table.name} {step.chain.name} drops it"
    return None


def _docker_user_chains(firewalls: list[Ruleset]) -> list[tuple[Table, object]]:
    found = []
    for ruleset in firewalls:
        for table in ruleset.tables:
            if table.family in (Family.IPV4, Family.INET) and table.chain(DOCKER_USER) is not None:
                found.append((table, table.chain(DOCKER_USER)))
    return found


def _docker_user_blocks(ctx: CheckContext, firewalls, protocol: int, host_ports: iv.Ranges, target, index: int) -> bool:
    """Whether DOCKER-USER drops every new internet connection Docker forwards to this container port."""
    chains = _docker_user_chains(firewalls)
    if not chains:
        return False
    interfaces = interface_representatives(firewalls) - {LOOPBACK_IFACE}
    container = int(CONTAINER_BASE) + index
    everything = iv.full(2**32 - 1)
    box = Box(Family.IPV4, ((protocol, protocol),), iv.full(65535), host_ports, _public_v4(ctx),
              iv.subtract(everything, ((0x7F000000, 0x7FFFFFFF),)), frozenset(interfaces), frozenset({"new"}),
              local=False, nat_dst=((container, container),), nat_dport=(target,))
    for table, chain in chains:
        outcomes = Walker().walk(table, chain, [box])
        if outcomes and all(outcome in (Outcome.DROP, Outcome.REJECT) for _, outcome in outcomes):
            return True
    return False


@check("PL220", on=LintRun)
def docker_bypasses_input_firewall(ctx: CheckContext) -> None:
    """Ports compose publishes on all interfaces while the firewall's INPUT path drops them."""
    run: LintRun = ctx.document
    all_firewalls = _firewalls(run)
    analyses: dict[tuple[int, ...], tuple[ExposureAnalysis, dict[int, iv.Ranges]]] = {}
    for project in run.of_type(ComposeProject):
        firewalls = host_firewalls(project, all_firewalls)
        if not firewalls:
            continue
        key = tuple(id(f) for f in firewalls)
        if key not in analyses:
            analyses[key] = (ExposureAnalysis(firewalls, _classes(ctx), loopback=False), {})
        firewall, accepted = analyses[key]
        if Family.IPV4 not in firewall.families():
            continue
        by_span = {}
        for index, service in enumerate(project.services):
            for pub in published_ports(service):
                by_span[pub.span] = (index, service, pub)
        docker = ExposureAnalysis([compose_as_ruleset(project)], _classes(ctx), loopback=False)
        reported = set()
        for exposure in docker.exposures():
            transport = PORT_TRANSPORTS.get(exposure.protocol)
            if transport is None or not exposure.forwarded or exposure.reach not in ("internet", "restricted"):
                continue
            found = by_span.get(exposure.primary.span)
            if found is None or found[2].span in reported:
                continue
            index, service, pub = found
            if host_address(pub.host_ip).scope not in ("all", "public"):
                continue
            if exposure.protocol not in accepted:
                accepted[exposure.protocol] = _internet_accepted(firewall, exposure.protocol)
            blocked = iv.subtract(exposure.ports, accepted[exposure.protocol])
            if not blocked:
                continue
            if _docker_user_blocks(ctx, firewalls, exposure.protocol, blocked, pub.target, index):
                continue
            reported.add(pub.span)
            dropper = _dropped_by(ctx, firewall, exposure.protocol, blocked)
            related = ()
            where = "the firewall"
            if dropper is not None:
                span, note = dropper
                related = ((span.path, span.line, span.column, note),)
                where = f"the INPUT drop in {span.path}"
            found = container_service(ctx, service, pub)
            # The firewall says closed and Docker opens it: medium at least, more for a risky service.
            severity = max(Severity.MEDIUM, found.severity) if found else Severity.MEDIUM
            name = f"{found.name} " if found and found.name else ""
            ephemeral = " (a random host port)" if pub.published is None else ""
            ctx.report(
                "PL220", pub.span,
                f"Service {service.name} publishes {name}{_ports_text(blocked)}/{transport}{ephemeral} on all "
                f"interfaces, and {where} does not protect it: Docker's DNAT sends it through FORWARD, not INPUT",
                severity=severity, proto=transport, ports=blocked, related=related,
                key=f"{service.name}/{transport}/{_ports_text(blocked)}",
                hint=f"Bind the port to 127.0.0.1 or a private address, or filter it in the DOCKER-USER chain "
                     f"(matching the container port {pub.target[0]})")


@check("PL221", on=LintRun)
def docker_user_matches_host_port(ctx: CheckContext) -> None:
    """DOCKER-USER rules that match a published host port where the container port differs."""
    run: LintRun = ctx.document
    all_firewalls = _firewalls(run)
    for project in run.of_type(ComposeProject):
        publications = [(service, pub) for service in project.services
                        for pub in published_ports(service) if pub.published is not None]
        _docker_user_host_ports(ctx, host_firewalls(project, all_firewalls), publications)


def _docker_user_host_ports(ctx: CheckContext, firewalls: list[Ruleset], publications) -> None:
    for _, chain in _docker_user_chains(firewalls):
        for rule in chain.rules:
            protocols = [m for m in rule.matches if isinstance(m, ProtocolMatch) and not m.negated]
            dports = [m for m in rule.matches if isinstance(m, PortMatch) and m.direction is Direction.DESTINATION
                      and not m.negated]
            if not dports:
                continue
            for service, pub in publications:
                number = PROTOCOL_NUMBERS[pub.protocol]
                if protocols and not all(number in m.protocols for m in protocols):
                    continue
                host = iv.intersect(dports[0].ports.ranges, (pub.published,))
                if not host or pub.published == pub.target or iv.intersect(dports[0].ports.ranges, (pub.target,)):
                    continue
                ctx.report(
                    "PL221", rule.span,
                    f"DOCKER-USER rule matches host port {_ports_text(host)}/{pub.protocol}, but Docker has already "
                    f"rewritten it to container port {_ports_text((pub.target,))} of service {service.name}: "
                    f"the rule never matches that traffic",
                    proto=pub.protocol, ports=host,
                    key=f"{chain.name}/{rule.text or rule.span.line}/{service.name}/{_ports_text(host)}",
                    related=((pub.span.path, pub.span.line, pub.span.column,
                              f"service {service.name} publishes {pub.text or 'it'} here"),),
                    hint=f"Match the container port (--dport {_ports_text((pub.target,))}), or the original port "
                         f"with -m conntrack --ctorigdstport {_ports_text(host)}")


@check("PL222", on=Ruleset)
def docker_user_accepts_everything(ctx: CheckContext) -> None:
    """An unconditional ACCEPT in DOCKER-USER: every forwarded connection is let in before
    Docker's own rules (and its isolation between networks) see it."""
    ruleset: Ruleset = ctx.document
    for table in ruleset.tables:
        chain = table.chain(DOCKER_USER)
        if chain is None or table.family not in (Family.IPV4, Family.IPV6, Family.INET):
            continue
        for rule in chain.rules:
            if rule.matches:
                continue
            if rule.verdict.kind is VerdictKind.ACCEPT:
                ctx.report("PL222", rule.span, key=f"{table.name}/{DOCKER_USER}",
                           hint="End DOCKER-USER with -j RETURN and accept only what you mean to, "
                                "e.g. -A DOCKER-USER -i eth0 -p tcp --dport 443 -j ACCEPT")
            if rule.verdict.terminal or rule.verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO):
                break  # an unconditional verdict ends what the chain can do
