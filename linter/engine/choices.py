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

from dataclasses import replace as replace_result

from linter.engine import intervals as iv
from linter.model import OpaqueMatch


def is_choice(match) -> bool:
    """Whether ``match`` picks a share of connections at random (or in turn)."""
    return isinstance(match, OpaqueMatch) and (match.module == "statistic" or match.module.startswith("numgen"))


def _chose(box) -> bool:
    return any(a.matched and is_choice(a.match) for a in box.assumptions)


def _overlaps(a, b) -> bool:
    """Whether two boxes of one family and port set share connections as the client sends them
    (before any DNAT)."""
    a_dst, b_dst = a.dst, b.dst
    if not a_dst or not b_dst or a_dst[0][0] > b_dst[-1][1] or b_dst[0][0] > a_dst[-1][1]:
        return False  # apart: services' cluster IPs, told apart without intersecting
    return bool(iv.intersect(a_dst, b_dst)) and bool(a.iif & b.iif) and bool(a.state & b.state) and \
        bool(iv.intersect(a.src, b.src)) and bool(iv.intersect(a.sport, b.sport))


class _ByPorts:
    """Boxes found by the protocols and destination ports they share with a box: services
    share a few port sets (80, 443...), so each set is searched once."""

    def __init__(self, boxes: list):
        self.boxes = boxes
        self.found: dict[tuple, list] = {}

    def overlapping(self, box) -> bool:
        dport = box.dport if len(box.dport) <= 64 else id(box.dport)  # by value: a service's ports recur
        key = (box.family, box.proto, dport)
        candidates = self.found.get(key)
        if candidates is None:
            candidates = self.found[key] = [
                other for other in self.boxes if other.family is box.family
                and iv.intersect(box.dport, other.dport) and iv.intersect(box.proto, other.proto)]
        return any(_overlaps(box, other) for other in candidates)


def settle_choices(results: list, accept) -> list:
    """``results`` (engine.paths.Result) with accepts that only assumed a random choice made
    certain, or dropped when a certain accept of the same connections explains them.
    ``accept``: the outcome that admits (walk.Outcome.ACCEPT)."""
    chosen = [index for index, result in enumerate(results) if result.verdict is accept and _chose(result.box)]
    if not chosen:
        return results
    refused = _ByPorts([result.box for result in results if result.verdict is not accept])
    certain = _ByPorts([result.box for result in results if result.verdict is accept and not result.box.possible])
    settled = list(results)
    dropped = set()
    for index in chosen:
        box = results[index].box
        if refused.overlapping(box):
            continue  # a branch refuses some of these connections: the choice decides, unknown
        rest = tuple(a for a in box.assumptions if not (a.matched and is_choice(a.match)))
        if not any(a.matched for a in rest) and certain.overlapping(box):
            dropped.add(index)
            continue
        settled[index] = replace_result(results[index], box=box._replace(assumptions=rest))
    return [result for index, result in enumerate(settled) if index not in dropped]
