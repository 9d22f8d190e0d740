"""A box in packet space, and splitting a box by a rule's matches.

A Box is a product of sets, one per dimension a rule can test. The engine never
enumerates ports or addresses: a match splits a box into the part it matches and
the parts it does not, each still a box. Destination and port are kept twice once
a DNAT has rewritten them: ``dst``/``dport`` stay what the client sent (what
exposure reports) and ``nat_dst``/``nat_dport`` are what later rules see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from linter.engine import intervals as iv, memo
from linter.engine.memo import IdentityCache
from linter.model import (
    TCP_FLAG_BITS,
    MarkMatch,
    AddressMatch,
    AddrTypeMatch,
    CtStatusMatch,
    Direction,
    Family,
    FragmentMatch,
    InterfaceMatch,
    LimitMatch,
    NatStateMatch,
    OpaqueMatch,
    OriginalAddressMatch,
    OriginalPortMatch,
    PortMatch,
    ProtocolMatch,
    StateMatch,
    TcpFlagsMatch,
)
from linter.addresses import LOOPBACK_V4, LOOPBACK_V6, family_max
from linter.netdb import PORT_PROTOCOLS

PORT_PROTOCOL_RANGES = iv.normalize(tuple((p, p) for p in sorted(PORT_PROTOCOLS)))
ALL_STATES = frozenset({"new", "established", "related", "invalid", "untracked"})
MULTICAST_V4 = ((0xE0000000, 0xEFFFFFFF),)
BROADCAST_V4 = ((0xFFFFFFFF, 0xFFFFFFFF),)
MULTICAST_V6 = ((0xFF << 120, 2**128 - 1),)


@dataclass(frozen=True, slots=True)
class Assumption:
    """An opaque match the engine assumed to match (or not) on this box's path."""

    rule: object  # model.Rule
    match: object  # OpaqueMatch, an output InterfaceMatch, or a path-decided match it could not decide
    matched: bool


# A path the engine stopped following (engine/budget.py): what it led to is only possible.
CUT_ASSUMPTION = Assumption(None, OpaqueMatch("portlint", "what portlint did not follow (jumps nested too deep)"), True)


class Box(NamedTuple):
    """One box of packet space (a NamedTuple: boxes are made and copied by the million)."""

    family: Family
    proto: iv.Ranges
    sport: iv.Ranges
    dport: iv.Ranges
    src: iv.Ranges
    dst: iv.Ranges
    iif: frozenset[str]
    state: frozenset[str]
    local: bool = True  # is the (current) destination an address of this host?
    nat_dst: iv.Ranges | None = None
    nat_dport: iv.Ranges | None = None
    oif: frozenset[str] | None = None  # output interface representatives; None: unknown (before routing)
    # The packet's and its connection's marks: 0 for a new connection's first packet from the wire,
    # changed only by MARK/CONNMARK on the path; None once something the engine does not follow set them.
    mark: int | None = 0
    ctmark: int | None = 0
    assumptions: tuple[Assumption, ...] = ()
    trail: tuple = ()  # engine.walk.Step records, in order

    @property
    def cur_dst(self) -> iv.Ranges:
        return self.dst if self.nat_dst is None else self.nat_dst

    @property
    def cur_dport(self) -> iv.Ranges:
        return self.dport if self.nat_dport is None else self.nat_dport

    @property
    def possible(self) -> bool:
        """True when the box reached its outcome only by assuming an opaque match matched."""
        return any(a.matched for a in self.assumptions)

    def is_empty(self) -> bool:
        return not (self.proto and self.sport and self.dport and self.src and self.dst and self.iif and self.state
                    and (self.nat_dst is None or self.nat_dst) and (self.nat_dport is None or self.nat_dport)
                    and (self.oif is None or self.oif))


_PATHS: dict[tuple, tuple] = memo.per_file({})
# Sharing matters between boxes split from one another, which extend their paths close
# together in time: a small cache keeps nearly all of it (the same results and findings on
# the 100k-rule benchmark) where an unbounded one held 100 MB of keys.
PATH_CACHE_SIZE = 50_000
# While set, the cache is not emptied however full (hold_paths): the paths extended meanwhile
# share every equal extension, whatever else was extended before or in between.
_HOLDING = [False]


