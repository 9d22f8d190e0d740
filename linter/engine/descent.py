"""Long range lists held by decided boxes, kept as how they were cut instead of as lists.

In a ufw chain of N user rules, every `deny from NET` decides its network at the ports no
`allow port Q` before it took, and every `allow port Q` accepts everyone but the networks
denied before it: lists of up to N ranges, one shorter than the other after each such rule,
and every result held its own (N x N ranges: 24 million at 20,000 rules, most of what the
exposure walk kept). Those lists are cut from one another a few ranges at a time
(engine/sourcerun.py, which notes each cut in engine/known_sizes.py's registry), so a list is
its parent without what the cut took: a Node records that (the parent, the part taken and the
size), and a box the walk decides keeps its Node instead of the list (a Deferred). The list is
built again, exactly, when a reader asks for the box: the exposure summary reads each accepted
box once, and keys what it keeps of a built list by its Node (class_cut.py, known_sizes.py).

Every so many cuts a Node keeps its list itself (a checkpoint), so that building one costs
its length plus at most that many cuts, and the lists kept are a few per chain of cuts.
"""

from __future__ import annotations

from linter.engine import intervals as iv, memo
from linter.engine.space import Box

CHECKPOINT_AT_LEAST = 32  # cuts between two lists kept whole (more for longer lists)
CHECKPOINT_SHARE = 64  # ...at least a list's length over this, so the lists kept stay few


RECENT = 8  # lists built last, with their sizes (what the exposure summary reads next)


class Node:
    """A range list: ``ranges`` itself (a checkpoint), or ``parent``'s list without ``taken``;
    ``size`` is how many values it holds."""

    __slots__ = ("parent", "taken", "ranges", "depth", "size")

    def __init__(self, parent: Node | None, taken: iv.Ranges | None, ranges: iv.Ranges | None, depth: int,
                 size: int):
        self.parent = parent
        self.taken = taken
        self.ranges = ranges
        self.depth = depth
        self.size = size


def root(ranges: iv.Ranges, size: int) -> Node:
    """A Node that keeps ``ranges`` (of ``size`` values) itself."""
    return Node(None, None, ranges, 0, size)


def child(parent: Node, taken: iv.Ranges, rest: iv.Ranges, size: int) -> Node:
    """The Node of ``rest`` (``size`` values), which is ``parent``'s list without ``taken``
    (``taken`` inside it)."""
    depth = parent.depth + 1
    if depth >= max(CHECKPOINT_AT_LEAST, len(rest) // CHECKPOINT_SHARE):
        return root(rest, size)
    return Node(parent, taken, None, depth, size)


_recent: list[tuple[iv.Ranges, Node]] = []


def ranges_of(node: Node) -> iv.Ranges:
    """The list ``node`` stands for (equal to the one it was noted for)."""
    if node.ranges is not None:
        return node.ranges
    taken: list[tuple[int, int]] = []
    start = node
    while node.ranges is None:
        taken.extend(node.taken)
        node = node.parent
    built = iv.without_inside(node.ranges, iv.normalize(taken))
    if len(_recent) >= RECENT:
        del _recent[0]
    _recent.append((built, start))
    return built


def built_from(ranges: iv.Ranges) -> Node | None:
    """The Node ``ranges`` was built from when it is one of the last lists ranges_of built,
    else None (a list built on read is new each time: what is keyed by identity is keyed by
    its Node instead, which results built from the same list share)."""
    for built, node in reversed(_recent):
        if built is ranges:
            return node
    return None


_KEPT = frozenset(Box._fields) - {"src", "dport"}  # read from the bare box as they are
_last: list = [None, None]  # (the Deferred, its box) built last


def _forget() -> None:
    _recent.clear()
    _last[:] = (None, None)


memo.on_forget(_forget)  # (their Nodes hold a file's checkpoint lists)


class Deferred:
    """A decided box whose source or destination port list is kept as its Node; ``box()``
    builds the Box. Read as a Box, its other fields are the bare box's; the two lists, items
    and anything else are read from the box built (engine/paths.py builds it again for a box
    an accept sends on to a later chain)."""

    # (No Box field's name: any other attribute is read from the built box.)
    __slots__ = ("bare", "src_node", "dport_node")

    def __init__(self, bare: Box, src_node: Node | None, dport_node: Node | None):
        self.bare = bare  # the box with the lists kept as Nodes left empty
        self.src_node = src_node
        self.dport_node = dport_node

    def box(self) -> Box:
        """The decided box, its lists built from their Nodes (the last one built is kept: a
        reader asks one result several times in a row)."""
        if _last[0] is self:
            return _last[1]
        bare = self.bare
        if self.src_node is None:
            built = bare._replace(dport=ranges_of(self.dport_node))
        elif self.dport_node is None:
            built = bare._replace(src=ranges_of(self.src_node))
        else:
            built = bare._replace(src=ranges_of(self.src_node), dport=ranges_of(self.dport_node))
        _last[:] = (self, built)
        return built

    def __getattr__(self, name: str):
        return getattr(self.bare if name in _KEPT else self.box(), name)

    def __getitem__(self, index):
        return self.box()[index]

    def __len__(self) -> int:
        return len(self.bare)

    def __iter__(self):
        return iter(self.box())
