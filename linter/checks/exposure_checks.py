"""Checks on what a ruleset really lets in: plaintext (PL101), risky services (PL201),
ephemeral-range ports (PL301) and stateless high-port accepts (PL302).

All of them read the engine's exposure: rule order, jumps, policies, conntrack state
and DNAT have already been evaluated, so a shadowed accept is never reported and
an accept reached through a user chain always is.
"""

from __future__ import annotations

from linter.checks import CheckContext, check
from linter.engine import intervals as iv
from linter.engine.exposure import Exposure, interface_text
from linter.findings import Severity
from linter.model import CtStatusMatch, NatStateMatch, PortMatch, Ruleset, StateMatch

PORT_TRANSPORTS = {6: "tcp", 17: "udp", 132: "sctp"}
WIDE_PORTS = 1024  # an accept wider than this is reported once, listing the services
LIST_AT_MOST = 6


def _ports_text(ranges) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def reach_text(exposure: Exposure, all_interfaces=None) -> str:
    """How far a port reaches, in words: 'from the internet on eth0 through DNAT to ...'."""
    if exposure.reach == "internet":
        text = "from the internet"
    elif exposure.reach == "restricted":
        text = f"from {sources_text(exposure)} only"
    else:
        text = f"from {exposure.reach} networks"
    if all_interfaces is not None:
        interfaces = interface_text(exposure.interfaces, all_interfaces)
        if interfaces != "any":
            text += f" on {interfaces}"
    if exposure.forwarded:
        target = exposure.nat_targets[0] if exposure.nat_targets else "another address"
        text += f" through DNAT to {target} (INPUT rules do not apply)"
    if exposure.possible:
        text += f" (possibly: if {', '.join(exposure.conditions[:3])} matches)"
    return text


def sources_text(exposure: Exposure) -> str:
    """The public sources of a restricted exposure, shortest first: '203.0.113.5' or '3 ranges'."""
    from linter.addresses import format_range

    ranges = exposure.sources
    if len(ranges) <= 2:
        return ", ".join(format_range(exposure.family, lo, hi) for lo, hi in ranges)
    return f"{len(ranges)} public address ranges"


def _registry_severity(entry) -> Severity:
    severity = entry.severity
    # Low-risk services (HTTP, SSH...) are worth a note, not a failed build.
    return Severity.INFO if severity is Severity.LOW else severity


def _public(exposure: Exposure) -> bool:
    return exposure.reach in ("internet", "restricted")


def _services_behind(ctx: CheckContext, exposure: Exposure, transport: str):
    """Registry entries for the service a connection reaches, and the host ports it uses."""
    ports = exposure.nat_ports if exposure.forwarded and exposure.nat_ports else exposure.ports
    found = ctx.registry.overlapping(ports, transport)
    if exposure.forwarded and exposure.nat_ports:
        return [(entry, exposure.ports) for entry, _ in found]
    return found


@check("PL101", "PL201", on=Ruleset)
def exposed_services(ctx: CheckContext) -> None:
    """Plaintext and risky services that new connections from public addresses reach."""
    seen = set()
    wide: dict[tuple, list] = {}
    for exposure in ctx.exposure.exposures():
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        if transport is None or not _public(exposure):
            continue
        decider = exposure.primary
        if decider is None:
            continue
        related = _related(exposure)
        is_wide = iv.size(exposure.ports) > WIDE_PORTS
        for entry, ports in _services_behind(ctx, exposure, transport):
            severity = entry.severity
            if severity is None:
                continue
            severity = _registry_severity(entry)
            if exposure.reach == "restricted":
                severity = severity.lowered()
            code = "PL101" if entry.check_kind == "plaintext" else "PL201"
            if is_wide:
                group = wide.setdefault((code, decider.span, transport, reach_text(exposure, ctx.exposure.interfaces),
                                         decider.text), {"items": [], "ports": ()})
                group["items"].append((entry, ports, severity))
                group["ports"] = iv.union(group["ports"], exposure.ports)
                continue
            key = f"{transport}/{entry.name}/{exposure.reach}"
            if (code, key, decider.span) in seen:
                continue
            seen.add((code, key, decider.span))
            hint = f"Use {entry.alternative} instead, or allow it only from the networks that need it" \
                if entry.plaintext and entry.alternative else "Allow it only from the networks that need it"
            ctx.report(code, decider.span, _service_message(ctx, code, entry, ports, transport, exposure),
                       severity=severity, hint=hint, proto=transport, ports=ports, key=key, related=related)
    for (code, span, transport, reach, decider_text), group in wide.items():
        items = sorted(group["items"], key=lambda item: (-item[2], item[1]))
        severity = max(item[2] for item in items)
        names = [f"{entry.name} {_ports_text(ports)}" for entry, ports, _ in items]
        listed = ", ".join(names[:LIST_AT_MOST])
        if len(names) > LIST_AT_MOST:
            listed += f" and {len(names) - LIST_AT_MOST} more"
        kind = "plaintext services" if code == "PL101" else "services that should not face the internet"
        message = (f"{iv.size(group['ports'])} {transport} ports are reachable {reach}, "
                   f"including {len(items)} {kind}: {listed}")
        ports = iv.normalize(r for _, ports, _ in items for r in ports)
        ctx.report(code, span, message, severity=severity, proto=transport, ports=ports,
                   key=f"{transport}/wide/{decider_text}", hint="Deny by default and allow only the ports you serve")


