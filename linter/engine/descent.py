"""Long range lists held by decided boxes, kept as how they were cut instead of as lists.

In a ufw chain of N user rules, every `deny from NET` decides its network at the ports no
`allow port Q` before it took: a list of up to N port ranges, one port shorter after each
such rule, and every drop result held its own (N x N ranges: 11 million at 20,000 rules, the
half of what the exposure walk kept). Those lists are cut from one another a few ranges at a
time (engine/sourcerun.py, which notes each cut in engine/known_sizes.py's registry), so a
list is its parent without what the cut took: a Node records that (the parent and the part
taken), and a decided box keeps its Node instead of the list (a Deferred). The list is built
again, exactly, when a reader asks for the box.

Every so many cuts a Node keeps its list itself (a checkpoint), so that building one costs
its length plus at most that many cuts, and the lists kept are a few per chain of cuts.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.space import Box

CHECKPOINT_AT_LEAST = 32  # cuts between two lists kept whole (more for longer lists)
CHECKPOINT_SHARE = 64  # ...at least a list's length over this, so the lists kept stay few


class Node:
    """A range list: ``ranges`` itself (a checkpoint), or ``parent``'s list without ``taken``."""

    __slots__ = ("parent", "taken", "ranges", "depth")

    def __init__(self, parent: Node | None, taken: iv.Ranges | None, ranges: iv.Ranges | None, depth: int):
        self.parent = parent
        self.taken = taken
        self.ranges = ranges
        self.depth = depth


def root(ranges: iv.Ranges) -> Node:
    """A Node that keeps ``ranges`` itself."""
    return Node(None, None, ranges, 0)


def child(parent: Node, taken: iv.Ranges, rest: iv.Ranges) -> Node:
    """The Node of ``rest``, which is ``parent``'s list without ``taken`` (``taken`` inside it)."""
    depth = parent.depth + 1
    if depth >= max(CHECKPOINT_AT_LEAST, len(rest) // CHECKPOINT_SHARE):
        return root(rest)
    return Node(parent, taken, None, depth)


def ranges_of(node: Node) -> iv.Ranges:
    """The list ``node`` stands for (equal to the one it was noted for)."""
    if node.ranges is not None:
        return node.ranges
    taken: list[tuple[int, int]] = []
    while node.ranges is None:
        taken.extend(node.taken)
        node = node.parent
    return iv.subtract(node.ranges, iv.normalize(taken))


class Deferred:
    """A decided box whose source or destination port list is kept as its Node; ``box()``
    builds the Box. Read as a Box (attributes, items), it is built for each read: only the
    few readers of drop results after a walk (engine/query.py's dropped_by, diff) read one."""

    # (No Box field's name: any other attribute is read from the built box.)
    __slots__ = ("bare", "src_node", "dport_node")

    def __init__(self, bare: Box, src_node: Node | None, dport_node: Node | None):
        self.bare = bare  # the box with the lists kept as Nodes left empty
        self.src_node = src_node
        self.dport_node = dport_node

    def box(self) -> Box:
        """The decided box, its lists built from their Nodes."""
        bare = self.bare
        if self.src_node is None:
            return bare._replace(dport=ranges_of(self.dport_node))
        if self.dport_node is None:
            return bare._replace(src=ranges_of(self.src_node))
        return bare._replace(src=ranges_of(self.src_node), dport=ranges_of(self.dport_node))

    def __getattr__(self, name: str):
        return getattr(self.box(), name)

    def __getitem__(self, index):
        return self.box()[index]

    def __len__(self) -> int:
        return len(self.bare)

    def __iter__(self):
        return iter(self.box())
