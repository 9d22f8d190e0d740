"""The accept hull of a base chain: which packets the rest of a chain could still accept.

In a base chain whose policy drops, a packet that no later rule (nor any chain a later rule
jumps to) can accept is dropped, whichever rule drops it. The hull bounds what the later
accepting rules match, one interval set per dimension (protocol, source and destination
ports, source and destination addresses): a product of per-dimension unions, so it holds
every packet any of them accepts, and a box is cut once by it instead of being split by
every later rule whose match could only change how it is dropped. A random mix of source
drops, multiport drops and jumps into user chains cut its boxes by ports and protocols that
the final accepts (22 and 443) never read; cut to the hull, what comes back from a chain
differs from what did not jump in the source only, and coalesces.

Only the accepting rules are read; a rule with a match the hull does not model leaves that
dimension whole (never too small). Past ``MAX_ACCEPTS`` accepting rules, or jumps nested
deeper than ``MAX_NESTING``, there is no hull.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain as chain_from

from linter.engine import intervals as iv
from linter.engine.chains import chain_named
from linter.engine.memo import IdentityCache
from linter.addresses import family_max
from linter.model import AddressMatch, Chain, Direction, Family, PortMatch, ProtocolMatch, Rule, Table, VerdictKind

MAX_ACCEPTS = 64  # accepting rules a hull is built from; past it, cutting is worth less than it costs
MAX_NESTING = 64

_STOPPING = frozenset({VerdictKind.DROP, VerdictKind.REJECT, VerdictKind.RETURN})
# (module constants: an Enum's class attribute costs ~140 ns on Python 3.11, asked per rule)
_JUMP, _GOTO, _OTHER = VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.OTHER
_FULL_PORTS = ((0, 65535),)
_FULL_PROTO = ((0, 255),)


@dataclass(frozen=True, slots=True)
class Hull:
    """Per dimension, the values some accepting rule may match (None: any value)."""

    proto: iv.Ranges | None
    sport: iv.Ranges | None
    dport: iv.Ranges | None
    src: iv.Ranges | None
    dst: iv.Ranges | None

    def is_full(self) -> bool:
        return self.proto is None and self.sport is None and self.dport is None and self.src is None \
            and self.dst is None


_ACCEPTS: IdentityCache = IdentityCache(100_000)
_NO_CHAINS: frozenset = frozenset()
_TOO_MANY = object()


def _chain_named(table: Table, name: str | None):
    return chain_named(table, name)


_WALK: list = []  # engine/walk.py once imported (it imports this module): an import per jump cost a call


def _walk_module():
    if not _WALK:
        from linter.engine import walk
        _WALK.append(walk)
    return _WALK[0]


def accepting_rules(table: Table, chain: Chain, depth: int = 0, active: frozenset = frozenset()):
    """The rules of ``chain`` and of the chains it jumps to that may accept (or queue, or
    rewrite and accept) a packet; None when there are too many or the jumps nest too deep."""
    if depth > MAX_NESTING:
        return None
    known = _ACCEPTS.get(chain)
    if known is not None and depth <= known[0]:
        # Reached no deeper than when it was computed: no jump below it got nearer the limit.
        return None if known[1] is _TOO_MANY else known[1]
    found = _rules_accepting(table, chain.rules, depth, active | {chain.name})
    _ACCEPTS.put(chain, (depth, _TOO_MANY if found is None else found))
    return found


def _rules_accepting(table: Table, rules, depth: int, active: frozenset):
    found: list[Rule] = []
    for rule in rules:
        if rule.verdict.kind in _STOPPING:
            continue  # (what _rule_accepting says of it: a blocklist's 100,000 drops, one test each)
        more = _rule_accepting(table, rule, depth, active)
        if more is None:
            return None
        if more:
            found.extend(more)
            if len(found) > MAX_ACCEPTS:
                return None
    return tuple(found)


def _rule_accepting(table: Table, rule: Rule, depth: int, active: frozenset):
    """What of ``rule`` (and of the chain it jumps to) may accept; None: too much to say."""
    verdict = rule.verdict
    kind = verdict.kind
    if kind is _JUMP or kind is _GOTO:
        if depth + 1 >= min(MAX_NESTING, _walk_module().MAX_DEPTH):
            return None  # the walker may stop following here and count it as possibly accepted
        target = _chain_named(table, verdict.target)
        if target is None:
            return ()  # the walker goes on past it
        if target.name in active:
            return None  # a loop (PL406): what is remembered per chain must not depend on the way in
        return accepting_rules(table, target, depth + 1, active)
    if not verdict.terminal or kind in _STOPPING:
        return ()
    if kind is _OTHER and (verdict.target or "").upper() == "MIRROR":
        return ()
    return (rule,)


def suffix_rules(table: Table, blocks: list) -> dict[int, tuple]:
    """Block position -> the accepting rules from there to the chain's end, at the start and
    after every block that may accept (where the hull shrinks), while there are few."""
    found: dict[int, tuple] = {}
    suffix: tuple = ()
    # (_rule_accepting's test of a jump's depth, made once: at depth 0 it is the same for every jump)
    too_deep = 1 >= min(MAX_NESTING, _walk_module().MAX_DEPTH)
    for position in range(len(blocks) - 1, -1, -1):
        block = blocks[position]
        if type(block) is Rule:
            verdict = block.verdict
            kind = verdict.kind
            if kind in _STOPPING:
                continue  # (what _rules_accepting says of it, without the call: 25,000 source drops)
            # What _rules_accepting says of (block,), without the loop around one rule:
            # _rule_accepting's answer, None past MAX_ACCEPTS; a jump's (a random mix's 12,600)
            # worked out here as _rule_accepting does at depth 0, where no chain is active.
            if kind is _JUMP or kind is _GOTO:
                if too_deep:
                    more = None
                else:
                    target = chain_named(table, verdict.target)
                    more = () if target is None else accepting_rules(table, target, 1, _NO_CHAINS)
            else:
                more = _rule_accepting(table, block, 0, _NO_CHAINS)
            if more is not None and len(more) > MAX_ACCEPTS:
                more = None
        else:
            rules = chain_from.from_iterable(block.groups) if hasattr(block, "groups") else (block,)
            more = _rules_accepting(table, rules, 0, _NO_CHAINS)
        if more is None:
            return found
        if more:
            if position + 1 < len(blocks):  # past the last block the policy drops anyway
                found[position + 1] = suffix
            suffix = more + suffix
            if len(suffix) > MAX_ACCEPTS:
                return found
    found[0] = suffix
    return found


def hull_of(rules, family: Family) -> Hull:
    """The hull of what ``rules`` may match for packets of ``family``."""
    proto = sport = dport = src = dst = ()
    full = iv.full(family_max(family))
    for rule in rules:
        r_proto = r_sport = r_dport = r_src = r_dst = None
        for match in rule.matches:
            if match.negated:
                continue
            if isinstance(match, ProtocolMatch):
                r_proto = iv.normalize((p, p) for p in sorted(match.protocols))
            elif isinstance(match, PortMatch):
                if match.direction is Direction.DESTINATION:
                    r_dport = match.ports.ranges
                else:
                    r_sport = match.ports.ranges
            elif isinstance(match, AddressMatch) and match.addresses.family is family:
                if match.direction is Direction.SOURCE:
                    r_src = match.addresses.ranges
                else:
                    r_dst = match.addresses.ranges
        proto = _widen(proto, r_proto, _FULL_PROTO)
        sport = _widen(sport, r_sport, _FULL_PORTS)
        dport = _widen(dport, r_dport, _FULL_PORTS)
        src = _widen(src, r_src, full)
        dst = _widen(dst, r_dst, full)
    return Hull(*(None if value == bound else value for value, bound in (
        (proto, _FULL_PROTO), (sport, _FULL_PORTS), (dport, _FULL_PORTS), (src, full), (dst, full))))


def _widen(so_far, ranges, full):
    if so_far == full:
        return full
    if ranges is None:
        return full
    return iv.union(so_far, ranges)


def cut(box, hull: Hull, rebuild) -> tuple:
    """(the part of ``box`` inside ``hull`` or None, the parts outside it). ``rebuild`` maps a
    dimension to (read, write) functions of the box."""
    outside = []
    for name in ("proto", "dport", "src", "dst", "sport"):
        wanted = getattr(hull, name)
        if wanted is None:
            continue
        read, write = rebuild[name]
        current = read(box)
        inside = iv.intersect(current, wanted)
        if not inside:
            outside.append(box)
            return None, outside
        if inside is current:
            continue
        outside.append(write(box, iv.subtract(current, wanted)))
        box = write(box, inside)
    return box, outside
