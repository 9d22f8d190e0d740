"""The iptables-script front end: shell scripts replayed onto the iptables model, never run."""

from __future__ import annotations

import ast
import ipaddress
import textwrap
from pathlib import Path

import pytest

from linter.detect import detect_format, looks_lintable
from linter.frontends import FRONT_ENDS, parse_source
from linter.frontends.iptables.script import parse, read_script
from linter.model import (
    AddressMatch,
    AddressSet,
    Direction,
    Family,
    InterfaceMatch,
    OpaqueMatch,
    Policy,
    PortMatch,
    PortSet,
    ProtocolMatch,
    Rule,
    Span,
    Verdict,
    VerdictKind,
)
from linter.source import SourceFile

PATH = "firewall.sh"
SRC, DST = Direction.SOURCE, Direction.DESTINATION
TCP = ProtocolMatch(frozenset({6}), False, "tcp")
UDP = ProtocolMatch(frozenset({17}), False, "udp")
ACCEPT = Verdict(VerdictKind.ACCEPT)
DROP = Verdict(VerdictKind.DROP)


def script(text: str):
    """Parse a script written indented in the test (the first line is line 1)."""
    return parse(SourceFile(PATH, textwrap.dedent(text).lstrip("\n")))


def chain(result, name: str = "INPUT", table: str = "filter", family: Family = Family.IPV4):
    found = result.document.table(table, family)
    assert found is not None, f"no {family.value} table {table}"
    return found.chain(name)


def rules(result, name: str = "INPUT", table: str = "filter", family: Family = Family.IPV4) -> list[Rule]:
    return list(chain(result, name, table, family).rules)


def dports(result, name: str = "INPUT", **kw) -> list:
    """The destination ports of each rule of a chain, as text (None when the rule has none)."""
    out = []
    for rule in rules(result, name, **kw):
        ports = [m for m in rule.matches if isinstance(m, PortMatch) and m.direction is DST]
        out.append(str(ports[0].ports) if ports else None)
    return out


