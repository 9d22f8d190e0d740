"""Compose publications seen the way Docker and the engine see them.

- ``Publication.host`` (resolved by the compose front end, linter/frontends/compose/host_scope.py):
  what a publication's host IP means (all interfaces, loopback, a private or public address,
  or not an address at all); ``addresses_overlap`` compares two;
- ``compose_as_ruleset``: the rules Docker installs for a project's published ports
  (bridge networking, iptables): a DNAT in the nat table's PREROUTING chain for each
  publication (the same DNATs in nat OUTPUT for the host's own connections), and an
  accept in filter FORWARD for the container behind it. Packets
  to a published port therefore go PREROUTING → FORWARD and never meet filter INPUT.
  The engine can evaluate this ruleset like any other; every rule's span is the
  compose port entry it stands for, and its comment names the service and its image
  (``image_of``), so a check can identify the service by the image.

Only IPv4 is modelled: Docker's IPv6 NAT exists only when the daemon enables it,
and containers get placeholder addresses (172.17.0.2, .3, ... one per service)
because the real ones are known only at run time.
"""

from __future__ import annotations

import ipaddress

from linter.netdb import TRANSPORT_NUMBERS
from linter.model import (
    AddressMatch, AddressSet, AddrTypeMatch, Chain, ComposeProject, Direction, Family, HostAddress, Hook, Policy, PortMatch,
    PortSet, ProtocolMatch, Publication, Rule, Ruleset, Service, Span, Table, Verdict, VerdictKind,
)

DOCKER_EPHEMERAL = (32768, 60999)  # the kernel's default ip_local_port_range, which Docker allocates from
EPHEMERAL_MARK = "portlint:ephemeral-host-port"
IMAGE_MARK = ", image "  # generated rules' comments: "compose service db, image postgres:16"
CONTAINER_BASE = ipaddress.IPv4Address("172.17.0.2")
PAIRWISE_LIMIT = 256  # ranges up to this size get one DNAT per port, as Docker installs them


def addresses_overlap(a: HostAddress, b: HostAddress) -> bool:
    """Whether two host IPs can clash on a port: the same address, or one is a wildcard
    of the other's family (no host IP is both 0.0.0.0 and [::])."""
    if a.scope == "invalid" or b.scope == "invalid":
        return a.text == b.text
    if a.scope == "all" and a.family is None or b.scope == "all" and b.family is None:
        return True
    if a.family is not b.family:
        return False
    if a.scope == "all" or b.scope == "all":
        return True
    return a.value == b.value


def publishes(service: Service) -> bool:
    """Whether Docker publishes this service's ports at all (not with host, none, service: or container: networking)."""
    mode = (service.network_mode or "").strip().lower()
    return not (mode in ("host", "none") or mode.startswith(("service:", "container:")))


def published_ports(service: Service) -> list[Publication]:
    """The publications Docker maps to host ports: no `expose:` entries, none under host networking."""
    if not publishes(service):
        return []
    return [p for p in service.publications if not p.exposed_only]


def host_ports(pub: Publication) -> tuple[int, int]:
    """The host ports a publication may take: its own, or Docker's ephemeral range."""
    return pub.published if pub.published is not None else DOCKER_EPHEMERAL


def is_ephemeral(rule: Rule) -> bool:
    """Whether a rule of compose_as_ruleset stands for a publication with no host port."""
    return (rule.comment or "").startswith(EPHEMERAL_MARK)


def image_of(rule: Rule) -> str | None:
    """The image of the compose service a rule of compose_as_ruleset stands for (for
    ``service_identity.identify(..., image=...)``), None when the service names none."""
    comment = rule.comment or ""
    return comment.split(IMAGE_MARK, 1)[1] if IMAGE_MARK in comment else None


def container_address(index: int) -> str:
    return str(CONTAINER_BASE + index)


def _ports_text(lo: int, hi: int, sep: str = "-") -> str:
    return str(lo) if lo == hi else f"{lo}{sep}{hi}"


