"""The common model: plain, frozen data that every front end produces.

Front ends (iptables-save, iptables shell scripts, nftables, compose) turn their
syntax into these objects and nothing else; the engine, the checks and the
reporters only ever see this module's types. Nothing here holds a parser object.

Ports are inclusive ``(lo, hi)`` ranges, kept sorted, disjoint and merged.
Addresses are inclusive ranges over the integer address space of one family
(IPv4: 0..2**32-1, IPv6: 0..2**128-1), so prefixes, iprange and sets all share
one representation.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Union

Range = tuple[int, int]

MAX_PORT = 65535
IPV4_MAX = 2**32 - 1
IPV6_MAX = 2**128 - 1


@dataclass(frozen=True, slots=True)
class Span:
    """Where a model object came from: 1-based line and column, inclusive end."""

    path: str
    line: int
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


def normalize_ranges(ranges) -> tuple[Range, ...]:
    """Sort, merge overlapping and adjacent ranges; the canonical form of a range set."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if lo > hi:
            raise ValueError(f"empty range {lo}-{hi}")
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1][1] = hi
        else:
            merged.append([lo, hi])
    return tuple((lo, hi) for lo, hi in merged)


@dataclass(frozen=True, slots=True)
class PortSet:
    """A set of ports (or any small integers) as sorted, disjoint, merged ranges."""

    ranges: tuple[Range, ...]

    @classmethod
    def of(cls, *items: int | Range) -> "PortSet":
        """Build from ports and ``(lo, hi)`` pairs: ``PortSet.of(22, (80, 90))``."""
        return cls(normalize_ranges((i, i) if isinstance(i, int) else i for i in items))

    @classmethod
    def all(cls) -> "PortSet":
        return cls(((0, MAX_PORT),))

    def __contains__(self, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ranges)

    def __str__(self) -> str:
        return ports_text(self.ranges)


def ports_text(ranges) -> str:
    """Port ranges as a user writes them: ``22,80-89`` (the one spelling messages and tables use)."""
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


class Family(str, enum.Enum):
    """Address family of a table or ruleset. INET covers both IPv4 and IPv6."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    INET = "inet"
    ARP = "arp"
    BRIDGE = "bridge"
    NETDEV = "netdev"

    @property
    def label(self) -> str:
        """How findings name the family: IPv4 and IPv6, the others as nft spells them."""
        return {"ipv4": "IPv4", "ipv6": "IPv6"}.get(self.value, self.value)

    def covers(self, family: "Family") -> bool:
        """True when packets of ``family`` (IPV4 or IPV6) pass through tables of self."""
        if self is family:
            return True
        return self in (Family.INET, Family.NETDEV, Family.BRIDGE) and family in (Family.IPV4, Family.IPV6)


@dataclass(frozen=True, slots=True)
class AddressSet:
    """IP addresses of one family as integer ranges; ``text`` is how the input wrote it."""

    family: Family
    ranges: tuple[Range, ...]
    text: str = ""


class Direction(str, enum.Enum):
    SOURCE = "source"
    DESTINATION = "destination"


# --- Matches -----------------------------------------------------------------
# A rule's matches are ANDed, in order. Each may be negated ("! -s 10.0.0.0/8").


@dataclass(frozen=True, slots=True)
class ProtocolMatch:
    """Layer-4 protocol numbers (6 tcp, 17 udp, 132 sctp, 1 icmp, 58 icmpv6...)."""

    protocols: frozenset[int]
    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class AddressMatch:
    direction: Direction
    addresses: AddressSet
    negated: bool = False


@dataclass(frozen=True, slots=True)
class InterfaceMatch:
    """Input or output interface; a name ending in ``+`` (iptables) or ``*`` (nft) is a prefix."""

    direction: str  # "in" or "out"
    names: tuple[str, ...]
    negated: bool = False

    def matches(self, iface: str) -> bool:
        """True when ``iface`` is one of the names or wildcards (before negation)."""
        for name in self.names:
            if name.endswith(("+", "*")):
                if iface.startswith(name[:-1]):
                    return True
            elif iface == name:
                return True
        return False


@dataclass(frozen=True, slots=True)
class PortMatch:
    """Source or destination port of tcp/udp/sctp/dccp (``--dport``, ``multiport``, ``th dport``)."""

    direction: Direction
    ports: PortSet
    negated: bool = False


@dataclass(frozen=True, slots=True)
class StateMatch:
    """Conntrack state: new, established, related, invalid, untracked (lower case)."""

    states: frozenset[str]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class AddrTypeMatch:
    """Address type of source or destination (``-m addrtype``, nft ``fib daddr type``)."""

    direction: Direction
    types: frozenset[str]  # upper case: LOCAL, UNICAST, BROADCAST, MULTICAST...
    negated: bool = False


# Conntrack status bits a rule may test (nft names; iptables --ctstatus spells them in upper case).
CT_STATUSES = frozenset({"expected", "seen-reply", "assured", "confirmed", "snat", "dnat", "dying"})


@dataclass(frozen=True, slots=True)
class CtStatusMatch:
    """Conntrack status bits (nft ``ct status dnat``, iptables ``-m conntrack --ctstatus DNAT``).

    Matches when any of ``statuses`` is set, or all of them with ``all_of`` (nft
    ``ct status & (snat|dnat) == snat|dnat``). A packet without a conntrack entry
    (invalid, untracked) matches only if ``without_entry``, negated or not: iptables'
    conntrack match lets such a packet through when the same ``-m conntrack`` also has
    ``--ctstate``, nft never does.
    """

    statuses: frozenset[str]
    all_of: bool = False
    without_entry: bool = False
    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class NatStateMatch:
    """iptables ``--ctstate`` naming the virtual states SNAT/DNAT: the conntrack state is
    one of ``states``, or the connection's ``nat`` ("snat"/"dnat") status bit is set."""

    states: frozenset[str]
    nat: frozenset[str]
    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class OriginalAddressMatch:
    """An address of the connection's original tuple, before NAT (``--ctorigdst``,
    nft ``ct original ip daddr``). ``without_entry`` as for CtStatusMatch."""

    direction: Direction
    addresses: AddressSet
    negated: bool = False
    without_entry: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class OriginalPortMatch:
    """A port of the connection's original tuple, before NAT (``--ctorigdstport``,
    nft ``ct original proto-dst``). ``without_entry`` as for CtStatusMatch."""

    direction: Direction
    ports: PortSet
    negated: bool = False
    without_entry: bool = False
    text: str = ""


