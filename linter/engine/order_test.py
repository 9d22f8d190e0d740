"""A shapewalk template's order pattern as one compiled comparison of the entering boxes.

A template (engine/shapewalk.py) fits other entering boxes where their label values lie in
the order the recorded walk's did, equal exactly where those were: per class of labels, in
the recorded order, each value above the one before it (or equal to it, where the recorded
ones were equal), the first above -1 (``shapewalk._fits``). A label's value is a constant of
the subtree or a bound of an entering box's range (``shapewalk._values`` lists them: per
class the constants, then box by box, field by field in _WIDE's order, each range's low
bound and its high bound + 1). Listing them and testing them label by label in a Python loop
cost kube-proxy 8 microseconds a service, twice (the walk and the routed path's ``drops``).

Here the test is written out once per template as one chained comparison per class, each
label read where _values would have read it: ``-1 < c2[4] < boxes[0][4][0][0] == ...``. Every
box a template is looked up for has the recorded boxes' number of boxes and of ranges per
field (the template's key holds them) and the subtree's shape fixes its number of constants,
so each label is the same value _values gives; the comparisons are _fits' own, in its order.
The text holds only integers of the pattern and of those lengths.
"""

from __future__ import annotations

from typing import Callable

# shapewalk's wide Box fields in order, and the class of labels each is read into (its _WIDE
# and _CLASS, repeated here: shapewalk imports this module).
_WIDE = (2, 3, 4, 5, 9, 10)
_CLASS = {2: 0, 3: 1, 4: 2, 5: 3, 9: 3, 10: 1}
_CLASSES = 4


def label_reads(constants: tuple, boxes) -> list[list[str]]:
    """Per class, where each label's value is read, as an expression of ``c0``..``c3`` (the
    subtree's constants per class) and ``boxes``: the labels of ``constants`` and of
    ``boxes`` as shapewalk._values lists their values."""
    reads: list[list[str]] = [[f"c{number}[{i}]" for i in range(len(these))] for number, these in enumerate(constants)]
    for b, box in enumerate(boxes):
        for field in _WIDE:
            ranges = box[field]
            if ranges is None:
                continue
            into = reads[_CLASS[field]]
            for r in range(len(ranges)):
                into.append(f"boxes[{b}][{field}][{r}][0]")
                into.append(f"(boxes[{b}][{field}][{r}][1] + 1)")
    return reads


def order_test(pattern: tuple, reads: list[list[str]]) -> Callable[..., bool]:
    """A function of (the four classes' constants, the entering boxes), true exactly where
    ``shapewalk._fits(pattern, shapewalk._values(subtree, boxes))`` is, for boxes with the
    numbers of ranges ``reads`` was made for. ``pattern`` holds per class (the labels in the
    recorded order, whether each equals the one before it); ``reads`` is label_reads'."""
    if len(pattern) != _CLASSES or len(reads) != _CLASSES:
        raise ValueError("a pattern has one entry per class of labels")
    chains = []
    for (order, equal), where in zip(pattern, reads):
        text = ["-1"]
        for label, same in zip(order, equal):
            # (Equal to the value before it, or above it: the loop's two tests, from its -1 on.)
            text.append(f"{'==' if same is True else '<'} {where[int(label)]}")
        if len(text) > 1:
            chains.append(" ".join(text))
    body = " and ".join(chains) if chains else "True"
    source = f"lambda c0, c1, c2, c3, boxes: {body}"
    return eval(compile(source, "<shapewalk order test>", "eval", dont_inherit=True), {"__builtins__": {}})
