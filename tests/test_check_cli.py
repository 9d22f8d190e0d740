"""`portlint check` as a CI gate, end to end through the command line.

Inputs are read by the stand-in front end of ci_support (every --dprot is a PL012
finding), so these tests pin the gate (configuration, suppressions, baseline,
formats, exit codes, discovery) whatever the real front ends report. The tests at
the end use the real iptables-save front end and skip until it is merged.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from ci_support import real_iptables_front_end, use_stand_in
from linter.cli import main

RULES = """\
*filter
:INPUT DROP [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p tcp --dprot 23 -j ACCEPT
COMMIT
"""
CLEAN = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    """A scratch repository root (so no configuration above it applies) read by the stand-in."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.delenv("NO_COLOR", raising=False)
    use_stand_in(monkeypatch)
    return tmp_path


def write(path, body: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def run(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def report_of(*args, input=None) -> dict:
    result = run("check", "--format", "json", *args, input=input)
    return {"exit": result.exit_code, **json.loads(result.stdout)}


# -- exit codes --------------------------------------------------------------------------------------

def test_exit_codes():
    write("clean.rules", CLEAN)
    write("typo.rules", RULES)
    assert run("check", "clean.rules").exit_code == 0
    assert run("check", "typo.rules").exit_code == 1  # PL012 is medium, the default fail-on low
    assert run("check", "--fail-on", "high", "typo.rules").exit_code == 0
    assert run("check", "--fail-on", "medium", "typo.rules").exit_code == 1
    missing = run("check", "--fail-on", "critical", "clean.rules", "missing.rules")
    assert missing.exit_code == 2 and "PL001" in missing.stdout
    bad_baseline = run("check", "--baseline", "nope.json", "clean.rules")
    assert bad_baseline.exit_code == 2 and "nope.json: cannot read baseline" in bad_baseline.stderr
    assert run().exit_code == 2  # `portlint` alone: help, exit 2
    assert run("check").exit_code == 1  # `portlint check` alone lints the current directory (typo.rules)


def test_double_dash_ends_the_options():
    write("-odd.rules", RULES)
    assert run("check", "--", "-odd.rules").exit_code == 1
    assert run("check", "--format", "concise", "--", "-odd.rules").stdout.startswith("-odd.rules:4:17: PL012")
    assert run("--", "-odd.rules").exit_code == 1  # `portlint -- FILE` is `portlint check -- FILE`


def test_standard_input_and_its_name():
    data = report_of("-", input=RULES)
    assert data["exit"] == 1 and data["findings"][0]["path"] == "-"
    named = report_of("--stdin-filename", "fw/rules.v4", "-", input=RULES)
    assert [f["path"] for f in named["findings"]] == ["fw/rules.v4"]
    suppressed = report_of("--stdin-filename", "fw/rules.v4", "-",
                           input=RULES.replace("ACCEPT\nCOMMIT", "ACCEPT  # portlint: ignore[PL012] stdin\nCOMMIT"))
    assert suppressed["exit"] == 0 and suppressed["suppressed"][0]["suppression"]["justification"] == "stdin"
    # The name decides the format: read as compose, findings carry the given name.
    compose = report_of("--stdin-filename", "compose.yaml", "-",
                        input='services:\n  db:\n    image: postgres\n    ports:\n      - "5432:5432"\n')
    assert [(f["code"], f["path"], f["line"]) for f in compose["findings"]] == [("PL201", "compose.yaml", 5)]


def test_standard_input_name_meets_per_file_ignores():
    write(".portlint.toml", "[per-file-ignores]\n'legacy/*' = ['PL012']\n")
    assert report_of("--stdin-filename", "legacy/old.rules", "-", input=RULES)["exit"] == 0
    assert report_of("--stdin-filename", "new/fw.rules", "-", input=RULES)["exit"] == 1


# -- formats and --output ------------------------------------------------------------------------------

def test_every_format_from_the_command_line():
    write("typo.rules", RULES)
    assert "^^^^^^^" in run("check", "typo.rules").stdout
    assert run("check", "--output-format", "concise", "typo.rules").stdout.splitlines()[0] == \
        "typo.rules:4:17: PL012 [medium] Unknown option --dprot"
    assert report_of("typo.rules")["findings"][0]["line"] == 4
    log = json.loads(run("check", "--format", "sarif", "typo.rules").stdout)
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    suites = ET.fromstring(run("check", "--format", "junit", "typo.rules").stdout).findall("testsuite")
    assert [s.get("name") for s in suites] == ["typo.rules"] and suites[0].get("failures") == "1"
    assert run("check", "--format", "github", "typo.rules").stdout.startswith(
        "::warning file=typo.rules,line=4,col=17,endLine=4,title=PL012 unknown-option::Unknown option --dprot")
    assert json.loads(run("check", "--format", "gitlab", "typo.rules").stdout)[0]["location"] == {
        "path": "typo.rules", "lines": {"begin": 4}}


def test_output_file_gets_the_report_and_the_terminal_one_line(workspace):
    write("typo.rules", RULES)
    result = run("check", "--format", "sarif", "--output", "out/portlint.sarif", "typo.rules")
    assert result.exit_code == 2 and "cannot write the report" in result.stderr  # out/ does not exist
    (workspace / "out").mkdir()
    result = run("check", "--format", "sarif", "--output", "out/portlint.sarif", "typo.rules")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "Found 1 finding (1 medium) in 1 file. Wrote the sarif report to out/portlint.sarif."]
    assert json.loads((workspace / "out/portlint.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "PL012"
    run("check", "--output", "report.txt", "typo.rules")
    body = (workspace / "report.txt").read_text()
    assert "typo.rules:4:17: PL012" in body and "\x1b[" not in body


def test_no_color_and_plain_when_piped():
    write("typo.rules", RULES)
    assert "\x1b[" not in run("check", "typo.rules").stdout
    assert "\x1b[" not in run("check", "--no-color", "typo.rules").stdout


# -- suppressions --------------------------------------------------------------------------------------

SUPPRESSED = """\
*filter
:INPUT DROP [0:0]
# portlint: ignore[PL012] kept for the old parser
-A INPUT -p tcp --dprot 23 -j ACCEPT
-A INPUT -p tcp --dprot 24 -j ACCEPT -m comment --comment "portlint: ignore[PL0] until=2999-12-31 vendor typo"
-A INPUT -p tcp --dprot 25 -j ACCEPT  # portlint: ignore[PL012] until=2000-01-01 was temporary
COMMIT
"""


def test_suppressions_end_to_end():
    write("fw.rules", SUPPRESSED)
    data = report_of("fw.rules")
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("PL012", 6), ("PL023", 6)]
    assert data["findings"][1]["message"] == "Suppression of PL012 expired on 2000-01-01"
    assert [(s["line"], s["suppression"]["justification"], s["suppression"]["until"]) for s in data["suppressed"]] == [
        (4, "kept for the old parser", None), (5, "vendor typo", "2999-12-31")]
    log = json.loads(run("check", "--format", "sarif", "fw.rules").stdout)
    kinds = [(r["locations"][0]["physicalLocation"]["region"]["startLine"], r.get("suppressions"))
             for r in log["runs"][0]["results"] if r["ruleId"] == "PL012"]
    assert kinds == [(4, [{"kind": "inSource", "status": "accepted", "justification": "kept for the old parser"}]),
                     (5, [{"kind": "inSource", "status": "accepted", "justification": "vendor typo"}]),
                     (6, None)]
    assert run("check", "fw.rules").stdout.rstrip().endswith(
        "Found 2 findings (1 medium, 1 low) in 1 file; 2 suppressed.")


def test_no_inline_suppressions_for_audits():
    write("fw.rules", SUPPRESSED)
    data = report_of("--no-inline-suppressions", "fw.rules")
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("PL012", 4), ("PL012", 5), ("PL012", 6)]
    assert data["suppressed"] == []


def test_unknown_unused_and_malformed_from_the_command_line():
    write("fw.rules", """\
        *filter
        -A INPUT -p tcp --dport 22 -j ACCEPT  # portlint: ignore[PL012]
        -A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL777] typo
        -A INPUT -p tcp --dport 24 -j ACCEPT  # portlint: ignore PL012
        COMMIT
    """)
    data = report_of("fw.rules")
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("PL022", 2), ("PL021", 3), ("PL024", 4)]
    write(".portlint.toml", "ignore = ['PL022']\n[rules.PL024]\nrequire_reason = true\n")
    assert [(f["code"], f["line"]) for f in report_of("fw.rules")["findings"]] == [
        ("PL024", 2), ("PL021", 3), ("PL024", 4)]  # line 2 gives no reason


def test_a_suppression_can_silence_its_own_unused_report():
    write("fw.rules", "*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT  # portlint: ignore[PL101, PL022] kept\nCOMMIT\n")
    data = report_of("fw.rules")
    assert data["exit"] == 0 and data["findings"] == []
    assert [s["code"] for s in data["suppressed"]] == ["PL022"]


def test_unused_is_quiet_for_rules_switched_off():
    write("fw.rules", "*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT  # portlint: ignore[PL012] x\nCOMMIT\n")
    assert [f["code"] for f in report_of("fw.rules")["findings"]] == ["PL022"]
    write(".portlint.toml", "ignore = ['PL012']\n")
    assert report_of("fw.rules")["findings"] == []


# -- baseline --------------------------------------------------------------------------------------------

def test_baseline_round_trip(workspace):
    write("fw.rules", RULES)
    written = run("check", "--write-baseline", ".portlint-baseline.json", "fw.rules")
    assert written.exit_code == 0
    assert "Wrote 1 finding to the baseline .portlint-baseline.json." in written.stderr
    entries = json.loads((workspace / ".portlint-baseline.json").read_text())["entries"]
    assert [(e["code"], e["path"]) for e in entries] == [("PL012", "fw.rules")]

    quiet = run("check", "--baseline", ".portlint-baseline.json", "fw.rules")
    assert quiet.exit_code == 0 and quiet.stdout.strip() == "No findings in 1 file; 1 baselined."

    write("fw.rules", RULES.replace(":INPUT DROP [0:0]\n", ":INPUT DROP [0:0]\n# moved down\n\n"))
    assert run("check", "--baseline", ".portlint-baseline.json", "fw.rules").exit_code == 0

    write("fw.rules", RULES.replace("COMMIT", "-A INPUT -p udp --dprot 53 -j ACCEPT\nCOMMIT"))
    data = report_of("--baseline", ".portlint-baseline.json", "fw.rules")
    assert data["exit"] == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("PL012", 5)]
    assert data["baselined"] == 1 and data["suppressed"][0]["suppression"]["kind"] == "baseline"
    sarif = json.loads(run("check", "--format", "sarif", "--baseline", ".portlint-baseline.json", "fw.rules").stdout)
    external = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert external[0]["suppressions"][0]["kind"] == "external"

    # Re-writing with the old baseline in force keeps the old entries.
    run("check", "--baseline", ".portlint-baseline.json", "--write-baseline", ".portlint-baseline.json", "fw.rules")
    assert len(json.loads((workspace / ".portlint-baseline.json").read_text())["entries"]) == 2


