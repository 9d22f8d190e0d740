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

from bisect import bisect_right

from linter.model import VerdictKind

LONE_AT_LEAST = 256  # fewer lone results: the general path alone (a second lane is not worth it)


class Every(list):
    """What lone_or_every gives when every accepted result is lone: those results, in order."""

    __slots__ = ()


def lone_or_every(results: list, accept, final_hook) -> set[int] | Every | None:
    """The ids of the ``accept`` results that one rule decided alone (a path to an ACCEPT in the
    ``final_hook`` base chain with nothing before it but accepting policies, as nat PREROUTING's;
    nothing assumed, no NAT) whose rule's span no other
    accepted result shares (rules whose spans are equal, a script's loop, are one cause); None
    when there are fewer than LONE_AT_LEAST of them; when every accepted result is one (an
    allow-list's: the summary hands them all to LoneLane), those results as an Every, in order."""
    # Spans keyed by their fields (what Span's equality compares; its own hash is a Python call):
    # the first result of each span, and the spans two results share or another result's
    # deciders could hold (any rule or chain on its path). While the candidates' spans are of
    # one path with their lines ascending (a file's rules in order), none can equal an earlier
    # one (equal spans have equal lines): they are listed, and keyed only if that stops.
    first: dict | None = None
    listed: list = []  # the candidates while their spans' lines ascend
    shared = set()
    others = []
    candidates = 0
    accepting = VerdictKind.ACCEPT
    last_chain, last_final = None, False  # a run's results share their chain: asked once a chain
    path, line = None, -1  # the path of the listed spans and the last one's line
    for result in results:
        if result.verdict is not accept:
            continue
        deferred = result.deferred  # _bare_box, written out
        box = result.box if deferred is None else deferred.bare
        trail = box.trail
        if trail and not result.forwarded and not box.assumptions and box.nat_dst is None and box.nat_dport is None:
            step = trail[-1]
            rule = step.rule
            if step.event == "rule" and rule is not None and rule.verdict.kind is accepting:
                chain = step.chain
                if chain is not last_chain:
                    last_chain, last_final = chain, chain.hook is final_hook and chain.type != "nat"
                final = last_final
            else:
                final = False
            if final \
                    and (len(trail) == 1 or all(s.event == "policy" and s.detail == "accept" for s in trail[:-1])):
                candidates += 1
                span = rule.span
                if first is None:
                    if span is not None and span.line > line and (span.path is path or not listed):
                        path, line = span.path, span.line
                        listed.append(result)
                        continue
                    first = _keyed(listed)  # (the lines stopped ascending: every span keyed from here)
                number = id(result)
                at = first.setdefault(_fields(span), number)
                if at != number:
                    shared.add(at)
                continue
        others.append(result)
    if candidates < LONE_AT_LEAST:
        return None
    if not others and not shared:
        if first is None:
            return Every(listed)  # (listed: every accepted result, each the first of its span)
        if len(first) == candidates:
            return Every([result for result in results if result.verdict is accept])
    if first is None:
        first = _keyed(listed)  # (other results' steps are looked up by their spans' fields)
    for result in others:
        for step in _bare_box(result).trail:
            at = first.get(_fields(step.chain.span))
            if at is not None:
                shared.add(at)
            if step.rule is not None:
                at = first.get(_fields(step.rule.span))
                if at is not None:
                    shared.add(at)
    lone = set(first.values())
    lone -= shared
    return lone


def _keyed(listed: list) -> dict:
    """The listed candidates' spans keyed by their fields (each the first of its span: their
    lines ascend), to their results' ids."""
    return {_fields(_bare_box(result).trail[-1].rule.span): id(result) for result in listed}


def _bare_box(result):
    # A DeferredResult's bare box (engine/descent.py): every field read here but its long
    # lists, which are not built (each built list costs its length).
    deferred = result.deferred
    return result.box if deferred is None else deferred.bare


def _fields(span) -> tuple | None:
    """A span as lone_results keys it (None: a model object made without one)."""
    return (span.path, span.line, span.column, span.end_line, span.end_column) if span is not None else None


