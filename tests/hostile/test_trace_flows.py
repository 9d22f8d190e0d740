"""`portlint trace --flows FILE`: one bad line is one error at its number; the others are traced."""

from __future__ import annotations

import io
import json
import os

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.commands import flow_lines

RULES = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fw.rules").write_text(RULES, encoding="utf-8")
    return tmp_path


def run(*args) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_bad_lines_are_reported_and_the_others_traced(rules):
    lines = [
        b'{"dport": 22}',
        b"[" * 100_000,  # the JSON parser would recurse once per level
        b'\xff\xfe{"dport": 1}',
        b'{"dport": 80, "x": ' + b"[" * 20 + b"1" + b"]" * 20 + b"}",
        b"not json",
        b'{"dport": 23}',
        b'{"dport": 22, "note": "[[[[[[[[[[[[[[[[[[[[ in a string"}',
    ]
    (rules / "flows.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run("trace", "--flows", "flows.jsonl", "--format", "json", "fw.rules")
    assert code == 2
    records = [json.loads(line) for line in out.splitlines()]
    assert [r.get("verdict") or r["error"] for r in records] == [
        "accept",
        "JSON nested deeper than 16 levels",
        "not UTF-8 text (byte 1 of the line)",
        "JSON nested deeper than 16 levels",
        "not JSON: Expecting value: line 1 column 1 (char 0)",
        "drop",
        "unknown field(s) note",
    ]
    assert [r.get("line") for r in records] == [None, 2, 3, 4, 5, None, 7]


def test_text_format_errors_name_file_and_line(rules):
    (rules / "flows.jsonl").write_bytes(b'{"dport": 22}\n\xc3\x28\n')
    code, out, err = run("trace", "--flows", "flows.jsonl", "fw.rules")
    assert code == 2
    assert "Verdict: accept" in out
    assert err == "portlint: flows.jsonl:2: not UTF-8 text (byte 1 of the line)\n"


def test_an_over_long_line_is_skipped_to_its_end(monkeypatch):
    monkeypatch.setattr(flow_lines, "MAX_LINE_BYTES", 100)
    stream = io.BytesIO(b'{"dport": 1}\n' + b" " * 1000 + b"\n" + b'{"dport": 2}\n')
    assert list(flow_lines.flow_lines(stream)) == [
        (1, {"dport": 1}, None), (2, None, "line longer than 100 bytes"), (3, {"dport": 2}, None)]


def test_an_endless_line_stops_the_reading(monkeypatch):
    monkeypatch.setattr(flow_lines, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(flow_lines, "MAX_SKIPPED_BYTES", 10_000)
    stream = io.BytesIO(b'{"dport": 1}\n' + b"\0" * 50_000)
    assert list(flow_lines.flow_lines(stream)) == [
        (1, {"dport": 1}, None),
        (2, None, "line longer than 100 bytes with no end within 10000 bytes; stopped reading")]


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_ends_with_one_error(rules):
    code, out, err = run("trace", "--flows", "/dev/zero", "fw.rules")
    assert code == 2
    assert err == ("portlint: /dev/zero:1: line longer than 1048576 bytes with no end within 67108864 bytes; "
                   "stopped reading\n")