def codes(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


def v4(text: str) -> AddressSet:
    net = ipaddress.ip_network(text, strict=False)
    return AddressSet(Family.IPV4, ((int(net.network_address), int(net.broadcast_address)),), text)


def dport(*ports) -> PortMatch:
    return PortMatch(DST, PortSet.of(*ports))


# --- Registration, detection, never running anything --------------------------------------


def test_registered_and_detected():
    assert FRONT_ENDS["iptables-script"] == "linter.frontends.iptables.script"
    text = "#!/bin/sh\niptables -A INPUT -j ACCEPT\n"
    assert detect_format("fw.sh", text) == "iptables-script"
    result = parse_source(SourceFile(PATH, text), "iptables-script")
    assert result.document.format == "iptables-script"


@pytest.mark.parametrize("text", [
    "sudo iptables -A INPUT -j DROP",
    "/usr/sbin/ip6tables -P INPUT DROP",
    "$IPT -N LOGDROP",
    "${IPTABLES} --append INPUT -j ACCEPT",
    "iptables-legacy -t nat -F",
    "iptables-restore <<EOF\n*filter\n:INPUT DROP [0:0]\nCOMMIT\nEOF",
])
def test_detected_as_script(text):
    assert detect_format("setup", "#!/bin/bash\n" + text + "\n") == "iptables-script"


@pytest.mark.parametrize("name, walked", [
    ("rc.firewall", True), ("rc.fw", True), ("firewall", True), ("firewall.sh", True), ("start.fw", True),
    ("my-firewall", True), ("rc.local", True), ("setup.sh", True), ("firewall.md", False), ("notes.txt", False),
])
def test_directory_walks_pick_up_script_names(name, walked):
    assert looks_lintable(f"/etc/rc.d/{name}") is walked


@pytest.mark.parametrize("module", ["iptables/script", "shell/syntax_tree", "shell/scanner", "shell/parser",
                                    "shell/values", "shell/expansion", "shell/evaluation"])
def test_the_script_is_never_run(module):
    """No subprocess, os.system, eval or exec anywhere in the shell front end."""
    path = Path(__file__).resolve().parents[2] / "linter" / "frontends" / f"{module}.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {(node.module or "").split(".")[0]} | {alias.name for alias in node.names}
        else:
            names = set()
        assert not names & {"subprocess", "os", "pty", "shlex", "system", "popen"}, names
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("eval", "exec", "compile", "__import__")
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("system", "popen", "Popen", "spawn", "execv", "execve")


# --- Exact model objects and spans ----------------------------------------------------------


def test_one_command_exact_rule_and_span():
    result = script("""
        #!/bin/sh
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
    """)
    assert result.diagnostics == []
    assert rules(result) == [Rule((TCP, dport(22)), ACCEPT, Span(PATH, 2, 1, 2, 45), None, (),
                                  "-A INPUT -p tcp --dport 22 -j ACCEPT")]
    assert result.document.family is Family.IPV4
    assert [t.family for t in result.document.tables] == [Family.IPV4]


def test_continuation_lines_make_one_rule_spanning_them():
    result = script("""
        IPT=/sbin/iptables
        $IPT -A INPUT -s 10.0.0.0/8 \\
             -p tcp --dport 22 \\
             -j ACCEPT   # admins
    """)
    (rule,) = rules(result)
    assert rule.matches == (AddressMatch(SRC, v4("10.0.0.0/8")), TCP, dport(22))
    assert rule.span == Span(PATH, 2, 1, 4, 14)
    assert rule.text == "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT"


def test_quotes_escapes_and_a_quoted_comment():
    result = script("""
        iptables -A INPUT -p tcp --dport 80 -m comment --comment "web site" -j ACCEPT
        iptables -A INPUT -p tcp --dport 81 -m comment --comment 'old "beta" site' -j ACCEPT
        iptables -A INPUT -p tcp --dport 82 -m comment --comment staging\\ site -j ACCEPT
        iptables -A INPUT '!' -s 10.0.0.0/8 -p "tcp" --dport '8080' -j DROP
    """)
    web, beta, staging, negated = rules(result)
    assert (web.comment, beta.comment, staging.comment) == ("web site", 'old "beta" site', "staging site")
    assert web.text == '-A INPUT -p tcp --dport 80 -m comment --comment "web site" -j ACCEPT'
    assert negated.matches == (AddressMatch(SRC, v4("10.0.0.0/8"), True), TCP, dport(8080))
    assert result.diagnostics == []


def test_separators_and_redirections():
    result = script("""
        iptables -F; iptables -A INPUT -i lo -j ACCEPT
        iptables -N LOGDROP 2>/dev/null || true
        iptables -A INPUT -p tcp --dport 25 -j ACCEPT >/dev/null 2>&1 && echo ok
        iptables -A INPUT -p udp --dport 53 -j ACCEPT &>/dev/null
        iptables-save > /etc/iptables/rules.v4
        modprobe nf_conntrack_ftp
        echo 1 > /proc/sys/net/ipv4/ip_forward
        sysctl -w net.ipv4.tcp_syncookies=1
    """)
    assert [r.span.line for r in rules(result)] == [1, 3, 4]
    assert dports(result) == [None, "25", "53"]
    assert chain(result, "LOGDROP").rules == ()
    assert result.diagnostics == []


# --- How iptables is called --------------------------------------------------------------------


@pytest.mark.parametrize("command, family", [
    ("iptables", Family.IPV4),
    ("sudo iptables", Family.IPV4),
    ("sudo -n -u root /usr/sbin/iptables", Family.IPV4),
    ("/sbin/iptables", Family.IPV4),
    ("iptables-legacy", Family.IPV4),
    ("iptables-nft", Family.IPV4),
    ("command iptables", Family.IPV4),
    ("env LC_ALL=C iptables", Family.IPV4),
    ("ip6tables", Family.IPV6),
    ("sudo /usr/sbin/ip6tables", Family.IPV6),
    ("ip6tables-nft", Family.IPV6),
])
def test_command_names(command, family):
    result = script(f"{command} -A INPUT -p tcp --dport 22 -j ACCEPT\n")
    assert result.diagnostics == []
    assert rules(result, family=family)[0].matches == (TCP, dport(22))
    assert result.document.family is family


@pytest.mark.parametrize("setup, call", [
    ("IPT=/sbin/iptables", "$IPT"),
    ("IPT='/sbin/iptables'", "${IPT}"),
    ('IPTABLES="sudo iptables -w"', "$IPTABLES"),
    ("IPT=$(which iptables)", "$IPT"),
    ("IPT=`command -v iptables`", "$IPT"),
    ("export IPT=/usr/sbin/iptables", "$IPT"),
    ("readonly IPT=iptables", "$IPT"),
    ("IPT=${IPT:-/sbin/iptables}", "$IPT"),
])
def test_variables_holding_iptables(setup, call):
    result = script(f"{setup}\n{call} -A INPUT -p tcp --dport 22 -j ACCEPT\n")
    assert result.diagnostics == []
    assert rules(result)[0].span.line == 2


def test_an_iptables_variable_never_set_is_taken_by_its_name():
    result = script("""
        $IP6TABLES -A INPUT -p tcp --dport 22 -j ACCEPT
        $FW -A INPUT -p tcp --dport 23 -j ACCEPT
    """)
    assert dports(result, family=Family.IPV6) == ["22"]
    assert result.document.table("filter", Family.IPV4) is None  # $FW could be anything: not read
    assert codes(result) == [("PL050", 1, 1)]
    assert "taken as ip6tables" in result.diagnostics[0].message


def test_global_options_anywhere():
    result = script("""
        iptables -w -t nat -A POSTROUTING -o eth0 -j MASQUERADE
        iptables --wait 5 --table=nat --append PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 3128
        iptables -A PREROUTING -t raw -j CT --notrack -W 100000
        iptables -v -n -tmangle -A OUTPUT -j MARK --set-mark 1
    """)
    assert result.diagnostics == []
    assert rules(result, "POSTROUTING", "nat")[0].verdict.kind is VerdictKind.MASQUERADE
    redirect = rules(result, "PREROUTING", "nat")[0].verdict
    assert (redirect.kind, redirect.to_ports) == (VerdictKind.REDIRECT, PortSet.of(3128))
    assert rules(result, "PREROUTING", "raw")[0].verdict.target == "CT"
    assert rules(result, "OUTPUT", "mangle")[0].verdict.target == "MARK"


# --- Commands applied in order --------------------------------------------------------------------


def test_insert_at_positions():
    result = script("""
        iptables -A INPUT -p tcp --dport 1 -j ACCEPT
        iptables -A INPUT -p tcp --dport 2 -j ACCEPT
        iptables -I INPUT -p tcp --dport 3 -j ACCEPT
        iptables -I INPUT 2 -p tcp --dport 4 -j ACCEPT
        iptables --insert INPUT 5 -p tcp --dport 5 -j ACCEPT
        iptables -I INPUT 9 -p tcp --dport 6 -j ACCEPT
    """)
    assert dports(result) == ["3", "4", "1", "2", "5"]
    assert codes(result) == [("PL011", 6, 19)]
    assert "Cannot insert at rule 9" in result.diagnostics[0].message
    # The rule text is the resulting state, as iptables-save prints it.
    assert rules(result)[1].text == "-A INPUT -p tcp --dport 4 -j ACCEPT"


def test_delete_by_specification_and_by_number():
    result = script("""
        iptables -A INPUT -p tcp --dport 21 -j ACCEPT
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        iptables -A INPUT -p tcp --dport 24 -j ACCEPT
        iptables -D INPUT -p tcp --dport 23 -j ACCEPT
        iptables --delete INPUT 1
        iptables -D INPUT -p tcp --dport 99 -j ACCEPT 2>/dev/null
        iptables -D INPUT 7 2>/dev/null
    """)
    assert dports(result) == ["22", "24"]
    assert result.diagnostics == []


def test_replace_rename_and_check():
    result = script("""
        iptables -N ADMIN
        iptables -A INPUT -p tcp --dport 22 -j ADMIN
        iptables -A INPUT -p tcp --dport 80 -j ACCEPT
        iptables --replace INPUT 2 -p tcp --dport 443 -j ACCEPT
        iptables --rename-chain ADMIN SSH-ADMIN
        iptables -C INPUT -p tcp --dport 443 -j ACCEPT || iptables -A INPUT -p tcp --dport 443 -j ACCEPT
        iptables --check INPUT -p tcp --dport 25 -j ACCEPT || iptables -A INPUT -p tcp --dport 25 -j ACCEPT
        iptables -L ADMIN >/dev/null 2>&1 && iptables -A INPUT -p tcp --dport 26 -j ACCEPT
        iptables --list SSH-ADMIN -n >/dev/null && iptables -A INPUT -p tcp --dport 27 -j ACCEPT
        iptables -R INPUT 9 -p tcp --dport 28 -j ACCEPT 2>/dev/null
    """)
    assert dports(result) == ["22", "443", "25", "27"]
    assert rules(result)[0].verdict == Verdict(VerdictKind.JUMP, "SSH-ADMIN")
    assert chain(result, "SSH-ADMIN") is not None and chain(result, "ADMIN") is None


def test_flush_delete_chain_and_policy_in_order():
    result = script("""
        iptables -P INPUT DROP
        iptables -N OLD
        iptables -A OLD -j ACCEPT
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        iptables -F
        iptables -X
        iptables -P INPUT ACCEPT
        iptables --policy INPUT DROP
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        iptables -t nat -A POSTROUTING -j MASQUERADE
        iptables -t nat --flush
        iptables -N NEW
        iptables --flush NEW
        iptables --zero
        iptables --new-chain LATER
        iptables --delete-chain LATER
    """)
    assert dports(result) == ["22"]
    input_chain = chain(result)
    assert input_chain.policy is Policy.DROP
    assert input_chain.span == Span(PATH, 8, 1, 8, 28)  # the last -P
    assert chain(result, "OLD") is None and chain(result, "LATER") is None
    assert chain(result, "NEW") is not None
    assert rules(result, "POSTROUTING", "nat") == []
    assert result.diagnostics == []


def test_rule_in_a_missing_chain_and_policy_errors():
    result = script("""
        iptables -A LOGGING -j LOG
        iptables -P LOGGING DROP
        iptables -P INPUT REJECT
        iptables INPUT -j DROP
    """)
    assert codes(result) == [("PL011", 1, 13), ("PL011", 2, 13), ("PL011", 3, 19), ("PL010", 4, 1)]


def test_option_errors_point_at_the_script():
    result = script("""
        PORT=99999
        iptables -A INPUT -p tcp --dport 70000 -j ACCEPT
        iptables -A INPUT -p tcp --dport $PORT -j ACCEPT
        iptables -A INPUT -p tcp --dpotr 22 -j ACCEPT
    """)
    assert codes(result) == [("PL011", 2, 34), ("PL011", 3, 34), ("PL012", 4, 26)]
    assert result.diagnostics[0].excerpt.splitlines()[1] == " " * 33 + "^"


# --- Variables -----------------------------------------------------------------------------------


def test_literal_assignments_are_substituted():
    result = script("""
        WAN=eth0
        ADMIN_NET="10.0.0.0/8"
        export SSH=22
        readonly WEB="80,443"
        EMPTY=
        iptables -A INPUT -i $WAN -s "${ADMIN_NET}" -p tcp --dport ${SSH} -j ACCEPT
        iptables -A INPUT -i ${WAN} -p tcp -m multiport --dports $WEB $EMPTY -j ACCEPT
        iptables -A INPUT -i ${LAN:-eth1} -p udp --dport ${DNS_PORT:=53} -j ACCEPT
        iptables -A INPUT -p tcp --dport $DNS_PORT ${VERBOSE:+-m comment --comment verbose} -j ACCEPT
        NET=${ADMIN_NET%/*}/16
        iptables -A INPUT -s $NET -j ACCEPT
    """)
    assert result.diagnostics == []
    ssh, web, dns, dns_tcp, net = rules(result)
    assert ssh.matches == (InterfaceMatch("in", ("eth0",)), AddressMatch(SRC, v4("10.0.0.0/8")), TCP, dport(22))
    assert web.matches == (InterfaceMatch("in", ("eth0",)), TCP, dport(80, 443))
    assert dns.matches == (InterfaceMatch("in", ("eth1",)), UDP, dport(53))
    assert dns_tcp.matches == (TCP, dport(53))
    assert net.matches == (AddressMatch(SRC, v4("10.0.0.0/16")),)


def test_arrays_and_lists():
    result = script("""
        #!/bin/bash
        PORTS=(22 80 443)
        PORTS+=(8443)
        for p in "${PORTS[@]}"; do iptables -A INPUT -p tcp --dport "$p" -j ACCEPT; done
        iptables -A INPUT -p udp --dport ${PORTS[1]} -j ACCEPT
    """)
    assert dports(result) == ["22", "80", "443", "8443", "80"]


@pytest.mark.parametrize("setup, word, cause", [
    ("WAN_IP=$(ip -4 addr show eth0 | awk '/inet/{print $2}')", "$WAN_IP", "command substitution"),
    (": nothing set", "$ADMIN_NET", "never set"),
    (": nothing set", "$1", "argument of the script"),
    ("N=$((10 + 2))", "10.0.0.$N", "arithmetic"),
    ("read -r ADMIN < /etc/admin", "$ADMIN", "read from input"),
])
def test_unknown_values_are_kept_as_may_match(setup, word, cause):
    result = script(f"{setup}\niptables -A INPUT -s {word} -p tcp --dport 22 -j ACCEPT\n")
    (rule,) = rules(result)
    assert rule.matches == (OpaqueMatch("source", f"-s {word}"), TCP, dport(22))
    assert rule.verdict == ACCEPT
    (note,) = [d for d in result.diagnostics if d.code == "PL050"]
    assert (note.span.line, note.span.column) == (2, 22)
    assert cause in note.message and "may-match" in note.message


def test_unknown_chain_target_and_whole_option():
    result = script("""
        CHAIN=$(cat /etc/chain)
        TARGET=$(cat /etc/target)
        iptables -A $CHAIN -j ACCEPT
        iptables -A INPUT -p tcp --dport 22 -j $TARGET
        iptables -A INPUT $EXTRA_MATCH -j DROP
        iptables -A INPUT -p $PROTO --dport 22 -j ACCEPT
        iptables -A INPUT -m $MODULE --its-option 1 -p tcp --dport 80 -j ACCEPT
    """)
    target, extra, proto, module = rules(result)
    assert target.verdict == Verdict(VerdictKind.OTHER, "$TARGET")
    assert not target.verdict.terminal
    assert extra.matches == (OpaqueMatch("shell", "$EXTRA_MATCH"),)
    # An unknown protocol still reads port options (as tcp's); an unknown module takes its options.
    assert proto.matches == (OpaqueMatch("protocol", "-p $PROTO"), dport(22))
    assert module.matches == (OpaqueMatch("$MODULE", "--its-option 1"), TCP, dport(80))
    messages = [d.message for d in result.diagnostics]
    assert [d.code for d in result.diagnostics] == ["PL050"] * 5
    assert "command is skipped" in messages[0] and "$CHAIN" in messages[0]


def test_one_note_per_place_in_a_loop():
    result = script("""
        for port in 22 80; do
            iptables -A INPUT -s $ADMIN -p tcp --dport $port -j ACCEPT
        done
    """)
    assert len(rules(result)) == 2
    assert codes(result) == [("PL050", 2, 26)]


# --- Loops, functions, branches -----------------------------------------------------------------


def test_for_loops():
    result = script("""
        PORTS="25 110 143"
        for p in 23 21; do iptables -A INPUT -p tcp --dport $p -j DROP; done
        for p in $PORTS
        do
            iptables -A INPUT -p tcp --dport $p -j ACCEPT
        done
        for proto in tcp udp; do
            for port in 53 853; do
                [ $proto = udp ] && [ $port = 853 ] && continue
                iptables -A INPUT -p $proto --dport $port -j ACCEPT
            done
        done
        for p in 1 2 3; do
            [ $p = 2 ] && break
            iptables -A INPUT -p tcp --dport 900$p -j ACCEPT
        done
    """)
    assert dports(result) == ["23", "21", "25", "110", "143", "53", "853", "53", "9001"]
    assert [r.span.line for r in rules(result)][:3] == [2, 2, 5]


def test_loop_over_an_unknown_list_runs_once():
    result = script("""
        for ip in $(cat /etc/blocklist); do
            iptables -A INPUT -s $ip -j DROP
        done
    """)
    (rule,) = rules(result)
    assert rule.matches == (OpaqueMatch("source", "-s $ip"),)
    (note,) = result.diagnostics
    assert note.code == "PL050" and "$(cat /etc/blocklist)" in note.message


def test_functions_with_positional_parameters():
    result = script("""
        allow_port() { iptables -A INPUT -p tcp --dport "$1" -j ACCEPT; }
        allow_from() {
            local net=$1
            shift
            for port in "$@"; do
                iptables -A INPUT -s "$net" -p tcp --dport "$port" -j ACCEPT
            done
        }
        base() {
            iptables -P INPUT DROP
            iptables -A INPUT -i lo -j ACCEPT
        }
        base
        allow_port 22
        allow_port 443
        allow_from 10.0.0.0/8 5432 6379
        echo "$net"
    """)
    assert dports(result) == [None, "22", "443", "5432", "6379"]
    # Rules that depend on the arguments point at the call; the others at the command.
    assert [r.span.line for r in rules(result)] == [11, 14, 15, 16, 16]
    assert rules(result)[3].matches[0] == AddressMatch(SRC, v4("10.0.0.0/8"))
    assert result.diagnostics == []


def test_a_function_named_iptables_wraps_the_command():
    result = script("""
        iptables() {
            echo "+ iptables $*" >> /var/log/fw.log
            command iptables -w "$@"
        }
        ip6tables() { /sbin/ip6tables -w "$@"; }
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        ip6tables -A INPUT -p tcp --dport 22 -j ACCEPT
    """)
    assert result.diagnostics == []
    assert [r.span.line for r in rules(result)] == [6]
    assert [r.span.line for r in rules(result, family=Family.IPV6)] == [7]


def test_a_function_called_with_an_unknown_value_and_recursion():
    result = script("""
        open() { iptables -A INPUT -p tcp --dport $1 -j ACCEPT; }
        loop() { loop; }
        open $(cat /etc/port)
        loop
    """)
    assert rules(result)[0].matches == (TCP, OpaqueMatch("tcp", "--dport $1"))
    assert [d.code for d in result.diagnostics] == ["PL050", "PL050"]
    assert "recursion" in result.diagnostics[1].message


def test_decided_branches():
    result = script("""
        ENABLE_SSH=yes
        MODE=router
        if [ "$ENABLE_SSH" = "yes" ]; then
            iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        else
            iptables -A INPUT -p tcp --dport 22 -j DROP
        fi
        if [ -n "$ENABLE_TELNET" ] && [ "$ENABLE_TELNET" != no ]; then :; fi
        case "$MODE" in
            host) iptables -A INPUT -p tcp --dport 80 -j ACCEPT ;;
            router|gateway) iptables -A INPUT -p udp --dport 53 -j ACCEPT ;;
            *) iptables -A INPUT -j DROP ;;
        esac
        [[ $MODE == rout* ]] && iptables -A INPUT -p udp --dport 67 -j ACCEPT
        test "$MODE" = host || iptables -A INPUT -p udp --dport 123 -j ACCEPT
    """)
    assert [(r.verdict.kind, p) for r, p in zip(rules(result), dports(result))] == [
        (VerdictKind.ACCEPT, "22"), (VerdictKind.ACCEPT, "53"), (VerdictKind.ACCEPT, "67"),
        (VerdictKind.ACCEPT, "123")]
    assert [d.code for d in result.diagnostics] == ["PL051"]  # only [ -n "$ENABLE_TELNET" ]


def test_undecided_branches_are_all_taken_with_one_note_per_block():
    result = script("""
        if [ -f /etc/firewall/allow-telnet ]; then
            iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        elif grep -q ftp /etc/services.enabled; then
            iptables -A INPUT -p tcp --dport 21 -j ACCEPT
        else
            iptables -A INPUT -p tcp --dport 22 -j ACCEPT
            exit 0
        fi
        iptables -A INPUT -j DROP
    """)
    assert dports(result) == ["23", "21", "22", None]
    assert codes(result) == [("PL051", 1, 1)]


def test_the_first_argument_is_taken_as_start():
    result = script("""
        start() {
            iptables -P INPUT DROP
            iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        }
        stop() {
            iptables -F
            iptables -P INPUT ACCEPT
        }
        case "$1" in
            start) start ;;
            stop) stop ;;
            restart) stop; start ;;
            *) echo "usage: $0 {start|stop|restart}"; exit 1 ;;
        esac
        iptables -A INPUT -p tcp --dport 80 -j ACCEPT
    """)
    assert chain(result).policy is Policy.DROP
    assert dports(result) == ["22", "80"]
    (note,) = result.diagnostics
    assert (note.code, note.span.line) == ("PL051", 9)
    assert "taken as 'start'" in note.message


def test_exit_stops_the_script_only_where_it_surely_runs():
    result = script("""
        [ -x /sbin/iptables ] || exit 1
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        exit 0
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
    """)
    assert dports(result) == ["22"]


def test_while_loops_are_read_once():
    result = script("""
        while read -r net; do
            iptables -A INPUT -s "$net" -j DROP
        done < /etc/blocked.nets
    """)
    assert rules(result)[0].matches == (OpaqueMatch("source", '-s "$net"'),)
    assert [d.code for d in result.diagnostics] == ["PL051", "PL050"]


def test_brace_expansion():
    result = script("""
        #!/bin/bash
        for i in {1..3}; do iptables -A INPUT -s 10.0.0.$i -j ACCEPT; done
        for p in {smtp,imap}s; do iptables -A INPUT -p tcp --dport $p -j ACCEPT; done
    """)
    assert [r.matches[0] for r in rules(result)[:3]] == [AddressMatch(SRC, v4(f"10.0.0.{i}")) for i in (1, 2, 3)]
    assert dports(result)[3:] == ["465", "993"]


# --- iptables-restore fed from the script ------------------------------------------------------------


def test_here_document_to_iptables_restore():
    result = script("""
        WAN=eth0
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        iptables-restore <<EOF
        *filter
        :INPUT DROP [0:0]
        -A INPUT -i $WAN -p tcp --dport 22 -j ACCEPT
        COMMIT
        EOF
        iptables -A INPUT -p tcp --dport 80 -j ACCEPT
    """)
    assert chain(result).policy is Policy.DROP
    assert dports(result) == ["22", "80"]  # restore replaced the table: the telnet rule is gone
    rule = rules(result)[0]
    assert rule.span == Span(PATH, 6, 1, 6, 44)
    assert rule.matches[0] == InterfaceMatch("in", ("eth0",))
    assert rule.text == "-A INPUT -i eth0 -p tcp --dport 22 -j ACCEPT"
    assert chain(result).span.line == 5


def test_here_document_variants():
    text = (
        "iptables -A INPUT -p tcp --dport 23 -j ACCEPT\n"
        "ip6tables-restore --noflush <<-'END'\n"
        "\t*filter\n"
        "\t-A INPUT -p tcp --dport $PORT -j ACCEPT\n"
        "\tCOMMIT\n"
        "\tEND\n"
        "cat <<\"RULES\" | iptables-restore -n\n"
        "*filter\n"
        "-A INPUT -p tcp --dport 25 -j ACCEPT\n"
        "COMMIT\n"
        "RULES\n"
    )
    result = parse(SourceFile(PATH, text))
    (v6,) = rules(result, family=Family.IPV6)
    # A quoted delimiter: no expansion, iptables-restore itself would read "$PORT" and refuse it.
    assert v6.matches == (TCP, OpaqueMatch("tcp", "--dport $PORT"))
    assert v6.span == Span(PATH, 4, 2, 4, 40)  # the tab <<- removed is counted
    assert codes(result) == [("PL011", 4, 26)]
    assert [r.span.line for r in rules(result)] == [1, 9]  # --noflush / -n keep the rules before


def test_echoed_lines_piped_into_iptables_restore():
    result = script("""
        ADMIN=10.1.0.0/16
        (
          echo '*filter'
          echo ":INPUT DROP [0:0]"
          # only the admins
          echo "-A INPUT -s $ADMIN -p tcp --dport 22 -j ACCEPT"
          printf '%s\\n' "-A INPUT -p tcp --dport 443 -j ACCEPT"
          echo COMMIT
        ) | iptables-restore
    """)
    ssh, https = rules(result)
    assert ssh.matches == (AddressMatch(SRC, v4("10.1.0.0/16")), TCP, dport(22))
    assert (ssh.span.line, ssh.span.column) == (6, 9)
    assert https.span.line == 7
    assert chain(result).policy is Policy.DROP
    assert result.diagnostics == []


def test_restore_from_a_file_is_a_note():
    result = script("""
        iptables-restore < /etc/iptables/rules.v4
        ip6tables-restore /etc/iptables/rules.v6
    """)
    assert result.document.tables == ()
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("PL050", 1), ("PL050", 2)]
    assert "/etc/iptables/rules.v4" in result.diagnostics[0].message


