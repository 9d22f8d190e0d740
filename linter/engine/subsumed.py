"""Accepts that only assumed more than another accept of the same part of the space.

A part of the space accepted if an opaque match matched (``-m mark --mark 0x4000 -j ACCEPT``)
that the rules accept anyway, with fewer assumptions, through a later rule, is reported once:
through the rule with fewer assumptions. Reporting both would list the same ports twice,
once as "possibly" through a rule that decides nothing.

Only results of equal boxes can subsume one another, so results are first grouped by one
field of the box (the DNAT target: kube-proxy's 45,000 statistic-chosen results at 100k
each DNAT to an endpoint no certain result reaches) and the boxes are compared whole only
in the groups that mix different assumption sets.
"""

from __future__ import annotations

from linter.engine.choices import settle_choices
from linter.engine.walk import Outcome


def _no_node(ranges):
    return None


def settle_results(results: list, node_of=_no_node) -> list:
    """``choices.settle_choices(drop_subsumed(results, node_of), Outcome.ACCEPT)``, the results
    read once when no accept assumed a match: then neither has anything to do (an allow-list's
    100,000 certain accepts were read by both, a pass each over objects out of cache)."""
    accept = Outcome.ACCEPT
    if not assumed_match(results, accept):
        return results
    return settle_choices(drop_subsumed(results, node_of), accept)


def assumed_match(results: list, accept) -> bool:
    """Whether some accept of ``results`` assumed an opaque match matched (a random choice is one
    such match). One path's boxes share their assumptions tuple: each tuple is read once in a row."""
    last = None
    for result in results:
        if result.verdict is accept:
            deferred = result.deferred  # (a deferred result's box is not built: _fields)
            assumptions = (result.box if deferred is None else deferred.bare).assumptions
            if assumptions and assumptions is not last:
                last = assumptions
                for assumption in assumptions:
                    if assumption.matched:
                        return True
    return False


def drop_subsumed(results: list, node_of=_no_node) -> list:
    """``results`` (engine.paths.Result) without the accepts that another accept of the same
    box explains with fewer assumptions (a strict subset of the opaque matches it assumed
    matched). ``node_of``: the engine/descent.py Node of a long source list, if noted (a
    DeferredResult holds that Node instead of the list: the Node stands for the list's
    identity, and its box is not built here)."""
    accept = Outcome.ACCEPT
    if not assumed_match(results, accept):
        return results  # no accept assumed a match: there is nothing to drop (an allow-list's 100,000)
    matched_of: dict[int, frozenset] = {}  # id(assumptions) -> what they assumed matched
    # nat_dst (by value when short, by identity when long, as in _box_key) -> [the first
    # result's assumptions, whether a result of other assumptions differs in what it assumed
    # matched]. The boxes of one path share their assumptions tuple: mostly told by identity.
    groups: dict = {}
    for result in results:
        if result.verdict is not accept:
            continue
        box = _fields(result)
        nat_dst = box.nat_dst
        key = nat_dst if nat_dst is None or len(nat_dst) <= 8 else id(nat_dst)
        group = groups.get(key)
        if group is None:
            groups[key] = [box.assumptions, False]
        elif not group[1] and group[0] is not box.assumptions \
                and _matched(group[0], matched_of) != _matched(box.assumptions, matched_of):
            group[1] = True
    mixed = {key for key, (_, differ) in groups.items() if differ}
    if not mixed:  # equal assumption sets never subsume one another
        return results
    # Only an accept that assumed a match can be dropped, and only by results of its box: the
    # boxes of the others are keyed only where their key's hash is one of those accepts' (ufw
    # 100k: 77,000 keys of 13 fields, a list each and one entry per result were ~23 MB on top
    # of the walk's results, the run's top of memory).
    dropping: set[int] = set()  # hashes of the keys of the accepts that assumed a match
    for result in results:
        if result.verdict is accept:
            box = _fields(result)
            nat_dst = box.nat_dst
            if (nat_dst if nat_dst is None or len(nat_dst) <= 8 else id(nat_dst)) in mixed \
                    and _matched(box.assumptions, matched_of):
                dropping.add(hash(_box_key(result, box, node_of)))
    assumed: dict[tuple, list[frozenset]] = {}  # a box's key -> what each result of it assumed matched
    for result in results:
        if result.verdict is not accept:
            continue  # (only accepts subsume: a refusal's box is not read)
        box = _fields(result)
        nat_dst = box.nat_dst
        if (nat_dst if nat_dst is None or len(nat_dst) <= 8 else id(nat_dst)) not in mixed:
            continue
        key = _box_key(result, box, node_of)
        if hash(key) in dropping:
            assumed.setdefault(key, []).append(_matched(box.assumptions, matched_of))
    kept = None  # made at the first result dropped (none: ``results`` as they are)
    for index, result in enumerate(results):
        if result.verdict is accept:
            box = _fields(result)
            nat_dst = box.nat_dst
            if (nat_dst if nat_dst is None or len(nat_dst) <= 8 else id(nat_dst)) in mixed \
                    and (matched := _matched(box.assumptions, matched_of)):
                others = assumed[_box_key(result, box, node_of)]
                # A certain accept of the same part subsumes every assumed one; otherwise compare
                # assumption sets (a few per part; many only in contrived rulesets, left as they are).
                if len(others) > 1 and (frozenset() in others or len(others) <= 64 and any(o < matched for o in others)):
                    if kept is None:
                        kept = results[:index]
                    continue
        if kept is not None:
            kept.append(result)
    return results if kept is None else kept


def _matched(assumptions: tuple, matched_of: dict[int, frozenset]) -> frozenset:
    """The opaque matches ``assumptions`` assumed matched (rule and match by identity), made
    once per tuple (the results hold the tuples: their ids stay theirs)."""
    matched = matched_of.get(id(assumptions))
    if matched is None:
        matched = matched_of[id(assumptions)] = frozenset(
            (id(a.rule), id(a.match)) for a in assumptions if a.matched)
    return matched


def _fields(result):
    """The box of ``result`` to read its fields but the long lists from: a DeferredResult's bare
    box (engine/descent.py), which is not built."""
    deferred = result.deferred
    return result.box if deferred is None else deferred.bare


def _box_key(result, box, node_of) -> tuple:
    """What makes two results' boxes the same part of the space; long address lists by identity
    (hashing them costs their length): boxes split from one another share them, and a part
    left unpruned is only reported once more. A long source list noted in engine/descent.py is
    known by its Node, whether the result holds the Node or the list."""
    deferred = result.deferred
    if deferred is not None and deferred.src_node is not None:
        src = id(deferred.src_node)
    else:
        src = box.src
        src = src if len(src) <= 8 else id(node_of(src) or src)
    dst, nat_dst = box.dst, box.nat_dst
    return (box.family, box.proto, box.sport, box.dport, src,
            dst if len(dst) <= 8 else id(dst), box.iif, box.state, box.local,
            nat_dst if nat_dst is None or len(nat_dst) <= 8 else id(nat_dst), box.nat_dport, result.forwarded,
            box.oif)
