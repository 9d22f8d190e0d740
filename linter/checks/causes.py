"""A cause: everything one rule (or policy) lets in, rated per service and reach; what the
exposure checks (exposure_checks.py, routed_checks.py) report one finding for."""

from __future__ import annotations

import re

from linter.checks import CheckContext
from linter.checks.common import WIDE_PORTS, registry_severity
from linter.checks.generators import convention, generator_of
from linter.engine import query
from linter.engine.memo import IdentityCache
from linter.engine.query import Exposure
from linter.findings import Severity
from linter.model import Family
from linter.service_identity import identify, identify_range

def service_ports(exposure: Exposure) -> query.Ranges:
    """The ports of the services a connection reaches: after DNAT or REDIRECT, the new ones."""
    return exposure.nat_ports if exposure.nat_ports else exposure.ports


def _services_behind(ctx: CheckContext, exposure: Exposure, transport: str):
    """Registry entries for the service a connection reaches, and the ports a client uses for it:
    the service's own ports, or the published ports when a NAT moved one service elsewhere
    (2222 redirected to 22 is ssh on 2222)."""
    behind = service_ports(exposure)
    found = ctx.registry.overlapping(behind, transport)
    if behind is not exposure.ports and behind != exposure.ports and len(found) == 1:
        return [(found[0][0], exposure.ports)]
    return found


# Reach counts addresses: a handful of public addresses is an admin host, a /8 or more is the
# internet; in between, some public networks.
ADMIN_HOSTS_AT_MOST = {Family.IPV4: 16, Family.IPV6: 16 * 2**64}
INTERNET_AT_LEAST = {Family.IPV4: 2**24, Family.IPV6: 2**104}
# (INTERNET_AT_LEAST, ADMIN_HOSTS_AT_MOST) of IPv6, and of IPv4 and any other family.
_IPV6_THRESHOLDS = (INTERNET_AT_LEAST[Family.IPV6], ADMIN_HOSTS_AT_MOST[Family.IPV6])
_IPV4_THRESHOLDS = (INTERNET_AT_LEAST[Family.IPV4], ADMIN_HOSTS_AT_MOST[Family.IPV4])
RANGE_AT_LEAST = 10  # ports in a row that make a deliberate range (25565:25575, 8510:8519)
MOST_OF_THE_PORTS = 32768  # a range this wide is "everything", judged like a default accept


def reach_level(exposure: Exposure) -> str:
    """internet, networks (some public ranges), admin (a handful of addresses) or internal."""
    if exposure.reach == "internal":
        return "internal"
    if exposure.reach != "restricted":
        return "internet"
    # Asked several times per exposure (each cause's worst, its message, its key): a long source
    # list is sized once (a short one costs less to size than to remember).
    short = len(exposure.sources) <= 8
    level = None if short else _RESTRICTED_LEVELS.get(exposure)
    if level is None:
        level = level_of_size(query.size(exposure.sources), exposure.family)
        if not short:
            _RESTRICTED_LEVELS.put(exposure, level)
    return level


_RESTRICTED_LEVELS: IdentityCache[str] = IdentityCache()


def level_of_size(size: int, family: Family) -> str:
    """The level (reach_level) of public sources of ``size`` addresses of ``family``."""
    # The thresholds by identity: a Family hashes in Python (an allow-list asks 100,000 times).
    internet_at, admin_at = _IPV6_THRESHOLDS if family is Family.IPV6 else _IPV4_THRESHOLDS
    if size >= internet_at:
        return "internet"
    if size <= admin_at:
        return "admin"
    return "networks"


def calibrated(severity: Severity, level: str) -> Severity:
    """A service's severity for the reach it has: the internet as the registry says, some public
    networks one step lower, an admin host or an internal network low at most."""
    if level == "internet":
        return severity
    if level == "networks":
        return severity.lowered()
    return Severity.LOW if severity >= Severity.HIGH else Severity.INFO


LEVEL_ORDER = ("internet", "networks", "admin", "internal")
_LEVEL_RANK = {level: rank for rank, level in enumerate(LEVEL_ORDER)}
ASSUME_HINT = ("; if you know what the assumed match does, settle it in the configuration "
               "(assume = { \"set:NAME\" = \"empty\" }) or try it with trace --assume")
