"""Shared pieces of the robustness tests: inputs, mutations, hypothesis settings.

The fuzz tests run thousands of cases in CI, so they are tuned to stay well under a
minute together: derandomized (the same cases on every run, no example database
written), no per-example deadline, and the costly whole-pipeline properties get fewer
examples than the front-end ones.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
INPUTS = Path(__file__).resolve().parent / "inputs"


def fuzz_settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])


def texts(paths) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


IPTABLES_SAMPLES = texts(sorted(SAMPLES.glob("*.rules")))
NFT_INPUTS = texts(sorted(INPUTS.glob("*.nft")))
COMPOSE_INPUTS = texts([INPUTS / "compose.yaml"])
SCRIPT_INPUTS = texts(sorted((SAMPLES / "scripts").glob("*")) if (SAMPLES / "scripts").is_dir() else []) or texts(
    sorted(INPUTS.glob("*.sh")))

# Pieces that mean something to one syntax or another, and characters that trouble readers.
PIECES = [
    '"', "'", "!", "-", "--", "#", ":", "::", "*", "[", "]", "{", "}", ";", "\\", " ", "\t", "\r", "\n",
    "\x0c", "\x0b", "\x85", "\u2028", "\ufeff", "é", "€", "\U0001f525", "$", "${", "${X:-", "}", "@", ",", "/", ".",
    "0", "65535", "65536", "99999", "-1", "0x10", "::1", "10.0.0.0/8", "300.1.1.1", "1.2.3.4/33",
    "-A", "-I", "-N", "-P", "-j", "-g", "-m", "-p", "-s", "-d", "-i", "--dport", "--sport", "--dports", "--comment",
    "--ctstate", "ACCEPT", "DROP", "COMMIT", "*filter", "*nat", ":X - [0:0]", "[0:0]", "tcp", "udp", "all",
    "table", "chain", "jump", "goto", "accept", "drop", "dport", "saddr", "define", "include", "set", "map",
    "elements", "vmap", "policy", "type", "hook", "priority", "ip", "ip6", "inet", "ct state",
    "services:", "ports:", "- ", "&a", "*a", "<<: *a", "!!python/object", "0:0", "80:80", "127.0.0.1:",
    "iptables", "ip6tables", "$IPT", "&&", "|", "`", "$(", ")", "<<EOF",
    # Hostile input: a number past Python's int-str limit, nesting past the readers' limits (linter/budgets.py).
    "9" * 4400, "(" * 150, "{ " * 150, "$(" * 150, "${X:-" * 150, '"$(' * 150, "if true; then " * 150,
]

piece = st.one_of(st.sampled_from(PIECES), st.text(max_size=4))
EDITS = ("insert", "delete", "replace", "duplicate-line", "drop-line", "swap-lines", "truncate")
edit = st.tuples(st.floats(0, 1, allow_nan=False), st.sampled_from(EDITS), piece, st.integers(1, 12))
edits = st.lists(edit, min_size=1, max_size=4)


def apply_edits(text: str, changes) -> str:
    """``text`` after each (where, kind, piece, size) edit in turn."""
    for where, kind, what, size in changes:
        at = int(where * len(text))
        if kind == "insert":
            text = text[:at] + what + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + size:]
        elif kind == "replace":
            text = text[:at] + what + text[at + len(what):]
        elif kind == "truncate":
            text = text[:at]
        else:
            lines = text.split("\n")
            k = min(int(where * len(lines)), len(lines) - 1)
            if kind == "duplicate-line":
                lines.insert(k, lines[k])
            elif kind == "drop-line":
                del lines[k]
            elif kind == "swap-lines" and k + 1 < len(lines):
                lines[k], lines[k + 1] = lines[k + 1], lines[k]
            text = "\n".join(lines)
    return text


HUGE_NUMBERS = ["9" * 4400, "0" * 5000 + "1", "0x" + "f" * 5000, "1" + "0" * 100]
huge_number = st.tuples(st.integers(0, 100_000), st.sampled_from(HUGE_NUMBERS))


def with_huge_number(text: str, change) -> str:
    """``text`` with one of its runs of digits (picked by ``change``) replaced by a huge number."""
    import re

    choice, number = change
    runs = list(re.finditer(r"\d+", text))
    if not runs:
        return text
    run = runs[choice % len(runs)]
    return text[:run.start()] + number + text[run.end():]


BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xe9", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf", b"\x80\x80"]
byte_edit = st.tuples(st.floats(0, 1, allow_nan=False), st.sampled_from(BAD_BYTES))


def apply_bytes(data: bytes, changes) -> bytes:
    for where, what in changes:
        at = int(where * len(data))
        data = data[:at] + what + data[at:]
    return data


def assert_located(diagnostics) -> None:
    """Every diagnostic is a PL0xx finding at a real place (line and column from 1), and none is an
    internal error: a front end that failed (PL009) is a bug these tests exist to find."""
    for diag in diagnostics:
        assert diag.code.startswith("PL0") and diag.span.line >= 1 and diag.span.column >= 1
        assert diag.code != "PL009", diag.message


def assert_no_internal_error(findings) -> None:
    """No PL009 among a lint's findings: lint_file turns any crash into one, which must fail the test."""
    assert [f.message for f in findings if f.code == "PL009"] == []


def lint_mutated(tmp_path, name: str, text: str, changes, byte_changes, fmt: str | None = None, **options):
    """Write ``text`` with edits and byte edits applied and lint it through the whole pipeline
    (reading, detection, front end, checks): it must not raise, and every finding is located."""
    from linter.checks import Settings
    from linter.pipeline import lint_file

    path = tmp_path / name
    path.write_bytes(apply_bytes(apply_edits(text, changes).encode("utf-8", "surrogatepass"), byte_changes))
    result = lint_file(str(path), Settings(), fmt, **options)
    for finding in result.findings:
        assert finding.line >= 1 and finding.column >= 1
    assert_no_internal_error(result.findings)
    return result
