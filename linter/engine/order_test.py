"""A shapewalk template's order pattern as one compiled comparison.

A template (engine/shapewalk.py) fits other entering boxes where their label values lie in
the order the recorded walk's did, equal exactly where those were: per class of labels, in
the recorded order, each value above the one before it (or equal to it, where the recorded
ones were equal), the first above -1. Read label by label in a Python loop that costs more
than a microsecond for kube-proxy's seventeen labels, twice per service (the walk and the
routed path's ``drops``).

Here that loop is written out once per template as one chained comparison per class,
``-1 < v2[6] < v2[7] == v2[0] < ...``: the same comparisons of the same values in the same
order, stopping at the first that fails, so the same answer. The text holds only the
pattern's own integers.
"""

from __future__ import annotations

from typing import Callable

_CLASSES = 4  # shapewalk's classes of labels: source ports, destination ports, sources, destinations


def order_test(pattern: tuple) -> Callable[..., bool]:
    """A function of the four classes' value lists, true exactly where ``shapewalk._fits``
    gives ``pattern`` and them true. ``pattern`` holds per class (the labels in the recorded
    order, whether each equals the one before it): four pairs of integer and bool lists."""
    if len(pattern) != _CLASSES:
        raise ValueError("a pattern has one entry per class of labels")
    chains = []
    for number, (order, equal) in enumerate(pattern):
        text = ["-1"]
        for label, same in zip(order, equal):
            # (Equal to the value before it, or above it: the loop's two tests, from its -1 on.)
            text.append(f"{'==' if same is True else '<'} values{number}[{int(label)}]")
        if len(text) > 1:
            chains.append(" ".join(text))
    body = " and ".join(chains) if chains else "True"
    source = f"lambda values0, values1, values2, values3: {body}"
    return eval(compile(source, "<shapewalk order test>", "eval", dont_inherit=True), {"__builtins__": {}})
