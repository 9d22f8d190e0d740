"""Merging boxes that differ in one dimension (coalesce), so splitting does not multiply them.

Moved out of engine/space.py unchanged; space.py re-exports ``coalesce`` and
``COALESCE_AT_LEAST``, so the engine imports them from there as before.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from itertools import compress, repeat
from operator import is_, is_not, itemgetter

from linter.engine import intervals as iv, memo
from linter.engine.rangelist import RangeList
from linter.engine.signature_columns import SignatureColumns, any_repeated, repeated_groups
from linter.engine.space import Box, replace

_VALUE_FIELDS = tuple(f for f in Box._fields if f not in ("assumptions", "trail"))
_DIMENSIONS = ("dst", "dport", "proto", "src", "sport", "nat_dst", "nat_dport", "iif", "state", "oif")
_SET_DIMENSIONS = frozenset({"iif", "state", "oif"})


COALESCE_AT_LEAST = 6  # below this, merging saves less than it costs


def coalesce(boxes: list[Box], held: dict | None = None) -> list[Box]:
    """Merge boxes that differ in one dimension only, so splitting does not multiply them.

    Boxes of one path share their trail and assumption tuples (hash-consed); only such
    boxes merge, so what each box remembers of its path stays exact.

    ``held``: the holes of the boxes that hold some (engine/heldcuts.py, by id: (box, holes)),
    merged as if they had been cut out first; the entries are kept up to date.
    """
    if len(boxes) < COALESCE_AT_LEAST:
        return boxes
    first = boxes[0]
    if all(map(is_, map(_TRAIL_OF, boxes), repeat(first.trail))) \
            and all(map(is_, map(_ASSUMPTIONS_OF, boxes), repeat(first.assumptions))):
        # One path (tested in C, each test ending at the first box apart): no key per box.
        return _coalesce_path(boxes, held)
    # Only boxes of one path can merge: when most boxes have a path of their own (thousands
    # of DNATed connections entering FORWARD), only the paths shared by several are merged.
    # (A path's first box is kept as it is, a list made only for a path met again: most of the
    # 68,000 boxes entering a kube-proxy node's FORWARD have a path of their own.)
    # Grouped by trail first (one id and an int key a box, not two and a tuple): where every
    # trail met more than once comes with one assumptions tuple, trails and paths are the
    # same groups in the same order.
    by_path: dict = {}
    assumed_apart = False  # whether a trail was met with two assumptions tuples
    for box in boxes:
        key = id(box.trail)
        found = by_path.get(key)
        if found is None:
            by_path[key] = box
        elif type(found) is list:
            assumed_apart = assumed_apart or box.assumptions is not found[0].assumptions
            found.append(box)
        else:
            assumed_apart = assumed_apart or box.assumptions is not found.assumptions
            by_path[key] = [found, box]
    if assumed_apart:
        by_path = _by_path(boxes)
    if len(by_path) == len(boxes):
        return boxes
    if len(by_path) > 1:
        merged_all: list[Box] = []
        for members in by_path.values():
            if type(members) is not list:
                merged_all.append(members)
            elif len(members) == 2 and not held:
                merged_all.extend(coalesce_pair(members))
            else:
                merged_all.extend(_coalesce_path(members, held))
        return merged_all
    return _coalesce_path(boxes, held)


def _by_path(boxes: list[Box]) -> dict:
    """(id(trail), id(assumptions)) -> the box of that path, or the list of its boxes once
    the path is met again (in the order paths are first met)."""
    by_path: dict[tuple[int, int], Box | list[Box]] = {}
    for box in boxes:
        key = (id(box.trail), id(box.assumptions))
        found = by_path.get(key)
        if found is None:
            by_path[key] = box
        elif type(found) is list:
            found.append(box)
        else:
            by_path[key] = [found, box]
    return by_path


def _coalesce_path(boxes: list[Box], held: dict | None = None) -> list[Box]:
    """coalesce() for boxes that all took one path."""
    if not held and len(boxes) >= LEAN_AT:
        return _coalesce_lean(boxes)
    # Long range lists are compared by identity: hashing them costs their length, and boxes
    # split from one another share them anyway. Each value is hashed once, into a small number
    # (equal values, equal numbers): the keys per box below are tuples of those.
    codes: dict = {}
    # A signature holds the numbers of the fields in which some two boxes hold different objects
    # (``kept``): a field whose object every box shares has one number in every signature, and
    # leaving it out changes no comparison. A quarter of a million boxes end ufw's user chain,
    # alike by identity in nine of thirteen fields. Held boxes get full signatures (their source
    # number is their own: _held_signature).
    kept = _ALL_FIELDS if held else _varying(boxes)
    # The signatures lie in a list beside the boxes, not in a dict by id: at the end of ufw's
    # user chain a quarter of a million boxes each held a key int and a dict slot besides.
    signatures = _signatures(boxes, kept, codes)
    if held:
        for at, box in enumerate(boxes):
            if id(box) in held:
                signatures[at] = _held_signature(signatures[at], codes)
    apart: set[int] = set()  # blocks of dimensions no two of the boxes as they are now can merge in
    for name in _DIMENSIONS:
        if name.startswith("nat_") and all(b.nat_dst is None for b in boxes):
            continue
        if name == "oif" and any(b.oif is None for b in boxes):
            continue
        block = _BLOCK_OF[name]
        if block in apart:
            continue
        # Two boxes that differ in one dimension of the block agree on every dimension out of
        # it: when no two boxes agree there, none merges in any dimension of the block (one
        # pass for the block instead of one per dimension).
        outside = _picker([at for at, field in enumerate(kept) if _BLOCK_OF_FIELD.get(field) != block])
        # Counted by the keys' hashes, not the keys (a quarter of a million boxes at the end of
        # ufw's user chain held that many key tuples at once): distinct hashes are distinct
        # keys, and where two hashes are equal the groups below are made as before.
        if len(set(map(hash, map(outside, signatures)))) == len(boxes):
            apart.add(block)
            continue
        index = Box._fields.index(name)
        key = _picker([at for at, field in enumerate(kept) if field != index])
        groups = _groups(signatures, key)
        if groups is None:
            continue  # (no two boxes alike but for this dimension)
        merged = []
        merged_signatures = []
        widen = index not in kept  # a merge in a field left out: its objects differ from now on
        for places in groups:
            if type(places) is not list:
                merged.append(boxes[places])
                merged_signatures.append(signatures[places])
                continue
            members = [boxes[at] for at in places]
            if name in _SET_DIMENSIONS:
                box = replace(members[0], **{name: frozenset().union(*(m[index] for m in members))})
            elif held and name == "src" and any(id(m) in held for m in members):
                box = _merged_held(members, held)
            else:
                box = replace(members[0], **{name: _merged_ranges(tuple(m[index] for m in members))})
            signature = None if widen else _signature(box, kept, codes)
            if held and id(box) in held:
                signature = _held_signature(signature, codes)
            merged.append(box)
            merged_signatures.append(signature)
        del groups
        boxes = merged
        signatures = merged_signatures
        if widen:
            # Every field in the signatures again, numbered as before (codes is kept): the same
            # comparisons as full signatures from the start.
            kept = _ALL_FIELDS
            signatures = _signatures(boxes, kept, codes)
        apart.clear()  # (new boxes: what was apart may not be)
        if len(boxes) < 2:
            break
    return boxes


LEAN_AT = 1 << 16  # boxes from which their signatures lie in columns (_coalesce_lean)


def _coalesce_lean(boxes: list[Box]) -> list[Box]:
    """_coalesce_path(boxes) for many boxes, none held: the same merges in the same order, the
    signatures in columns and grouped by buckets of hashes (signature_columns.py), not a tuple,
    a hash int and a dict slot per box (ufw's user chain gives back a quarter of a million
    boxes at 100,000 user rules: these were the walk's peak). Codes are numbered column by
    column, not box by box: they are only ever compared for equality."""
    codes: dict = {}
    kept = _varying(boxes)
    signatures = _column_signatures(boxes, kept, codes)
    apart: set[int] = set()
    for name in _DIMENSIONS:
        if name.startswith("nat_") and all(b.nat_dst is None for b in boxes):
            continue
        if name == "oif" and any(b.oif is None for b in boxes):
            continue
        block = _BLOCK_OF[name]
        if block in apart:
            continue
        outside = [at for at, field in enumerate(kept) if _BLOCK_OF_FIELD.get(field) != block]
        if not any_repeated(signatures.hashes(outside)):
            apart.add(block)
            continue
        index = Box._fields.index(name)
        key = [at for at, field in enumerate(kept) if field != index]
        groups = _column_groups(signatures, key)
        if groups is None:
            continue
        widen = index not in kept
        later = bytearray(len(boxes))  # 1 at the places of the groups' later members
        for places in groups.values():
            for at in places[1:]:
                later[at] = 1
        merged = []
        order = array("l")  # the merged boxes' rows of signatures (a merged box's own added after the rest)
        for at, box in enumerate(boxes):
            if later[at]:
                continue
            places = groups.get(at)
            if places is None:
                merged.append(box)
                order.append(at)
                continue
            members = [boxes[place] for place in places]
            if name in _SET_DIMENSIONS:
                box = replace(members[0], **{name: frozenset().union(*(m[index] for m in members))})
            else:
                box = replace(members[0], **{name: _merged_ranges(tuple(m[index] for m in members))})
            merged.append(box)
            if not widen:
                order.append(signatures.append(_signature(box, kept, codes)))
        del groups, later
        boxes = merged
        if widen:
            kept = _ALL_FIELDS
            signatures = _column_signatures(boxes, kept, codes)
        else:
            signatures = signatures.reordered(order)
        del order
        apart.clear()
        if len(boxes) < 2:
            break
    return boxes


def _column_groups(signatures: SignatureColumns, key: list[int]) -> dict | None:
    """_groups for signatures in columns: the groups of two or more places alike in the
    columns ``key``, each as its places in order by its first place (a place in no group is a
    group of one); None when there is none. Grouped by the keys' hashes, by the keys
    themselves where two keys of one hash differ."""
    groups = repeated_groups(signatures.hashes(key))
    if not groups:
        return None
    for places in groups.values():
        if not signatures.alike(places, key):
            by_key: dict[tuple, list[int]] = {}
            for at, codes in enumerate(signatures.keys(key)):
                by_key.setdefault(codes, []).append(at)
            return {places[0]: places for places in by_key.values() if len(places) > 1} or None
    return groups


def _column_signatures(boxes: list[Box], kept: tuple[int, ...], codes: dict) -> SignatureColumns:
    """The signatures of ``boxes`` (``_signature(box, kept, codes)`` for each), as columns."""
    code = codes.setdefault
    return SignatureColumns.of(
        ([code(v if type(v) is not tuple and type(v) is not RangeList or len(v) <= BY_VALUE else id(v), len(codes))
          for v in map(_FIELD_GETTERS[field], boxes)] for field in kept), len(boxes))


def _groups(signatures: list[tuple], key) -> list | None:
    """The places of ``signatures`` grouped by ``key`` of each, the groups in the order of
    their first members, a group of one as its place and a larger one as a list of places;
    None when every group has one member. Grouped by the keys' hashes, the key tuples not
    kept (at the end of ufw's user chain a quarter of a million of them): equal keys have
    equal hashes, and the members of each group of a hash are then compared by their keys;
    where two keys of one hash differ, grouped by the keys themselves."""
    hashes = list(map(hash, map(key, signatures)))
    if len(set(hashes)) == len(hashes):
        return None
    by_hash = _places_by(hashes)
    del hashes
    for places in by_hash.values():
        if type(places) is list:
            first = key(signatures[places[0]])
            for at in places:
                if key(signatures[at]) != first:
                    return _groups_by_key(signatures, key)  # (two keys, one hash)
    return list(by_hash.values())


def _groups_by_key(signatures: list[tuple], key) -> list | None:
    """_groups, the signatures grouped by their keys themselves."""
    groups = _places_by(map(key, signatures))
    return None if len(groups) == len(signatures) else list(groups.values())


def _places_by(keys) -> dict:
    """Each of ``keys`` -> its place among them, or the list of its places once met again (a
    group's first member is kept as its place, a list made only for a group met again)."""
    groups: dict = {}
    for at, group_key in enumerate(keys):
        found = groups.get(group_key)
        if found is None:
            groups[group_key] = at
        elif type(found) is list:
            found.append(at)
        else:
            groups[group_key] = [found, at]
    return groups


def _varying(boxes: list[Box]) -> tuple[int, ...]:
    """The places of the value fields in which some box holds another object than the first."""
    first = boxes[0]
    return tuple(at for at in range(_WIDTH)
                 if not all(map(is_, map(_FIELD_GETTERS[at], boxes), repeat(first[at]))))


def _picker(places: list[int]):
    """A function of a signature to the tuple of its numbers at ``places``."""
    if not places:
        return _nothing
    if len(places) == 1:
        place, = places
        return lambda signature: (signature[place],)
    return itemgetter(*places)


def _nothing(signature: tuple) -> tuple:
    return ()


def coalesce_pair(pair: list[Box]) -> list[Box]:
    """``_coalesce_path(pair)`` for two boxes of one path, none holding holes: merged in the
    dimension they alone differ in (in ``dst`` when they differ in none, the first dimension
    tried), unless it is one the loop skips; else both, as they came. (Thousands of pairs
    share a path where kube-proxy's NodePorts meet FORWARD: each cost a loop over every
    dimension.) Values compare as the loop's signatures compare them: long range lists by
    identity, the rest by value."""
    first, second = pair
    differ = -1
    # (Only the fields whose objects differ are compared, found in C: a pair split from one
    # box shares most of its objects.)
    for index in compress(_FIELD_PLACES, map(is_not, first, second)):
        one, other = first[index], second[index]
        if _code_key(one) == _code_key(other):
            continue
        if differ >= 0:
            return pair  # two dimensions apart
        differ = index
    name = "dst" if differ < 0 else Box._fields[differ]
    if name not in _DIMENSION_SET:
        return pair  # (family, local, marks: never merged)
    if name.startswith("nat_") and first.nat_dst is None and second.nat_dst is None:
        return pair
    if name == "oif" and (first.oif is None or second.oif is None):
        return pair
    index = _FIELD_AT[name]
    if name in _SET_DIMENSIONS:
        return [replace(first, **{name: frozenset().union(first[index], second[index])})]
    return [replace(first, **{name: _merged_ranges((first[index], second[index]))})]


def _code_key(value):
    """What a signature's code of ``value`` stands for (_signature)."""
    if type(value) is not tuple and type(value) is not RangeList or len(value) <= BY_VALUE:
        return value
    return id(value)


_WIDTH = len(_VALUE_FIELDS)
_FIELD_PLACES = range(_WIDTH)
_TRAIL_OF = itemgetter(Box._fields.index("trail"))
_ASSUMPTIONS_OF = itemgetter(Box._fields.index("assumptions"))
_DIMENSION_SET = frozenset(_DIMENSIONS)
_FIELD_AT = {name: index for index, name in enumerate(Box._fields)}


# Dimensions in blocks, each block tested at once before its dimensions one by one.
_BLOCKS = (("dst", "dport"), ("proto", "src", "sport"), ("nat_dst", "nat_dport"), ("iif", "state", "oif"))
_BLOCK_OF = {name: number for number, block in enumerate(_BLOCKS) for name in block}
_BLOCK_OF_FIELD = {Box._fields.index(name): number for name, number in _BLOCK_OF.items()}
_ALL_FIELDS = tuple(range(len(_VALUE_FIELDS)))  # a full signature's places (the boxes share one path)
_FIELD_GETTERS = tuple(itemgetter(at) for at in _ALL_FIELDS)
_VALUES = itemgetter(slice(0, len(_VALUE_FIELDS)))  # a box's value fields, in order


_MERGED: dict[tuple[int, ...], tuple[tuple, iv.Ranges]] = {}
# The ranges the cache holds, bounded too: a random mix's merges of long source lists (every
# /24 dropped so far) held 42 million ranges, 340 MB, in 1,250 entries at 100k rules.
MERGED_HOLD = 1 << 20
SPLICE_SHIFT = 4  # the others together at most 1/16 of the longest list: spliced into it
_MERGED_HELD = [0]


def _merged_ranges(lists: tuple[iv.Ranges, ...]) -> iv.Ranges:
    """The union of range lists; long ones remembered by the identity of their parts.

    The same boxes are cut the same way over and over (every NodePort cuts the boxes left
    after thousands of cluster IPs): merging their long destination lists again each time
    made a 100k-rule ruleset quadratic."""
    if sum(len(ranges) for ranges in lists) <= 64:
        return iv.normalize(r for ranges in lists for r in ranges)
    key = tuple(map(id, lists))
    hit = _MERGED.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], lists)):
        return hit[1]
    if len(_MERGED) > 10_000 or _MERGED_HELD[0] > MERGED_HOLD:
        _MERGED.clear()
        _MERGED_HELD[0] = 0
    longest = max(lists, key=len)
    if sum(len(ranges) for ranges in lists) - len(longest) <= max(16, len(longest) >> SPLICE_SHIFT):
        # A long list and a few short ones (what came back from a jump by a source network,
        # merged with what did not jump; a random mix's source /24s returned early, a few
        # dozen at a time): spliced in, not sorted again.
        merged = iv.splice(longest, iv.normalize(r for ranges in lists if ranges is not longest for r in ranges))
    else:
        merged = iv.normalize(r for ranges in lists for r in ranges)
    _MERGED[key] = (lists, merged)
    _MERGED_HELD[0] += len(merged) + sum(map(len, lists))
    return merged


