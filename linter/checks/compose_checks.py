"""Checks on compose projects: what Docker publishes, and where (PL210, PL211, PL310,
PL411, PL412, PL413).

Severity follows the port registry for the service behind the *container* port
(``"8080:5432"`` publishes PostgreSQL, whatever the host port), with the helpers of
the firewall checks, so a database or the Docker API weighs the same in a ruleset
and in a compose file.

Messages name settings as written (``Publication.shown_host_ip``,
``Service.shown_network_mode``): a value that came from a variable may be a secret.
"""

from __future__ import annotations

from linter.checks import CheckContext, check
from linter.checks.exposure_checks import _ports_text, _registry_severity
from linter.compose_nat import (
    DOCKER_EPHEMERAL, HostAddress, addresses_overlap, host_address, published_ports, publishes,
)
from linter.engine import intervals as iv
from linter.findings import Severity
from linter.model import ComposeProject, Publication, Service


def _text(r) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def container_service(ctx: CheckContext, pub: Publication):
    """(severity, name, plaintext entry or None) of the worst service behind the container ports.

    Severity None means nothing worth reporting (an encrypted service such as HTTPS).
    Container ports the registry does not know count as an unknown service, low.
    """
    found = ctx.registry.overlapping((pub.target,), pub.protocol)
    covered = iv.union((), tuple(r for _, ports in found for r in ports))
    worst = None
    for entry, ports in found:
        if entry.severity is None:
            continue
        severity = _registry_severity(entry)
        if worst is None or severity > worst[0]:
            worst = (severity, entry.name, entry, ports)
    unknown = iv.subtract((pub.target,), covered)
    if unknown and (worst is None or worst[0] < Severity.LOW):
        worst = (Severity.LOW, None, None, unknown)
    return worst


def _service_words(name, entry, ports, proto: str) -> str:
    if name is None:
        return f"Container port {_ports_text(ports)}/{proto} (unknown service)"
    plain = ", a plaintext protocol," if entry is not None and entry.plaintext else ""
    return f"{name} (container port {_ports_text(ports)}/{proto}){plain}"


def _where(address: HostAddress, pub: Publication) -> str:
    if address.scope == "all":
        if address.family is None:
            return "on all interfaces"
        return f"on all {'IPv6' if address.family.value == 'ipv6' else 'IPv4'} interfaces ({pub.shown_host_ip})"
    return f"on the public address {pub.shown_host_ip}"


@check("PL210", on=ComposeProject)
def published_on_all_interfaces(ctx: CheckContext) -> None:
    """Publications bound to every interface (or a public address), weighed by the service behind them."""
    project: ComposeProject = ctx.document
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is None:
                continue  # PL211 reports ports Docker picks itself
            address = host_address(pub.host_ip)
            if address.scope not in ("all", "public"):
                continue
            risk = container_service(ctx, pub)
            if risk is None:
                continue
            severity, name, entry, ports = risk
            if address.scope == "public":
                severity = severity.lowered()
            what = _service_words(name, entry, ports, pub.protocol)
            message = f"{what} of service {service.name} is published {_where(address, pub)} as host port " \
                      f"{_text(pub.published)}"
            hint = (f'Bind it to loopback ("127.0.0.1:{_text(pub.published)}:{_text(pub.target)}") or a private '
                    f"address, or leave the port unpublished and reach it over the compose network")
            if entry is not None and entry.plaintext and entry.alternative:
                hint = f"Use {entry.alternative}, or bind it to 127.0.0.1 or a private address"
            ctx.report("PL210", pub.span, message, severity=severity, hint=hint, proto=pub.protocol,
                       ports=(pub.published,), key=f"{service.name}/{pub.protocol}/{_text(pub.published)}")


@check("PL211", on=ComposeProject)
def ephemeral_host_port(ctx: CheckContext) -> None:
    """Container-only ports ("3000"): Docker picks a random host port on every interface."""
    project: ComposeProject = ctx.document
    lo, hi = DOCKER_EPHEMERAL
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is not None:
                continue
            address = host_address(pub.host_ip)
            if address.scope not in ("all", "public"):
                continue
            risk = container_service(ctx, pub)
            severity = max(Severity.LOW, risk[0]) if risk else Severity.LOW
            what = _service_words(risk[1], risk[2], risk[3], pub.protocol) if risk else \
                f"Container port {_text(pub.target)}/{pub.protocol}"
            ctx.report("PL211", pub.span,
                       f"{what} of service {service.name} has no host port: Docker publishes it on a random "
                       f"port in {lo}-{hi} {_where(address, pub)}",
                       severity=severity, proto=pub.protocol, ports=((lo, hi),),
                       key=f"{service.name}/{pub.protocol}/{_text(pub.target)}",
                       hint=f'Name the host port and address ("127.0.0.1:{pub.target[0]}:{pub.target[0]}"), or use '
                            f"`expose:` if only other containers need it")


