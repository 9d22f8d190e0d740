"""Public sources of an accepted box kept as how its list was cut (engine/descent.py), built when read.

In a ufw chain of N user rules, every `allow port Q` accepts everyone but the networks denied
before it: the walk keeps that long source list as a descent Node (DeferredResult), and the
exposure summary made each such result's public sources a list of their own, held by its
Exposure (N x N ranges: 674 MB at 50,000 user rules), for checks that never read them (an
entry open to the internet is reported by its ports and rule; only `portlint exposure` and
`portlint diff` print or compare every entry's sources).

Here such a result's sources are split by the address classes without building its list: the
classes other than public are a few ranges, so what a Node's list holds of them is its
checkpoint's part there without the cuts' parts there (kept per Node: a chain of cuts is
followed once). The public part is then known by its size (the Node's size minus the
others'), and kept as a HeldSources, which builds the list exactly (``ranges_of(node) ∩
public``) each time it is read: an Exposure whose sources are held builds them when they are
asked for (held_exposure.HeldExposure.sources), and the summary builds them before it unites
or compares them with others (``built``, ``unheld``).
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.descent import Node, ranges_of

RECENT = 4  # lists built last (a reader asks one entry's sources several times in a row)


class HeldSources:
    """``ranges_of(node) ∩ within``, which holds ``size`` values (never empty), built when read."""

    __slots__ = ("node", "within", "size")

    def __init__(self, node: Node, within: iv.Ranges, size: int):
        self.node = node
        self.within = within
        self.size = size

    def ranges(self) -> iv.Ranges:
        """The list (the same object while it is one of the last few built)."""
        for held, built in _recent:
            if held is self:
                return built
        built = iv.intersect(ranges_of(self.node), self.within)
        if len(_recent) >= RECENT:
            del _recent[0]
        _recent.append((self, built))
        return built


_recent: list[tuple[HeldSources, iv.Ranges]] = []


def built(sources) -> iv.Ranges:
    """``sources`` as a range list (a HeldSources built)."""
    return sources.ranges() if type(sources) is HeldSources else sources


def size_of(sources, sizes) -> int:
    """How many addresses ``sources`` (a list or a HeldSources) holds; ``sizes``: the
    engine/known_sizes.py registry that knows long lists' sizes."""
    return sources.size if type(sources) is HeldSources else sizes.size(sources)


def unheld(entries: list[dict]) -> list[dict]:
    """``entries`` (exposure summary entries) with held sources built: before entries are
    merged, which compares and unites their sources."""
    for entry in entries:
        if type(entry["sources"]) is HeldSources:
            entry["sources"] = entry["sources"].ranges()
    return entries


def node_of(result) -> Node | None:
    """The Node a result's box keeps its long source list as (a DeferredResult whose port list
    is a list), or None."""
    deferred = result.deferred
    if deferred is None or deferred.dport_node is not None:
        return None
    return deferred.src_node


class ClassParts:
    """A Node's list split by the address classes of one family: public (all but a few
    ranges), private and the rest (a few ranges each)."""

    def __init__(self, public: iv.Ranges, private: iv.Ranges, not_public: iv.Ranges):
        self.public = public
        self.private = private
        self.not_public = not_public
        self._parts: dict[int, tuple[Node, iv.Ranges, iv.Ranges]] = {}  # id -> (node, private, not public)

    def split(self, node: Node) -> tuple[HeldSources | iv.Ranges, iv.Ranges]:
        """(the public sources, held, or empty; the private sources) of ``node``'s list: what
        the class cuts of the list built give, as values."""
        _, private, others = self._parts_of(node)
        public_size = node.size - iv.size(others)
        return (HeldSources(node, self.public, public_size) if public_size else iv.EMPTY), private

    def _parts_of(self, node: Node) -> tuple[Node, iv.Ranges, iv.Ranges]:
        parts = self._parts
        below: list[Node] = []
        while True:
            known = parts.get(id(node))
            if known is not None and known[0] is node:
                break
            if node.ranges is not None:
                known = parts[id(node)] = (node, iv.intersect(node.ranges, self.private),
                                           iv.intersect(node.ranges, self.not_public))
                break
            below.append(node)
            node = node.parent
        # A Node's list is its parent's without what its cut took: so are its parts.
        _, private, others = known
        for node in reversed(below):
            taken = iv.intersect(node.taken, self.not_public)
            if taken:
                others = iv.subtract(others, taken)
                private = iv.subtract(private, taken)
            known = parts[id(node)] = (node, private, others)
        return known


def hold_sources(exposures: list, held_class: type) -> None:
    """Each Exposure made with held sources (a HeldSources in its ``sources`` slot) becomes a
    ``held_class`` (held_exposure.HeldExposure: the same slots), whose ``sources`` builds them when read."""
    for exposure in exposures:
        if type(exposure.sources) is HeldSources:
            object.__setattr__(exposure, "__class__", held_class)  # (a frozen dataclass refuses plain assignment)
