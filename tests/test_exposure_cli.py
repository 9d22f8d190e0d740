"""`portlint exposure`: the text table and JSON, exactly, and long port lists cut in the table."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from linter.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def run(*args: str):
    return CliRunner().invoke(main, ["exposure", *args], catch_exceptions=False)


def test_the_table_of_the_hardened_sample(monkeypatch):
    monkeypatch.chdir(SAMPLES.parent)
    result = run("samples/hardened.rules")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "New connections accepted",
        "family  proto  ports  services  reach                interfaces  decided by",
        "------  -----  -----  --------  -------------------  ----------  -------------------------",
        "ipv4    icmp   -                internet (possibly)  any         samples/hardened.rules:18",
        "ipv4    icmp   -                internet (possibly)  any         samples/hardened.rules:19",
        "ipv4    icmp   -                internet (possibly)  any         samples/hardened.rules:20",
        "ipv4    icmp   -                private (possibly)   any         samples/hardened.rules:18",
        "ipv4    icmp   -                private (possibly)   any         samples/hardened.rules:19",
        "ipv4    icmp   -                private (possibly)   any         samples/hardened.rules:20",
        "ipv4    tcp    80     http      internet             any         samples/hardened.rules:22",
        "ipv4    tcp    443    https     internet             any         samples/hardened.rules:23",
        "ipv4    tcp    22     ssh       private              any         samples/hardened.rules:26",
        "ipv4    tcp    80     http      private              any         samples/hardened.rules:22",
        "ipv4    tcp    443    https     private              any         samples/hardened.rules:23",
    ]


def test_a_long_port_list_is_cut_in_the_table_and_whole_in_json(tmp_path):
    rules = "".join(f"-A INPUT -p tcp --dport {port} -j ACCEPT\n" for port in range(10000, 10020, 2))
    path = tmp_path / "many.rules"
    path.write_text("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + rules + "COMMIT\n")
    table = run(str(path)).output.splitlines()
    internet = [line for line in table if " internet " in line]
    assert len(internet) == 10  # one row per accepting rule
    merged = json.loads(run("--format", "json", str(path)).output)["exposure"]
    assert [e["ports"] for e in merged if e["reach"] == "internet"] == [[[p, p]] for p in range(10000, 10020, 2)]


def test_many_ranges_in_one_row_are_cut_after_eight(tmp_path):
    path = tmp_path / "gaps.rules"
    drops = "".join(f"-A INPUT -p tcp --dport {port} -j DROP\n" for port in range(100, 120, 2))
    path.write_text("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" + drops
                    + "-A INPUT -p tcp -j ACCEPT\nCOMMIT\n")
    rows = [line for line in run(str(path)).output.splitlines() if " internet " in line]
    assert len(rows) == 1
    assert "0-99,101,103,105,107,109,111,113,... (65526 ports in 11 ranges)" in rows[0]


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(tmp_path):
    path = tmp_path / "a\x1b[31mb.rules"
    path.write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n")
    output = run(str(path)).output
    assert "\x1b" not in output and "a?[31mb.rules:3" in output


def test_json_entries_are_exact_products_and_interfaces_explicit(tmp_path):
    # tcp/161 from 192.168.5.0/24 on eth0 is rejected: no entry may contain it, so the
    # private tcp space on eth0 is two entries (every port but 161 from 192.168.5.0/24, every
    # port from the other private sources).
    path = tmp_path / "snmp.rules"
    path.write_text("*filter\n:INPUT ACCEPT [0:0]\n"
                    "-A INPUT -i eth0 -s 192.168.5.0/24 -p tcp --dport 161 -j REJECT\nCOMMIT\n")
    data = json.loads(run("--format", "json", str(path)).stdout)
    tcp = sorted([(e["reach"], e["ports"], e["sources"], e["interfaces"]) for e in data["exposure"]
                  if e["protocol"] == "tcp"], key=repr)
    assert tcp == sorted([
        ("internet", [[0, 65535]], ["1.0.0.0-9.255.255.255", "11.0.0.0-100.63.255.255",
                                    "100.128.0.0-126.255.255.255", "128.0.0.0-169.253.255.255",
                                    "169.255.0.0-172.15.255.255", "172.32.0.0-192.167.255.255",
                                    "192.169.0.0-223.255.255.255"], {"all_but": ["lo"]}),
        ("private", [[0, 65535]], ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
                                   "192.168.0.0/16"], {"all_but": ["eth0", "lo"]}),
        ("private", [[0, 160], [162, 65535]], ["192.168.5.0/24"], ["eth0"]),
        ("private", [[0, 65535]], ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12",
                                   "192.168.0.0-192.168.4.255", "192.168.6.0-192.168.255.255"], ["eth0"]),
    ], key=repr)
    assert data["interface_classes"] == ["any", "eth0", "lo"]
    # The table still reads as one row per cause and interface group: eth0's ports united.
    rows = [re.split(r"  +", line) for line in run(str(path)).output.splitlines() if line.startswith("ipv4    tcp")]
    assert [(r[2], r[4], r[5]) for r in rows] == [("0-65535", "internet", "any"), ("0-65535", "private", "eth0"),
                                                  ("0-65535", "private", "any but eth0")]
