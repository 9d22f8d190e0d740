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
from linter.engine.decided_lane import plain_match
from linter.engine.space import protocol_ranges
from linter.engine.walk import MIN_SEGMENT, blocks_of
from linter.model import Chain, Rule, VerdictKind

def judge(analysis, chain: Chain, budget: int):
    """The ChainVerdicts (returned space None) of ``chain`` for ``analysis`` (an
    engine.shadow.ShadowAnalysis), or None when it is not a short chain of plain rules whose
    general-path analysis spends at most ``budget`` splits."""
    from linter.engine.shadow import ChainVerdicts  # (loaded by the caller already)

    rules = chain.rules
    count = len(rules)
    if not rules or 2 * (2 ** count - 1) > budget:
        return None
    if count >= MIN_SEGMENT and any(type(block) is not Rule for block in blocks_of(chain)):
        return None  # (a dispatch run or a source run: the general path spends otherwise)
    box = analysis.space[0]
    matched = []
    for rule in rules:
        kind = rule.verdict.kind
        if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
            return None
        inside = plain_match(box, rule.matches) if rule.matches else box  # (no match: every packet)
        if inside is False:
            return None
        if inside is not None and len(rule.matches) == 2 and inside.proto != protocol_ranges(rule.matches[0].protocols):
            return None  # (protocols without ports named with ports: split_rule may cut a third piece)
        matched.append(inside)
    whole_src = box.src
    whole_dport = box.dport
    sources: iv.Ranges = ()  # decided for any protocol and port
    protocols: iv.Ranges = ()  # decided for any source and port
    ports: dict[int, iv.Ranges] = {}  # protocol -> ports decided for it (any source)
    dead: set[int] = set()
    shadowed: set[int] = set()
    for position, (rule, inside) in enumerate(zip(rules, matched)):
        if inside is None:
            dead.add(position)  # (it matches nothing: nothing reaches it with a chance to match)
            continue
        if _covered(inside.src, inside.proto, inside.dport, sources, protocols, ports):
            dead.add(position)
            shadowed.add(position)
            continue
        verdict = rule.verdict
        if verdict.kind is not VerdictKind.RETURN and not verdict.terminal:
            continue
        if inside.src is not whole_src and inside.src != whole_src:
            sources = iv.union(sources, inside.src)
        elif inside.dport == whole_dport:
            protocols = iv.union(protocols, inside.proto)
        else:
            for lo, hi in inside.proto:
                for protocol in range(lo, hi + 1):
                    ports[protocol] = iv.union(ports.get(protocol, ()), inside.dport)
    return ChainVerdicts(dead or frozenset(), shadowed or frozenset(), True, None)


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
