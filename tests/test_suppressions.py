"""Inline suppressions read from source text: every form, and what a wrong one reports."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from ci_support import finding
from linter.source import SourceFile
from linter.suppressions import scan

TODAY = dt.date(2026, 6, 1)


def source(text: str, path: str = "fw/rules.v4") -> SourceFile:
    return SourceFile(path, textwrap.dedent(text).lstrip("\n"))


def suppressed(text: str, *findings, today=TODAY):
    """{(code, line): justification or None} for the findings a text's suppressions silence."""
    found = scan(source(text))
    out = {}
    for f in findings:
        directive = found.match(f, today)
        if directive is not None:
            out[(f.code, f.line)] = directive.reason
    return out


def problems(text: str, today=TODAY, enabled=lambda code: True, checked=True, *findings, **scan_options):
    found = scan(source(text), **scan_options)
    for f in findings:
        found.match(f, today)
    return [(d.code, d.span.line, d.message) for d in found.problems + found.leftovers(today, enabled, checked)]


RULES = """
    *filter
    :INPUT DROP [0:0]
    -A INPUT -p tcp --dport 22 -j ACCEPT
    -A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL101] lab network only
    -A INPUT -p tcp --dport 21 -j ACCEPT
    COMMIT
"""


def test_same_line():
    assert suppressed(RULES, finding("PL101", line=4), finding("PL101", line=5), finding("PL201", line=4)) == {
        ("PL101", 4): "lab network only"}


def test_line_above_applies_to_the_next_non_comment_line():
    text = """
        *filter
        # portlint: ignore[PL101] telnet for the lab, ticket OPS-7
        # (the lab switch only speaks telnet)
        -A INPUT -p tcp --dport 23 -j ACCEPT
        -A INPUT -p tcp --dport 23 -s 192.0.2.0/24 -j ACCEPT
    """
    assert suppressed(text, finding("PL101", line=4), finding("PL101", line=5)) == {
        ("PL101", 4): "telnet for the lab, ticket OPS-7"}


def test_line_above_does_not_reach_past_a_blank_line():
    text = """
        # portlint: ignore[PL101] lab

        -A INPUT -p tcp --dport 23 -j ACCEPT
    """
    assert suppressed(text, finding("PL101", line=3)) == {}
    assert problems(text) == [("PL022", 1, "Unused suppression of PL101")]


def test_file_level_anywhere_with_prefixes():
    text = """
        -A INPUT -p tcp --dport 445 -j ACCEPT
        -A INPUT -p tcp --dport 23 -j ACCEPT
        # portlint: ignore-file[PL2, PL402] exposure reviewed in SEC-12
    """
    found = suppressed(text, finding("PL201", line=1), finding("PL101", line=2), finding("PL402", line=2),
                       finding("PL201", line=40))
    assert found == {("PL201", 1): "exposure reviewed in SEC-12", ("PL402", 2): "exposure reviewed in SEC-12",
                     ("PL201", 40): "exposure reviewed in SEC-12"}


def test_prefix_and_case_on_a_line():
    text = "-A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[pl1]\n"
    assert suppressed(text, finding("PL101", line=1), finding("PL201", line=1)) == {("PL101", 1): None}


def test_a_multi_line_finding_is_suppressed_on_any_of_its_lines():
    text = """
        iptables -A INPUT -p tcp \\
            --dport 23 -j ACCEPT  # portlint: ignore[PL101] continued command
    """
    assert suppressed(text, finding("PL101", line=1, end_line=2)) == {("PL101", 1): "continued command"}
    assert suppressed(text, finding("PL101", line=1)) == {}


def test_expiry_in_the_future_suppresses():
    text = "-A INPUT -p tcp --dport 21 -j ACCEPT  # portlint: ignore[PL101] until=2027-03-31 SFTP migration\n"
    assert suppressed(text, finding("PL101", line=1)) == {("PL101", 1): "SFTP migration"}
    assert suppressed(text, finding("PL101", line=1), today=dt.date(2027, 3, 31)) == {("PL101", 1): "SFTP migration"}
    found = scan(source(text))
    assert found.directives[0].until == dt.date(2027, 3, 31)


def test_expiry_in_the_past_stops_suppressing_and_is_reported():
    text = "-A INPUT -p tcp --dport 21 -j ACCEPT  # portlint: ignore[PL101] until=2026-05-31 SFTP migration\n"
    assert suppressed(text, finding("PL101", line=1)) == {}
    assert problems(text, TODAY, lambda c: True, True, finding("PL101", line=1)) == [
        ("PL023", 1, "Suppression of PL101 expired on 2026-05-31")]


