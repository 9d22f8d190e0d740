"""Verdict maps on one selector read as one rule per distinct verdict (vmap_groups.py):
the exact model, where grouping gives way to the per-element expansion, and the findings
of grouped maps against the per-element reading."""

from __future__ import annotations

import dataclasses
import ipaddress
import random

import pytest

from linter.checks import Settings
from linter.frontends.nftables import parse, vmap_groups, vmap_runs
from linter.model import (
    AddressMatch,
    AddressSet,
    Direction,
    Family,
    InterfaceMatch,
    OpaqueMatch,
    PortMatch,
    PortSet,
    ProtocolMatch,
    StateMatch,
    Verdict,
    VerdictKind,
)
from linter.pipeline import lint_file
from linter.source import SourceFile

TCP = ProtocolMatch(frozenset({6}), text="tcp")
ACCEPT = Verdict(VerdictKind.ACCEPT)
DROP = Verdict(VerdictKind.DROP)


def net(text: str) -> tuple[int, int]:
    network = ipaddress.ip_network(text, strict=False)
    return int(network.network_address), int(network.broadcast_address)


def chain_rules(text: str, chain: str = "c", family: str = "ip", codes: tuple = ()):
    """The (matches, verdict) of ``chain`` in a table holding ``text`` (chain bodies and maps)."""
    parsed = parse(SourceFile("m.nft", f"table {family} t {{\n{text}\n}}\n"))
    assert [d.code for d in parsed.diagnostics] == list(codes)
    return [(r.matches, r.verdict) for r in parsed.document.tables[0].chain(chain).rules]


def base(body: str) -> str:
    return "chain c {\n type filter hook input priority 0; policy accept;\n" + body + "\n}\n" \
           "chain other {\n}\nchain alt {\n}"


def test_ports_group_by_verdict_jumps_and_gotos_apart_catch_all_last():
    rules = chain_rules(base("tcp dport vmap { 22 : accept, 80 : jump other, 443 : accept, 1000-1999 : drop,"
                             " * : goto alt, 81 : jump other, 3000-3005 : accept, 25 : goto alt }"))
    assert rules == [
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((22, 22), (443, 443), (3000, 3005))))), ACCEPT),
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((80, 81),)))), Verdict(VerdictKind.JUMP, "other")),
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((1000, 1999),)))), DROP),
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((25, 25),)))), Verdict(VerdictKind.GOTO, "alt")),
        ((), Verdict(VerdictKind.GOTO, "alt")),
    ]


def test_jumps_to_two_chains_stay_two_rules():
    rules = chain_rules(base("tcp dport vmap { 1 : jump other, 2 : jump alt, 3 : jump other, 4 : goto alt,"
                             " 5 : goto other, 6 : reject, 7 : reject with tcp reset }"))
    assert [(m[1].ports.ranges, v.kind, v.target, v.options) for m, v in rules] == [
        (((1, 1), (3, 3)), VerdictKind.JUMP, "other", ()),
        (((2, 2),), VerdictKind.JUMP, "alt", ()),
        (((4, 4),), VerdictKind.GOTO, "alt", ()),
        (((5, 5),), VerdictKind.GOTO, "other", ()),
        (((6, 6),), VerdictKind.REJECT, None, ()),
        (((7, 7),), VerdictKind.REJECT, None, (("with", "tcp reset"),)),
    ]


def test_jump_and_goto_to_one_chain_stay_two_rules():
    rules = chain_rules(base("udp sport vmap { 53 : jump other, 54 : goto other, 55 : jump other }"))
    udp = ProtocolMatch(frozenset({17}), text="udp")
    assert rules == [
        ((udp, PortMatch(Direction.SOURCE, PortSet(((53, 53), (55, 55))))), Verdict(VerdictKind.JUMP, "other")),
        ((udp, PortMatch(Direction.SOURCE, PortSet(((54, 54),)))), Verdict(VerdictKind.GOTO, "other")),
    ]


def test_ipv4_addresses_prefixes_and_intervals_group():
    rules = chain_rules(base("ip saddr vmap { 10.0.0.0/8 : drop, 192.168.1.1 : accept,"
                             " 172.16.0.1-172.16.0.9 : drop }"))
    assert rules == [
        ((AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (net("10.0.0.0/8"), (net("172.16.0.1")[0],
                                                                                     net("172.16.0.9")[0])),
                                                    "10.0.0.0/8 , 172.16.0.1-172.16.0.9")),), DROP),
        ((AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (net("192.168.1.1"),), "192.168.1.1")),), ACCEPT),
    ]