def forget_paths() -> None:
    """Empty the path cache: a base chain's walk begins with nothing earlier walks left in it
    (engine/paths.py), so where it empties the cache depends on that walk alone. (A hold left
    by a walk that raised ends here too.)"""
    _PATHS.clear()
    _HOLDING[0] = False


memo.on_forget(forget_paths)  # (a hold a crashed file left ends with it too)


def hold_paths(held: bool) -> None:
    """Keep the path cache whole from ``hold_paths(True)`` to ``hold_paths(False)``, which
    empties it if it grew past its size (engine/replay.py's replays: which of them share a path
    then depends on their own paths, not on how many other boxes were replayed in between)."""
    _HOLDING[0] = held
    if not held and len(_PATHS) > PATH_CACHE_SIZE:
        _PATHS.clear()


def extend_path(path: tuple, identity: tuple, make, *args) -> tuple:
    """``path + (make(*args),)``, hash-consed by ``identity``: equal paths are the same tuple
    object, and the new item is only built when this extension is new.

    Boxes compare their trails and assumptions by identity (coalesce), so two boxes
    that took the same way through the rules must share one tuple.
    """
    key = (id(path), identity)
    hit = _PATHS.get(key)
    if hit is not None and hit[0] is path:
        return hit[1]
    if len(_PATHS) > PATH_CACHE_SIZE and not _HOLDING[0]:
        _PATHS.clear()
    extended = path + (make(*args),)
    _PATHS[key] = (path, extended)
    return extended


def _assume(assumptions: tuple, rule, match, matched: bool) -> tuple:
    return extend_path(assumptions, (id(rule), id(match), matched), Assumption, rule, match, matched)


_FIELD_INDEX = {name: index for index, name in enumerate(Box._fields)}
_ASSUMPTIONS = _FIELD_INDEX["assumptions"]
_new_box = tuple.__new__


def replace(box: Box, **changes) -> Box:
    """A copy of ``box`` with some dimensions changed."""
    if len(changes) == 1:
        (name, value), = changes.items()
        index = _FIELD_INDEX[name]
        return _new_box(Box, (*box[:index], value, *box[index + 1:]))
    values = list(box)  # (NamedTuple._replace goes through keyword arguments: twice as slow)
    for name, value in changes.items():
        values[_FIELD_INDEX[name]] = value
    return _new_box(Box, values)


def _setter(name: str):
    """A function (box, value) -> copy of box with field ``name`` set: the hot paths of
    split_match build millions of boxes, and keyword arguments cost a third of that."""
    index = _FIELD_INDEX[name]
    after = index + 1

    def set_field(box: Box, value) -> Box:
        return _new_box(Box, box[:index] + (value,) + box[after:])
    set_field.__name__ = f"with_{name}"
    return set_field


with_proto = _setter("proto")
with_sport = _setter("sport")
with_src = _setter("src")
_with_state = _setter("state")
_with_iif = _setter("iif")
_with_oif = _setter("oif")
_with_assumptions = _setter("assumptions")
_set_dst = _setter("dst")
_set_nat_dst = _setter("nat_dst")
_set_dport = _setter("dport")
_set_nat_dport = _setter("nat_dport")

_PROTOCOL_RANGES: dict[frozenset[int], iv.Ranges] = {}


def protocol_ranges(protocols: frozenset[int]) -> iv.Ranges:
    """A protocol match's numbers as ranges (remembered per set)."""
    found = _PROTOCOL_RANGES.get(protocols)
    if found is None:
        found = _PROTOCOL_RANGES[protocols] = iv.normalize((p, p) for p in sorted(protocols))
    return found


def with_trail(box: Box, trail: tuple) -> Box:
    """A copy of ``box`` with another trail (the last field: one slice, no lookups)."""
    return _new_box(Box, box[:-1] + (trail,))


