"""Property tests of the iptables-save front end and the whole lint on mutated and random input.

* Whatever the bytes, ``parse()`` and ``lint_file()`` return; they never raise.
* A rule line corrupted on purpose gets a PL0xx finding at that line.
* A mutation confined to one rule line changes nothing the front end reads from the
  other lines: their rules and their diagnostics stay the same. (The checks' findings
  may change, as they should: a rule that disappears can leave another one exposed.)
  Two facts are read from the whole file and may legitimately change with one line:
  its address family (an IPv6 address anywhere makes it an ip6tables file) and its
  chain names; mutations that change those are not line-local and are left out.
"""

from __future__ import annotations

import re

from fuzz_support import (
    IPTABLES_SAMPLES, apply_edits, assert_located, assert_no_internal_error, byte_edit, edits, fuzz_settings,
    huge_number, lint_mutated, piece, with_huge_number,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from linter.checks import Settings
from linter.frontends.iptables.save import parse
from linter.frontends.iptables.tables import chain_names, detect_family
from linter.pipeline import lint_file
from linter.source import SourceFile

NAMES = sorted(IPTABLES_SAMPLES)
sample = st.sampled_from(NAMES)
_RULE_HEAD = re.compile(r"(?:\[\d+:\d+\] )?-[AI] \S+")


def rules_by_line(result) -> dict[int, list]:
    out: dict[int, list] = {}
    if result.document is None:
        return out
    for table in result.document.tables:
        for chain in table.chains:
            for rule in chain.rules:
                out.setdefault(rule.span.line, []).append(
                    (table.name, chain.name, rule.matches, rule.verdict, rule.comment, rule.text, rule.span))
    return out


def diagnostics_off(result, line: int) -> list:
    return [(d.code, d.message, d.span, d.hint) for d in result.diagnostics if d.span.line != line]


@fuzz_settings(1200)
@given(sample, edits)
def test_parse_never_raises_on_mutated_samples(name, changes):
    assert_located(parse(SourceFile(name, apply_edits(IPTABLES_SAMPLES[name], changes))).diagnostics)


@fuzz_settings(120)
@given(sample, edits, st.lists(byte_edit, max_size=2))
def test_lint_file_never_raises_on_mutated_samples(tmp_path, name, changes, byte_changes):
    lint_mutated(tmp_path, name, IPTABLES_SAMPLES[name], changes, byte_changes)


def _rule_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(text.split("\n")) if _RULE_HEAD.match(line)]


@fuzz_settings(700)
@given(sample, st.integers(0, 10_000), st.lists(st.tuples(st.floats(0, 1, allow_nan=False),
                                                          st.sampled_from(["insert", "delete", "replace"]),
                                                          piece.filter(lambda p: "\n" not in p),
                                                          st.integers(1, 12)), min_size=1, max_size=3))
def test_a_line_local_mutation_leaves_the_other_lines_alone(name, choice, changes):
    text = IPTABLES_SAMPLES[name]
    lines = text.split("\n")
    candidates = _rule_lines(text)
    k = candidates[choice % len(candidates)]
    head = _RULE_HEAD.match(lines[k]).end()
    tail = apply_edits(lines[k][head:], changes)
    assume("\n" not in tail)
    lines[k] = lines[k][:head] + tail
    mutated = "\n".join(lines)
    assume(detect_family(mutated) == detect_family(text))
    assume(set(chain_names(mutated)) == set(chain_names(text)))
    before, after = parse(SourceFile(name, text)), parse(SourceFile(name, mutated))
    line = k + 1
    assert diagnostics_off(after, line) == diagnostics_off(before, line)
    old_rules, new_rules = rules_by_line(before), rules_by_line(after)
    old_rules.pop(line, None)
    new_rules.pop(line, None)
    assert new_rules == old_rules


# Corruptions that make any rule line wrong: put right after "-A CHAIN" (before the rule's own
# options, so nothing the line loads can take them as its own), or at the end of the line.
AFTER_CHAIN = [
    "--bogus-option", "-s 300.1.2.3", "-d 10.0.0.0/40", "-p tcp --dport 99999", "-p nosuchproto",
    "-p udp -m udp --sport 5:1", "-m conntrack --ctstate NEWISH", "-m multiport --dports 1,,2", "! !",
    "-i averyverylonginterface0", "-s", "--dport 22",
]
AT_END = [" -p", " !", ' "unterminated', " -m", " -j", " stray-word", " --to-destination"]


@fuzz_settings(400)
@given(sample, st.integers(0, 10_000), st.one_of(st.tuples(st.just("after"), st.sampled_from(AFTER_CHAIN)),
                                                  st.tuples(st.just("end"), st.sampled_from(AT_END))))
