"""What new connections can reach: the accepted packet space, summarised for people and checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial

from linter.addresses import (
    LOOPBACK_V4, LOOPBACK_V6, NON_INTERNET_V4, NON_INTERNET_V6, PRIVATE_V4, PRIVATE_V6, family_max, format_range,
)
from linter.engine import alone_causes as alone_lane
from linter.engine import intervals as iv
from linter.engine.class_cut import ClassCut
from linter.engine.held_sources import ClassParts, built, hold_sources, node_of, size_of
from linter.engine.known_sizes import LONG, KnownSizes, collecting
from linter.engine.lone_results import Every, LoneLane, in_merge_order, lone_or_every, number_the_rest, spelt_out
from linter.engine.memo import IdentityCache
from linter.engine.merge_exact import merge_exactly, merge_key
from linter.engine.paths import PathEvaluator, Result, base_chains
from linter.engine.read_once import drained
from linter.engine.roles import InterfaceRoles, host_addresses, infer_roles
from linter.engine.space import replace as replace_box
from linter.engine.subsumed import settle_results
from linter.engine.summary_order import REACH_ORDER, in_summary_order  # noqa: F401  (REACH_ORDER re-exported)
from linter.engine.trail_deciders import TrailReader
from linter.engine.universe import (
    LOOPBACK_IFACE, OTHER_IFACE, initial_boxes, interface_representatives, routed_boxes,
)
from linter.engine.walk import CUT_DETAIL, Outcome, Step
from linter.model import Family, Hook, Rule, Ruleset, Span, VerdictKind, ports_text
from linter.netdb import PORT_PROTOCOLS

LOOPBACK_ONLY = frozenset({LOOPBACK_IFACE})
_ACCEPTING = (VerdictKind.ACCEPT, VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.QUEUE)
_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)


@dataclass(frozen=True, slots=True)
class Decider:
    """What let a part of the space in: a rule, or a chain's accepting policy (rule None).
    (Slots: an allow-list's 100,000 lone deciders were 176 B each with a dictionary, 72 B without.)"""

    span: Span
    rule: Rule | None
    chain: str
    table: str
    hook: Hook | None

    @property
    def text(self) -> str:
        if self.rule is not None:
            return self.rule.text
        return f"policy of {self.table} {self.chain}"


@dataclass(frozen=True, slots=True)
class Exposure:
    """Ports of one protocol that new connections from one kind of source can reach.
    (Slots: smaller than with a dictionary, and faster to make and read; exposure_of and
    LoneLane make them field by field through EXPOSURE_BUILDER.)"""

    family: Family
    protocol: int  # IP protocol number; ports only mean something for tcp/udp/sctp/dccp/udplite
    ports: iv.Ranges
    reach: str  # internet, restricted (some public sources only), private, internal (interface), loopback
    sources: iv.Ranges
    interfaces: frozenset[str]  # input interface representatives
    possible: bool  # reached only by assuming opaque matches matched
    conditions: tuple[str, ...]  # the opaque matches assumed, as written
    deciders: tuple[Decider, ...]  # the accepting rules or policies, in path order
    forwarded: bool = False  # reached a container or another host through DNAT
    nat_targets: tuple[str, ...] = ()
    nat_ports: iv.Ranges | None = None  # the ports after DNAT/REDIRECT: the service behind them
    via: tuple[Decider, ...] = ()  # jumps with matches on the way to the accept
    routed: bool = False  # to other hosts, routed through this one (ExposureAnalysis.routed_exposures)
    destinations: iv.Ranges = ()  # routed: the destinations (as sent) these sources reach on these ports
    out_interfaces: frozenset[str] = frozenset()  # routed: each part leaves through one of these

    @property
    def primary(self) -> Decider | None:
        """The decider a finding points at: the DNAT for forwarded traffic, else the final accept,
        or, when that accept matches everything (a shared accept chain), the last jump that
        chose this traffic."""
        return primary_of(self.forwarded, self.deciders, self.via)


def primary_of(forwarded: bool, deciders: tuple[Decider, ...], via: tuple[Decider, ...]) -> Decider | None:
    """Exposure.primary of an exposure with these ``forwarded``, ``deciders`` and ``via``."""
    if forwarded:
        for decider in deciders:
            if decider.rule is not None and decider.rule.verdict.kind is VerdictKind.DNAT:
                return decider
    if not deciders:
        return None  # no chain on the path: nothing in these rulesets decided
    last = deciders[-1]
    if last.rule is not None and not last.rule.matches and via:
        return via[-1]
    return last


@dataclass
class NetworkClasses:
    """Source classes; ``trusted`` networks (from configuration) count as private."""

    trusted_v4: iv.Ranges = ()
    trusted_v6: iv.Ranges = ()
    internet_interfaces: tuple[str, ...] = ()  # configured: these face the internet
    internal_interfaces: tuple[str, ...] = ()  # configured: these face an internal network
    host_addresses: tuple[tuple[Family, int, int], ...] = ()  # configured: this host's own addresses
    assumed: object = None  # engine.assumptions.Assumptions: opaque matches settled by configuration

    def classes(self, family: Family) -> list[tuple[str, iv.Ranges]]:
        if family is Family.IPV6:
            private, loop, non = iv.union(PRIVATE_V6, self.trusted_v6), LOOPBACK_V6, NON_INTERNET_V6
        else:
            private, loop, non = iv.union(PRIVATE_V4, self.trusted_v4), LOOPBACK_V4, NON_INTERNET_V4
        public = iv.subtract(iv.subtract(iv.subtract(iv.full(family_max(family)), private), loop), non)
        return [("public", public), ("private", private)]


def _deciders(trail: tuple[Step, ...], forwarded: bool, fallback: Decider | None = None) -> tuple[Decider, ...]:
    """The rules and policies that let a box in, in path order; ``fallback`` (the accepting
    policy of the final hook's last chain) when the walk left no step, as an empty chain does."""
    final_hook = Hook.FORWARD if forwarded else Hook.INPUT
    if len(trail) == 1:
        # The commonest path: one accepting rule of the final hook's base chain decided alone
        # (what TrailReader makes of it, without its lists).
        only = trail[0]
        chain, rule = only.chain, only.rule
        if only.event == "rule" and rule is not None and chain.hook is final_hook:
            kind = rule.verdict.kind
            if (kind in _ACCEPTING or only.detail == CUT_DETAIL) and not (kind is VerdictKind.ACCEPT and chain.type == "nat"):
                return (decider_of(rule, chain, only.table, final_hook),)
    return TrailReader(decider_of).read(trail, forwarded, fallback)[0]


def _final_policy(rulesets: list[Ruleset], family: Family) -> Decider | None:
    """The accepting policy that lets in what no rule decides on the input hook: the last base
    chain's there (an empty chain leaves no step on a box's path: nothing in it can change a box)."""
    chains = [(t, c) for t, c in base_chains(rulesets, Hook.INPUT, family) if (c.type or "filter") == "filter"]
    if not chains:
        return None
    table, chain = chains[-1]
    if chain.policy is not None and chain.policy.value != "accept":
        return None
    return decider_of(None, chain, table, chain.hook)


_DECIDERS: IdentityCache[dict] = IdentityCache()


def decider_of(rule: Rule | None, chain, table, hook: Hook | None) -> Decider:
    """One Decider object per rule (or policy) and hook: results share them."""
    owner = rule if rule is not None else chain
    by_hook = _DECIDERS.get(owner)
    if by_hook is None:
        by_hook = _DECIDERS.put(owner, {})
    found = by_hook.get(hook)
    if found is None:
        span = rule.span if rule is not None else chain.span
        found = by_hook[hook] = Decider(span, rule, chain.name, table.name, hook)
    return found


_NO_CONDITIONS = (False, ())  # what _conditions makes of no assumptions


def _conditions(assumptions: tuple, cache: IdentityCache) -> tuple[bool, tuple[str, ...]]:
    """(whether the path assumed an opaque match matched, those matches as written); assumption
    tuples are shared by every box of one path, so each is described once."""
    if not assumptions:
        return _NO_CONDITIONS  # (most paths assume nothing: no look-up)
    texts = cache.get(assumptions)
    if texts is None:
        texts = cache.put(assumptions, tuple(dict.fromkeys(
            getattr(a.match, "text", "") or _describe_match(a.match) for a in assumptions if a.matched)))
    return bool(texts), texts


def _via(trail: tuple[Step, ...]) -> tuple[Decider, ...]:
    """The jumps that led to the accept, with their matches (user chains entered on the way)."""
    if len(trail) == 1 and (trail[0].rule is None or trail[0].rule.verdict.kind not in _JUMPS):
        return ()  # the commonest path: one rule decided alone
    return tuple(Decider(s.rule.span, s.rule, s.chain.name, s.table.name, s.chain.hook) for s in trail
                 if s.event == "rule" and s.rule is not None and s.rule.matches
                 and s.rule.verdict.kind in _JUMPS)


class ExposureAnalysis:
    """The exposure of one or more rulesets that run on the same host."""

    def __init__(self, rulesets: list[Ruleset], classes: NetworkClasses | None = None, loopback: bool = True,
                 routed_protocols: iv.Ranges | None = None):
        """``loopback=False`` leaves out connections this host makes to itself (the "loopback"
        reach): no check reads them, and on a Kubernetes node they are a third of the work.
        ``routed_protocols``: the only IP protocols the routed path is evaluated for (the checks
        read the port protocols; a router's other protocols are a quarter of the work)."""
        self.rulesets = rulesets
        self.routed_protocols = routed_protocols
        self.classes = classes or NetworkClasses()
        self.loopback = loopback
        self.interfaces = interface_representatives(rulesets)
        self.roles: InterfaceRoles = infer_roles(rulesets, self.classes.internet_interfaces,
                                                 self.classes.internal_interfaces)
        self.host_addresses = host_addresses(rulesets, self.classes.host_addresses)
        self._results: dict[Family, list[Result]] | None = {}  # None: let go (let_go_results)
        self._read_once = False  # the summary is the local results' last reader (read_once)
        self._routed_results: dict[Family, list[Result]] = {}
        self._exposures: list[Exposure] | None = None
        self.cuts: list = []  # engine.budget.Cut: where evaluating a family merged paths (or stopped)
        self.spent = 0  # box-rule applications of the evaluations so far (engine/budget.py)
        self._routed: list[Exposure] | None = None
        self.sizes = KnownSizes()  # long source lists' sizes, noted by the walk (engine/known_sizes.py)

    def families(self) -> list[Family]:
        fams: list[Family] = []
        for ruleset in self.rulesets:
            for table in ruleset.tables:
                for fam in (Family.IPV4, Family.IPV6):
                    if table.family.covers(fam) and fam not in fams and table.family not in (Family.ARP, Family.BRIDGE):
                        fams.append(fam)
            if not ruleset.tables and ruleset.family in (Family.IPV4, Family.IPV6) and ruleset.family not in fams:
                fams.append(ruleset.family)
        return sorted(fams, key=lambda f: f.value)

    def results(self, family: Family) -> list[Result]:
        if self._results is None:
            raise RuntimeError("the walk's results were let go (let_go_results)")
        if family not in self._results:
            evaluator = PathEvaluator(self.rulesets, assumed=self.classes.assumed, host=self.host_addresses)
            boxes = initial_boxes(family, self.interfaces)
            own = self.host_addresses.get(family)
            if own:
                # New connections from outside are addressed to this host's own addresses.
                boxes = [box if box.iif == LOOPBACK_ONLY else replace_box(box, dst=own) for box in boxes]
            if not self.loopback:
                boxes = [box for box in boxes if box.iif != LOOPBACK_ONLY]
            with collecting(self.sizes):
                walked = evaluator.evaluate(boxes)
            self.sizes.let_go()
            self._results[family] = settle_results(walked, self.sizes.node_of)  # (settle_choices(drop_subsumed(...)))
            self.spent += evaluator.spent
            self.cuts.extend(evaluator.cuts)
        return self._results[family]

    def read_once(self) -> None:
        """Say that nothing will read the local path's results after the summary: it lets each go
        as it reads it (engine/read_once.py), and a later ``results`` raises."""
        self._read_once = True

    def let_go_results(self) -> None:
        """Free the local path's results once every reader has run (the summary is kept):
        a later ``results`` raises rather than walk again. Nothing before the summary lets go."""
        if self._exposures is not None:
            self._results = None

    def routes(self, family: Family) -> bool:
        """Whether this host filters routed ``family`` traffic: some filter FORWARD chain has
        rules (without one, nothing says the host routes at all)."""
        # The base chains alone (PathEvaluator.chains): an evaluator reads every rule's marks.
        return any(chain.rules for _, chain in base_chains(self.rulesets, Hook.FORWARD, family)
                   if (chain.type or "filter") == "filter")

    def routed_results(self, family: Family) -> list[Result]:
        """Final results of new connections from outside to other hosts, routed through this
        one (empty when no filter FORWARD chain has rules)."""
        if family not in self._routed_results:
            results: list[Result] = []
            if self.routes(family):
                boxes = routed_boxes(family, self.interfaces)
                if self.routed_protocols is not None:
                    boxes = [replace_box(box, proto=self.routed_protocols) for box in boxes]
                # Opaque matches taken as not matching (Walker.certain): no "possibly" entries;
                # what a DNAT rewrote is the local path's (forwarded, "via DNAT") already.
                results = PathEvaluator(self.rulesets, certain=True, assumed=self.classes.assumed).evaluate_routed(boxes, keep_nat=False)
            self._routed_results[family] = results
        return self._routed_results[family]

    def routed_exposures(self, reported: Callable[[Decider], bool] | None = None) -> list[Exposure]:
        """What new connections from outside can reach on other hosts through this one (the
        FORWARD path) without a DNAT, per destination: entries with ``routed=True``, kept apart from
        ``exposures()`` so the checks of the local path read what they always read.

        ``reported``: only the entries with a primary decider that passes this test (not
        remembered): a Docker host's 25,000 routed entries, all decided by Docker's own chains,
        are not summarised for a check that reads none of them. Entries of different deciders
        never merge, so the ones kept are what the whole list holds for them."""
        if reported is not None:
            return self._summarise(routed=True, reported=reported)
        if self._routed is None:
            self._routed = self._summarise(routed=True)
        return list(self._routed)

    def exposures(self) -> list[Exposure]:
        """Every accepted part of the space, one entry per protocol, reach and decider
        (computed once: PL101/PL201, PL301 and PL302 all read it)."""
        if self._exposures is None:
            self._exposures = self._summarise()
        return list(self._exposures)

    def _summarise(self, routed: bool = False, reported: Callable[[Decider], bool] | None = None) -> list[Exposure]:
        """Every accepted part of the space, one entry per protocol, reach and decider
        (``routed``: of the routed path, one per destination too; ``reported``: see
        routed_exposures)."""
        merged: list[dict] = []
        gathered: dict[tuple, dict] = {}
        converted: dict[tuple, iv.Ranges] = {}  # public sources counted as private (private destination)
        nat_texts: dict[tuple, tuple[str, ...]] = {}
        port_texts: dict[iv.Ranges, str] = {}  # a DNAT's new ports, as nat_of words them
        single: dict[str, frozenset[str]] = {}
        condition_texts: IdentityCache[tuple[str, ...]] = IdentityCache(1_000_000)
        protocol_splits: dict[iv.Ranges, list[tuple[int, bool]]] = {}
        outside_inside: dict[frozenset[str], tuple[frozenset[str], frozenset[str]]] = {}
        # Results that are a cause by themselves (engine/lone_results.py) become exposures at once,
        # numbered with the entries gathered for the merge so that the merge's order is kept.
        lone_numbers: list = []  # (ints, and ranges of them: lone_results.spelt_out)
        lone_made: list[Exposure] = []
        gathered_at: dict[int, int] = {}  # id of a gathered entry -> its number (where lone ones are numbered)
        unnumbered: list[tuple[int, int, int]] = []  # (start, end) in merged of a family without them, its first number
        numbered = 0
        holding = False  # whether some entry's public sources are held (held_sources.py)
        trails = TrailReader(decider_of)

        def split_interfaces(iif: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
            # (external, internal) input interfaces, loopback left out: a few sets, asked per box.
            found = outside_inside.get(iif)
            if found is None:
                external = iif - {LOOPBACK_IFACE}
                inside = frozenset(i for i in external if self.roles.is_internal(i))
                found = outside_inside[iif] = (external - inside if inside else external, inside)
            return found
        def read_result(result: Result) -> tuple:
            # (its Node or None, its box, its deciders, its via): a long source list kept as
            # its Node is not built (held_sources.py)
            if result.deferred is None:  # (node_of's own first test: a plain result, most of them)
                node, box = None, result.box
            else:
                node = node_of(result)
                box = result.box if node is None else result.deferred.bare
            if len(box.trail) > 1:  # engine/trail_deciders.py: each step read once
                return node, box, *trails.read(box.trail, result.forwarded or routed, fallback)
            return node, box, _deciders(box.trail, result.forwarded or routed, fallback), _via(box.trail)

        def nat_of(box) -> tuple[str, ...]:
            # Where a DNAT sends the box, in words (a few targets, asked per box).
            nat_dst = box.nat_dst
            if nat_dst is None:
                return ()
            nat_dport = box.nat_dport
            nat_key = (nat_dst, nat_dport)
            nat = nat_texts.get(nat_key)
            if nat is None:
                family = box.family
                nat = [format_range(family, lo, hi) for lo, hi in nat_dst[:4]]
                # A DNAT that keeps the port says only where to: no "port 0-79,81-442,...".
                if nat_dport is not None and nat_dport != box.dport:
                    # (kube-proxy's 30,000 endpoints: one address each, a few ports among them all)
                    port = port_texts.get(nat_dport)
                    if port is None:
                        port = port_texts[nat_dport] = f" port {ports_text(nat_dport)}"
                    nat = [n + port for n in nat]
                nat = nat_texts[nat_key] = tuple(nat)
            return nat

        def size_sources(sources) -> int:
            return size_of(sources, self.sizes)
        for family in self.families():
            classes = self.classes.classes(family)
            cut_public, cut_private = ClassCut(classes[0][1]), ClassCut(classes[1][1])
            cut_either = ClassCut(iv.union(classes[0][1], classes[1][1]))  # public or private sources
            not_public = iv.subtract(((0, family_max(family)),), classes[0][1])
            held_parts = ClassParts(classes[0][1], classes[1][1], not_public)
            fallback = None if routed else _final_policy(self.rulesets, family)
            public_size = iv.size(classes[0][1])
            last_dst, dst_public = None, False
            dst_classes: dict[iv.Ranges, bool] = {}  # a one-range destination -> whether it is public
            family_results = self.routed_results(family) if routed else self.results(family)
            lone = None if routed or reported is not None else lone_or_every(family_results, Outcome.ACCEPT, Hook.INPUT)
            every = type(lone) is Every  # (every accepted result lone, listed: their ids not gathered)
            if lone is not None:
                lane = LoneLane(family, Hook.INPUT, split_interfaces, cut_public, cut_private,
                                partial(_protocols_of, protocol_splits), self.sizes, not_public, public_size, iv.union,
                                DECIDER_BUILDER, Decider, EXPOSURE_BUILDER, Exposure, _LONE_TAIL, LONG, LOOPBACK_IFACE, LOOPBACK_ONLY, lone_numbers, lone_made)
            alone_read = None  # (id(result) -> what read_result read of it and its texts; the ids alone)
            if not routed and reported is None and not every \
                    and len(family_results) - (len(lone) if lone else 0) >= alone_lane.ALONE_AT_LEAST:
                alone_read = alone_lane.alone_causes(family_results, Outcome.ACCEPT, lone, read_result,
                                                     lambda box: (_conditions(box.assumptions, condition_texts),
                                                                  nat_of(box)))
            # Numbers matter only against lone exposures' (lone_results.in_merge_order): a family
            # without them keeps its first number alone (ufw 100k: 77,000 ids and numbers, 7 MB).
            numbers_kept, first_number = lone is not None or alone_read is not None and bool(alone_read[1]), numbered
            pending: list[Result] = []  # lone results not summarised yet (in runs: engine/lone_results.py)
            accept = Outcome.ACCEPT  # (an enum member looked up once, not per result: ~0.1 us each)
            if every:
                # What the loop would do: pend each accepted result (all lone) and make them at its end.
                pending = lone
                if self._read_once and not routed:
                    family_results.clear()  # (as drained leaves it)
                family_results = []
            for result in drained(family_results) if self._read_once and not routed else family_results:
                if result.verdict is not accept:
                    continue
                if lone is not None and id(result) in lone:
                    pending.append(result)
                    continue
                if pending:
                    numbered = lane.add_all(pending, numbered)
                    pending.clear()
                # (popped: what was read goes as it is used, not kept until the summary ends)
                known = None if alone_read is None else alone_read[0].pop(id(result), None)
                if known is None:
                    node, box, deciders, via = read_result(result)
                    if reported is not None:
                        primary = primary_of(result.forwarded, deciders, via)
                        if primary is None or not reported(primary):
                            continue
                    possible, conditions = _conditions(box.assumptions, condition_texts)
                    nat = nat_of(box)
                    alone = False
                else:
                    node, box, deciders, via, (possible, conditions), nat = known
                    alone = id(result) in alone_read[1]
                external, inside = outside_inside.get(box.iif) or split_interfaces(box.iif)
                public = private = to_private = ()
                if external or inside:
                    if box.dst is not last_dst:  # boxes share their destinations: asked once a list
                        last_dst = box.dst
                        if len(last_dst) == 1:  # (and a lone address once: kube's cluster IPs, a list each)
                            dst_public = dst_classes.get(last_dst)
                            if dst_public is None:
                                dst_public = dst_classes[last_dst] = bool(cut_public(last_dst))
                        else:
                            dst_public = bool(cut_public(last_dst))
                    if node is not None and (inside or LOOPBACK_IFACE in box.iif or not (routed or dst_public)):
                        box, node = result.box, None  # (held: sources from outside to a public address)
                    if node is not None:
                        public, private = held_parts.split(node)
                        holding = True  # (the one place held sources are made)
                        to_private = public and not routed and not dst_public
                    elif alone and not dst_public:
                        # Alone in its cause (never routed) to a private destination: its public
                        # sources count as private below, and what they were is read only where
                        # entries are gathered (``converted``). Both classes in one cut: without
                        # public sources that is the private cut, all public the sources
                        # themselves (the classes are canonical lists: equal tuples), as below.
                        public, private = (), cut_either(box.src)
                    else:
                        public = cut_public(box.src)
                        if len(public) > LONG:
                            self.sizes.note_part(public, box.src, not_public)
                        to_private = public and not routed and not dst_public
                        if to_private:
                            # The private and public parts united below, in one cut by the classes' union.
                            private = public if public is box.src else cut_either(box.src)
                        else:
                            # The classes are disjoint: sources all public hold no private one.
                            private = () if public is box.src else cut_private(box.src)
                    # A packet from the internet cannot be addressed to a private address of this
                    # host (only a NAT in front of it could do that, and portlint cannot see it).
                    if to_private:
                        if node is not None:
                            private = iv.union(private, public)
                        to_private, public = public, ()
                    else:
                        to_private = ()
                elif node is not None:
                    box = result.box
                kinds = []  # (reach, sources, interfaces) of the box, the empty ones left out
                if LOOPBACK_IFACE in box.iif and box.src:
                    kinds.append(("loopback", box.src, LOOPBACK_ONLY))
                if public:
                    kinds.append(("public", public, external))
                if private:
                    kinds.append(("private", private, external))
                if inside and (public or private):
                    kinds.append(("internal", iv.union(public, private), inside))
                protocols = protocol_splits.get(box.proto) or _protocols_of(protocol_splits, box.proto)
                if alone:  # engine/alone_causes.py: nothing to gather or merge
                    numbered = alone_lane.add_alone(alone_exposure, family, box, kinds, protocols, deciders, via, possible,
                                         conditions, result.forwarded, nat, public_size, size_sources, numbered,
                                         lone_numbers, lone_made)
                    continue
                # Spans by identity: one object per rule or chain, and hashing a Span is slow.
                # Flat at the key's end: the deciders' ids, then None and the via's (not two tuples in it).
                decided_by = tuple([id(d.span) for d in deciders] + ([None] + [id(d.span) for d in via] if via else []))
                for proto, has_ports in protocols:
                    ports = box.dport if has_ports else ()
                    base = (family, proto, ports, possible, conditions, result.forwarded, nat)
                    if routed:
                        base += (box.dst if len(box.dst) <= 8 else id(box.dst),)
                    base += decided_by
                    for kind, sources, ifaces in kinds:
                        # One entry per interface: which interfaces share a box depends on how
                        # the rules split the space, what each interface lets in does not.
                        for iface in ifaces:
                            key = (kind, iface) + base
                            entry = gathered.get(key)
                            if entry is None:
                                gathered[key] = entry = dict(
                                    family=family, protocol=proto, ports=ports, reach=kind, sources=sources,
                                    interfaces=single.get(iface) or single.setdefault(iface, frozenset({iface})),
                                    possible=possible, conditions=conditions, deciders=deciders, via=via)
                                # The last three unless Exposure's defaults: 10 keys are 272 B, 13 are 464 B.
                                if routed or result.forwarded or nat or has_ports and box.nat_dport is not None:
                                    entry.update(forwarded=result.forwarded, nat_targets=nat,
                                                 nat_ports=box.nat_dport if has_ports else None)
                                if routed:
                                    entry.update(routed=True, destinations=box.dst, out_interfaces=box.oif)
                                if numbers_kept:
                                    gathered_at[id(entry)] = numbered
                                numbered += 1
                            else:
                                entry["sources"] = iv.union(built(entry["sources"]), built(sources))
                                if has_ports and box.nat_dport is not None:
                                    entry["nat_ports"] = iv.union(entry.get("nat_ports") or (), box.nat_dport)
                                if routed:
                                    entry["out_interfaces"] = entry["out_interfaces"] | box.oif
                            if kind == "private" and to_private:
                                converted[key] = iv.union(converted.get(key, ()), to_private)
            if pending:
                numbered = lane.add_all(pending, numbered)
                pending.clear()
            # Public sources that reach the same ports through the same rules as internet reach
            # (to a public destination) are not private reach too because another box of the
            # same rule went to a private destination: that depends on how the rules split
            # the destinations, what reaches the ports does not.
            for key, extra in converted.items():
                reached = gathered.get(("public",) + key[1:])
                overlap = iv.intersect(extra, built(reached["sources"])) if reached is not None else ()
                if overlap:
                    entry = gathered[key]
                    entry["sources"] = iv.subtract(entry["sources"], overlap)
                    if not entry["sources"]:
                        del gathered[key]
            converted.clear()
            # Public sources are judged as a whole per interface and port set (a rule open to
            # everyone is split by earlier rules into pieces; together they are the internet).
            for entry in gathered.values():
                if entry["reach"] == "public":
                    entry["reach"] = "internet" if size_of(entry["sources"], self.sizes) * 2 >= public_size else "restricted"
            start = len(merged)
            merged.extend(gathered.values())
            gathered.clear()
            if not numbers_kept:
                unnumbered.append((start, len(merged), first_number))
        if self._read_once and not routed:
            self._results = None  # (emptied by the loop: read again, they would be wrong)
        if lone_made:
            number_the_rest(gathered_at, merged, unnumbered)
            # (without entries to merge, the lone exposures are the list as made: no number read)
            exposures = in_merge_order(spelt_out(lone_numbers) if merged else [], lone_made, merged, gathered_at,
                                       partial(merge_exactly, routed=routed), merge_key, exposure_of)
            merged.clear()
            lone_made.clear()
            lone_numbers.clear()
        else:
            gathered_at.clear()  # (the numbers serve in_merge_order alone: ~10 MB under the merge's top at 100k)
            values = merge_exactly(merged, routed)
            merged.clear()
            # Each entry dict dropped as its Exposure is made: 100,000 of both at once were 100 MB.
            exposures = []
            while values:
                exposures.append(exposure_of(values.pop()))  # (Exposure(**entry), one store a field)
            exposures.reverse()
        if holding:  # (a pass over every exposure otherwise: an allow-list holds none)
            # (Imported here: held_exposure.py subclasses Exposure, so it imports this module.)
            from linter.engine.held_exposure import HeldExposure

            hold_sources(exposures, HeldExposure)
        return in_summary_order(exposures)


_LONE_TAIL = tuple(f.default for f in fields(Exposure)[9:])  # forwarded on: their defaults, in order
_ALONE_TAIL = tuple(f.default for f in fields(Exposure)[13:])  # routed on: their defaults, in order
if tuple(Exposure.__dataclass_fields__) != (
        "family", "protocol", "ports", "reach", "sources", "interfaces", "possible", "conditions", "deciders",
        "forwarded", "nat_targets", "nat_ports", "via", "routed", "destinations", "out_interfaces"):
    raise AssertionError(f"Exposure fields changed: {tuple(Exposure.__dataclass_fields__)}")


def _building(cls):
    """A plain class with ``cls``'s slots, whose instances may become ``cls`` instances by
    ``__class__`` assignment (Python allows it between classes of the same slots, and checks)."""
    if tuple(cls.__slots__) != tuple(cls.__dataclass_fields__):
        raise AssertionError(f"{cls.__name__}: slots {cls.__slots__} are not its fields")
    building = type(f"Building{cls.__name__}", (), {"__slots__": cls.__slots__})
    probe = building()
    probe.__class__ = cls  # a TypeError here: the layouts differ
    return building


# Deciders and Exposures made field by field (exposure_of, alone_exposure, LoneLane.add_all):
# plain stores into a builder, then their class (a frozen dataclass's own __init__ stores each
# field through object.__setattr__, a call each).
DECIDER_BUILDER = _building(Decider)
if tuple(Decider.__dataclass_fields__) != ("span", "rule", "chain", "table", "hook"):
    raise AssertionError(f"Decider fields changed: {tuple(Decider.__dataclass_fields__)}")
EXPOSURE_BUILDER = _building(Exposure)


_FORWARDED, _NAT_TARGETS, _NAT_PORTS, _VIA, _ROUTED, _DESTINATIONS, _OUT_INTERFACES = _LONE_TAIL


def exposure_of(values: dict) -> Exposure:
    """``Exposure(**values)`` of a summary entry (the first nine fields, and any of the rest), as
    the constructor makes it but with one plain store a field (a third of its time: kube and
    Docker make tens of thousands; tests/engine/test_lone_results.py compares the two)."""
    get = values.get
    exposure = EXPOSURE_BUILDER()
    exposure.family = values["family"]
    exposure.protocol = values["protocol"]
    exposure.ports = values["ports"]
    exposure.reach = values["reach"]
    exposure.sources = values["sources"]
    exposure.interfaces = values["interfaces"]
    exposure.possible = values["possible"]
    exposure.conditions = values["conditions"]
    exposure.deciders = values["deciders"]
    exposure.forwarded = get("forwarded", _FORWARDED)
    exposure.nat_targets = get("nat_targets", _NAT_TARGETS)
    exposure.nat_ports = get("nat_ports", _NAT_PORTS)
    exposure.via = get("via", _VIA)
    exposure.routed = get("routed", _ROUTED)
    exposure.destinations = get("destinations", _DESTINATIONS)
    exposure.out_interfaces = get("out_interfaces", _OUT_INTERFACES)
    exposure.__class__ = Exposure
    return exposure


def alone_exposure(family: Family, protocol: int, ports: iv.Ranges, reach: str, sources: iv.Ranges,
                   interfaces: frozenset[str], possible: bool, conditions: tuple[str, ...],
                   deciders: tuple[Decider, ...], forwarded: bool, nat_targets: tuple[str, ...],
                   nat_ports: iv.Ranges | None, via: tuple[Decider, ...]) -> Exposure:
    """``Exposure(...)`` of these fields (the routed ones left at their defaults), as the
    constructor makes it but with one plain store a field (tests/engine/test_alone_causes.py
    compares the two)."""
    exposure = EXPOSURE_BUILDER()
    exposure.family = family
    exposure.protocol = protocol
    exposure.ports = ports
    exposure.reach = reach
    exposure.sources = sources
    exposure.interfaces = interfaces
    exposure.possible = possible
    exposure.conditions = conditions
    exposure.deciders = deciders
    exposure.forwarded = forwarded
    exposure.nat_targets = nat_targets
    exposure.nat_ports = nat_ports
    exposure.via = via
    exposure.routed, exposure.destinations, exposure.out_interfaces = _ALONE_TAIL
    exposure.__class__ = Exposure
    return exposure


def _protocols_of(splits: dict, proto: iv.Ranges) -> list[tuple[int, bool]]:
    """_protocol_split of ``proto``, remembered in ``splits`` (a few protocol lists, asked per box)."""
    found = splits.get(proto)
    if found is None:
        found = splits[proto] = _protocol_split(proto)
    return found


def _protocol_split(proto: iv.Ranges) -> list[tuple[int, bool]]:
    """Protocols worth reporting one by one: the port protocols, then -1 for 'the others'."""
    out = [(p, True) for p in sorted(PORT_PROTOCOLS) if iv.contains(proto, p)]
    others = iv.subtract(proto, tuple((p, p) for p in sorted(PORT_PROTOCOLS)))
    if others:
        if iv.size(others) == 1:
            out.append((others[0][0], False))
        else:
            for lo, hi in others:
                for p in (1, 58):
                    if lo <= p <= hi:
                        out.append((p, False))
            if iv.size(others) > 2:
                out.append((-1, False))
    return out


def _describe_match(match) -> str:
    module = getattr(match, "module", None)
    if module:
        return f"the {module} match"  # an option-less module (-m rpfilter): its name is what was written
    if getattr(match, "direction", None) == "out":
        return f"output interface {' '.join(match.names)}"
    return type(match).__name__


def interfaces_record(interfaces: frozenset[str], all_interfaces: frozenset[str]) -> list[str] | dict:
    """The input interfaces of an exposure for JSON, exactly: a sorted list of names, or
    ``{"all_but": [names]}`` when the interfaces no rule names are in.

    A name ending in ``+`` stands for the interfaces it matches that no longer name of the
    ruleset (``interface_classes`` in the output) is more precise about: every interface
    belongs to the most precise of them (``eth0`` to ``eth0``, ``eth7`` to ``eth+``)."""
    from linter.engine.universe import describe_interface

    if OTHER_IFACE in interfaces:
        return {"all_but": sorted(describe_interface(i) for i in all_interfaces - interfaces)}
    return sorted(describe_interface(i) for i in interfaces)


def destinations_text(exposure: Exposure, at_most: int = 3) -> str:
    """A routed exposure's destinations in words: 'any address' when every routable one, else
    the first ``at_most`` prefixes or ranges ('10.1.0.0/16', '10.1.0.0/16, 10.3.0.0/16 and 2 more')."""
    from linter.engine.universe import loopback_ranges

    everything = iv.subtract(iv.full(family_max(exposure.family)), loopback_ranges(exposure.family))
    if exposure.destinations == everything:
        return "any address"
    texts = [format_range(exposure.family, lo, hi) for lo, hi in exposure.destinations[:at_most]]
    more = len(exposure.destinations) - at_most
    return ", ".join(texts) + (f" and {more} more" if more > 0 else "")


def routed_text(exposure: Exposure) -> str:
    """What a finding adds to its reach for a routed exposure: 'routed to 10.1.0.0/16 through
    FORWARD' (empty for the local path)."""
    if not exposure.routed:
        return ""
    return f"routed to {destinations_text(exposure)} through FORWARD"
