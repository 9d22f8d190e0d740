"""Held-out styles: whole scripts written the ways other people write them, none of which the
front end's own tests use. Each is checked on what matters (what is open, which findings)."""

from __future__ import annotations

import textwrap

from linter.checks import Settings
from linter.engine import intervals as iv
from linter.engine.exposure import ExposureAnalysis
from linter.frontends.iptables.script import parse
from linter.model import Family, Policy
from linter.pipeline import lint_file, run_checks
from linter.source import SourceFile

from tests.conftest import SAMPLES


def read(text: str, path: str = "fw"):
    return parse(SourceFile(path, textwrap.dedent(text).lstrip("\n")))


def internet_tcp(result, family=Family.IPV4, possible=False) -> iv.Ranges:
    """TCP ports new connections from the whole internet reach on the host itself."""
    ports: iv.Ranges = ()
    for exposure in ExposureAnalysis([result.document]).exposures():
        if exposure.family is family and exposure.protocol == 6 and exposure.reach == "internet" \
                and not exposure.forwarded and (possible or not exposure.possible):
            ports = iv.union(ports, exposure.ports)
    return ports


def test_posix_sh_service_helper_with_defaults_and_locals():
    result = read("""
        #!/bin/sh
        # /usr/local/sbin/fw-apply -- run by fw.service (ExecStart)
        set -eu

        : "${WAN_IF:=enp3s0}"
        : "${SSH_PORT:=2222}"
        readonly MGMT="192.0.2.0/28"

        ipt() {
            command -v iptables >/dev/null 2>&1 || return 1
            iptables -w 10 "$@"
        }

        allow_tcp() {
            local port="$1" from="${2:-}"
            if [ -n "$from" ]; then
                ipt -A INPUT -i "$WAN_IF" -s "$from" -p tcp --dport "$port" -j ACCEPT
            else
                ipt -A INPUT -i "$WAN_IF" -p tcp --dport "$port" -j ACCEPT
            fi
        }

        ipt -F INPUT
        ipt -P INPUT DROP
        ipt -A INPUT -i lo -j ACCEPT
        ipt -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
        allow_tcp "$SSH_PORT" "$MGMT"
        allow_tcp 443
    """)
    assert [d.code for d in result.diagnostics] == []
    assert internet_tcp(result) == ((443, 443),)
    input_rules = result.document.table("filter").chain("INPUT").rules
    assert [r.span.line for r in input_rules] == [25, 26, 27, 28]  # calls that gave the arguments
    assert "-s 192.0.2.0/28 -p tcp --dport 2222" in input_rules[2].text


def test_bash_arrays_and_double_brackets():
    result = read("""
        #!/usr/bin/env bash
        declare -a TCP_IN=(80 443)
        declare -a UDP_IN=(51820)
        TRUSTED=( "10.8.0.0/24" "10.9.0.0/24" )
        IPT6=${IPT6:-/usr/sbin/ip6tables}

        for family_cmd in iptables "$IPT6"; do
            "$family_cmd" -P INPUT DROP
            "$family_cmd" -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
            for p in "${TCP_IN[@]}"; do "$family_cmd" -A INPUT -p tcp --dport "$p" -j ACCEPT; done
            for p in "${UDP_IN[@]}"; do "$family_cmd" -A INPUT -p udp --dport "$p" -j ACCEPT; done
            [[ $family_cmd == iptables ]] || continue
            for net in "${TRUSTED[@]}"; do
                "$family_cmd" -A INPUT -s "$net" -p tcp --dport 22 -j ACCEPT
            done
        done
    """)
    assert result.diagnostics == []
    assert result.document.family is Family.INET
    assert internet_tcp(result) == ((80, 80), (443, 443))
    assert internet_tcp(result, Family.IPV6) == ((80, 80), (443, 443))
    v4 = result.document.table("filter", Family.IPV4).chain("INPUT").rules
    v6 = result.document.table("filter", Family.IPV6).chain("INPUT").rules
    assert (len(v4), len(v6)) == (6, 4)


def test_idempotent_fail2ban_like_script():
    result = read("""
        #!/bin/bash
        CHAIN=blocklist
        iptables -N "$CHAIN" 2>/dev/null || iptables -F "$CHAIN"
        if ! iptables -C INPUT -j "$CHAIN" 2>/dev/null; then
            iptables -I INPUT 1 -j "$CHAIN"
        fi
        for bad in 203.0.113.9 198.51.100.77; do
            iptables -C "$CHAIN" -s "$bad" -j DROP 2>/dev/null || iptables -A "$CHAIN" -s "$bad" -j DROP
        done
        iptables -C "$CHAIN" -s 203.0.113.9 -j DROP || iptables -A "$CHAIN" -s 203.0.113.9 -j DROP
    """)
    table = result.document.table("filter")
    assert [r.text for r in table.chain("INPUT").rules] == ["-A INPUT -j blocklist"]
    assert [r.text for r in table.chain("blocklist").rules] == ["-A blocklist -s 203.0.113.9 -j DROP",
                                                                "-A blocklist -s 198.51.100.77 -j DROP"]
    assert result.diagnostics == []


def test_gentoo_style_restore_with_tabs_and_variables():
    text = (
        "#!/bin/sh\n"
        "LAN=192.168.7.0/24\n"
        "apply_rules() {\n"
        "\tiptables-restore <<-EOF\n"
        "\t\t*filter\n"
        "\t\t:INPUT DROP [0:0]\n"
        "\t\t:FORWARD DROP [0:0]\n"
        "\t\t:OUTPUT ACCEPT [0:0]\n"
        "\t\t-A INPUT -s $LAN -p tcp -m multiport --dports 139,445 -j ACCEPT\n"
        "\t\t-A INPUT -p tcp --dport 21 -j ACCEPT\n"
        "\t\tCOMMIT\n"
        "\tEOF\n"
        "}\n"
        "apply_rules || logger -t firewall 'restore failed'\n"
    )
    result = parse(SourceFile("fw", text))
    assert result.diagnostics == []
    assert internet_tcp(result) == ((21, 21),)
    findings = run_checks(result.document, Settings())
    ftp = [f for f in findings if f.code == "PL101"]
    assert [(f.line, f.column, f.ports) for f in ftp] == [(10, 3, ((21, 21),))]


def test_docker_user_fixup_and_interface_from_route_lookup():
    result = read("""
        #!/bin/bash
        # Keep published containers private: only the office may reach them.
        EXT_IF=$(ip route show default | awk '{print $5; exit}')
        iptables -N DOCKER-USER 2>/dev/null || true
        iptables -F DOCKER-USER
        iptables -A DOCKER-USER -i "$EXT_IF" ! -s 198.51.100.0/24 -j DROP
        iptables -A DOCKER-USER -j RETURN
    """)
    (drop, ret) = result.document.table("filter").chain("DOCKER-USER").rules
    assert drop.matches[0].text == '-i "$EXT_IF"'
    (note,) = result.diagnostics
    assert note.code == "PL050" and "$(ip route show default" in note.message


def test_rc_firewall_sample():
    result = lint_file(str(SAMPLES / "scripts" / "rc.firewall"), Settings())
    codes = sorted((f.code, f.line, f.ports) for f in result.findings if f.code in ("PL230", "PL051", "PL431"))
    assert codes == [("PL051", 15, None), ("PL230", 72, ((23, 23),))]
    document = result.document
    v4 = document.table("filter", Family.IPV4).chain("INPUT")
    assert v4.policy is Policy.DROP
    assert [r.span.line for r in v4.rules[:4]] == [37, 38, 52, 42]  # the -I INPUT 3 went third
