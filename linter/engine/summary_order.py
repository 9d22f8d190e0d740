"""The exposure summary's order (ExposureAnalysis._summarise): by family, protocol, reach,
ports, whether possible, destinations; exposures of one key in the order they were made."""

from __future__ import annotations

REACH_ORDER = ("internet", "restricted", "private", "internal", "loopback")
_REACH_RANK = {reach: rank for rank, reach in enumerate(REACH_ORDER)}


def _summary_key(e) -> tuple:
    # _value_: Enum.value is a property, asked 100,000 times here (the same order).
    return e.family._value_, e.protocol, _REACH_RANK[e.reach], e.ports, e.possible, e.destinations


def in_summary_order(exposures: list) -> list:
    """``exposures`` sorted by _summary_key, stably (what ``exposures.sort(key=_summary_key)``
    leaves). An allow-list's 100,000 exposures have two keys, in turns: sorting them compared
    keys 1.7 million times, while the exposures of each key in their order, the keys sorted,
    are the same list for a hash each (the keys are totally ordered: equal is neither before
    the other). Many keys (a key a few exposures): sorted as the list."""
    groups: dict[tuple, list] = {}
    rank = _REACH_RANK
    # Past a quarter of the exposures in keys the list is sorted: known as soon as the groups
    # are that many, and they are dropped then, not kept under the sort's own keys (ufw's
    # 100,000 exposures have as many keys: a list each was the run's top of memory).
    many = len(exposures) // 4
    for e in exposures:
        key = (e.family._value_, e.protocol, rank[e.reach], e.ports, e.possible, e.destinations)  # _summary_key
        group = groups.get(key)
        if group is None:
            if len(groups) == many:
                groups = None
                exposures.sort(key=_summary_key)
                return exposures
            groups[key] = [e]
        else:
            group.append(e)
    ordered: list = []
    for key in sorted(groups):
        ordered += groups[key]
    return ordered
