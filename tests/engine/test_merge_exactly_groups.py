"""merge_exactly keeps a cause's first single-interface entry as it is, making its
per-interface dict only when the cause is met again: the same entries out, in the same order,
as grouping every entry by interface from the start (the reference below)."""

from __future__ import annotations

import random
from types import SimpleNamespace

from linter.engine import exposure, merge_exact
from linter.engine.held_sources import unheld


def _grouped_from_the_start(entries: list[dict]) -> list[dict]:
    """merge_exactly as it was: every cause a dict of interfaces to lists of entries."""
    dimensions = ("ports", "sources")
    groups: dict = {}
    for entry in entries:
        per_interface = groups.setdefault(merge_exact.merge_key(entry), {})
        if len(entry["interfaces"]) == 1:
            iface, = entry["interfaces"]
            per_interface.setdefault(iface, []).append(entry)
            continue
        for iface in entry["interfaces"]:
            per_interface.setdefault(iface, []).append(dict(entry, interfaces=frozenset({iface})))
    out = []
    for per_interface in groups.values():
        if len(per_interface) == 1:
            members, = per_interface.values()
            out.extend(members if len(members) == 1 else merge_exact._merge_one_interface(unheld(members), dimensions))
            continue
        grouped: dict = {}
        for iface in sorted(per_interface):
            for entry in merge_exact._merge_one_interface(unheld(per_interface[iface]), dimensions):
                product = tuple(entry[d] for d in dimensions)
                same = grouped.get(product)
                if same is None:
                    grouped[product] = (entry, [iface])
                else:
                    same[1].append(iface)
                    merge_exact._unite_nat_ports(same[0], entry)
        for entry, ifaces in grouped.values():
            if len(ifaces) > 1:
                entry["interfaces"] = frozenset(ifaces)
            out.append(entry)
    return out


def _entries(rng: random.Random) -> list[dict]:
    spans = [SimpleNamespace(span=object()) for _ in range(4)]
    made = []
    for _ in range(rng.randint(1, 30)):
        lo = rng.choice([22, 80, 443, 8000])
        made.append(dict(
            family="ipv4", protocol=6, ports=((lo, lo + rng.choice([0, 0, 9])),), reach=rng.choice(["public", "private"]),
            sources=((rng.choice([0, 10, 20]), rng.choice([30, 40])),),
            interfaces=frozenset(rng.sample(["eth0", "eth1", "wg0"], rng.choice([1, 1, 1, 2, 3]))),
            possible=True, conditions=(), deciders=(rng.choice(spans),), forwarded=False,
            nat_targets=None, nat_ports=None, via=()))
    return made


def test_merge_exactly_equals_grouping_every_entry_from_the_start():
    rng = random.Random(10)
    for _ in range(3000):
        entries = _entries(rng)
        copies = [dict(entry) for entry in entries]
        got = exposure.merge_exactly(entries)
        expected = _grouped_from_the_start(copies)
        assert got == expected


class _OneHash:
    """A merge key whose hash every other one shares (two causes of one hash: a collision)."""

    def __init__(self, key):
        self.key = key

    def __hash__(self):
        return 7

    def __eq__(self, other):
        return isinstance(other, _OneHash) and self.key == other.key


def test_merge_exactly_groups_by_keys_where_two_causes_share_a_hash(monkeypatch):
    real = merge_exact.merge_key
    rng = random.Random(11)
    for _ in range(1500):
        entries = _entries(rng)
        copies = [dict(entry) for entry in entries]
        monkeypatch.setattr(merge_exact, "merge_key", lambda entry: _OneHash(real(entry)))
        got = exposure.merge_exactly(entries)
        monkeypatch.setattr(merge_exact, "merge_key", real)
        assert got == _grouped_from_the_start(copies)