# Conditions that only say *when* or *how often* (a schedule, a rate): the exposure is real
# whenever it holds. Any other assumed match decides *who* gets in (an address set filled at
# run time, an undefined variable, a port knock, a mark set elsewhere), and a ruleset that
# narrows by an unknown is not "the internet": such a finding is medium at most.
_TIMING = re.compile(r"^(?:-m\s+)?(?:time\b|--time|--week|--month|--date|--kernel-tz|limit\b|--limit|"
                     r"meta\s+(?:hour|day|time)\b|statistic\b|--mode|--probability|--every|numgen\b)")


def restricts_who(conditions) -> bool:
    """Whether any assumed condition narrows who can connect rather than when (or where the
    packet is routed: the output interface of a DNAT to a container is Docker's bridge)."""
    return any(not _TIMING.match(text.strip()) and not text.startswith(("output interface", "-o ", "oifname", "oif "))
               for text in conditions)


_new = object.__new__


def _cap(exposure: Exposure) -> Severity:
    """The highest severity an exposure can give: medium when it is only possible and only
    for some senders (a condition restricting who may connect)."""
    return Severity.MEDIUM if exposure.possible and restricts_who(exposure.conditions) else Severity.CRITICAL


def _shape_key(decider, exposure: Exposure, transport: str, level: str, cap: Severity) -> tuple:
    """What a cause's first exposure makes of it depends on only this (its services, named by
    the deciding rule's comment where it names one, and their rating)."""
    comment = decider.rule.comment if decider.rule is not None else None
    return (service_ports(exposure), exposure.ports, transport, comment, level, cap)


def known_shape(ctx: CheckContext, decider, exposure: Exposure, transport: str) -> tuple:
    """(reach level, CauseShape) of the cause ``Cause.started`` would make of one exposure: the
    shape it would share, or None when it would build its own (a shape not seen twice yet)."""
    level = reach_level(exposure)
    return level, ctx.memo("cause shapes").get(_shape_key(decider, exposure, transport, level, _cap(exposure)))


def reports_nothing(ctx: CheckContext, decider, exposure: Exposure, transport: str, level: str) -> bool:
    """Whether the cause a rule's one exposure makes alone (``Cause.started(ctx, decider, exposure,
    transport)``, ``level`` its reach_level) reports nothing: no rated service and no port range
    (exposure_checks.report_causes then says nothing of it: _report_services returns at once).
    A function of the exposure's shape (_shape_key) alone: the same empty Cause the general path
    fills, without the shape registered ("cause shapes" only decides what causes share)."""
    cause = Cause(decider)
    cause._add(ctx, exposure, transport, level, _cap(exposure))
    return not cause.services and not cause._is_range(ctx.registry)


class CauseShape:
    """What one exposure makes of an empty Cause (its dictionaries, shared by every cause of the
    shape until a second exposure comes: an allow-list's 50,000 rules on port 22), and whether
    that is a port range, once asked."""

    __slots__ = ("ports", "behind", "services", "named_by_comment", "evidence", "range")

    def __init__(self, cause: "Cause"):
        self.ports, self.behind, self.services = cause.ports, cause.behind, cause.services
        self.named_by_comment, self.evidence = cause.named_by_comment, cause.evidence
        self.range: bool | None = None