def trails_back(boxes: list[Box], before: dict[int, tuple]) -> None:
    """Each box of ``boxes`` whose trail is a key of ``before`` (by id) given that key's trail
    instead, in place: a box is replaced where it lies, so the list never holds the old and the
    new boxes at once (what comes back from ufw's user chain is a quarter of a million boxes,
    the walk's peak when copied into a new list). ``boxes`` must be held nowhere else."""
    get = before.get
    for at, box in enumerate(boxes):
        trail = get(id(box[-1]))
        if trail is not None:
            boxes[at] = _new_box(Box, box[:-1] + (trail,))


def with_dst(box: Box, ranges: iv.Ranges) -> Box:
    if box.nat_dst is None:
        return _set_dst(box, ranges)
    return _set_nat_dst(box, ranges)


def with_dport(box: Box, ranges: iv.Ranges) -> Box:
    if box.nat_dport is None:
        return _set_dport(box, ranges)
    return _set_nat_dport(box, ranges)


def _split_ranges(box: Box, current: iv.Ranges, wanted: iv.Ranges, rebuild) -> tuple[Box | None, Box | None]:
    inside = iv.intersect(current, wanted)
    if not inside:
        return None, box  # most boxes miss most rules: no subtraction, no copy
    if inside is current:
        return box, None
    outside = iv.subtract(current, wanted)
    return rebuild(box, inside), rebuild(box, outside) if outside else None


def _addrtype_ranges(family: Family, types: frozenset[str], direction: Direction, box: Box,
                     own: iv.Ranges | None = None) -> iv.Ranges:
    """The addresses of ``direction`` whose type is one of ``types`` for this box's path;
    ``own``: this host's addresses when known (then they alone are a LOCAL destination)."""
    maximum = family_max(family)
    if family is Family.IPV6:
        multicast, broadcast, loopback = MULTICAST_V6, (), LOOPBACK_V6
    else:
        multicast, broadcast, loopback = MULTICAST_V4, BROADCAST_V4, LOOPBACK_V4
    unicast = iv.subtract(iv.subtract(iv.full(maximum), multicast), broadcast)
    result: iv.Ranges = ()
    if "MULTICAST" in types:
        result = iv.union(result, multicast)
    if "BROADCAST" in types:
        result = iv.union(result, broadcast)
    # The kernel gives an address one type, from its route: an address of this host is
    # LOCAL and not UNICAST (so is every loopback address).
    if "UNICAST" in types:
        if direction is Direction.SOURCE:
            result = iv.union(result, iv.subtract(unicast, loopback))
        elif own is not None:
            result = iv.union(result, iv.subtract(unicast, own))
        elif not box.local:
            result = iv.union(result, unicast)
    if "LOCAL" in types:
        if direction is Direction.DESTINATION:
            if own is not None:
                result = iv.union(result, own)
            elif box.local:
                result = iv.union(result, unicast)
        else:
            result = iv.union(result, loopback)
    return result


# (Read once: a member looked up through its class costs an attribute read, per box and match.)
_SOURCE, _DESTINATION = Direction.SOURCE, Direction.DESTINATION


