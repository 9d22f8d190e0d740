"""Which input interfaces face the internet, and which face an internal network.

"From the internet" must mean arriving on an internet-facing interface. The ruleset often
says which one that is, and portlint reads it the way an engineer would:

- the output interface of a MASQUERADE or SNAT rule, and the input interface of a DNAT, face
  the internet (a home router's ``-o eth0 -j MASQUERADE``);
- conventional names are internal: loopback, container and VM bridges (docker0, br-*, virbr*,
  cni*, flannel*, cali*, veth*, kube-*), LAN names (lan*, br-lan) and VPN tunnels (tun*, tap*,
  wg*, zt*, tailscale*);
- an interface firewalld binds to one of its inside zones (internal, home, work, trusted: the
  dispatch rule ``iifname "eth1" goto filter_IN_internal``) is internal: the administrator named it so;
- an interface whose packets go through an ingress filter (a jump from ``-i IF`` alone into a chain
  that only drops sources by prefix: the networks behind this host, which only a forger outside
  can claim) faces the outside, as a university router's ``-i eth1.110 -j NOTFROMHERE`` says;
- configuration overrides both: ``interfaces = { internet = ["eth0"], internal = ["eth1"] }``.

Once any interface is known to face the internet, every other interface is internal: the
ruleset has told us where the outside is. When nothing says, every interface not
conventionally internal may face the internet (the safe reading). Only NAT rules, ingress filters and
names are evidence, never an accept: adding an accept must never make another interface's exposure look
smaller (``! -i eth0 -j ACCEPT`` would otherwise turn every other interface internal).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from linter.engine.chains import chain_named
from linter.engine.memo import IdentityCache
from linter.engine.rule_scan import ZONE_DISPATCH, rule_scan
from linter.engine.universe import LOOPBACK_IFACE, OTHER_IFACE, describe_interface
from linter.model import AddressMatch, Direction, Family, Hook, InterfaceMatch, Ruleset, VerdictKind

CONVENTIONAL_INTERNAL = (
    "lo", "docker0", "docker_gwbridge", "br-*", "virbr*", "cni*", "flannel*", "cali*", "veth*", "kube-*",
    "weave", "vxlan*", "lan*", "br-lan", "tun*", "tap*", "wg*", "zt*", "tailscale*",
)

_NAT_OUT = (VerdictKind.MASQUERADE, VerdictKind.SNAT)
_NAT_IN = (VerdictKind.DNAT,)


def _name_matches(pattern: str, rep: str) -> bool:
    """Whether interface representative ``rep`` falls under ``pattern`` (``eth*``/``eth+`` or a name)."""
    if rep == OTHER_IFACE:
        return False
    name = rep[:-1] if rep.endswith("\x00") else rep
    if pattern.endswith(("*", "+")):
        return name.startswith(pattern[:-1])
    return not rep.endswith("\x00") and name == pattern


@dataclass(frozen=True)
class InterfaceRoles:
    """Interface patterns known to face the internet or an internal network, with the evidence."""

    internet: tuple[str, ...] = ()
    internal: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict, compare=False, hash=False)  # pattern -> how we know

    def is_internal(self, rep: str) -> bool:
        """Whether connections arriving on interface representative ``rep`` come from an
        internal network rather than (possibly) the internet."""
        if rep == LOOPBACK_IFACE:
            return True
        if any(_name_matches(p, rep) for p in self.internet):
            return False
        if any(_name_matches(p, rep) for p in self.internal):
            return True
        if self.internet:
            # The ruleset named the outside: anything else is inside (the unnamed rest too).
            return True
        return any(_name_matches(p, rep) for p in CONVENTIONAL_INTERNAL)

    def describe(self, rep: str) -> str:
        """Why ``rep`` has its role, in words (for messages and `portlint exposure`)."""
        for pattern in self.internet + self.internal:
            if _name_matches(pattern, rep):
                return self.evidence.get(pattern, "configuration")
        if self.internet and rep != LOOPBACK_IFACE:
            return f"not {', '.join(self.internet)}, which face the internet"
        return "conventional name" if self.is_internal(rep) else "nothing says otherwise"


def infer_roles(rulesets: list[Ruleset], internet=(), internal=()) -> InterfaceRoles:
    """The interface roles the rulesets (and configured ``internet``/``internal`` patterns) imply."""
    found_internet: dict[str, str] = {p: "configuration" for p in internet}
    found_internal: dict[str, str] = {p: "configuration" for p in internal}
    jump_kind, goto_kind = VerdictKind.JUMP, VerdictKind.GOTO  # (looked up once, not per rule)
    for ruleset in rulesets:
        # Only NAT rules and jumps give evidence, and of those only the ones rule_scan lists (its
        # tests are the ones below): the rest of a 100,000-rule file is not gone through here.
        for table, chain, rule, zones in rule_scan(ruleset).role_rules:
            kind = rule.verdict.kind
            jump = kind is jump_kind or kind is goto_kind
            if zones and jump:
                for pattern, why in _zone_evidence(rule, chain):
                    if pattern not in found_internet:
                        found_internal.setdefault(pattern, why)
            if jump and (len(rule.matches) != 1 or not isinstance(rule.matches[0], InterfaceMatch)):
                continue  # no NAT rule, nor a jump on one interface (_spoofing_evidence)
            if not jump and not _names_interfaces(rule.matches):
                continue  # a NAT rule gives evidence by its interfaces only (_evidence)
            for pattern, why in (*_evidence(rule, chain), *_spoofing_evidence(rule, table)):
                # Configuration wins; a conventionally internal name (docker0's hairpin
                # MASQUERADE, a VPN tunnel) is never taken for the outside by inference.
                if pattern in found_internal or _conventionally_internal(pattern):
                    continue
                found_internet.setdefault(pattern, f"{why} at line {rule.span.line}")
    evidence = {**found_internal, **found_internet}
    return InterfaceRoles(tuple(_canonical(p) for p in found_internet),
                          tuple(_canonical(p) for p in found_internal),
                          {_canonical(k): v for k, v in evidence.items()})


def _names_interfaces(matches) -> bool:
    for match in matches:
        if isinstance(match, InterfaceMatch):
            return True
    return False


def _conventionally_internal(pattern: str) -> bool:
    rep = pattern[:-1] + "\x00" if pattern.endswith(("+", "*")) else pattern
    return rep == LOOPBACK_IFACE or any(_name_matches(p, rep) for p in CONVENTIONAL_INTERNAL)


def _canonical(pattern: str) -> str:
    return pattern[:-1] + "*" if pattern.endswith("+") else pattern


# A NAT rule its own comment calls a VPN's ("VPN Source NAT") says nothing about the internet.
_VPN_WORDS = re.compile(r"\b(?:vpn|wireguard|wg|openvpn|ipsec|tunnel|tailscale|zerotier)\b", re.I)


# firewalld's zone dispatch (nft backend filter_INPUT_ZONES, iptables backend INPUT_ZONES) and its inside zones.
_ZONE_DISPATCH = ZONE_DISPATCH
_INSIDE_ZONE = re.compile(r"^(?:filter_)?IN_(internal|home|work|trusted)$")


def _zone_evidence(rule, chain):
    """(interface, reason) pairs for interfaces firewalld binds to an inside zone."""
    if not _ZONE_DISPATCH.match(chain.name) or rule.verdict.kind not in (VerdictKind.GOTO, VerdictKind.JUMP):
        return
    zone = _INSIDE_ZONE.match(rule.verdict.target or "")
    if zone is None:
        return
    for match in rule.matches:
        if isinstance(match, InterfaceMatch) and match.direction == "in" and not match.negated:
            for name in match.names:
                yield name, f"firewalld zone {zone.group(1)} at line {rule.span.line}"


def _evidence(rule, chain):
    """(interface pattern, reason) pairs a rule gives for an internet-facing interface."""
    kind = rule.verdict.kind
    if kind not in _NAT_OUT and kind not in _NAT_IN:
        return
    interfaces = [m for m in rule.matches if isinstance(m, InterfaceMatch)]
    if not interfaces or rule.comment and _VPN_WORDS.search(rule.comment[:200]):
        return
    if kind in _NAT_OUT:
        for match in interfaces:
            if match.direction == "out" and not match.negated:
                for name in match.names:
                    yield name, f"{kind.value.upper()} out of it"
    elif kind in _NAT_IN:
        for match in interfaces:
            if match.direction == "in" and not match.negated:
                for name in match.names:
                    yield name, "DNAT on arrival from it"


def _spoofing_evidence(rule, table):
    """(interface, reason) for ingress filtering (RFC 2827): ``-i eth1.110 -j NOTFROMHERE`` into a
    chain that only drops sources by prefix, the networks this host serves, then returns. Packets
    claiming those sources can only be forged outside, so the interface faces the outside."""
    if rule.verdict.kind not in (VerdictKind.JUMP, VerdictKind.GOTO) or len(rule.matches) != 1:
        return
    match = rule.matches[0]
    if not isinstance(match, InterfaceMatch) or match.direction != "in" or match.negated or len(match.names) != 1:
        return
    target = chain_named(table, rule.verdict.target)
    if target is not None and _drops_sources_only(table, target):
        yield match.names[0], f"spoofed sources dropped on arrival from it ({target.name})"


def _drops_sources_only(table, chain) -> bool:
    """Whether ``chain`` is a list of ``-s PREFIX`` drops (directly or through a chain that logs and
    drops), optionally ending in an unconditional RETURN; at least two prefixes."""
    rules = list(chain.rules)
    if rules and not rules[-1].matches and rules[-1].verdict.kind is VerdictKind.RETURN:
        rules.pop()
    if len(rules) < 2:
        return False
    for rule in rules:
        if len(rule.matches) != 1:
            return False
        match = rule.matches[0]
        if not isinstance(match, AddressMatch) or match.direction is not Direction.SOURCE or match.negated:
            return False
        if not _drops(table, rule.verdict):
            return False
    return True


def _drops(table, verdict) -> bool:
    """A DROP or REJECT, or a jump to a chain whose last rule drops unconditionally (LOG_DROP)."""
    if verdict.kind in (VerdictKind.DROP, VerdictKind.REJECT):
        return True
    if verdict.kind not in (VerdictKind.JUMP, VerdictKind.GOTO):
        return False
    target = chain_named(table, verdict.target)
    return target is not None and bool(target.rules) and not target.rules[-1].matches \
        and target.rules[-1].verdict.kind in (VerdictKind.DROP, VerdictKind.REJECT)


def describe_roles(roles: InterfaceRoles, reps) -> list[tuple[str, str, str]]:
    """(interface, role, why) for each named representative, for `portlint exposure`."""
    rows = []
    for rep in sorted(r for r in reps if r not in (LOOPBACK_IFACE, OTHER_IFACE)):
        role = "internal" if roles.is_internal(rep) else "internet"
        rows.append((describe_interface(rep), role, roles.describe(rep)))
    return rows


_BRIDGES: IdentityCache[tuple] = IdentityCache()


def bridge_subnets(rulesets: list[Ruleset]) -> tuple:
    """(bridge, family, subnet ranges) for each container bridge whose subnet Docker's own
    MASQUERADE rule names: ``-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE`` (nft: ``ip saddr
    172.17.0.0/16 oifname != "docker0" masquerade``). Routing sends what is DNATed into that
    subnet out of that bridge. Remembered per ruleset: every path evaluation asks."""
    found: list = []
    for ruleset in rulesets:
        known = _BRIDGES.get(ruleset)
        if known is None:
            known = _BRIDGES.put(ruleset, _ruleset_bridges(ruleset))
        found.extend(known)
    return tuple(found)


def _ruleset_bridges(ruleset: Ruleset) -> tuple:
    found = []
    masquerade = VerdictKind.MASQUERADE
    # Docker's rule names its bridge (`! -o docker0`): rule_scan lists every NAT rule naming an
    # interface, in order, so the rest of a 100,000-rule file is not gone through here.
    for _, _, rule, _ in rule_scan(ruleset).role_rules:
        if rule.verdict.kind is not masquerade:
            continue
        outs = [m for m in rule.matches if isinstance(m, InterfaceMatch) and m.direction == "out"]
        sources = [m for m in rule.matches if isinstance(m, AddressMatch)
                   and m.direction is Direction.SOURCE and not m.negated]
        if len(outs) != 1 or not outs[0].negated or len(outs[0].names) != 1 or len(sources) != 1:
            continue
        bridge = outs[0].names[0]
        if not _BRIDGE.fullmatch(bridge):
            continue
        addresses = sources[0].addresses
        found.append((bridge, addresses.family, addresses.ranges))
    return tuple(found)


_BRIDGE = re.compile(r"docker0|br-[0-9a-f]{12}|docker_gwbridge")


def host_addresses(rulesets: list[Ruleset], configured=()) -> dict:
    """Family -> the addresses of this host the rules reveal, as ranges: the public address a
    DNAT or REDIRECT in nat PREROUTING is written for (``-d 203.0.113.4 -j DNAT``) and the one an
    SNAT rewrites to (``--to-source 203.0.113.4``), plus ``configured`` (family, lo, hi)
    ranges. Empty for a family nothing reveals: then every address may be this host's."""
    from linter.addresses import NON_INTERNET_V4, NON_INTERNET_V6, PRIVATE_V4, PRIVATE_V6
    from linter.engine import intervals as iv

    found: dict = {}

    def add(family, ranges):
        found[family] = iv.union(found.get(family, ()), tuple(ranges))

    for family, lo, hi in configured:
        add(family, ((lo, hi),))
    dnat, redirect, snat = VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.SNAT  # (looked up once, not per rule)
    for ruleset in rulesets:
        for chain, rule in rule_scan(ruleset).host_rules:  # (the only rules read below: rule_scan.py)
            kind = rule.verdict.kind
            if kind is not dnat and kind is not redirect and kind is not snat:
                continue
            if (kind is dnat or kind is redirect) and chain.hook is Hook.PREROUTING:
                for match in rule.matches:
                    if isinstance(match, AddressMatch) and match.direction is Direction.DESTINATION \
                            and not match.negated and _one_public(match.addresses, iv, PRIVATE_V4,
                                                                  PRIVATE_V6, NON_INTERNET_V4,
                                                                  NON_INTERNET_V6):
                        add(match.addresses.family, match.addresses.ranges)
            elif kind is snat and rule.verdict.to_addresses is not None:
                addresses = rule.verdict.to_addresses
                if _one_public(addresses, iv, PRIVATE_V4, PRIVATE_V6, NON_INTERNET_V4, NON_INTERNET_V6):
                    add(addresses.family, addresses.ranges)
    return found


def _one_public(addresses, iv, private_v4, private_v6, other_v4, other_v6) -> bool:
    """Whether ``addresses`` is one public address (a /32 or /128): a host's own, not a network."""
    if iv.size(addresses.ranges) != 1:
        return False
    from linter.addresses import LOOPBACK_V4, LOOPBACK_V6

    private = (private_v6 + other_v6 + LOOPBACK_V6) if addresses.family is Family.IPV6 else \
        (private_v4 + other_v4 + LOOPBACK_V4)
    return not iv.intersect(addresses.ranges, iv.normalize(private))