def test_ipv6_addresses_in_an_inet_table_group():
    rules = chain_rules(base("ip6 daddr vmap { 2001:db8::/32 : drop, ::1 : accept, 2001:db9::1 : drop }"),
                        family="inet")
    assert rules == [
        ((AddressMatch(Direction.DESTINATION, AddressSet(Family.IPV6, (net("2001:db8::/32"), net("2001:db9::1")),
                                                         "2001:db8::/32 , 2001:db9::1")),), DROP),
        ((AddressMatch(Direction.DESTINATION, AddressSet(Family.IPV6, (net("::1"),), "::1")),), ACCEPT),
    ]


def test_a_named_interval_map_groups():
    text = ("map m {\n type inet_service : verdict\n flags interval\n"
            " elements = { 1-100 : accept, 200-300 : drop, 101 : accept }\n}\n" + base("tcp dport vmap @m"))
    assert chain_rules(text) == [
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((1, 101),)))), ACCEPT),
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((200, 300),)))), DROP),
    ]


def test_a_map_of_one_element_is_the_rule_it_was():
    assert chain_rules(base("tcp dport vmap { 8080 : drop }")) == [
        ((TCP, PortMatch(Direction.DESTINATION, PortSet(((8080, 8080),)))), DROP),
    ]


def test_ct_state_protocols_and_interfaces_group():
    rules = chain_rules(base("ct state vmap { established : accept, invalid : drop, related : accept }\n"
                             "meta l4proto vmap { tcp : jump other, udp : jump other, icmp : drop }\n"
                             "iifname vmap { \"eth0\" : accept, \"lo\" : accept, \"eth1\" : drop }"))
    assert rules == [
        ((StateMatch(frozenset({"established", "related"})),), ACCEPT),
        ((StateMatch(frozenset({"invalid"})),), DROP),
        ((ProtocolMatch(frozenset({6, 17}), text="tcp , udp"),), Verdict(VerdictKind.JUMP, "other")),
        ((ProtocolMatch(frozenset({1}), text="icmp"),), DROP),
        ((InterfaceMatch("in", ("eth0", "lo")),), ACCEPT),
        ((InterfaceMatch("in", ("eth1",)),), DROP),
    ]


@pytest.mark.parametrize("body", [
    "tcp dport vmap { 22 : accept, 22 : accept, 23 : drop }",  # a repeated key (nft merges it)
    "tcp dport vmap { 20-30 : accept, 25 : drop }",  # overlapping keys: nft refuses them
    "ip saddr vmap { 10.0.0.0/8 : accept, 10.1.0.0/16 : accept }",
    "ct state vmap { 0x6 : accept, established : accept }",  # bits: two states in one key
    "meta l4proto vmap { tcp : accept, 6 : accept }",
    "iifname vmap { \"eth*\" : accept, \"eth0\" : accept }",  # a wildcard covers a name
])
def test_keys_that_may_overlap_keep_one_rule_per_element(body):
    grouped = chain_rules(base(body))
    keys = body[body.index("{") + 1:body.rindex("}")].split(",")
    assert len(grouped) == len(keys)


def test_concatenations_and_numgen_maps_keep_one_rule_per_element():
    rules = chain_rules(base("ip saddr . tcp dport vmap { 10.0.0.1 . 22 : accept, 10.0.0.2 . 22 : accept }\n"
                             "numgen random mod 2 vmap { 0 : goto other, 1 : goto alt }"), codes=("PL013",))
    a1 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (net("10.0.0.1"),), "10.0.0.1"))
    a2 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (net("10.0.0.2"),), "10.0.0.2"))
    d22 = PortMatch(Direction.DESTINATION, PortSet(((22, 22),)))
    assert rules[:2] == [((a1, TCP, d22), ACCEPT), ((a2, TCP, d22), ACCEPT)]
    (numgen, first), (rest, last) = rules[2:]
    assert [type(m) for m in numgen] == [OpaqueMatch] and first == Verdict(VerdictKind.GOTO, "other")
    assert rest == () and last == Verdict(VerdictKind.GOTO, "alt")


def test_a_bad_key_reports_as_the_per_element_reading_did():
    text = "table ip t {\n chain c {\n  tcp dport vmap { 22 : accept, 70000 : accept, 99999 : drop }\n }\n}\n"
    parsed = parse(SourceFile("m.nft", text))
    assert [(d.code, d.span.line, d.span.column) for d in parsed.diagnostics] == [("PL011", 3, 33),
                                                                                 ("PL011", 3, 49)]
    assert len(parsed.document.tables[0].chains[0].rules) == 3


