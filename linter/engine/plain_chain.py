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

from bisect import bisect_left

from linter.engine import intervals as iv
from linter.engine.port_protocols import port_protocol_ranges
from linter.engine.space import protocol_ranges
from linter.engine.walk import MIN_SEGMENT, blocks_of
from linter.model import TERMINAL_KINDS, AddressMatch, Chain, Direction, PortMatch, ProtocolMatch, Rule, VerdictKind

def judge(analysis, chain: Chain, budget: int, reads: dict | None = None):
    """The ChainVerdicts (returned space None) of ``chain`` for ``analysis`` (an
    engine.shadow.ShadowAnalysis), or None when it is not a short chain of plain rules whose
    general-path analysis spends at most ``budget`` splits. ``reads``: where each judged
    chain's rules as read are kept by chain name, for engine/decided_lane.py: for each rule
    that matches something and returns or ends the chain (a RETURN or a terminal verdict), in
    order, (whether it returns, the first fields of the box it matches: family, protocols,
    source ports, destination ports, sources; engine.space.Box's order, the universe's own
    objects where the rule does not narrow them)."""
    rules = chain.rules
    count = len(rules)
    last = count - 1
    if not rules or 2 * (2 ** count - 1) > budget:
        return None
    if count >= MIN_SEGMENT and any(type(block) is not Rule for block in blocks_of(chain)):
        return None  # (a dispatch run or a source run: the general path spends otherwise)
    box = analysis.space[0]
    whole_src = box.src
    whole_proto = box.proto
    whole_dport = box.dport
    family = box.family
    # (a box of every protocol lies in the areas decided only where each protocol has ports decided:
    # _area_covered's first test, asked only past it)
    every_protocol = whole_proto[0][1] - whole_proto[0][0] + 1 if len(whole_proto) == 1 else 0
    read = _reader_of(analysis, box)
    whole_sport = box.sport
    deciding = [] if reads is not None else None
    sources: iv.Ranges = ()  # decided for any protocol and port
    protocols: iv.Ranges = ()  # decided for any source and port
    ports: dict[int, iv.Ranges] = {}  # protocol -> ports decided for it (any source)
    dead: set[int] = set()
    shadowed: set[int] = set()
    # One pass reads each rule and judges it (a chain left to the general path at a later rule
    # drops what was judged before it).
    for position, rule in enumerate(rules):
        verdict = rule.verdict
        kind = verdict.kind
        if kind is _JUMP or kind is _GOTO:
            return None
        matches = rule.matches
        if len(matches) == 1 and type(first := matches[0]) is AddressMatch and first.direction is _SOURCE \
                and not first.negated and first.addresses.family is family and (src := first.addresses.ranges):
            # (a source network, the commonest rule: read()'s answer made in place; its protocols and
            # ports are the universe's, which the areas decided cover only when they hold every protocol)
            proto, dport = whole_proto, whole_dport
            covered = sources and _within(src, sources) \
                or (protocols or len(ports) >= every_protocol) and _area_covered(proto, dport, protocols, ports)
        else:
            inside = read(matches)
            if inside is False:
                return None
            if inside is None:
                dead.add(position)  # (it matches nothing: nothing reaches it with a chance to match)
                continue
            src, proto, dport = inside
            covered = (sources or protocols or ports) and (sources and _within(src, sources)
                                                           or _area_covered(proto, dport, protocols, ports))
        returning = kind is _RETURN
        decides = returning or (verdict.terminal_other if kind is _OTHER else kind in TERMINAL_KINDS)  # (Verdict.terminal)
        if decides and deciding is not None:  # (dead or not: the lane adds what each such rule matches)
            deciding.append((returning, (family, proto, whole_sport, dport, src)))
        if covered:
            dead.add(position)
            shadowed.add(position)
            continue
        if not decides or position == last:
            continue  # (the last rule's area is read by no rule after it)
        if src is not whole_src and src != whole_src:
            sources = _union(sources, src)
        elif dport == whole_dport:
            protocols = _union(protocols, proto)
        else:
            for lo, hi in proto:
                for protocol in range(lo, hi + 1):
                    ports[protocol] = _union(ports.get(protocol, ()), dport)
    if reads is not None:
        reads[chain.name] = deciding
    return _verdicts()(dead or frozenset(), shadowed or frozenset(), True, None)


