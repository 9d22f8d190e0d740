"""A ufw rule as the iptables rules ufw writes for it (its user.rules / user6.rules lines)."""

from __future__ import annotations

from urllib.parse import quote

from linter.frontends.ufw.commands import Endpoint, UfwRule
from linter.frontends.ufw.framework import prefix
from linter.frontends.ufw.profiles import application

_TARGETS = {"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}
_CHAINS = {"in": "input", "out": "output", "route": "forward"}
_V4_MASK = "255.255.255.255"
_V6_MASK = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"


def families(rule: UfwRule) -> tuple[bool, ...]:
    """The families a rule applies to, as ipv6 flags: an address of one family decides, else both."""
    kinds = {":" in e.address for e in (rule.source, rule.destination) if e.address != "any"}
    if len(kinds) > 1:
        return ()  # ufw refuses mixing IPv4 and IPv6 addresses
    return tuple(kinds) if kinds else (False, True)


def iptables_lines(rule: UfwRule, ipv6: bool) -> list[str]:
    """The ``-A <prefix>-user-<chain> ...`` lines ufw loads for ``rule`` in one family."""
    chain = f"{prefix(ipv6)}-user-{_CHAINS[rule.direction]}"
    lines = []
    for proto, source_ports, destination_ports, comment in _variants(rule):
        matches = []
        if rule.source.address != "any":
            matches += ["-s", rule.source.address]
        if rule.destination.address != "any":
            matches += ["-d", rule.destination.address]
        if rule.interface_in:
            matches += ["-i", rule.interface_in]
        if rule.interface_out:
            matches += ["-o", rule.interface_out]
        if proto:
            matches += ["-p", proto]
        matches += _ports(proto, source_ports, destination_ports)
        if comment:
            matches += ["-m", "comment", "--comment", _quoted(comment)]
        spec = " ".join(matches)
        if rule.action == "limit":
            mask = _V6_MASK if ipv6 else _V4_MASK
            recent = f"--name DEFAULT --mask {mask} --rsource"
            lines += [f"-A {chain} {spec} -m conntrack --ctstate NEW -m recent --set {recent}".replace("  ", " "),
                      f"-A {chain} {spec} -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 "
                      f"{recent} -j {prefix(ipv6)}-user-limit".replace("  ", " "),
                      f"-A {chain} {spec} -j {prefix(ipv6)}-user-limit-accept".replace("  ", " ")]
            continue
        target = _TARGETS[rule.action]
        if target == "REJECT" and proto == "tcp":
            target += " --reject-with tcp-reset"
        lines.append(f"-A {chain} {spec} -j {target}".replace("  ", " "))
    return lines


def _variants(rule: UfwRule):
    """(protocol, source ports, destination ports, comment) per iptables rule: one per profile
    protocol group, or tcp and udp for ports without a protocol."""
    src_groups = _groups(rule.source, rule.protocol)
    dst_groups = _groups(rule.destination, rule.protocol)
    comment = ",".join(c for c in (_app_comment("dapp", rule.destination), _app_comment("sapp", rule.source)) if c)
    out = []
    for src_proto, src_ports in src_groups:
        for dst_proto, dst_ports in dst_groups:
            if src_proto and dst_proto and src_proto != dst_proto:
                continue
            proto = src_proto or dst_proto
            if proto is None and (src_ports or dst_ports):
                out += [(p, src_ports, dst_ports, comment) for p in ("tcp", "udp")]
            else:
                out.append((proto, src_ports, dst_ports, comment))
    return out


def _groups(end: Endpoint, protocol: str | None) -> list[tuple[str | None, str | None]]:
    if end.app:
        found = application(end.app)
        groups = found[1] if found else ()
        out = []
        for proto, ports in groups:
            out += [(p, ports) for p in ((proto,) if proto else ("tcp", "udp"))]
        return out
    return [(protocol, end.port)]


def _app_comment(kind: str, end: Endpoint) -> str:
    return f"{kind}_{quote(end.app, safe='')}" if end.app else ""


def _ports(proto: str | None, source: str | None, destination: str | None) -> list[str]:
    if not (source or destination):
        return []
    multi = any(p and ("," in p or ":" in p) for p in (source, destination))
    out = ["-m", "multiport" if multi else proto]
    if source:
        out += ["--sports" if multi else "--sport", source]
    if destination:
        out += ["--dports" if multi else "--dport", destination]
    return out


def _quoted(text: str) -> str:
    return text if " " not in text else f'"{text}"'
