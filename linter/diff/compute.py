"""The difference of two rulesets' accepted spaces.

Each side is summarised by the engine (``ExposureAnalysis``: exact products of interfaces ×
ports × sources per family, protocol and reach); both sides are read with the same interface
representatives, so a part of the space means the same on both. Per kind of reach and per
interface, the sources are cut at every boundary either side has, and on each piece the ports
one side accepts are subtracted from the other's: the result does not depend on how either
side's rules happen to split the space (a reordered chain gives nothing)."""

from __future__ import annotations

import dataclasses
import heapq
from collections import defaultdict

from linter.diff.model import Change, Diff
from linter.engine import intervals as iv
from linter.engine.exposure import Decider, Exposure, ExposureAnalysis, NetworkClasses
from linter.findings import Severity
from linter.netdb import protocol_name

PORTLESS = ((0, 0),)
# Reaches told apart by the sources alone, compared as one: the engine counts public sources
# as private when the destination is private, which depends on how the rules split the
# destinations; the diff compares sources and says again which are public (_by_class).
OUTSIDE = ("internet", "restricted", "private")  # the port dimension of protocols without ports (icmp...): one point


def analyse(rulesets: list, shared: ExposureAnalysis, classes: NetworkClasses | None = None) -> ExposureAnalysis:
    """One side's analysis, reading the host as ``shared`` (both sides' rules) does: the same
    interface representatives, interface roles and host addresses. What a side's rules reveal
    about the host (an interface facing the internet, an address) is true of the other side
    too, and reading them apart would report a MASQUERADE added as everything else's reach
    changing."""
    analysis = ExposureAnalysis(rulesets, classes, loopback=False)
    # Read lazily by results() and _summarise(): set before any evaluation.
    analysis.interfaces = shared.interfaces
    analysis.roles = shared.roles
    analysis.host_addresses = shared.host_addresses
    return analysis


def compute_diff(old: list, new: list, classes: NetworkClasses | None = None, registry=None) -> Diff:
    """What ``new`` accepts that ``old`` does not (opened) and the reverse (closed)."""
    from linter.ports import default_registry

    registry = registry or default_registry()
    shared = ExposureAnalysis(list(old) + list(new), classes, loopback=False)  # never evaluated
    sides = (analyse(old, shared, classes), analyse(new, shared, classes))
    groups: dict[tuple, tuple[list, list]] = defaultdict(lambda: ([], []))
    for index, analysis in enumerate(sides):
        for entry in analysis.exposures() + analysis.routed_exposures():
            groups[_key(entry)][index].append(entry)
    opened: list[Change] = []
    closed: list[Change] = []
    for key in sorted(groups, key=repr):
        before, after = groups[key]
        for part, accepted_by in _by_class(_difference(after, before), classes):
            opened.append(_change("opened", part, accepted_by, sides[0], True, registry))
        for part, accepted_by in _by_class(_difference(before, after), classes):
            closed.append(_change("closed", part, accepted_by, sides[1], False, registry))
    order = lambda c: (-c.severity, c.exposure.family.value, c.exposure.protocol, c.exposure.ports,
                       c.exposure.reach, c.exposure.sources)
    return Diff(tuple(sorted(opened, key=order)), tuple(sorted(closed, key=order)))


def _key(entry: Exposure) -> tuple:
    """What must be equal for two entries to describe the same kind of space. Not the DNAT
    targets: they are a text summary of the destinations after NAT, grouped however the rules
    split the space (one REDIRECT reads as one target, or as four after a rule on the way cut
    the destinations), so two sides accepting the same space could differ in them. Nor the
    routed destinations: a dimension of the space like sources (_difference cuts them)."""
    outside = "outside" if entry.reach in OUTSIDE else entry.reach
    return (entry.family, entry.protocol, outside, entry.possible, entry.forwarded, entry.nat_ports, entry.routed)


def _ports(entry: Exposure) -> iv.Ranges:
    return entry.ports or PORTLESS


