"""The nftables front end: exact model objects (with spans) for representative input."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shutil
import subprocess
import uuid

import pytest

from linter.frontends import FRONT_ENDS, parse_source
from linter.frontends.nftables import parse
from linter.model import (
    AddressMatch,
    AddressSet,
    AddrTypeMatch,
    Chain,
    CtStatusMatch,
    Direction,
    Family,
    FragmentMatch,
    Hook,
    InterfaceMatch,
    LimitMatch,
    NamedSet,
    OpaqueMatch,
    OriginalAddressMatch,
    OriginalPortMatch,
    Policy,
    PortMatch,
    PortSet,
    ProtocolMatch,
    Rule,
    Span,
    StateMatch,
    Statement,
    TcpFlagsMatch,
    Verdict,
    VerdictKind,
)
from linter.source import SourceFile

P = "rules.nft"
TCP = ProtocolMatch(frozenset({6}), text="tcp")
UDP = ProtocolMatch(frozenset({17}), text="udp")
ACCEPT = Verdict(VerdictKind.ACCEPT)
DROP = Verdict(VerdictKind.DROP)
ALL_V4 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, ((0, 2**32 - 1),), "ipv4"))
ALL_V6 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV6, ((0, 2**128 - 1),), "ipv6"))


def v4(text: str) -> tuple[int, int]:
    net = ipaddress.ip_network(text, strict=False)
    return int(net.network_address), int(net.broadcast_address)


def dport(*items) -> PortMatch:
    return PortMatch(Direction.DESTINATION, PortSet.of(*items))


def read(text: str, path: str = P):
    result = parse(SourceFile(path, text))
    return result.document, result.diagnostics


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def rules_of(doc, table: int = 0, chain: int = 0) -> tuple[Rule, ...]:
    return doc.tables[table].chains[chain].rules


# Inputs meant to be valid: `nft -c -f` must accept each (see test_valid_inputs_accepted_by_nft).
VALID = {
    "base_chain": """\
#!/usr/sbin/nft -f
flush ruleset

table inet filter {
    chain input {
        type filter hook input priority filter + 10; policy drop;
        tcp dport 22 accept
    }
    chain raw_pre {
        type filter hook prerouting priority raw - 5
    }
}
table bridge br {
    chain forward_chain {
        type filter hook forward priority filter; policy accept;
    }
}
""",
    "inet_ip_ip6": """\
table inet filter {
    chain input {
        type filter hook input priority 0; policy drop;
        ip saddr 10.0.0.0/8 accept
        ip6 daddr != { fe80::/10, ::1 } drop
        ip protocol icmp accept
        meta nfproto ipv6 counter
    }
}
""",
    "sets": """\
table ip t {
    set allowed {
        type ipv4_addr
        flags interval
        elements = { 10.0.0.0/8, 192.168.1.1-192.168.1.9 }
    }
    set empty {
        type inet_service
    }
    chain c {
        tcp dport { 22, 80-90, https } accept
        ip saddr @allowed accept
        udp dport @empty drop
    }
}
""",
    "define": """\
define ports = { 22, 443 }
define lan = 192.168.0.0/16
table ip t {
    chain c {
        ip saddr $lan tcp dport $ports accept
    }
}
""",
    "vmap": """\
table inet t {
    map verdicts {
        type inet_service : verdict
        elements = { 80 : accept, 8080 : drop }
    }
    chain legacy {
        return
    }
    chain c {
        type filter hook input priority 0; policy accept;
        ct state vmap { established : accept, related : accept, invalid : drop }
        tcp dport vmap { 22 : accept, 23 : jump legacy }
        tcp dport vmap @verdicts
    }
}
""",
    "concat_nat": """\
table ip nat {
    chain pre {
        type nat hook prerouting priority dstnat; policy accept;
        ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } accept
        tcp dport 80 dnat to 10.0.0.2:8080
        tcp dport 81 redirect to :8080
    }
    chain post {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "eth*" masquerade
    }
}
""",
    "misc": """\
table inet t {
    chain c {
        type filter hook input priority 0; policy accept;
        ct state established,related accept
        ct state != { new } counter drop
        iifname "eth*" iif lo accept comment "local or eth"
        fib daddr type local tcp dport ssh accept
        log prefix "in: " level info
        limit rate 10/second accept
        meta mark set 0x1
    }
}
""",
    "script": """\
