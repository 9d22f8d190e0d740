"""Every report format, read back the way its consumer reads it.

The reports are built from Finding records made by hand: reporters read records only.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ci_support import finding
from linter.findings import Severity, Suppressed
from linter.reporters import FORMATS, Report, write_report
from linter.reporters import github, gitlab, junit, sarif, text
from linter.reporters import json_report

ROOT = Path(__file__).resolve().parents[1]
V1_RECORD_KEYS = {"code", "name", "severity", "category", "path", "line", "column", "end_line", "end_column",
                  "message", "hint", "fingerprint"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def report() -> Report:
    telnet = finding("PL101", "fw/rules.v4", 3, 5, "Telnet (23/tcp) is a plaintext protocol reachable from the internet",
                     end_line=3, end_column=20, hint="Use SSH instead", proto="tcp", ports=((23, 23),),
                     key="tcp/telnet/internet/ipv4", source_line="-A INPUT -p tcp --dport 23 -j ACCEPT",
                     related=(("fw/rules.v4", 9, 1, "also decided by filter FORWARD"),))
    policy = finding("PL401", "fw/rules.v4", 1, 1, "Chain INPUT accepts what no rule matches",
                     source_line=":INPUT ACCEPT [0:0]")
    shadow = finding("PL402", "other.nft", 7, 3, "Rule is never reached")
    smb = finding("PL201", "fw/rules.v4", 4, 1, "smb (445/tcp) is reachable from the internet")
    unused = finding("PL405", "other.nft", 2, 1, "Chain old is never used")
    missing = finding("PL001", "missing.rules", 1, 1, "No such file or directory")
    return Report(
        findings=[telnet, policy, shadow], errors=[missing],
        suppressed=[Suppressed(smb, "inline", "lab network only", "line", 4, "2999-01-01"),
                    Suppressed(unused, "baseline", "Recorded in the baseline .portlint-baseline.json")],
        files=["fw/rules.v4", "other.nft", "clean.rules", "missing.rules"],
        rules={code: Severity.parse(sev) for code, sev in
               [("PL001", "high"), ("PL101", "high"), ("PL201", "high"), ("PL401", "medium"), ("PL402", "low"),
                ("PL405", "info")]},
    )


def rendered(fmt: str, report: Report, color: bool = False) -> str:
    stream = io.StringIO()
    write_report(fmt, report, stream, color)
    return stream.getvalue()


def test_every_format_is_registered_and_renders_an_empty_report():
    assert set(FORMATS) == {"text", "concise", "json", "sarif", "junit", "github", "gitlab"}
    for fmt in FORMATS:
        assert isinstance(rendered(fmt, Report(findings=[])), str)


# -- text and concise -------------------------------------------------------------------------

def test_text_has_location_code_frame_hint_and_summary(report):
    out = rendered("text", report)
    assert "\x1b[" not in out
    assert "fw/rules.v4:3:5: PL101 [high] Telnet (23/tcp) is a plaintext protocol reachable from the internet" in out
    assert "3 | -A INPUT -p tcp --dport 23 -j ACCEPT" in out
    assert "  |     " + "^" * 15 in out  # columns 5..19 (end column 20 is the one after)
    assert "= hint: Use SSH instead" in out
    assert "= note: fw/rules.v4:9:1: also decided by filter FORWARD" in out
    assert out.rstrip().splitlines()[-1] == ("Found 4 findings (2 high, 1 medium, 1 low) in 4 files; "
                                             "1 suppressed, 1 baselined.")


def test_text_colour_only_on_a_terminal_and_never_with_no_color(report, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    tty = Terminal()
    text.write(report, tty, color=text.wants_color(False))
    assert "\x1b[" in tty.getvalue()
    piped = io.StringIO()
    text.write(report, piped, color=True)
    assert "\x1b[" not in piped.getvalue()
    assert text.wants_color(no_color=True) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert text.wants_color(False) is False


def test_summary_wording():
    assert text.summary([], 1) == "No findings in 1 file."
    assert text.summary([], 2, suppressed=0, baselined=3) == "No findings in 2 files; 3 baselined."
    one = [finding("PL101")]
    assert text.summary(one, 1, suppressed=2) == "Found 1 finding (1 high) in 1 file; 2 suppressed."


def test_concise_is_one_line_per_finding_then_the_summary(report):
    lines = rendered("concise", report).splitlines()
    assert lines == [
        "fw/rules.v4:1:1: PL401 [medium] Chain INPUT accepts what no rule matches",
        "fw/rules.v4:3:5: PL101 [high] Telnet (23/tcp) is a plaintext protocol reachable from the internet",
        "missing.rules:1:1: PL001 [high] No such file or directory",
        "other.nft:7:3: PL402 [low] Rule is never reached",
        "Found 4 findings (2 high, 1 medium, 1 low) in 4 files; 1 suppressed, 1 baselined.",
    ]


# -- json --------------------------------------------------------------------------------------

def test_json_keeps_version_1_and_adds_suppressed(report):
    data = json.loads(rendered("json", report))
    assert data["version"] == json_report.SCHEMA_VERSION == 1
    assert data["tool"]["name"] == "portlint"
    assert data["files"] == 4
    assert [f["code"] for f in data["findings"]] == ["PL401", "PL101", "PL402"]
    assert [f["code"] for f in data["errors"]] == ["PL001"]
    for record in data["findings"] + data["errors"]:
        assert V1_RECORD_KEYS <= set(record)
    telnet = data["findings"][1]
    assert telnet["ports"] == [[23, 23]] and telnet["proto"] == "tcp"
    assert telnet["related"] == [{"path": "fw/rules.v4", "line": 9, "column": 1, "note": "also decided by filter FORWARD"}]
    inline, baselined = data["suppressed"]
    assert inline["code"] == "PL201" and V1_RECORD_KEYS <= set(inline)
    assert inline["suppression"] == {"kind": "inline", "justification": "lab network only", "scope": "line",
                                     "line": 4, "until": "2999-01-01"}
    assert baselined["code"] == "PL405" and baselined["suppression"]["kind"] == "baseline"
    assert data["baselined"] == 1


# -- sarif -------------------------------------------------------------------------------------

def _sarif(report) -> dict:
    return json.loads(rendered("sarif", report))


def test_sarif_structure_that_code_scanning_reads(report):
    log = _sarif(report)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "portlint" and driver["version"]
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(ids) and set(ids) == {"PL001", "PL101", "PL201", "PL401", "PL402", "PL405"}
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert re.fullmatch(r"[0-9a-f]{32}", result["partialFingerprints"]["portlint/v1"])
    telnet = next(r for r in run["results"] if r["ruleId"] == "PL101")
    assert telnet["level"] == "error"
    assert telnet["message"]["text"] == "Telnet (23/tcp) is a plaintext protocol reachable from the internet"
    location = telnet["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "fw/rules.v4", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 20}
    assert telnet["partialFingerprints"]["portlint/v1"] == report.findings[0].fingerprint
    assert telnet["relatedLocations"] == [{
        "id": 1, "message": {"text": "also decided by filter FORWARD"},
        "physicalLocation": {"artifactLocation": {"uri": "fw/rules.v4", "uriBaseId": "%SRCROOT%"},
                             "region": {"startLine": 9, "startColumn": 1}}}]
    assert "suppressions" not in telnet
    assert telnet["properties"]["hint"] == "Use SSH instead"


def test_sarif_levels_and_security_severity_follow_severity(report):
    run = _sarif(report)["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    expected = {"PL101": ("error", "7.5"), "PL401": ("warning", "5.0"), "PL402": ("note", "3.0"),
                "PL405": ("note", "1.0")}
    for code, (level, score) in expected.items():
        assert rules[code]["defaultConfiguration"]["level"] == level
        assert rules[code]["properties"]["security-severity"] == score
    assert sarif.SECURITY_SEVERITY[Severity.CRITICAL] == "9.5"
    assert sarif.LEVELS[Severity.CRITICAL] == "error" and sarif.LEVELS[Severity.INFO] == "note"
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels == {"PL001": "error", "PL101": "error", "PL201": "error", "PL401": "warning", "PL402": "note",
                      "PL405": "note"}


def test_sarif_rules_carry_their_documentation(report):
    rules = {rule["id"]: rule for rule in _sarif(report)["runs"][0]["tool"]["driver"]["rules"]}
    telnet = rules["PL101"]
    assert telnet["name"] == "plaintext-protocol-exposed"
    assert telnet["shortDescription"]["text"] == "Plaintext protocol exposed"
    assert telnet["fullDescription"]["text"].startswith("Reports a service that sends credentials")
    markdown = telnet["help"]["markdown"]
    for title in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## References"):
        assert title in markdown
    assert "```text\n*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n```" in markdown
    assert telnet["help"]["text"].startswith("PL101 plaintext-protocol-exposed")
    assert telnet["properties"]["tags"] == ["security", "plaintext", "external/cwe/cwe-319"]
    assert rules["PL001"]["properties"]["tags"] == ["parse"]


def test_sarif_suppressions_carry_their_justification(report):
    results = {r["ruleId"]: r for r in _sarif(report)["runs"][0]["results"]}
    assert results["PL201"]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "lab network only"}]
    assert results["PL405"]["suppressions"] == [
        {"kind": "external", "status": "accepted",
         "justification": "Recorded in the baseline .portlint-baseline.json"}]


def test_sarif_paths_and_regions(tmp_path):
    assert sarif.artifact_location("a dir/x#1.rules") == {"uri": "a%20dir/x%231.rules", "uriBaseId": "%SRCROOT%"}
    assert sarif.artifact_location("./fw/../fw/rules.v4") == {"uri": "fw/rules.v4", "uriBaseId": "%SRCROOT%"}
    outside = tmp_path.parent / "elsewhere.rules"
    assert sarif.artifact_location(str(outside)) == {"uri": outside.as_uri()}
    no_end = finding(line=2, column=4, source_line="abcdefgh")
    assert sarif.region(no_end) == {"startLine": 2, "startColumn": 4, "endLine": 2, "endColumn": 9}
    bare = finding(line=2, column=1)
    assert sarif.region(bare) == {"startLine": 2, "startColumn": 1, "endLine": 2}


def _schema_path() -> Path | None:
    for base in (ROOT.parent, ROOT.parent.parent):
        candidate = base / "shared" / "corpus" / "sarif" / "sarif-schema-2.1.0.json"
        if candidate.is_file():
            return candidate
    return None


def test_sarif_validates_against_the_schema(report):
    schema_path = _schema_path()
    if schema_path is None:
        pytest.skip("../shared/corpus/sarif/sarif-schema-2.1.0.json is not here (shared corpus absent)")
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed (pip install -e .[test])")
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    for log in (_sarif(report), _sarif(Report(findings=[]))):
        errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


# -- junit -------------------------------------------------------------------------------------

def test_junit_suite_per_file_case_per_rule(report):
    root = ET.fromstring(rendered("junit", report))
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["fw/rules.v4", "other.nft", "clean.rules", "missing.rules"]

    fw = suites["fw/rules.v4"]
    cases = {case.get("name"): case for case in fw.findall("testcase")}
    assert set(cases) == {"PL001 unreadable-input", "PL101 plaintext-protocol-exposed", "PL201 risky-service-exposed",
                          "PL401 default-accept-policy", "PL402 shadowed-rule", "PL405 unused-chain"}
    failure = cases["PL101 plaintext-protocol-exposed"].find("failure")
    assert failure.get("type") == "high"
    assert failure.get("message") == ("line 3, column 5: [high] Telnet (23/tcp) is a plaintext protocol "
                                      "reachable from the internet")
    assert "fw/rules.v4:3:5: PL101 [high] Telnet (23/tcp)" in failure.text
    assert cases["PL401 default-accept-policy"].find("failure") is not None
    assert cases["PL201 risky-service-exposed"].find("failure") is None  # suppressed: passes
    assert (fw.get("tests"), fw.get("failures"), fw.get("errors")) == ("6", "2", "0")

    clean = suites["clean.rules"]
    assert clean.get("failures") == "0" and len(clean.findall("testcase")) == 6
    assert all(len(case) == 0 for case in clean.findall("testcase"))

    missing = suites["missing.rules"]
    (case,) = missing.findall("testcase")
    assert case.get("name") == "PL001 unreadable-input" and case.find("error") is not None
    assert missing.get("errors") == "1"
    assert root.get("failures") == "3" and root.get("errors") == "1"
    assert root.get("tests") == str(sum(int(s.get("tests")) for s in suites.values()))


def test_junit_several_findings_of_a_rule_in_one_failure():
    report = Report(findings=[finding("PL402", "a.rules", 3, message="first"),
                              finding("PL402", "a.rules", 8, message="second \x07 bell")],
                    files=["a.rules"], rules={"PL402": Severity.LOW})
    root = ET.fromstring(rendered("junit", report))
    failures = root.findall(".//failure")
    assert len(failures) == 1
    assert failures[0].get("message") == "2 findings, first at line 3, column 1: [low] first"
    assert failures[0].text.splitlines() == ["a.rules:3:1: PL402 [low] first", "a.rules:8:1: PL402 [low] second \ufffd bell"]


# -- github ------------------------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def _unescape(value: str) -> str:
    return (value.replace("%2C", ",").replace("%3A", ":").replace("%0A", "\n").replace("%0D", "\r")
            .replace("%25", "%"))


def parse_annotations(output: str) -> list[dict]:
    annotations = []
    for line in output.rstrip("\n").split("\n"):  # the runner splits on newlines only, not on U+0085 or U+2028
        match = COMMAND.match(line)
        assert match, f"not a workflow command: {line!r}"
        props = dict(part.split("=", 1) for part in match["props"].split(","))
        annotations.append({"command": match["command"], "message": _unescape(match["message"]),
                            **{key: _unescape(value) for key, value in props.items()}})
    return annotations


def test_github_annotations(report):
    output = rendered("github", report)
    annotations = parse_annotations(output)
    assert [a["title"] for a in annotations] == ["PL401 default-accept-policy", "PL101 plaintext-protocol-exposed",
                                                 "PL001 unreadable-input", "PL402 shadowed-rule"]
    telnet = annotations[1]
    assert telnet == {"command": "error", "file": "fw/rules.v4", "line": "3", "col": "5", "endLine": "3",
                      "title": "PL101 plaintext-protocol-exposed",
                      "message": "Telnet (23/tcp) is a plaintext protocol reachable from the internet\nUse SSH instead"}
    assert output.splitlines()[1].startswith(
        "::error file=fw/rules.v4,line=3,col=5,endLine=3,title=PL101 plaintext-protocol-exposed::")
    assert [a["command"] for a in annotations] == ["warning", "error", "error", "notice"]


def test_github_escapes_data_and_properties():
    odd = finding("PL101", "odd,dir/a:b%.rules", 1, message="50% of\r\nports: open, all")
    (line,) = rendered("github", Report(findings=[odd])).splitlines()
    assert "file=odd%2Cdir/a%3Ab%25.rules," in line
    assert line.endswith("::50%25 of%0D%0Aports: open, all")
    (annotation,) = parse_annotations(line)
    assert annotation["file"] == "odd,dir/a:b%.rules" and annotation["message"] == "50% of\r\nports: open, all"
    assert github.escape_property("a:b,c%") == "a%3Ab%2Cc%25"


# -- gitlab ------------------------------------------------------------------------------------

def test_gitlab_code_quality(report):
    issues = json.loads(rendered("gitlab", report))
    assert isinstance(issues, list) and len(issues) == 4
    telnet = next(i for i in issues if i["check_name"] == "PL101")
    assert telnet == {
        "description": "PL101 Telnet (23/tcp) is a plaintext protocol reachable from the internet",
        "check_name": "PL101", "fingerprint": report.findings[0].fingerprint, "severity": "critical",
        "location": {"path": "fw/rules.v4", "lines": {"begin": 3}},
    }
    assert {i["check_name"]: i["severity"] for i in issues} == {"PL001": "critical", "PL101": "critical",
                                                                "PL401": "major", "PL402": "minor"}
    assert gitlab.SEVERITIES == {Severity.INFO: "info", Severity.LOW: "minor", Severity.MEDIUM: "major",
                                 Severity.HIGH: "critical", Severity.CRITICAL: "blocker"}


def test_gitlab_fingerprints_are_unique():
    twice = [finding("PL101", "a.rules", 3), finding("PL101", "a.rules", 9)]
    assert twice[0].fingerprint == twice[1].fingerprint
    issues = json.loads(rendered("gitlab", Report(findings=twice)))
    assert issues[0]["fingerprint"] == twice[0].fingerprint
    assert len({i["fingerprint"] for i in issues}) == 2
    assert issues == json.loads(rendered("gitlab", Report(findings=twice)))  # stable between runs


def test_junit_module_renders_directly(report):
    assert junit.render(report).startswith('<?xml version="1.0" encoding="UTF-8"?>')


def test_github_annotations_read_back_whatever_the_text():
    from hypothesis import given, settings, strategies as st

    from linter.reporters.safe import safe_text

    @settings(max_examples=200, deadline=None)
    @given(path=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1),
           message=st.text(st.characters(blacklist_categories=("Cs",))))
    def check(path, message):
        path = "x" + path.replace("\\", "/")  # relative, as findings name files
        one = finding("PL101", path, 2, message=message)
        (annotation,) = parse_annotations(rendered("github", Report(findings=[one])))
        # Exact but for control characters other than CR and LF, which never reach the log (reporters/safe.py).
        assert annotation["message"] == safe_text(message, keep_newlines=True)
        assert annotation["file"] == safe_text(github.relative_path(path), keep_newlines=True)

    check()