def split_match(box: Box, match, rule, record_misses: bool = True,
                decide: bool | str = True) -> tuple[Box | None, list[Box]]:
    """Split ``box`` by one match: (the part that matches or None, the parts that don't).

    ``decide=False`` leaves the matches this packet's path decides (conntrack status, the
    original tuple, tcp flags, limits, fragments) opaque: for an analysis of one chain
    without the path that led to it (the dead-rule analysis). ``decide=FIRST_PACKET`` says
    the box is a new connection's first packet that conntrack has not seen yet (a raw
    chain: its state is invalid there, and its tcp flags are still a SYN's)."""
    negated = match.negated
    if isinstance(match, ProtocolMatch):
        inside, outside = _split_ranges(box, box.proto, protocol_ranges(match.protocols), with_proto)
    elif isinstance(match, PortMatch):
        if match.direction is _DESTINATION:
            inside, outside = _split_ranges(box, box.cur_dport, match.ports.ranges, with_dport)
        else:
            inside, outside = _split_ranges(box, box.sport, match.ports.ranges, with_sport)
        if not negated and inside is not None:
            # A port match only ever matches packets that have ports.
            proto_in = iv.intersect(inside.proto, PORT_PROTOCOL_RANGES)
            proto_out = iv.subtract(inside.proto, PORT_PROTOCOL_RANGES)
            extra = with_proto(inside, proto_out) if proto_out else None
            inside = with_proto(inside, proto_in) if proto_in else None
            return inside, [b for b in (outside, extra) if b is not None]
    elif isinstance(match, AddressMatch):
        if not match.addresses.family.covers(box.family) or match.addresses.family is not box.family and \
                match.addresses.family in (Family.IPV4, Family.IPV6):
            return None, [box]  # an ip match never matches an ip6 packet, negated or not
        if match.direction is _SOURCE:
            inside, outside = _split_ranges(box, box.src, match.addresses.ranges, with_src)
        else:
            inside, outside = _split_ranges(box, box.cur_dst, match.addresses.ranges, with_dst)
    elif isinstance(match, StateMatch):
        inside_states = box.state & match.states
        outside_states = box.state - match.states
        inside = _with_state(box, inside_states) if inside_states else None
        outside = _with_state(box, outside_states) if outside_states else None
    elif isinstance(match, InterfaceMatch) and match.direction == "in":
        hit = frozenset(i for i in box.iif if match.matches(i))
        miss = box.iif - hit
        inside = _with_iif(box, hit) if hit else None
        outside = _with_iif(box, miss) if miss else None
    elif isinstance(match, InterfaceMatch) and box.oif is not None:
        # The output interface is known once a routed box chose one (FORWARD, POSTROUTING).
        hit = frozenset(i for i in box.oif if match.matches(i))
        miss = box.oif - hit
        inside = _with_oif(box, hit) if hit else None
        outside = _with_oif(box, miss) if miss else None
    elif isinstance(match, AddrTypeMatch):
        own = decide.own(box.family) if isinstance(decide, Routing) and decide.host else None
        wanted = _addrtype_ranges(box.family, match.types, match.direction, box, own)
        if match.direction is _SOURCE:
            inside, outside = _split_ranges(box, box.src, wanted, with_src)
        else:
            inside, outside = _split_ranges(box, box.cur_dst, wanted, with_dst)
    elif isinstance(match, MarkMatch) and decide and (box.ctmark if match.conn else box.mark) is not None:
        current = box.ctmark if match.conn else box.mark
        if ((current & match.mask) == match.value) != negated:
            return box, []
        return None, [box]
    elif isinstance(match, InterfaceMatch) and isinstance(decide, Routing) and box.nat_dst is not None \
            and not box.local and (oif := decide.interface_of(box.family, box.nat_dst)) is not None:
        # After a DNAT to a container the route picks the output interface: Docker's bridge.
        if match.matches(oif) != negated:
            return box, []
        return None, [box]
    elif decide and type(match) in _DECIDERS:
        decided = _decide(box, match, _first_packet(decide))
        if decided is None:
            return _opaque_split(box, match, rule, record_misses)
        return decided
    else:
        if isinstance(decide, Routing) and decide.assumed and (settled := decide.assumed.decide(match)) is not None:
            return (box, []) if settled else (None, [box])
        return _opaque_split(box, match, rule, record_misses)
    if negated:
        inside, outside = outside, inside
    return inside, [outside] if outside is not None else []


def _opaque_split(box: Box, match, rule, record_misses: bool) -> tuple[Box | None, list[Box]]:
    """Both branches of a match the engine cannot decide for this box."""
    # Opaque (or an output interface, unknown before routing): it may match or not.
    # Both possibilities go on, each remembering what was assumed. Assuming "no match"
    # is only worth remembering for a trace: a box that took that branch is no less
    # certain, and leaving it unchanged lets it merge with its siblings again.
    yes = _with_assumptions(box, _assume(box.assumptions, rule, match, True))
    if not record_misses:
        return yes, [box]
    no = _with_assumptions(box, _assume(box.assumptions, rule, match, False))
    return yes, [no]


