"""The union of the packet boxes a chain has decided so far, and whether it covers a box.

The dead-rule analysis's general path (engine/shadow.py) keeps what goes on past the rules as
disjoint boxes, and each rule splits them: a random mix of source drops, port drops and
jumps cuts that space into so many pieces that it runs out of budget. What is *decided* is
far simpler: a union of the rules' own matches. This module keeps that union as an index of
boxes (overlaps allowed) and answers "is this box inside the union?" by looking only at the
boxes that can meet it: boxes differing from others in one dimension (thousands of source
/24 drops, thousands of tcp port drops) are merged into one box with a growing list there,
and the others are found by source prefix or destination port.

A box here is an engine Box; only its local flag, protocol, ports, addresses, input interfaces
and conntrack states are read (the dead-rule analysis's boxes have no NAT, output interface or
mark of their own), and its local flag may be None: packets for this host and passing through
alike (a rule without an address type match cannot tell them apart).
"""

from __future__ import annotations

from bisect import bisect_right

from linter.engine import decided_any, intervals as iv
from linter.engine.bound_union import Union
from linter.engine.port_probe import probe_ports
from linter.engine.space import Box, with_proto, with_src

_PROTO, _SPORT, _DPORT, _SRC, _DST, _IIF, _STATE, _LOCAL = (Box._fields.index(name) for name in (
    "proto", "sport", "dport", "src", "dst", "iif", "state", "local"))
assert Box._fields[_PROTO:_DST + 1] == ("proto", "sport", "dport", "src", "dst")  # (add_source_crossing's key)
_RANGE_DIMS = (_PROTO, _SRC, _DST, _SPORT, _DPORT)  # (a box's difference is cut in this order)
_SET_DIMS = (_IIF, _STATE)
_DIMS = (_PROTO, _IIF, _STATE, _SRC, _DST, _SPORT, _DPORT)
_ANY = None  # the index key of a box too wide in a dimension to be filed by its values
_FEW_PORTS = 32  # a box with at most this many destination ports is filed under each
_FEW_BUCKETS = 4  # a box whose sources span at most this many /16 (IPv4) buckets is filed under each


class OverBudget(Exception):
    """The coverage tests spent the budget they were given."""


def _meets(ranges: iv.Ranges, other) -> bool:
    if ranges is other:
        return True
    if type(other) is Union:
        return other.meets(ranges)
    if len(ranges) == 1 and len(other) == 1:
        (lo, hi), = ranges
        (other_lo, other_hi), = other
        return lo <= other_hi and other_lo <= hi
    return bool(iv.intersect(ranges, other))


def _within(ranges: iv.Ranges, other) -> bool:
    """Whether ``ranges`` lie inside ``other``."""
    if ranges is other:
        return True
    if type(other) is Union:
        return other.covers(ranges)
    return iv.covers(other, ranges)


def _inside(ranges: iv.Ranges, other) -> iv.Ranges:
    return other.inside(ranges) if type(other) is Union else iv.intersect(ranges, other)


def _outside(ranges: iv.Ranges, other) -> iv.Ranges:
    return other.outside(ranges) if type(other) is Union else iv.subtract(ranges, other)


