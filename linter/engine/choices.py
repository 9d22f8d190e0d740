"""Random choices among branches: ``-m statistic`` and nft ``numgen``.

Which branch a connection takes is chance, not something about the packet: every branch
with a non-zero share is taken by some connections. The engine walks such a match as an
opaque one (both ways); an accept reached by assuming it matched is then settled here:
when no part of the same connections is dropped or rejected on any path, every branch admits
them (kube-proxy spreading a service over endpoints that all DNAT and are forwarded), so
the accept is certain. One that a certain accept of some of the same connections (the last
endpoint, taken without a statistic match) already explains is dropped, as drop_subsumed drops
assumed accepts (the same connections took every branch: the fallthrough of a choice is the whole
box). When some branch refuses them, the choice stays an assumption the finding names.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import replace as replace_result
from itertools import chain

from linter.engine.intervals import normalize
from linter.engine.overlap import meets
from linter.model import OpaqueMatch


def is_choice(match) -> bool:
    """Whether ``match`` picks a share of connections at random (or in turn)."""
    return isinstance(match, OpaqueMatch) and (match.module == "statistic" or match.module.startswith("numgen"))


def _assumed(assumptions: tuple) -> tuple[bool, bool, bool]:
    """(whether a box of these assumptions made a random choice, whether it assumed any opaque
    match matched (Box.possible), whether it did besides its choices)."""
    chose = possible = besides = False
    for assumption in assumptions:
        if assumption.matched:
            possible = True
            if is_choice(assumption.match):
                chose = True
            else:
                besides = True
    return chose, possible, besides


def _meet_dst(a, b) -> bool:
    a_dst, b_dst = a.dst, b.dst
    if not a_dst or not b_dst or a_dst[0][0] > b_dst[-1][1] or b_dst[0][0] > a_dst[-1][1]:
        return False  # apart: services' cluster IPs, told apart without intersecting
    return (len(a_dst) == 1 and len(b_dst) == 1) or meets(a_dst, b_dst)  # (two ranges not apart meet)


def _beside_src(a, b) -> bool:
    """Whether two boxes whose protocols, ports and destinations meet share connections as the
    client sends them (before any DNAT), their sources apart."""
    return not a.iif.isdisjoint(b.iif) and not a.state.isdisjoint(b.state) and meets(a.sport, b.sport)


def _sources_meet(src, boxes: list) -> bool:
    """Whether ``src`` meets the sources of one of ``boxes``."""
    if len(src) == 1:
        # One range (kube-proxy's endpoint addresses, half of what is settled): placed by one
        # bisection in each list, as overlap.meets places a short list's ranges in a long one.
        (lo, hi), = src
        for other in boxes:
            other_src = other.src
            at = bisect_left(other_src, (lo,))  # the first range starting at or after lo
            if (at and other_src[at - 1][1] >= lo) or (at < len(other_src) and other_src[at][0] <= hi):
                return True
        return False
    for other in boxes:
        if meets(src, other.src):
            return True
    return False


def _hull(ranges) -> tuple[int, int]:
    return ranges[0][0], ranges[-1][1]


UNITE_AFTER = 4  # misses asked this often before the ranges are united (an index asked once or twice never pays)
UNITE_AT_MOST = 1 << 17  # ranges of all items past which they are not united (the index answers as before)


class _Stabbing:
    """Items found by the span of integers (ports, addresses) they cover: those spanning fewer
    than ``narrow`` values sit in a list sorted by their lowest value and are found by bisection,
    the few wider ones are tried one by one. Kube-proxy's thousands of services are each one
    cluster IP and one port: a box meets a handful of them, not all."""

    def __init__(self, items: list, ranges_of, narrow: int, union: bool = False):
        """``union``: also unite every item's ranges once ``misses`` has been asked UNITE_AFTER
        times (it then answers at once for ranges that meet no item's: a small index asked
        about many places it does not hold), unless they are more than UNITE_AT_MOST."""
        self.union = None  # (the united ranges' starts, their ends)
        self._unite = (items, ranges_of) if union else None  # what is united, until it is
        self._asked = 0
        narrow_items, self.wide = [], []
        self.width = 0
        for item in items:
            lo, hi = _hull(ranges_of(item))
            if hi - lo < narrow:
                narrow_items.append((lo, hi, item))
                self.width = max(self.width, hi - lo)
            else:
                self.wide.append((lo, hi, item))
        narrow_items.sort(key=lambda entry: entry[0])
        self.narrow = narrow_items
        self.lows = [entry[0] for entry in narrow_items]

    def misses(self, ranges) -> bool:
        """Whether ``ranges`` certainly shares no value with any item's (only known when the
        union is held: False otherwise)."""
        if self.union is None:
            if self._unite is None:
                return False
            self._asked += 1
            if self._asked < UNITE_AFTER:
                return False
            items, ranges_of = self._unite
            self._unite = None
            lists = [ranges_of(item) for item in items]
            if sum(map(len, lists)) > UNITE_AT_MOST:
                return False
            united = normalize(chain.from_iterable(lists))
            self.union = ([lo for lo, _ in united], [hi for _, hi in united])
        starts, ends = self.union
        for lo, hi in ranges:
            # The last united range starting at or before hi is the only one that may reach lo.
            at = bisect_right(starts, hi) - 1
            if at >= 0 and ends[at] >= lo:
                return False
        return True

    def meeting(self, ranges):
        """The items whose span meets the span of ``ranges`` (a superset of those that share
        a value with it)."""
        lo, hi = _hull(ranges)
        start, end = bisect_left(self.lows, lo - self.width), bisect_right(self.lows, hi)
        for _, item_hi, item in self.narrow[start:end]:
            if item_hi >= lo:
                yield item
        for item_lo, item_hi, item in self.wide:
            if item_lo <= hi and item_hi >= lo:
                yield item


class _ByPorts:
    """Boxes found by the protocols and destination ports they share with a box, then by
    destination address: services share a few port sets (80, 443...), so each set is searched
    once, and within it a box meets only the services of its own cluster IP."""

    def __init__(self, boxes: list, few: bool = False):
        """``few``: the boxes are few and most boxes asked about meet none of them (the refused
        boxes settle_choices searches): the boxes of a port set also have their destinations
        united, so a box whose destinations miss them all is answered by one search, and port
        sets holding the same boxes share what is built for them."""
        families: dict = {}
        for box in boxes:
            if box.dport and box.dst:
                families.setdefault(box.family, []).append(box)
        self.families = families
        self.few = few
        # (family, protocols) or (family,) -> its boxes by ports (_by_ports; ``few``: kube-proxy's
        # 2,700 node ports meet no refused TCP box's ports, found by one search each)
        self.ports: dict[tuple, _Stabbing] = {}
        self.found: dict[tuple, _Stabbing] = {}
        self.shared: dict[tuple, _Stabbing] = {}  # (ids of a port set's boxes) -> their index (``few``)
        # (port key, destinations) -> the boxes of that port set whose destinations meet them:
        # a service's endpoints (and their source splits) share one cluster IP, asked about once.
        self.by_dst: dict[tuple, list] = {}

    def overlapping(self, box) -> bool:
        """Whether some box held shares connections with ``box``."""
        return _sources_meet(box.src, self.near(box))

    def near(self, box) -> list:
        """The boxes held that share connections with ``box`` but for their sources: protocol,
        ports, destinations, input interfaces and states meet (settle_choices asks once for the
        boxes of a path alike in all but their sources)."""
        if not box.dport or not box.dst:
            return []
        dport = box.dport if len(box.dport) <= 64 else id(box.dport)  # by value: a service's ports recur
        key = (box.family, box.proto, dport)
        near = self.found.get(key)
        if near is None:
            ports = self._by_ports(box.family, box.proto)
            same = [] if ports is None or ports.misses(box.dport) else [
                other for other in ports.meeting(box.dport)
                if meets(box.proto, other.proto) and meets(box.dport, other.dport)]
            near = self.found[key] = self._index(same) if same else None
        if near is None:
            return []  # no box of these ports (kube-proxy's few refused boxes: most port sets)
        if near.misses(box.dst):
            return []  # no box of these ports at these destinations (kube-proxy's refused boxes)
        if len(box.dst) > 8:
            return [other for other in near.meeting(box.dst) if _meet_dst(box, other) and _beside_src(box, other)]
        dst_key = key + (box.dst,)
        meeting = self.by_dst.get(dst_key)
        if meeting is None:
            meeting = self.by_dst[dst_key] = [other for other in near.meeting(box.dst) if _meet_dst(box, other)]
        return [other for other in meeting if _beside_src(box, other)]

    def _by_ports(self, family, proto) -> _Stabbing | None:
        # ``few``: the boxes of the family whose protocols meet ``proto``, their ports united;
        # else every box of the family (many boxes, a protocol or two: filtered once a port set).
        key = (family, proto) if self.few else (family,)
        if key not in self.ports:
            members = self.families.get(family, ())
            if self.few:
                members = [other for other in members if meets(proto, other.proto)]
            self.ports[key] = _Stabbing(members, _dport, 256, union=self.few) if members else None
        return self.ports[key]

    def _index(self, same: list) -> _Stabbing:
        # The boxes held are the index's: their ids stay theirs while it lives.
        if not self.few:
            return _Stabbing(same, _dst, 1 << 16)
        members = tuple(map(id, same))
        found = self.shared.get(members)
        if found is None:
            found = self.shared[members] = _Stabbing(same, _dst, 1 << 16, union=True)
        return found


def _dport(box):
    return box.dport


def _dst(box):
    return box.dst


def settle_choices(results: list, accept) -> list:
    """``results`` (engine.paths.Result) with accepts that only assumed a random choice made
    certain, or dropped when a certain accept of the same connections explains them.
    ``accept``: the outcome that admits (walk.Outcome.ACCEPT)."""
    # Assumption tuples are shared by every box of one path: each is read once (the results
    # hold them, so their ids stay theirs): _assumed.
    read: dict[int, tuple[bool, bool, bool]] = {}
    chosen = []
    certain_results = []
    refused_results = []
    last, known = None, None  # the previous result's assumptions, what they are (one path's come together)
    for index, result in enumerate(results):
        if result.verdict is not accept:
            refused_results.append(result)
            continue
        # (A deferred result's assumptions are read without building its box: engine/descent.py.)
        assumptions = (result.box if result.deferred is None else result.deferred).assumptions
        if assumptions is not last:
            last = assumptions
            known = read.get(id(assumptions))
            if known is None:
                known = read[id(assumptions)] = _assumed(assumptions)
        if known[0]:
            chosen.append((index, result, known[2]))
        elif not known[1]:
            certain_results.append(result)  # (a choice made is an assumption: never certain)
    if not chosen:
        return results
    refused = _ByPorts([result.box for result in refused_results], few=True)
    certain_boxes = [result.box for result in certain_results]
    certain = None  # _ByPorts of certain_boxes, built when the alike ones do not explain a box
    alike = _alike(certain_boxes)
    settled = list(results)
    dropped = 0  # results dropped (their places in settled hold None)
    # The boxes of one path differ mostly in their sources (kube-proxy: an endpoint's own address
    # and the rest), sharing the other fields' objects: what they may meet is found once for them
    # (by identity: the results hold the objects, so their ids stay theirs). Per such key: the
    # refused boxes they meet but for their sources; the certain boxes alike but for their sources
    # that they meet (part of those that explain them, found by one look-up); every certain box
    # they meet but for their sources (looked for only when the alike ones explain nothing).
    near: dict[tuple, list] = {}
    # The boxes of one path come one after another: a box whose fields are the previous box's
    # objects has its key, and what was found for it, without building and hashing the key.
    last_family = last_proto = last_sport = last_dport = last_dst = last_iif = last_state = found = None
    for index, result, besides in chosen:
        box = result.box
        family, proto, sport, dport, src, dst, iif, state = box[:8]
        if not (dst is last_dst and dport is last_dport and family is last_family and proto is last_proto
                and sport is last_sport and iif is last_iif and state is last_state):
            last_family, last_proto, last_sport, last_dport, last_dst, last_iif, last_state = \
                family, proto, sport, dport, dst, iif, state
            key = (id(family), id(proto), id(dport), id(dst), id(sport), iif, state)
            found = near.get(key)
            if found is None:
                found = near[key] = [refused.near(box), _alike_near(alike, box), None]
        if found[0] and _sources_meet(src, found[0]):
            continue  # a branch refuses some of these connections: the choice decides, unknown
        if not besides:
            # Explained when some certain box it meets (all but the sources) meets its sources:
            # one alike is enough; else every one is asked.
            if found[1] and _sources_meet(src, found[1]):
                settled[index] = None
                dropped += 1
                continue
            explaining = found[2]
            if explaining is None:
                if certain is None:
                    certain = _ByPorts(certain_boxes)
                explaining = found[2] = certain.near(box)
            if explaining and _sources_meet(src, explaining):
                settled[index] = None
                dropped += 1
                continue
        rest = tuple([a for a in box.assumptions if not (a.matched and is_choice(a.match))])
        settled[index] = replace_result(result, box=box._replace(assumptions=rest))
    if not dropped:
        return settled
    return [result for result in settled if result is not None]


ALIKE_AT_MOST = 8  # ranges of ports or destinations past which a box is not filed by them (hashing)


def _alike(boxes: list) -> dict[tuple, list]:
    """The boxes filed by family, protocols, destination ports and destinations (by value), those
    with short lists of ports and destinations only (kube-proxy's services: one port, one IP)."""
    filed: dict[tuple, list] = {}
    for box in boxes:
        dport, dst = box.dport, box.dst
        if len(dport) <= ALIKE_AT_MOST and len(dst) <= ALIKE_AT_MOST:
            key = (id(box.family), box.proto, dport, dst)
            found = filed.get(key)
            if found is None:
                filed[key] = [box]
            else:
                found.append(box)
    return filed


def _alike_near(filed: dict[tuple, list], box) -> list:
    """The boxes of ``filed`` (_alike) with the same family, protocols, destination ports and
    destinations as ``box`` that share connections with it but for their sources: every one of
    them is among ``_ByPorts.near(box)`` of those boxes (equal non-empty lists meet)."""
    dport, dst = box.dport, box.dst
    if not (box.proto and dport and dst) or len(dport) > ALIKE_AT_MOST or len(dst) > ALIKE_AT_MOST:
        return []
    same = filed.get((id(box.family), box.proto, dport, dst))
    return [other for other in same if _beside_src(box, other)] if same else []
