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
from linter.checks.common import PORT_TRANSPORTS, TRANSPORT_NUMBERS, ports_text
from linter.compose_nat import (
    CONTAINER_BASE, compose_as_ruleset, published_ports,
)
from linter.engine import query
from linter.engine.query import ExposureAnalysis, NetworkClasses
from linter.findings import Severity
from linter.model import ComposeProject, Family, Ruleset, Table, VerdictKind

DOCKER_USER = "DOCKER-USER"


MAX_HOST_RULESETS = 4  # more firewall files beside one compose file are taken for several hosts


def _firewalls(run: LintRun) -> list[Ruleset]:
    return [d for d in run.of_type(Ruleset) if d.loader != "docker"]


def host_firewalls(project: ComposeProject, firewalls: list[Ruleset]) -> list[Ruleset]:
    """The firewall rulesets of the host a compose project runs on: those in the compose file's
    directory (rules.v4 beside docker-compose.yml), else the run's only one. Unrelated
    rulesets are not joined into one imaginary host: a repository of thirty hosts' rules and
    one compose file used to be judged as a single host (and took minutes). A script's own
    firewall comes first: the ruleset of the script whose docker run commands made the project."""
    own = [f for f in firewalls if f.path == project.path]
    if own:
        return own
    folder = posixpath.dirname(project.path.replace("\\", "/"))
    beside = [f for f in firewalls if posixpath.dirname(f.path.replace("\\", "/")) == folder]
    if beside:
        return beside if len(beside) <= MAX_HOST_RULESETS else []
    return firewalls if len(firewalls) == 1 else []


def _classes(ctx: CheckContext) -> NetworkClasses:
    return ctx.settings.network_classes()


def _docker_user_chains(firewalls: list[Ruleset]) -> list[tuple[Table, object]]:
    found = []
    for ruleset in firewalls:
        for table in ruleset.tables:
            if table.family in (Family.IPV4, Family.INET) and table.chain(DOCKER_USER) is not None:
                found.append((table, table.chain(DOCKER_USER)))
    return found


def _docker_user_blocks(ctx: CheckContext, firewalls, protocol: int, host_ports: query.Ranges, target, index: int) -> bool:
    """Whether DOCKER-USER drops every new internet connection Docker forwards to this container port."""
    chains = _docker_user_chains(firewalls)
    if not chains:
        return False
    return query.drops_forwarded(chains, query.interfaces_of(firewalls), _classes(ctx), protocol, host_ports,
                                 int(CONTAINER_BASE) + index, (target,))


@check("PL220", on=LintRun)
def docker_bypasses_input_firewall(ctx: CheckContext) -> None:
    """Ports compose publishes on all interfaces while the firewall's INPUT path drops them."""
    run: LintRun = ctx.document
    all_firewalls = _firewalls(run)
    analyses: dict[tuple[int, ...], tuple[ExposureAnalysis, dict[int, query.Ranges]]] = {}
    for project in run.of_type(ComposeProject):
        firewalls = host_firewalls(project, all_firewalls)
        if not firewalls:
            continue
        key = tuple(id(f) for f in firewalls)
        if key not in analyses:
            analyses[key] = (query.exposure_of(firewalls, _classes(ctx)), {})
        firewall, accepted = analyses[key]
        if Family.IPV4 not in firewall.families():
            continue
        by_span = {}
        for index, service in enumerate(project.services):
            for pub in published_ports(service):
                by_span[pub.span] = (index, service, pub)
        docker = query.exposure_of([compose_as_ruleset(project)], _classes(ctx))
        reported = set()
        for exposure in docker.exposures():
            transport = PORT_TRANSPORTS.get(exposure.protocol)
            if transport is None or not exposure.forwarded or exposure.reach not in ("internet", "restricted"):
                continue
            found = by_span.get(exposure.primary.span)
            if found is None or found[2].span in reported:
                continue
            index, service, pub = found
            if pub.host.scope not in ("all", "public"):
                continue
            if exposure.protocol not in accepted:
                accepted[exposure.protocol] = query.internet_accepted(firewall, exposure.protocol)
            blocked = query.subtract(exposure.ports, accepted[exposure.protocol])
            if not blocked:
                continue
            if _docker_user_blocks(ctx, firewalls, exposure.protocol, blocked, pub.target, index):
                continue
            reported.add(pub.span)
            dropper = query.dropped_by(firewall, _classes(ctx), exposure.protocol, blocked)
            related = ()
            where = "the firewall"
            if dropper is not None:
                span, note = dropper
                related = ((span.path, span.line, span.column, note),)
                where = f"the INPUT drop in {span.path}"
            found = container_service(ctx, service, pub)
            # The firewall says closed and Docker opens it: medium at least, more for a risky service.
            severity = max(Severity.MEDIUM, found.severity) if found else Severity.MEDIUM
            ctx.report(
                "PL220", pub.span,
                fields={"service": service.name, "name": f"{found.name} " if found and found.name else "",
                        "ports": ports_text(blocked), "proto": transport,
                        "ephemeral": " (a random host port)" if pub.published is None else "", "where": where},
                severity=severity, proto=transport, ports=blocked, related=related,
                key=f"{service.name}/{transport}/{ports_text(blocked)}",
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
            for service, pub in publications:
                matched = query.destination_ports(rule, TRANSPORT_NUMBERS[pub.protocol])
                if matched is None:
                    continue
                host = query.intersect(matched, (pub.published,))
                if not host or pub.published == pub.target or query.intersect(matched, (pub.target,)):
                    continue
                ctx.report(
                    "PL221", rule.span,
                    fields={"ports": ports_text(host), "proto": pub.protocol,
                            "container_port": ports_text((pub.target,)), "service": service.name},
                    proto=pub.protocol, ports=host,
                    key=f"{chain.name}/{rule.text or rule.span.line}/{service.name}/{ports_text(host)}",
                    related=((pub.span.path, pub.span.line, pub.span.column,
                              f"service {service.name} publishes {pub.text or 'it'} here"),),
                    hint=f"Match the container port (--dport {ports_text((pub.target,))}), or the original port "
                         f"with -m conntrack --ctorigdstport {ports_text(host)}")


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