def forget_merged() -> None:
    """Empty the cache of merged range lists (and let go the lists it keeps for identity)."""
    _MERGED.clear()
    _MERGED_HELD[0] = 0


memo.on_forget(forget_merged)


def _merged_held(members: list[Box], held: dict) -> Box:
    """``members`` merged in their sources, one of them held (list L, holes H, the others' union
    P): (L - H) | P is (L | P) - (H - P), so the merged box holds L (or L | P, one splice where P
    reaches past L: what came back from a jump after L was settled) with holes H - P. Two held
    members are settled and merged as usual."""
    holding = [box for box in members if id(box) in held]
    if len(holding) == 1:
        whole = holding[0]
        others = iv.normalize(r for box in members if box is not whole for r in box.src)
        listed = whole.src
        holes = held[id(whole)][1]
        # (P is most often holes of H, each exactly: parts a jump by source network took and
        # its chain sent back whole. A hole lies inside one range of L, so then P does too.)
        exact = _exact_holes(holes, others)
        if exact is None and not _inside_ranges(listed, others):
            few = len(others) <= max(16, len(listed) >> SPLICE_SHIFT)
            listed = iv.splice(listed, others) if few else iv.union(listed, others)
        # (Each range of P cuts at most one hole in two: H - P has at most len(H) + len(P) holes.)
        if listed and len(listed) - len(holes) - len(others) > BY_VALUE:
            # H - P, in place (the list goes on with the merged box)
            if exact is not None:
                for at in reversed(exact):
                    del holes[at]  # (what _take_out does with a range equal to one hole)
            else:
                _take_out(holes, others)
            del held[id(whole)]
            box = replace(members[0], src=listed)
            if holes:
                held[id(box)] = (box, holes)
            return box
        if listed:
            holes = iv.subtract(tuple(holes), others)
            if len(listed) - len(holes) > BY_VALUE:
                del held[id(whole)]
                box = replace(members[0], src=listed)
                if holes:
                    held[id(box)] = (box, list(holes))
                return box
    lists = tuple(iv.without_inside(box.src, held.pop(id(box))[1]) if id(box) in held else box.src
                  for box in members)
    return replace(members[0], src=_merged_ranges(lists))