def _difference(minuend: list[Exposure], subtrahend: list[Exposure]) -> list[tuple[Exposure, list[Exposure]]]:
    """The parts of ``minuend``'s space that ``subtrahend``'s does not hold, as exact products,
    each with the entries of ``minuend`` it overlaps."""
    if not minuend:
        return []
    by_interface: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for index, entries in enumerate((minuend, subtrahend)):
        for entry in entries:
            for name in entry.interfaces:
                by_interface[name][index].append(entry)
    by_destinations: dict[tuple, iv.Ranges] = {}  # (interface, ports, sources) -> routed destinations
    for name, (mine, theirs) in by_interface.items():
        if not mine:
            continue
        for destinations, mine_at, theirs_at in _destination_pieces(mine, theirs):
            for ports, sources in _subtract_products(mine_at, theirs_at):
                key = (name, ports, sources)
                by_destinations[key] = iv.union(by_destinations.get(key, ()), destinations)
    products: dict[tuple, set[str]] = defaultdict(set)
    for (name, ports, sources), destinations in by_destinations.items():
        products[(ports, sources, destinations)].add(name)
    found = []
    for (ports, sources, destinations), names in products.items():
        names = frozenset(names)
        overlapping = [e for e in minuend if e.interfaces & names and iv.intersect(_ports(e), ports)
                       and iv.intersect(e.sources, sources)
                       and (not destinations or iv.intersect(e.destinations, destinations))]
        sample = overlapping[0]
        deciders = tuple(dict.fromkeys(d for e in overlapping for d in e.deciders))
        targets = tuple(dict.fromkeys(t for e in overlapping for t in e.nat_targets))
        out = frozenset().union(*(e.out_interfaces for e in overlapping))
        part = dataclasses.replace(sample, ports=() if sample.ports == () else ports, sources=sources,
                                   interfaces=names, deciders=deciders, nat_targets=targets,
                                   destinations=destinations, out_interfaces=out)
        found.append((part, overlapping))
    return found


def _destination_pieces(mine: list[Exposure], theirs: list[Exposure]):
    """(destinations, mine there, theirs there) for each piece of the routed destinations both
    sides' boundaries cut; one piece of no destinations for the local path."""
    if not any(e.destinations for e in mine + theirs):
        yield (), mine, theirs
        return
    bounds = sorted({b for e in mine + theirs for lo, hi in e.destinations for b in (lo, hi + 1)})
    for lo, nxt in zip(bounds, bounds[1:]):
        mine_at = [e for e in mine if iv.contains(e.destinations, lo)]
        if mine_at:
            yield ((lo, nxt - 1),), mine_at, [e for e in theirs if iv.contains(e.destinations, lo)]


def _by_class(parts: list, classes: NetworkClasses | None) -> list:
    """Parts from outside split by source class: public sources are the internet (all of
    them) or restricted (some), private ones private."""
    classes = classes or NetworkClasses()
    found = []
    for part, accepted_by in parts:
        if part.reach not in OUTSIDE:
            found.append((part, accepted_by))
            continue
        (_, public), (_, private) = classes.classes(part.family)
        for reach, ranges in (("public", iv.intersect(part.sources, public)),
                              ("private", iv.intersect(part.sources, private))):
            if ranges:
                if reach == "public":
                    reach = "internet" if ranges == public else "restricted"
                found.append((dataclasses.replace(part, reach=reach, sources=ranges), accepted_by))
    return found


def _subtract_products(mine: list[Exposure], theirs: list[Exposure]) -> list[tuple[iv.Ranges, iv.Ranges]]:
    """(ports, sources) products covering exactly mine minus theirs (one interface's entries)."""
    # An entry the other side has as it is adds nothing to the difference (two sides mostly
    # agree: a Kubernetes node's thousands of entries would otherwise meet at every boundary).
    same = {(_ports(e), e.sources) for e in theirs}
    mine = [e for e in mine if (_ports(e), e.sources) not in same]
    if not mine:
        return []
    my_ports = my_sources = ()
    for entry in mine:
        my_ports, my_sources = iv.union(my_ports, _ports(entry)), iv.union(my_sources, entry.sources)
    theirs = [e for e in theirs if iv.intersect(_ports(e), my_ports) and iv.intersect(e.sources, my_sources)]
    # One sweep over the sources' bounds, keeping how many entries of each side hold each port
    # set there: asking every entry at every bound was entries x bounds (a ufw host's "everyone
    # but the denied networks" entries: 43 s at 3,000 user rules). The bounds are merged from
    # each entry's own sorted list, never all held at once (millions of them on such a host).
    port_sets: dict[iv.Ranges, int] = {}  # each distinct port set numbered (hashed once an entry)
    streams = []
    for side, entries in ((0, mine), (1, theirs)):
        for entry in entries:
            streams.append(_bounds(entry.sources, side, port_sets.setdefault(_ports(entry), len(port_sets))))
    numbered = list(port_sets)
    held: tuple[dict[int, int], dict[int, int]] = ({}, {})
    left_for: dict[tuple[frozenset, frozenset], iv.Ranges] = {}
    by_ports: dict[iv.Ranges, iv.Ranges] = {}
    at = None
    for bound, side, number, step in heapq.merge(*streams):
        if bound != at:
            if at is not None and held[0]:
                # [at, bound - 1]: what held holds now is what every source there meets.
                key = (frozenset(held[0]), frozenset(held[1]))
                left = left_for.get(key)
                if left is None:
                    left = left_for[key] = iv.subtract(iv.normalize(iv.joined([numbered[n] for n in held[0]])),
                                                       iv.normalize(iv.joined([numbered[n] for n in held[1]])))
                if left:
                    by_ports[left] = iv.union(by_ports.get(left, ()), ((at, bound - 1),))
            at = bound
        count = held[side].get(number, 0) + step
        if count:
            held[side][number] = count
        else:
            del held[side][number]
    return [(ports, sources) for ports, sources in by_ports.items()]


