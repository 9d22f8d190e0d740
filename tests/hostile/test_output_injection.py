"""No output of any format or command lets input text steer a terminal or a CI log.

Hostile names (file names, chain names, comments, interface names, compose service names)
hold ESC sequences, C1 controls, GitHub workflow commands at the start of a line (``::``) and
the runner's older ``##[name]`` form. Whatever portlint prints: no raw control character but
the newlines and tabs it writes itself, no line starting with ``::`` (after blanks) except the
github reporter's own annotations, and no ``##[``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.reporters import FORMATS
from linter.reporters.github import annotation
from linter.reporters.safe import escape_json, safe_line, safe_lines, safe_text

ESC_COMMENT = "\x1b]0;pwned\x07 ::add-mask::x ##[add-mask]y \u009b2J \u202eevil"
HOSTILE_NAME = "::warning file=x::evil.rules"
RULES = (
    "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
    ":\x1b[31mEVIL - [0:0]\n"
    f'-A INPUT -p tcp --dport 23 -m comment --comment "{ESC_COMMENT}" -j ACCEPT\n'
    "-A INPUT -i eth\x1b0 -j \x1b[31mEVIL\n"
    "-A \x1b[31mEVIL -p tcp --dport 21 -j ACCEPT\n"
    "COMMIT\n"
)
COMPOSE = (
    "services:\n"
    '  "::add-mask::\\e[31mweb\\u009b2J":\n'
    '    image: "tel\\u001bnet"\n'
    "    ports:\n"
    '      - "23:23"\n'
)
# What a terminal or the Actions runner would act on.
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
OWN_ANNOTATION = re.compile(r"^::(error|warning|notice) file=[^:]*,line=\d+,col=\d+,endLine=\d+,title=[^:]*::")


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    (tmp_path / HOSTILE_NAME).write_text(RULES, encoding="utf-8")
    (tmp_path / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    return tmp_path


def run(*args) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


def assert_safe(output: str, github: bool = False) -> None:
    assert not RAW_CONTROL.search(output), repr(RAW_CONTROL.search(output))
    assert "##[" not in output
    for line in output.split("\n"):
        if line.lstrip().startswith("::"):
            assert github and OWN_ANNOTATION.match(line), line


# --- the function ----------------------------------------------------------------------

def test_safe_text_replaces_every_control_character_but_tab():
    assert safe_text("a\tb\x1b[31mc\x07\r\nd\x7f\u009b\u2028\u202e") == "a\tb?[31mc???d????"
    assert safe_text("a\r\nb\x1b", keep_newlines=True) == "a\r\nb?"
    assert safe_text("x ##[add-mask]y") == "x ## [add-mask]y"


def test_safe_line_escapes_a_workflow_command_at_the_start_only():
    assert safe_line("::add-mask::secret") == "%3A:add-mask::secret"
    assert safe_line("   ::warning file=a::b") == "   %3A:warning file=a::b"
    assert safe_line("path::x:3:1: PL101") == "path::x:3:1: PL101"
    assert safe_lines("ok\n::set-output name=a::b") == "ok\n%3A:set-output name=a::b"


def test_escape_json_keeps_the_data():
    text = json.dumps({"name": "a\u009bb\u202ec\x7f"}, ensure_ascii=False)
    escaped = escape_json(text)
    assert not RAW_CONTROL.search(escaped)
    assert json.loads(escaped) == {"name": "a\u009bb\u202ec\x7f"}


# --- check, every format -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_check_output_is_safe_in_every_format(hostile, fmt):
    code, output = run("check", "--format", fmt, HOSTILE_NAME, "docker-compose.yml")
    assert code == 1
    assert_safe(output, github=fmt == "github")
    if fmt in ("json", "sarif", "gitlab"):
        json.loads(output)  # still valid JSON, C1 and bidi characters as \\uXXXX


def test_text_output_shows_the_names_neutralised(hostile):
    _, output = run("check", "--format", "concise", HOSTILE_NAME, "docker-compose.yml")
    lines = output.splitlines()
    assert lines[0].startswith("%3A:warning file=x::evil.rules:6:1: PL101 [critical] port 23/tcp (commonly telnet)")
    assert "of service ::add-mask::?[31mweb?2J is a plaintext protocol published" in output
    _, text = run("check", HOSTILE_NAME)
    assert '--comment "?]0;pwned? ::add-mask::x ## [add-mask]y ?2J ?evil"' in text
    assert "-A ?[31mEVIL -p tcp --dport 21 -j ACCEPT" in text


def test_colour_output_carries_no_escape_from_the_input(hostile, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, output = run("check", HOSTILE_NAME)
    assert "\x1b]" not in output and "\x1b[31mEVIL" not in output and "\u009b" not in output
    assert "?[31mEVIL" in output
    assert not [line for line in output.split("\n") if re.sub("\x1b\\[[0-9;]*m", "", line).lstrip().startswith("::")]


def test_github_annotations_escape_as_the_runner_reads_them(hostile):
    _, output = run("check", "--format", "github", HOSTILE_NAME)
    first = output.splitlines()[0]
    assert first.startswith("::error file=%3A%3Awarning file=x%3A%3Aevil.rules,line=6,col=1,endLine=6,"
                            "title=PL101 plaintext-protocol-exposed::port 23/tcp (commonly telnet)")
    from linter.findings import Finding, Severity

    finding = Finding(code="PL101", name="n", severity=Severity.HIGH, category="c", path="a,b:c%\x1b.rules",
                      line=1, column=1, message="50% off\r\nnext\x1b[2J", hint=None)
    assert annotation(finding) == ("::error file=a%2Cb%3Ac%25?.rules,line=1,col=1,endLine=1,title=PL101 n"
                                   "::50%25 off%0D%0Anext?[2J")


# --- exposure and trace ----------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_exposure_output_is_safe(hostile, fmt):
    code, output = run("exposure", "--format", fmt, HOSTILE_NAME)
    assert code == 0
    assert_safe(output)
    if fmt == "text":
        assert "evil.rules:6" in output
    else:  # the data is exact: escaped, not replaced
        deciders = [d for e in json.loads(output)["exposure"] for d in e["decided_by"]]
        telnet = next(d for d in deciders if d["line"] == 6)
        assert telnet["path"] == HOSTILE_NAME
        assert ESC_COMMENT in telnet["rule"]


def test_trace_output_is_safe(hostile):
    code, output = run("trace", "--dport", "21", "--iface", "eth\x1b0", HOSTILE_NAME)
    assert code == 0
    assert_safe(output)
    assert "enter filter ?[31mEVIL" in output and "Verdict: accept" in output
    assert "%3A:warning file=x::evil.rules:7: -A INPUT -i eth?0 -j ?[31mEVIL" in output
    code, output = run("trace", "--format", "json", "--dport", "21", "--iface", "eth\x1b0", HOSTILE_NAME)
    assert_safe(output)
    assert json.loads(output)["verdict"] == "accept"


def test_trace_errors_are_safe(hostile):
    code, output = run("trace", "--src", "::add-mask::\x1b[2J", HOSTILE_NAME)
    assert code == 2
    assert_safe(output)
    Path("flows.jsonl").write_text('{"src": "::x\\u001b"}\n\n::add-mask::y\n', encoding="utf-8")
    code, output = run("trace", "--flows", "flows.jsonl", HOSTILE_NAME)
    assert code == 2
    assert_safe(output)