# --- Both families ------------------------------------------------------------------------------------


def test_iptables_and_ip6tables_make_one_ruleset_with_both_families():
    result = script("""
        iptables -P INPUT DROP
        ip6tables -P INPUT DROP
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        ip6tables -A INPUT -p tcp --dport 22 -s 2001:db8::/32 -j ACCEPT
    """)
    assert result.document.family is Family.INET
    assert [(t.name, t.family) for t in result.document.tables] == [("filter", Family.IPV4), ("filter", Family.IPV6)]
    v6 = rules(result, family=Family.IPV6)[0]
    assert v6.matches[2].addresses.family is Family.IPV6
    assert chain(result, family=Family.IPV6).span.line == 2


# --- Shell syntax problems ------------------------------------------------------------------------


def test_unterminated_quote_is_reported_and_the_rest_is_read():
    result = script("""
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        echo "Starting firewall
        iptables -A INPUT -p tcp --dport 80 -j ACCEPT
        iptables -A INPUT -j DROP
    """)
    assert codes(result) == [("PL010", 2, 6)]
    assert "Unterminated double quote" in result.diagnostics[0].message
    assert dports(result) == ["22", "80", None]


def test_unbalanced_loop_and_stray_keywords():
    result = script("""
        iptables -A INPUT -p tcp --dport 22 -j ACCEPT
        fi
        for p in 80 443; do
            iptables -A INPUT -p tcp --dport $p -j ACCEPT
    """)
    assert codes(result) == [("PL010", 2, 1), ("PL010", 3, 1)]
    assert "'for' at line 3 has no matching 'done'" in result.diagnostics[1].message
    assert dports(result) == ["22", "80", "443"]