def compose_as_ruleset(project: ComposeProject) -> Ruleset:
    """The iptables rules Docker installs for ``project``'s published ports (IPv4)."""
    path = project.path
    top = Span(path, 1, 1)
    dnat_rules: list[Rule] = []
    accept_rules: list[Rule] = []
    for index, service in enumerate(project.services):
        container = container_address(index)
        container_set = AddressSet(Family.IPV4, ((int(CONTAINER_BASE) + index,) * 2,), container)
        for pub in published_ports(service):
            where = pub.host
            if where.scope == "invalid" or where.family is Family.IPV6:
                continue
            proto = TRANSPORT_NUMBERS[pub.protocol]
            comment = f"{EPHEMERAL_MARK} compose service {service.name}" if pub.published is None \
                else f"compose service {service.name}"
            if service.image:
                # As written: a variable's value (a private registry, a token) never enters the model.
                comment += f"{IMAGE_MARK}{service.shown_image}"
            base: list = [ProtocolMatch(frozenset({proto}), text=pub.protocol)]
            if where.scope == "all":
                base.insert(0, AddrTypeMatch(Direction.DESTINATION, frozenset({"LOCAL"})))
            else:
                base.insert(0, AddressMatch(Direction.DESTINATION, AddressSet(
                    Family.IPV4, ((where.value, where.value),), pub.shown_host_ip)))
            lo, hi = host_ports(pub)
            t_lo, t_hi = pub.target
            if hi - lo == t_hi - t_lo and 0 < hi - lo < PAIRWISE_LIMIT:
                pairs = [((p, p), (t_lo + p - lo, t_lo + p - lo)) for p in range(lo, hi + 1)]
            else:
                pairs = [((lo, hi), (t_lo, t_hi))]
            for (h_lo, h_hi), (c_lo, c_hi) in pairs:
                dport = PortMatch(Direction.DESTINATION, PortSet(((h_lo, h_hi),)))
                destination = "" if where.scope == "all" else f"-d {pub.shown_host_ip}/32 "
                text = (f"-A PREROUTING {destination}-p {pub.protocol} --dport {_ports_text(h_lo, h_hi, ':')} "
                        f"-j DNAT --to-destination {container}:{_ports_text(c_lo, c_hi)}")
                dnat_rules.append(Rule(
                    tuple(base) + (dport,),
                    Verdict(VerdictKind.DNAT, to_addresses=container_set, to_ports=PortSet(((c_lo, c_hi),))),
                    pub.span, comment=comment, text=text))
            accept_rules.append(Rule(
                (AddressMatch(Direction.DESTINATION, container_set), ProtocolMatch(frozenset({proto}), text=pub.protocol),
                 PortMatch(Direction.DESTINATION, PortSet((pub.target,)))),
                Verdict(VerdictKind.ACCEPT), pub.span, comment=comment,
                text=f"-A DOCKER -d {container}/32 -p {pub.protocol} --dport {_ports_text(t_lo, t_hi, ':')} -j ACCEPT"))
    nat = Table("nat", Family.IPV4, (
        Chain("PREROUTING", tuple(dnat_rules), top, hook=Hook.PREROUTING, type="nat", priority=-100,
              policy=Policy.ACCEPT, role="nat"),
        # Connections the host makes to its own published ports take their DNAT in nat OUTPUT.
        Chain("OUTPUT", tuple(dnat_rules), top, hook=Hook.OUTPUT, type="nat", priority=-100,
              policy=Policy.ACCEPT, role="nat"),
    ), top)
    jump = Rule((), Verdict(VerdictKind.JUMP, target="DOCKER"), top, text="-A FORWARD -j DOCKER")
    filter_table = Table("filter", Family.IPV4, (
        Chain("FORWARD", (jump,), top, hook=Hook.FORWARD, type="filter", priority=0, policy=Policy.DROP,
              role="filter"),
        Chain("DOCKER", tuple(accept_rules), top, role="filter"),
    ), top)
    return Ruleset(path=path, format="compose", family=Family.IPV4, tables=(nat, filter_table), loader="docker",
                   restrict_example="-s 10.0.0.0/8", generator="docker")
