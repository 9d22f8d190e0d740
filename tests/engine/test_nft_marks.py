"""nft marks (``meta mark set``, ``ct mark set``, ``meta mark``/``mark``/``ct mark`` matches) are
read into the model iptables' MARK/CONNMARK and -m mark/connmark use, and the engine decides
them the same way: an accept that reads a mark set earlier on the path is exact, not "possibly"."""

from __future__ import annotations

import pytest

from linter.checks import Settings
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.nftables import marks as nft_marks
from linter.frontends.nftables import parse as parse_nft
from linter.model import MarkMatch, Statement, Verdict, VerdictKind
from linter.pipeline import run_checks
from linter.source import SourceFile


def nft(text: str):
    result = parse_nft(SourceFile("marks.nft", text))
    assert [d.code for d in result.diagnostics] == []
    return result.document


def found(text: str):
    return sorted((f.line, f.code, str(f.severity), f.message) for f in run_checks(nft(text), Settings()))


@pytest.mark.parametrize("text, match", [
    ("meta mark 0x1", MarkMatch(1, 0xFFFFFFFF, False, False, "meta mark 0x1")),
    ("mark 2", MarkMatch(2, 0xFFFFFFFF, False, False, "mark 2")),
    ("meta mark != 0x0", MarkMatch(0, 0xFFFFFFFF, True, False, "meta mark != 0x0")),
    ("ct mark 0x20", MarkMatch(0x20, 0xFFFFFFFF, False, True, "ct mark 0x20")),
    ("meta mark and 0xff == 0x1", MarkMatch(1, 0xFF, False, False, "meta mark and 0xff == 0x1")),
    ("mark & 0x4000 != 0x4000", MarkMatch(0x4000, 0x4000, True, False, "mark & 0x4000 != 0x4000")),
    ("ct mark and 0xff00 0x100", MarkMatch(0x100, 0xFF00, False, True, "ct mark and 0xff00 0x100")),
])
def test_mark_comparisons_are_mark_matches(text, match):
    assert nft_marks.mark_match(text) == match


@pytest.mark.parametrize("text", ["meta mark { 1, 2 }", "mark $M", "meta mark and 0xff == 0x100", "ct mark 1-5"])
def test_other_mark_forms_stay_opaque(text):
    assert nft_marks.mark_match(text) is None


def mark(target, *options):
    return Verdict(VerdictKind.OTHER, target, options=tuple(options))


@pytest.mark.parametrize("module, text, action", [
    ("meta mark", "meta mark set 0x1", mark("MARK", ("--set-xmark", "0x1/0xffffffff"))),
    ("meta mark", "mark set 16", mark("MARK", ("--set-xmark", "0x10/0xffffffff"))),
    ("meta mark", "mark set mark or 0x4000", mark("MARK", ("--or-mark", "0x4000"))),
    ("meta mark", "mark set mark and 0xff", mark("MARK", ("--and-mark", "0xff"))),
    ("meta mark", "meta mark set mark xor 0x4000", mark("MARK", ("--xor-mark", "0x4000"))),
    ("ct mark", "ct mark set 0x5", mark("CONNMARK", ("--set-xmark", "0x5/0xffffffff"))),
    ("ct mark", "ct mark set ct mark or 0x2", mark("CONNMARK", ("--set-mark", "0x2/0x2"))),
    ("ct mark", "ct mark set meta mark", mark("CONNMARK", ("--save-mark", ""))),
    ("meta mark", "meta mark set ct mark", mark("CONNMARK", ("--restore-mark", ""))),
    ("meta mark", "meta mark set $M", mark("MARK")),  # unknown: the engine forgets the mark
    ("ct mark", "ct mark set ct mark and 0xff", mark("CONNMARK")),
])
def test_mark_statements_carry_the_iptables_action(module, text, action):
    assert nft_marks.statement(module, text) == Statement(module, text, action)


def test_other_statements_have_no_action():
    assert nft_marks.statement("counter", "counter") == Statement("counter", "counter")


RULESET = """\
table inet filter {
    chain prerouting {
        type filter hook prerouting priority mangle; policy accept;
        tcp dport 5432 meta mark set 0x10
        tcp dport 6379 ct mark set 0x20 counter
        tcp dport 8080 meta mark set 0x30 accept
    }
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iifname "lo" accept
        meta mark & 0xff == 0x10 accept
        ct mark 0x20 accept
        mark 0x30 accept
        tcp dport 22 accept
    }
}
"""


def test_marks_set_on_the_path_decide_the_accepts_that_read_them():
    assert found(RULESET) == [
        (12, "PL201", "high", "port 5432/tcp (commonly postgresql) is reachable from the internet; "
                              "it is also unencrypted"),
        (13, "PL201", "critical", "port 6379/tcp (commonly redis) is reachable from the internet; "
                                  "it is also unencrypted"),
        (14, "PL101", "medium", "port 8080/tcp (commonly http-alt) is a plaintext protocol reachable from the internet"),
        (15, "PL201", "info", "port 22/tcp (commonly ssh) is reachable from the internet"),
    ]


@pytest.mark.parametrize("port, expected", [(5432, "accept"), (6379, "accept"), (8080, "accept"),
                                            (22, "accept"), (3306, "drop")])
def test_trace_agrees(port, expected):
    assert trace_flow(make_flow(iface="eth0", proto="tcp", dport=port), [nft(RULESET)]).verdict == expected


def test_a_mark_nothing_sets_never_matches():
    text = RULESET.replace("tcp dport 5432 meta mark set 0x10\n", "")
    assert [f[:2] for f in found(text)] == [(12, "PL201"), (13, "PL101"), (14, "PL201")]


def test_a_mark_set_to_an_unknown_value_stays_an_assumption():
    text = RULESET.replace("meta mark set 0x10", "meta mark set $M")  # $M undefined (PL031)
    result = parse_nft(SourceFile("marks.nft", text))
    findings = run_checks(result.document, Settings())
    assert any("possibly: if meta mark & 0xff == 0x10 matches" in f.message for f in findings)