# -- findings: grouped against the per-element reading

SOURCES = ("10.0.0.0/8", "192.168.1.0/24", "203.0.113.7", "198.51.100.0/25", "0.0.0.0/1")
SERVICES = (22, 23, 25, 53, 80, 443, 445, 3306, 3389, 5432, 6379, 8080, 1024, 1025, 1026)
VERDICTS = ("accept", "drop", "jump other", "goto alt", "jump alt", "goto other", "reject", "return", "continue")


def random_ruleset(rng: random.Random) -> str:
    """A small table with a random port or address map between random plain rules."""
    def plain() -> str:
        words = []
        if rng.random() < 0.4:
            words.append(f"ip saddr {rng.choice(SOURCES)}")
        if rng.random() < 0.8:
            words.append(f"tcp dport {rng.choice(SERVICES)}")
        if rng.random() < 0.2:
            words.append("ct state new")
        return " ".join(words + [rng.choice(("accept", "drop", "jump other"))])

    if rng.random() < 0.6:
        ports = rng.sample(SERVICES, rng.randint(1, 8))
        keys = [str(p) for p in ports]
        if rng.random() < 0.5:
            keys.append(rng.choice(("2000-2100", "30000-40000", "60000-65535")))
        selector = "tcp dport"
    else:
        keys = rng.sample(SOURCES[:4], rng.randint(1, 4))
        selector = "ip saddr"
    elements = [f"{key} : {rng.choice(VERDICTS[:6] if rng.random() < 0.7 else VERDICTS)}" for key in keys]
    if rng.random() < 0.3:
        elements.append(f"* : {rng.choice(('accept', 'drop', 'continue'))}")
    rng.shuffle(elements)
    vmap = f"{selector} vmap {{ {', '.join(elements)} }}"
    before = [plain() for _ in range(rng.randint(0, 3))]
    after = [plain() for _ in range(rng.randint(0, 3))]
    policy = rng.choice(("accept", "drop"))
    body = "\n  ".join(before + [vmap] + after)
    other = "\n  ".join(plain() for _ in range(rng.randint(0, 2)))
    return (f"table ip t {{\n chain c {{\n  type filter hook input priority 0; policy {policy};\n  {body}\n }}\n"
            f" chain other {{\n  {other}\n }}\n chain alt {{\n  tcp dport 22 accept\n }}\n}}\n")


def findings(path) -> list[tuple]:
    result = lint_file(str(path), Settings())
    return sorted(dataclasses.astuple(f) for f in result.findings)


@pytest.mark.parametrize("seed", range(60))
def test_grouped_maps_report_what_the_per_element_reading_reports(seed, tmp_path, monkeypatch):
    """Everything but PL402 is identical. PL402 judges a rule: grouped, a map's rule is its
    verdict's keys together, so a map line is reported when every key of one verdict is
    shadowed (never more often than per element, where one shadowed key was enough)."""
    text = random_ruleset(random.Random(seed))
    path = tmp_path / "r.nft"
    path.write_text(text)
    grouped = findings(path)
    monkeypatch.setattr(vmap_groups, "grouped_options", lambda *args: None)
    monkeypatch.setattr(vmap_runs, "map_options", lambda *args: None)
    per_element = findings(path)
    # PL403 counts the rules as written after a catch-all: a map is one, read either way.
    assert [f for f in grouped if f[0] != "PL402"] == [f for f in per_element if f[0] != "PL402"], text
    vmap_line = next(number for number, line in enumerate(text.split("\n"), 1) if "vmap" in line)
    assert {f[5] for f in grouped if f[0] == "PL402"} <= {f[5] for f in per_element if f[0] == "PL402"}, text
    assert [f for f in grouped if f[0] == "PL402" and f[5] != vmap_line] == \
           [f for f in per_element if f[0] == "PL402" and f[5] != vmap_line], text


def test_a_verdict_whose_keys_are_all_shadowed_is_reported_one_shadowed_key_is_not(tmp_path):
    path = tmp_path / "r.nft"
    path.write_text("table ip t {\n chain c {\n  type filter hook input priority 0; policy accept;\n"
                    "  tcp dport { 22, 23 } accept\n"
                    "  tcp dport vmap { 22 : drop, 23 : drop, 80 : accept }\n"
                    "  tcp dport vmap { 22 : drop, 25 : drop }\n }\n}\n")
    assert [(f[0], f[5], f[7]) for f in findings(path) if f[0] == "PL402"] == [
        ("PL402", 5, "The drop entries of this verdict map can never match: earlier rules in c decide every packet "
                     "they were meant to block"),
    ]