TCP_FLAG_BITS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20,
                 "ece": 0x40, "cwr": 0x80}


@dataclass(frozen=True, slots=True)
class TcpFlagsMatch:
    """TCP flags (``--tcp-flags MASK COMP``, ``--syn``, nft ``tcp flags``) as bits of
    ``TCP_FLAG_BITS``: the packet is tcp and ``flags & mask == value``, or with ``any_of``
    ``flags & mask != 0``. Negation keeps the tcp part: a udp packet never matches."""

    mask: int
    value: int
    any_of: bool = False
    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class LimitMatch:
    """A rate or count limit (``-m limit``, ``hashlimit``, ``connlimit``, nft ``limit rate``,
    ``ct count``) or a match kept for its side effect (``-m recent --set``, nft ``add @set``).

    For reach analysis the first packets of a first connection stay within every limit:
    it matches unless ``over`` (``limit rate over``, ``--hashlimit-above``, ``--connlimit-above``).
    """

    module: str
    over: bool = False
    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class FragmentMatch:
    """Non-first IPv4 fragments (``-f``, nft ``ip frag-off & 0x1fff != 0``)."""

    negated: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class MarkMatch:
    """The packet mark (``-m mark --mark V/M``) or, with ``conn``, the connection's mark
    (``-m connmark --mark V/M``): true when ``mark & mask == value``."""

    value: int
    mask: int = 0xFFFFFFFF
    negated: bool = False
    conn: bool = False
    text: str = ""


@dataclass(frozen=True, slots=True)
class OpaqueMatch:
    """Anything not modelled (limit, recent, mark, time, owner...), kept verbatim.

    The engine treats it conservatively: it may or may not match.
    """

    module: str
    text: str
    negated: bool = False


Match = Union[MarkMatch, ProtocolMatch, AddressMatch, InterfaceMatch, PortMatch, StateMatch, AddrTypeMatch, CtStatusMatch,
              NatStateMatch, OriginalAddressMatch, OriginalPortMatch, TcpFlagsMatch, LimitMatch, FragmentMatch,
              OpaqueMatch]


