"""engine/portblocks.py: many sources' holes cut out of a box with a long port list by
blocks of that list give exactly the space that cutting them source by source gives."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine.portblocks import cut_by_blocks, worth_blocks  # noqa: E402
from linter.engine.shadow import universe  # noqa: E402
from linter.engine.space import split_rule, with_dport  # noqa: E402
from linter.engine.walk import chain_named  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

# Sources with holes: two in one block of the list, one with ports in two blocks, one at a
# port the list does not hold, one at a port below the list's first range.
HOLES = {"198.51.1.0/24": (101,), "198.51.2.0/24": (106, 111), "198.51.3.0/24": (1201, 1801),
         "198.51.4.0/24": (1500,), "198.51.5.0/24": (3,)}
PORTS = iv.subtract(((10, 1999),), tuple((port, port) for port in range(10, 2000, 5)))  # 1,990 ports, 398 ranges


def _entries():
    text = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:user - [0:0]\n"
    for net, ports in HOLES.items():
        text += "".join(f"-A user -s {net} -p tcp -m tcp --dport {port} -j ACCEPT\n" for port in ports)
    chain = chain_named(ruleset(text + "COMMIT\n").tables[0], "user")
    entries, at = [], 0
    for ports in HOLES.values():
        rules = chain.rules[at:at + len(ports)]
        at += len(ports)
        entries.append((rules[0].matches[0].addresses.ranges, rules, set(ports)))
    return entries


def _by_source(box, met, entries):
    out = []
    for number in sorted(met):
        parts = [box._replace(src=iv.normalize(tuple(met[number])))]
        for rule in entries[number][1]:
            parts = [piece for part in parts for piece in split_rule(part, rule.matches, rule, False, False)[1]]
        out.extend(parts)
    return out


def _points(boxes, sources):
    """Every (protocol, source, port) the boxes hold, at one address per source and the ports up to 2,000."""
    found = []
    for box in boxes:
        for proto in (6, 17):
            if not iv.contains(box.proto, proto):
                continue
            for address in sources:
                if iv.contains(box.src, address):
                    found.extend((proto, address, port) for port in range(2000) if iv.contains(box.dport, port))
    return found


def test_blocks_give_the_space_source_by_source_gives_each_point_once():
    entries = _entries()
    box = with_dport(universe(Family.IPV4, frozenset({"eth0"}))[0], PORTS)
    met = {number: list(entry[0]) for number, entry in enumerate(entries)}
    assert worth_blocks(PORTS, len(met))
    blocks = cut_by_blocks(box, met, entries, False, False, {})
    sources = [entry[0][0][0] + 9 for entry in entries]
    points = _points(blocks, sources)
    assert len(points) == len(set(points))  # the parts do not overlap
    assert sorted(points) == sorted(_points(_by_source(box, met, entries), sources))
    held = {(6, entry[0][0][0] + 9, port) for entry in entries for port in entry[2] if iv.contains(PORTS, port)}
    assert held and not held & set(points)  # every hole the list holds is cut out
    assert (17, sources[0], 101) in set(points)  # the hole is tcp's only


def test_sources_with_holes_in_one_block_share_their_far_ports():
    entries = _entries()
    box = with_dport(universe(Family.IPV4, frozenset({"eth0"}))[0], PORTS)
    met = {number: list(entry[0]) for number, entry in enumerate(entries)}
    parts = cut_by_blocks(box, met, entries, False, False, {})
    long_lists = {id(part.dport) for part in parts if len(part.dport) > 100}
    # One far list per group of blocks (198.51.1 and .2 share theirs; .5 keeps the whole list),
    # every source's own list is a block or two long.
    assert len(long_lists) == 4
    assert max(len(part.dport) for part in parts if len(part.dport) <= 100) <= 2 * 32 + 2