def _take_out(holes: list[tuple[int, int]], parts: iv.Ranges) -> None:
    """``holes`` (sorted, disjoint) less ``parts`` (a normalized range list), in place: each
    range of ``parts`` finds the holes it reaches by bisection and leaves what lies outside it."""
    for lo, hi in parts:
        first = bisect_right(holes, (lo, _AFTER_ALL))
        if first and holes[first - 1][1] >= lo:
            first -= 1
        last = bisect_right(holes, (hi, _AFTER_ALL), first)  # (past the last hole starting at or before hi)
        if first >= last:
            continue
        kept = []
        low, high = holes[first][0], holes[last - 1][1]
        if low < lo:
            kept.append((low, lo - 1))
        if high > hi:
            kept.append((hi + 1, high))
        holes[first:last] = kept


def _exact_holes(holes: list[tuple[int, int]], parts: iv.Ranges) -> list[int] | None:
    """Where each range of ``parts`` (normalized) lies in ``holes`` (sorted, disjoint) as one
    hole exactly, in order; None unless every one does."""
    found = []
    count = len(holes)
    for piece in parts:
        at = bisect_left(holes, piece)
        if at == count or holes[at] != piece:
            return None
        found.append(at)
    return found


def _inside_ranges(ranges: iv.Ranges, parts: iv.Ranges) -> bool:
    """Whether each range of ``parts`` lies inside one range of ``ranges`` (by bisection)."""
    for lo, hi in parts:
        index = bisect_right(ranges, (lo, _AFTER_ALL)) - 1
        if index < 0 or ranges[index][1] < hi:
            return False
    return True