def split_rule(box: Box, matches, rule, record_misses: bool = True,
               decide: bool | str = True) -> tuple[Box | None, list[Box]]:
    """Split ``box`` by a rule's conjunction of matches: (matching part, non-matching parts).

    Boxes whose conntrack states a path-decided match treats differently should be split
    with ``state_parts`` first (the walker does): a box mixing them takes such a match as
    opaque."""
    outside: list[Box] = []
    inside: Box | None = box
    covered = False
    for match in matches:
        assumed = inside[_ASSUMPTIONS]
        inside, rest = split_match(inside, match, rule, record_misses, decide)
        if not covered:
            outside.extend(rest)
        if inside is None:
            break
        if not record_misses and inside[_ASSUMPTIONS] is not assumed:
            # The match was taken as opaque: its "no" branch is the whole box as it was,
            # and every later non-matching part lies inside it already.
            covered = True
    return inside, outside


_OPAQUE: IdentityCache[bool] = IdentityCache(1_000_000)


def has_opaque(rule) -> bool:
    """Whether any of the rule's matches is opaque (remembered per rule)."""
    found = _OPAQUE.get(rule)
    if found is None:
        found = _OPAQUE.put(rule, any(is_opaque(match) for match in rule.matches))
    return found


def is_opaque(match) -> bool:
    """Whether the engine cannot decide this match (it may match or not)."""
    if isinstance(match, OpaqueMatch):
        return True
    return isinstance(match, InterfaceMatch) and match.direction != "in"


_PATH_DECIDED: IdentityCache[bool] = IdentityCache(1_000_000)


def has_path_decided(rule) -> bool:
    """Whether any of the rule's matches is one only a packet's path decides (remembered per
    rule): opaque where the path is unknown (``decide=False``)."""
    found = _PATH_DECIDED.get(rule)
    if found is None:
        found = _PATH_DECIDED.put(rule, not _DECIDERS.keys().isdisjoint(map(type, rule.matches)))  # (in C)
    return found


# --- Matches the packet's path decides ------------------------------------------------
# For a new connection's first packet the ruleset itself decides a conntrack status, the
# original tuple, the tcp flags (SYN), a limit or whether it is a fragment. For the other
# conntrack states some stay opaque. ``_state_class`` names, per match and state, how the
# match is decided; a box whose states fall in several classes is split first
# (``state_parts``), so each part is decided one way.

NO_ENTRY = frozenset({"invalid", "untracked"})  # packets without a conntrack entry
_FIRST_SYN = TCP_FLAG_BITS["syn"]
_ECN_SYN = _FIRST_SYN | TCP_FLAG_BITS["ece"] | TCP_FLAG_BITS["cwr"]  # a SYN asking for ECN
TCP = 6


FIRST_PACKET = "first-packet"  # split_match(decide=...): a first packet before conntrack


@dataclass(frozen=True)
class Routing:
    """What split_match may decide beyond the rules (a true ``decide``): the subnet behind each
    Docker bridge, read from Docker's own MASQUERADE rule, decides the output interface of a
    connection DNATed to a container; ``assumed`` settles opaque matches as the user said.
    ``first_packet`` as FIRST_PACKET."""

    subnets: tuple[tuple[str, Family, iv.Ranges], ...]
    first_packet: bool = False
    assumed: object = None  # engine.assumptions.Assumptions: opaque matches the user settled
    # This host's addresses where known (roles.host_addresses): (family, ranges) pairs. They
    # decide `addrtype --dst-type LOCAL` / `fib daddr type local` and whether a DNAT stays local.
    host: tuple = ()

    def own(self, family: Family) -> iv.Ranges | None:
        """This host's known ``family`` addresses (loopback included), or None when unknown."""
        for known_family, ranges in self.host:
            if known_family is family:
                return iv.union(ranges, LOOPBACK_V6 if family is Family.IPV6 else LOOPBACK_V4)
        return None

    def interface_of(self, family: Family, destinations: iv.Ranges) -> str | None:
        """The one interface whose subnet holds every address of ``destinations``, or None."""
        for name, subnet_family, ranges in self.subnets:
            if subnet_family is family and iv.subtract(destinations, ranges) == ():
                return name
        return None


def _first_packet(decide) -> bool:
    return decide is FIRST_PACKET or (isinstance(decide, Routing) and decide.first_packet)