def _bounds(sources: iv.Ranges, side: int, number: int):
    """Where an entry's sources start (+1) and stop (-1), in order."""
    for lo, hi in sources:
        yield lo, side, number, 1
        yield hi + 1, side, number, -1


def _change(kind: str, part: Exposure, accepted_by: list, other: ExposureAnalysis, opened: bool, registry) -> Change:
    deciders = part.deciders
    elsewhere = _decider_at(other, part)
    before, after = (elsewhere, deciders) if opened else (deciders, elsewhere)
    services, severity, code = rate(part, registry)
    return Change(kind, part, services, severity, before, after, code)


def _decider_at(analysis: ExposureAnalysis, part: Exposure) -> tuple[Decider, ...]:
    """The rule or policy that decides one packet of ``part`` on the other side (the lowest
    port and source of the part, on one of its interfaces): what dropped what is now accepted."""
    from linter.engine.exposure import decider_of
    from linter.engine.walk import unpruned

    if part.protocol < 0:
        return ()
    port = (part.ports or PORTLESS)[0][0]
    source = part.sources[0][0] if part.sources else None
    name = min(part.interfaces)
    destination = part.destinations[0][0] if part.routed and part.destinations else None
    results = analysis.routed_results(part.family) if part.routed else analysis.results(part.family)
    def holds(box) -> bool:
        return (iv.contains(box.proto, part.protocol) and name in box.iif
                and (source is None or iv.contains(box.src, source))
                and (not part.ports or iv.contains(box.dport, port))
                and (destination is None or iv.contains(box.dst, destination)))

    for result in sorted(results, key=lambda r: r.box.possible):
        if not holds(result.box):
            continue
        # A part dropped at once by the accept hull (engine/hull.py) is walked again, so the
        # rule or policy that really drops it is named.
        for box, _ in unpruned(result.box, result.verdict):
            if not holds(box):
                continue
            for step in reversed(box.trail):
                if step.event in ("rule", "policy") and (step.rule is not None or step.event == "policy"):
                    return (decider_of(step.rule, step.chain, step.table, step.chain.hook),)
            return ()
        return ()
    return ()


def rate(part: Exposure, registry) -> tuple[tuple[str, ...], Severity, str]:
    """The registry's services in ``part`` and its severity, calibrated on reach as checks do:
    a service by its registry severity; ports no service explains by the rule a check would
    report them with (a default accept PL401, a range PL202, a single port PL210)."""
    from linter.checks.causes import MOST_OF_THE_PORTS, RANGE_AT_LEAST, calibrated, reach_level, service_ports
    from linter.checks.common import registry_severity
    from linter.rulebook import get_rule

    transport = protocol_name(part.protocol) if part.protocol >= 0 else "other"
    # Private networks are judged like an internal interface: checks report public reach only.
    level = "internal" if part.reach in ("private", "internal") else reach_level(part)
    ports = service_ports(part)
    width = iv.size(ports) if ports else 0
    if transport not in ("tcp", "udp", "sctp") or not ports:
        return (), calibrated(get_rule("PL401").severity, level), "PL401"
    found = registry.overlapping(ports, transport) if width <= 1024 else []
    names = tuple(entry.name for entry, _ in found)
    if width >= MOST_OF_THE_PORTS:
        code = "PL401"
    elif width >= RANGE_AT_LEAST:
        code = "PL202"
    else:
        code = "PL210"
    rated = [(calibrated(registry_severity(entry), level), entry) for entry, _ in found if entry.severity is not None]
    severity = calibrated(get_rule(code).severity, level)
    if rated:
        worst, entry = max(rated, key=lambda item: item[0])
        if code == "PL210" or worst >= severity:  # a named service is judged as itself
            plaintext = entry.finding == "plaintext" or (entry.finding is None and entry.plaintext)
            severity, code = worst, "PL101" if plaintext else "PL201"
    return names, Severity(severity), code