def test_unknown_code():
    text = "-A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL110, PL101, telnet] typo\n"
    assert problems(text, TODAY, lambda c: True, True, finding("PL101", line=1)) == [
        ("PL021", 1, "Unknown rule code 'PL110' in suppression"),
        ("PL021", 1, "Unknown rule code 'telnet' in suppression")]
    assert suppressed(text, finding("PL101", line=1)) == {("PL101", 1): "typo"}


def test_unused_codes_are_reported_one_directive_at_a_time():
    text = """
        -A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL101, PL201]
        -A INPUT -p tcp --dport 22 -j ACCEPT  # portlint: ignore[PL101]
        # portlint: ignore-file[PL3]
    """
    assert problems(text, TODAY, lambda c: True, True, finding("PL101", line=1)) == [
        ("PL022", 1, "Unused suppression of PL201"),
        ("PL022", 2, "Unused suppression of PL101"),
        ("PL022", 3, "Unused file-level suppression of PL3")]


def test_unused_is_not_reported_for_rules_that_did_not_run_or_files_not_checked():
    text = "-A INPUT -p tcp --dport 22 -j ACCEPT  # portlint: ignore[PL101, PL022]\n"
    assert problems(text, enabled=lambda code: code != "PL101") == []
    assert problems(text, checked=False) == []


@pytest.mark.parametrize("comment, message", [
    ("# portlint: disable[PL101]", "Unknown portlint directive 'disable'; expected ignore[...] or ignore-file[...]"),
    ("# portlint: ignore", "Suppression names no rule codes in brackets: 'ignore'"),
    ("# portlint: ignore PL101", "Suppression names no rule codes in brackets: 'ignore PL101'"),
    ("# portlint: ignore[]", "Suppression names no rule codes in brackets: 'ignore[]'"),
    ("# portlint: ignore[PL101] until=31.03.2027 x", "Bad expiry date '31.03.2027'"),
    ("# portlint: ignore[PL101] until=2027-02-30", "Bad expiry date '2027-02-30'"),
    ("# portlint:", "Unknown portlint directive ''; expected ignore[...] or ignore-file[...]"),
])
def test_malformed(comment, message):
    text = f"-A INPUT -p tcp --dport 23 -j ACCEPT  {comment}\n"
    assert problems(text) == [("PL024", 1, message)]
    assert scan(source(text)).directives == []


def test_a_reason_can_be_required():
    text = "-A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL101]\n"
    assert problems(text, require_reason=True) == [("PL024", 1, "Suppression without a reason")]
    assert problems(text, TODAY, lambda c: True, True, finding("PL101", line=1)) == []


def test_iptables_comment_match_form():
    text = """
        *filter
        -A INPUT -p tcp -m tcp --dport 23 -m comment --comment "portlint: ignore[PL101] lab telnet, OPS-7" -j ACCEPT
        -A INPUT -p tcp -m tcp --dport 21 -m comment --comment "ftp for the scanner" -j ACCEPT
        COMMIT
    """
    assert suppressed(text, finding("PL101", line=2), finding("PL101", line=3)) == {
        ("PL101", 2): "lab telnet, OPS-7"}
    (directive,) = scan(source(text)).directives
    assert directive.column == source(text).line(2).index("portlint") + 1


def test_nft_comment_form():
    text = """
        table inet filter {
            chain input {
                type filter hook input priority filter; policy drop;
                tcp dport 23 accept comment "portlint: ignore[PL101] until=2027-01-01 says \\"lab\\""
                tcp dport 21 accept comment 'portlint: ignore-file[PL2]'
            }
        }
    """
    found = suppressed(text, finding("PL101", line=4), finding("PL201", line=1), finding("PL101", line=5))
    assert found == {("PL101", 4): 'says "lab"', ("PL201", 1): None}


def test_compose_yaml_comment_form():
    text = """
        services:
          legacy:
            image: busybox
            ports:
              - "23:23"  # portlint: ignore[PL101] demo only
    """
    assert suppressed(text, finding("PL101", line=5, path="compose.yaml")) == {("PL101", 5): "demo only"}


def test_text_that_only_mentions_portlint_is_not_a_directive():
    text = """
        # Checked by portlint in CI; see docs/ci.md
        -A INPUT -p tcp --dport 22 -j ACCEPT
    """
    assert problems(text) == [] and scan(source(text)).directives == []


