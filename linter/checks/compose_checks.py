"""Checks on compose projects: what Docker publishes, and where (PL101, PL201, PL210,
PL211, PL212, PL310, PL411, PL412, PL413).

The service behind a publication is the image's when the port registry lists the image
(a ``postgres:16`` container is PostgreSQL on any port), else the registry's for the
*container* port (``"8080:5432"`` publishes PostgreSQL, whatever the host port). A
registered service published on all interfaces gets the code and severity a firewall
accept of it gets: plaintext protocols PL101, risky services PL201 (exposure_checks.py);
PL210 is left for container ports the registry does not know.

Messages name settings as written (``Publication.shown_host_ip``,
``Service.shown_network_mode``, ``Service.shown_image``): a value that came from a variable may be a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from linter.checks import CheckContext, check
from linter.checks.common import ports_text, registry_severity
from linter.compose_nat import (
    DOCKER_EPHEMERAL, HostAddress, addresses_overlap, published_ports, publishes,
)
from linter.engine import query
from linter.findings import Severity
from linter.model import ComposeProject, Publication, Service
from linter.service_identity import Identity, identify


def _text(r) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


@dataclass(frozen=True)
class ContainerService:
    """The worst service behind a publication's container ports.

    ``identity.entry`` is None for container ports the registry does not know (an unknown
    service, low). ``severity`` None means nothing worth reporting (HTTPS)."""

    severity: Severity | None
    identity: Identity
    ports: tuple[tuple[int, int], ...]

    @property
    def entry(self):
        return self.identity.entry

    @property
    def name(self) -> str | None:
        return self.identity.name if self.identity.entry is not None or self.identity.from_evidence else None


def container_service(ctx: CheckContext, service: Service, pub: Publication) -> ContainerService | None:
    """What runs behind ``pub``'s container ports: the image's service when the registry lists
    the image (a ``postgres`` container is PostgreSQL on any port, an ``nginx`` one HTTP), else
    the registry entry of each container port, the worst first. None: nothing worth reporting."""
    lo, hi = pub.target
    identity = identify(ctx.registry, lo, pub.protocol, image=service.image)
    if lo == hi or identity.source == "image":
        if identity.entry is None:
            return ContainerService(Severity.LOW, identity, (pub.target,))
        if identity.entry.severity is None:
            return None
        return ContainerService(registry_severity(identity.entry), identity, (pub.target,))
    found = ctx.registry.overlapping((pub.target,), pub.protocol)
    covered = query.union((), tuple(r for _, ports in found for r in ports))
    worst = None
    for entry, ports in found:
        if entry.severity is None:
            continue
        severity = registry_severity(entry)
        if worst is None or severity > worst.severity:
            identity = Identity(entry, entry.name, "port", ports[0][0], pub.protocol, None, entry)
            worst = ContainerService(severity, identity, ports)
    unknown = query.subtract((pub.target,), covered)
    if unknown and (worst is None or worst.severity < Severity.LOW):
        identity = identify(ctx.registry, unknown[0][0], pub.protocol)
        worst = ContainerService(Severity.LOW, identity, unknown)
    return worst


def _service_words(found: ContainerService, proto: str, service) -> str:
    """ "PostgreSQL (image postgres:16, container port 5432/tcp)", "telnet (container port 23/tcp)";
    the image as written (``${REGISTRY}/postgres``), never a variable's value."""
    ports = f"container port {ports_text(found.ports)}/{proto}"
    if found.name is None:
        return f"Container port {ports_text(found.ports)}/{proto} (unknown service)"
    if found.identity.source == "image":
        return f"{found.name} (image {service.shown_image}, {ports})"
    return f"{found.name} ({ports})"


def _where(address: HostAddress, pub: Publication) -> str:
    if address.scope == "all":
        if address.family is None:
            return "on all interfaces"
        return f"on all {address.family.label} interfaces ({pub.shown_host_ip})"
    return f"on the public address {pub.shown_host_ip}"


