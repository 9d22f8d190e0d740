"""Sanity checks for rules/registry/ports.yaml (stdlib + PyYAML only)."""
from pathlib import Path

import pytest
import yaml

REGISTRY = Path(__file__).resolve().parents[1] / "rules/registry/ports.yaml"

KEYS = ["name", "ports", "transports", "description", "category", "plaintext",
        "alternative", "risk", "why", "references"]
TRANSPORTS = {"tcp", "udp", "sctp"}
RISKS = {"critical", "high", "medium", "low", "none"}
CATEGORIES = {
    "remote-admin", "remote-desktop", "file-sharing", "database", "cache",
    "mail", "web", "directory", "monitoring", "messaging", "container-api",
    "orchestration", "backdoor", "dns", "time", "voip", "vpn", "printing",
    "network-management", "discovery", "industrial", "game", "media", "proxy",
    "development", "other",
}


def parse_ports(spec):
    """'80' / '6000-6063' / '137-139,445' -> list of (lo, hi)."""
    assert isinstance(spec, str), f"ports must be a quoted string: {spec!r}"
    out = []
    for part in spec.split(","):
        part = part.strip()
        lo, sep, hi = part.partition("-")
        assert lo.isdigit() and (not sep or hi.isdigit()), f"bad port spec {spec!r}"
        lo, hi = int(lo), int(hi) if sep else int(lo)
        assert 1 <= lo <= hi <= 65535, f"port out of range or reversed: {spec!r}"
        out.append((lo, hi))
    return out


@pytest.fixture(scope="module")
def entries():
    data = yaml.safe_load(REGISTRY.read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def lookup(entries, port, transport):
    for e in entries:
        if transport in e["transports"]:
            if any(lo <= port <= hi for lo, hi in parse_ports(e["ports"])):
                return e
    raise AssertionError(f"no entry for {port}/{transport}")


def test_entry_count(entries):
    assert len(entries) >= 150


def test_keys_and_enums(entries):
    for e in entries:
        keys = [k for k in e if k != "finding"]
        assert keys == KEYS, f"{e.get('name')}: keys {list(e)}"
        assert e.get("finding", "plaintext") in ("plaintext", "risky"), name if "name" in e else e
        name = e["name"]
        assert isinstance(name, str) and name == name.lower() and name
        assert e["transports"] and set(e["transports"]) <= TRANSPORTS, name
        assert len(set(e["transports"])) == len(e["transports"]), name
        assert e["category"] in CATEGORIES, name
        assert e["risk"] in RISKS, name
        assert isinstance(e["plaintext"], bool), name
        assert isinstance(e["description"], str) and e["description"].strip(), name
        assert isinstance(e["why"], str) and e["why"].strip(), name
        assert isinstance(e["references"], list), name
        assert all(isinstance(r, str) and r for r in e["references"]), name
        assert e["alternative"] is None or isinstance(e["alternative"], str), name


def test_ports_parse(entries):
    for e in entries:
        parse_ports(e["ports"])


def test_unique_names(entries):
    names = [e["name"] for e in entries]
    dups = sorted({n for n in names if names.count(n) > 1})
    assert not dups, dups


def test_no_port_transport_overlap(entries):
    owner = {}
    clashes = []
    for e in entries:
        for t in e["transports"]:
            for lo, hi in parse_ports(e["ports"]):
                for p in range(lo, hi + 1):
                    prev = owner.setdefault((p, t), e["name"])
                    if prev != e["name"]:
                        clashes.append(f"{p}/{t}: {prev} vs {e['name']}")
    assert not clashes, clashes[:20]


def test_no_self_overlap(entries):
    for e in entries:
        ranges = sorted(parse_ports(e["ports"]))
        for (a_lo, a_hi), (b_lo, b_hi) in zip(ranges, ranges[1:]):
            assert a_hi < b_lo, f"{e['name']}: overlapping parts in {e['ports']!r}"


def test_plaintext_has_alternative(entries):
    for e in entries:
        if e["plaintext"]:
            assert e["alternative"] and e["alternative"].strip(), e["name"]


@pytest.mark.parametrize("port,transport,risk", [
    (23, "tcp", "critical"),
    (445, "tcp", "critical"),
    (443, "tcp", "none"),
    (2375, "tcp", "critical"),
])
def test_key_risks(entries, port, transport, risk):
    assert lookup(entries, port, transport)["risk"] == risk


def test_telnet_plaintext(entries):
    assert lookup(entries, 23, "tcp")["plaintext"] is True


@pytest.mark.parametrize("port,transport,wanted", [
    (23, "tcp", ["22"]),
    (21, "tcp", ["990", "sftp"]),
    (110, "tcp", ["995"]),
    (143, "tcp", ["993"]),
    (389, "tcp", ["636"]),
    (2375, "tcp", ["2376"]),
    (1883, "tcp", ["8883"]),
    (5060, "udp", ["5061"]),
    (5060, "tcp", ["5061"]),
])
def test_alternatives(entries, port, transport, wanted):
    alt = lookup(entries, port, transport)["alternative"] or ""
    assert any(w in alt for w in wanted), f"{port}/{transport}: {alt!r}"