def test_read_script_counts_commands():
    text = "iptables -A INPUT -j ACCEPT\niptables -A INPUT -s $X -j DROP\niptables -A INPUT --bogus 1 -j DROP\n"
    result, stats = read_script(SourceFile(PATH, text))
    assert (stats.commands, stats.understood, stats.opaque, stats.errors) == (3, 1, 1, 1)


# --- Never fails ---------------------------------------------------------------------------------------


def test_any_text_is_read_without_an_exception():
    """Whatever the text, the front end returns a ruleset and diagnostics; it never raises."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    pieces = st.sampled_from([
        "iptables", "ip6tables", "$IPT", "${IPT:-iptables}", "-A", "INPUT", "-I", "1", "-D", "-p", "tcp",
        "--dport", "22", "$1", "$(cat x)", "`id`", "-j", "ACCEPT", "DROP", "-N", "X", "-F", "-t", "nat",
        "'", '"', "\\", "\\\n", ";", "&&", "||", "|", "(", ")", "{", "}", "if", "then", "fi", "for", "in",
        "do", "done", "case", "esac", ";;", "while", "<<EOF", "<<-'E'", "EOF", "E", "\n", "#", "$((1+", "${",
        "f()", "f", "x=1", "A=(1 2)", "${A[@]}", "{1..3}", "[[", "]]", "[", "]", "!", "*filter", "COMMIT",
        "iptables-restore", "echo", "-s", "10.0.0.0/8", "$X", "exit", "return", "break", "set", "--", "local",
    ])
    separators = st.sampled_from([" ", " ", "\n", "\t", ""])

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(st.lists(st.tuples(pieces, separators), max_size=40))
    def check(parts):
        text = "".join(piece + separator for piece, separator in parts)
        result = parse(SourceFile(PATH, text))
        assert result.document is not None
        for diagnostic in result.diagnostics:
            assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1

    check()