@check("PL310", on=ComposeProject)
def host_port_in_ephemeral_range(ctx: CheckContext) -> None:
    """Published host ports inside an ephemeral port range: 'address already in use' at random."""
    project: ComposeProject = ctx.document
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is None:
                continue
            for name, lo, hi in ctx.settings.ephemeral_ranges:
                inside = iv.intersect((pub.published,), ((lo, hi),))
                if not inside:
                    continue
                ctx.report("PL310", pub.span,
                           f"Host port {_ports_text(inside)}/{pub.protocol} of service {service.name} lies inside "
                           f"the ephemeral port range {lo}-{hi} ({name}): an outgoing connection can hold it when "
                           f"the container starts",
                           proto=pub.protocol, ports=inside, key=f"{service.name}/{pub.protocol}/{_ports_text(inside)}/{name}",
                           hint="Publish it below 32768, or reserve it with net.ipv4.ip_local_reserved_ports")
                break


def _profiles_exclusive(a: Service, b: Service) -> bool:
    """Services that only run under different profiles never start together by default."""
    return bool(a.profiles) and bool(b.profiles) and not set(a.profiles) & set(b.profiles)


@check("PL411", on=ComposeProject)
def duplicate_host_port(ctx: CheckContext) -> None:
    """Two publications of the same host address, port and protocol (ranges that overlap count)."""
    project: ComposeProject = ctx.document
    seen: list[tuple[Service, Publication, HostAddress]] = []
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is None:
                continue
            address = host_address(pub.host_ip)
            for other_service, other, other_address in seen:
                if other.protocol != pub.protocol or not iv.intersect((other.published,), (pub.published,)):
                    continue
                if not addresses_overlap(address, other_address) or _profiles_exclusive(service, other_service):
                    continue
                clash = iv.intersect((other.published,), (pub.published,))
                by = "another entry of the same service" if other_service is service else \
                    f"service {other_service.name}"
                ctx.report("PL411", pub.span,
                           f"Host port {_ports_text(clash)}/{pub.protocol} of service {service.name} is also "
                           f"published by {by} (line {other.span.line}): the second one fails to start",
                           proto=pub.protocol, ports=clash,
                           key=f"{service.name}/{pub.protocol}/{_ports_text(clash)}/{other_service.name}",
                           related=((other.span.path, other.span.line, other.span.column,
                                     f"first published here by service {other_service.name}"),),
                           hint="Give each service its own host port, or publish on different addresses")
                break
            seen.append((service, pub, address))


@check("PL412", on=ComposeProject)
def ports_without_publishing(ctx: CheckContext) -> None:
    """`ports:` on a service whose network mode means Docker publishes nothing."""
    project: ComposeProject = ctx.document
    for service in project.services:
        if publishes(service):
            continue
        mode = (service.network_mode or "").strip()
        shown = (service.shown_network_mode or "").strip()  # for messages: as written when interpolated
        for pub in service.publications:
            if pub.exposed_only:
                continue
            if mode.lower() == "host":
                message = (f"ports has no effect with network_mode: host (service {service.name}): the container "
                           f"uses the host's network directly, so this mapping neither restricts nor moves "
                           f"container port {_text(pub.target)}/{pub.protocol}")
                hint = "Remove the ports entry and bind the service itself to the address it should use, " \
                       "or drop network_mode: host"
            elif mode.lower() == "none":
                message = f"ports has no effect with network_mode: none (service {service.name})"
                hint = "Remove the ports entry or the network mode"
            else:
                if service.network_mode_text is None:
                    owner = mode.split(":", 1)[1] if ":" in mode else mode
                else:
                    owner = "the service or container it names"
                message = (f"ports cannot be used with network_mode: {shown} (service {service.name}): "
                           f"Docker refuses to publish ports of a container that uses another's network")
                hint = f"Publish the port on {owner} instead"
            ctx.report("PL412", pub.span, message, proto=pub.protocol, hint=hint,
                       key=f"{service.name}/{pub.protocol}/{_text(pub.target)}")


@check("PL413", on=ComposeProject)
def host_ip_not_address(ctx: CheckContext) -> None:
    """A host IP that is a host name or not an address at all."""
    project: ComposeProject = ctx.document
    for service in project.services:
        for pub in service.publications:
            if pub.exposed_only or pub.host_ip is None:
                continue
            address = host_address(pub.host_ip)
            if address.scope != "invalid":
                continue
            ctx.report("PL413", pub.span,
                       f"Host IP {pub.shown_host_ip!r} of service {service.name} is {address.reason}, not an IP "
                       f"address: Compose refuses it",
                       proto=pub.protocol, key=f"{service.name}/{pub.shown_host_ip}",
                       hint="Use an address: 127.0.0.1 or ::1 for loopback, 0.0.0.0 for every IPv4 interface")