def _state_class(match, state: str, first: bool = False) -> str:
    """How ``match`` is decided for a packet in conntrack ``state``: "new", "none" (no
    conntrack entry), "all" (the same for every state), "yes" (matched by the state alone)
    or "opaque". ``first``: the packet is a new connection's first one whatever its state."""
    kind = type(match)
    if kind is LimitMatch:
        return "all"
    if state == "new" or first and (kind is TcpFlagsMatch or kind is FragmentMatch):
        return "new"
    if kind is TcpFlagsMatch or kind is FragmentMatch:
        return "opaque"
    if state in NO_ENTRY:
        return "none"
    if kind is NatStateMatch and state in match.states:
        return "yes"
    return "opaque"


_STATE_KEYS: IdentityCache[dict] = IdentityCache(100_000)


def state_parts(box: Box, rule) -> list[Box]:
    """``box`` split by conntrack state so that each part meets every path-decided match of
    ``rule`` in one class (``[box]`` when it already does)."""
    if len(box.state) < 2 or not has_path_decided(rule):
        return [box]
    keys = _STATE_KEYS.get(rule)
    if keys is None:
        decided = [m for m in rule.matches if type(m) in _DECIDERS]
        keys = _STATE_KEYS.put(rule, {s: tuple(_state_class(m, s) for m in decided) for s in ALL_STATES})
    groups: dict[tuple, set[str]] = {}
    for state in box.state:
        groups.setdefault(keys.get(state, ()), set()).add(state)
    if len(groups) == 1:
        return [box]
    return [_with_state(box, frozenset(states)) for states in groups.values()]


def _decide(box: Box, match, first: bool = False) -> tuple[Box | None, list[Box]] | None:
    """(matching part, the other parts) of a box for a path-decided match; None when the box's
    states leave it opaque (or mix classes)."""
    classes = {_state_class(match, state, first) for state in box.state}
    if len(classes) != 1:
        return None
    (cls,) = classes
    if cls == "opaque":
        return None
    return _DECIDERS[type(match)](box, match, cls)


def _constant(box: Box, matched: bool) -> tuple[Box | None, list[Box]]:
    return (box, []) if matched else (None, [box])


def _pair(inside: Box | None, outside: Box | None, negated: bool) -> tuple[Box | None, list[Box]]:
    if negated:
        inside, outside = outside, inside
    return inside, [outside] if outside is not None else []


def _nat_statuses(box: Box) -> frozenset[str]:
    """The NAT status bits a new connection's first packet has so far: dnat once a DNAT (or
    REDIRECT) rewrote it. SNAT happens in postrouting, after the input and forward paths."""
    return _DNAT if box.nat_dst is not None or box.nat_dport is not None else frozenset()


_DNAT = frozenset({"dnat"})


def _decide_ct_status(box: Box, match: CtStatusMatch, cls: str):
    if cls == "none":
        return _constant(box, match.without_entry)
    # A new connection's first packet: not confirmed, assured, seen-reply, expected or dying.
    present = match.statuses & _nat_statuses(box)
    hit = present == match.statuses if match.all_of else bool(present)
    return _constant(box, hit != match.negated)


def _decide_nat_state(box: Box, match: NatStateMatch, cls: str):
    if cls == "yes":
        return _constant(box, not match.negated)
    inside_states = box.state & match.states
    if cls == "new" and match.nat & _nat_statuses(box):
        inside_states = box.state
    outside_states = box.state - inside_states
    inside = _with_state(box, inside_states) if inside_states else None
    outside = _with_state(box, outside_states) if outside_states else None
    return _pair(inside, outside, match.negated)


def _decide_original_address(box: Box, match: OriginalAddressMatch, cls: str):
    if cls == "none":
        return _constant(box, match.without_entry)
    family = match.addresses.family
    if not family.covers(box.family) or family is not box.family and family in (Family.IPV4, Family.IPV6):
        return None, [box]
    # The original tuple is what the client sent: the box's destination before any DNAT.
    if match.direction is Direction.SOURCE:
        inside, outside = _split_ranges(box, box.src, match.addresses.ranges, with_src)
    else:
        inside, outside = _split_ranges(box, box.dst, match.addresses.ranges, _set_dst)
    return _pair(inside, outside, match.negated)