def test_positions_of_reported_directives():
    text = "-A INPUT -j ACCEPT  # portlint: ignore[PL999]\n"
    (problem,) = scan(source(text)).problems
    assert (problem.span.line, problem.span.column, problem.span.end_column) == (1, 21, len(text.rstrip()) + 1)


def test_scanning_never_fails_on_odd_text():
    from hypothesis import given, settings, strategies as st

    pieces = st.sampled_from(["#", '"', "'", "portlint:", " ignore", "ignore-file", "[", "]", "PL1", "PL101,",
                              "until=", "2027-01-01", "\\", "\n", " ", "x", "pl9"])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(pieces, max_size=40).map("".join))
    def check(text):
        found = scan(SourceFile("f", text))
        for problem in found.problems:
            assert problem.code in ("PL021", "PL024") and 1 <= problem.span.line <= max(len(text.splitlines()), 1)
        found.leftovers(TODAY, lambda code: True)

    check()


LOOP = """
    for port in 21 23; do
      iptables -A INPUT -p tcp --dport $port -j ACCEPT  # portlint: ignore[PL101:23] lab telnet only
    done
"""


def test_a_suppression_naming_a_port_leaves_the_other_ports_of_the_line():
    telnet = finding("PL101", line=2, ports=((23, 23),))
    ftp = finding("PL101", line=2, ports=((21, 21),))
    unported = finding("PL101", line=2)
    assert suppressed(LOOP, telnet, ftp, unported) == {("PL101", 2): "lab telnet only"}
    assert scan(source(LOOP)).match(ftp, TODAY) is None
    assert scan(source(LOOP)).match(unported, TODAY) is None


def test_a_port_range_covers_findings_inside_it_only():
    text = "-A INPUT -p tcp --dport 20:23 -j ACCEPT  # portlint: ignore[PL1:20-23]\n"
    inside = finding("PL101", line=1, ports=((21, 21), (23, 23)))
    across = finding("PL101", line=1, ports=((23, 24),))
    found = scan(source(text))
    assert found.match(inside, TODAY) is not None and found.match(across, TODAY) is None


def test_an_unused_port_suppression_is_pl022_and_a_bad_port_pl024():
    ftp = finding("PL101", line=2, ports=((21, 21),))
    assert problems(LOOP, TODAY, lambda code: True, True, ftp) == [
        ("PL022", 2, "Unused suppression of PL101:23")]
    assert problems("-A INPUT -j ACCEPT  # portlint: ignore[PL101:99999] x\n") == [
        ("PL024", 1, "Bad port '99999' in suppression of PL101")]


def _gate(*results):
    """(kept, suppressed) of gate._apply_inline over ``results`` ((path, text, findings) each)."""
    from linter.config import load_config
    from linter.gate import _apply_inline
    from linter.pipeline import FileResult

    config = load_config(isolated=True)
    files = [FileResult(path, "iptables", None, list(findings), source=source(text, path) if text is not None else None)
             for path, text, findings in results]
    kept, silenced = _apply_inline(files, config, config.settings(), TODAY)
    return [(f.path, f.line) for f in kept], [(s.finding.path, s.finding.line, s.justification) for s in silenced]


def test_the_gate_keeps_a_file_without_directives_whole_and_sifts_one_with_them():
    plain = "*filter\n-A INPUT -p tcp --dport 23 -j ACCEPT\n-A INPUT -p tcp --dport 21 -j ACCEPT\nCOMMIT\n"
    marked = plain.replace("--dport 21 -j ACCEPT", "--dport 21 -j ACCEPT  # portlint: ignore[PL101] lab")
    lines = [finding(path="a.rules", line=2), finding(path="a.rules", line=3)]
    assert _gate(("a.rules", plain, lines)) == ([("a.rules", 2), ("a.rules", 3)], [])
    assert _gate(("a.rules", marked, lines)) == ([("a.rules", 2)], [("a.rules", 3, "lab")])
    # A file's findings that point into another file (one it includes) meet that file's directives.
    into = [finding(path="a.rules", line=2), finding(path="b.rules", line=3)]
    assert _gate(("a.rules", plain, into), ("b.rules", marked, [])) == ([("a.rules", 2)], [("b.rules", 3, "lab")])
    # No text to read: nothing is suppressed.
    assert _gate(("c.rules", None, [finding(path="c.rules", line=3)])) == ([("c.rules", 3)], [])
