"""`iptables -S` output is read as the table it lists; `iptables -L` output is one clear finding."""

from __future__ import annotations

from linter.checks import Settings
from linter.detect import detect_format
from linter.frontends.iptables.save import parse, rules_listing_table
from linter.model import Hook, Policy
from linter.pipeline import lint_file
from linter.source import SourceFile

DASH_S = """-P INPUT DROP
-P FORWARD DROP
-P OUTPUT ACCEPT
-N SVC
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT
-A INPUT -j SVC
-A SVC -p tcp -m tcp --dport 3306 -j ACCEPT
"""

NAT_S = """# iptables -t nat -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -i eth0 -p tcp -m tcp --dport 2323 -j DNAT --to-destination 10.0.0.5:23
-A POSTROUTING -o eth0 -j MASQUERADE
"""

DASH_L = """Chain INPUT (policy DROP)
target     prot opt source               destination
ACCEPT     tcp  --  anywhere             anywhere             tcp dpt:telnet
"""


def test_dash_s_is_detected_and_read_as_the_filter_table():
    assert detect_format("rules.txt", DASH_S) == "iptables-save"
    assert rules_listing_table(DASH_S) == "filter"
    document = parse(SourceFile("rules.txt", DASH_S)).document
    (table,) = document.tables
    chains = {c.name: c for c in table.chains}
    assert table.name == "filter"
    assert (chains["INPUT"].policy, chains["INPUT"].hook, chains["INPUT"].span.line) == (Policy.DROP, Hook.INPUT, 1)
    assert [r.span.line for r in chains["SVC"].rules] == [9]


def test_dash_s_findings_keep_their_lines(tmp_path):
    path = tmp_path / "rules.txt"
    path.write_text(DASH_S)
    found = sorted((f.code, f.line, str(f.severity)) for f in lint_file(str(path), Settings()).findings)
    assert found == [("PL101", 7, "critical"), ("PL201", 9, "high")]


def test_dash_t_nat_dash_s_is_the_nat_table(tmp_path):
    assert detect_format("nat.txt", NAT_S) == "iptables-save"  # the "# iptables -t nat -S" comment runs nothing
    assert rules_listing_table(NAT_S) == "nat"
    path = tmp_path / "nat.txt"
    path.write_text(NAT_S)
    found = [(f.code, f.line, str(f.severity)) for f in lint_file(str(path), Settings()).findings]
    assert found == [("PL101", 6, "critical")]  # telnet behind the DNAT; no filter table, so forwarded freely


def test_dash_l_output_is_one_clear_finding(tmp_path):
    path = tmp_path / "list.txt"
    path.write_text(DASH_L)
    (finding,) = lint_file(str(path), Settings()).findings
    assert (finding.code, finding.line) == ("PL004", 1)
    assert finding.message.startswith("This is `iptables -L` output")
    assert finding.hint == "Lint `iptables-save` (or `iptables -S`) output instead"


def test_iptables_save_output_is_not_a_listing():
    assert rules_listing_table("*filter\n:INPUT DROP [0:0]\n-P INPUT DROP\nCOMMIT\n") is None


def test_a_save_file_past_the_detection_window_is_judged_by_its_whole_lines():
    """Detection reads the first DETECT_BYTES: the line cut there is not judged (kube-proxy's
    ``:KUBE-SEP-...`` cut before its policy was, which sent detection on to slower tests, and a
    rule's comment naming an iptables command then made the file a script)."""
    from linter.frontends.registry import DETECT_BYTES

    head = '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -m comment --comment "see iptables -A" -j ACCEPT\n'
    declaration = ":KUBE-SEP-0123456789ABCDEF - [0:0]\n"
    body = declaration * ((DETECT_BYTES - len(head)) // len(declaration) + 2)
    cut_at = DETECT_BYTES - len(head)
    assert body[cut_at - 1] != "\n" and body[cut_at] != "\n"  # the window ends inside a declaration
    text = head + body + "COMMIT\n"
    assert detect_format("big.txt", text) == "iptables-save"
