"""`portlint exposure --format json` is as exact as `trace`: on random rulesets, every probe
(source, protocol, port, input interface) that trace accepts lies in exactly one entry of its
reach, and no probe trace rejects or drops lies in any entry.

The rulesets come from the kernel test's generator, without what exposure projects away (it
reports sources, ports and interfaces, not destinations or source ports): the nat table, -d,
--dst-range, --ctorigdst, --dst-type and --sport matches are taken out, so every probe's destination and
source port stand for all of them.

Routed exposure (FORWARD) is held against `trace --forward` the same way, on the same rulesets
with their filter INPUT and FORWARD chains swapped; there destinations are reported exactly,
so -d and --dst-range stay and the probes try several destinations.
"""

from __future__ import annotations

import ipaddress
import json
import re

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.iptables.save import parse
from linter.source import SourceFile
from tests.kernel.generator import PORT_POOL, generate_ruleset

SOURCES = ("10.1.2.3", "10.20.3.4", "10.99.0.2", "192.168.77.2", "192.168.10.5", "172.16.5.2", "100.64.1.1",
           "203.0.113.50", "203.0.113.66", "203.0.113.7", "198.51.100.9", "192.0.2.99", "8.8.8.8", "200.1.1.1")
PORTS = tuple(sorted(set(PORT_POOL) | {1, 23, 65535}))
INTERFACES = ("eth0", "eth1", "eth7", "eth01", "e9", "plk0", "wlan0")
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")]

_DESTINATION = [
    re.compile(r"(! )?-d \S+ ?"),
    re.compile(r"-m iprange (! )?--dst-range \S+ ?"),
    re.compile(r"-m addrtype (! )?--dst-type \S+ ?"),
]
_SOURCE_PORT = [
    re.compile(r"-m conntrack (! )?--ctorigdst \S+ ?"),
    re.compile(r"-m multiport (! )?--sports \S+ ?"),
    re.compile(r"(! )?--sport \S+ ?"),
]


def projectable(text: str, routed: bool = False) -> str:
    """The generated ruleset without its nat table and source-port matches, and without
    destination matches unless ``routed`` (then its INPUT and FORWARD chains swap names)."""
    text = re.sub(r"\*nat\n.*?COMMIT\n", "", text, flags=re.S)
    patterns = _SOURCE_PORT if routed else _DESTINATION + _SOURCE_PORT
    lines = []
    for line in text.splitlines():
        if line.startswith("-A "):
            for pattern in patterns:
                line = pattern.sub("", line)
        if routed:
            line = re.sub(r"\b(INPUT|FORWARD)\b", lambda m: "FORWARD" if m.group(1) == "INPUT" else "INPUT", line)
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def _inside_interfaces(record, iface_class: str) -> bool:
    interfaces = record["interfaces"]
    if isinstance(interfaces, dict):
        return iface_class not in interfaces["all_but"]
    return iface_class in interfaces


def _inside(record, ranges, proto: str, port: int, address: int, iface_class: str, dst: int | None = None) -> bool:
    if record["protocol"] != proto or not any(lo <= port <= hi for lo, hi in record["ports"]):
        return False
    if not _inside_interfaces(record, iface_class):
        return False
    if dst is not None and not any(lo <= dst <= hi for lo, hi in ranges[id(record), "destinations"]):
        return False
    return any(lo <= address <= hi for lo, hi in ranges[id(record)])


def _ranges(texts: list[str]) -> list[tuple[int, int]]:
    out = []
    for text in texts:
        if "-" in text:
            lo, hi = text.split("-")
            out.append((int(ipaddress.ip_address(lo)), int(ipaddress.ip_address(hi))))
        else:
            net = ipaddress.ip_network(text)
            out.append((int(net.network_address), int(net.broadcast_address)))
    return out


def _iface_class(iface: str, classes: list[str]) -> str:
    """The interface class (as JSON names it) an interface falls in: its name, else the
    longest wildcard that matches it, else the unnamed rest."""
    if iface in classes:
        return iface
    wild = [c for c in classes if c.endswith("+") and iface.startswith(c[:-1])]
    return max(wild, key=len) if wild else "any"