add table inet t
add chain inet t c { type filter hook input priority 0; policy accept; }
add rule inet t c tcp dport 1 accept
add rule inet t c tcp dport 2 accept
add rule inet t c tcp dport 3 accept
insert rule inet t c tcp dport 0 accept
""",
}
# Edits by handle: nft resolves handles of rules committed before, so this is a second batch.
SCRIPT_EDITS = """\
delete rule inet t c handle 3
add rule inet t c position 2 tcp dport 4 accept
insert rule inet t c position 2 tcp dport 5 accept
"""


# --- base chains and tables ---------------------------------------------------------


def test_base_chain_attributes_named_priority_offset_and_policy():
    doc, diags = read(VALID["base_chain"])
    assert diags == []
    assert doc.format == "nftables" and doc.family is Family.INET and doc.path == P
    inet, bridge = doc.tables
    assert (inet.name, inet.family, inet.span) == ("filter", Family.INET, Span(P, 4, 1, 4, 17))
    assert inet.chains[0] == Chain(
        "input",
        (Rule((TCP, dport(22)), ACCEPT, Span(P, 7, 9, 7, 27), text="tcp dport 22 accept"),),
        Span(P, 5, 5, 5, 15),
        hook=Hook.INPUT, type="filter", priority=10, policy=Policy.DROP, role="filter",
    )
    raw = inet.chains[1]
    assert (raw.hook, raw.type, raw.priority, raw.policy) == (Hook.PREROUTING, "filter", -305, None)
    assert bridge.family is Family.BRIDGE
    assert (bridge.chains[0].priority, bridge.chains[0].policy) == (-200, Policy.ACCEPT)


def test_family_defaults_to_ip_and_table_blocks_accumulate():
    doc, diags = read("table t {\n chain a { }\n}\ntable ip t {\n chain b { }\n}\nadd rule t a drop\n")
    assert diags == []
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert table.family is Family.IPV4
    assert [c.name for c in table.chains] == ["a", "b"]
    assert table.chains[0].rules[0].verdict == DROP


def test_table_flags_and_netdev_device():
    text = """table netdev n {
    flags dormant
    chain ing {
        type filter hook ingress device "lo" priority -500; policy accept;
    }
}
"""
    doc, diags = read(text)
    assert diags == []
    chain = doc.tables[0].chains[0]
    assert (chain.hook, chain.device, chain.priority) == (Hook.INGRESS, "lo", -500)


# --- matches --------------------------------------------------------------------------


def test_inet_table_with_ip_and_ip6_matches():
    doc, diags = read(VALID["inet_ip_ip6"])
    assert diags == []
    r1, r2, r3, r4 = rules_of(doc)
    assert r1 == Rule(
        (AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (v4("10.0.0.0/8"),), "10.0.0.0/8")),),
        ACCEPT, Span(P, 4, 9, 4, 34), text="ip saddr 10.0.0.0/8 accept",
    )
    fe80 = ipaddress.ip_network("fe80::/10")
    assert r2.matches == (
        AddressMatch(
            Direction.DESTINATION,
            AddressSet(Family.IPV6, ((1, 1), (int(fe80.network_address), int(fe80.broadcast_address))),
                       "{ fe80::/10, ::1 }"),
            negated=True,
        ),
    )
    # ip protocol in an inet table only sees IPv4 packets
    assert r3.matches == (ALL_V4, ProtocolMatch(frozenset({1}), text="icmp"))
    assert r4.matches == (ALL_V6,)
    assert r4.verdict == Verdict(VerdictKind.CONTINUE)
    assert r4.statements == (Statement("counter", "counter"),)


def test_anonymous_set_named_set_with_intervals_and_empty_set():
    doc, diags = read(VALID["sets"])
    assert diags == []
    table = doc.tables[0]
    assert table.sets == (
        NamedSet("allowed", Span(P, 2, 5, 2, 15), "ipv4_addr", ("interval",),
                 ("10.0.0.0/8", "192.168.1.1-192.168.1.9")),
        NamedSet("empty", Span(P, 7, 5, 7, 13), "inet_service"),
    )
    r1, r2, r3 = table.chains[0].rules
    assert r1.matches == (TCP, dport(22, (80, 90), 443))
    assert r2.matches == (
        AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (v4("10.0.0.0/8"), (v4("192.168.1.1")[0],
                                                                                    v4("192.168.1.9")[0])),
                                                  "@allowed")),
    )
    assert r3.matches == (UDP, PortMatch(Direction.DESTINATION, PortSet(())))
    assert r3.verdict == DROP


def test_define_and_undefined_variable():
    doc, diags = read(VALID["define"])
    assert diags == []
    (rule,) = rules_of(doc)
    assert rule.matches == (
        AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (v4("192.168.0.0/16"),), "192.168.0.0/16")),
        TCP, dport(22, 443),
    )
    assert rule.text == "ip saddr $lan tcp dport $ports accept"

    doc, diags = read("table ip t {\n chain c {\n  tcp dport $nope accept\n }\n}\n")
    assert codes(diags) == ["PL031"]
    assert diags[0].span == Span(P, 3, 13, 3, 17)
    (rule,) = rules_of(doc)
    assert rule.verdict == ACCEPT and rule.matches[0] == TCP
    assert isinstance(rule.matches[1], OpaqueMatch)


def test_redefine_undefine_and_scopes():
    text = """define p = 22