def _service_message(ctx: CheckContext, code: str, entry, ports, proto: str, exposure: Exposure) -> str:
    if code == "PL101":
        return f"{entry.name} ({_ports_text(ports)}/{proto}) is a plaintext protocol reachable {reach_text(exposure, ctx.exposure.interfaces)}"
    unencrypted = "; it is also unencrypted" if entry.plaintext else ""
    return f"{entry.name} ({_ports_text(ports)}/{proto}) is reachable {reach_text(exposure, ctx.exposure.interfaces)}{unencrypted}"


def _related(exposure: Exposure):
    if len(exposure.deciders) < 2 or exposure.primary is None:
        return ()
    primary = exposure.primary
    return tuple(
        (d.span.path, d.span.line, d.span.column, f"also decided by {d.table} {d.chain}")
        for d in exposure.deciders if d is not primary
    )


@check("PL301", on=Ruleset)
def ephemeral_service_ports(ctx: CheckContext) -> None:
    """Accepted service ports that lie inside an ephemeral port range."""
    seen = set()
    for exposure in ctx.exposure.exposures():
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        decider = exposure.primary
        if transport is None or exposure.reach == "loopback" or decider is None or decider.rule is None:
            continue
        if iv.size(exposure.ports) > WIDE_PORTS or not _names_ports(decider.rule):
            continue
        for name, lo, hi in ctx.settings.ephemeral_ranges:
            inside = iv.intersect(exposure.ports, ((lo, hi),))
            if not inside:
                continue
            key = f"{transport}/{_ports_text(inside)}/{name}"
            if (key, decider.span) in seen:
                continue
            seen.add((key, decider.span))
            service = ", ".join(sorted({ctx.registry.describe(p, transport) for p, _ in inside[:3]}))
            ctx.report(
                "PL301", decider.span,
                f"{service} port {_ports_text(inside)}/{transport} lies inside the ephemeral port range "
                f"{lo}-{hi} ({name})",
                proto=transport, ports=inside, key=key,
                hint="Move the service below 32768 or reserve the port (net.ipv4.ip_local_reserved_ports)")


_CONNTRACK_MATCHES = (StateMatch, NatStateMatch, CtStatusMatch)


def _names_ports(rule) -> bool:
    return any(isinstance(m, PortMatch) and not m.negated for m in rule.matches)


@check("PL302", on=Ruleset)
def stateless_high_ports(ctx: CheckContext) -> None:
    """Rules that accept new connections on a wide range of high ports, with no state match."""
    minimum = int(ctx.settings.option("PL302", "min_ports"))
    seen = set()
    for exposure in ctx.exposure.exposures():
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        decider = exposure.primary
        if transport is None or not _public(exposure) or decider is None or decider.rule is None:
            continue
        if any(isinstance(m, _CONNTRACK_MATCHES) for m in decider.rule.matches) or not _names_ports(decider.rule):
            continue
        high = iv.intersect(exposure.ports, ((1024, 65535),))
        if iv.size(high) < minimum or (decider.span, transport) in seen:
            continue
        seen.add((decider.span, transport))
        ctx.report("PL302", decider.span,
                   f"Accepts {iv.size(high)} {transport} ports ({_ports_text(high)}) {reach_text(exposure, ctx.exposure.interfaces)} "
                   f"without connection tracking",
                   proto=transport, ports=high, key=f"{transport}/{_ports_text(high)}",
                   hint="Let replies in with -m conntrack --ctstate ESTABLISHED,RELATED instead")