def _decide_original_port(box: Box, match: OriginalPortMatch, cls: str):
    if cls == "none":
        return _constant(box, match.without_entry)
    if match.direction is Direction.SOURCE:
        inside, outside = _split_ranges(box, box.sport, match.ports.ranges, with_sport)
    else:
        inside, outside = _split_ranges(box, box.dport, match.ports.ranges, _set_dport)
    if match.negated or inside is None:
        return _pair(inside, outside, match.negated)
    rest = [outside] if outside is not None else []
    # Like a port match: only packets that have ports match.
    proto_out = iv.subtract(inside.proto, PORT_PROTOCOL_RANGES)
    if proto_out:
        rest.append(with_proto(inside, proto_out))
        proto_in = iv.intersect(inside.proto, PORT_PROTOCOL_RANGES)
        inside = with_proto(inside, proto_in) if proto_in else None
    return inside, rest


def _decide_tcp_flags(box: Box, match: TcpFlagsMatch, cls: str):
    def hit(flags: int) -> bool:
        masked = flags & match.mask
        return (masked != 0) if match.any_of else masked == match.value

    # A new connection's first packet is a SYN, maybe asking for ECN (ECE and CWR set too).
    result = hit(_FIRST_SYN)
    if hit(_ECN_SYN) != result:
        return None
    tcp = ((TCP, TCP),)
    inside, outside = _split_ranges(box, box.proto, tcp, with_proto)
    if inside is None or result == match.negated:
        return None, [box]  # tcp or not, it does not match
    return inside, [outside] if outside is not None else []


def _decide_limit(box: Box, match: LimitMatch, cls: str):
    return _constant(box, (not match.over) != match.negated)


def _decide_fragment(box: Box, match: FragmentMatch, cls: str):
    # The first packet of a connection is never a non-first fragment.
    return _constant(box, match.negated)


_DECIDERS = {
    CtStatusMatch: _decide_ct_status,
    NatStateMatch: _decide_nat_state,
    OriginalAddressMatch: _decide_original_address,
    OriginalPortMatch: _decide_original_port,
    TcpFlagsMatch: _decide_tcp_flags,
    LimitMatch: _decide_limit,
    FragmentMatch: _decide_fragment,
}


_VALUE_FIELDS = tuple(f for f in Box._fields if f not in ("assumptions", "trail"))


class _Hashed:
    """A long range list as a dictionary key whose hash is computed once: a tuple hashes all
    of its items on every lookup, and past the budget every box is looked up at every rule."""

    __slots__ = ("value", "hash")

    def __init__(self, value: tuple):
        self.value = value
        self.hash = hash(value)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other) -> bool:
        return other is self or (type(other) is _Hashed and other.hash == self.hash and other.value == self.value)


_HASHED: dict[int, _Hashed] = memo.per_file({})


def _hashed(value):
    if type(value) is not tuple or len(value) <= 8:
        return value
    found = _HASHED.get(id(value))
    if found is None or found.value is not value:
        if len(_HASHED) > 100_000:
            _HASHED.clear()
        found = _HASHED[id(value)] = _Hashed(value)
    return found


def value_key(box: Box) -> tuple:
    """The packets of ``box`` (every dimension but its path) as a hashable key (equal keys:
    equal packets)."""
    return tuple(map(_hashed, box[:_VALUE_WIDTH]))


_VALUE_WIDTH = len(_VALUE_FIELDS)


def merge_equal(boxes: list[Box]) -> list[Box]:
    """One box per set of packets and certainty: of boxes holding the same packets that took
    different ways here, the one with the fewest assumptions is kept (they all meet the same
    rules from here on; only the explanation of how they got here is lost)."""
    kept: dict[tuple, Box] = {}
    for box in boxes:
        key = (value_key(box), box.possible)
        other = kept.get(key)
        if other is None or len(box.assumptions) < len(other.assumptions):
            kept[key] = box
    return list(kept.values()) if len(kept) < len(boxes) else boxes

