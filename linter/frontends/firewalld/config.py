"""A firewalld configuration as plain data: what zone, service and policy files (or
firewall-cmd commands) say, before it becomes a model Ruleset (build.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from linter.model import Span

DEFAULT_ZONE = "public"  # the distributions' firewalld.conf DefaultZone
TARGETS = ("default", "ACCEPT", "DROP", "%%REJECT%%", "REJECT", "CONTINUE")
POLICY_TARGETS = ("CONTINUE", "ACCEPT", "DROP", "REJECT")


@dataclass(frozen=True)
class PortSpec:
    """``port`` "22" or "60000-61000" (already checked), ``protocol`` tcp/udp/sctp/dccp."""

    low: int
    high: int
    protocol: str
    span: Span


@dataclass(frozen=True)
class ForwardPort:
    """``<forward-port port= protocol= to-port= to-addr=>``: a DNAT (to-addr) or a local redirect."""

    low: int
    high: int
    protocol: str
    to_port: tuple[int, int] | None
    to_addr: str | None
    span: Span


@dataclass(frozen=True)
class AddressRef:
    """A rich rule's or zone's source/destination: an address, a MAC, or an ipset (opaque)."""

    address: str | None = None
    mac: str | None = None
    ipset: str | None = None
    invert: bool = False


@dataclass(frozen=True)
class RichRule:
    """One rich rule (an XML ``<rule>`` or a ``--add-rich-rule`` string), fields as firewalld names them.

    ``element`` is what the rule matches: ("service", name), ("port", PortSpec), ("protocol", name),
    ("source-port", PortSpec), ("icmp-block", name), ("masquerade", None), ("forward-port", ForwardPort)
    or None (everything). ``action`` accept/reject/drop/mark or None (log/audit only).
    """

    span: Span
    family: str | None = None
    priority: int = 0
    source: AddressRef | None = None
    destination: AddressRef | None = None
    element: tuple[str, object] | None = None
    log: bool = False
    audit: bool = False
    action: str | None = None
    limited: bool = False  # the action has a <limit>
    text: str = ""


@dataclass
class Zone:
    """One zone; each list keeps where every entry was declared."""

    name: str
    span: Span
    target: str = "default"
    target_span: Span | None = None
    interfaces: list[tuple[str, Span]] = field(default_factory=list)
    sources: list[tuple[AddressRef, Span]] = field(default_factory=list)
    services: list[tuple[str, Span]] = field(default_factory=list)
    ports: list[PortSpec] = field(default_factory=list)
    protocols: list[tuple[str, Span]] = field(default_factory=list)
    source_ports: list[PortSpec] = field(default_factory=list)
    icmp_blocks: list[tuple[str, Span]] = field(default_factory=list)
    icmp_block_inversion: bool = False
    forward_ports: list[ForwardPort] = field(default_factory=list)
    masquerade: Span | None = None
    forward: Span | None = None
    rules: list[RichRule] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceDef:
    """A service: its ports, protocols and destination limits (built-in or a custom XML file)."""

    name: str
    ports: tuple[tuple[int, int, str], ...] = ()
    protocols: tuple[str, ...] = ()
    source_ports: tuple[tuple[int, int, str], ...] = ()
    destination: tuple[tuple[str, str], ...] = ()  # (family "ipv4"/"ipv6", address)
    includes: tuple[str, ...] = ()
    span: Span | None = None
    about: str = ""  # a custom service's <short> and <description>: what the file says it is


@dataclass
class PolicyDef:
    """A policy (firewalld >= 0.9): what it allows, as a zone holds it, between its ingress and egress
    zones ("ANY", "HOST" or zone names), at ``priority`` (< 0: before the zones' own rules)."""

    rules: Zone
    priority: int = -1
    ingress: list[str] = field(default_factory=list)
    egress: list[str] = field(default_factory=list)
    disabled: bool = False  # <disable/> (firewalld >= 2.2): shipped but not in effect

    @property
    def name(self) -> str:
        return self.rules.name

    def takes(self, zone: str) -> bool:
        """Whether packets arriving in ``zone`` for this host pass through this policy."""
        return not self.disabled and "HOST" in self.egress and ("ANY" in self.ingress or zone in self.ingress)


@dataclass
class Config:
    """Zones by name, custom services by name, the default zone and where it was set."""

    zones: dict[str, Zone] = field(default_factory=dict)
    services: dict[str, ServiceDef] = field(default_factory=dict)
    default_zone: str = DEFAULT_ZONE
    default_zone_span: Span | None = None
    policies: dict[str, PolicyDef] = field(default_factory=dict)
    ipsets: dict[str, tuple[str, ...]] = field(default_factory=dict)  # address entries of ipsets/<name>.xml

    def zone(self, name: str, span: Span) -> Zone:
        """The zone called ``name``, created (empty, as firewall-cmd would find it) when new."""
        if name not in self.zones:
            self.zones[name] = Zone(name, span)
        return self.zones[name]