def in_merge_order(numbers: list[int], lone: list, entries: list[dict], entry_numbers: dict[int, int], merge,
                   group_key, make) -> list:
    """The exposures the merge of every entry would have made, in its order: ``lone`` (exposures,
    numbered by ``numbers``, which ascend) and those of ``merge(entries)`` (the merge of the other
    entries, each numbered in ``entry_numbers``: its id -> its number), each placed at the number
    of the first entry of its group (``group_key``: an entry's group; ``make``: entry ->
    exposure). The merge emits its groups in the order of their first entries, and a lone
    result is a group of its own; a merged group goes after the lone ones numbered as it is
    (none is: numbers are given once) and before the later ones."""
    if not entries:
        return list(lone)
    firsts: dict = {}
    for entry in entries:
        firsts.setdefault(group_key(entry), entry_numbers[id(entry)])  # before the merge changes them
    placed = sorted([(firsts[group_key(entry)], index, make(entry)) for index, entry in enumerate(merge(entries))],
                    key=_first_two)
    out: list = []
    taken = 0
    for at, _, exposure in placed:
        upto = bisect_right(numbers, at, taken)
        out.extend(lone[taken:upto])
        taken = upto
        out.append(exposure)
    out.extend(lone[taken:])
    return out


def spelt_out(numbers: list) -> list[int]:
    """The lone exposures' numbers one by one (LoneLane lists a range of them per add_all,
    the alone lane one number at a time)."""
    out: list[int] = []
    for number in numbers:
        if type(number) is range:
            out += number
        else:
            out.append(number)
    return out


def number_the_rest(numbers: dict[int, int], entries: list[dict], unnumbered: list[tuple[int, int, int]]) -> None:
    """Number in ``numbers`` (id -> number) the entries the summary left unnumbered: for each
    (start, end, first) of ``unnumbered``, ``entries[start:end]`` (one family's, which made no
    lone exposure) get first, first + 1, ... in order. Within a family without lone exposures,
    numbers order its entries only, and no lone number lies between its first and last."""
    for start, end, first in unnumbered:
        for index in range(start, end):
            numbers[id(entries[index])] = first + index - start


def _first_two(item: tuple) -> tuple:
    return item[0], item[1]