redefine p = 23
table ip t {
    define q = 24
    chain c {
        tcp dport $p accept
        tcp dport $q accept
    }
}
undefine p
table ip u {
    chain c {
        tcp dport $q accept
    }
}
"""
    doc, diags = read(text)
    assert codes(diags) == ["PL031"]  # q was scoped to table t
    assert [r.matches[1] for r in doc.tables[0].chains[0].rules] == [dport(23), dport(24)]


def test_vmap_expansion_one_rule_per_verdict():
    doc, diags = read(VALID["vmap"])
    assert diags == []
    chain = doc.tables[0].chain("c")
    ct_text = "ct state vmap { established : accept, related : accept, invalid : drop }"
    tcp_text = "tcp dport vmap { 22 : accept, 23 : jump legacy }"
    span_ct, span_tcp = Span(P, 11, 9, 11, 8 + len(ct_text)), Span(P, 12, 9, 12, 8 + len(tcp_text))
    span_named = Span(P, 13, 9, 13, 32)
    assert chain.rules[:2] == (
        Rule((StateMatch(frozenset({"established", "related"})),), ACCEPT, span_ct, text=ct_text),
        Rule((StateMatch(frozenset({"invalid"})),), DROP, span_ct, text=ct_text),
    )
    assert chain.rules[2:4] == (
        Rule((TCP, dport(22)), ACCEPT, span_tcp, text=tcp_text),
        Rule((TCP, dport(23)), Verdict(VerdictKind.JUMP, "legacy"), span_tcp, text=tcp_text),
    )
    assert chain.rules[4:] == (
        Rule((TCP, dport(80)), ACCEPT, span_named, text="tcp dport vmap @verdicts"),
        Rule((TCP, dport(8080)), DROP, span_named, text="tcp dport vmap @verdicts"),
    )


def test_concatenation_dnat_redirect_masquerade():
    doc, diags = read(VALID["concat_nat"])
    assert diags == []
    pre, post = doc.tables[0].chains
    r1, r2, r3, r4 = pre.rules
    a1 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (v4("10.0.0.1"),), "10.0.0.1"))
    a2 = AddressMatch(Direction.SOURCE, AddressSet(Family.IPV4, (v4("10.0.0.2"),), "10.0.0.2"))
    assert (r1.matches, r1.verdict) == ((a1, TCP, dport(22)), ACCEPT)
    assert (r2.matches, r2.verdict) == ((a2, TCP, dport(80)), ACCEPT)
    assert r1.span == r2.span == Span(P, 4, 9, 4, 68)
    assert r3 == Rule(
        (TCP, dport(80)),
        Verdict(VerdictKind.DNAT, to_addresses=AddressSet(Family.IPV4, (v4("10.0.0.2"),), "10.0.0.2"),
                to_ports=PortSet.of(8080)),
        Span(P, 5, 9, 5, 42), text="tcp dport 80 dnat to 10.0.0.2:8080",
    )
    assert r4.verdict == Verdict(VerdictKind.REDIRECT, to_ports=PortSet.of(8080))
    assert post.rules[0].matches == (InterfaceMatch("out", ("eth*",)),)
    assert post.rules[0].verdict == Verdict(VerdictKind.MASQUERADE)


def test_dnat_map_expands_per_element():
    text = "table ip nat {\n chain pre {\n  dnat to tcp dport map { 80 : 10.0.0.1, 443 : 10.0.0.2 . 8443 }\n }\n}\n"
    doc, diags = read(text)
    assert diags == []
    r1, r2 = rules_of(doc)
    assert r1.matches == (TCP, dport(80))
    assert r1.verdict.to_addresses.ranges == (v4("10.0.0.1"),)
    assert r2.verdict.to_ports == PortSet.of(8443)


def test_ct_state_interfaces_fib_comment_log_limit_and_statements():
    doc, diags = read(VALID["misc"])
    assert codes(diags) == []  # limit is modelled
    r = rules_of(doc)
    assert r[0].matches == (StateMatch(frozenset({"established", "related"})),)
    assert r[1].matches == (StateMatch(frozenset({"new"}), negated=True),)
    assert (r[1].verdict, r[1].statements) == (DROP, (Statement("counter", "counter"),))
    assert r[2] == Rule(
        (InterfaceMatch("in", ("eth*",)), InterfaceMatch("in", ("lo",))), ACCEPT,
        Span(P, 6, 9, 6, 59), comment="local or eth", text='iifname "eth*" iif lo accept comment "local or eth"',
    )
    assert r[3].matches == (AddrTypeMatch(Direction.DESTINATION, frozenset({"LOCAL"})), TCP, dport(22))
    assert r[4].verdict == Verdict(VerdictKind.LOG)
    assert r[4].statements == (Statement("log", 'log prefix "in: " level info'),)
    assert r[5].matches == (LimitMatch("limit", text="limit rate 10/second"),)
    assert r[6].statements == (Statement("meta mark", "meta mark set 0x1", Verdict(
        VerdictKind.OTHER, "MARK", options=(("--set-xmark", "0x1/0xffffffff"),))),)
    assert r[6].verdict == Verdict(VerdictKind.CONTINUE)


def test_ct_state_negation_operator():
    # `ct state ! invalid` (what iptables-restore-translate writes for `! --ctstate INVALID`):
    # nft's `!` is true when none of the value's bits are set; a packet has one state bit,
    # so it is "not one of these states". nft refuses `!` for non-bitmask types.
    text = """table ip t {
    chain c {
        type filter hook input priority 0; policy drop;
        ct state ! invalid accept
        ct state ! new,untracked drop
        tcp dport ! 22 accept
    }
}
"""
    doc, diags = read(text)
    r = rules_of(doc)
    assert r[0].matches == (StateMatch(frozenset({"invalid"}), negated=True),)
    assert r[1].matches == (StateMatch(frozenset({"new", "untracked"}), negated=True),)
    assert r[2].matches == (TCP, OpaqueMatch("tcp dport", "tcp dport ! 22"))
    assert codes(diags) == ["PL013"] and diags[0].span.line == 6

def _one_chain(body: str, family: str = "inet"):
    doc, diags = read(f"table {family} t {{\n    set s {{ type ipv4_addr; flags dynamic; }}\n"
                      f"    chain c {{\n{body}\n    }}\n}}\n")
    return doc.tables[0].chain("c").rules, diags


def test_tcp_flags_forms():
    # What nft 1.0 compiles each form to (nft --debug=netlink): a bare flag list is "any of
    # these set", == and != compare the whole byte, ! is "none set", / and & mask first.
    cases = {
        "tcp flags syn": TcpFlagsMatch(0x02, 0, any_of=True),
        "tcp flags syn,ack": TcpFlagsMatch(0x12, 0, any_of=True),
        "tcp flags == syn": TcpFlagsMatch(0xFF, 0x02),
        "tcp flags != syn": TcpFlagsMatch(0xFF, 0x02, negated=True),
        "tcp flags ! syn": TcpFlagsMatch(0x02, 0),
        "tcp flags syn / fin,syn,rst,ack": TcpFlagsMatch(0x17, 0x02),
        "tcp flags syn,ack / syn,ack": TcpFlagsMatch(0x12, 0x12),
        "tcp flags != 0x0 / fin,syn,rst,psh,ack,urg": TcpFlagsMatch(0x3F, 0, negated=True),
        "tcp flags & (fin|syn|rst|ack) == syn": TcpFlagsMatch(0x17, 0x02),
        "tcp flags & (syn|ack) == syn|ack": TcpFlagsMatch(0x12, 0x12),
        "tcp flags & (syn | ack) != syn": TcpFlagsMatch(0x12, 0x02, negated=True),
        "tcp flags & 0x3f == 0x0": TcpFlagsMatch(0x3F, 0),
    }
    for text, expected in cases.items():
        rules, diags = _one_chain(f"        {text} drop")
        assert rules[0].matches == (TCP, dataclasses.replace(expected, text=text)), text
        assert diags == [], text
    rules, diags = _one_chain("        tcp flags { syn, syn|ack } accept")
    assert rules[0].matches == (TCP, OpaqueMatch("tcp flags", "tcp flags { syn, syn|ack }"))
    assert codes(diags) == ["PL013"]


def test_ct_status_forms():
    dnat = frozenset({"dnat"})
    cases = {
        "ct status dnat": CtStatusMatch(dnat),
        "ct status dnat,snat": CtStatusMatch(frozenset({"dnat", "snat"})),
        "ct status ! dnat": CtStatusMatch(dnat, negated=True),
        "ct status & dnat == dnat": CtStatusMatch(dnat),
        "ct status & dnat != 0": CtStatusMatch(dnat),
        "ct status & dnat == 0": CtStatusMatch(dnat, negated=True),
        "ct status & (dnat|snat) == dnat|snat": CtStatusMatch(frozenset({"dnat", "snat"}), all_of=True),
        "ct status & (dnat|snat) != dnat|snat": CtStatusMatch(frozenset({"dnat", "snat"}), all_of=True,
                                                              negated=True),
    }
    for text, expected in cases.items():
        rules, diags = _one_chain(f"        {text} accept")
        assert rules[0].matches == (dataclasses.replace(expected, text=text),), text
        assert diags == [], text
    # The whole status word holds bits portlint does not know (nat done, ...): opaque.
    rules, _ = _one_chain("        ct status != dnat accept\n        ct status == dnat accept")
    assert [r.matches for r in rules] == [(OpaqueMatch("ct status", "ct status != dnat", True),),
                                          (OpaqueMatch("ct status", "ct status == dnat"),)]


def test_ct_original_tuple():
    rules, diags = _one_chain(
        "        meta l4proto tcp ct original proto-dst 5432 drop\n"
        "        ct original ip daddr != 203.0.113.0/24 drop\n"
        "        ct original ip6 saddr 2001:db8::1 drop\n"
        "        ct original proto-src 1024-65535 drop\n"
        "        ct original daddr 10.0.0.1 drop\n"
        "        ct reply ip saddr 10.0.0.1 drop")
    v6 = ipaddress.ip_address("2001:db8::1")
    assert [r.matches for r in rules] == [
        (TCP, OriginalPortMatch(Direction.DESTINATION, PortSet.of(5432), text="ct original proto-dst 5432")),
        (OriginalAddressMatch(Direction.DESTINATION, AddressSet(Family.IPV4, (v4("203.0.113.0/24"),),
                                                                "203.0.113.0/24"), True,
                              text="ct original ip daddr != 203.0.113.0/24"),),
        (OriginalAddressMatch(Direction.SOURCE, AddressSet(Family.IPV6, ((int(v6), int(v6)),), "2001:db8::1"),
                              text="ct original ip6 saddr 2001:db8::1"),),
        (OriginalPortMatch(Direction.SOURCE, PortSet.of((1024, 65535)), text="ct original proto-src 1024-65535"),),
        # no family in an inet table: kept opaque
        (OpaqueMatch("ct original daddr", "ct original daddr 10.0.0.1"),),
        (OpaqueMatch("ct reply ip saddr", "ct reply ip saddr 10.0.0.1"),),
    ]
    assert codes(diags) == ["PL013", "PL013"]
    rules, diags = _one_chain("        ct original daddr 10.0.0.1 drop", family="ip")
    assert rules[0].matches == (OriginalAddressMatch(Direction.DESTINATION, AddressSet(
        Family.IPV4, (v4("10.0.0.1"),), "10.0.0.1"), text="ct original daddr 10.0.0.1"),)


def test_limits_counts_and_set_updates():
    rules, diags = _one_chain(
        "        limit rate 10/second accept\n"
        "        limit rate over 10/second burst 5 packets drop\n"
        "        limit name lim accept\n"
        "        ct count over 5 drop\n"
        "        ct count 0 drop\n"
        "        add @s { ip saddr } accept\n"
        "        update @s { ip saddr limit rate over 5/second } drop\n"
        "        ip frag-off & 0x1fff != 0 drop\n"
        "        ip frag-off & 0x1fff == 0 accept")
    assert [r.matches for r in rules] == [
        (LimitMatch("limit", text="limit rate 10/second"),),
        (LimitMatch("limit", True, text="limit rate over 10/second burst 5 packets"),),
        (OpaqueMatch("limit", "limit name lim"),),
        (LimitMatch("ct count", True, text="ct count over 5"),),
        (LimitMatch("ct count", True, text="ct count 0"),),  # the first connection makes 1
        (),  # a statement: the rule always matches
        (LimitMatch("update", True, text="update @s { ip saddr limit rate over 5/second }"),),
        (ALL_V4, FragmentMatch(text="ip frag-off & 0x1fff != 0")),
        (ALL_V4, FragmentMatch(True, text="ip frag-off & 0x1fff == 0")),
    ]
    assert rules[5].statements == (Statement("add", "add @s { ip saddr }"),)
    assert codes(diags) == ["PL013"]


def test_reject_jump_goto_queue_and_opaque_matches():
    text = """table inet t {
    chain other { }
    chain c {
        tcp flags syn reject with tcp reset
        icmp type echo-request goto other
        meta l4proto { tcp, udp } th dport 53 queue num 1 bypass
        ip ttl 1 drop
    }
}
"""
    doc, diags = read(text)
    assert sorted(codes(diags)) == ["PL013"]  # icmp type decides no exposure: no note
    r = doc.tables[0].chain("c").rules
    assert r[0].matches == (TCP, TcpFlagsMatch(0x02, 0, any_of=True, text="tcp flags syn"))
    assert r[0].verdict == Verdict(VerdictKind.REJECT, options=(("with", "tcp reset"),))
    assert r[1].matches == (ProtocolMatch(frozenset({1}), text="icmp"),
                            OpaqueMatch("icmp type", "icmp type echo-request"))
    assert r[1].verdict == Verdict(VerdictKind.GOTO, "other")
    assert r[2].matches == (ProtocolMatch(frozenset({6, 17}), text="{ tcp, udp }"), dport(53))
    assert r[2].verdict == Verdict(VerdictKind.QUEUE, options=(("num", "1"), ("bypass", "")))
    assert r[3].matches == (ALL_V4, OpaqueMatch("ip ttl", "ip ttl 1"))


# --- handles, insert, delete, flush -----------------------------------------------------------


def test_list_ruleset_handles_and_delete_by_handle():
    listing = """table inet t { # handle 7
	chain c { # handle 1
		type filter hook input priority filter; policy accept;
		tcp dport 22 accept # handle 4
		tcp dport 23 accept # handle 9
		tcp dport 24 accept # handle 5
	}
}
delete rule inet t c handle 9
add rule inet t c position 4 tcp dport 25 accept
"""
    doc, diags = read(listing)
    assert diags == []
    assert [r.matches[1] for r in rules_of(doc)] == [dport(22), dport(25), dport(24)]


def test_script_insert_position_and_delete_in_creation_order():
    doc, diags = read(VALID["script"] + SCRIPT_EDITS)
    assert diags == []
    # handles: chain 1, rules 2 (port 1), 3 (port 2), 4 (port 3), 5 (port 0); handle 3 deleted;
    # port 4 goes after handle 2, port 5 before it
    ports = [r.matches[1].ports.ranges[0][0] for r in rules_of(doc)]
    assert ports == [0, 5, 1, 4, 3]
    first = rules_of(doc)[2]
    assert first.span == Span(P, 3, 1, 3, 36) and first.text == "add rule inet t c tcp dport 1 accept"


def test_flush_ruleset_clears_everything_before_it():
    doc, diags = read("table ip old {\n chain c { drop }\n}\nflush ruleset\ntable ip new { }\n")
    assert diags == []
    assert [t.name for t in doc.tables] == ["new"]


def test_flush_chain_and_delete_chain():
    text = "table ip t {\n chain a { drop }\n chain b { drop }\n}\nflush chain ip t a\ndelete chain ip t b\n"
    doc, diags = read(text)
    assert diags == []
    assert [(c.name, c.rules) for c in doc.tables[0].chains] == [("a", ())]


# --- include ------------------------------------------------------------------------------


def test_include_relative_missing_and_cycle(tmp_path):
    conf = tmp_path / "conf"
    (conf / "rules.d").mkdir(parents=True)
    (conf / "vars.nft").write_text("define ssh = 22\n")
    (conf / "rules.d" / "10-input.nft").write_text("tcp dport $ssh accept\n")
    (conf / "loop.nft").write_text('include "main.nft"\n')
    main = conf / "main.nft"
    main.write_text(
        'include "vars.nft"\n'
        "table inet t {\n"
        "  chain c {\n"
        '    include "rules.d/*.nft"\n'
        "  }\n"
        "}\n"
        'include "missing.nft"\n'
        'include "loop.nft"\n'
    )
    result = parse_source(SourceFile(str(main), main.read_text()), "nftables")
    assert sorted(codes(result.diagnostics)) == ["PL032", "PL033"]
    missing = next(d for d in result.diagnostics if d.code == "PL032")
    assert missing.span == Span(str(main), 7, 9, 7, 21)
    (rule,) = result.document.tables[0].chains[0].rules
    assert rule.matches == (TCP, dport(22))
    assert rule.span == Span(str(conf / "rules.d" / "10-input.nft"), 1, 1, 1, 21)


def test_include_absolute_path(tmp_path):
    inner = tmp_path / "inner.nft"
    inner.write_text("table ip inner {\n chain c { accept }\n}\n")
    doc, diags = read(f'include "{inner}"\n', path=str(tmp_path / "outer.nft"))
    assert diags == []
    assert doc.tables[0].name == "inner"
    assert doc.tables[0].chains[0].rules[0].span.path == str(inner)


# --- errors and recovery -----------------------------------------------------------------


def test_syntax_error_in_the_middle_rest_still_read():
    text = """table inet t {
    chain c {
        tcp dport 22 accept
        ip saddr 10.0.0.1 % drop
        tcp dport 80 accept
    }
    nonsense here { x }
    chain d {
        udp dport 53 accept
    }
}
table ip after {
    chain x { drop }
}
"""
    doc, diags = read(text)
    assert codes(diags) == ["PL010", "PL010"]
    first, second = diags
    assert first.span == Span(P, 4, 27)
    assert first.message == "Syntax error: unexpected character '%'"
    assert first.excerpt == "        ip saddr 10.0.0.1 % drop\n                          ^"
    assert (second.span, second.message) == (Span(P, 7, 5), "Syntax error: unexpected 'nonsense'")
    assert second.hint.startswith("expected ")
    found = {(t.name, c.name): [r.text for r in c.rules] for t in doc.tables for c in t.chains}
    assert found == {
        ("t", "c"): ["tcp dport 22 accept", "tcp dport 80 accept"],
        ("t", "d"): ["udp dport 53 accept"],
        ("after", "x"): ["drop"],
    }


def test_junk_after_a_closed_block_keeps_the_block():
    doc, diags = read("table ip t {\n chain c { drop }\n} junk { here }\ntable ip u { }\n")
    assert codes(diags) == ["PL010"]
    assert diags[0].span == Span(P, 3, 3)
    assert [t.name for t in doc.tables] == ["t", "u"]
    assert rules_of(doc)[0].verdict == DROP


def test_bad_rule_dropped_chain_kept():
    text = "table ip t {\n chain c {\n  tcp dport 1 accept\n  tcp dport\n  tcp dport 2 accept\n }\n}\n"
    doc, diags = read(text)
    assert codes(diags) == ["PL010"]
    assert diags[0].message == "Syntax error: missing value after 'tcp dport'"
    assert [r.matches[1] for r in rules_of(doc)] == [dport(1), dport(2)]


def test_a_verdict_word_is_not_a_chain_name():
    # nft: "syntax error, unexpected return, expecting '{'"; a quoted name would be a chain.
    text = "table ip t {\n chain c {\n  jump return\n  goto accept\n  tcp dport 1 accept\n }\n}\n"
    doc, diags = read(text)
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diags] == [
        ("PL010", 3, 8, "Syntax error: 'return' is a verdict, not a chain name after 'jump' (quote it to name a "
                        "chain so)"),
        ("PL010", 4, 8, "Syntax error: 'accept' is a verdict, not a chain name after 'goto' (quote it to name a "
                        "chain so)"),
    ]
    assert [r.text for r in rules_of(doc)] == ["tcp dport 1 accept"]


def test_unclosed_block_at_end_of_file():
    doc, diags = read("table ip t {\n chain c {\n  drop\n")
    assert codes(diags) == ["PL010"]
    assert diags[0].message == "Syntax error: unexpected end of file"
    assert rules_of(doc)[0].verdict == DROP


def test_invalid_values():
    text = """table ip t {
    chain c {
        ip saddr 10.0.0.300 accept
        tcp dport 70000 accept
        tcp dport nosuchservice accept
        ip saddr @nosuchset accept
        tcp dport 22 accept
    }
}
"""
    doc, diags = read(text)
    assert codes(diags) == ["PL011"] * 4
    assert [d.span.line for d in diags] == [3, 4, 5, 6]
    assert diags[1].message == "Invalid port 70000 (ports are 0-65535)"
    assert len(rules_of(doc)) == 5  # the bad values become opaque matches, the rules stay


def test_expansion_too_large_is_one_opaque_rule():
    elements = ", ".join(f"10.0.{i // 256}.{i % 256} . {i % 60000 + 1}" for i in range(10_001))
    text = f"table ip t {{\n chain c {{\n  ip saddr . tcp dport {{ {elements} }} accept\n }}\n}}\n"
    doc, diags = read(text)
    assert "PL034" in codes(diags)
    (rule,) = rules_of(doc)
    assert isinstance(rule.matches[-1], OpaqueMatch)


def test_crlf_input():
    text = VALID["define"].replace("\n", "\r\n")
    doc, diags = read(text)
    assert diags == []
    (rule,) = rules_of(doc)
    assert rule.span == Span(P, 5, 9, 5, 45)
    assert rule.text == "ip saddr $lan tcp dport $ports accept"


def test_line_continuation_and_semicolons():
    doc, diags = read("table ip t { chain c { tcp dport 1 \\\n accept; udp dport 2 drop; } }\n")
    assert diags == []
    assert [r.verdict for r in rules_of(doc)] == [ACCEPT, DROP]


def test_registered_front_end():
    assert FRONT_ENDS["nftables"] == "linter.frontends.nftables"


# --- nft itself agrees that the valid inputs are valid -------------------------------------


def _netns_available() -> str | None:
    """None when nft checks can run, else the reason they can't."""
    if shutil.which("nft") is None or shutil.which("ip") is None:
        return "nft or ip not installed"
    if os.geteuid() != 0:
        return "needs root for a network namespace"
    return None


