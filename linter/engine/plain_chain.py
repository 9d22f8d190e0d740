"""Dead-rule analysis of a short chain of plain rules, without walking boxes.

A random mix calls thousands of small chains whose rules each match a source network, a
protocol, or a protocol with destination ports (engine/decided_lane.py's plain matches), with
no jumps. What the rules before one decided is then a union of boxes of two kinds: source
networks (any protocol and port) and protocol/port areas (any source). A box is inside such a
union exactly when its sources lie inside the source networks or its protocols and ports lie
inside the areas (were neither so, a source outside the networks with a protocol and port
outside the areas would be a packet outside both). So a rule is dead when one of two interval
tests says so, which is what engine/shadow.py's general path finds by splitting boxes.

Only chains the general path surely judges within its budget are taken (so that ``judged``
is the same): chains whose blocks are their rules one by one (walk.blocks_of: no dispatch
run nor source run, always so below walk.MIN_SEGMENT rules), where each rule meets the boxes
still going on and cuts each in at most two pieces, so at most 2 * (2**n - 1) splits for n
rules from the universe's two boxes.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.space import PORT_PROTOCOL_RANGES, protocol_ranges
from linter.engine.walk import MIN_SEGMENT, blocks_of
from linter.model import AddressMatch, Chain, Direction, PortMatch, ProtocolMatch, Rule, VerdictKind

def judge(analysis, chain: Chain, budget: int, reads: dict | None = None):
    """The ChainVerdicts (returned space None) of ``chain`` for ``analysis`` (an
    engine.shadow.ShadowAnalysis), or None when it is not a short chain of plain rules whose
    general-path analysis spends at most ``budget`` splits. ``reads``: where each judged
    chain's rules as read are kept by chain name (per rule its (sources, protocols, ports),
    or None when it matches nothing), for engine/decided_lane.py."""
    from linter.engine.shadow import ChainVerdicts  # (loaded by the caller already)

    rules = chain.rules
    count = len(rules)
    if not rules or 2 * (2 ** count - 1) > budget:
        return None
    if count >= MIN_SEGMENT and any(type(block) is not Rule for block in blocks_of(chain)):
        return None  # (a dispatch run or a source run: the general path spends otherwise)
    box = analysis.space[0]
    whole_src = box.src
    whole_dport = box.dport
    read = _reader_of(analysis, box)
    matched = []
    for rule in rules:
        kind = rule.verdict.kind
        if kind is _JUMP or kind is _GOTO:
            return None
        inside = read(rule.matches)
        if inside is False:
            return None
        matched.append(inside)
    if reads is not None:
        reads[chain.name] = matched
    sources: iv.Ranges = ()  # decided for any protocol and port
    protocols: iv.Ranges = ()  # decided for any source and port
    ports: dict[int, iv.Ranges] = {}  # protocol -> ports decided for it (any source)
    dead: set[int] = set()
    shadowed: set[int] = set()
    for position, (rule, inside) in enumerate(zip(rules, matched)):
        if inside is None:
            dead.add(position)  # (it matches nothing: nothing reaches it with a chance to match)
            continue
        src, proto, dport = inside
        if (sources or protocols or ports) and _covered(src, proto, dport, sources, protocols, ports):
            dead.add(position)
            shadowed.add(position)
            continue
        verdict = rule.verdict
        if verdict.kind is not _RETURN and not verdict.terminal:
            continue
        if src is not whole_src and src != whole_src:
            sources = _union(sources, src)
        elif dport == whole_dport:
            protocols = _union(protocols, proto)
        else:
            for lo, hi in proto:
                for protocol in range(lo, hi + 1):
                    ports[protocol] = _union(ports.get(protocol, ()), dport)
    return ChainVerdicts(dead or frozenset(), shadowed or frozenset(), True, None)


_JUMP, _GOTO, _RETURN = VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.RETURN


def _union(a: iv.Ranges, b: iv.Ranges) -> iv.Ranges:
    """iv.union's answer, a one-range side merged by hand (a short chain's unions are of a
    few ranges, where iv.union's passes in C cost more than they save)."""
    if len(b) == 1 and len(a) <= 1:
        if not a:
            return b
        (lo, hi), = a
        (other_lo, other_hi), = b
        if other_hi + 1 < lo:
            return (b[0], a[0])
        if hi + 1 < other_lo:
            return (a[0], b[0])
        if other_lo >= lo and other_hi <= hi:
            return a
        return ((min(lo, other_lo), max(hi, other_hi)),)
    if len(a) + len(b) <= _FEW_MERGED and a and b:
        # (a multiport drop's few ports: merged pair by pair, cheaper than iv.union's passes in C)
        items = sorted(a + b)
        merged = []
        lo, hi = items[0]
        for other_lo, other_hi in items:
            if other_lo > hi + 1:
                merged.append((lo, hi))
                lo, hi = other_lo, other_hi
            elif other_hi > hi:
                hi = other_hi
        merged.append((lo, hi))
        return tuple(merged)
    return iv.union(a, b)


_FEW_MERGED = 12  # ranges on both sides of a union _union merges by hand


def _reader_of(analysis, box):
    """_reader(``box``), made once per analysis (a random mix judges thousands of chains)."""
    found = analysis.__dict__.get("_plain_reader")
    if found is None or found[0] is not box:
        found = analysis._plain_reader = (box, _reader(box))
    return found[1]


def _reader(box):
    """A function from a rule's matches to the (sources, protocols, destination ports) of what
    it matches in universe box ``box`` (decided_lane.plain_match's box, read without making
    it), None when it matches nothing, False when the rule is not plain."""
    family, whole_src, whole_proto, whole_dport = box.family, box.src, box.proto, box.dport
    everything = (whole_src, whole_proto, whole_dport)

    def read(matches):
        count = len(matches)
        if not count:
            return everything  # (no match: every packet)
        first = matches[0]
        if count == 1:
            if first.negated:
                return False
            kind = type(first)
            if kind is AddressMatch and first.direction is Direction.SOURCE and first.addresses.family is family:
                ranges = first.addresses.ranges
                return (ranges, whole_proto, whole_dport) if ranges else None
            if kind is ProtocolMatch:
                return (whole_src, protocol_ranges(first.protocols), whole_dport)
            return False
        if count == 2 and type(first) is ProtocolMatch and type(ports := matches[1]) is PortMatch \
                and not first.negated and not ports.negated and ports.direction is Direction.DESTINATION:
            named = protocol_ranges(first.protocols)
            protocols = iv.intersect(named, PORT_PROTOCOL_RANGES)
            if not protocols or not ports.ports.ranges:
                return None
            if protocols != named:
                return False  # (protocols without ports named with ports: split_rule may cut a third piece)
            return (whole_src, protocols, ports.ports.ranges)
        return False

    return read


def _covered(src, proto, dport, sources, protocols, ports) -> bool:
    """Whether the box of ``src`` x ``proto`` x ``dport`` (any other field whole) lies inside
    the union of ``sources`` x anything and anything x (``protocols`` x any port, or each
    protocol of ``ports`` x its ports)."""
    if sources and not iv.subtract(src, sources):
        return True
    rest = iv.subtract(proto, protocols) if protocols else proto
    if not rest:
        return True
    if sum(hi - lo + 1 for lo, hi in rest) > len(ports):
        return False  # (some protocol left has no ports decided)
    for lo, hi in rest:
        for protocol in range(lo, hi + 1):
            held = ports.get(protocol)
            if held is None or iv.subtract(dport, held):
                return False
    return True
