"""Chains of one shape, analysed once by the dead-rule analysis (engine/shadow.py).

Kube-proxy writes one KUBE-SEP chain per endpoint: "from the endpoint's own address, mark
for masquerade; DNAT to it". Tens of thousands of them differ only in the address and the
DNAT target, and the dead-rule analysis of each finds the same: no dead rule, and the same
packets returned. A chain's *shape* is what that analysis can see of it: per rule its
verdict, what its jump leads to, and its matches, with every address and port range written
as the atoms it covers among the bounds of all the chain's ranges of that dimension (and of
the whole space). Splitting commutes with renaming atoms in order, so chains of one shape
have the same dead and shadowed rules; what they return is the same when it holds no range
of the chain's own (every address and port whole), and only then is the analysis shared.
A chain with at most one range per dimension (kube-proxy's) gets the same shape in one pass,
its renaming read off whether each range starts at 0 and ends at the maximum.
"""

from __future__ import annotations

from bisect import bisect_left

from linter.addresses import family_max
from linter.engine.budget import MAX_FOLLOWED_DEPTH
from linter.engine.chains import chain_named, chains_by_name
from linter.engine.memo import per_file
from linter.engine.space import has_opaque, has_path_decided
from linter.engine.walk import MIN_SEGMENT, is_transparent
from linter.model import (
    AddressMatch, AddrTypeMatch, Chain, Direction, Family, PortMatch, Table, TERMINAL_KINDS, VerdictKind,
)

_FULL_PORTS = ((0, 65535),)
_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)
# Enum members read once (a member looked up through its class costs ~0.3 us: kube-proxy's
# 40,000 endpoint and service chains read them per match and per rule).
_SOURCE, _OTHER, _JUMP = Direction.SOURCE, VerdictKind.OTHER, VerdictKind.JUMP


def chain_shape(table: Table, chain: Chain, family: Family, active: list[str], done: dict,
                analyse) -> tuple | None:
    """The shape of ``chain`` for the analysis of ``family`` with ``active`` chains being
    analysed and ``done`` ones known (by name); None when it has none worth keeping (a
    dispatch run, an address-type match, a jump to a chain whose analysis depends on where
    it is reached from). ``analyse(chain)`` analyses a chain jumped to that is not known yet."""
    rules = chain.rules
    if not rules or len(rules) >= MIN_SEGMENT:
        return None
    quick = _one_range_shape(table, rules, family, active + [chain.name], done, analyse)
    if quick is not _GENERAL:
        return quick
    # One pass reads every rule's matches: an address or port match as (dimension, its ranges,
    # the match), any other match as it is (a match object is never a tuple).
    bounds: dict[str, set[int]] = {}
    read = []
    plain = []  # per rule: whether it has address and port matches alone (never opaque nor path-decided)
    for rule in rules:
        terms = []
        only_ranges = True
        for match in rule.matches:
            kind = type(match)
            if kind is AddressMatch:
                dimension = "src" if match.direction is _SOURCE else "dst"
                ranges = match.addresses.ranges
            elif kind is PortMatch:
                dimension = "sport" if match.direction is _SOURCE else "dport"
                ranges = match.ports.ranges
            elif kind is AddrTypeMatch:
                return None
            else:
                terms.append(match)
                only_ranges = False
                continue
            found = bounds.get(dimension)
            if found is None:
                found = bounds[dimension] = set()
            for lo, hi in ranges:
                found.add(lo)
                found.add(hi + 1)
            terms.append((dimension, ranges, match))
        read.append(terms)
        plain.append(only_ranges)
    address_max = family_max(family)
    atoms = {}
    for dimension, found in bounds.items():
        found.add(0)
        found.add((65535 if dimension in ("sport", "dport") else address_max) + 1)
        atoms[dimension] = sorted(found)
    shape: list = [family]
    active = active + [chain.name]  # as while its own rules are analysed (a jump to itself is a loop)
    index = chains_by_name(table)
    for rule, terms, only_ranges in zip(rules, read, plain):
        for position, term in enumerate(terms):
            if type(term) is tuple:
                dimension, ranges, match = term
                positions = atoms[dimension]
                if len(ranges) == 1:
                    (lo, hi), = ranges
                    renamed = ((bisect_left(positions, lo), bisect_left(positions, hi + 1)),)
                else:
                    renamed = tuple([(bisect_left(positions, lo), bisect_left(positions, hi + 1)) for lo, hi in ranges])
                family_of = match.addresses.family if type(match) is AddressMatch else None
                terms[position] = (type(match), match.negated, dimension, family_of, renamed)
        verdict = rule.verdict
        target = None if verdict.kind not in _JUMPS else \
            _target(table, index, rule, only_ranges, active, done, analyse)
        if target is _NO_SHAPE:
            return None
        shape.append((tuple(terms), verdict.kind, verdict.terminal, target))
    shape.append((len(atoms.get("src", ())), len(atoms.get("dst", ())), len(atoms.get("sport", ())),
                  len(atoms.get("dport", ()))))
    return tuple(shape)


_NO_SHAPE = object()
_GENERAL = object()