class _Netns:
    """A throwaway network namespace to run nft in (skips the test when it can't be made)."""

    def __init__(self):
        reason = _netns_available()
        if reason:
            pytest.skip(reason)
        self.name = f"portlint-{uuid.uuid4().hex[:8]}"
        created = subprocess.run(["ip", "netns", "add", self.name], capture_output=True, text=True)
        if created.returncode != 0:
            pytest.skip(f"cannot create a network namespace: {created.stderr.strip()}")

    def nft(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.name, "nft", *args],
                              capture_output=True, text=True, timeout=60)

    def close(self) -> None:
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


@pytest.fixture
def netns():
    space = _Netns()
    yield space
    space.close()


@pytest.mark.kernel
@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_inputs_accepted_by_nft(name, tmp_path, netns):
    path = tmp_path / f"{name}.nft"
    path.write_text(VALID[name])
    checked = netns.nft("-c", "-f", str(path))
    assert checked.returncode == 0, checked.stderr


@pytest.mark.kernel
def test_handle_order_matches_nft(tmp_path, netns):
    """The kernel's rule order after insert/delete/position equals the model's."""
    for index, part in enumerate((VALID["script"], SCRIPT_EDITS)):
        path = tmp_path / f"part{index}.nft"
        path.write_text(part)
        loaded = netns.nft("-f", str(path))
        assert loaded.returncode == 0, loaded.stderr
    listing = netns.nft("-a", "list", "ruleset")
    assert listing.returncode == 0, listing.stderr
    doc, diags = read(listing.stdout, path="listing.nft")
    assert diags == []
    expected, _ = read(VALID["script"] + SCRIPT_EDITS)
    assert [r.matches[1:] for r in rules_of(doc)] == [r.matches[1:] for r in rules_of(expected)]