def _verdicts():
    """engine.shadow.ChainVerdicts (shadow.py imports this module lazily: looked up once)."""
    global _VERDICTS
    if _VERDICTS is None:
        from linter.engine.shadow import ChainVerdicts
        _VERDICTS = ChainVerdicts
    return _VERDICTS


_VERDICTS = None
_SOURCE = Direction.SOURCE
_JUMP, _GOTO, _RETURN, _OTHER = VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.RETURN, VerdictKind.OTHER


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
    if len(b) == 1 and len(a) <= _FEW_MERGED:
        # (one range into a few, both canonical: placed by bisection, merged with the ranges it
        # overlaps or touches)
        (lo, hi), = b
        start = bisect_left(a, b[0])  # (the first range not before it: a range starting at lo comes first)
        if start and a[start - 1][1] + 1 >= lo:
            start -= 1
            lo = a[start][0]
        end = start
        count = len(a)
        while end < count and a[end][0] <= hi + 1:
            if a[end][1] > hi:
                hi = a[end][1]
            end += 1
        if end == start + 1 and a[start][0] == lo and a[start][1] == hi:
            return a  # (inside one range already)
        return a[:start] + ((lo, hi),) + a[end:]
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
    source, destination = Direction.SOURCE, Direction.DESTINATION  # (an Enum's class attribute costs ~10x a local)

    def read(matches):
        count = len(matches)
        if not count:
            return everything  # (no match: every packet)
        first = matches[0]
        if count == 1:
            if first.negated:
                return False
            kind = type(first)
            if kind is AddressMatch and first.direction is source and first.addresses.family is family:
                ranges = first.addresses.ranges
                return (ranges, whole_proto, whole_dport) if ranges else None
            if kind is ProtocolMatch:
                return (whole_src, protocol_ranges(first.protocols), whole_dport)
            return False
        if count == 2 and type(first) is ProtocolMatch and type(ports := matches[1]) is PortMatch \
                and not first.negated and not ports.negated and ports.direction is destination:
            named = protocol_ranges(first.protocols)
            protocols = port_protocol_ranges(first.protocols)
            if not protocols or not ports.ports.ranges:
                return None
            if protocols != named:
                return False  # (protocols without ports named with ports: split_rule may cut a third piece)
            return (whole_src, protocols, ports.ports.ranges)
        return False

    return read


def _area_covered(proto, dport, protocols, ports) -> bool:
    """Whether ``proto`` x ``dport`` (any source) lies inside the union of ``protocols`` x
    any port and each protocol of ``ports`` x its ports. (A box of sources x protocols x ports
    lies inside that union with sources x anything exactly when its sources lie inside the
    sources, or this holds: were neither so, a source outside them with a protocol and port
    outside the areas would be a packet outside both.)"""
    rest = iv.subtract(proto, protocols) if protocols else proto
    if not rest:
        return True
    if len(rest) == 1:
        (lo, hi), = rest
        if hi - lo + 1 > len(ports):
            return False  # (some protocol left has no ports decided: most often all 256 of them)
    elif sum(hi - lo + 1 for lo, hi in rest) > len(ports):
        return False
    for lo, hi in rest:
        for protocol in range(lo, hi + 1):
            held = ports.get(protocol)
            if held is None or not _within(dport, held):
                return False
    return True


def _within(ranges: iv.Ranges, held: iv.Ranges) -> bool:
    """``ranges`` ⊆ ``held`` (not iv.subtract(ranges, held), both sorted; a short chain's
    few ranges walked together, without making the difference)."""
    at = 0
    count = len(held)
    for lo, hi in ranges:
        while True:
            if at == count:
                return False
            held_lo, held_hi = held[at]
            if held_hi < lo:
                at += 1
                continue
            if held_lo > lo:
                return False  # (lo is in no range of ``held``)
            if held_hi >= hi:
                break
            lo = held_hi + 1  # (the rest of the range may go on in the next one: overlapping or adjacent)
            at += 1
    return True