@pytest.mark.parametrize("seed", range(24))
def test_exposure_json_agrees_with_trace_probe_by_probe(tmp_path, seed):
    text = projectable(generate_ruleset(seed).text)
    path = tmp_path / "rules.v4"
    path.write_text(text)
    result = CliRunner().invoke(main, ["exposure", "--format", "json", str(path)], catch_exceptions=False)
    data = json.loads(result.stdout)
    records = [r for r in data["exposure"] if r["family"] == "ipv4" and not r["possible"]]
    assert not [r for r in data["exposure"] if r["possible"]], "the generator only writes modelled matches"
    sources: dict = {id(r): _ranges(r["sources"]) for r in records}
    classes = data["interface_classes"]
    roles = {r["interface"]: r["role"] for r in data["interfaces"]}
    ruleset = parse(SourceFile(str(path), text)).document
    checked = accepted = 0
    for iface in INTERFACES:
        iface_class = _iface_class(iface, classes)
        for src in SOURCES:
            address = int(ipaddress.ip_address(src))
            private = any(ipaddress.ip_address(src) in net for net in PRIVATE)
            if roles.get(iface_class) == "internal":
                reaches = {"internal"}
            else:
                reaches = {"private"} if private else {"internet", "restricted"}
            for proto in ("tcp", "udp"):
                for port in PORTS:
                    verdict = trace_flow(make_flow(src=src, proto=proto, dport=port, iface=iface), [ruleset]).verdict
                    inside = [r for r in records if _inside(r, sources, proto, port, address, iface_class)]
                    probe = (src, proto, port, iface, verdict)
                    checked += 1
                    if verdict == "accept":
                        accepted += 1
                        assert len([r for r in inside if r["reach"] in reaches]) == 1, (probe, inside)
                    else:
                        assert not inside, (probe, inside)
    assert checked == len(INTERFACES) * len(SOURCES) * 2 * len(PORTS)


DESTINATIONS = ("10.99.0.1", "10.98.0.7", "10.97.1.1", "192.0.2.1", "200.1.1.1")


@pytest.mark.parametrize("seed", range(12))
def test_routed_exposure_json_agrees_with_trace_forward_probe_by_probe(tmp_path, seed):
    text = projectable(generate_ruleset(seed).text, routed=True)
    path = tmp_path / "router.v4"
    path.write_text(text)
    result = CliRunner().invoke(main, ["exposure", "--format", "json", str(path)], catch_exceptions=False)
    data = json.loads(result.stdout)
    records = [r for r in data["exposure"] if r["routed"]]
    assert not [r for r in records if r["possible"]], "routed exposure takes opaque matches as not matching"
    ranges = {id(r): _ranges(r["sources"]) for r in records}
    ranges.update({(id(r), "destinations"): _ranges(r["destinations"]) for r in records})
    classes = data["interface_classes"]
    roles = {r["interface"]: r["role"] for r in data["interfaces"]}
    ruleset = parse(SourceFile(str(path), text)).document
    accepted = 0
    for iface in INTERFACES[:5]:
        iface_class = _iface_class(iface, classes)
        for src in SOURCES[::2]:
            address = int(ipaddress.ip_address(src))
            private = any(ipaddress.ip_address(src) in net for net in PRIVATE)
            if roles.get(iface_class) == "internal":
                reaches = {"internal"}
            else:
                reaches = {"private"} if private else {"internet", "restricted"}
            for dst in DESTINATIONS:
                dst_address = int(ipaddress.ip_address(dst))
                for proto in ("tcp", "udp"):
                    for port in PORTS[::2]:
                        flow = make_flow(src=src, dst=dst, proto=proto, dport=port, iface=iface, forward=True,
                                         oiface="wlan9")
                        verdict = trace_flow(flow, [ruleset]).verdict
                        inside = [r for r in records
                                  if _inside(r, ranges, proto, port, address, iface_class, dst_address)]
                        probe = (src, dst, proto, port, iface, verdict)
                        if verdict == "accept":
                            accepted += 1
                            assert len([r for r in inside if r["reach"] in reaches]) == 1, (probe, inside)
                            assert all(_inside_interfaces({"interfaces": r["out_interfaces"]}, "any")
                                       for r in inside), (probe, inside)
                        else:
                            assert not inside, (probe, inside)