# --- speed --------------------------------------------------------------------------------


def generated_ruleset(count: int) -> str:
    """A ruleset of ``count`` varied rules (addresses, sets, interfaces, logs, limits)."""
    lines = [
        "table inet filter {",
        "  set blocked { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.0.0/16 } }",
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
    ]
    for i in range(count):
        port = i % 65000 + 1
        lines.append([
            f"    ip saddr 10.{i % 256}.{i // 256 % 256}.0/24 tcp dport {port} accept",
            f'    iifname "eth{i % 8}" udp dport {{ {port}, {port + 1}-{port + 9} }} counter drop',
            f'    ip6 saddr 2001:db8::{i:x} tcp dport {port} ct state new log prefix "r{i} " accept',
            f'    ip saddr @blocked tcp dport {port} drop comment "rule {i}"',
            f"    meta l4proto tcp th dport {port} limit rate 10/second accept",
        ][i % 5])
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_ten_thousand_rules_read_quickly():
    import time

    text = generated_ruleset(10_000)
    started = time.perf_counter()
    doc, diags = read(text)
    elapsed = time.perf_counter() - started
    assert codes(diags) == []  # limit is modelled
    assert len(rules_of(doc)) == 10_000
    assert elapsed < 30, f"{elapsed:.1f}s for 10,000 rules"  # about 1.5-2 s on a 2-core machine