def test_a_corrupted_rule_line_gets_a_finding_at_that_line(name, choice, corruption):
    text = IPTABLES_SAMPLES[name]
    lines = text.split("\n")
    candidates = _rule_lines(text)
    k = candidates[choice % len(candidates)]
    where, bad = corruption
    if where == "after":
        head = _RULE_HEAD.match(lines[k]).end()
        lines[k] = f"{lines[k][:head]} {bad}{lines[k][head:]}"
    else:
        lines[k] = lines[k].rstrip() + bad
    mutated = "\n".join(lines)
    before, after = parse(SourceFile(name, text)), parse(SourceFile(name, mutated))
    line = k + 1
    new = [d for d in after.diagnostics if d.span.line == line and d.code.startswith("PL0")]
    old = [d for d in before.diagnostics if d.span.line == line]
    assert len(new) > len(old), (lines[k], [(d.code, d.message) for d in after.diagnostics])
    assert diagnostics_off(after, line) == diagnostics_off(before, line)


# --- Random rulesets ----------------------------------------------------------------

octet = st.integers(0, 255)
address = st.builds(lambda a, b, c, d, bits: f"{a}.{b}.{c}.{d}" + (f"/{bits}" if bits is not None else ""),
                    octet, octet, octet, octet, st.one_of(st.none(), st.integers(0, 32)))
port = st.integers(0, 65535)
port_range = st.one_of(port.map(str), st.tuples(port, port).map(lambda p: f"{min(p)}:{max(p)}"))
word = st.text("abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=10)
USER_CHAINS = ["USER0", "USER1", "USER2"]


@st.composite
def rule_options(draw, chain: str) -> str:
    parts = []
    protocol = draw(st.sampled_from([None, "tcp", "udp", "icmp", "all", "sctp"]))
    negated = protocol != "all" and draw(st.booleans())  # iptables refuses "! -p all"
    if protocol:
        parts.append(f"{'! ' if negated else ''}-p {protocol}")
    if draw(st.booleans()):
        parts.append(f"{draw(st.sampled_from(['', '! ']))}-s {draw(address)}")
    if draw(st.booleans()):
        parts.append(f"-d {draw(address)}")
    if draw(st.booleans()) and chain not in ("OUTPUT",):
        parts.append(f"-i {draw(st.sampled_from(['eth0', 'eth+', 'lo', 'docker0', 'wg0']))}")
    if protocol in ("tcp", "udp", "sctp") and not negated and draw(st.booleans()):  # else iptables refuses ports
        if draw(st.booleans()):
            parts.append(f"-m {protocol} {draw(st.sampled_from(['--dport', '--sport']))} {draw(port_range)}")
        else:
            ports = draw(st.lists(port.map(str), min_size=1, max_size=7))
            parts.append(f"-m multiport --dports {','.join(ports)}")
    if draw(st.booleans()):
        states = draw(st.lists(st.sampled_from(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]),
                               min_size=1, max_size=3, unique=True))
        parts.append(f"-m conntrack --ctstate {','.join(states)}")
    if draw(st.booleans()):
        parts.append(f'-m comment --comment "{draw(word)} {draw(word)}"')
    target = draw(st.sampled_from(["ACCEPT", "DROP", "RETURN", "REJECT", "LOG", *USER_CHAINS]))
    if target == "LOG":
        parts.append(f'-j LOG --log-prefix "{draw(word)}: "')
    elif target == "REJECT" and draw(st.booleans()):
        parts.append("-j REJECT --reject-with icmp-port-unreachable")
    else:
        parts.append(f"-j {target}")
    return " ".join(parts)


@st.composite
def rulesets(draw) -> str:
    out = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    out += [f":{name} - [0:0]" for name in USER_CHAINS]
    for _ in range(draw(st.integers(0, 25))):
        chain = draw(st.sampled_from(["INPUT", "FORWARD", "OUTPUT", *USER_CHAINS]))
        out.append(f"-A {chain} {draw(rule_options(chain))}")
    out.append("COMMIT")
    return "\n".join(out) + "\n"


@fuzz_settings(300)
@given(rulesets())
def test_random_rulesets_read_without_syntax_findings(text):
    result = parse(SourceFile("random.rules", text))
    assert result.document is not None
    assert [d for d in result.diagnostics if d.code in ("PL010", "PL011", "PL012", "PL015")] == []
    rules = sum(len(c.rules) for t in result.document.tables for c in t.chains)
    assert rules == sum(1 for line in text.split("\n") if line.startswith("-A "))


@fuzz_settings(60)
@given(rulesets())
def test_random_rulesets_lint(tmp_path, text):
    path = tmp_path / "random.rules"
    path.write_text(text, encoding="utf-8")
    result = lint_file(str(path), Settings())
    assert result.document is not None
    assert_no_internal_error(result.findings)


@fuzz_settings(150)
@given(sample, huge_number)
def test_a_huge_number_anywhere_is_a_finding_not_a_crash(name, change):
    assert_located(parse(SourceFile(name, with_huge_number(IPTABLES_SAMPLES[name], change))).diagnostics)
