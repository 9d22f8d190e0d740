"""The command-line habits of ruff users: rule selection on the command line, --exit-zero,
-q, --statistics, --fail-on none, `portlint check` with no path, a hint for [tool.portlint] in
.portlint.toml. Run on samples/legacy.rules with the real front end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    """legacy.rules in a scratch repository root (no configuration above it applies)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.delenv("NO_COLOR", raising=False)
    shutil.copy(SAMPLES / "legacy.rules", tmp_path / "legacy.rules")


def check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


def codes(result) -> list[tuple[str, int]]:
    return [(f["code"], f["line"]) for f in json.loads(result.output)["findings"]]


ALL = [("PL401", 3), ("PL201", 16), ("PL101", 17), ("PL101", 18), ("PL202", 19), ("PL201", 20), ("PL201", 21),
       ("PL201", 22)]


def test_select_replaces_the_configured_select(tmp_path):
    (tmp_path / ".portlint.toml").write_text('select = ["PL2"]\n')
    assert codes(check("legacy.rules", "--format", "json")) == [c for c in ALL if c[0].startswith("PL2")]
    # Without PL201, port 80 (which PL201's line 16 finding named too) is a PL101 note of its own.
    assert codes(check("legacy.rules", "--format", "json", "--select", "PL101,PL401")) == [
        ("PL401", 3), ("PL101", 17), ("PL101", 18), ("PL101", 23)]


def test_ignore_and_extend_select_add_to_the_configuration(tmp_path):
    (tmp_path / ".portlint.toml").write_text('select = ["PL2"]\nignore = ["PL202"]\n')
    assert codes(check("legacy.rules", "--format", "json", "--ignore", "PL201", "--extend-select", "PL401")) == [
        ("PL401", 3)]


def test_an_unknown_code_on_the_command_line_is_a_usage_error():
    result = check("legacy.rules", "--select", "PL1O1")
    assert result.exit_code == 2
    assert "portlint: --select: unknown rule code or prefix 'PL1O1'" in result.output


def test_exit_zero_keeps_the_findings_and_exits_0():
    result = check("legacy.rules", "--format", "concise", "--exit-zero")
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "Found 8 findings (3 critical, 3 high, 1 medium, 1 info) in 1 file."


def test_exit_zero_still_exits_2_for_an_unreadable_input():
    assert check("legacy.rules", "missing.rules", "--exit-zero").exit_code == 2


def test_fail_on_none():
    assert check("legacy.rules", "--fail-on", "none", "--format", "concise").exit_code == 0
    assert check("legacy.rules", "--fail-on", "critical", "--format", "concise").exit_code == 1


def test_quiet_prints_the_findings_and_nothing_else():
    result = check("legacy.rules", "--format", "concise", "-q", "--select", "PL101")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "legacy.rules:17:1: PL101 [critical] port 23/tcp (commonly telnet) is a plaintext protocol reachable from "
        "the internet",
        "legacy.rules:18:1: PL101 [high] port 21/tcp (commonly ftp) is a plaintext protocol reachable from the "
        "internet",
        "legacy.rules:23:1: PL101 [info] port 80/tcp (commonly http) is a plaintext protocol reachable from the "
        "internet",
    ]


def test_quiet_with_output_prints_nothing(tmp_path):
    result = check("legacy.rules", "-q", "--output", "report.json", "--format", "json")
    assert (result.exit_code, result.output) == (1, "")
    assert len(json.loads((tmp_path / "report.json").read_text())["findings"]) == 8


def test_statistics():
    result = check("legacy.rules", "--statistics")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "4  PL201  risky-service-exposed",
        "2  PL101  plaintext-protocol-exposed",
        "1  PL202  port-range-exposed",
        "1  PL401  default-accept-policy",
    ]
    as_json = json.loads(check("legacy.rules", "--statistics", "--format", "json").output)
    assert as_json[0] == {"code": "PL201", "name": "risky-service-exposed", "count": 4}


def test_check_without_a_path_lints_the_current_directory():
    result = check("--format", "concise", "--select", "PL401")
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith("./legacy.rules:3:1: PL401 [critical]")


def test_portlint_alone_still_prints_its_usage():
    result = CliRunner().invoke(main, [], catch_exceptions=False)
    assert result.exit_code == 2 and "Usage:" in result.output


def test_tool_portlint_inside_portlint_toml_gets_a_hint(tmp_path):
    (tmp_path / ".portlint.toml").write_text('[tool.portlint]\nselect = ["PL1"]\n')
    result = check("legacy.rules")
    assert result.exit_code == 2
    assert "drop the [tool.portlint] header and write the keys at the top level" in result.output


def test_rules_keeps_its_columns_aligned():
    lines = CliRunner().invoke(main, ["rules"], catch_exceptions=False).output.splitlines()
    severity_column = {line.index(line.split()[2], len(line.split()[0]) + len(line.split()[1])) for line in lines}
    category_column = {line.rindex(" ") + 1 for line in lines}
    assert len(severity_column) == 1 and len(category_column) == 1
    assert "PL210  compose-port-published-on-all-interfaces  low     exposure" in lines


def test_rule_renders_markdown_on_a_terminal(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    shown = CliRunner().invoke(main, ["rule", "PL101"], catch_exceptions=False).output
    assert "\x1b[" in shown and "## " not in shown and "What it does" in shown
    monkeypatch.delenv("FORCE_COLOR")
    plain = CliRunner().invoke(main, ["rule", "PL101"], catch_exceptions=False).output
    assert plain.startswith("PL101 plaintext-protocol-exposed\n") and "## What it does" in plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert CliRunner().invoke(main, ["rule", "PL101", "--no-color"], catch_exceptions=False).output == plain


def test_trace_prints_ipv6_endpoints_in_brackets():
    result = CliRunner().invoke(main, ["trace", str(SAMPLES / "ipv6.rules"), "--src", "2001:db8::5", "--dst",
                                       "2001:db8::1", "--dport", "23", "--iface", "eth0"], catch_exceptions=False)
    assert result.output.splitlines()[0] == "Flow: tcp [2001:db8::5]:40000 -> [2001:db8::1]:23 in on eth0 (new)"


def test_endpoint():
    from linter.addresses import endpoint

    assert [endpoint("192.0.2.1", 22), endpoint("2001:db8::1", 22), endpoint("2001:db8::1", None)] == [
        "192.0.2.1:22", "[2001:db8::1]:22", "2001:db8::1"]