# --- Verdicts ----------------------------------------------------------------


class VerdictKind(str, enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"
    JUMP = "jump"
    GOTO = "goto"
    DNAT = "dnat"
    SNAT = "snat"
    MASQUERADE = "masquerade"
    REDIRECT = "redirect"
    QUEUE = "queue"
    LOG = "log"
    CONTINUE = "continue"  # no verdict: counters, marks and other non-terminal statements
    OTHER = "other"  # a named target portlint does not model (see Verdict.target)


_OTHER_KIND = VerdictKind.OTHER

TERMINAL_KINDS = frozenset(
    {
        VerdictKind.ACCEPT,
        VerdictKind.DROP,
        VerdictKind.REJECT,
        VerdictKind.RETURN,
        VerdictKind.GOTO,
        VerdictKind.DNAT,
        VerdictKind.SNAT,
        VerdictKind.MASQUERADE,
        VerdictKind.REDIRECT,
        VerdictKind.QUEUE,
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule does when it matches.

    ``target`` is the chain of a jump/goto or the target's name for OTHER (``TPROXY``).
    ``to_addresses``/``to_ports`` are the rewrite of dnat/snat/redirect.
    ``options`` keeps the remaining target options verbatim, in order.
    ``terminal`` overrides the default for OTHER targets known to end evaluation.
    ``other_outcome`` says what a terminal OTHER target does with the packet when the front end
    knows: "queue" (handed to a user-space program, iptables' NFQUEUE) or "drop" (MIRROR sends
    it back); None means it is taken in (TPROXY, SYNPROXY, NETMAP...).
    """

    kind: VerdictKind
    target: str | None = None
    to_addresses: AddressSet | None = None
    to_ports: PortSet | None = None
    options: tuple[tuple[str, str], ...] = ()
    terminal_other: bool = False
    other_outcome: str | None = None

    @property
    def terminal(self) -> bool:
        # (the enum member read from a module constant: a class attribute of an Enum costs
        # ~140 ns on Python 3.11, and a random mix asks this ~96,000 times at 100,000 rules)
        kind = self.kind
        if kind is _OTHER_KIND:
            return self.terminal_other
        return kind in TERMINAL_KINDS


@dataclass(frozen=True, slots=True)
class Statement:
    """A non-terminal action beside the verdict (nft ``counter``, ``log``, ``meta mark set``)."""

    name: str
    text: str = ""
    # The non-terminal target this statement does, when iptables has one: nft ``meta mark set 0x1``
    # is MARK --set-xmark 0x1/0xffffffff, ``ct mark set meta mark`` is CONNMARK --save-mark.
    action: "Verdict | None" = None


@dataclass(frozen=True, slots=True)
class Rule:
    matches: tuple[Match, ...]
    verdict: Verdict
    span: Span
    comment: str | None = None
    statements: tuple[Statement, ...] = ()
    text: str = ""  # the rule as written, for messages and code frames


# --- Chains, tables, rulesets -------------------------------------------------


class Hook(str, enum.Enum):
    INGRESS = "ingress"
    PREROUTING = "prerouting"
    INPUT = "input"
    FORWARD = "forward"
    OUTPUT = "output"
    POSTROUTING = "postrouting"
    EGRESS = "egress"  # nftables netdev family (Linux 5.16+)


class Policy(str, enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"
    # nft ``policy $name`` with the variable undefined (a fragment whose defines live elsewhere):
    # the engine lets the rules decide and reports no default accept (engine/paths.py).
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain. Base chains have a hook, a type (filter/nat/route), a priority and a policy.

    ``role`` is the part the chain plays in netfilter, as the front end knows it: an iptables
    chain's table ("filter", "nat", "mangle", "raw", "security"), so filter INPUT and mangle
    INPUT differ; an nftables base chain's type; None for an nftables regular chain.
    """

    name: str
    rules: tuple[Rule, ...]
    span: Span
    hook: Hook | None = None
    type: str | None = None
    priority: int | None = None
    policy: Policy | None = None
    device: str | None = None
    role: str | None = None

    @property
    def is_base(self) -> bool:
        return self.hook is not None


@dataclass(frozen=True, slots=True)
class NamedSet:
    """An nftables named set or map, kept for hygiene checks (its elements are inlined into rules)."""

    name: str
    span: Span
    type: str = ""
    flags: tuple[str, ...] = ()
    elements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    family: Family
    chains: tuple[Chain, ...]
    span: Span
    sets: tuple[NamedSet, ...] = ()
    used_sets: frozenset[str] = frozenset()  # names of the named sets some rule of the table refers to

    def chain(self, name: str) -> Chain | None:
        for chain in self.chains:
            if chain.name == name:
                return chain
        return None


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A whole firewall configuration read from one file.

    ``format`` names the front end ("iptables-save", "iptables-script", "nftables", "compose");
    checks and the engine never read it (tests/test_layering.py): what they need of the input's
    origin is in the fields below, set by the front end.
    ``family`` is IPV4 or IPV6 for iptables input and INET for nftables (tables carry their own).
    A shell script that runs both iptables and ip6tables gives one Ruleset of family INET holding
    IPV4 tables and IPV6 tables (the engine selects tables by Family.covers).
    ``loader``: the program that puts the ruleset in the kernel ("nft"; "iptables" for
    iptables-restore and iptables, either backend; "docker" for rules modelled from compose).
    ``restrict_example``: a match on a private source network, as the input would write it, for
    hints that say what to add to a rule.
    ``generator``: the tool that wrote the ruleset when the front end knows it ("docker" for
    compose); otherwise checks/generators.py recognises it by its chain names.
    """

    path: str
    format: str
    family: Family
    tables: tuple[Table, ...]
    loader: str = ""
    restrict_example: str = ""
    generator: str | None = None

    def table(self, name: str, family: Family | None = None) -> Table | None:
        for table in self.tables:
            if table.name == name and (family is None or table.family is family):
                return table
        return None


# --- Compose ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostAddress:
    """What a publication's host IP means, resolved by the compose front end.

    ``scope`` is "all" (every interface), "loopback", "private", "public" or "invalid".
    ``family`` is None for no host IP (Docker binds 0.0.0.0 and [::]) and for invalid ones.
    """

    text: str | None
    scope: str
    family: Family | None
    value: int | None = None  # the address as an integer (specific addresses only)
    reason: str = ""  # why an invalid one is invalid


ALL_INTERFACES = HostAddress(None, "all", None)


@dataclass(frozen=True, slots=True)
class Publication:
    """One published (or exposed) container port of a compose service.

    ``published`` None means Docker picks an ephemeral host port.
    ``host_ip`` None means all interfaces (0.0.0.0 and [::]).
    """

    target: Range
    published: Range | None
    host_ip: str | None
    protocol: str
    span: Span
    mode: str = "ingress"
    exposed_only: bool = False  # from `expose:`: reachable only by other containers
    text: str = ""
    name: str | None = None  # long syntax `name:`, a label for people
    app_protocol: str | None = None  # long syntax `app_protocol:` ("http", "https"...)
    # the host IP as written ("${BIND_IP}") when a variable's value went into it; None: as read
    host_ip_text: str | None = None
    host: HostAddress = ALL_INTERFACES  # what host_ip means (the front end resolves it)

    @property
    def shown_host_ip(self) -> str | None:
        """The host IP for messages and reports: as written when it came from a variable (whose
        value may be a secret), else as read."""
        return self.host_ip_text if self.host_ip_text is not None else self.host_ip


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    publications: tuple[Publication, ...]
    span: Span
    network_mode: str | None = None
    profiles: tuple[str, ...] = ()
    image: str | None = None
    # the settings as written ("${TAG}") where a variable's value went into them (None: as read);
    # messages and `portlint show` print these, since a variable may hold a secret
    network_mode_text: str | None = None
    image_text: str | None = None
    profiles_text: tuple[str, ...] | None = None

    @property
    def shown_network_mode(self) -> str | None:
        return self.network_mode_text if self.network_mode_text is not None else self.network_mode

    @property
    def shown_image(self) -> str | None:
        return self.image_text if self.image_text is not None else self.image

    @property
    def shown_profiles(self) -> tuple[str, ...]:
        return self.profiles_text if self.profiles_text is not None else self.profiles
    network_mode_span: Span | None = None  # where `network_mode:` is set, for findings about it


@dataclass(frozen=True, slots=True)
class ComposeProject:
    path: str
    services: tuple[Service, ...]
    files: tuple[str, ...] = field(default=())
    format: str = "compose"


Document = Union[Ruleset, ComposeProject]