_AFTER_ALL = 1 << 130  # past every address (v6 too)
_SOURCE_AT = Box._fields.index("src")


BY_VALUE = 8  # range lists up to this long are compared by value, longer ones by identity


def _held_signature(signature: tuple, codes: dict) -> tuple:
    """A held box's signature with a source code of its own: its source list, once its holes
    are cut out, is a new list of more than BY_VALUE ranges (HeldCuts.coalesce sees to that),
    equal to no other box's (long lists compare by identity)."""
    return signature[:_SOURCE_AT] + (codes.setdefault(object(), len(codes)),) + signature[_SOURCE_AT + 1:]


def _signature(box: Box, kept: tuple[int, ...], codes: dict) -> tuple:
    """The numbers of ``box``'s values at the places ``kept`` (equal values, equal numbers). Its
    path is not in it: _coalesce_path is given the boxes of one path, and a merged box keeps its
    first member's."""
    code = codes.setdefault
    return tuple([code(v if type(v) is not tuple and type(v) is not RangeList or len(v) <= BY_VALUE else id(v),
                       len(codes)) for v in map(box.__getitem__, kept)])


def _signatures(boxes: list[Box], kept: tuple[int, ...], codes: dict) -> list[tuple]:
    """``[_signature(box, kept, codes) for box in boxes]``, in one loop."""
    code = codes.setdefault
    pick = _picker(list(kept)) if kept is not _ALL_FIELDS else _VALUES
    return [tuple([code(v if type(v) is not tuple and type(v) is not RangeList or len(v) <= BY_VALUE else id(v),
                        len(codes)) for v in pick(box)]) for box in boxes]