class DecidedIndex:
    """The union of the boxes added so far (one family), with coverage tests against it.

    ``budget``: the work (boxes cut and boxes looked at) the tests may spend; past it they
    raise OverBudget."""

    def __init__(self, universe: list[Box], budget: int):
        first = universe[0]
        self.full = {dim: first[dim] for dim in _DIMS}
        self.shift = max(0, first.src[-1][1].bit_length() - 16)  # a source bucket: the top 16 bits
        self.budget = budget
        self.spent = 0
        self.merged: dict[tuple, list] = {}  # (dimension, the other fields) -> the entry merged in it
        self.by_src: dict = {}  # source bucket (or _ANY) -> entries filed there
        self.by_dport: dict = {}  # destination port (or _ANY) -> entries filed there
        self.entries: list[list] = []  # every entry: [local, proto, sport, dport, src, dst, iif, state, mask, tests]
        self.touched: dict[int, Union] = {dim: Union() for dim in _RANGE_DIMS}  # values some entry narrows
        self.touched_sets: dict[int, set] = {dim: set() for dim in _SET_DIMS}
        self.touched_whole: set[int] = set()  # the range dimensions whose touched values hold the universe's
        # _probe() of a box whole in every dimension: its values (a dimension's None until found,
        # and again once an entry narrows it: the value there may be held now) and its bits
        self.whole_values: list = [None if at in _DIMS else value for at, value in enumerate(first)]
        self.whole_bits = 0
        # _missed_sources()'s packet of the whole probe (proto, sport, dport, dst, iif, state),
        # made once its values there are known, forgotten with any of them (_narrowed)
        self.whole_point: tuple | None = None
        self.full_items = tuple((dim, first[dim]) for dim in _DIMS)
        self.by_mask: dict[int, list[list]] = {}  # entry mask -> the entries of that mask
        self.unskipped: dict[int, list[list]] = {}  # a probe's free bits -> the by_mask lists it does not skip
        self.source_entry: list | None = None  # the entry source drops merge in (cover_or_add_source), once made
        self.port_entries: dict = {}  # a protocol -> the entry its port drops merge in (cover_or_add_ports)
        self.any_seen: dict = {}  # (an _ANY list, free bits, protocol) -> what _candidate scans of it (decided_any)

    def charge(self, work: int) -> None:
        """Count ``work`` (boxes made elsewhere for this index) against the budget."""
        self.spent += work
        if self.spent > self.budget:
            raise OverBudget

    # --- adding ---------------------------------------------------------------------------
    def add(self, box: Box) -> None:
        """Add ``box`` to the union (a box looked at, for the budget)."""
        self.spent += 1
        full = self.full
        narrow = [dim for dim in _RANGE_DIMS if box[dim] != full[dim]]
        touched = self.touched
        mergeable = narrow and (len(narrow) == 1 or (len(narrow) == 2 and narrow[0] == _PROTO and len(box.proto) == 1
                                                     and box.proto[0][0] == box.proto[0][1]))
        if mergeable:
            # One narrow dimension (a source drop), or one protocol and one more (a tcp port drop):
            # such boxes of one kind differ only there and merge into one entry.
            kind = narrow[-1]
            key = (kind, box.local, box.iif, box.state) + box[_PROTO:kind] + box[kind + 1:_DST + 1]  # (all but kind's)
            entry = self.merged.get(key)
            if entry is not None:
                self._merge_into(entry, kind, box[kind])  # (its other values the entry's, touched already)
                return
        mask = 0
        touched_whole = self.touched_whole
        for dim in narrow:
            if dim not in touched_whole and touched[dim].add(box[dim]):
                self._narrowed(dim)
            mask |= _BIT[dim]
        if box.iif != full[_IIF] or box.state != full[_STATE]:
            for dim in _SET_DIMS:
                if box[dim] != full[dim]:
                    self.touched_sets[dim].update(box[dim])
                    mask |= _BIT[dim]
                    self._narrowed(dim)
        if mergeable:  # (the first box of its kind)
            entry = self._entry(box, mask)
            entry[kind] = Union(box[kind])
            self.merged[key] = entry
            self._file(entry, _ANY, _ANY)
            return
        entry = self._entry(box, mask)
        self._file(entry, self._src_keys(box.src), self._dport_keys(box.dport))

    def add_source_crossing(self, proto: iv.Ranges, box: Box) -> None:
        """``add(with_proto(box, proto))`` for ``proto`` one protocol: a protocol's jump crossed
        with a box its chain decides, most often a source drop's (the universe narrowed in its
        sources only, local None), merged straight into its entry when one holds such boxes."""
        full = self.full
        if box.local is not None or box.sport is not full[_SPORT] or box.dport is not full[_DPORT] \
                or box.dst is not full[_DST] or box.src == full[_SRC] or proto == full[_PROTO]:
            self.add(with_proto(box, proto))
            return
        # (add()'s key of boxes narrowed in one protocol and their sources)
        entry = self.merged.get((_SRC, None, box.iif, box.state, proto, box.sport, box.dport, box.dst))
        if entry is None:
            self.add(with_proto(box, proto))  # (the first of its kind: add() makes the entry)
            return
        self.spent += 1
        self._merge_into(entry, _SRC, box.src)

    def _merge_into(self, entry: list, dim: int, ranges) -> None:
        """``ranges`` merged into a merged entry's ``dim`` (a Union). The touched values there
        hold the entry's, so they grow only if the entry does (and never once they hold the
        universe's: every box lies inside it)."""
        if entry[dim].add(ranges) and dim not in self.touched_whole and self.touched[dim].add(ranges):
            self._narrowed(dim)

    def _narrowed(self, dim: int) -> None:
        """Forget the whole probe's value in ``dim``, where an entry narrows more now."""
        self.whole_values[dim] = None
        self.whole_point = None
        self.whole_bits &= ~_BIT[dim]
        touched = self.touched.get(dim)
        if touched is not None and len(touched.bounds) == 2:
            (lo, _), (_, hi) = self.full[dim][0], self.full[dim][-1]
            if touched.bounds[0] <= lo and touched.bounds[1] > hi:
                self.touched_whole.add(dim)  # (a source drop's merge: 44k of a mix 100k's, once the
                # wide pieces of port drops less source RETURNs have touched every source)

    @staticmethod
    def _entry(box: Box, mask: int) -> list:
        # (mask: a bit per dimension the entry narrows, which then lies inside ``touched``; tests:
        # the slots of the range dimensions it narrows, the only ones a packet of the universe
        # can lie outside of: _candidate tests those)
        return [box.local, box.proto, box.sport, box.dport, box.src, box.dst, box.iif, box.state, mask,
                _tests_of(mask)]

    def _file(self, entry: list, src_keys, dport_keys) -> None:
        self.entries.append(entry)
        same_mask = self.by_mask.get(entry[8])
        if same_mask is None:
            self.by_mask[entry[8]] = [entry]
            self.unskipped.clear()  # (a new kind of entry: the lists a probe reads change)
        else:
            same_mask.append(entry)
        for key in (src_keys if src_keys is not _ANY else (_ANY,)):
            self.by_src.setdefault(key, []).append(entry)
        for key in (dport_keys if dport_keys is not _ANY else (_ANY,)):
            self.by_dport.setdefault(key, []).append(entry)

    def _src_keys(self, ranges: iv.Ranges):
        """The source buckets a box of these sources is filed under, or _ANY."""
        low, high = ranges[0][0] >> self.shift, ranges[-1][1] >> self.shift
        return range(low, high + 1) if high - low < _FEW_BUCKETS else _ANY

    @staticmethod
    def _dport_keys(ranges: iv.Ranges):
        """The destination ports a box of these ports is filed under, or _ANY."""
        if iv.size(ranges) > _FEW_PORTS:
            return _ANY
        return [port for lo, hi in ranges for port in range(lo, hi + 1)]

    # --- a source drop, tested and added in one go -------------------------------------
    def cover_or_add_source(self, box: Box) -> bool:
        """``covers(box)``, and ``add(box)`` when not, for a box of sources only (see
        _missed_source): a source drop, 31k of a random mix 100k's 50k tests. Where the first
        probe tells it apart, it is merged into the source drops' entry directly, with add()'s
        charge; any other goes through covers() and add()."""
        entry = self.source_entry
        if entry is None or not self._missed_source(box):
            return self._cover_or_add(box)
        # add(box): merged in the source drops' entry (its other values the universe's, as the box's)
        self.spent += 1
        self._merge_into(entry, _SRC, box.src)
        return False

    def cover_or_add_sources(self, src: iv.Ranges, universe: Box) -> bool:
        """cover_or_add_source() of ``universe`` (the index's universe box but for its local
        flag, None) narrowed to sources ``src``, the box made only where covers() and add()
        are asked: a source drop whose first probe tells it apart is merged in directly."""
        entry = self.source_entry
        if entry is None or not self._missed_sources(src):
            return self._cover_or_add(with_src(universe, src))
        self.spent += 1  # (add(): merged in the source drops' entry)
        self._merge_into(entry, _SRC, src)
        return False

    def covers_source(self, box: Box) -> bool:
        """``covers(box)`` for a box of sources only (see _missed_source): a jump's match."""
        return False if self._missed_source(box) else self.covers(box)

    def _missed_source(self, box: Box) -> bool:
        """For ``box`` the universe narrowed in its sources only (local None, its other fields
        the universe's own objects), whether covers() would find at its first probe that no
        entry holds it, the usual answer: no entry its free bits do not skip holds it. Then
        covers()'s charges are made here (and covers() answers False); when not, or for
        another box, nothing is charged and covers() is to be asked."""
        full = self.full
        if box.local is not None or box.proto is not full[_PROTO] or box.dport is not full[_DPORT] \
                or box.sport is not full[_SPORT] or box.dst is not full[_DST] or box.iif is not full[_IIF] \
                or box.state is not full[_STATE]:
            return False
        return self._missed_sources(box.src)

    def _missed_sources(self, src: iv.Ranges) -> bool:
        """_missed_source() of the universe (local None) narrowed to sources ``src``."""
        point = self.whole_point
        if point is None:
            whole = self.whole_values
            if whole[_PROTO] is None or whole[_SPORT] is None or whole[_DPORT] is None \
                    or whole[_DST] is None or whole[_IIF] is None or whole[_STATE] is None:
                return False
            point = self.whole_point = (whole[_PROTO][0][0], whole[_SPORT][0][0], whole[_DPORT][0][0],
                                        whole[_DST][0][0], *whole[_IIF], *whole[_STATE])
        if src == self.full[_SRC]:
            return False
        # _probe(box): the whole probe's values but for the sources, free where they are
        value = None if _SRC in self.touched_whole else self.touched[_SRC].first_outside(src)
        if value is None:
            value = src[0][0]
            free = self.whole_bits & _NOT_SRC
        else:
            free = self.whole_bits | _SRC_BIT
        unskipped = self.unskipped.get(free)
        if unskipped is None:
            unskipped = self.unskipped[free] = [entries for mask, entries in self.by_mask.items() if not mask & free]
        if not free or sum(map(len, unskipped)) > _FEW_UNSKIPPED:
            return False
        # _candidate(probe, free)'s direct test of the unskipped entries (local True: box.local is None)
        proto, sport, dport, dst, iif, state = point
        values = (None, proto, sport, dport, value, dst)  # (by an entry's slot)
        for entries in unskipped:
            for held in entries:
                if held[0] is False or iif not in held[6] or state not in held[7]:
                    continue
                for slot in held[9]:
                    ranges = held[slot]
                    if type(ranges) is Union:  # (_has, inline)
                        if not bisect_right(ranges.bounds, values[slot]) & 1:
                            break
                    elif not _has(ranges, values[slot]):
                        break
                else:
                    return False  # (held: the probes go on, covers() follows them)
        # None holds it: not covered, with _candidate's charges (one, and its candidates' scan)
        by_src, by_dport = self.by_src, self.by_dport
        mine = by_src.get(value >> self.shift)
        count = len(by_src.get(_ANY) or ()) + (len(mine) if mine else 0)
        mine = by_dport.get(dport)
        other = len(by_dport.get(_ANY) or ()) + (len(mine) if mine else 0)
        self.spent += 1 + (other if other < count else count)
        if self.spent > self.budget:
            raise OverBudget
        return True

    def _cover_or_add(self, box: Box) -> bool:
        if self.covers(box):
            return True
        self.add(box)
        if self.source_entry is None and box.local is None:
            full = self.full
            self.source_entry = self.merged.get((_SRC, None, full[_IIF], full[_STATE]) + tuple(
                full[dim] for dim in (_PROTO, _SPORT, _DPORT, _DST)))
        return False

    # --- a port drop, tested and added in one go ---------------------------------------
    def cover_or_add_ports(self, box: Box) -> bool:
        """``covers(box)``, and ``add(box)`` when not, for a box narrowed in its protocols and
        destination ports only (local None, its other fields the universe's own objects): a port drop,
        12.5k of a random mix 100k's tests. covers() goes on from its first probe when an entry holds that;
        a box not covered is merged into its protocol's port drops' entry directly, with add()'s charge."""
        point, free = probe_ports(self, box, _BIT[_PROTO], _BIT[_DPORT])
        entry = self._candidate(point, free)
        if entry is not None and self._covers_from(box, point, free, entry):
            return True
        entry = self.port_entries.get(box.proto)
        if entry is None or not self._port_drop(box):
            self.add(box)  # (the first of its protocol: add() makes the entry)
            self._find_port_entry(box)
            return False
        # add(box): merged in the entry (its other values the universe's, as the box's)
        self.spent += 1
        self._merge_into(entry, _DPORT, box.dport)
        return False

    def _port_drop(self, box: Box) -> bool:
        """Whether add() merges ``box`` as a port drop: narrowed to one protocol and in its
        destination ports, local None, its other fields the universe's own objects."""
        full, proto = self.full, box.proto
        return box.local is None and box.sport is full[_SPORT] and box.src is full[_SRC] \
            and box.dst is full[_DST] and box.iif is full[_IIF] and box.state is full[_STATE] \
            and len(proto) == 1 and proto[0][0] == proto[0][1] and proto != full[_PROTO] \
            and box.dport != full[_DPORT]

    def _find_port_entry(self, box: Box) -> None:
        """Remember the entry add() merged port drop ``box`` into, for its protocol."""
        if not self._port_drop(box):
            return
        entry = self.merged.get((_DPORT, None, box.iif, box.state) + box[_PROTO:_DPORT] + box[_DPORT + 1:_DST + 1])
        if entry is not None:  # (add()'s key of the entry merged in destination ports)
            self.port_entries[box.proto] = entry

    # --- coverage -------------------------------------------------------------------------
    def covers(self, box: Box) -> bool:
        """Whether every packet of ``box`` lies in the union (raises OverBudget)."""
        point, free = self._probe(box)
        entry = self._candidate(point, free)
        if entry is None:
            return False  # (a packet of the box no entry holds: the usual answer, found cheaply)
        return self._covers_from(box, point, free, entry)

    def _covers_from(self, box: Box, point: Box, free: int, entry: list) -> bool:
        """covers() of ``box`` once its first probe ``point`` (of free bits ``free``) found
        ``entry`` holding it."""
        for probe in range(_PROBES):
            if probe:
                entry = self._candidate(point, free)
                if entry is None:
                    return False
            point, dim = _moved_out(point, box, entry)
            if point is None:
                return True  # the box lies inside that entry
            if dim is not None:  # (the one dimension the point moved in: free there or not now)
                if dim in _SET_DIMS:
                    held = not point[dim].isdisjoint(self.touched_sets[dim])
                else:
                    held = dim in self.touched_whole or self.touched[dim].meets(point[dim])
                free = free & ~_BIT[dim] if held else free | _BIT[dim]
        pieces = [box]
        while pieces:
            piece = pieces.pop()
            entry = self._best(piece)
            if entry is None:
                return False
            pieces.extend(self._cut(piece, entry))
        return True

    def _best(self, box: Box) -> list | None:
        """The entry meeting ``box`` that leaves the fewest pieces of it (none: it holds the
        box), or None when none meets it: cutting by the first one met could leave a piece of
        every source outside thousands of /24 drops that a port drop would have taken whole."""
        best, fewest = None, 99
        self.spent += 1
        for entries in self._candidates(box):
            self.spent += len(entries)
            if self.spent > self.budget:
                raise OverBudget
            for entry in entries:
                if self._entry_meets(entry, box):
                    outside = _reaches_outside(box, entry)
                    if outside < fewest:
                        best, fewest = entry, outside
                        if not outside:
                            return entry
        return best

    def _probe(self, box: Box) -> tuple[Box, int]:
        """One packet of ``box``, chosen where no entry narrows a dimension if it can be, and
        the bits of the dimensions where it is so (free: no entry narrowing them holds it).
        Only its local flag and dimensions are read (by _candidate and _moved_out); its other
        fields are the universe's."""
        whole_values = self.whole_values  # (kept until an entry narrows a dimension: most boxes are whole in most)
        values = list(whole_values)
        free_bits = self.whole_bits
        values[_LOCAL] = True if box.local is None else box.local
        for dim, full in self.full_items:
            mine = box[dim]
            if mine is not full and mine != full:
                found = self._probe_value(dim, mine)
                values[dim] = found[0]
                free_bits = free_bits & ~_BIT[dim] | found[1]
            elif values[dim] is None:
                found = self._probe_value(dim, full)
                whole_values[dim] = values[dim] = found[0]
                self.whole_bits |= found[1]
                free_bits |= found[1]
        return tuple.__new__(Box, values), free_bits

    def _probe_value(self, dim: int, mine) -> tuple:
        """The probe's value in dimension ``dim`` of a box holding ``mine`` there, and the
        dimension's bit if no entry narrowing it holds that value (else 0)."""
        if dim in _SET_DIMS:
            free = mine - self.touched_sets[dim]
            return frozenset((min(free or mine),)), _BIT[dim] if free else 0
        value = None if dim in self.touched_whole else self.touched[dim].first_outside(mine)
        if value is None:
            return ((mine[0][0], mine[0][0]),), 0
        return ((value, value),), _BIT[dim]

    def _candidate(self, point: Box, free: int = 0) -> list | None:
        """An entry that holds the packet ``point`` (a box of one packet), or None when none
        does; ``free``: the bits of the dimensions where ``point`` holds no value any entry
        narrowing them holds, so an entry narrowing one of them is passed over without a test
        (it cannot hold the packet)."""
        # (_candidates() of a box of one packet, one source bucket and one port, made directly: the source
        # side's two lists, or the port side's when they hold fewer entries; None for a key nothing is filed under)
        by_src, by_dport = self.by_src, self.by_dport
        first, second = by_src.get(point[_SRC][0][0] >> self.shift), by_src.get(_ANY)
        count = (len(first) if first else 0) + (len(second) if second else 0)
        other_first, other_second = by_dport.get(point[_DPORT][0][0]), by_dport.get(_ANY)
        other = (len(other_first) if other_first else 0) + (len(other_second) if other_second else 0)
        if other < count:
            first, second, count = other_first, other_second, other
        self.spent += 1
        local = point.local
        values = (None, point[_PROTO][0][0], point[_SPORT][0][0], point[_DPORT][0][0], point[_SRC][0][0],
                  point[_DST][0][0])  # (by an entry's slot)
        iif, = point.iif
        state, = point.state
        if free:
            # The entries of the masks ``free`` does not skip are often a handful (a source drop's
            # probe: the merged source drops), fewer than the candidates: tested first, when none
            # holds the packet the answer is the scan's, its work charged as the scan would.
            unskipped = self.unskipped.get(free)
            if unskipped is None:
                unskipped = self.unskipped[free] = [entries for mask, entries in self.by_mask.items()
                                                    if not mask & free]
            if sum(map(len, unskipped)) <= _FEW_UNSKIPPED:
                for entries in unskipped:
                    for entry in entries:
                        held = entry[0]
                        if held is not None and held is not local or iif not in entry[6] or state not in entry[7]:
                            continue
                        for slot in entry[9]:
                            ranges = entry[slot]
                            if type(ranges) is Union:  # (_has, inline)
                                if not bisect_right(ranges.bounds, values[slot]) & 1:
                                    break
                            elif not _has(ranges, values[slot]):
                                break
                        else:
                            break  # (held: the scan below finds the first entry holding it)
                    else:
                        continue
                    break
                else:
                    self.spent += count
                    if self.spent > self.budget:
                        raise OverBudget
                    return None
        for entries, scanned in ((first, first), (second, second and decided_any.any_entries(  # (charged whole)
                self.any_seen, second, free, values[1], _BIT[_PROTO]))):
            if not entries:
                continue
            self.spent += len(entries)
            if self.spent > self.budget:
                raise OverBudget
            for entry in scanned:
                if entry[8] & free:
                    continue
                held = entry[0]
                if held is not None and held is not local or iif not in entry[6] or state not in entry[7]:
                    continue
                for slot in entry[9]:
                    ranges = entry[slot]
                    if type(ranges) is Union:  # (_has, inline: the merged entries' long lists)
                        if not bisect_right(ranges.bounds, values[slot]) & 1:
                            break
                    elif type(ranges) is tuple and len(ranges) == 1:  # (and one range: most entries')
                        (lo, hi), = ranges
                        if not lo <= values[slot] <= hi:
                            break
                    elif not _has(ranges, values[slot]):
                        break
                else:
                    return entry
        return None

    def _candidates(self, box: Box) -> list[list]:
        """Lists of entries holding every entry that may meet ``box``: those filed under its
        source buckets or under its ports, whichever are fewer."""
        found = []
        src_keys = self._src_keys(box.src)
        if src_keys is not _ANY:
            by_src = self.by_src
            found = [by_src[key] for key in (*src_keys, _ANY) if key in by_src]
        dport_keys = self._dport_keys(box.dport)
        if dport_keys is not _ANY:
            by_dport = self.by_dport
            other = [by_dport[key] for key in (*dport_keys, _ANY) if key in by_dport]
            if src_keys is _ANY or sum(map(len, other)) < sum(map(len, found)):
                found = other
        elif src_keys is _ANY:
            found = [self.entries]
        return found

    @staticmethod
    def _entry_meets(entry: list, box: Box) -> bool:
        local = entry[0]
        if local is not box.local and local is not None and box.local is not None \
                or not (entry[6] & box.iif) or not (entry[7] & box.state):
            return False
        return (_meets(box.proto, entry[1]) and _meets(box.dport, entry[3]) and _meets(box.src, entry[4])
                and _meets(box.dst, entry[5]) and _meets(box.sport, entry[2]))

    def _cut(self, box: Box, entry: list) -> list[Box]:
        """``box`` minus the entry (which meets it), as disjoint boxes."""
        self.spent += 1
        pieces = []
        values = list(box)
        local = entry[0]
        if box.local is None and local is not None:  # the other half (for this host or not) is outside
            values[_LOCAL] = not local
            pieces.append(tuple.__new__(Box, values))
            values = list(values)
            values[_LOCAL] = local
        for dim, slot in _CUT_ORDER:
            mine, theirs = values[dim], entry[slot]
            if dim in _SET_DIMS:
                out, common = mine - theirs, mine & theirs
            else:
                out, common = _outside(mine, theirs), _inside(mine, theirs)
            if out:
                values[dim] = out
                pieces.append(tuple.__new__(Box, values))
                values = list(values)
            values[dim] = common
        pieces.reverse()  # the first dimension's piece is looked at first (the stack pops the last)
        return pieces


