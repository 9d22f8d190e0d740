"""Random iptables-save rulesets (and flows to try on them) for the kernel agreement test.

``generate_ruleset(seed)`` is deterministic: the same seed and attempt always
give the same text. A ruleset has a filter table (INPUT policy ACCEPT or DROP,
one to three user chains) and sometimes a nat table whose PREROUTING chain
REDIRECTs to another listened port, or DNATs to the address the packet was
sent to (a rule tied to it by -d or -i) on another listened port. A DNAT
from one of the host's addresses to another is left out on purpose: portlint
does not know the host's addresses and takes it as forwarded. INPUT always starts with the ESTABLISHED,RELATED accept rule: the later
packets of a TCP handshake and UDP replies meet the rules too, and without it
the kernel's outcome would depend on more than the first packet.

Sometimes there are raw (PREROUTING: before conntrack, so state matches
see INVALID; CT --notrack), mangle (PREROUTING and INPUT) and security (INPUT)
tables too, so the order of tables on each hook and what each one sees (the
address and port before or after DNAT) are checked.

Everything generated is something portlint models exactly (addresses and
address lists, iprange, interfaces, protocols, ports, conntrack state,
addrtype, jumps, gotos, RETURN, LOG, MARK, REJECT, DNAT, REDIRECT, notrack),
or decides for a new connection's first packet: filter rules sometimes also test
the virtual conntrack states DNAT/SNAT, --ctstatus, the original destination
(--ctorigdstport, --ctorigdst), tcp flags (--syn, --tcp-flags) or a limit far
above the probe count (-m limit; hashlimit is left out: iptables-restore-translate
leaves it as a comment, and the nft kernel test would skip the ruleset). Those come after INPUT's
ESTABLISHED,RELATED accept, which the later packets of a connection meet first,
and are drawn from a random stream of their own, so the rest of a seed's ruleset
stays what it was. No recent --update or other module whose outcome the engine can
only guess. Some generated rules are refused by
iptables (the caller validates with ``iptables-restore --test`` and asks for
the next attempt); the generator does not try to know every rule iptables
refuses.

``generate_flows(seed, ruleset, sources)`` picks the flows to probe: mostly
to ports the rules mention, from every client source address.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .netns import LISTEN_PORTS, SERVER_ADDRS, tables_in

LISTEN = tuple(sorted(LISTEN_PORTS))
# Ports the random rules talk about: the listened ones, plus a few no flow uses.
PORT_POOL = LISTEN + (8443, 9999, 110)
# Source-port ranges: probes use source ports 10000-59999 (see Lab.next_sport).
SPORT_RANGES = ("10000:29999", "30000:59999", "20000:40000", "1024:65535", "0:1023", "45000:50000", "10000:10999")

SRC_PREFIXES = (
    "10.0.0.0/8", "10.20.0.0/16", "10.99.0.0/24", "10.98.0.0/24", "10.99.0.2/32", "10.98.0.2/32",
    "192.168.0.0/16", "192.168.77.0/24", "192.168.50.0/24", "192.168.1.0/24", "192.168.10.5/32",
    "172.16.0.0/12", "172.16.5.2/32", "203.0.113.0/24", "203.0.113.50/32", "203.0.113.66/32",
    "198.51.100.0/24", "100.64.0.0/10", "0.0.0.0/1", "128.0.0.0/1", "192.0.0.0/2", "10.20.200.0/24",
    "192.0.2.99/32", "0.0.0.0/0",
)
# Forms iptables-restore accepts but iptables-save would print differently.
SRC_ODD_FORMS = ("192.168.77.2", "10.20.3.4/16", "172.16.5.9/24", "203.0.113.50/255.255.255.0")
DST_PREFIXES = (
    "10.99.0.1/32", "10.98.0.1/32", "10.99.0.0/24", "10.98.0.0/16", "10.96.0.0/14", "10.0.0.0/8",
    "192.0.2.1/32", "0.0.0.0/1", "10.99.0.1/31",
)
IFACES = ("-i eth0", "-i eth1", "-i eth+", "-i lo", "! -i eth1", "! -i eth0", "! -i lo", "-i e+",
          "! -i eth+", "-i eth0+", "-i plk0")
STATES = (
    "-m conntrack --ctstate NEW", "-m conntrack --ctstate INVALID", "-m conntrack ! --ctstate INVALID",
    "-m conntrack --ctstate NEW,ESTABLISHED", "-m state --state NEW", "-m conntrack ! --ctstate NEW",
    "-m conntrack --ctstate RELATED,ESTABLISHED", "-m state --state INVALID", "-m conntrack --ctstate UNTRACKED",
    "-m state --state UNTRACKED", "-m conntrack --ctstate NEW,UNTRACKED",
)
IPRANGES = (
    "--src-range 192.168.77.1-192.168.77.9", "--src-range 10.0.0.0-10.98.255.255",
    "--src-range 100.64.1.1-203.0.113.50", "--src-range 172.16.5.2-172.16.5.2", "--src-range 10.20.3.5-10.98.0.2",
    "--dst-range 10.99.0.0-10.99.0.1", "--dst-range 10.98.0.1-10.99.0.0", "--dst-range 10.99.0.2-10.99.0.200",
)
ADDRTYPES = (
    "-m addrtype --dst-type LOCAL", "-m addrtype ! --dst-type LOCAL", "-m addrtype --dst-type UNICAST",
    "-m addrtype --dst-type BROADCAST", "-m addrtype --src-type LOCAL", "-m addrtype ! --src-type LOCAL",
    "-m addrtype --dst-type MULTICAST",
)
ICMP_REJECTS = ("icmp-port-unreachable", "icmp-host-unreachable", "icmp-net-unreachable",
                "icmp-admin-prohibited", "icmp-host-prohibited", "icmp-net-prohibited", "icmp-proto-unreachable")
USER_CHAIN_NAMES = ("SVC", "ADMIN", "BLOCKLIST", "LOG_AND_DROP", "ufw-user-input", "DOCKER-USER", "from-lan",
                    "Z9")


@dataclass
class GeneratedRuleset:
    seed: int
    attempt: int
    text: str
    ports: tuple[int, ...]  # listened ports the rules mention
    nat: bool
    rules: int
    tables: tuple[str, ...] = ()


@dataclass
class _Builder:
    rng: random.Random
    ports: set[int] = field(default_factory=set)
    decided: random.Random | None = None  # the stream of the path-decided matches

    def port(self) -> int:
        port = self.rng.choice(PORT_POOL)
        self.ports.add(port)
        return port

    def port_range(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.08:
            low = self.port()
            return f"{low}:"  # open-ended: iptables reads it as low:65535
        if roll < 0.14:
            return f":{self.port()}"
        low, high = sorted(rng.sample(LISTEN, 2))
        if rng.random() < 0.5:
            low = max(low - rng.randint(0, 3), 1)
            high = min(high + rng.randint(0, 3), 65535)
        self.ports.update(p for p in LISTEN if low <= p <= high)
        return f"{low}:{high}"

    def port_spec(self) -> str:
        """A --dport argument: one port or a range."""
        return str(self.port()) if self.rng.random() < 0.7 else self.port_range()

    def multiport_list(self) -> str:
        items = []
        for _ in range(self.rng.randint(1, 5)):
            if self.rng.random() < 0.8:
                items.append(str(self.port()))
            else:
                low, high = sorted(self.rng.sample(LISTEN, 2))
                self.ports.update(p for p in LISTEN if low <= p <= high)
                items.append(f"{low}:{high}")
        return ",".join(items)


def _neg(rng: random.Random, probability: float) -> str:
    return "! " if rng.random() < probability else ""


def _matches(b: _Builder, *, allow_ports: bool = True) -> tuple[list[str], str | None]:
    """The match part of a rule in iptables-save order, and its positive protocol (tcp/udp/None)."""
    rng = b.rng
    parts: list[str] = []
    if rng.random() < 0.35:
        roll = rng.random()
        if roll < 0.08:
            parts.append(f"{_neg(rng, 0.3)}-s {rng.choice(SRC_ODD_FORMS)}")
        elif roll < 0.2:
            # A list: iptables-restore makes one rule per address (and refuses "!" with a list).
            parts.append(f"{_neg(rng, 0.05)}-s {','.join(rng.sample(SRC_PREFIXES, rng.randint(2, 3)))}")
        else:
            parts.append(f"{_neg(rng, 0.3)}-s {rng.choice(SRC_PREFIXES)}")
    if rng.random() < 0.15:
        if rng.random() < 0.1:
            parts.append(f"-d {','.join(rng.sample(DST_PREFIXES, 2))}")
        else:
            parts.append(f"{_neg(rng, 0.3)}-d {rng.choice(DST_PREFIXES)}")
    if rng.random() < 0.25:
        parts.append(rng.choice(IFACES))
    roll = rng.random()
    proto: str | None = None
    if roll < 0.40:
        proto = "tcp"
    elif roll < 0.72:
        proto = "udp"
    elif roll < 0.78:
        parts.append(rng.choice(("! -p tcp", "! -p udp", "-p icmp", "-p all", "! -p icmp")))
    if proto is not None:
        parts.append(f"-p {proto}" if rng.random() < 0.95 else f"-p {6 if proto == 'tcp' else 17}")
        port_matches = []
        if allow_ports and rng.random() < 0.75:
            if rng.random() < 0.7:
                port_matches.append(f"{_neg(rng, 0.15)}--dport {b.port_spec()}")
            else:
                port_matches.append(("multiport", f"{_neg(rng, 0.15)}--dports {b.multiport_list()}"))
        if allow_ports and rng.random() < 0.12:
            if rng.random() < 0.7:
                port_matches.append(f"{_neg(rng, 0.3)}--sport {rng.choice(SPORT_RANGES)}")
            else:
                port_matches.append(("multiport", f"{_neg(rng, 0.2)}--sports "
                                                  f"{','.join(rng.sample(SPORT_RANGES, 2))}"))
        plain = [m for m in port_matches if isinstance(m, str)]
        if plain:
            # iptables-save writes the implicit "-m tcp"; a hand-written file may not.
            prefix = [f"-m {proto}"] if rng.random() < 0.8 else []
            parts.append(" ".join(prefix + plain))
        for _, text in (m for m in port_matches if not isinstance(m, str)):
            parts.append(f"-m multiport {text}")
    if rng.random() < 0.06:
        parts.append(f"-m iprange {_neg(rng, 0.3)}{rng.choice(IPRANGES)}")
    if rng.random() < 0.18:
        parts.append(rng.choice(STATES))
    if rng.random() < 0.07:
        parts.append(rng.choice(ADDRTYPES))
    if rng.random() < 0.06:
        parts.append(f'-m comment --comment "rule {rng.randint(1, 999)}"')
    return parts, proto


def _reject(rng: random.Random, proto: str | None) -> str:
    if proto == "tcp" and rng.random() < 0.5:
        return "-j REJECT --reject-with tcp-reset"
    return f"-j REJECT --reject-with {rng.choice(ICMP_REJECTS)}"


# Matches a new connection's first packet decides (tcp ones only after -p tcp).
# Left out, because the nft side cannot use them: --tcp-flags with a one-flag mask
# (iptables-restore-translate writes `tcp flags rst / rst`, which nft 1.0.6 refuses), and
# --ctstate DNAT with a negation or another state (translated as `ct status dnat` alone).
DECIDED_TCP = ("--syn", "! --syn", "--tcp-flags FIN,SYN,RST,ACK SYN", "--tcp-flags SYN,ACK SYN,ACK",
               "--tcp-flags RST,ACK RST", "! --tcp-flags ALL NONE", "--tcp-flags ALL SYN",
               "! --tcp-flags SYN,RST SYN")
DECIDED_ANY = (
    "-m conntrack --ctstate DNAT", "-m conntrack --ctstate SNAT", "-m conntrack --ctstatus CONFIRMED", "-m conntrack ! --ctstatus SEEN_REPLY",
    "-m conntrack --ctorigdst 10.99.0.1", "-m conntrack ! --ctorigdst 10.98.0.0/16",
    "-m limit --limit 10000/sec --limit-burst 10000",
)


def _decided(b: _Builder, proto: str | None) -> list[str]:
    """Sometimes a match a new connection's first packet decides (from b.decided's own stream)."""
    rng = b.decided
    if rng is None or rng.random() >= 0.3:
        return []
    roll = rng.random()
    if proto == "tcp" and roll < 0.4:
        return [f"-m tcp {rng.choice(DECIDED_TCP)}"]
    if proto is not None and roll < 0.6:
        port = rng.choice(PORT_POOL)
        b.ports.add(port)
        return [f"-m conntrack {_neg(rng, 0.3)}--ctorigdstport {port}"]
    return [rng.choice(DECIDED_ANY)]


def _filter_rule(b: _Builder, chain_index: int, chains: list[str]) -> str:
    rng = b.rng
    parts, proto = _matches(b)
    parts += _decided(b, proto)
    later = chains[chain_index + 1:]
    base = chain_index == 0
    weights = {
        "ACCEPT": 25, "DROP": 18, "REJECT": 15, "JUMP": 18 if later else 0, "GOTO": 5 if later else 0,
        "LOG": 7, "RETURN": 3 if base else 14, "NONE": 2,
    }
    kind = rng.choices(list(weights), weights=list(weights.values()))[0]
    if kind in ("ACCEPT", "DROP", "RETURN"):
        parts.append(f"-j {kind}")
    elif kind == "REJECT":
        parts.append(_reject(rng, proto))
    elif kind == "JUMP":
        parts.append(f"-j {rng.choice(later)}")
    elif kind == "GOTO":
        parts.append(f"-g {rng.choice(later)}")
    elif kind == "LOG":
        parts.append(rng.choice(('-j LOG --log-prefix "portlint: "', "-j LOG --log-level 4", "-j LOG")))
    return " ".join(parts)


def _nat_rule(b: _Builder, chains: list[str], chain_index: int) -> str:
    rng = b.rng
    later = chains[chain_index + 1:]
    roll = rng.random()
    if later and roll < 0.15:
        parts, _ = _matches(b)
        return " ".join(parts + [f"-j {rng.choice(later)}"])
    if roll < 0.25:
        parts, _ = _matches(b)
        return " ".join(parts + [rng.choice(("-j ACCEPT", "-j RETURN"))])
    parts: list[str] = []
    dnat = rng.random() >= 0.5
    # A DNAT goes to the address the packet was sent to (only a new port): portlint
    # cannot know which other addresses are the host's own, and takes a DNAT to
    # another address as forwarded. So a DNAT rule is tied to its address by -d or -i.
    iface, address = rng.choice(tuple(SERVER_ADDRS.items()))
    if rng.random() < 0.3:
        parts.append(f"{_neg(rng, 0.3)}-s {rng.choice(SRC_PREFIXES)}")
    if dnat and rng.random() < 0.5:
        parts.append(f"-d {address}/32")
    elif dnat:
        parts.append(f"-i {iface}")
    else:
        if rng.random() < 0.2:
            parts.append(f"-d {rng.choice(DST_PREFIXES)}")
        if rng.random() < 0.3:
            parts.append(rng.choice(("-i eth0", "-i eth1", "! -i eth1", "-i eth+")))
    proto = rng.choice(("tcp", "udp"))
    parts.append(f"-p {proto}")
    if rng.random() < 0.8:
        parts.append(f"-m {proto} --dport {b.port_spec()}")
    else:
        parts.append(f"-m multiport --dports {b.multiport_list()}")
    target_port = rng.choice(LISTEN)
    b.ports.add(target_port)
    if dnat:
        parts.append(f"-j DNAT --to-destination {address}" + (f":{target_port}" if rng.random() < 0.9 else ""))
    elif rng.random() < 0.9:
        parts.append(f"-j REDIRECT --to-ports {target_port}")
    else:
        parts.append("-j REDIRECT")
    return " ".join(parts)


# Targets of the tables other than filter and nat (REJECT is for filter only).
RAW_TARGETS = {"-j DROP": 20, "-j ACCEPT": 15, "-j CT --notrack": 30, "-j NOTRACK": 5, "-j RETURN": 10,
               "-j LOG": 5}
MANGLE_TARGETS = {"-j DROP": 25, "-j ACCEPT": 25, "-j RETURN": 10, '-j LOG --log-prefix "mangle: "': 10,
                  "-j MARK --set-xmark 0x1/0xffffffff": 10}
SECURITY_TARGETS = {"-j DROP": 30, "-j ACCEPT": 30, "-j RETURN": 10, "-j LOG": 10}


def _simple_rules(b: _Builder, chain: str, targets: dict[str, int], count: tuple[int, int]) -> list[tuple[str, str]]:
    rules = []
    for _ in range(b.rng.randint(*count)):
        parts, _ = _matches(b)
        parts.append(b.rng.choices(list(targets), weights=list(targets.values()))[0])
        rules.append((chain, " ".join(parts)))
    return rules


def _table(name: str, policies: dict[str, str], user_chains: list[str], rules: list[tuple[str, str]]) -> str:
    lines = [f"*{name}"]
    lines += [f":{chain} {policy} [0:0]" for chain, policy in policies.items()]
    lines += [f":{chain} - [0:0]" for chain in user_chains]
    lines += [f"-A {chain} {rule}".rstrip() for chain, rule in rules]
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def generate_ruleset(seed: int, attempt: int = 0) -> GeneratedRuleset:
    rng = random.Random(f"portlint-kernel-ruleset-{seed}-{attempt}")
    b = _Builder(rng, decided=random.Random(f"portlint-kernel-decided-{seed}-{attempt}"))
    sections = []
    extra_rules = 0
    # The tables around nat and filter: raw (before conntrack: state matches see INVALID,
    # notrack), mangle (before and after nat) and security (after filter).
    if rng.random() < 0.22:
        rules = _simple_rules(b, "PREROUTING", RAW_TARGETS, (1, 3))
        extra_rules += len(rules)
        sections.append(_table("raw", {"PREROUTING": "ACCEPT", "OUTPUT": "ACCEPT"}, [], rules))
    if rng.random() < 0.25:
        rules = []
        for chain in ("PREROUTING", "INPUT"):
            if rng.random() < 0.7:
                rules += _simple_rules(b, chain, MANGLE_TARGETS, (1, 3))
        extra_rules += len(rules)
        sections.append(_table("mangle", {c: "ACCEPT" for c in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT",
                                                               "POSTROUTING")}, [], rules))
    nat = rng.random() < 0.35
    nat_rules: list[tuple[str, str]] = []
    if nat:
        nat_chains = ["PREROUTING"] + (["PORTFWD"] if rng.random() < 0.3 else [])
        for index, chain in enumerate(nat_chains):
            for _ in range(rng.randint(1, 3)):
                nat_rules.append((chain, _nat_rule(b, nat_chains, index)))
        sections.append(_table("nat", {"PREROUTING": "ACCEPT", "INPUT": "ACCEPT", "OUTPUT": "ACCEPT",
                                       "POSTROUTING": "ACCEPT"}, nat_chains[1:], nat_rules))
    user_chains = rng.sample(USER_CHAIN_NAMES, rng.randint(1, 3))
    chains = ["INPUT"] + user_chains
    rules: list[tuple[str, str]] = [("INPUT", "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")]
    for _ in range(rng.randint(2, 9)):
        rules.append(("INPUT", _filter_rule(b, 0, chains)))
    for index, chain in enumerate(chains[1:], start=1):
        for _ in range(rng.randint(0, 6)):
            rules.append((chain, _filter_rule(b, index, chains)))
    # Make sure the user chains are used at all: INPUT jumps to the first one.
    if not any(f"-j {user_chains[0]}" in r or f"-g {user_chains[0]}" in r for _, r in rules):
        position = rng.randint(1, sum(1 for c, _ in rules if c == "INPUT"))
        rules.insert(position, ("INPUT", " ".join(_matches(b)[0] + [f"-j {user_chains[0]}"])))
    policies = {"INPUT": rng.choice(("ACCEPT", "DROP")), "FORWARD": rng.choice(("ACCEPT", "DROP")),
                "OUTPUT": "ACCEPT"}
    sections.append(_table("filter", policies, user_chains, rules))
    if rng.random() < 0.15:
        security = _simple_rules(b, "INPUT", SECURITY_TARGETS, (1, 3))
        extra_rules += len(security)
        sections.append(_table("security", {"INPUT": "ACCEPT", "FORWARD": "ACCEPT", "OUTPUT": "ACCEPT"}, [],
                               security))
    text = "# Generated by portlint's kernel test generator\n" + "".join(sections) + "# Completed\n"
    ports = tuple(sorted(p for p in b.ports if p in LISTEN_PORTS))
    return GeneratedRuleset(seed, attempt, text, ports, nat, len(rules) + len(nat_rules) + extra_rules,
                            tuple(sorted(tables_in(text))))


def generate_flows(seed: int, ruleset: GeneratedRuleset, sources: tuple[str, ...],
                   count: tuple[int, int] = (10, 20)) -> list[tuple[str, str, int]]:
    """(source address, protocol, destination port) triples to probe on ``ruleset``."""
    rng = random.Random(f"portlint-kernel-flows-{seed}-{ruleset.attempt}")
    flows = []
    for _ in range(rng.randint(*count)):
        proto = "tcp" if rng.random() < 0.55 else "udp"
        if ruleset.ports and rng.random() < 0.7:
            port = rng.choice(ruleset.ports)
        else:
            port = rng.choice(LISTEN)
        flows.append((rng.choice(sources), proto, port))
    return flows
