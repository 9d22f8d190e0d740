"""json_report.write (record by record, in chunks) writes what render() returns, byte for byte:
random reports with escapes, ##[ and long lists, chunks small enough to split the findings, and
a record json_text leaves to json.dumps (then render() itself)."""

from __future__ import annotations

import io
import random

from ci_support import finding
from linter.findings import Severity, Suppressed
from linter.reporters import Report, json_report

_TEXTS = ["plain", "bidi \u202e here", "del \x7f", "c1 \x85", "sep \u2028", "##[warning]x", "##", "[", "é ü",
          "tab\tnew\nline", ""]


def _report(rng: random.Random) -> Report:
    made = []
    for index in range(rng.randint(0, 40)):
        fields = {}
        if rng.random() < 0.5:
            fields.update(proto="tcp", ports=tuple((p, p + rng.randint(0, 3)) for p in rng.sample(range(1, 900), 3)))
        if rng.random() < 0.4:
            fields["related"] = tuple(("f.rules", rng.randint(1, 9), 1, rng.choice(_TEXTS)) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.3:
            fields["hint"] = rng.choice(_TEXTS)
        made.append(finding(rng.choice(["PL101", "PL201", "PL402"]), rng.choice(["a.rules", "b ##[.rules"]),
                            rng.randint(1, 50), rng.randint(1, 5), rng.choice(_TEXTS) + str(index), **fields))
    errors = made[:rng.randint(0, 2)]
    suppressed = [Suppressed(f, rng.choice(["inline", "baseline"]), rng.choice(_TEXTS), "line", 1, None) for f in made[-rng.randint(0, 3):]]
    return Report(findings=made, errors=errors, suppressed=suppressed if made else [],
                  files=["a.rules"] * rng.randint(0, 3),
                  rules={"PL101": Severity.parse("high")})


def _written(report: Report) -> str:
    stream = io.StringIO()
    json_report.write(report, stream)
    return stream.getvalue()


def test_write_equals_render(monkeypatch):
    rng = random.Random(14)
    for chunk in (1, 50, 1 << 20):
        monkeypatch.setattr(json_report, "_CHUNK", chunk)
        for _ in range(300):
            report = _report(rng)
            assert _written(report) == json_report.render(report)


def test_a_record_left_to_json_dumps_is_written_by_render(monkeypatch):
    report = _report(random.Random(3))
    odd = finding("PL101", "a.rules", 1, 1, "m", ports=((1.5, 2.5),), proto="tcp")  # floats: written by _text
    report.findings.append(odd)
    assert _written(report) == json_report.render(report)
    flagged = finding("PL101", "a.rules", 1, 1, "m", ports=((float("nan"), 2),), proto="tcp")  # not finite
    report.findings.append(flagged)
    assert _written(report) == json_report.render(report)
