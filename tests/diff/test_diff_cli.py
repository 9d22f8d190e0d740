"""`portlint diff OLD NEW`: exact opened/closed entries, formats and exit codes on pairs."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from linter.cli import main
from tests.diff import pairs

PUBLIC = ["1.0.0.0-9.255.255.255", "11.0.0.0-100.63.255.255", "100.128.0.0-126.255.255.255",
          "128.0.0.0-169.253.255.255", "169.255.0.0-172.15.255.255", "172.32.0.0-192.167.255.255",
          "192.169.0.0-223.255.255.255"]
PRIVATE = ["10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("BASE", "REORDERED", "MYSQL_OPENED", "MOVED_BELOW_CATCH_ALL", "DNAT_ADDED"):
        (tmp_path / f"{name.lower()}.rules").write_text(getattr(pairs, name))
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(main, ["diff", *args], catch_exceptions=False)


def brief(output: str) -> list[tuple]:
    data = json.loads(output)
    assert set(data) == {"version", "opened", "closed"} and data["version"] == 1
    return [(kind, e["family"], e["proto"], e["ports"], e["reach"], e["sources"], e["interfaces"], e["services"],
             e["severity"], e["code"], [(b["path"], b["line"]) for b in e["before"]],
             [(a["path"], a["line"]) for a in e["after"]]) for kind in ("opened", "closed") for e in data[kind]]


def test_a_reordered_chain_that_changes_nothing_is_one_line(files):
    result = run("base.rules", "reordered.rules")
    assert result.exit_code == 0
    assert result.output == "No change in exposure: both sides accept exactly the same new connections.\n"
    assert json.loads(run("--format", "json", "base.rules", "reordered.rules").output) == {
        "version": 1, "opened": [], "closed": []}


def test_a_port_opened_to_the_internet(files):
    result = run("--format", "json", "base.rules", "mysql_opened.rules")
    assert result.exit_code == 1
    assert brief(result.output) == [
        ("opened", "ipv4", "tcp", [[3306, 3306]], "internet", PUBLIC, "any", ["mysql"], "high", "PL201",
         [("base.rules", 2)], [("mysql_opened.rules", 9)]),
        ("opened", "ipv4", "tcp", [[3306, 3306]], "private", PRIVATE, "any", ["mysql"], "low", "PL201",
         [("base.rules", 2)], [("mysql_opened.rules", 9)]),
    ]


def test_the_text_table_puts_opened_first(files):
    result = run("base.rules", "mysql_opened.rules")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "2 opened, 0 closed",
        "change  severity  family  proto  ports  services  reach                                                     before        after",
        "------  --------  ------  -----  -----  --------  --------------------------------------------------------  ------------  --------------------",
        "opened  high      ipv4    tcp    3306   mysql     internet                                                  base.rules:2  mysql_opened.rules:9",
        "opened  low       ipv4    tcp    3306   mysql     private (10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16, ...)  base.rules:2  mysql_opened.rules:9",
    ]


def test_a_rule_moved_below_a_catch_all_closes_it(files):
    result = run("--format", "json", "base.rules", "moved_below_catch_all.rules")
    assert result.exit_code == 0  # closing never fails the build
    assert brief(result.output) == [
        ("closed", "ipv4", "tcp", [[5432, 5432]], "private", ["10.0.0.0/8"], "any", ["postgresql"], "low", "PL101",
         [("base.rules", 9)], [("moved_below_catch_all.rules", 9)]),
    ]
    # The other way round, the same space is opened, decided by the same rules.
    back = brief(run("--format", "json", "moved_below_catch_all.rules", "base.rules").output)
    assert back == [("opened", "ipv4", "tcp", [[5432, 5432]], "private", ["10.0.0.0/8"], "any", ["postgresql"], "low",
                     "PL101", [("moved_below_catch_all.rules", 9)], [("base.rules", 9)])]


def test_a_dnat_added(files):
    result = run("--format", "json", "base.rules", "dnat_added.rules")
    assert result.exit_code == 0  # http is info: below the default --fail-on low
    assert brief(result.output) == [
        ("opened", "ipv4", "tcp", [[8080, 8080]], "internet", PUBLIC, ["eth0"], ["http"], "info", "PL101",
         [("base.rules", 2)], [("dnat_added.rules", 6), ("dnat_added.rules", 19)]),
        ("opened", "ipv4", "tcp", [[8080, 8080]], "private", PRIVATE, ["eth0"], ["http"], "info", "PL101",
         [("base.rules", 2)], [("dnat_added.rules", 6), ("dnat_added.rules", 19)]),
    ]
    assert json.loads(result.output)["opened"][0]["nat_to"] == ["192.168.1.10 port 80"]
    assert run("--fail-on", "info", "base.rules", "dnat_added.rules").exit_code == 1


@pytest.mark.parametrize("fail_on, code", [("critical", 0), ("high", 1), ("medium", 1)])
def test_fail_on(files, fail_on, code):
    assert run("--fail-on", fail_on, "base.rules", "mysql_opened.rules").exit_code == code


def test_markdown_for_a_pull_request(files):
    result = run("--format", "markdown", "base.rules", "moved_below_catch_all.rules")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "### portlint diff",
        "",
        "**0 opened, 1 closed**",
        "",
        "| change | severity | family | proto | ports | services | reach | before | after |",
        "|---|---|---|---|---|---|---|---|---|",
        "| 🔒 closed | low | ipv4 | tcp | 5432 | postgresql | private (10.0.0.0/8) | base.rules:9 "
        "| moved_below_catch_all.rules:9 |",
    ]


def test_github_annotates_the_line_that_opens(files):
    result = run("--format", "github", "base.rules", "mysql_opened.rules")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::error file=mysql_opened.rules,line=9,col=1,endLine=9,title=PL201 ")
    assert "This change opens tcp 3306 (mysql) to internet (ipv4)" in lines[0]


def test_sarif_has_one_result_per_opened_entry(files):
    data = json.loads(run("--format", "sarif", "base.rules", "mysql_opened.rules").output)
    results = data["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
             r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("PL201", "error", 9, "mysql_opened.rules"), ("PL201", "note", 9, "mysql_opened.rules")]


def test_errors_exit_2(files):
    missing = run("base.rules", "nothing-here.rules")
    assert missing.exit_code == 2
    assert "nothing-here.rules:1:1: PL001 No such file or directory" in missing.stderr
    assert run("base.rules").exit_code == 2  # one side only: a usage error


def test_directories_are_read_as_one_host(files):
    (files / "old").mkdir()
    (files / "new").mkdir()
    (files / "old" / "rules.v4").write_text(pairs.BASE)
    (files / "new" / "rules.v4").write_text(pairs.REORDERED)
    assert run("old", "new").exit_code == 0
    (files / "new" / "rules.v4").write_text(pairs.MYSQL_OPENED)
    assert brief(run("--format", "json", "old", "new").output)[0][10:] == (
        [("old/rules.v4", 2)], [("new/rules.v4", 9)])


ROUTED_OLD = pairs.HEAD + """-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -d 192.168.10.0/24 -p tcp --dport 443 -j ACCEPT
-A FORWARD -d 192.168.10.5 -p tcp --dport 22 -j ACCEPT
COMMIT
"""
ROUTED_NEW = pairs.HEAD + """-A FORWARD -d 192.168.10.5 -p tcp --dport 22 -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -d 192.168.10.0/25 -p tcp --dport 443 -j ACCEPT
-A FORWARD -d 192.168.10.128/25 -p tcp --dport 443 -j ACCEPT
-A FORWARD -d 192.168.10.7 -p tcp --dport 22 -j ACCEPT
COMMIT
"""


def test_routed_destinations_are_compared_as_space(files):
    """A /24 split into two /25s changes nothing; one more host routed to is opened."""
    (files / "routed_old.rules").write_text(ROUTED_OLD)
    (files / "routed_new.rules").write_text(ROUTED_NEW)
    result = run("routed_old.rules", "routed_new.rules")
    assert result.exit_code == 0  # ssh is info
    assert [line.split()[:6] + [line.split()[-2], line.split()[-1]] for line in result.output.splitlines()[3:]] == [
        ["opened", "info", "ipv4", "tcp", "22", "ssh", "routed_old.rules:3", "routed_new.rules:9"],
        ["opened", "info", "ipv4", "tcp", "22", "ssh", "routed_old.rules:3", "routed_new.rules:9"],
    ]
    assert "internet routed to 192.168.10.7 " in result.output
    assert "private (10.0.0.0/8, 100.64.0.0/10, 169.254.0.0/16, ...) routed to 192.168.10.7 " in result.output


def test_a_compose_publication_widened(files):
    for side, ports in (("c1", '"127.0.0.1:5432:5432"'), ("c2", '"5432:5432"')):
        (files / side).mkdir()
        (files / side / "compose.yaml").write_text(
            f"services:\n  db:\n    image: postgres:16\n    ports:\n      - {ports}\n")
    result = run("c1", "c2")
    assert result.exit_code == 1
    rows = [line.split() for line in result.output.splitlines()[3:]]
    assert [row[:6] + row[-2:] for row in rows] == [
        ["opened", "high", "ipv4", "tcp", "5432", "postgresql", "c1/compose.yaml:1", "c2/compose.yaml:5"],
        ["opened", "low", "ipv4", "tcp", "5432", "postgresql", "c1/compose.yaml:1", "c2/compose.yaml:5"],
    ]
    assert run("c2", "c2").output.startswith("No change in exposure")


def test_the_configuration_judges_both_sides(files):
    """fail-on and trusted networks come from the project's configuration, as for `check`."""
    (files / ".portlint.toml").write_text('fail-on = "critical"\n')
    assert run("base.rules", "mysql_opened.rules").exit_code == 0
    (files / ".portlint.toml").write_text('fail-on = "nonsense"\n')
    broken = run("base.rules", "mysql_opened.rules")
    assert broken.exit_code == 2 and "portlint: " in broken.output