def _one_range_shape(table: Table, rules, family: Family, active: list[str], done: dict, analyse):
    """chain_shape() for a chain whose every dimension has at most one range in all its rules
    (kube-proxy's endpoint and service chains), without renaming: the same tuple, as that
    range's atoms and their count follow from whether it starts at 0 and ends at the maximum
    alone; ``_GENERAL`` for any other chain (``active`` holds the chain itself). Like
    chain_shape(), every rule's matches are read before any jump's target is looked at."""
    counts = {}
    read = []
    address_max = family_max(family)
    for rule in rules:
        terms = []
        only_ranges = True
        for match in rule.matches:
            kind = type(match)
            if kind is AddressMatch:
                dimension = "src" if match.direction is _SOURCE else "dst"
                ranges = match.addresses.ranges
                top = address_max
            elif kind is PortMatch:
                dimension = "sport" if match.direction is _SOURCE else "dport"
                ranges = match.ports.ranges
                top = 65535
            elif kind is AddrTypeMatch:
                return None
            else:
                terms.append(match)
                only_ranges = False
                continue
            if len(ranges) != 1 or dimension in counts:
                return _GENERAL
            (lo, hi), = ranges
            if not 0 <= lo <= hi <= top:  # (an IPv6 range in the IPv4 analysis: renamed beyond the maximum)
                return _GENERAL
            counts[dimension] = 2 + (lo > 0) + (hi < top)
            terms.append((kind, match.negated, dimension, match.addresses.family if kind is AddressMatch else None,
                          _INSIDE if lo else _FROM_ZERO))
        read.append((rule, tuple(terms), only_ranges))
    shape: list = [family]
    index = chains_by_name(table)
    for rule, terms, only_ranges in read:
        verdict = rule.verdict
        kind = verdict.kind
        target = None if kind not in _JUMPS else _target(table, index, rule, only_ranges, active, done, analyse)
        if target is _NO_SHAPE:
            return None
        # (Verdict.terminal, read without its property call)
        terminal = verdict.terminal_other if kind is _OTHER else kind in TERMINAL_KINDS
        shape.append((terms, kind, terminal, target))
    shape.append((counts.get("src", 0), counts.get("dst", 0), counts.get("sport", 0), counts.get("dport", 0)))
    return tuple(shape)


_FROM_ZERO = ((0, 1),)  # a range's atoms among the bounds 0, its own and the maximum's
_INSIDE = ((1, 2),)


def _target(table: Table, index: dict, rule, only_ranges: bool, active: list[str], done: dict, analyse):
    """What the analysis of a rule that jumps sees of where it jumps (``index``: the table's
    chains by name; ``only_ranges``: the rule has address and port matches alone, none of
    them opaque nor decided by the path)."""
    verdict = rule.verdict
    if verdict.kind is _JUMP and not only_ranges and _may_not_match(rule):
        return None  # it may not match at all: whatever comes back lies inside what went on
    target = index.get(verdict.target or "")
    if target is None:
        return "undefined"
    if target.name in active:
        return "loop"
    if len(active) >= MAX_FOLLOWED_DEPTH:
        return _NO_SHAPE
    if not target.rules or is_transparent(table, target):
        return "transparent"
    verdicts = done.get(target.name)
    if verdicts is None and _context_free(table, target):
        verdicts = analyse(target)  # as the rule's own analysis would, wherever it is reached from
    if verdicts is None or verdicts.returned is None:
        return _NO_SHAPE
    return id(verdicts.returned)  # kept alive by ``done``: interned, shared by equal returns


# id(matches) -> (the matches, whether one is opaque or decided by the path): rules share their
# matches (kube-proxy's 20,000 probability jumps two tuples), and the answer is read off them alone.
_MAY_NOT_MATCH: dict[int, tuple[tuple, bool]] = per_file({})
_MAY_NOT_MATCH_AT_MOST = 100_000


def _may_not_match(rule) -> bool:
    """has_opaque(rule) or has_path_decided(rule), remembered per tuple of matches."""
    matches = rule.matches
    if type(matches) is not tuple:
        return has_opaque(rule) or has_path_decided(rule)
    known = _MAY_NOT_MATCH.get(id(matches))
    if known is not None and known[0] is matches:
        return known[1]
    found = has_opaque(rule) or has_path_decided(rule)
    if len(_MAY_NOT_MATCH) >= _MAY_NOT_MATCH_AT_MOST:
        _MAY_NOT_MATCH.clear()
    _MAY_NOT_MATCH[id(matches)] = (matches, found)  # (holding the tuple: its id stays its own)
    return found


def shareable(verdicts, family: Family) -> bool:
    """Whether an analysis holds nothing of its chain's own ranges (every address and port of
    what it returns whole): then every chain of its shape has it."""
    if not verdicts.judged or verdicts.returned is None:
        return False
    whole = ((0, family_max(family)),)
    return all(box.src == whole and box.dst == whole and box.sport == _FULL_PORTS and box.dport == _FULL_PORTS
               for box in verdicts.returned)


def _context_free(table: Table, chain: Chain) -> bool:
    """Whether the analysis of ``chain`` is the same whichever chains are being analysed: it
    jumps nowhere but to chains that change nothing (or to none)."""
    for rule in chain.rules:
        if rule.verdict.kind in _JUMPS:
            target = chain_named(table, rule.verdict.target)
            if target is not None and target.rules and not is_transparent(table, target):
                return False
    return True
