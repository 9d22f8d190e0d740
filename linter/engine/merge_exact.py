"""The exposure summary's merge of entries of one cause (ExposureAnalysis._summarise), exact.

Each entry is a product (interfaces x ports x sources); two entries of one cause are merged only
when two of those are equal, the third united: a product of unions would be bigger than the
union of the products.

Entries are told apart by cause with the hash of their key, not the key: ufw's 100,000 user
rules leave ~77,000 causes of one entry each, and a 9-field key (with two tuples of spans)
kept for each was ~19 MB under the summary's top. A key is kept only for a cause met twice, to
tell a second cause of the same hash (a collision) from the first: then the entries are grouped
by their keys, as without the hashes.
"""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.held_sources import unheld


def merge_key(entry: dict) -> tuple:
    """What entries merge_exactly may merge share: everything but interfaces, ports and sources."""
    return (entry["family"], entry["protocol"], entry["reach"], entry["possible"], entry["conditions"],
            tuple([d.span for d in entry["deciders"]]), tuple([d.span for d in entry["via"]]),
            entry.get("forwarded", False), entry.get("nat_targets", ()))


def merge_exactly(entries: list[dict], routed: bool = False) -> list[dict]:
    """Entries of one cause merged without rounding up: two are merged only when two of their
    dimensions are equal, the third united; the causes in the order of their first entries.

    ``entries`` come one per interface (which interfaces share a box depends on how the rules
    split the space, what each interface lets in does not). Per interface, entries with equal
    ports unite their sources and entries with equal sources their ports, until nothing
    changes; then interfaces with equal ports and sources are grouped. Each round is one pass
    of dictionary look-ups: linear in the number of entries. The entries are the caller's no
    more: those of one interface are merged in place, not copied.
    """
    dimensions = ("ports", "sources", "destinations") if routed else ("ports", "sources")
    # hash of a cause's key -> its one entry (a dict), or [key, its entries...] once met again
    causes: dict[int, dict | list] = {}
    for entry in entries:
        key = merge_key(entry)
        at = hash(key)
        found = causes.get(at)
        if found is None:
            causes[at] = entry
        elif type(found) is list:
            if key != found[0]:
                return _merge_by_keys(entries, dimensions)  # two causes of one hash
            found.append(entry)
        else:
            first_key = merge_key(found)
            if key != first_key:
                return _merge_by_keys(entries, dimensions)
            causes[at] = [first_key, found, entry]
    out: list[dict] = []
    for found in causes.values():
        if type(found) is not list:
            if len(found["interfaces"]) == 1:
                out.append(found)  # one cause, one entry: nothing to merge (an allow-list rule)
                continue
            _merge_cause([found], dimensions, out)
        else:
            del found[0]  # (the key)
            _merge_cause(found, dimensions, out)
    return out


def _merge_by_keys(entries: list[dict], dimensions: tuple[str, ...]) -> list[dict]:
    """merge_exactly with the entries grouped by their keys themselves (where two keys share a
    hash): the same causes in the same order."""
    groups: dict[tuple, list[dict]] = {}
    for entry in entries:
        groups.setdefault(merge_key(entry), []).append(entry)
    out: list[dict] = []
    for members in groups.values():
        if len(members) == 1 and len(members[0]["interfaces"]) == 1:
            out.append(members[0])
        else:
            _merge_cause(members, dimensions, out)
    return out


def _merge_cause(members: list[dict], dimensions: tuple[str, ...], out: list[dict]) -> None:
    """The entries of one cause (``members``, in order) merged, appended to ``out``."""
    per_interface: dict[str, list[dict]] = {}
    for entry in members:
        if len(entry["interfaces"]) == 1:
            iface, = entry["interfaces"]
            same = per_interface.get(iface)
            if same is None:
                per_interface[iface] = [entry]
            else:
                same.append(entry)
            continue
        for iface in entry["interfaces"]:
            per_interface.setdefault(iface, []).append(dict(entry, interfaces=frozenset({iface})))
    if len(per_interface) == 1:
        # One interface: nothing to group (and keying its entries by their products hashed
        # every long source list, ufw's allow-port rules one each: quadratic).
        only, = per_interface.values()
        if len(only) == 1:
            out.append(only[0])  # one cause: nothing to merge (an allow-list rule)
        else:
            out.extend(_merge_one_interface(unheld(only), dimensions))
        return
    grouped: dict[tuple, tuple[dict, list[str]]] = {}
    for iface in sorted(per_interface):
        for entry in _merge_one_interface(unheld(per_interface[iface]), dimensions):
            product = tuple(entry[d] for d in dimensions)
            same = grouped.get(product)
            if same is None:
                grouped[product] = (entry, [iface])
            else:
                same[1].append(iface)
                _unite_nat_ports(same[0], entry)
    for entry, ifaces in grouped.values():
        if len(ifaces) > 1:
            entry["interfaces"] = frozenset(ifaces)
        out.append(entry)


def _merge_one_interface(entries: list[dict], dimensions: tuple[str, ...]) -> list[dict]:
    """The entries of one interface and cause, each dimension united where the others are
    equal, until a round over every dimension changes nothing."""
    if len(entries) == 1:
        return entries
    stable = 0
    turn = 0
    while stable < len(dimensions):
        united = dimensions[turn % len(dimensions)]
        others = tuple(d for d in dimensions if d != united)
        turn += 1
        by_key: dict = {}
        for entry in entries:
            key = tuple(entry[d] for d in others)
            same = by_key.get(key)
            if same is None:
                by_key[key] = entry
            else:
                same[united] = iv.union(same[united], entry[united])
                _unite_nat_ports(same, entry)
        stable = stable + 1 if len(by_key) == len(entries) else 0
        entries = list(by_key.values())
        if len(entries) == 1:
            break
    return entries


def _unite_nat_ports(into: dict, entry: dict) -> None:
    if entry.get("nat_ports") is not None:
        into["nat_ports"] = iv.union(into.get("nat_ports") or (), entry["nat_ports"])
    if "out_interfaces" in entry and into is not entry:
        into["out_interfaces"] = into["out_interfaces"] | entry["out_interfaces"]