def test_baseline_holds_from_another_spelling_of_the_path(workspace):
    write("fw/a.rules", RULES)
    run("check", "--write-baseline", "b.json", "fw")
    assert run("check", "--baseline", "b.json", "./fw/a.rules").exit_code == 0
    assert run("check", "--baseline", "b.json", "./fw").exit_code == 0


# -- discovery ---------------------------------------------------------------------------------------------

def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_directory_walk_leaves_out_what_git_ignores(workspace):
    shutil.rmtree(workspace / ".git")
    _git(workspace, "init", "-q")
    write(".gitignore", "build/\n*.bak.rules\n")
    for name in ("fw/a.rules", "build/gen.rules", "fw/old.bak.rules", "fw/kept.bak.rules"):
        write(name, CLEAN)
    _git(workspace, "add", "-f", "fw/kept.bak.rules")  # tracked files are linted even when ignored
    data = report_of("--format", "json", ".")
    assert data["files"] == 2
    from linter.pipeline import discover

    files, _ = discover(["."])
    assert sorted(files) == ["./fw/a.rules", "./fw/kept.bak.rules"]
    assert discover(["build/gen.rules"])[0] == ["build/gen.rules"]  # named files are always linted


def test_directory_walk_outside_git_leaves_nothing_out(tmp_path):
    from linter.gitignore import drop_ignored

    write(tmp_path / "plain" / ".gitignore", "*.rules\n")
    write(tmp_path / "plain" / "a.rules", CLEAN)
    files = [str(tmp_path / "plain" / "a.rules")]
    assert drop_ignored(str(tmp_path / "plain"), files) == files