def _has(ranges, value: int) -> bool:
    """Whether ``ranges`` (an entry's: a Union or sorted disjoint ranges) hold ``value``."""
    if type(ranges) is Union:
        return bisect_right(ranges.bounds, value) & 1 == 1
    if type(ranges) is not tuple:
        return _meets(((value, value),), ranges)
    for lo, hi in ranges:
        if value <= hi:
            return lo <= value
    return False


def _reaches_outside(box: Box, entry: list) -> int:
    """In how many dimensions ``box`` reaches outside ``entry`` (how many pieces a cut leaves;
    a long list held by the entry counts double, as its complement is long too)."""
    count = box.local is None and entry[0] is not None
    for dim, slot in _CUT_ORDER:
        theirs = entry[slot]
        if dim in _SET_DIMS:
            count += not (box[dim] <= theirs)
        elif not _within(box[dim], theirs):
            count += 2 if type(theirs) is Union else 1
    return count


def _moved_out(point: Box, box: Box, entry: list) -> tuple[Box | None, int | None]:
    """``point`` moved, in the first dimension where ``box`` reaches outside ``entry``, to the
    first such value, and that dimension (None: the local flag); (None, None) when ``box``
    lies inside ``entry`` in every dimension."""
    if box.local is None and entry[0] is not None:
        values = list(point)
        values[_LOCAL] = not entry[0]
        return tuple.__new__(Box, values), None
    mask = entry[8]
    for dim, slot, bit in _CUT_ORDER_BITS:
        if not mask & bit:
            continue  # (the entry is whole there: every box, made from the universe, lies inside it)
        mine, theirs = box[dim], entry[slot]
        if dim in _SET_DIMS:
            free = mine - theirs
            if free:
                value = frozenset((min(free),))
                break
            continue
        if type(theirs) is Union:
            first = theirs.first_outside(mine)
        else:
            out = iv.subtract(mine, theirs)
            first = out[0][0] if out else None
        if first is not None:
            value = ((first, first),)
            break
    else:
        return None, None
    values = list(point)
    values[dim] = value
    return tuple.__new__(Box, values), dim


_FEW_UNSKIPPED = 8  # entries a probe may test directly instead of scanning its candidates
_PROBES = 8  # packets of a box tried, each outside the entry that held the one before, before it is cut


_BIT = {dim: 1 << bit for bit, dim in enumerate(_DIMS)}
_SRC_BIT = _BIT[_SRC]
_NOT_SRC = ~_SRC_BIT
_SLOT = {_PROTO: 1, _SPORT: 2, _DPORT: 3, _SRC: 4, _DST: 5, _IIF: 6, _STATE: 7}
_CUT_ORDER = tuple((dim, _SLOT[dim]) for dim in _DIMS)
_CUT_ORDER_BITS = tuple((dim, _SLOT[dim], _BIT[dim]) for dim in _DIMS)
_TESTED = tuple((_SLOT[dim], _BIT[dim]) for dim in (_SRC, _PROTO, _DPORT, _DST, _SPORT))  # (a source drop's first)
_TESTS: dict[int, tuple] = {}


def _tests_of(mask: int) -> tuple:
    """The slots of the range dimensions an entry of ``mask`` narrows."""
    found = _TESTS.get(mask)
    if found is None:
        found = _TESTS[mask] = tuple(slot for slot, bit in _TESTED if mask & bit)
    return found
