"""The iptables-save front end: exact model objects, spans and diagnostics."""

from __future__ import annotations

import ipaddress

import pytest

from linter.frontends import FRONT_ENDS, parse_source
from linter.frontends.iptables.save import parse
from linter.frontends.iptables.tables import detect_family
from linter.frontends.iptables.tokens import fast_path, line_parser, tokens_from_tree
from linter.model import (
    MarkMatch,
    AddressMatch,
    AddressSet,
    AddrTypeMatch,
    CtStatusMatch,
    Direction,
    Family,
    FragmentMatch,
    Hook,
    InterfaceMatch,
    LimitMatch,
    NatStateMatch,
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
    TcpFlagsMatch,
    Verdict,
    VerdictKind,
)
from linter.source import SourceFile

PATH = "rules.v4"
SRC, DST = Direction.SOURCE, Direction.DESTINATION
TCP = ProtocolMatch(frozenset({6}), False, "tcp")
UDP = ProtocolMatch(frozenset({17}), False, "udp")
ACCEPT = Verdict(VerdictKind.ACCEPT)
DROP = Verdict(VerdictKind.DROP)

HEAD = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:LOGDROP - [0:0]
"""  # rules written after HEAD start on line 6


def read(text: str, path: str = PATH):
    return parse(SourceFile(path, text))


def one_rule(rule_line: str):
    """The single rule of a filter table holding ``rule_line`` on line 6, and the diagnostics."""
    result = read(HEAD + rule_line + "\nCOMMIT\n")
    chain_name = rule_line.split()[1] if not rule_line.startswith("[") else rule_line.split()[2]
    rules = result.document.table("filter").chain(chain_name).rules
    assert len(rules) == 1
    return rules[0], result.diagnostics


def v4(text: str) -> AddressSet:
    net = ipaddress.ip_network(text, strict=False)
    return AddressSet(Family.IPV4, ((int(net.network_address), int(net.broadcast_address)),), text)


def v4_range(first: str, last: str, text: str | None = None) -> AddressSet:
    lo, hi = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))
    return AddressSet(Family.IPV4, ((lo, hi),), text or f"{first}-{last}")


def codes(diagnostics) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diagnostics]


def test_registered_as_a_front_end():
    assert FRONT_ENDS["iptables-save"] == "linter.frontends.iptables.save"
    result = parse_source(SourceFile(PATH, HEAD + "COMMIT\n"), "iptables-save")
    assert result.document.format == "iptables-save"


# --- Rules into the model ------------------------------------------------------------


def test_protocol_and_port_with_exact_span_and_text():
    line = "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"
    rule, diagnostics = one_rule(line)
    assert rule == Rule(
        matches=(TCP, PortMatch(DST, PortSet.of(22))),
        verdict=ACCEPT,
        span=Span(PATH, 6, 1, 6, len(line)),
        text=line,
    )
    assert diagnostics == []


def test_negated_source_in_both_spellings():
    new, _ = one_rule("-A INPUT ! -s 10.0.0.0/8 -j DROP")
    old, _ = one_rule("-A INPUT -s ! 10.0.0.0/8 -j DROP")
    expected = (AddressMatch(SRC, v4("10.0.0.0/8"), negated=True),)
    assert new.matches == expected
    assert old.matches == expected


def test_multiport_lists_and_ranges():
    rule, diagnostics = one_rule("-A INPUT -p tcp -m multiport --dports 21,22,1000:2000 -j ACCEPT")
    assert rule.matches == (TCP, PortMatch(DST, PortSet.of((21, 22), (1000, 2000))))
    assert diagnostics == []


@pytest.mark.parametrize(
    "spec, ports",
    [("1000:2000", (1000, 2000)), (":1023", (0, 1023)), ("1024:", (1024, 65535)), ("0", (0, 0))],
)
def test_port_ranges(spec, ports):
    rule, _ = one_rule(f"-A INPUT -p udp -m udp --sport {spec} -j ACCEPT")
    assert rule.matches == (UDP, PortMatch(SRC, PortSet.of(ports)))


def test_service_names_use_the_rule_protocol():
    telnet, _ = one_rule("-A INPUT -p tcp --dport telnet -j DROP")
    domain, _ = one_rule("-A INPUT -p udp --dport domain -j ACCEPT")
    assert telnet.matches == (TCP, PortMatch(DST, PortSet.of(23)))
    assert domain.matches == (UDP, PortMatch(DST, PortSet.of(53)))


def test_implicit_protocol_modules():
    rule, diagnostics = one_rule("-A INPUT -p icmp --icmp-type echo-request -j ACCEPT")
    icmp = ProtocolMatch(frozenset({1}), False, "icmp")
    assert rule.matches == (icmp, OpaqueMatch("icmp", "--icmp-type echo-request"))
    assert diagnostics == []


def test_conntrack_state_and_other_conntrack_options():
    rule, _ = one_rule("-A INPUT -m conntrack --ctstate NEW,ESTABLISHED --ctstatus ASSURED -j ACCEPT")
    # The same -m conntrack has --ctstate: a packet without a conntrack entry that passed it
    # passes --ctstatus too (xt_conntrack stops looking there).
    assert rule.matches == (
        StateMatch(frozenset({"new", "established"})),
        CtStatusMatch(frozenset({"assured"}), without_entry=True, text="--ctstatus ASSURED"),
    )
    state, _ = one_rule("-A INPUT -m state ! --state INVALID -j ACCEPT")
    assert state.matches == (StateMatch(frozenset({"invalid"}), negated=True),)


def test_ctstate_dnat_and_snat_are_nat_status_bits():
    rule, diagnostics = one_rule("-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT")
    assert rule.matches == (NatStateMatch(frozenset(), frozenset({"dnat"}), text="--ctstate DNAT"),)
    assert diagnostics == []
    rule, _ = one_rule("-A INPUT -m conntrack ! --ctstate NEW,SNAT -j DROP")
    assert rule.matches == (NatStateMatch(frozenset({"new"}), frozenset({"snat"}), True, "--ctstate NEW,SNAT"),)
    # -m state knows no virtual states
    rule, diagnostics = one_rule("-A INPUT -m state --state DNAT -j ACCEPT")
    assert rule.matches == (OpaqueMatch("state", "--state DNAT"),) and codes(diagnostics) == [("PL011", 6, 27)]


def test_ctstatus_values():
    rule, diagnostics = one_rule("-A INPUT -m conntrack --ctstatus CONFIRMED,SEEN_REPLY,NONE -j ACCEPT")
    assert rule.matches == (CtStatusMatch(frozenset({"confirmed", "seen-reply"}),
                                          text="--ctstatus CONFIRMED,SEEN_REPLY,NONE"),)
    assert diagnostics == []
    rule, _ = one_rule("-A INPUT -m conntrack ! --ctstatus EXPECTED -j ACCEPT")
    assert rule.matches == (CtStatusMatch(frozenset({"expected"}), negated=True, text="--ctstatus EXPECTED"),)
    # iptables refuses DNAT there ("Bad ctstatus"): the virtual state --ctstate DNAT is how it is said
    rule, diagnostics = one_rule("-A INPUT -m conntrack --ctstatus DNAT -j ACCEPT")
    assert rule.matches == (OpaqueMatch("conntrack", "--ctstatus DNAT"),)
    assert [(d.code, d.message, d.span.column) for d in diagnostics] == [("PL011", "Bad ctstatus 'DNAT'", 34)]


def test_original_tuple_options():
    rule, diagnostics = one_rule("-A FORWARD -p tcp -m conntrack --ctorigdstport 5432 ! --ctorigsrc 10.0.0.0/8 "
                                 "--ctorigdst 203.0.113.7 --ctorigsrcport 1024:65535 --ctrepldst 10.1.1.1 -j DROP")
    assert rule.matches == (
        TCP,
        OriginalPortMatch(DST, PortSet.of(5432), text="--ctorigdstport 5432"),
        OriginalAddressMatch(Direction.SOURCE, v4("10.0.0.0/8"), True, text="--ctorigsrc 10.0.0.0/8"),
        OriginalAddressMatch(DST, v4("203.0.113.7"), text="--ctorigdst 203.0.113.7"),
        OriginalPortMatch(Direction.SOURCE, PortSet.of((1024, 65535)), text="--ctorigsrcport 1024:65535"),
        OpaqueMatch("conntrack", "--ctrepldst 10.1.1.1"),
    )
    assert diagnostics == []
    # with --ctstate in the same module, packets without a conntrack entry pass the other options
    rule, _ = one_rule("-A INPUT -m conntrack --ctorigdstport 22 --ctstate INVALID -j DROP")
    assert rule.matches == (OriginalPortMatch(DST, PortSet.of(22), without_entry=True, text="--ctorigdstport 22"),
                            StateMatch(frozenset({"invalid"})))
    rule, _ = one_rule("-A INPUT -m conntrack --ctorigdstport 22 -m conntrack --ctstate INVALID -j DROP")
    assert rule.matches[0] == OriginalPortMatch(DST, PortSet.of(22), text="--ctorigdstport 22")


def test_tcp_flags_and_syn():
    syn = TcpFlagsMatch(0x17, 0x02, text="--syn")
    rule, _ = one_rule("-A INPUT -p tcp --syn -j ACCEPT")
    assert rule.matches == (TCP, syn)
    rule, _ = one_rule("-A INPUT -p tcp ! --syn -m state --state NEW -j DROP")
    assert rule.matches == (TCP, TcpFlagsMatch(0x17, 0x02, negated=True, text="--syn"),
                            StateMatch(frozenset({"new"})))
    rule, _ = one_rule("-A INPUT -p tcp --tcp-flags RST RST -j DROP")
    assert rule.matches == (TCP, TcpFlagsMatch(0x04, 0x04, text="--tcp-flags RST RST"))
    rule, _ = one_rule("-A INPUT -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT")
    assert rule.matches == (TCP, TcpFlagsMatch(0x17, 0x02, text="--tcp-flags FIN,SYN,RST,ACK SYN"))
    rule, _ = one_rule("-A INPUT -p tcp --tcp-flags ALL NONE -j DROP")
    assert rule.matches == (TCP, TcpFlagsMatch(0x3F, 0, text="--tcp-flags ALL NONE"))
    rule, _ = one_rule("-A INPUT -p tcp ! --tcp-flags ALL FIN,URG,PSH -j DROP")
    assert rule.matches == (TCP, TcpFlagsMatch(0x3F, 0x29, negated=True, text="--tcp-flags ALL FIN,URG,PSH"))
    rule, diagnostics = one_rule("-A INPUT -p tcp --tcp-flags SYN,ACK ECE -j DROP")
    assert rule.matches == (TCP, OpaqueMatch("tcp", "--tcp-flags SYN,ACK ECE"))
    assert [(d.code, d.message, d.span.column) for d in diagnostics] == [("PL011", "Unknown TCP flag 'ECE'", 37)]


def test_limits_and_recent_set():
    cases = {
        "-m limit --limit 3/min --limit-burst 10": LimitMatch("limit", text="--limit 3/min --limit-burst 10"),
        "-m hashlimit --hashlimit-upto 5/sec --hashlimit-name h": LimitMatch(
            "hashlimit", text="--hashlimit-upto 5/sec --hashlimit-name h"),
        "-m hashlimit --hashlimit-above 5/sec --hashlimit-mode srcip --hashlimit-name h": LimitMatch(
            "hashlimit", True, text="--hashlimit-above 5/sec --hashlimit-mode srcip --hashlimit-name h"),
        "-m connlimit --connlimit-above 10": LimitMatch("connlimit", True, text="--connlimit-above 10"),
        "-m connlimit ! --connlimit-above 10": LimitMatch("connlimit", True, True, "--connlimit-above 10"),
        # the first connection counts itself: above 0 matches it, upto 0 does not
        "-m connlimit --connlimit-above 0": LimitMatch("connlimit", False, text="--connlimit-above 0"),
        "-m connlimit --connlimit-upto 0": LimitMatch("connlimit", True, text="--connlimit-upto 0"),
        "-m recent --set --name SSH": LimitMatch("recent", text="--set --name SSH"),
        "-m recent --update --seconds 60 --hitcount 4 --name SSH": OpaqueMatch(
            "recent", "--update --seconds 60 --hitcount 4 --name SSH"),
        "-m recent --rcheck --name SSH": OpaqueMatch("recent", "--rcheck --name SSH"),
    }
    for text, expected in cases.items():
        rule, diagnostics = one_rule(f"-A INPUT -p tcp --dport 22 {text} -j ACCEPT")
        assert rule.matches == (TCP, PortMatch(DST, PortSet.of(22)), expected), text
        assert diagnostics == [], text


def test_fragment_option():
    rule, _ = one_rule("-A INPUT -f -j DROP")
    assert rule.matches == (FragmentMatch(text="-f"),)
    rule, _ = one_rule("-A INPUT ! -f -j ACCEPT")
    assert rule.matches == (FragmentMatch(True, "-f"),)


def test_conntrack_match_order_follows_the_options():
    rule, _ = one_rule("-A INPUT -m conntrack --ctproto 6 --ctstate RELATED -j ACCEPT")
    assert rule.matches == (OpaqueMatch("conntrack", "--ctproto 6"), StateMatch(frozenset({"related"})))


def test_addrtype_with_limit_iface_kept_opaque():
    rule, _ = one_rule("-A INPUT -m addrtype --dst-type LOCAL,BROADCAST --limit-iface-in -j DROP")
    assert rule.matches == (
        AddrTypeMatch(DST, frozenset({"LOCAL", "BROADCAST"})),
        OpaqueMatch("addrtype", "--limit-iface-in"),
    )


def test_iprange():
    rule, _ = one_rule("-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 192.168.1.5 -j ACCEPT")
    assert rule.matches == (
        AddressMatch(SRC, v4_range("10.0.0.1", "10.0.0.9")),
        AddressMatch(DST, v4_range("192.168.1.5", "192.168.1.5", "192.168.1.5"), negated=True),
    )


def test_interface_wildcard_is_kept():
    rule, _ = one_rule("-A FORWARD -i docker+ ! -o eth0 -j ACCEPT")
    assert rule.matches == (InterfaceMatch("in", ("docker+",)), InterfaceMatch("out", ("eth0",), negated=True))
    assert rule.matches[0].matches("docker0")


def test_address_lists_and_dotted_masks():
    rule, _ = one_rule("-A INPUT -s 192.168.1.0/255.255.255.0,10.0.0.1 -d 10/8 -j ACCEPT")
    lo1 = int(ipaddress.ip_address("10.0.0.1"))
    lo2 = int(ipaddress.ip_address("192.168.1.0"))
    assert rule.matches == (
        AddressMatch(SRC, AddressSet(Family.IPV4, ((lo1, lo1), (lo2, lo2 + 255)),
                                     "192.168.1.0/255.255.255.0,10.0.0.1")),
        AddressMatch(DST, v4_range("10.0.0.0", "10.255.255.255", "10/8")),
    )


def test_negated_address_list_is_what_iptables_makes_of_it():
    # iptables makes one rule per address: "! -s a,b" is "not a" or "not b".
    disjoint, _ = one_rule("-A INPUT ! -s 10.0.0.1,10.0.0.2 -j DROP")
    assert disjoint.matches == (AddressMatch(SRC, AddressSet(Family.IPV4, (), "10.0.0.1,10.0.0.2"), negated=True),)
    nested, _ = one_rule("-A INPUT ! -s 10.0.0.0/8,10.1.0.0/16 -j DROP")
    assert nested.matches[0].addresses.ranges == v4("10.1.0.0/16").ranges


def test_protocol_all_means_no_protocol_match():
    rule, _ = one_rule("-A INPUT -p all -s 10.0.0.0/8 -j ACCEPT")
    assert rule.matches == (AddressMatch(SRC, v4("10.0.0.0/8")),)
    numeric, _ = one_rule("-A INPUT -p 6 -j ACCEPT")
    assert numeric.matches == (ProtocolMatch(frozenset({6}), False, "6"),)


def test_long_spellings():
    rule, diagnostics = one_rule(
        "-A INPUT --protocol tcp --source 1.2.3.4 --in-interface eth0 --match tcp --destination-port 22 "
        "--jump ACCEPT"
    )
    assert rule.matches == (
        TCP,
        AddressMatch(SRC, v4_range("1.2.3.4", "1.2.3.4", "1.2.3.4")),
        InterfaceMatch("in", ("eth0",)),
        PortMatch(DST, PortSet.of(22)),
    )
    assert rule.verdict == ACCEPT
    assert diagnostics == []


def test_abbreviated_and_equals_options_as_getopt_reads_them():
    rule, diagnostics = one_rule("-A INPUT -p tcp --dpo 22 --sport=1024: -j ACCEPT")
    assert rule.matches == (TCP, PortMatch(DST, PortSet.of(22)), PortMatch(SRC, PortSet.of((1024, 65535))))
    assert diagnostics == []


def test_options_take_the_right_number_of_arguments():
    rule, diagnostics = one_rule(
        "-A INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN --dport 22 -m recent --set --name SSH --rsource "
        "-m limit --limit 3/min -j LOG --log-prefix \"SSH: \" --log-tcp-options"
    )
    assert rule.matches == (
        TCP,
        TcpFlagsMatch(0x12, 0x02, text="--tcp-flags SYN,ACK SYN"),
        PortMatch(DST, PortSet.of(22)),
        LimitMatch("recent", text="--set --name SSH --rsource"),
        LimitMatch("limit", text="--limit 3/min"),
    )
    assert rule.verdict == Verdict(VerdictKind.LOG, "LOG", options=(("--log-prefix", "SSH: "),
                                                                    ("--log-tcp-options", "")))
    assert diagnostics == []


def test_set_means_different_things_after_recent_and_set():
    rule, diagnostics = one_rule("-A INPUT -m recent --set -m set --set blocklist src -j DROP")
    assert rule.matches == (LimitMatch("recent", text="--set"), OpaqueMatch("set", "--set blocklist src"))
    assert diagnostics == []


def test_single_negated_option_negates_its_match():
    rule, _ = one_rule("-A INPUT -m mark ! --mark 0x1/0xff -m recent ! --rcheck --seconds 60 -j DROP")
    assert rule.matches == (
        MarkMatch(1, 0xFF, negated=True, text="--mark 0x1/0xff"),
        OpaqueMatch("recent", "! --rcheck --seconds 60"),
    )


def test_marks_are_modelled():
    rule, _ = one_rule("-A INPUT -m mark --mark 0x4000/0x4000 -m connmark --mark 7 -j ACCEPT")
    assert rule.matches == (MarkMatch(0x4000, 0x4000, text="--mark 0x4000/0x4000"),
                            MarkMatch(7, 0xFFFFFFFF, conn=True, text="--mark 7"))


def test_module_without_options_is_still_a_match():
    # -m limit alone limits to 3/hour with a burst of 5: the first packets pass.
    rule, _ = one_rule("-A INPUT -m limit -j ACCEPT")
    assert rule.matches == (LimitMatch("limit"),)
    rule, _ = one_rule("-A INPUT -m hashlimit -j ACCEPT")
    assert rule.matches == (OpaqueMatch("hashlimit", ""),)


def test_multiport_ports_is_opaque():
    # --ports matches when the source OR the destination port is listed; a rule's matches are ANDed.
    rule, _ = one_rule("-A INPUT -p udp -m multiport --ports 53,123 -j ACCEPT")
    assert rule.matches == (UDP, OpaqueMatch("multiport", "--ports 53,123"))


def test_log_with_quoted_prefix_and_escapes():
    rule, _ = one_rule('-A INPUT -j LOG --log-prefix "IN: \\"x\\" " --log-level 4')
    assert rule.verdict == Verdict(VerdictKind.LOG, "LOG", options=(("--log-prefix", 'IN: "x" '), ("--log-level", "4")))
    assert not rule.verdict.terminal


def test_comment_is_not_a_match():
    rule, _ = one_rule('-A INPUT -p tcp --dport 80 -m comment --comment "web \\"front\\"" -j ACCEPT')
    assert rule.comment == 'web "front"'
    assert rule.matches == (TCP, PortMatch(DST, PortSet.of(80)))


def test_counters_prefix_moves_the_span():
    line = "[5:300] -A INPUT -i lo -j ACCEPT"
    rule, _ = one_rule(line)
    assert rule.span == Span(PATH, 6, 9, 6, len(line))
    assert rule.text == "-A INPUT -i lo -j ACCEPT"


def test_jumps_and_gotos():
    jump, _ = one_rule("-A INPUT -p tcp -j LOGDROP")
    goto, _ = one_rule("-A INPUT -g LOGDROP")
    assert jump.verdict == Verdict(VerdictKind.JUMP, "LOGDROP")
    assert goto.verdict == Verdict(VerdictKind.GOTO, "LOGDROP")
    assert goto.verdict.terminal


def test_jump_to_a_chain_the_file_does_not_declare_is_left_to_the_checks():
    rule, diagnostics = one_rule("-A INPUT -j ufw-skip-to-policy-input")
    assert rule.verdict == Verdict(VerdictKind.JUMP, "ufw-skip-to-policy-input")
    assert diagnostics == []


@pytest.mark.parametrize(
    "target, kind, terminal",
    [
        ("REJECT --reject-with tcp-reset", VerdictKind.REJECT, True),
        ("NFLOG --nflog-group 5", VerdictKind.LOG, False),
        ("MARK --set-xmark 0x1/0xffffffff", VerdictKind.OTHER, False),
        ("CONNMARK --save-mark", VerdictKind.OTHER, False),
        ("NFQUEUE --queue-num 3 --queue-bypass", VerdictKind.OTHER, True),
        ("TCPMSS --clamp-mss-to-pmtu", VerdictKind.OTHER, False),
        ("QUEUE", VerdictKind.QUEUE, True),
        ("RETURN", VerdictKind.RETURN, True),
    ],
)
def test_targets(target, kind, terminal):
    rule, diagnostics = one_rule(f"-A FORWARD -p tcp -j {target}")
    assert rule.verdict.kind is kind
    assert rule.verdict.terminal is terminal
    assert diagnostics == []


def test_nat_rewrites():
    text = HEAD.replace("*filter", "*nat").replace(":INPUT DROP", ":PREROUTING ACCEPT").replace(
        ":FORWARD DROP", ":POSTROUTING ACCEPT") + "\n".join([
            "-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080",
            "-A PREROUTING -p tcp --dport 81 -j DNAT --to-destination 1.2.3.4-1.2.3.9:80-90",
            "-A PREROUTING -p tcp --dport 82 -j REDIRECT --to-ports 8080",
            "-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE",
            "-A POSTROUTING -p udp -j SNAT --to-source 5.6.7.8:1024-2048 --random",
            "COMMIT", ""])
    result = read(text)
    nat = result.document.table("nat")
    dnat, dnat_range, redirect = (r.verdict for r in nat.chain("PREROUTING").rules)
    assert dnat == Verdict(VerdictKind.DNAT, None, v4_range("172.17.0.2", "172.17.0.2", "172.17.0.2"),
                           PortSet.of(8080), (("--to-destination", "172.17.0.2:8080"),))
    assert dnat_range.to_addresses == v4_range("1.2.3.4", "1.2.3.9")
    assert dnat_range.to_ports == PortSet.of((80, 90))
    assert redirect == Verdict(VerdictKind.REDIRECT, to_ports=PortSet.of(8080), options=(("--to-ports", "8080"),))
    masquerade, snat = (r.verdict for r in nat.chain("POSTROUTING").rules)
    assert masquerade == Verdict(VerdictKind.MASQUERADE)
    assert snat == Verdict(VerdictKind.SNAT, None, v4_range("5.6.7.8", "5.6.7.8", "5.6.7.8"), PortSet.of((1024, 2048)),
                           (("--to-source", "5.6.7.8:1024-2048"), ("--random", "")))
    assert result.diagnostics == []


def test_insert_order_is_the_final_order():
    text = HEAD + "\n".join([
        "-A INPUT -s 10.0.0.1 -j ACCEPT",      # line 6
        "-A INPUT -s 10.0.0.2 -j ACCEPT",      # line 7
        "-I INPUT -s 10.0.0.3 -j ACCEPT",      # line 8: first
        "-I INPUT 2 -s 10.0.0.4 -j ACCEPT",    # line 9: second
        "-I INPUT -s 10.0.0.5 -j ACCEPT",      # line 10: first
        "-I INPUT 6 -s 10.0.0.6 -j ACCEPT",    # line 11: last (5 rules before it)
        "COMMIT", ""])
    result = read(text)
    lines = [r.span.line for r in result.document.table("filter").chain("INPUT").rules]
    assert lines == [10, 8, 9, 6, 7, 11]
    assert result.diagnostics == []


def test_base_chains_of_every_table():
    text = "\n".join([
        "*raw", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", "COMMIT",
        "*mangle", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", "COMMIT",
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]", ":DOCKER - [0:0]", "COMMIT",
        "*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", "COMMIT",
        "*security", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", "COMMIT", ""])
    ruleset = read(text).document
    assert ruleset.family is Family.IPV4
    assert [t.name for t in ruleset.tables] == ["raw", "mangle", "nat", "filter", "security"]
    shape = {(t.name, c.name): (c.hook, c.type, c.priority, c.policy) for t in ruleset.tables for c in t.chains}
    assert shape == {
        ("raw", "PREROUTING"): (Hook.PREROUTING, "filter", -300, Policy.ACCEPT),
        ("raw", "OUTPUT"): (Hook.OUTPUT, "filter", -300, Policy.ACCEPT),
        ("mangle", "PREROUTING"): (Hook.PREROUTING, "filter", -150, Policy.ACCEPT),
        ("mangle", "INPUT"): (Hook.INPUT, "filter", -150, Policy.ACCEPT),
        ("mangle", "FORWARD"): (Hook.FORWARD, "filter", -150, Policy.ACCEPT),
        ("mangle", "OUTPUT"): (Hook.OUTPUT, "route", -150, Policy.ACCEPT),
        ("mangle", "POSTROUTING"): (Hook.POSTROUTING, "filter", -150, Policy.ACCEPT),
        ("nat", "PREROUTING"): (Hook.PREROUTING, "nat", -100, Policy.ACCEPT),
        ("nat", "INPUT"): (Hook.INPUT, "nat", 100, Policy.ACCEPT),
        ("nat", "OUTPUT"): (Hook.OUTPUT, "nat", -100, Policy.ACCEPT),
        ("nat", "POSTROUTING"): (Hook.POSTROUTING, "nat", 100, Policy.ACCEPT),
        ("nat", "DOCKER"): (None, None, None, None),
        ("filter", "INPUT"): (Hook.INPUT, "filter", 0, Policy.DROP),
        ("filter", "FORWARD"): (Hook.FORWARD, "filter", 0, Policy.DROP),
        ("filter", "OUTPUT"): (Hook.OUTPUT, "filter", 0, Policy.ACCEPT),
        ("security", "INPUT"): (Hook.INPUT, "filter", 50, Policy.ACCEPT),
        ("security", "FORWARD"): (Hook.FORWARD, "filter", 50, Policy.ACCEPT),
        ("security", "OUTPUT"): (Hook.OUTPUT, "filter", 50, Policy.ACCEPT),
    }
    nat = ruleset.table("nat")
    assert nat.span == Span(PATH, 12, 1, 12, 4)
    assert nat.chain("DOCKER").span == Span(PATH, 17, 1, 17, len(":DOCKER - [0:0]"))


def test_builtin_chains_not_declared_still_exist_with_accept():
    ruleset = read("*filter\n:INPUT DROP [0:0]\n-A OUTPUT -j ACCEPT\nCOMMIT\n").document
    filter_table = ruleset.table("filter")
    assert {c.name: c.policy for c in filter_table.chains} == {
        "INPUT": Policy.DROP, "OUTPUT": Policy.ACCEPT, "FORWARD": Policy.ACCEPT}


def test_ip6tables_file():
    text = "\n".join([
        "# Generated by ip6tables-save v1.8.9 on Mon Jan  1 00:00:00 2024",
        "*filter",
        ":INPUT DROP [0:0]",
        "-A INPUT -s 2001:db8::/32 -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT",
        "-A INPUT -d ::1/128 -p tcp -m tcp --dport 22 -j ACCEPT",
        "COMMIT",
        "*nat",
        ":PREROUTING ACCEPT [0:0]",
        "-A PREROUTING -p tcp --dport 80 -j DNAT --to-destination [2001:db8::1]:8080",
        "COMMIT", ""])
    result = read(text, "rules.v6")
    ruleset = result.document
    assert ruleset.family is Family.IPV6
    assert all(t.family is Family.IPV6 for t in ruleset.tables)
    icmp, ssh = ruleset.table("filter").chain("INPUT").rules
    net = ipaddress.ip_network("2001:db8::/32")
    assert icmp.matches == (
        AddressMatch(SRC, AddressSet(Family.IPV6, ((int(net.network_address), int(net.broadcast_address)),),
                                     "2001:db8::/32")),
        ProtocolMatch(frozenset({58}), False, "ipv6-icmp"),
        OpaqueMatch("icmp6", "--icmpv6-type 128"),
    )
    assert ssh.matches[0] == AddressMatch(DST, AddressSet(Family.IPV6, ((1, 1),), "::1/128"))
    dnat = ruleset.table("nat").chain("PREROUTING").rules[0].verdict
    host = int(ipaddress.ip_address("2001:db8::1"))
    assert dnat.to_addresses == AddressSet(Family.IPV6, ((host, host),), "2001:db8::1")
    assert dnat.to_ports == PortSet.of(8080)
    assert result.diagnostics == []


@pytest.mark.parametrize(
    "text, family",
    [
        ("# Generated by ip6tables-save v1.8.9\n*filter\nCOMMIT\n", Family.IPV6),
        ("*filter\n-A INPUT -s fe80::/10 -j ACCEPT\nCOMMIT\n", Family.IPV6),
        ("*filter\n-A INPUT -p icmpv6 -j ACCEPT\nCOMMIT\n", Family.IPV6),
        ("*filter\n-A INPUT -m hl --hl-eq 255 -j ACCEPT\nCOMMIT\n", Family.IPV6),
        ("*filter\n-A INPUT -s 10.0.0.1 -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT\nCOMMIT\n", Family.IPV4),
        ("*nat\n-A PREROUTING -j DNAT --to-destination 10.0.0.1:80\nCOMMIT\n", Family.IPV4),
        # ICMPv6 next to IPv4 addresses: the addresses win.
        ("*filter\n-A INPUT -s 127.0.0.0/8 -j DROP\n-A INPUT -p icmpv6 -j ACCEPT\nCOMMIT\n", Family.IPV4),
    ],
)
def test_family_detection(text, family):
    assert detect_family(text) is family


def test_host_names_are_kept_but_not_modelled():
    rule, diagnostics = one_rule("-A OUTPUT -d ntp.example.net -p udp --dport 123 -j ACCEPT")
    assert rule.matches == (OpaqueMatch("destination", "-d ntp.example.net"), UDP, PortMatch(DST, PortSet.of(123)))
    assert codes(diagnostics) == [("PL013", 6, 14)]


# --- Diagnostics -------------------------------------------------------------------------


def test_port_above_65535():
    line = "-A INPUT -p tcp --dport 70000 -j ACCEPT"
    rule, diagnostics = one_rule(line)
    assert codes(diagnostics) == [("PL011", 6, 25)]
    assert diagnostics[0].message == "Port 70000 is above 65535"
    assert diagnostics[0].excerpt == line + "\n" + " " * 24 + "^"
    # The bad match is kept as a may-match, not dropped (which would widen the rule).
    assert rule.matches == (TCP, OpaqueMatch("tcp", "--dport 70000"))


def test_bad_port_inside_a_list_points_at_it():
    _, diagnostics = one_rule("-A INPUT -p tcp -m multiport --dports 22,70000 -j ACCEPT")
    assert codes(diagnostics) == [("PL011", 6, 42)]


def test_jump_without_target():
    rule, diagnostics = one_rule("-A INPUT -p tcp -j")
    assert codes(diagnostics) == [("PL010", 6, 17)]
    assert diagnostics[0].message == "Missing target after -j"
    assert rule.verdict == Verdict(VerdictKind.CONTINUE)


def test_missing_port_after_dport():
    _, diagnostics = one_rule("-A INPUT -p tcp --dport -j ACCEPT")
    assert [(d.code, d.span.column, d.message) for d in diagnostics] == [("PL010", 17, "Missing port after --dport")]


def test_unknown_option():
    rule, diagnostics = one_rule("-A INPUT -p tcp --dprot 22 -j ACCEPT")
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics] == [
        ("PL012", 6, 17, "Unknown option --dprot")]
    assert rule.matches == (TCP, OpaqueMatch("unknown", "--dprot 22"))
    assert rule.verdict == ACCEPT


def test_unknown_module_takes_its_options():
    rule, diagnostics = one_rule("-A INPUT -p tcp -m geoip --src-cc CN,RU ! -s 10.0.0.0/8 -j DROP")
    assert [(d.code, d.span.column, d.message) for d in diagnostics] == [
        ("PL013", 20, "Match module 'geoip' is not modelled; treated as may-match")]
    assert rule.matches == (
        TCP, OpaqueMatch("geoip", "--src-cc CN,RU"), AddressMatch(SRC, v4("10.0.0.0/8"), negated=True))
    assert rule.verdict == DROP


def test_unknown_target_with_options():
    rule, diagnostics = one_rule("-A INPUT -p tcp -j TARPIT --tarpit")
    assert codes(diagnostics) == [("PL011", 6, 20)]
    assert rule.verdict == Verdict(VerdictKind.OTHER, "TARPIT")


@pytest.mark.parametrize(
    "line, code, column, message",
    [
        ("-A INPUT -s 10.0.0.300 -j DROP", "PL011", 13, "Not an IPv4 address: '10.0.0.300'"),
        ("-A INPUT -s 10.0.0.0/33 -j DROP", "PL011", 22, "Invalid prefix length /33"),
        ("-A INPUT -s 10.0.0.0/\u00b3 -j DROP", "PL011", 22, "Invalid prefix length /\u00b3"),  # int() refuses it
        ("-A INPUT -p foo -j DROP", "PL011", 13, "Unknown protocol 'foo'"),
        ("-A INPUT ! -p all -j DROP", "PL011", 15,
         "'! -p all' never matches a packet (iptables refuses it: rule would never match protocol)"),
        ("-A INPUT ! -p 0 -j DROP", "PL011", 15,
         "'! -p 0' never matches a packet (iptables refuses it: rule would never match protocol)"),
        ("-A INPUT -m state --state NEW,BOGUS -j DROP", "PL011", 31, "Unknown conntrack state 'BOGUS'"),
        ("-A INPUT -p tcp --dport 100:50 -j DROP", "PL011", 25, "Port range 100:50 starts above its end"),
        ("-A INPUT -p tcp --dport nosuchservice -j DROP", "PL011", 25,
         "Unknown port or service name 'nosuchservice' for tcp"),
        ("-A INPUT -s 1.2.3.4-1.2.3.9 -j DROP", "PL011", 13, "Address ranges need -m iprange: '1.2.3.4-1.2.3.9'"),
        ("-A INPUT -i averyveryverylongname -j DROP", "PL011", 13,
         "Interface name 'averyveryverylongname' is longer than 15 characters"),
        ("-A OUTPUT -i eth0 -j DROP", "PL011", 11,
         "Can't use -i in OUTPUT: the packet has no input interface there"),
        ("-A INPUT -j DROP -j ACCEPT", "PL010", 18, "More than one target (-j/-g) in the rule"),
        ("-A INPUT -j DROP stray", "PL010", 18, "Unexpected argument 'stray'; an option was expected"),
        ("-A INPUT -p tcp --s 1 -j DROP", "PL012", 17, "Ambiguous option --s (could be --set-counters, --source)"),
    ],
)
def test_invalid_values(line, code, column, message):
    _, diagnostics = one_rule(line)
    assert [(d.code, d.span.line, d.span.column, d.message) for d in diagnostics] == [(code, 6, column, message)]


def test_rule_without_target_is_an_info():
    line = "-A INPUT -p tcp --dport 23"
    rule, diagnostics = one_rule(line)
    assert codes(diagnostics) == [("PL015", 6, 1)]
    assert diagnostics[0].message == "Rule has no target; it only counts packets"
    assert rule.verdict == Verdict(VerdictKind.CONTINUE)


def test_unclosed_quote_is_read_to_the_end_of_the_line_as_iptables_does():
    rule, diagnostics = one_rule('-A INPUT -m comment --comment "oops -j ACCEPT')
    assert rule.comment == "oops -j ACCEPT"
    assert codes(diagnostics) == [("PL015", 6, 1)]
    assert "never closed" in diagnostics[0].hint


def test_garbage_line_in_the_middle_and_the_rest_is_read():
    text = HEAD + "-A INPUT -i lo -j ACCEPT\nthis is not a rule\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    result = read(text)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("PL010", 7, 1)]
    assert result.diagnostics[0].message.startswith("Cannot read this line: expected *table")
    assert result.diagnostics[0].excerpt == "this is not a rule\n^"
    assert [r.span.line for r in result.document.table("filter").chain("INPUT").rules] == [6, 8]


@pytest.mark.parametrize(
    "line, column, message",
    [
        (":INPUT", 7, "Cannot read this line: missing policy after the chain name (ACCEPT, DROP or -)"),
        (":INPUT ACCEPT [0:", 15, "Cannot read this line: counters must look like [packets:bytes]"),
        ("-A", 3, "Cannot read this line: missing chain name after the command"),
    ],
)
def test_friendly_messages_for_lines_the_grammar_cannot_read(line, column, message):
    result = read(HEAD + line + "\nCOMMIT\n")
    assert [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics] == [
        ("PL010", 6, column, message)]


def test_rule_before_any_table():
    text = "-A INPUT -j ACCEPT\n" + HEAD + "COMMIT\n"
    result = read(text)
    assert codes(result.diagnostics) == [("PL010", 1, 1)]
    assert "outside a table" in result.diagnostics[0].message
    assert result.document.table("filter").chain("INPUT").rules == ()


def test_missing_commit_keeps_the_table():
    text = HEAD + "-A INPUT -i lo -j ACCEPT\n\n*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j ACCEPT\n"
    result = read(text)
    assert [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics] == [
        ("PL010", 6, 1, "Missing COMMIT at the end of table 'filter'"),
        ("PL010", 10, 1, "Missing COMMIT at the end of table 'nat'"),
    ]
    assert len(result.document.table("filter").chain("INPUT").rules) == 1
    assert len(result.document.table("nat").chain("PREROUTING").rules) == 1


def test_append_to_an_undeclared_chain():
    result = read(HEAD + "-A INPUT -j MYCHAIN\n-A MYCHAIN -j DROP\n-A MYCHAIN -j ACCEPT\nCOMMIT\n")
    assert [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics] == [
        ("PL011", 7, 4, "Chain 'MYCHAIN' is not declared")]
    chain = result.document.table("filter").chain("MYCHAIN")
    assert chain.hook is None and len(chain.rules) == 2


def test_crlf_file():
    text = HEAD + "-A INPUT -p tcp --dport 22 -j ACCEPT  \nCOMMIT\n"
    result = read(text.replace("\n", "\r\n"))
    # iptables-restore rejects CR LF ("table name 'filter\r' invalid"): one PL005 finding (read fine, refused by the tool), then read as usual.
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("PL005", 1, 8)]
    rule = result.document.table("filter").chain("INPUT").rules[0]
    assert rule.span == Span(PATH, 6, 1, 6, 36)
    assert rule.text == "-A INPUT -p tcp --dport 22 -j ACCEPT"
    assert rule.matches == (TCP, PortMatch(DST, PortSet.of(22)))


@pytest.mark.parametrize(
    "line, column, start",
    [
        ("COMMIT ", 7, "Text after COMMIT"),
        (" COMMIT", 2, "COMMIT must start in column 1"),
        ("  # indented comment", 3, "A # comment must start in column 1"),
        ("   ", 1, "Line of spaces"),
    ],
)
def test_white_space_iptables_restore_refuses(line, column, start):
    result = read(HEAD + "-A INPUT -j ACCEPT\n" + line + "\nCOMMIT\n")
    diagnostic = [d for d in result.diagnostics if d.span.line == 7]
    assert [(d.code, d.span.column) for d in diagnostic] == [("PL005", column)]
    assert diagnostic[0].message.startswith(start)


def test_chain_commands():
    text = "*filter\n:INPUT ACCEPT [0:0]\n-N SSH\n-P INPUT DROP\n-A SSH -j ACCEPT\n-A INPUT -j SSH\nCOMMIT\n"
    result = read(text)
    assert result.diagnostics == []
    table = result.document.table("filter")
    assert table.chain("INPUT").policy is Policy.DROP
    assert table.chain("SSH").span == Span(PATH, 3, 1, 3, 6)


# --- The fast path agrees with the grammar -----------------------------------------------

RULE_LINES = [
    "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT",
    '[1:2] -A INPUT -m comment --comment "a b" -j LOG --log-prefix "x: "',
    '-A INPUT -m comment --comment "esc \\"q\\" \\\\ x" -j ACCEPT',
    "-I INPUT 3 ! -s 10.0.0.0/8 -j DROP",
    "-I INPUT 3abc -j DROP",
    "   -A INPUT\t-j ACCEPT",
    '-A INPUT -m comment --comment "never closed -j ACCEPT',
    "-A INPUT !-s 1.2.3.4 -j DROP",
    '-I INPUT 22"a b" -j DROP',
    '-A INPUT --comment x"y z"w',
    '-A INPUT -m comment --comment ""',
]


def _lark_tokens(line):
    tree = line_parser().parse(line)
    command = tree.children[0].children[-1]
    items = command.children[2:]
    position = None
    if items and items[0].type == "POSITION":
        position, items = str(items[0]), items[1:]
    return str(command.children[1]), position, tokens_from_tree(items)


def _fast_tokens(line):
    fast = fast_path().read_rule(line)
    if fast is None:
        return None
    _, chain, _, position, tokens, _, args_start = fast
    columns = [t[3] for t in fast_path().scan(line, args_start)]
    offset = len(columns) - len(tokens)  # the rule number, when there is one, is not an option
    tokens = [t[:3] + (t[3] if t[3] > 0 else columns[-t[3] - 1],) for t in tokens]
    assert [t[3] for t in tokens] == columns[offset:]
    return chain, position[1] if position else None, tokens


@pytest.mark.parametrize("line", RULE_LINES)
def test_fast_path_reads_rule_lines_as_the_grammar_does(line):
    fast = _fast_tokens(line)
    if fast is not None:
        assert fast == _lark_tokens(line)


def test_fast_path_agrees_with_the_grammar_on_random_lines():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st
    from lark.exceptions import UnexpectedInput

    pieces = st.sampled_from([
        "-A", "-I", "INPUT", "[1:2]", "3", "-p", "tcp", "!", "!x", '"a b"', '"q\\"r"', '"open', '""', "--dport",
        "22", "a\"b", "#", "é", "\t", "\x0b", "\u00a0", "-j", "ACCEPT", "x\\y",
    ])
    separators = st.sampled_from([" ", "  ", "\t", ""])
    heads = st.sampled_from(["", "-A INPUT ", "-I INPUT ", "[1:2] -A INPUT ", "  -A X\t", "-AINPUT ", "-A INPUT"])

    @hypothesis.settings(max_examples=1500, deadline=None)
    @hypothesis.given(heads, st.lists(st.tuples(pieces, separators), min_size=1, max_size=12))
    def check(head, parts):
        line = head + "".join(p + s for p, s in parts)
        fast = _fast_tokens(line)
        try:
            lark = _lark_tokens(line)
        except (UnexpectedInput, IndexError, AttributeError):
            lark = None
        if fast is not None:
            assert lark == fast, line

    check()


@pytest.mark.parametrize(
    "line",
    [":INPUT ACCEPT [0:0]", ":my-chain - [1:2]  ", ":X DROP", ":INPUT ACCEPT[0:0]", ": INPUT ACCEPT [0:0]",
     ":INPUT accept [0:0]", ":INPUT ACCEPT [0:0] x", "*filter", "*nat  ", "* nat", "*filter x", "*"],
)
def test_fast_chain_and_table_lines_agree_with_the_grammar(line):
    from lark.exceptions import UnexpectedInput

    try:
        node = line_parser().parse(line).children[0]
        lark = (node.data, [str(t) for t in node.children][:2])
    except UnexpectedInput:
        lark = None
    chain = fast_path().chain.match(line)
    table = fast_path().table.match(line)
    if chain is not None:
        assert lark == ("chain_line", [chain.group(1), chain.group(2)])
    if table is not None:
        assert lark == ("table_line", [table.group(1)])


def test_a_long_interface_name_is_reported_on_every_line_that_has_it():
    result = read(HEAD + "-A INPUT -i averyverylongname0 -j DROP\n-A INPUT -i averyverylongname0 -j DROP\nCOMMIT\n")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("PL011", 6), ("PL011", 7)]


def test_chain_names_are_read_from_every_line_the_first_included():
    from linter.frontends.iptables.tables import chain_names

    text = ":FIRST - [0:0]\n\n:B ACCEPT [0:0]\n-A C -j D\r\n  -N  E\n[1:2] -A F -s x\n# -N G\n-X H\n--new-chain I\n-I J 1"
    assert chain_names(text) == ["FIRST", "B", "C", "E", "F", "I", "J"]
    assert chain_names("-N ONLY") == ["ONLY"] and chain_names("") == [] and chain_names("\n:A - [0:0]") == ["A"]