def _pl402(tmp_path, rules: str) -> list[tuple]:
    path = tmp_path / "r.nft"
    path.write_text("table ip t {\n chain c {\n  type filter hook input priority 0; policy accept;\n"
                    f"{rules} }}\n chain x {{\n }}\n}}\n")
    return [(f[5], f[2].name.lower(), f[7]) for f in findings(path) if f[0] == "PL402"]


def test_a_map_line_says_which_entries_can_never_match(tmp_path):
    """A map line is not a "drop rule": PL402 names the verdicts whose keys are all shadowed, the
    wording of accepts when not all of them block, and the plain rule message when nothing of the
    line can match (medium when a drop is among them)."""
    assert _pl402(tmp_path, "  tcp dport { 22, 23, 80 } accept\n"
                            "  tcp dport vmap { 22 : drop, 23 : drop, 80 : accept, 443 : drop }\n"
                            "  tcp dport vmap { 23 : accept, 80 : drop, 8443 : accept }\n"
                            "  tcp dport vmap { 22 : drop, 80 : accept, 8080 : jump x }\n"
                            "  tcp dport vmap { 22 : drop, 23 : accept }\n") == [
        (5, "low", "The accept entries of this verdict map can never match: earlier rules in c take every packet "
                   "they match"),
        (6, "medium", "The drop entries of this verdict map can never match: earlier rules in c decide every packet "
                      "they were meant to block"),
        (7, "medium", "The drop and accept entries of this verdict map can never match: earlier rules in c take "
                      "every packet they match"),
        (8, "medium", "Rule can never match: earlier rules in c take every packet it matches"),
    ]


def test_rules_after_a_catch_all_are_counted_as_written(tmp_path):
    """PL403 counts a verdict map as the one rule the reader sees, however the front end split it."""
    path = tmp_path / "r.nft"
    path.write_text("table ip t {\n chain c {\n  type filter hook input priority 0; policy accept;\n"
                    "  drop\n  tcp dport vmap { 22 : drop, 80 : accept, 443 : jump x }\n  tcp dport 25 accept\n"
                    " }\n chain x {\n }\n}\n")
    assert [(f[0], f[5], f[7]) for f in findings(path) if f[0] == "PL403"] == [
        ("PL403", 5, "2 rules follow an unconditional drop in c and are never reached")]


def test_a_map_read_one_key_per_rule_says_one_entry(tmp_path):
    """A concatenated map is read one key per rule: one shadowed key is "a drop entry", not all of them."""
    assert _pl402(tmp_path, "  ip saddr 10.0.0.1 tcp dport 22 accept\n"
                            "  ip saddr . tcp dport vmap { 10.0.0.1 . 22 : drop, 10.0.0.2 . 22 : drop, "
                            "10.0.0.3 . 80 : accept }\n") == [
        (5, "medium", "A drop entry of this verdict map can never match: earlier rules in c decide every packet "
                      "it was meant to block"),
    ]


def test_rules_sharing_a_span_and_a_verdict_are_one_rule_to_the_reader(tmp_path):
    """``ip saddr { a, b }``-like splits with one verdict keep the rule's own message."""
    assert _pl402(tmp_path, "  tcp dport 22 drop\n  tcp dport vmap { 22 : drop }\n") == [
        (5, "medium", "Drop rule can never match: earlier rules in c decide every packet it was meant to block"),
    ]


def test_a_30k_port_map_is_analysed(tmp_path):
    """Past MAX_EXPANSION elements a map on one selector still reads as one rule per verdict:
    its accepted high ports are reported (PL302), with no PL034 'kept as one opaque match'."""
    elements = ",\n".join(f"   {port} : {'accept' if port % 5 == 0 else 'drop'}" for port in range(20000, 50000))
    path = tmp_path / "v.nft"
    path.write_text("table inet f {\n chain input {\n  type filter hook input priority filter; policy drop;\n"
                    f"  tcp dport vmap {{\n{elements}\n  }}\n }}\n}}\n")
    found = [(f[0], f[5]) for f in findings(path)]
    assert found == [("PL302", 4)]


# -- the one-pass reading of plain port maps (vmap_runs.py) against the general one

RUN_KEYS = ("22", "80", "0", "65535", "1024-2047", "2000 - 2100", "443", "010", "0x16", "70000", "30-20", "ssh",
            "*", "8080", "5000-5010", "5005")
RUN_VERDICTS = ("accept", "drop", "return", "continue", "jump web", "goto  web", "jump svc-a", "goto svc-a",
                "jump drop", "reject", "queue", "jump web_2")