class LoneLane:
    """The exposures of one family's lone results (lone_results), made as the summary's own
    branch for them made them (ExposureAnalysis._summarise): one entry per port protocol and
    kind of source, its interfaces together and its public sources sized, numbered in the
    summary's order (``numbers`` and ``made``: the numbers and exposures of every family, in
    order; the numbers of one add_all, which follow one another, as one ``range``: spelt out
    by spelt_out only where entries are merged). Only the per-box questions are asked per result; what depends on a shared object
    (the input interfaces, the destinations, the protocols) is asked once per object.

    ``decider_class`` and ``exposure_class`` (exposure.Decider and Exposure) are made here
    field by field, as the constructors would make them (each as its
    ``decider_builder`` or ``exposure_builder``, given its class once its slots are set;
    ``exposure_tail`` the defaults of an Exposure's fields from ``forwarded`` on): the same
    objects without a call each."""

    def __init__(self, family, hook, split_interfaces, cut_public, cut_private, protocols_of, sizes,
                 not_public, public_size: int, union, decider_builder, decider_class, exposure_builder, exposure_class,
                 exposure_tail: tuple,
                 long_at: int, loopback: str, loopback_only, numbers: list[int], made: list):
        self.family, self.hook = family, hook
        self.split_interfaces, self.cut_public, self.cut_private = split_interfaces, cut_public, cut_private
        self.protocols_of, self.sizes, self.not_public, self.public_size = protocols_of, sizes, not_public, public_size
        self.union, self.decider_builder, self.decider_class, self.exposure_class = \
            union, decider_builder, decider_class, exposure_class
        self.exposure_builder, self.exposure_tail = exposure_builder, exposure_tail
        self.long_at, self.loopback, self.loopback_only = long_at, loopback, loopback_only
        self.numbers, self.made = numbers, made
        self.last_dst, self.dst_public = None, False

    def add_all(self, results: list, numbered: int) -> int:
        """Number and make the exposures of ``results`` (lone, in the summary's order) from
        ``numbered`` on; the next number."""
        family, hook = self.family, self.hook
        split_interfaces, cut_public, cut_private, union = self.split_interfaces, self.cut_public, self.cut_private, self.union
        size, public_size, long_at, protocols_of = self.sizes.size, self.public_size, self.long_at, self.protocols_of
        loopback, loopback_only = self.loopback, self.loopback_only
        add_made = self.made.append
        first_number = numbered
        last_dst, dst_public = self.last_dst, self.dst_public
        exposure_builder, exposure_class = self.exposure_builder, self.exposure_class
        forwarded, nat_targets, nat_ports, via, routed, destinations, out_interfaces = self.exposure_tail
        decider_builder, decider_class = self.decider_builder, self.decider_class
        # ClassCut of one range (an allow-list rule's -s NET/24), its bisection written out:
        # inside one public range, the range itself; in a gap between two, none.
        starts, class_ranges = cut_public.starts, cut_public.ranges
        last_class = len(class_ranges) - 1
        # Boxes of a run share their interfaces and protocols: asked again only when they change.
        last_iif = last_proto = None
        last_chain = last_table = None  # and their names: a run's results share them
        for result in results:
            box = result.box
            only = box.trail[-1]
            rule = only.rule
            if only.chain is not last_chain:
                last_chain = only.chain
                chain_name = last_chain.name
            if only.table is not last_table:
                last_table = only.table
                table_name = last_table.name
            decider = decider_builder()  # Decider(span, rule, chain, table, hook), one plain store a field
            decider.span = rule.span
            decider.rule = rule
            decider.chain = chain_name
            decider.table = table_name
            decider.hook = hook
            decider.__class__ = decider_class
            deciders = (decider,)
            src = box.src
            iif = box.iif
            if iif is not last_iif:
                last_iif = iif
                external, inside = split_interfaces(iif)
                looped = loopback in iif
            public = private = ()
            if external or inside:
                public = None
                if len(src) == 1:
                    (lo, hi), = src
                    at = bisect_right(starts, lo) - 1  # the last public range starting at or before lo
                    if at >= 0 and class_ranges[at][1] >= hi:
                        public = src
                    elif (at < 0 or class_ranges[at][1] < lo) and (at == last_class or class_ranges[at + 1][0] > hi):
                        public = ()
                if public is None:
                    public = cut_public(src)
                    if len(public) > long_at:
                        self.sizes.note_part(public, src, self.not_public)
                # The classes are disjoint: sources all public hold no private one.
                private = () if public is src else cut_private(src)
                if box.dst is not last_dst:
                    last_dst, dst_public = box.dst, bool(cut_public(box.dst))
                # From the internet to a private address of this host: private reach (a NAT in front).
                if public and not dst_public:
                    private = union(private, public)
                    public = ()
            if box.proto is not last_proto:
                last_proto = box.proto
                protocols = protocols_of(last_proto)
            if public and external and not private and not inside and not (looped and src):
                # One kind of source, public (an allow-list's rules): its one kind made without the tests below.
                count = public[0][1] - public[0][0] + 1 if len(public) == 1 else size(public)
                kinds = (("internet" if count * 2 >= public_size else "restricted", public, external),)
            else:
                kinds = []
                if looped and src:
                    kinds.append(("loopback", src, loopback_only))
                if public and external:
                    # iv.size of one range (an allow-list rule's -s NET/24) written out
                    count = public[0][1] - public[0][0] + 1 if len(public) == 1 else size(public)
                    kinds.append(("internet" if count * 2 >= public_size else "restricted", public, external))
                if private and external:
                    kinds.append(("private", private, external))
                if inside and (public or private):
                    kinds.append(("internal", union(public, private), inside))
            for proto, has_ports in protocols:
                ports = box.dport if has_ports else ()
                for kind, sources, ifaces in kinds:
                    exposure = exposure_builder()
                    exposure.family = family
                    exposure.protocol = proto
                    exposure.ports = ports
                    exposure.reach = kind
                    exposure.sources = sources
                    exposure.interfaces = ifaces
                    exposure.possible = False
                    exposure.conditions = ()
                    exposure.deciders = deciders
                    exposure.forwarded = forwarded
                    exposure.nat_targets = nat_targets
                    exposure.nat_ports = nat_ports
                    exposure.via = via
                    exposure.routed = routed
                    exposure.destinations = destinations
                    exposure.out_interfaces = out_interfaces
                    exposure.__class__ = exposure_class
                    add_made(exposure)
                    numbered += 1
        self.last_dst, self.dst_public = last_dst, dst_public
        if numbered > first_number:
            self.numbers.append(range(first_number, numbered))
        return numbered
