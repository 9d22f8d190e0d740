"""Accepted results that are a whole exposure cause by themselves, summarised without merging.

An allow-list of 100,000 `-s NET/24 -p tcp --dport 22 -j ACCEPT` lines leaves 100,000 accepted
results, each decided by one rule that decides nothing else. The exposure summary
(ExposureAnalysis._summarise) gathers every result's entries by a key that holds its deciding
rule, then merges entries of one cause (merge_exactly): for such a result there is nothing to
gather or merge, and keying it cost most of the summary. Here such results are told apart
first, so the summary makes their exposures at once, and the entries it still merges are put
back in the order the merge would have given them.
"""

from __future__ import annotations

from dataclasses import MISSING, fields

from linter.model import VerdictKind

LONE_AT_LEAST = 256  # fewer lone results: the general path alone (a second lane is not worth it)


def lone_results(results: list, accept, final_hook) -> set[int] | None:
    """The ids of the ``accept`` results that one rule decided alone (a path to an ACCEPT in the
    ``final_hook`` base chain with nothing before it but accepting policies, as nat PREROUTING's;
    nothing assumed, no NAT) whose rule's span no other
    accepted result shares (rules whose spans are equal, a script's loop, are one cause); None
    when there are fewer than LONE_AT_LEAST of them."""
    candidates = []
    others = []
    for result in results:
        if result.verdict is not accept:
            continue
        box = result.box
        trail = box.trail
        if trail and not result.forwarded and not box.assumptions and box.nat_dst is None and box.nat_dport is None:
            step = trail[-1]
            rule = step.rule
            chain = step.chain
            if step.event == "rule" and rule is not None and rule.verdict.kind is VerdictKind.ACCEPT \
                    and chain.hook is final_hook and chain.type != "nat" \
                    and (len(trail) == 1 or all(s.event == "policy" and s.detail == "accept" for s in trail[:-1])):
                candidates.append((result, rule.span))
                continue
        others.append(result)
    if len(candidates) < LONE_AT_LEAST:
        return None
    # Spans hashed once each (a Span hashes all its fields): the first result of each span, and
    # the spans two results share or another result's deciders could hold (any rule or chain on its path).
    first: dict = {}
    shared = set()
    for result, span in candidates:
        at = first.setdefault(span, id(result))
        if at != id(result):
            shared.add(at)
    for result in others:
        for step in result.box.trail:
            at = first.get(step.chain.span)
            if at is not None:
                shared.add(at)
            if step.rule is not None:
                at = first.get(step.rule.span)
                if at is not None:
                    shared.add(at)
    lone = set(first.values())
    lone -= shared
    return lone


def in_merge_order(lone: list[tuple[int, object]], entries: list[dict], numbers: dict[int, int], merge, group_key,
                   make) -> list:
    """The exposures the merge of every entry would have made, in its order: ``lone`` (number,
    exposure) and those of ``merge(entries)`` (the merge of the other entries, each numbered in
    ``numbers``: its id -> its number), each placed at the number of the first entry of its
    group (``group_key``: an entry's group; ``make``: entry -> exposure). The merge emits its
    groups in the order of their first entries, and a lone result is a group of its own."""
    if not entries:
        return [exposure for _, exposure in lone]
    firsts: dict = {}
    for entry in entries:
        firsts.setdefault(group_key(entry), numbers[id(entry)])  # before the merge changes them
    return [exposure for _, _, exposure in sorted(
        [(at, 0, exposure) for at, exposure in lone]
        + [(firsts[group_key(entry)], index, make(entry)) for index, entry in enumerate(merge(entries))],
        key=_first_two)]


def _first_two(item: tuple) -> tuple:
    return item[0], item[1]


def instance_maker(cls):
    """A function making an instance of ``cls`` (a frozen dataclass with a plain __init__: no
    factories, no __post_init__) from its first fields' values in order, the others their
    defaults: what the constructor makes, without one frozen assignment per field (100,000
    exposures and their deciders)."""
    names = tuple(f.name for f in fields(cls))
    if any(f.default_factory is not MISSING for f in fields(cls)) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: only plain fields can be filled in directly")
    tails = [{f.name: f.default for f in fields(cls)[given:]} for given in range(len(names) + 1)]
    new = object.__new__

    def make(*values):
        instance = new(cls)
        state = instance.__dict__
        state.update(zip(names, values))
        state.update(tails[len(values)])
        return instance
    return make


class LoneLane:
    """The exposures of one family's lone results (lone_results), made as the summary's own
    branch for them made them (ExposureAnalysis._summarise): one entry per port protocol and
    kind of source, its interfaces together and its public sources sized, numbered in the
    summary's order. Only the per-box questions are asked per result; what depends on a shared
    object (the input interfaces, the destinations, the protocols) is asked once per object."""

    def __init__(self, family, hook, split_interfaces, cut_public, cut_private, protocols_of, sizes,
                 not_public, public_size: int, union, make_decider, make_exposure, long_at: int,
                 loopback: str, loopback_only):
        self.family, self.hook = family, hook
        self.split_interfaces, self.cut_public, self.cut_private = split_interfaces, cut_public, cut_private
        self.protocols_of, self.sizes, self.not_public, self.public_size = protocols_of, sizes, not_public, public_size
        # make_exposure(family, protocol, ports, reach, sources, interfaces, deciders): nothing possible
        self.union, self.make_decider, self.make_exposure = union, make_decider, make_exposure
        self.long_at, self.loopback, self.loopback_only = long_at, loopback, loopback_only
        self.last_dst, self.dst_public = None, False

    def add(self, result, numbered: int, out: list) -> int:
        """Append (number, exposure) of each entry of ``result`` to ``out``; the next number."""
        box = result.box
        only = box.trail[-1]
        rule = only.rule
        deciders = (self.make_decider(rule.span, rule, only.chain.name, only.table.name, self.hook),)
        src = box.src
        external, inside = self.split_interfaces(box.iif)
        public = private = ()
        if external or inside:
            public = self.cut_public(src)
            if len(public) > self.long_at:
                self.sizes.note_part(public, src, self.not_public)
            # The classes are disjoint: sources all public hold no private one.
            private = () if public is src else self.cut_private(src)
            if box.dst is not self.last_dst:
                self.last_dst, self.dst_public = box.dst, bool(self.cut_public(box.dst))
            # From the internet to a private address of this host: private reach (a NAT in front).
            if public and not self.dst_public:
                private = self.union(private, public)
                public = ()
        kinds = []
        if self.loopback in box.iif and src:
            kinds.append(("loopback", src, self.loopback_only))
        if public and external:
            kinds.append(("public", public, external))
        if private and external:
            kinds.append(("private", private, external))
        if inside and (public or private):
            kinds.append(("internal", self.union(public, private), inside))
        family, make = self.family, self.make_exposure
        for proto, has_ports in self.protocols_of(box.proto):
            ports = box.dport if has_ports else ()
            for kind, sources, ifaces in kinds:
                if kind == "public":
                    kind = "internet" if self.sizes.size(sources) * 2 >= self.public_size else "restricted"
                out.append((numbered, make(family, proto, ports, kind, sources, ifaces, deciders)))
                numbered += 1
        return numbered