@check("PL101", "PL201", "PL210", on=ComposeProject)
def published_on_all_interfaces(ctx: CheckContext) -> None:
    """Publications bound to every interface (or a public address). A service the registry
    knows is reported as it is for a firewall that lets it in: plaintext protocols by PL101,
    risky services by PL201; a container port the registry does not know by PL210."""
    project: ComposeProject = ctx.document
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is None:
                continue  # PL211 reports ports Docker picks itself
            address = pub.host
            if address.scope not in ("all", "public"):
                continue
            found = container_service(ctx, service, pub)
            if found is None:
                continue
            severity = found.severity
            if address.scope == "public":
                severity = severity.lowered()
            entry = found.entry
            what = _service_words(found, pub.protocol, service)
            where = f"{_where(address, pub)} as host port {_text(pub.published)}"
            hint = (f'Bind it to loopback ("127.0.0.1:{_text(pub.published)}:{_text(pub.target)}") or a private '
                    f"address, or leave the port unpublished and reach it over the compose network")
            fields = {"what": what, "service": service.name, "where": where,
                      "unencrypted": "; it is also unencrypted" if entry is not None and entry.plaintext else ""}
            if entry is None:
                code = "PL210"
            elif entry.check_kind == "plaintext":
                code = "PL101"
            else:
                code = "PL201"
            if entry is not None and entry.plaintext and entry.alternative:
                hint = f"Use {entry.alternative}, or bind it to 127.0.0.1 or a private address"
            ctx.report(code, pub.span, variant="compose", fields=fields, severity=severity, hint=hint,
                       proto=pub.protocol,
                       ports=(pub.published,), key=f"{service.name}/{pub.protocol}/{_text(pub.published)}")


@check("PL212", on=ComposeProject)
def host_network(ctx: CheckContext) -> None:
    """`network_mode: host`: every port the container listens on is a port of the host."""
    project: ComposeProject = ctx.document
    for service in project.services:
        if (service.network_mode or "").strip().lower() != "host":
            continue
        entries = [e for e in ctx.registry.by_image(service.image)] if service.image else []
        fields = {"service": service.name}
        variant = None
        severity = Severity.LOW  # an image the registry does not know may listen on nothing (fail2ban)
        if entries:
            usual = ", ".join(f"{_usual_ports(entry)} ({entry.display_name})" for entry in entries)
            fields.update(image=service.image, usual=usual)
            variant = "image"
            severities = [registry_severity(e) for e in entries if e.severity is not None]
            severity = max(severities) if severities else Severity.INFO
        ctx.report("PL212", service.network_mode_span or service.span, variant=variant, fields=fields,
                   severity=severity,
                   key=f"{service.name}/host-network",
                   hint='Use bridge networking and publish only the ports needed, bound to an address '
                        '("127.0.0.1:5432:5432")')


def _usual_ports(entry) -> str:
    return ", ".join(f"{entry.ports_text()}/{transport}" for transport in entry.transports)