# -- configuration through the command line ----------------------------------------------------------

def test_cli_reports_config_errors_with_exit_2_and_no_traceback():
    write(".portlint.toml", "select = ['PL1']\nfail_on = 'high'\n")
    write("x.txt", "hello\n")
    result = run("check", "x.txt")
    assert result.exit_code == 2
    assert result.stderr.startswith("portlint: ")
    assert ".portlint.toml:2: fail_on: unknown key (did you mean 'fail-on'?)" in result.stderr
    named = run("check", "--config", "missing.toml", "x.txt")
    assert named.exit_code == 2 and "missing.toml: no such configuration file" in named.stderr
    both = run("check", "--config", ".portlint.toml", "--isolated", "x.txt")
    assert both.exit_code == 2 and "cannot be used together" in both.stderr
    isolated = run("check", "--isolated", "--format", "concise", "x.txt")
    assert isolated.exit_code == 1 and "PL004" in isolated.stdout


def test_cli_applies_configuration():
    write("x.txt", "hello\n")
    write("pyproject.toml", """
        [tool.portlint]
        fail-on = "high"
        [tool.portlint.severity]
        PL004 = "info"
    """)
    quiet = run("check", "--format", "concise", "x.txt")
    assert quiet.exit_code == 0 and "PL004 [info]" in quiet.stdout
    assert run("check", "--format", "concise", "--fail-on", "info", "x.txt").exit_code == 1  # the flag wins
    write("pyproject.toml", "[tool.portlint]\nignore = ['PL004']\n")
    ignored = run("check", "--format", "concise", "x.txt")
    assert ignored.exit_code == 0 and ignored.stdout.strip() == "No findings in 1 file."
    write("pyproject.toml", "[tool.portlint.input-format]\n'*.txt' = 'iptables-save'\n")
    write("x.txt", RULES)
    assert "PL012" in run("check", "--format", "concise", "x.txt").stdout
    other = write("elsewhere/portlint.toml", "[severity]\nPL012 = 'critical'\n")
    assert "PL012 [critical]" in run("check", "--config", other, "--format", "concise", "x.txt").stdout


# -- with the real iptables-save front end ---------------------------------------------------------------

needs_iptables = pytest.mark.skipif(not real_iptables_front_end(),
                                    reason="linter.frontends.iptables.save is not merged yet")
TELNET = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\nCOMMIT\n"


@needs_iptables
def test_exposed_telnet_end_to_end(monkeypatch):
    from linter import frontends

    monkeypatch.setitem(frontends.FRONT_ENDS, "iptables-save", "linter.frontends.iptables.save")  # not the stand-in
    write("rules.v4", TELNET)
    result = run("check", "--format", "sarif", "rules.v4")
    assert result.exit_code == 1
    (telnet,) = [r for r in json.loads(result.stdout)["runs"][0]["results"] if r["ruleId"] == "PL101"]
    assert telnet["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    write("rules.v4", TELNET.replace("-j ACCEPT", '-m comment --comment "portlint: ignore[PL101] lab" -j ACCEPT'))
    assert run("check", "rules.v4").exit_code == 0
