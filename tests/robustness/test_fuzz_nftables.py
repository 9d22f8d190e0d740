"""Property tests of the nftables front end on mutated and random rulesets.

* ``parse()`` and ``lint_file()`` never raise, whatever the text or bytes.
* A statement corrupted on purpose gets a PL0xx finding at its line.
* Random rulesets made of valid statements read without a syntax finding.
"""

from __future__ import annotations

from fuzz_support import (
    NFT_INPUTS, apply_edits, assert_located, assert_no_internal_error, byte_edit, edits, fuzz_settings, huge_number,
    lint_mutated, with_huge_number,
)
from hypothesis import given
from hypothesis import strategies as st

from linter.checks import Settings
from linter.frontends.nftables import parse
from linter.pipeline import lint_file
from linter.source import SourceFile

NAMES = sorted(NFT_INPUTS)
name_of_input = st.sampled_from(NAMES)


@fuzz_settings(700)
@given(name_of_input, edits)
def test_parse_never_raises_on_mutated_rulesets(name, changes):
    assert_located(parse(SourceFile(name, apply_edits(NFT_INPUTS[name], changes))).diagnostics)


@fuzz_settings(80)
@given(name_of_input, edits, st.lists(byte_edit, max_size=2))
def test_lint_file_never_raises_on_mutated_rulesets(tmp_path, name, changes, byte_changes):
    lint_mutated(tmp_path, name, NFT_INPUTS[name], changes, byte_changes, "nftables")


def _statement_lines(text: str) -> list[int]:
    """Lines holding one rule statement (inside a chain; not a declaration, brace or comment)."""
    out = []
    depth_kind: list[str] = []
    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if stripped.endswith("{"):
            depth_kind.append(stripped.split()[0])
            continue
        if stripped == "}":
            if depth_kind:
                depth_kind.pop()
            continue
        if (depth_kind and depth_kind[-1] == "chain" and stripped and not stripped.startswith(("#", "type "))
                and "{" not in stripped.split()[0]):
            out.append(i)
    return out


GARBAGE = ["%%%", "frobnicate", "tcp dport 99999", "ip saddr 300.1.2.3", "ct state bogus", "@@",
           "meta nonsense 1", "ip daddr 10.0.0.0/99"]


@fuzz_settings(300)
@given(name_of_input, st.integers(0, 10_000), st.sampled_from(GARBAGE))
def test_a_corrupted_statement_gets_a_finding_at_its_line(name, choice, garbage):
    text = NFT_INPUTS[name]
    lines = text.split("\n")
    candidates = _statement_lines(text)
    k = candidates[choice % len(candidates)]
    indent = lines[k][:len(lines[k]) - len(lines[k].lstrip())]
    lines[k] = f"{indent}{garbage} {lines[k].lstrip()}"
    result = parse(SourceFile(name, "\n".join(lines)))
    assert any(d.span.line == k + 1 and d.code.startswith("PL0") for d in result.diagnostics), (
        lines[k], [(d.code, d.span.line, d.message) for d in result.diagnostics])


# --- Random rulesets ----------------------------------------------------------------

octet = st.integers(0, 255)
address = st.builds(lambda a, b, c, d, bits: f"{a}.{b}.{c}.{d}" + (f"/{bits}" if bits is not None else ""),
                    octet, octet, octet, octet, st.one_of(st.none(), st.integers(0, 32)))
port = st.integers(0, 65535).map(str)
ports = st.one_of(port, st.lists(port, min_size=1, max_size=5, unique=True).map(lambda p: "{ " + ", ".join(p) + " }"),
                  st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda p: f"{min(p)}-{max(p)}"))


INTERFACES = ['"eth0"', '"lo"', '"wg*"', '{ "eth0", "eth1" }']


@st.composite
def statement(draw) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append("iifname " + draw(st.sampled_from(INTERFACES)))
    if draw(st.booleans()):
        parts.append(f"ip {draw(st.sampled_from(['saddr', 'daddr']))} {draw(st.sampled_from(['', '!= ']))}"
                     f"{draw(address)}")
    if draw(st.booleans()):
        parts.append(f"{draw(st.sampled_from(['tcp', 'udp']))} {draw(st.sampled_from(['dport', 'sport']))} "
                     f"{draw(ports)}")
    if draw(st.booleans()):
        states = draw(st.lists(st.sampled_from(["new", "established", "related", "invalid"]), min_size=1,
                               max_size=3, unique=True))
        parts.append(f"ct state {','.join(states)}")
    if draw(st.booleans()):
        parts.append("counter")
    parts.append(draw(st.sampled_from(["accept", "drop", "reject", "return", "jump extra", "goto extra"])))
    return " ".join(parts)


@st.composite
def rulesets(draw) -> str:
    out = ["table inet portlint_fuzz {", "\tchain input {",
           f"\t\ttype filter hook input priority {draw(st.sampled_from(['filter', '0', '-10']))}; "
           f"policy {draw(st.sampled_from(['accept', 'drop']))};"]
    out += [f"\t\t{draw(statement())}" for _ in range(draw(st.integers(0, 12)))]
    out += ["\t}", "\tchain extra {"]
    out += [f"\t\t{draw(statement()).replace('jump extra', 'accept').replace('goto extra', 'drop')}"
            for _ in range(draw(st.integers(0, 5)))]
    out += ["\t}", "}"]
    return "\n".join(out) + "\n"


@fuzz_settings(250)
@given(rulesets())
def test_random_rulesets_read_without_syntax_findings(text):
    result = parse(SourceFile("random.nft", text))
    assert result.document is not None
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics if d.code in ("PL010", "PL011")] == []


@fuzz_settings(40)
@given(rulesets())
def test_random_rulesets_lint(tmp_path, text):
    path = tmp_path / "random.nft"
    path.write_text(text, encoding="utf-8")
    result = lint_file(str(path), Settings())
    assert result.document is not None
    assert_no_internal_error(result.findings)


@fuzz_settings(150)
@given(name_of_input, huge_number)
def test_a_huge_number_anywhere_is_a_finding_not_a_crash(name, change):
    assert_located(parse(SourceFile(name, with_huge_number(NFT_INPUTS[name], change))).diagnostics)
