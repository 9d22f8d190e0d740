"""An allow-list's findings end to end: hundreds of ordinary services (info PL201), made from one
stamp per shape (CheckContext.report_stamped) and summarised without the merge
(engine/lone_results.py), collapse into one finding; an inline suppression on one line, a
severity override and --ignore act on them as on any finding."""

from __future__ import annotations

import json

from click.testing import CliRunner

from linter.cli import main
from linter.checks import CheckContext, Settings
from linter.findings import Finding
from linter.model import Span

RULES = 300  # 600 accepted results: the summary's lone lane is taken (LONE_AT_LEAST)
FIRST_LINE = 6  # the first accept's line (after the header, the policies and the two usual accepts)


def _allowlist(suppressed: int | None = None) -> tuple[str, list[int]]:
    """(the text, the lines of its ssh accepts); ``suppressed``: the number of the accept whose
    ssh finding a comment line above it silences."""
    lines = ["*filter", ":INPUT DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    ssh = []
    for n in range(RULES):
        if n == suppressed:
            lines.append("# portlint: ignore[PL201] the backup network")
        for port in (22, 443):
            lines.append(f"-A INPUT -s 32.{n // 256}.{n % 256}.0/24 -p tcp -m tcp --dport {port} -j ACCEPT")
            if port == 22:
                ssh.append(len(lines))
    lines.append("COMMIT")
    return "\n".join(lines) + "\n", ssh


def _check(tmp_path, text: str, *options: str) -> dict:
    path = tmp_path / "allow.rules"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", "--isolated", "--jobs", "1", "--format", "json", *options, str(path)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_ssh_accepts_collapse_into_one_finding_on_the_first_line(tmp_path):
    text, ssh = _allowlist()
    report = _check(tmp_path, text)
    collapsed, = [f for f in report["findings"] if f["code"] == "PL201"]
    assert ssh[:2] == [FIRST_LINE, FIRST_LINE + 2]
    assert collapsed["line"] == FIRST_LINE and collapsed["severity"] == "info"
    assert collapsed["message"].startswith("port 22/tcp (commonly ssh) is reachable from 32.0.0.0/24 only")
    assert "; so are port 22/tcp (commonly ssh) (line 8); " in collapsed["message"]
    assert collapsed["message"].endswith(f"(line 16) and {RULES - 6} more")
    assert [r["line"] for r in collapsed["related"]] == ssh[1:]
    assert {r["note"] for r in collapsed["related"]} == {"same finding"}


def test_an_inline_suppression_on_one_line_takes_that_line_out_only(tmp_path):
    text, ssh = _allowlist(suppressed=150)
    line = ssh[150]
    assert line == FIRST_LINE + 2 * 150 + 1  # below its comment
    report = _check(tmp_path, text)
    collapsed, = [f for f in report["findings"] if f["code"] == "PL201"]
    assert [r["line"] for r in collapsed["related"]] == [n for n in ssh[1:] if n != line]
    assert collapsed["message"].endswith(f"(line 16) and {RULES - 7} more")
    silenced, = report["suppressed"]
    assert (silenced["code"], silenced["line"]) == ("PL201", line)
    assert silenced["message"] == "port 22/tcp (commonly ssh) is reachable from 32.0.150.0/24 only"
    assert silenced["suppression"]["kind"] == "inline"
    assert silenced["suppression"]["justification"] == "the backup network"


def test_ignore_drops_them_and_a_severity_override_keeps_each_one(tmp_path):
    text, ssh = _allowlist()
    assert not [f for f in _check(tmp_path, text, "--ignore", "PL201")["findings"] if f["code"] == "PL201"]
    (tmp_path / ".portlint.toml").write_text('[severity]\nPL201 = "low"\n')
    path = tmp_path / "allow.rules"
    path.write_text(text)
    result = CliRunner().invoke(main, ["check", "--config", str(tmp_path / ".portlint.toml"), "--jobs", "1",
                                       "--format", "json", "--fail-on", "none", str(path)])
    findings = [f for f in json.loads(result.output)["findings"] if f["code"] == "PL201"]
    assert [f["line"] for f in findings] == ssh  # low: no longer collapsed as ordinary
    assert findings[7]["message"] == "port 22/tcp (commonly ssh) is reachable from 32.0.7.0/24 only"


def test_a_stamped_finding_is_the_finding_report_makes(tmp_path):
    context = CheckContext(None, Settings())
    span = Span("fw.rules", 8, 1, 8, 40)
    later = {"reach": lambda: "from 32.0.0.0/24 only"}
    options = dict(variant="default", fields={"service": "port 22/tcp (commonly ssh)", "unencrypted": ""},
                   hint="Restrict the sources", proto="tcp", ports=((22, 22),), key="tcp/ssh")
    made = context.report("PL201", span, later=later, **options)
    stamped = context.report_stamped(context.deferred_stamp("PL201", **options), span, later)
    assert list(vars(stamped)) == list(vars(made))  # the same instance dictionary, key for key
    assert stamped == made and stamped.message == made.message
    assert stamped.extra is not made.extra
    assert isinstance(stamped, Finding) and stamped.as_record() == made.as_record()
