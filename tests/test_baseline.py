"""The baseline file and the fingerprints it relies on."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import replace

import pytest

from ci_support import finding
from linter.baseline import Baseline, BaselineError, baseline_document, load_baseline, write_baseline
from linter.findings import Finding


def test_fingerprint_ignores_the_line_and_column_but_not_what_it_is_about():
    telnet = finding("PL101", "fw/rules.v4", 3, 1, key="tcp/telnet/internet/ipv4")
    moved = replace(telnet, line=40, column=7, end_line=40, end_column=20, source_line="x")
    assert moved.fingerprint == telnet.fingerprint
    assert replace(telnet, key="tcp/ftp/internet/ipv4").fingerprint != telnet.fingerprint
    assert replace(telnet, code="PL201").fingerprint != telnet.fingerprint
    assert replace(telnet, path="other/rules.v4").fingerprint != telnet.fingerprint


def test_fingerprint_path_is_normalised():
    telnet = finding("PL101", "fw/rules.v4")
    for spelling in ("./fw/rules.v4", "fw//rules.v4", "fw/./rules.v4", "x/../fw/rules.v4"):
        assert replace(telnet, path=spelling).fingerprint == telnet.fingerprint


def test_fingerprint_of_a_diagnostic_survives_lines_inserted_above():
    from ci_support import parse
    from linter.pipeline import diagnostic_finding
    from linter.source import SourceFile

    before = "*filter\n-A INPUT -p tcp --dprot 22 -j ACCEPT\nCOMMIT\n"
    after = "*filter\n# a new comment\n-A INPUT -p tcp --dport 80 -j ACCEPT\n-A INPUT -p tcp --dprot 22 -j ACCEPT\nCOMMIT\n"
    first = [diagnostic_finding(d) for d in parse(SourceFile("fw.rules", before)).diagnostics]
    second = [diagnostic_finding(d) for d in parse(SourceFile("fw.rules", after)).diagnostics]
    assert (first[0].line, second[0].line) == (2, 4)
    assert first[0].fingerprint == second[0].fingerprint


def test_round_trip(tmp_path):
    findings = [finding("PL101", "fw/rules.v4", 3), finding("PL402", "./fw/rules.v4", 9, key="dead")]
    path = tmp_path / ".portlint-baseline.json"
    assert write_baseline(path, findings) == 2
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert dt.datetime.strptime(data["created"], "%Y-%m-%dT%H:%M:%SZ")
    assert data["entries"] == sorted(data["entries"], key=lambda e: (e["path"], e["code"], e["fingerprint"], e["message"]))
    assert {(e["code"], e["path"], e["fingerprint"]) for e in data["entries"]} == {
        ("PL101", "fw/rules.v4", findings[0].fingerprint), ("PL402", "fw/rules.v4", findings[1].fingerprint)}
    assert all(set(e) == {"fingerprint", "code", "path", "message"} for e in data["entries"])

    baseline = load_baseline(path)
    moved = [replace(f, line=f.line + 10) for f in findings]
    new = finding("PL201", "fw/rules.v4", 5)
    fresh, known = baseline.split(moved + [new])
    assert fresh == [new]
    assert sorted(known, key=Finding.sort_key) == sorted(moved, key=Finding.sort_key)


def test_each_entry_covers_one_finding():
    twice = [finding("PL101", "a.rules", 3), finding("PL101", "a.rules", 9)]
    document = baseline_document(twice[:1])
    baseline = Baseline("b.json", Counter(e["fingerprint"] for e in document["entries"]))
    fresh, known = baseline.split(twice)
    assert [f.line for f in known] == [3] and [f.line for f in fresh] == [9]


def test_document_is_deterministic_but_for_the_date():
    findings = [finding("PL402", "b.rules", 2, key="x"), finding("PL101", "a.rules", 1)]
    when = dt.datetime(2026, 1, 31, 12, 0, tzinfo=dt.timezone.utc)
    assert baseline_document(findings, when) == baseline_document(list(reversed(findings)), when)
    assert baseline_document(findings, when)["created"] == "2026-01-31T12:00:00Z"


@pytest.mark.parametrize("content, problem", [
    (None, "cannot read baseline"),
    ("{", "not a baseline (invalid JSON"),
    ("[]", "not a baseline (no \"entries\")"),
    ('{"version": 2, "entries": []}', "baseline version 2 is not supported"),
    ('{"version": 1, "entries": {}}', "\"entries\" must be a list"),
    ('{"version": 1, "entries": [{"code": "PL101"}]}', "entries[0] has no \"fingerprint\" string"),
])
def test_bad_baselines_name_the_file(tmp_path, content, problem):
    path = tmp_path / "baseline.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert str(info.value).startswith(str(path)) and problem in str(info.value)


def test_unwritable_baseline(tmp_path):
    with pytest.raises(BaselineError, match="cannot write baseline"):
        write_baseline(tmp_path / "no" / "such" / "dir.json", [])