@check("PL211", on=ComposeProject)
def ephemeral_host_port(ctx: CheckContext) -> None:
    """Container-only ports ("3000"): Docker picks a random host port on every interface."""
    project: ComposeProject = ctx.document
    lo, hi = DOCKER_EPHEMERAL
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is not None:
                continue
            address = pub.host
            if address.scope not in ("all", "public"):
                continue
            found = container_service(ctx, service, pub)
            severity = max(Severity.LOW, found.severity) if found else Severity.LOW
            what = _service_words(found, pub.protocol, service) if found else \
                f"Container port {_text(pub.target)}/{pub.protocol}"
            ctx.report("PL211", pub.span,
                       fields={"what": what, "service": service.name, "range": f"{lo}-{hi}",
                               "where": _where(address, pub)},
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
                inside = query.intersect((pub.published,), ((lo, hi),))
                if not inside:
                    continue
                ctx.report("PL310", pub.span,
                           fields={"ports": ports_text(inside), "proto": pub.protocol, "service": service.name,
                                   "range": f"{lo}-{hi} ({name})"},
                           proto=pub.protocol, ports=inside, key=f"{service.name}/{pub.protocol}/{ports_text(inside)}/{name}",
                           hint="Publish it below 32768, or reserve it with net.ipv4.ip_local_reserved_ports")
                break


def _profiles_exclusive(a: Service, b: Service) -> bool:
    """Services that only run under different profiles never start together by default."""
    return bool(a.profiles) and bool(b.profiles) and not set(a.profiles) & set(b.profiles)


def picks_one_port(pub: Publication) -> bool:
    """ "8000-8010:80": Docker binds one free port of the host range, not all of them."""
    lo, hi = pub.published
    return hi > lo and pub.target[0] == pub.target[1]


@check("PL411", on=ComposeProject)
def duplicate_host_port(ctx: CheckContext) -> None:
    """Two publications of the same host address, port and protocol (ranges that overlap count).

    A host range for one container port ("8000-8010:80") is a choice, not a claim: Docker binds
    the first free port of it, so it clashes only when every port of the range is taken."""
    project: ComposeProject = ctx.document
    fixed: list[tuple[Service, Publication, HostAddress]] = []
    choosers: list[tuple[Service, Publication, HostAddress]] = []
    for service in project.services:
        for pub in published_ports(service):
            if pub.published is None:
                continue
            address = pub.host
            if picks_one_port(pub):
                choosers.append((service, pub, address))
                continue
            for other_service, other, other_address in fixed:
                if not _may_clash(service, pub, address, other_service, other, other_address):
                    continue
                clash = query.intersect((other.published,), (pub.published,))
                by = "another entry of the same service" if other_service is service else \
                    f"service {other_service.name}"
                ctx.report("PL411", pub.span,
                           fields={"ports": ports_text(clash), "proto": pub.protocol, "service": service.name,
                                   "by": by, "line": other.span.line},
                           proto=pub.protocol, ports=clash,
                           key=f"{service.name}/{pub.protocol}/{ports_text(clash)}/{other_service.name}",
                           related=((other.span.path, other.span.line, other.span.column,
                                     f"first published here by service {other_service.name}"),),
                           hint="Give each service its own host port, or publish on different addresses")
                break
            fixed.append((service, pub, address))
    _exhausted_ranges(ctx, fixed, choosers)


def _may_clash(service, pub, address, other_service, other, other_address) -> bool:
    return (other.protocol == pub.protocol and bool(query.intersect((other.published,), (pub.published,)))
            and addresses_overlap(address, other_address) and not _profiles_exclusive(service, other_service))


def _exhausted_ranges(ctx: CheckContext, fixed, choosers) -> None:
    """Host ranges whose every port another publication holds: Docker finds none free."""
    picked: list[tuple[Service, Publication, HostAddress]] = []
    for service, pub, address in choosers:
        holders = [(s, p, a, p.published) for s, p, a in fixed if _may_clash(service, pub, address, s, p, a)]
        holders += [(s, p, a, p.published) for s, p, a in picked if _may_clash(service, pub, address, s, p, a)]
        taken = query.union((), tuple(ports for *_, ports in holders))
        free = query.subtract((pub.published,), taken)
        if free:
            port = free[0][0]
            picked.append((service, replace(pub, published=(port, port)), address))
            continue
        others = sorted({s.name for s, *_ in holders if s is not service})
        by = " and ".join(filter(None, [
            ("service " if len(others) == 1 else "services ") + ", ".join(others) if others else "",
            "other entries of the same service" if any(s is service for s, *_ in holders) else ""]))
        ctx.report("PL411", pub.span, variant="exhausted",
                   fields={"ports": _text(pub.published), "proto": pub.protocol, "service": service.name, "by": by},
                   proto=pub.protocol, ports=(pub.published,),
                   key=f"{service.name}/{pub.protocol}/{_text(pub.published)}/exhausted",
                   related=tuple((p.span.path, p.span.line, p.span.column, f"service {s.name} holds {_text(ports)}")
                                 for s, p, _, ports in holders),
                   hint="Widen the range, or give the other services ports outside it")


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
            fields = {"service": service.name, "port": _text(pub.target), "proto": pub.protocol, "mode": shown}
            if mode.lower() == "host":
                variant = "host"
                hint = "Remove the ports entry and bind the service itself to the address it should use, " \
                       "or drop network_mode: host"
            elif mode.lower() == "none":
                variant = "none"
                hint = "Remove the ports entry or the network mode"
            else:
                if service.network_mode_text is None:
                    owner = mode.split(":", 1)[1] if ":" in mode else mode
                else:
                    owner = "the service or container it names"
                variant = "shared"
                hint = f"Publish the port on {owner} instead"
            ctx.report("PL412", pub.span, variant=variant, fields=fields, proto=pub.protocol, hint=hint,
                       key=f"{service.name}/{pub.protocol}/{_text(pub.target)}")


@check("PL413", on=ComposeProject)
def host_ip_not_address(ctx: CheckContext) -> None:
    """A host IP that is a host name, empty (`host_ip: ""`) or not an address at all."""
    project: ComposeProject = ctx.document
    for service in project.services:
        for pub in service.publications:
            if pub.exposed_only or pub.host_ip is None:
                continue
            address = pub.host
            if address.scope != "invalid":
                continue
            ctx.report("PL413", pub.span,
                       fields={"host_ip": pub.shown_host_ip, "service": service.name, "reason": address.reason},
                       proto=pub.protocol, key=f"{service.name}/{pub.shown_host_ip}",
                       hint="Remove host_ip to publish on every interface, or use an address: 127.0.0.1 or ::1 "
                            "for loopback" if address.reason == "empty" else
                       "Use an address: 127.0.0.1 or ::1 for loopback, 0.0.0.0 for every IPv4 interface")
