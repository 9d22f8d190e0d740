"""A quick test that a rule cannot match a box, before splitting it.

The dead-rule analysis meets every box going on with every rule, and most boxes miss most
rules: a source /24 dropped misses the hundreds of boxes that came back from jumps by other
source networks, a `-p udp` rule misses every tcp box. Splitting each of them (split_rule)
to learn that cost most of a random mix's analysis. A rule's leading matches on protocol,
ports and addresses are kept as the bounds of their ranges; a box whose range lies wholly
outside those bounds misses, and split_rule would have answered exactly (None, [box]).

The answer must be the one split_rule gives, to the box: split_rule returns (None, [box])
only when the match that misses comes after matches holding the whole box (a match that
cuts a box leaves its pieces as the non-matching parts). So the tests are read in the
rule's order, and a box goes on to the next test only when the test holds all of it.
"""

from __future__ import annotations

from operator import itemgetter

from linter.engine.space import Box, protocol_ranges, split_rule
from linter.model import AddressMatch, Direction, PortMatch, ProtocolMatch

_FIELD = {name: index for index, name in enumerate(Box._fields)}
_NONE_NEEDED = -1  # no NAT field to look at first
_PROTO, _SPORT, _DPORT, _SRC, _DST = (_FIELD[name] for name in ("proto", "sport", "dport", "src", "dst"))
_NAT_DPORT, _NAT_DST = _FIELD["nat_dport"], _FIELD["nat_dst"]
_SOURCE, _DESTINATION = Direction.SOURCE, Direction.DESTINATION

# Each test: (field index, NAT field index or _NONE_NEEDED, lowest, highest, whole, family)
# ``whole``: the match holds a box whose range lies within [lowest, highest] (one range,
# no side condition); ``family``: for an address match, the family it holds a box of.
# Only the last rule's tests are kept: a walk meets one rule with all its boxes in turn, and
# a table of every rule's tests cost 20 MB at 100,000 rules (and kept old documents alive).
_LAST: list = [None, None]  # [rule, its tests]


def miss_tests(rule) -> tuple | None:
    """The quick tests of ``rule``'s leading matches, or None when its first match has none."""
    if _LAST[0] is not rule:
        _LAST[1] = _build(rule.matches)
        _LAST[0] = rule
    return _LAST[1]


def _build(matches) -> tuple | None:
    # (_test_of's answers, read by the match's type in place: a walk builds the tests of every
    # rule it meets, ~95,000 at a random mix of 100,000 rules. The model's match classes have
    # no subclasses, so ``type(match) is`` says what isinstance says.)
    tests = []
    for match in matches:
        if match.negated:
            break
        kind = type(match)
        if kind is AddressMatch:
            ranges = match.addresses.ranges
            if not ranges:
                break
            if match.direction is _SOURCE:
                field, nat = _SRC, _NONE_NEEDED
            else:
                field, nat = _DST, _NAT_DST
            lowest, highest = ranges[0] if len(ranges) == 1 else _bounds(ranges)
            whole = len(ranges) == 1
            tests.append((field, nat, lowest, highest, whole, match.addresses.family))
        elif kind is ProtocolMatch:
            if not match.protocols:
                break
            ranges = protocol_ranges(match.protocols)
            whole = len(ranges) == 1
            tests.append((_PROTO, _NONE_NEEDED, ranges[0][0], ranges[-1][1], whole, None))
        elif kind is PortMatch:
            ranges = match.ports.ranges
            if not ranges:
                break
            lowest, highest = ranges[0] if len(ranges) == 1 else _bounds(ranges)
            if match.direction is _DESTINATION:
                tests.append((_DPORT, _NAT_DPORT, lowest, highest, False, None))
            else:
                tests.append((_SPORT, _NONE_NEEDED, lowest, highest, False, None))
            break  # (a port match is never "whole": later tests say nothing)
        else:
            break
        if not whole:
            break  # a box this match holds may still be cut by it: later tests say nothing
    return tuple(tests) or None


def _test_of(match) -> tuple | None:
    if match.negated:
        return None
    if isinstance(match, ProtocolMatch):
        if not match.protocols:
            return None
        ranges = protocol_ranges(match.protocols)
        return _FIELD["proto"], _NONE_NEEDED, ranges[0][0], ranges[-1][1], len(ranges) == 1, None
    if isinstance(match, PortMatch):
        ranges = match.ports.ranges
        if not ranges:
            return None
        lowest, highest = _bounds(ranges)
        # (A port match also cuts off the protocols without ports: never "whole".)
        if match.direction is Direction.DESTINATION:
            return _FIELD["dport"], _FIELD["nat_dport"], lowest, highest, False, None
        return _FIELD["sport"], _NONE_NEEDED, lowest, highest, False, None
    if isinstance(match, AddressMatch):
        ranges = match.addresses.ranges
        if not ranges:
            return None
        if match.direction is Direction.SOURCE:
            field, nat = _FIELD["src"], _NONE_NEEDED
        else:
            field, nat = _FIELD["dst"], _FIELD["nat_dst"]
        lowest, highest = _bounds(ranges)
        return field, nat, lowest, highest, len(ranges) == 1, match.addresses.family
    return None


def _bounds(ranges) -> tuple[int, int]:
    """The lowest and highest value of ``ranges`` (not taken on trust to be sorted)."""
    if len(ranges) == 1:
        return ranges[0]  # (one match in two is one range: a source network, a port)
    return min(ranges)[0], max(map(_HIGH, ranges))


_HIGH = itemgetter(1)


def misses(box: Box, tests: tuple) -> bool:
    """Whether split_rule of ``box`` by the rule of ``tests`` certainly gives (None, [box])."""
    for field, nat, lowest, highest, whole, family in tests:
        if nat >= 0 and box[nat] is not None:
            return False
        ranges = box[field]
        first = ranges[0][0]
        last = ranges[-1][1]
        if last < lowest or first > highest:
            return True  # (an address match of another family misses too)
        if not whole or first < lowest or last > highest or (family is not None and family is not box[0]):
            return False
    return False


def quick_split(box: Box, rule, record_misses: bool, decide) -> tuple[Box | None, list[Box]]:
    """split_rule(box, rule.matches, rule, record_misses, decide), the misses found quickly (the
    tests read only protocol, port and address matches, which neither argument changes)."""
    tests = miss_tests(rule)
    if tests is not None and misses(box, tests):
        return None, [box]
    return split_rule(box, rule.matches, rule, record_misses, decide)