def merged_in_sources(boxes: list[Box], held: dict | None = None) -> list[Box] | None:
    """``coalesce(boxes, held)`` where its answer is one merge in sources, found without the
    signatures: every box has the first box's path and, but for its source list, the very same
    field objects, and no two boxes' source lists compare equal (held ones never do). Then no
    two boxes agree outside the destination block, none merges in protocol, all merge in
    sources, in their order: what ``_coalesce_path`` does. None where this does not hold
    (nothing done: coalesce finds the answer). A held box entering a jump with what earlier
    jumps by source network returned is met so at every `-p tcp -j CHAIN` of a random mix."""
    if len(boxes) < COALESCE_AT_LEAST:
        return None
    first = boxes[0]
    head, tail = first[:_SOURCE_AT], first[_SOURCE_AT + 1:]
    keys = set()
    plain = 0
    for box in boxes:
        if not (all(map(is_, box[_SOURCE_AT + 1:], tail)) and all(map(is_, box[:_SOURCE_AT], head))):
            return None
        if not held or id(box) not in held:
            keys.add(_code_key(box.src))
            plain += 1
    if len(keys) < plain:
        return None  # (two lists alike: coalesce would merge those in another dimension first)
    if held and any(id(box) in held for box in boxes):
        return [_merged_held(boxes, held)]
    return [replace(first, src=_merged_ranges(tuple(box.src for box in boxes)))]
