"""Dead-rule analysis of a base chain by what its earlier rules decided (an index, not a walk).

A rule of a chain is dead when its match lies inside what the rules before it took out of
the chain: a terminal rule's match, a RETURN's or goto's match, and for a jump the jump's
match intersected with what the called chain decides (its terminal rules' matches without
the RETURNs before them, nested jumps likewise). engine/shadow.py's general path walks the
packets still going on instead, as disjoint boxes, which a random mix of source drops, port
drops and jumps cuts into more pieces than its budget allows. Here that union is kept in an
engine/decided_index.py index and each rule is tested against the boxes that can meet it.

The lane judges only chains with jumps whose returned space nobody reads (base chains): a big
one before the general path (engine/shadow.py's LANE_AT_LEAST rules), a smaller one when the
general path runs out of budget; and only when
every rule is within what it follows: any matches the general path decides without a path
(an opaque one makes its rule decide nothing, as there), verdicts of any kind; in the chains
it calls, no goto, no RETURN with an opaque match, and no loop. Anything else, or a
chain whose coverage tests spend its budget, goes to the general path. A called chain the
general path could not judge decides nothing here either (as there: it returns everything).
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.decided_index import DecidedIndex, OverBudget
from linter.engine.port_protocols import port_protocol_ranges
from linter.engine.space import (
    Box, has_opaque, has_path_decided, protocol_ranges, replace, split_rule, with_proto, with_src,
)
from linter.engine.transparent import jump_changes_nothing
from linter.engine.verdict_kinds import kinds_of
from linter.model import (
    TERMINAL_KINDS, AddrTypeMatch, AddressMatch, Chain, Direction, PortMatch, ProtocolMatch, Rule, VerdictKind,
)

LANE_BUDGET = 100_000  # boxes made, cut and looked at per chain, plus LANE_BUDGET_PER_RULE for each of its rules
LANE_BUDGET_PER_RULE = 40  # (a random mix spends 18% of it at 10k rules, 28% at 100k; past it, the general path)
_LOCAL = Box._fields.index("local")
_SRC = Box._fields.index("src")
_DPORT = Box._fields.index("dport")
_PROTO = Box._fields.index("proto")  # (followed by sport and dport: plain_match sets proto and dport in one slice)
assert Box._fields[_PROTO:_PROTO + 3] == ("proto", "sport", "dport")
_PLAIN_READ = 5  # engine/plain_chain.py's reads: a box's fields up to its sources
assert Box._fields[:_PLAIN_READ] == ("family", "proto", "sport", "dport", "src")
_JUMP, _GOTO, _RETURN, _OTHER = VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.RETURN, VerdictKind.OTHER
_JUMPING = frozenset((_JUMP, _GOTO))
_SOURCE = Direction.SOURCE
_DESTINATION = Direction.DESTINATION
_DECIDES_MATCH = TERMINAL_KINDS - {_GOTO}  # verdicts whose match the judged chain decides (RETURN too; a
# goto also asks for its target's returned space, as the general path does: decided_by's)
_UNSEEN = object()  # (a target not looked up yet)
CALLEE_DEPTH = 16  # nested jumps followed into called chains; deeper: the general path


class _Unsupported(Exception):
    """The chain holds something the lane does not follow."""


def worth_trying_first(chain: Chain) -> bool:
    """Whether ``chain`` jumps somewhere: every jump cuts the general path's pending space by
    the pieces its target returns, which this lane does not need (a chain without jumps is
    the general path's, whose own lanes take source runs and dispatch segments)."""
    return not _JUMPING.isdisjoint(kinds_of(chain))  # (engine/verdict_kinds.py: once, in C)


def judge(analysis, chain: Chain):
    """The ChainVerdicts of base chain ``chain`` (whose returned space nobody reads) for
    ``analysis`` (an engine.shadow.ShadowAnalysis), or None when the lane cannot judge it."""
    from linter.engine.shadow import ChainVerdicts  # (shadow.py imports this module lazily)

    budget = LANE_BUDGET + LANE_BUDGET_PER_RULE * len(chain.rules)
    index = DecidedIndex(analysis.space, budget)
    lane = _Lane(analysis, index)
    dead: set[int] = set()
    shadowed: set[int] = set()
    covers = index.covers
    add = index.add
    any_local = lane.any_local
    cover_or_add_source, covers_source = index.cover_or_add_source, index.covers_source
    cover_or_add_ports = index.cover_or_add_ports
    whole_proto, whole_dport = any_local.proto, any_local.dport
    cover_or_add_sources, family = index.cover_or_add_sources, any_local.family
    # (the index's universe is the lane's but for the local flag: the same objects)
    sources_direct = all(any_local[at] is value for at, value in index.full.items())
    charge = index.charge
    head, whole_sport, tail = any_local[:_PROTO], any_local[_PROTO + 1], any_local[_PROTO + 3:]  # (plain_match's parts)
    src_head, src_tail = any_local[:_SRC], any_local[_SRC + 1:]
    jumped: dict = {}  # a plain jump's target -> lane.jump_decides()'s answer (asked at its first jump not dead)
    try:
        for position, rule in enumerate(chain.rules):
            kind = rule.verdict.kind
            if kind is _JUMP:
                matches = rule.matches
                if len(matches) == 1 and not (first := matches[0]).negated and type(first) is AddressMatch \
                        and first.direction is _SOURCE and first.addresses.family is family:
                    # (a jump by a source network: plain_match's box, made from the universe's parts)
                    src = first.addresses.ranges
                    inside = tuple.__new__(Box, src_head + (src,) + src_tail) if src else None
                else:
                    inside = plain_match(any_local, matches)
                if inside is not False:
                    # A plain jump (the mix's jumps by a source network or a protocol): lane.matched()'s
                    # one box, tested as below, then add_decided()'s crossings with what its target
                    # decides, looked up once per target (the same answer for every jump: remembered there).
                    if inside is None:
                        dead.add(position)  # (it matches nothing)
                    elif covers_source(inside) if inside.proto is whole_proto and inside.dport is whole_dport \
                            else covers(inside):
                        dead.add(position)
                        shadowed.add(position)
                    else:
                        target = rule.verdict.target
                        decided = jumped.get(target, _UNSEEN)
                        if decided is _UNSEEN:
                            decided = jumped[target] = lane.jump_decides(target)
                        if decided is not None:
                            charge(len(decided))
                            _add_crossed_plain(inside, decided, any_local, index)  # (no returns at depth 0)
                    continue
            elif kind in _DECIDES_MATCH:
                # A plain rule that ends the chain for what it matches (the mix's source and port
                # drops): what decided_by() would take out is its match, tested and added here.
                matches = rule.matches
                if len(matches) == 1 and type(first := matches[0]) is AddressMatch and not first.negated \
                        and first.direction is _SOURCE and first.addresses.family is family and sources_direct:
                    # (a source drop, the commonest rule: plain_match's box made only if asked for)
                    src = first.addresses.ranges
                    if not src:
                        dead.add(position)
                    elif cover_or_add_sources(src, any_local):
                        dead.add(position)
                        shadowed.add(position)
                    continue
                if len(matches) == 2 and type(first := matches[0]) is ProtocolMatch \
                        and type(ports := matches[1]) is PortMatch and not first.negated and not ports.negated \
                        and ports.direction is _DESTINATION:
                    # (a port drop: plain_match's box, made from the universe's parts cut once)
                    protocols = port_protocol_ranges(first.protocols)
                    ranges = ports.ports.ranges
                    inside = tuple.__new__(Box, head + (protocols, whole_sport, ranges) + tail) \
                        if protocols and ranges else None
                else:
                    inside = plain_match(any_local, matches)
                if inside is None:
                    dead.add(position)  # (it matches nothing)
                    continue
                if inside is not False:
                    if inside.proto is whole_proto and inside.dport is whole_dport:
                        # (a source drop, the commonest rule: tested and added in one go; any other box
                        # it might be goes through covers() and add() there)
                        if cover_or_add_source(inside):
                            dead.add(position)
                            shadowed.add(position)
                    elif inside.dport is not whole_dport and inside.src is any_local.src:
                        # (a port drop: tested and added in one go likewise)
                        if cover_or_add_ports(inside):
                            dead.add(position)
                            shadowed.add(position)
                    elif covers(inside):
                        dead.add(position)
                        shadowed.add(position)
                    else:
                        add(inside)
                    continue
            matched = lane.matched(rule)
            for box in matched:
                if not (covers_source(box) if box.proto is whole_proto and box.dport is whole_dport else covers(box)):
                    break
            else:
                dead.add(position)
                if matched:
                    shadowed.add(position)
                continue
            lane.add_decided(rule, matched)
    except (_Unsupported, OverBudget, RecursionError):
        return None
    return ChainVerdicts(dead or frozenset(), shadowed or frozenset(), True, None)


class _Lane:
    """What rules match and what chains decide, for one analysis."""

    def __init__(self, analysis, index: DecidedIndex):
        self.analysis = analysis
        self.index = index  # whose budget the boxes made here are charged to
        self.decides: dict[str, list[Box]] = {}  # chain name -> what it decides
        self.walking: set[str] = set()  # the called chains being read (a loop: not followed here)
        self.opaque: set[int] = set()  # id() of the rules matched() found a match taken as opaque in
        self.plain: set[int] = set()  # id() of the rules plain_match() read (never opaque nor path-decided)
        self.any_local = replace(analysis.space[0], local=None)  # the universe, for this host or not
        # chain name -> (whether a jump there changes nothing, the chain it cuts by: cutting_target),
        # both the same for every jump of one judge() call (its chains being analysed do not
        # change meanwhile, and transparency is remembered): asked once per name
        self.jumps: dict[str | None, tuple] = {}

    def matched(self, rule: Rule) -> list[Box]:
        """The packets of the universe ``rule`` matches (its opaque matches taken as matching,
        without their assumptions): one box of local None (engine/decided_index.py) unless an
        address type match tells packets for this host from others, then one per universe box
        it meets; a rule with a match taken as opaque is noted in ``opaque``."""
        inside = plain_match(self.any_local, rule.matches)  # (no address type among them)
        if inside is not False:
            self.plain.add(id(rule))
            return [] if inside is None else [inside]
        found = []
        opaque = False
        space = self.analysis.space
        if not any(type(match) is AddrTypeMatch for match in rule.matches):
            space = space[:1]  # (only an address type reads whether a packet is for this host)
        for box in space:
            inside = plain_match(box, rule.matches)
            if inside is False:
                inside = split_rule(box, rule.matches, rule, False, decide=False)[0]
            if inside is not None:
                if inside.assumptions:
                    opaque = True  # (a match taken as opaque: an output interface, a mark read without a path)
                    inside = replace(inside, assumptions=())
                found.append(inside)
        if opaque:
            self.opaque.add(id(rule))
        if len(space) == 1 and found:
            return [replace(found[0], local=None)]  # (for this host or not alike: one box)
        return found

    def add_decided(self, rule: Rule, matched: list[Box]) -> None:
        """index.add() of each box decided_by(``rule``, ``matched``, [], 0) gives, in order (a
        plain rule's jump: its crossings made and added in one pass, _add_crossed_plain)."""
        index = self.index
        verdict = rule.verdict
        if verdict.kind is _JUMP and matched and id(rule) in self.plain:  # (decided_by's jump, not opaque)
            inside = self.jump_decides(verdict.target)
            if inside is None:
                return
            index.charge(len(matched) * len(inside))
            _add_crossed_plain(matched[0], inside, self.any_local, index)  # (no returns at depth 0)
            return
        for box in self.decided_by(rule, matched, [], 0):
            index.add(box)

    def jump_decides(self, target: str | None) -> list[Box] | None:
        """What a jump to ``target`` from the judged chain (depth 0) takes out for good, or None
        when the jump changes nothing (decided_by's jump at depth 0: the same for every jump
        to ``target`` in one judge() call, as _jump's and _decided_in's answers are)."""
        found = self._jump(target)
        if found[0]:
            return None
        return self._decided_in(found[1], 0)

    def _jump(self, target: str | None) -> tuple:
        """Whether a jump to ``target`` changes nothing, and the chain it cuts by."""
        found = self.jumps.get(target)
        if found is None:
            analysis = self.analysis
            found = self.jumps[target] = (jump_changes_nothing(analysis.table, target, analysis._active),
                                          analysis.cutting_target(target))
        return found

    def decided_by(self, rule: Rule, matched: list[Box], returns: list[Box], depth: int) -> list[Box]:
        """The packets of ``matched`` (what ``rule`` matches) that ``rule`` takes out of its
        chain for good, less ``returns`` (what earlier RETURNs of a called chain sent back);
        ``depth`` > 0 inside a called chain."""
        if not matched:
            return []
        verdict = rule.verdict
        kind = verdict.kind
        opaque = id(rule) not in self.plain and (id(rule) in self.opaque or has_opaque(rule) or has_path_decided(rule))
        if opaque:
            if depth and (kind is _RETURN or kind is _GOTO):
                raise _Unsupported  # (the packets both go on and come back)
            # (What the general path asks there, so that the same chains are analysed and asked
            # for what they return: a jump taken as opaque only by split_rule, a mark or an
            # output interface, goes on to ask its target.)
            if kind is _GOTO or kind is _JUMP and not (has_opaque(rule) or has_path_decided(rule)) \
                    and not jump_changes_nothing(self.analysis.table, verdict.target, self.analysis._active):
                self.analysis._returned_by(verdict.target)
            return []
        if kind is _JUMP:
            found = self._jump(verdict.target)
            if found[0]:
                return []
            inside = self._decided_in(found[1], depth)
            self.index.charge(len(matched) * len(inside))
            if id(rule) in self.plain:  # (one box, narrowed from the universe in its source or protocol and ports)
                return _less(_crossed_plain(matched[0], inside, self.any_local), returns, self.index)
            return _less(_crossed(matched, inside), returns, self.index)
        if kind is _GOTO:
            if depth:
                raise _Unsupported
            self.analysis._returned_by(verdict.target)
            return matched
        if kind is _RETURN:
            if depth:
                returns.extend(matched)
                return []
            return matched
        if not (verdict.terminal_other if kind is _OTHER else kind in TERMINAL_KINDS):  # (Verdict.terminal)
            return []
        return _less(matched, returns, self.index)

    def _decided_in(self, target: Chain | None, depth: int) -> list[Box]:
        """What a jump to ``target`` (the analysis's cutting_target of the jump's chain) takes
        out for good: the packets it does not return."""
        analysis = self.analysis
        if target is None:
            return []
        if not analysis.unread(target).judged:
            return []  # (the general path takes its returned space as everything)
        found = self.decides.get(target.name)
        if found is None:
            if depth >= CALLEE_DEPTH or target.name in self.walking:
                raise _Unsupported
            self.walking.add(target.name)
            try:
                found = self._decides(target, depth + 1)
            finally:
                self.walking.discard(target.name)
            self.decides[target.name] = found
        return found

    def _decides(self, chain: Chain, depth: int) -> list[Box]:
        """Everything ``chain`` decides (does not return), as boxes."""
        returns: list[Box] = []
        decided: list[Box] = []
        reads = self.analysis.plain_reads.get(chain.name)
        if reads is not None:  # (engine/plain_chain.py read its rules already: no jump, nothing opaque)
            return self._plain_decides(chain, reads)
        for rule in chain.rules:
            decided.extend(self.decided_by(rule, self.matched(rule), returns, depth))
        return decided


    def _plain_decides(self, chain: Chain, reads: list) -> list[Box]:
        """_decides() of a called chain engine/plain_chain.py judged, from its reading of the
        rules that return or end the chain (whether each returns, and its box's first fields):
        the boxes decided_by() makes of them, as plain_match() would have read them."""
        returns: list[Box] = []
        decided: list[Box] = []
        rest = self.any_local[_PLAIN_READ:]
        for returning, first in reads:
            if returning:
                returns.append(tuple.__new__(Box, first + rest))
            elif returns:
                decided.extend(_less_plain(tuple.__new__(Box, first + rest), returns, self.index))
            else:
                decided.append(tuple.__new__(Box, first + rest))
        return decided


def plain_match(box: Box, matches) -> Box | None | bool:
    """split_rule's matching part of universe box ``box`` for the mix's commonest rules (a
    source network; a protocol; a protocol and destination ports, none negated), made
    directly; False for other rules."""
    count = len(matches)
    first = matches[0] if count else None
    if count == 1 and not first.negated:
        if type(first) is AddressMatch and first.direction is _SOURCE and first.addresses.family is box.family:
            return with_src(box, first.addresses.ranges) if first.addresses.ranges else None
        if type(first) is ProtocolMatch:
            return with_proto(box, protocol_ranges(first.protocols))
    elif count == 2 and type(first) is ProtocolMatch and type(ports := matches[1]) is PortMatch \
            and not first.negated and not ports.negated and ports.direction is _DESTINATION:
        protocols = port_protocol_ranges(first.protocols)
        if not protocols or not ports.ports.ranges:
            return None
        return tuple.__new__(Box, box[:_PROTO] + (protocols, box[_PROTO + 1], ports.ports.ranges) + box[_PROTO + 3:])
    return False


def _crossed(boxes: list[Box], others: list[Box]) -> list[Box]:
    """Every non-empty intersection of a box of ``boxes`` with one of ``others``."""
    return [both for box in boxes for other in others if (both := _both(box, other)) is not None]


def _crossed_plain(box: Box, others: list[Box], universe: Box) -> list[Box]:
    """_crossed([``box``], ``others``) for a box plain_match() made from ``universe``: the
    universe but for its protocols, sources and destination ports, so each crossing is the
    other box narrowed there (its other fields are the crossing's: the universe's hold them)."""
    proto, src, dport = box.proto, box.src, box.dport
    narrow_proto = proto is not universe.proto  # (plain_match keeps the universe's own tuples elsewhere)
    narrow_dport = dport is not universe.dport
    if src is universe.src:
        single_src = None
    else:
        single_src = src[0] if len(src) == 1 else False
    found = []
    for other in others:
        narrowed_src = theirs = other.src
        if single_src:
            if len(theirs) == 1:  # (most crossings miss in their sources)
                lo, hi = single_src
                other_lo, other_hi = theirs[0]
                if hi < other_lo or other_hi < lo:
                    continue
                if other_lo < lo or hi < other_hi:
                    narrowed_src = ((max(lo, other_lo), min(hi, other_hi)),)
            elif not (narrowed_src := iv.intersect(src, theirs)):
                continue
        elif single_src is False and not (narrowed_src := iv.intersect(src, theirs)):
            continue
        narrowed_proto = other.proto
        if narrow_proto and not (narrowed_proto := iv.intersect(proto, narrowed_proto)):
            continue
        narrowed_dport = other.dport
        if narrow_dport and not (narrowed_dport := iv.intersect(dport, narrowed_dport)):
            continue
        values = list(other)
        values[_PROTO] = narrowed_proto
        values[_PROTO + 2] = narrowed_dport
        values[_SRC] = narrowed_src
        found.append(tuple.__new__(Box, values))
    return found


def _add_crossed_plain(box: Box, others: list[Box], universe: Box, index: DecidedIndex) -> None:
    """index.add() of each box of _crossed_plain(``box``, ``others``, ``universe``), in order;
    for a jump's box of one protocol, a box of sources only it crosses is merged into its
    entry directly (DecidedIndex.add_source_crossing: the crossing is that box of the protocol)."""
    proto = box.proto
    if box.src is not universe.src or box.dport is not universe.dport or len(proto) != 1 \
            or proto[0][0] != proto[0][1] or iv.intersect(proto, universe.proto) is not proto:
        for crossing in _crossed_plain(box, others, universe):
            index.add(crossing)
        return
    whole_proto, whole_dport = universe.proto, universe.dport
    add, add_source_crossing, intersect = index.add, index.add_source_crossing, iv.intersect
    for other in others:
        if other.proto is whole_proto and other.dport is whole_dport:
            add_source_crossing(proto, other)
        elif narrowed := intersect(proto, other.proto):
            # (_crossed_plain(box, [other], universe)'s one crossing: the box is the universe's
            # but for its protocol, so the crossing is ``other`` narrowed in its protocols)
            values = list(other)
            values[_PROTO] = narrowed
            add(tuple.__new__(Box, values))


def _both(box: Box, other: Box) -> Box | None:
    """``box`` ∩ ``other`` (engine.shadow.intersect, a local flag of None holding both)."""
    from linter.engine.shadow import intersect  # (loaded by the caller already)

    mine, theirs = box.src, other.src  # (most crossings at a jump miss in their sources: told apart before a copy)
    if type(mine) is tuple and type(theirs) is tuple and len(mine) == 1 and len(theirs) == 1 \
            and (mine[0][1] < theirs[0][0] or theirs[0][1] < mine[0][0]):
        return None
    mine, theirs = box.proto, other.proto  # (and a tcp jump's crossings with a called chain's udp drops)
    if len(mine) == 1 and len(theirs) == 1 and (mine[0][1] < theirs[0][0] or theirs[0][1] < mine[0][0]):
        return None
    mine, theirs = box.local, other.local
    if mine is theirs:
        return intersect(box, other)
    if mine is None:
        return intersect(replace(box, local=theirs), other)
    if theirs is None:
        return intersect(box, replace(other, local=mine))
    return None


def _less(boxes: list[Box], holes: list[Box], index: DecidedIndex) -> list[Box]:
    """``boxes`` minus every box of ``holes``, as boxes (the work charged to ``index``)."""
    if not holes or not boxes:
        return boxes
    for hole in holes:
        pieces = []
        for box in boxes:
            pieces.extend(_minus(box, hole))
        boxes = pieces
        index.charge(len(boxes))
    return boxes


def _less_plain(box: Box, holes: list[Box], index: DecidedIndex) -> list[Box]:
    """_less([``box``], ``holes``, ``index``) for boxes made from the lane's universe (local
    None) by setting their sources, protocols and destination ports only: _minus_plain()."""
    boxes = [box]
    for hole in holes:
        if len(boxes) == 1:
            boxes = _minus_plain(boxes[0], hole)
        else:
            pieces = []
            for box in boxes:
                pieces.extend(_minus_plain(box, hole))
            boxes = pieces
        index.charge(len(boxes))
    return boxes


def _minus_plain(box: Box, hole: Box) -> list[Box]:
    """_minus(``box``, ``hole``) for two boxes that differ from the lane's universe (local None)
    in their sources, protocols and destination ports only: the same pieces, in the same order
    (their other fields meet whole, so leave no piece; they keep the box's objects there,
    equal to those _minus makes)."""
    mine_proto, theirs_proto = box[_PROTO], hole[_PROTO]
    mine_src, theirs_src = box[_SRC], hole[_SRC]
    mine_dport, theirs_dport = box[_DPORT], hole[_DPORT]
    common_src = iv.intersect(mine_src, theirs_src)  # (most holes miss in their sources)
    if not common_src:
        return [box]
    common_proto = iv.intersect(mine_proto, theirs_proto)
    if not common_proto:
        return [box]
    common_dport = iv.intersect(mine_dport, theirs_dport)
    if not common_dport:
        return [box]
    pieces = []
    values = list(box)
    out = iv.subtract(mine_proto, theirs_proto)
    if out:
        values[_PROTO] = out
        pieces.append(tuple.__new__(Box, values))
        values = list(values)
    values[_PROTO] = common_proto
    out = iv.subtract(mine_src, theirs_src)
    if out:
        values[_SRC] = out
        pieces.append(tuple.__new__(Box, values))
        values = list(values)
    values[_SRC] = common_src
    out = iv.subtract(mine_dport, theirs_dport)
    if out:
        values[_DPORT] = out
        pieces.append(tuple.__new__(Box, values))
    return pieces


def _minus(box: Box, hole: Box) -> list[Box]:
    """``box`` minus ``hole`` as disjoint boxes."""
    if _both(box, hole) is None:
        return [box]
    pieces = []
    values = list(box)
    if box.local is None and hole.local is not None:  # the other half (for this host or not) is outside
        values[_LOCAL] = not hole.local
        pieces.append(tuple.__new__(Box, values))
        values = list(values)
        values[_LOCAL] = hole.local
    for at, is_set in _MINUS_ORDER:
        mine, theirs = values[at], hole[at]
        if is_set:
            out, common = mine - theirs, mine & theirs
        else:
            out, common = iv.subtract(mine, theirs), iv.intersect(mine, theirs)
        if out:
            values[at] = out
            pieces.append(tuple.__new__(Box, values))
            values = list(values)
        values[at] = common
    return pieces


# _minus cuts in this order: (a field's position, whether it is a set)
_MINUS_ORDER = tuple((Box._fields.index(name), name in ("iif", "state"))
                     for name in ("proto", "iif", "state", "src", "dst", "sport", "dport"))