def random_port_map(rng: random.Random) -> str:
    """Mostly plainly written (keys may still overlap), else with something the one pass declines."""
    plain = rng.random() < 0.7
    keys = [k for k in RUN_KEYS if k not in ("010", "0x16", "70000", "30-20", "ssh")] if plain else RUN_KEYS
    verdicts = [v for v in RUN_VERDICTS if "svc" not in v and v not in ("jump drop", "reject", "queue")] \
        if plain else RUN_VERDICTS
    elements = [f"{rng.choice(keys)} : {rng.choice(verdicts)}" for _ in range(rng.randint(1, 6))]
    separator = rng.choice((", ", ",\n   ", " ,") if plain else (", ", ",\n # note\n   ", "\n"))
    tail = rng.choice(("", ",", " ", ",\n  "))
    return separator.join(elements) + tail


ADDRESS_KEYS = ("10.0.0.0/8", "10.1.0.0/16", "192.168.1.1", "192.168.1.2", "192.168.1.3 - 192.168.1.9",
                "172.16.0.0/12", "203.0.113.0/24", "0.0.0.0/0", "1.2.3.4/32", "192.168.1.10-192.168.1.20", "*")
BAD_ADDRESS_KEYS = ("300.1.1.1", "010.0.0.1", "10.0.0.0/33", "192.168.1.9-192.168.1.3", "10.0.0.0/8-10.0.0.9",
                    "::1", "host.example", "10.0.0.0 / 8")


def random_address_map(rng: random.Random) -> str:
    plain = rng.random() < 0.7
    keys = ADDRESS_KEYS if plain else ADDRESS_KEYS + BAD_ADDRESS_KEYS
    verdicts = RUN_VERDICTS[:5] if plain else RUN_VERDICTS
    elements = [f"{rng.choice(keys)} : {rng.choice(verdicts)}" for _ in range(rng.randint(1, 6))]
    return rng.choice((", ", ",\n   ")).join(elements)


@pytest.mark.parametrize("seed", range(200))
def test_a_plain_address_map_reads_as_the_general_reading_does(seed, monkeypatch):
    rng = random.Random(seed)
    selector = rng.choice(("ip saddr", "ip daddr"))
    family = rng.choice(("ip", "inet"))
    text = (f"table {family} t {{\n chain web {{\n }}\n chain svc-a {{\n }}\n chain web_2 {{\n }}\n"
            f" chain c {{\n  {selector} vmap {{ {random_address_map(rng)} }}\n }}\n}}\n")
    fast = model_and_diagnostics(text)
    monkeypatch.setattr(vmap_runs, "map_options", lambda *args: None)
    assert fast == model_and_diagnostics(text), text


def model_and_diagnostics(text: str):
    parsed = parse(SourceFile("m.nft", text))
    rules = [(r.matches, r.verdict, r.span, r.text) for t in parsed.document.tables for c in t.chains for r in c.rules]
    return rules, [(d.code, d.message, d.span) for d in parsed.diagnostics]


@pytest.mark.parametrize("seed", range(200))
def test_a_plain_port_map_reads_as_the_general_reading_does(seed, monkeypatch):
    rng = random.Random(seed)
    selector = rng.choice(("tcp dport", "udp sport", "th dport", "ip saddr"))
    text = (f"table inet t {{\n chain web {{\n }}\n chain svc-a {{\n }}\n chain web_2 {{\n }}\n"
            f" chain c {{\n  {selector} vmap {{ {random_port_map(rng)} }}\n }}\n}}\n")
    fast = model_and_diagnostics(text)
    monkeypatch.setattr(vmap_runs, "map_options", lambda *args: None)
    assert fast == model_and_diagnostics(text), text


def test_the_benchmark_map_is_read_in_one_pass(monkeypatch):
    elements = ",\n".join(f"\t\t\t{port} : {'accept' if port % 5 == 0 else 'drop'}" for port in range(1024, 1200))
    text = (f"table inet f {{\n chain input {{\n  tcp dport vmap {{\n{elements}\n  }}\n  tcp dport 22 accept\n }}\n}}\n")
    calls = []
    real = vmap_runs.map_options
    monkeypatch.setattr(vmap_runs, "map_options", lambda *args: calls.append(real(*args)) or calls[-1])
    fast = model_and_diagnostics(text)
    assert calls and calls[0] is not None
    assert [len(r[0][1].ports.ranges) for r in fast[0]] == [36, 35, 1]
    monkeypatch.setattr(vmap_runs, "map_options", lambda *args: None)
    assert fast == model_and_diagnostics(text)
