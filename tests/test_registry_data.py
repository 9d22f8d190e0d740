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
    """The entry the port number alone names (evidence-only entries are named by comments and images)."""
    for e in entries:
        if transport in e["transports"] and not e.get("evidence_only"):
            if any(lo <= port <= hi for lo, hi in parse_ports(e["ports"])):
                return e
    raise AssertionError(f"no entry for {port}/{transport}")


def test_entry_count(entries):
    assert len(entries) >= 150


OPTIONAL_TAIL = ["title", "aliases", "images", "evidence_only"]


def test_keys_and_enums(entries):
    for e in entries:
        keys = [k for k in e if k != "finding"]
        assert keys[:len(KEYS)] == KEYS, f"{e.get('name')}: keys {list(e)}"
        tail = keys[len(KEYS):]
        assert tail == [k for k in OPTIONAL_TAIL if k in tail], f"{e.get('name')}: optional keys {tail}"
        if "finding" in e:
            assert list(e).index("finding") == list(e).index("risk") + 1, e["name"]
        assert e.get("finding", "plaintext") in ("plaintext", "risky"), e.get("name", e)
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
        if e.get("evidence_only"):
            continue  # named by a comment or an image only: the port keeps its own entry
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


def test_optional_keys_types(entries):
    for e in entries:
        name = e["name"]
        if "title" in e:
            assert isinstance(e["title"], str) and e["title"].strip(), name
        for key in ("aliases", "images"):
            if key in e:
                assert isinstance(e[key], list) and e[key], name
                assert all(isinstance(v, str) and v.strip() == v and v for v in e[key]), name
                assert len(set(e[key])) == len(e[key]), f"{name}: duplicate {key}"
        for alias in e.get("aliases", []):
            assert alias == alias.lower(), f"{name}: alias {alias!r} must be lowercase"
        for image in e.get("images", []):
            assert image == image.lower() and ":" not in image and "@" not in image, f"{name}: image {image!r}"
        if "evidence_only" in e:
            assert e["evidence_only"] is True, f"{name}: write evidence_only only when true"
            assert e.get("aliases") or e.get("images") or e.get("title"), f"{name}: nothing can name it"


def _words(text):
    """A name as comments may write it: case and separators do not count ("SQL-Server" is "sqlserver")."""
    return "".join(c for c in text.lower() if c.isalnum())


def test_names_and_aliases_are_unambiguous(entries):
    """A word in a comment must name one entry: no alias repeats a name or another alias."""
    owner = {}
    clashes = []
    for e in entries:
        for term in [e["name"], *e.get("aliases", [])]:
            key = _words(term)
            prev = owner.setdefault(key, e["name"])
            if prev != e["name"]:
                clashes.append(f"{term!r}: {prev} vs {e['name']}")
    assert not clashes, clashes


def test_evidence_only_entries_share_ports_deliberately(entries):
    by_name = {e["name"]: e for e in entries}
    assert by_name["tor-orport"]["evidence_only"] and by_name["tor-orport"]["ports"] == "9001"
    assert lookup(entries, 9001, "tcp")["name"] == "supervisord"  # first non-evidence entry owns the port
    assert "evidence_only" not in by_name["tor-dirport"] and lookup(entries, 9030, "tcp")["name"] == "tor-dirport"


@pytest.mark.parametrize("name,risk", [
    ("unifi", "high"), ("cockpit", "high"), ("proxmox", "high"), ("webmin", "high"), ("cpanel-ssl", "medium"),
    ("pihole", "medium"), ("tor-orport", "none"), ("https", "none"), ("minecraft", "low"),
])
def test_admin_interfaces_are_risky_even_over_tls(entries, name, risk):
    by_name = {e["name"]: e for e in entries}
    assert by_name[name]["risk"] == risk


@pytest.mark.parametrize("port,transport,name", [
    (2083, "tcp", "cpanel-ssl"), (2082, "tcp", "cpanel"), (8006, "tcp", "proxmox"), (10000, "tcp", "webmin"),
    (25565, "tcp", "minecraft"), (10001, "udp", "ubiquiti-discovery"), (20000, "udp", "dnp3"),
])
def test_port_owners(entries, port, transport, name):
    found = [e["name"] for e in entries if not e.get("evidence_only") and transport in e["transports"]
             and any(lo <= port <= hi for lo, hi in parse_ports(e["ports"]))]
    assert found == [name]


def test_ranges_are_not_port_entries(entries):
    """RTP and passive FTP are deliberate ranges: named by a comment, never swallowing the ports inside."""
    by_name = {e["name"]: e for e in entries}
    for name in ("rtp", "ftp-passive"):
        assert by_name[name].get("evidence_only") is True, name