class Cause:
    """Everything one rule (or policy) lets in: the unit of a finding. tcp and udp, both
    families of an inet table and every interface set it admits are one cause."""

    __slots__ = ("decider", "exposures", "levels", "ports", "behind", "services", "named_by_comment", "evidence",
                 "routed_to", "shared", "_worst", "_worst_level")

    def __init__(self, decider):
        self.decider = decider
        self.exposures: list[Exposure] = []
        self.levels: list[str] = []  # reach_level of each exposure, in the same order
        self.ports: dict[str, query.Ranges] = {}  # transport -> ports admitted
        self.behind: dict[str, query.Ranges] = {}  # transport -> ports of the services reached (after NAT)
        self.services: dict[tuple[str, str], list] = {}  # (name, transport) -> [entry, ports, severity]
        self.named_by_comment: dict[str, str] = {}  # transport -> the service the rule's comment names
        self.evidence = "the rule's comment"  # what named it: the comment, or a generator's defaults
        self.routed_to = ""  # routed exposure (routed_checks): the destinations, in words
        # A cause of one exposure shares the dictionaries above with every cause of its shape:
        # its CauseShape, else None.
        self.shared: CauseShape | None = None
        self._worst: Exposure | None = None
        self._worst_level = ""

    @property
    def scope(self) -> str:
        """What a finding's key starts with: "routed/" for the routed path, so the same rule's
        local and routed findings keep apart fingerprints."""
        return "routed/" if self.routed_to else ""

    @classmethod
    def started(cls, ctx: CheckContext, decider, exposure: Exposure, transport: str) -> "Cause":
        """``Cause(decider)`` after ``add(ctx, exposure, transport)``; a cause of a shape seen
        twice already is made without the dictionaries it would only drop (an allow-list's
        100,000 causes)."""
        level = reach_level(exposure)
        shape = ctx.memo("cause shapes").get(_shape_key(decider, exposure, transport, level, _cap(exposure)))
        if shape is None:  # (not seen twice yet: add notes it)
            cause = cls(decider)
            cause.add(ctx, exposure, transport)
            return cause
        cause = _new(cls)
        cause.decider, cause.exposures, cause.levels, cause.routed_to = decider, [], [], ""
        cause._share(shape, exposure, level)
        return cause

    def add(self, ctx: CheckContext, exposure: Exposure, transport: str) -> None:
        level = reach_level(exposure)
        cap = _cap(exposure)
        if not self.exposures:
            # What one exposure makes of an empty cause depends only on this shape: the second
            # cause of a shape makes it, later ones share its dictionaries (a shape seen once,
            # Docker's one per container, is only remembered as seen: nothing kept alive).
            key = _shape_key(self.decider, exposure, transport, level, cap)
            shapes = ctx.memo("cause shapes")
            shape = shapes.get(key, False)
            if shape is False:
                shapes[key] = None
            if shape is None or shape is False:
                self._add(ctx, exposure, transport, level, cap)
                if shape is None:
                    self.shared = shapes[key] = CauseShape(self)
                return
            self._share(shape, exposure, level)
            return
        if self.shared is not None:
            self.ports, self.behind = dict(self.ports), dict(self.behind)
            self.named_by_comment = dict(self.named_by_comment)
            self.services = {key: list(slot) for key, slot in self.services.items()}
            self.shared = None
        self._add(ctx, exposure, transport, level, cap)

    def _share(self, shape: CauseShape, exposure: Exposure, level: str) -> None:
        """The first exposure of an empty cause whose shape is ``shape``: its dictionaries shared."""
        self.exposures.append(exposure)
        self.levels.append(level)
        self._worst, self._worst_level = exposure, level
        self.ports, self.behind, self.services = shape.ports, shape.behind, shape.services
        self.named_by_comment, self.evidence, self.shared = shape.named_by_comment, shape.evidence, shape

    def _add(self, ctx: CheckContext, exposure: Exposure, transport: str, level: str, cap: Severity) -> None:
        self.exposures.append(exposure)
        self.levels.append(level)
        self._worst = None
        self.ports[transport] = query.union(self.ports.get(transport, ()), exposure.ports)
        self.behind[transport] = query.union(self.behind.get(transport, ()), service_ports(exposure))
        for entry, ports, severity in self._rated(ctx, exposure, transport, level, cap):
            slot = self.services.get((entry.name, transport))
            if slot is None:
                self.services[(entry.name, transport)] = [entry, ports, severity]
            else:
                slot[1] = query.union(slot[1], ports)
                slot[2] = max(slot[2], severity)

    def _rated(self, ctx: CheckContext, exposure: Exposure, transport: str, level: str, cap: Severity) -> list:
        """(entry, ports, severity) of each rated service behind an exposure, named by the rule's
        own words where they name one: a rule on one port commented "tor ORPort" is Tor, not
        supervisord; one commented "minecraft" is a service the registry does not hold, so no
        finding is made up from the port number; "postgres" on 15432 is PostgreSQL although
        15432 is nobody's port. Remembered per document and shape, with what named it: an
        allow-list's rules ask about the same port again and again."""
        comment = self.decider.rule.comment if self.decider.rule is not None else None
        shape = _shape_key(self.decider, exposure, transport, level, cap)
        known = ctx.memo("rated services")
        answer = known.get(shape)
        if answer is None:
            found, named, evidence = _identify(ctx, exposure, transport, comment)
            rated = [(entry, ports, min(calibrated(registry_severity(entry), level), cap))
                     for entry, ports in found if entry.severity is not None]
            answer = known[shape] = (rated, named, evidence)
        rated, named, evidence = answer
        if named is not None:
            self.named_by_comment[transport] = named
            self.evidence = evidence
        return rated

    @property
    def worst(self) -> Exposure:
        """The exposure with the widest reach (what the message describes)."""
        if self._worst is None:
            self._settle_worst()
        return self._worst

    @property
    def worst_level(self) -> str:
        """The worst exposure's reach_level (each exposure's level is sized once, in add)."""
        if self._worst is None:
            self._settle_worst()
        return self._worst_level

    def _settle_worst(self) -> None:
        if self._worst is None and len(self.exposures) == 1:
            self._worst, self._worst_level = self.exposures[0], self.levels[0]
        elif self._worst is None:
            self._worst_level, self._worst = min(zip(self.levels, self.exposures),
                                                 key=lambda pair: (_LEVEL_RANK[pair[0]], pair[1].possible))

    @property
    def possible(self) -> bool:
        if len(self.exposures) == 1:
            return self.exposures[0].possible
        return all(e.possible for e in self.exposures)

    @property
    def cap(self) -> Severity:
        """The most this cause can be: medium when it rests on who an unknown lets in."""
        if all(e.possible and restricts_who(e.conditions) for e in self.exposures):
            return Severity.MEDIUM
        return Severity.CRITICAL

    def width(self) -> int:
        """The most ports of one transport the services behind this cause listen on."""
        return max(query.size(ports) for ports in self.behind.values())

    def is_range(self, registry) -> bool:
        """Whether the rule opens a port range (10 ports or more in a row, more than 1,024 in
        all) rather than services: a registered service's own range (x11 6000-6063) is a service."""
        shared = self.shared
        if shared is None:
            return self._is_range(registry)
        if shared.range is None:
            shared.range = self._is_range(registry)  # one registry: the context's
        return shared.range

    def _is_range(self, registry) -> bool:
        if self.width() > WIDE_PORTS:
            return True
        for transport, ranges in self.behind.items():
            for lo, hi in ranges:
                if hi - lo + 1 >= RANGE_AT_LEAST and not _one_service(registry, lo, hi, transport):
                    return True
        return False

    def ranked_services(self) -> list:
        """Services by what matters on a host: databases, caches and container APIs, then remote
        administration, file sharing..., trojans' historical ports last (PortEntry.rank_key)."""
        return sorted(self.services.values(), key=lambda item: item[0].rank_key)

    def purpose(self, ctx: CheckContext) -> str | None:
        """What the rule's comment says a range is for ("asterisk RTP"), if it names something."""
        comment = self.decider.rule.comment if self.decider.rule is not None else None
        if not comment:
            return None
        for transport, ranges in sorted(self.behind.items()):
            found = identify_range(ctx.registry, ranges, transport, comment).purpose
            if found is not None:
                return found.name
        return None


