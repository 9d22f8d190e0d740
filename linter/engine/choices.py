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

from linter.engine.overlap import meets
from linter.model import OpaqueMatch


def is_choice(match) -> bool:
    """Whether ``match`` picks a share of connections at random (or in turn)."""
    return isinstance(match, OpaqueMatch) and (match.module == "statistic" or match.module.startswith("numgen"))


def _chose(box) -> bool:
    return any(a.matched and is_choice(a.match) for a in box.assumptions)


def _meet_dst(a, b) -> bool:
    a_dst, b_dst = a.dst, b.dst
    if not a_dst or not b_dst or a_dst[0][0] > b_dst[-1][1] or b_dst[0][0] > a_dst[-1][1]:
        return False  # apart: services' cluster IPs, told apart without intersecting
    return (len(a_dst) == 1 and len(b_dst) == 1) or meets(a_dst, b_dst)  # (two ranges not apart meet)


def _beside_src(a, b) -> bool:
    """Whether two boxes whose protocols, ports and destinations meet share connections as the
    client sends them (before any DNAT), their sources apart."""
    return bool(a.iif & b.iif) and bool(a.state & b.state) and meets(a.sport, b.sport)


def _sources_meet(src, boxes: list) -> bool:
    """Whether ``src`` meets the sources of one of ``boxes``."""
    return any(meets(src, other.src) for other in boxes)


def _hull(ranges) -> tuple[int, int]:
    return ranges[0][0], ranges[-1][1]


class _Stabbing:
    """Items found by the span of integers (ports, addresses) they cover: those spanning fewer
    than ``narrow`` values sit in a list sorted by their lowest value and are found by bisection,
    the few wider ones are tried one by one. Kube-proxy's thousands of services are each one
    cluster IP and one port: a box meets a handful of them, not all."""

    def __init__(self, items: list, ranges_of, narrow: int):
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

    def __init__(self, boxes: list):
        families: dict = {}
        for box in boxes:
            if box.dport and box.dst:
                families.setdefault(box.family, []).append(box)
        self.ports = {family: _Stabbing(members, _dport, 256) for family, members in families.items()}
        self.found: dict[tuple, _Stabbing] = {}
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
            ports = self.ports.get(box.family)
            same = [] if ports is None else [
                other for other in ports.meeting(box.dport)
                if meets(box.dport, other.dport) and meets(box.proto, other.proto)]
            near = self.found[key] = _Stabbing(same, _dst, 1 << 16) if same else None
        if near is None:
            return []  # no box of these ports (kube-proxy's few refused boxes: most port sets)
        if len(box.dst) > 8:
            return [other for other in near.meeting(box.dst) if _meet_dst(box, other) and _beside_src(box, other)]
        dst_key = key + (box.dst,)
        meeting = self.by_dst.get(dst_key)
        if meeting is None:
            meeting = self.by_dst[dst_key] = [other for other in near.meeting(box.dst) if _meet_dst(box, other)]
        return [other for other in meeting if _beside_src(box, other)]


def _dport(box):
    return box.dport


def _dst(box):
    return box.dst


def settle_choices(results: list, accept) -> list:
    """``results`` (engine.paths.Result) with accepts that only assumed a random choice made
    certain, or dropped when a certain accept of the same connections explains them.
    ``accept``: the outcome that admits (walk.Outcome.ACCEPT)."""
    # Assumption tuples are shared by every box of one path: each is read once (the results
    # hold them, so their ids stay theirs).
    chose: dict[int, bool] = {}
    chosen = []
    for index, result in enumerate(results):
        if result.verdict is not accept:
            continue
        # (A deferred result's assumptions are read without building its box: engine/descent.py.)
        box = result.box if result.deferred is None else result.deferred
        known = chose.get(id(box.assumptions))
        if known is None:
            known = chose[id(box.assumptions)] = _chose(box)
        if known:
            chosen.append(index)
    if not chosen:
        return results
    refused = _ByPorts([result.box for result in results if result.verdict is not accept])
    possible: dict[int, bool] = {}  # Box.possible of each assumptions tuple (boxes of a path share it)
    certain_boxes = []
    for result in results:
        if result.verdict is accept:
            box = result.box
            known = possible.get(id(box.assumptions))
            if known is None:
                known = possible[id(box.assumptions)] = box.possible
            if not known:
                certain_boxes.append(box)
    certain = _ByPorts(certain_boxes)
    settled = list(results)
    dropped = set()
    rests: dict[int, tuple] = {}
    # The boxes of one path differ mostly in their sources (kube-proxy: an endpoint's own address
    # and the rest), sharing the other fields' objects: what they may meet is found once for them
    # (by identity: the results hold the objects, so their ids stay theirs).
    near: dict[tuple, tuple[list, list]] = {}
    for index in chosen:
        box = results[index].box
        key = (box.family, id(box.proto), id(box.dport), id(box.dst), id(box.sport), box.iif, box.state)
        found = near.get(key)
        if found is None:
            found = near[key] = (refused.near(box), certain.near(box))
        refusing, explaining = found
        src = box.src
        if refusing and _sources_meet(src, refusing):
            continue  # a branch refuses some of these connections: the choice decides, unknown
        known = rests.get(id(box.assumptions))
        if known is None:
            rest = tuple(a for a in box.assumptions if not (a.matched and is_choice(a.match)))
            known = rests[id(box.assumptions)] = (rest, any(a.matched for a in rest))
        rest, still_possible = known
        if not still_possible and explaining and _sources_meet(src, explaining):
            dropped.add(index)
            continue
        settled[index] = replace_result(results[index], box=box._replace(assumptions=rest))
    if not dropped:
        return settled
    return [result for index, result in enumerate(settled) if index not in dropped]