def _identify(ctx: CheckContext, exposure: Exposure, transport: str, comment: str | None) -> tuple:
    """(services, name, evidence) for Cause._rated: the services behind an exposure, and the
    service the rule's comment (``comment``) or its generator's defaults name, with what named
    it (name and evidence None when nothing did)."""
    found = _services_behind(ctx, exposure, transport)
    ports = service_ports(exposure)
    if query.size(ports) != 1 or len(found) > 1:
        return found, None, None
    said = comment or convention(generator_of(ctx.document), ports[0][0], transport)
    if not said:
        return found, None, None
    port = ports[0][0]
    ident = identify(ctx.registry, port, transport, comment=said)
    if not ident.from_evidence or ident.confirms_port or ident.entry is None:
        # A comment naming nothing the registry holds ("legacy console") never hides what
        # the port is: a gate that a comment could silence would be no gate.
        return found, None, None
    port_entry = found[0][0] if found else None
    if port_entry is not None and not ident.entry.covers(port, transport) and \
            (ident.entry.severity or Severity.INFO) < (port_entry.severity or Severity.INFO):
        return found, None, None  # "ssh" on 23 does not make Telnet's port harmless; tor's ORPort on 9001 does
    evidence = "the rule's comment" if comment else f"{generator_of(ctx.document)}'s defaults"
    return [(ident.entry, exposure.ports)], ident.entry.name, evidence


def _one_service(registry, lo: int, hi: int, transport: str) -> bool:
    found = registry.overlapping(((lo, hi),), transport)
    return len(found) == 1 and query.subtract(((lo, hi),), found[0][0].ranges) == ()
