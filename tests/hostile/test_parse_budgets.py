"""Hostile input, part C: bounded cost and no hidden findings in the parsers (issue 15, classes 4, 5).

Each case pins the finding the hostile construct ends in (code, line, column), that the rest of the
file is still linted (a telnet rule elsewhere is reported), and the count the budget is kept on
(never a wall-clock time). The budgets are listed in docs/security.md and linter/budgets.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter import budgets
from linter.checks import Settings
from linter.cli import main
from linter.detect import detect_format
from linter.frontends import FrontEndOptions, parse_source
from linter.frontends.iptables.script import read_script
from linter.frontends.shell.parser import parse_script
from linter.numbers import MAX_DIGITS, TOO_LARGE, bounded_int, shown
from linter.pipeline import lint_file, lint_paths
from linter.source import SourceFile

HUGE = "9" * 4301  # one digit past Python's int-str conversion limit


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(*args) -> tuple[int, list[dict]]:
    """``portlint check --format json --isolated ARGS``: the exit code and the findings."""
    result = CliRunner().invoke(main, ["check", "--format", "json", "--isolated", *map(str, args)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)["findings"]


def located(findings) -> set[tuple[str, int, int]]:
    return {(f["code"], f["line"], f["column"]) for f in findings}


def codes_at(findings, line: int) -> set[str]:
    return {f["code"] for f in findings if f["line"] == line}


def parse(name: str, text: str, fmt: str):
    return parse_source(SourceFile(name, textwrap.dedent(text)), fmt, FrontEndOptions(environ={}))


def diagnostics(result) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


def rule_count(result) -> int:
    return sum(len(chain.rules) for table in result.document.tables for chain in table.chains)


# --- 1. Detection: a comment line does not make iptables-save output a shell script --------------

BYPASS = """\
    # to restore: iptables -F; iptables-restore < rules.v4
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD DROP [0:0]
    :OUTPUT ACCEPT [0:0]
    -A INPUT -p tcp --dport 23 -j ACCEPT
    -A INPUT -p tcp --dport 445 -j ACCEPT
    COMMIT
    """


def test_a_shell_command_in_a_comment_does_not_hide_an_iptables_save_file(tmp_path):
    path = write(tmp_path / "dump.txt", BYPASS)
    assert detect_format(str(path), path.read_text()) == "iptables-save"
    code, findings = check(path)
    assert code == 1
    assert "PL101" in codes_at(findings, 6) and "telnet" in " ".join(f["message"] for f in findings if f["line"] == 6)
    assert "PL201" in codes_at(findings, 7) and "smb" in " ".join(f["message"] for f in findings if f["line"] == 7)


@pytest.mark.parametrize("text", [
    "#!/bin/sh\niptables-restore <<EOF\n*filter\n:INPUT DROP [0:0]\nCOMMIT\nEOF\n",
    "#!/bin/sh\n# *filter\niptables -A INPUT -j ACCEPT\n",
])
def test_scripts_around_iptables_save_text_stay_scripts(text):
    assert detect_format("setup", text) == "iptables-script"


def test_a_rule_comment_quoting_a_command_is_still_iptables_save():
    text = '*filter\n:INPUT DROP [0:0]\n-A INPUT -m comment --comment "see iptables -A INPUT" -j ACCEPT\nCOMMIT\n'
    assert detect_format("x", text) == "iptables-save"


# --- 2. One huge number is a bad value on its line, not a lost file ------------------------------

def test_bounded_int_reads_any_length_at_a_bounded_cost():
    assert bounded_int("0" * 5000 + "23") == 23
    assert bounded_int(HUGE) == TOO_LARGE and bounded_int("-" + HUGE) == -TOO_LARGE
    assert bounded_int("f" * 5000, 16) == TOO_LARGE and bounded_int("0x" + "0" * 100 + "ff", 0) == 255
    assert bounded_int("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    with pytest.raises(ValueError):
        bounded_int("9" * 5000 + "x")
    assert shown(HUGE) == "999999999999…999999999999 (4301 characters)"


def test_a_4301_digit_port_in_iptables_save(tmp_path):
    path = write(tmp_path / "rules.v4", f"""\
        *filter
        :INPUT DROP [0:0]
        -A INPUT -p tcp --dport {HUGE} -j ACCEPT
        -A INPUT -p tcp --dport 23 -j ACCEPT
        COMMIT
        """)
    code, findings = check("--fail-on", "critical", path)
    assert ("PL011", 3, 25) in located(findings)
    assert "(4301 characters) is above 65535" in next(f["message"] for f in findings if f["code"] == "PL011")
    assert "PL101" in codes_at(findings, 4)
    assert "PL009" not in {f["code"] for f in findings}
    assert code == 1  # the telnet finding is critical


@pytest.mark.parametrize("where", [
    "-s 10.0.0.{n}", "-s 10.0.0.0/{n}", "-s 0x{n}", "-m multiport --dports 1,{n}", "-p {n}",
    "-m length --length {n}", "-m limit --limit {n}/sec", "-m mark --mark {n}", "-m connlimit --connlimit-above {n}",
])
def test_huge_numbers_anywhere_in_an_iptables_rule(where):
    result = parse("rules.v4", f"""\
        *filter
        :INPUT DROP [0:0]
        -A INPUT {where.format(n=HUGE)} -j ACCEPT
        -A INPUT -p tcp --dport 23 -j ACCEPT
        COMMIT
        """, "iptables-save")
    assert "PL009" not in {d.code for d in result.diagnostics}
    assert rule_count(result) >= 1
    assert any(line == 3 for _, line, _ in diagnostics(result)) or rule_count(result) == 2


def test_a_huge_number_in_an_insert_position_and_counters():
    result = parse("rules.v4", f"""\
        *filter
        :INPUT DROP [{HUGE}:0]
        -I INPUT {HUGE} -p tcp --dport 22 -j ACCEPT
        [{HUGE}:{HUGE}] -A INPUT -p tcp --dport 23 -j ACCEPT
        COMMIT
        """, "iptables-save")
    assert "PL009" not in {d.code for d in result.diagnostics}
    assert ("PL011", 3, 10) in diagnostics(result)  # at the position, shown shortened
    assert "Cannot insert at rule 999999999999…999999999999 (4301 characters)" in result.diagnostics[0].message


def test_a_huge_port_in_nftables(tmp_path):
    path = write(tmp_path / "ruleset.nft", f"""\
        table inet f {{
          chain input {{ type filter hook input priority 0; policy drop;
            tcp dport {"7" * 5000} accept
            tcp dport 23 accept
          }}
        }}
        """)
    code, findings = check("--fail-on", "critical", path)
    assert ("PL011", 3, 15) in located(findings)
    assert "PL101" in codes_at(findings, 4)
    assert code == 1


@pytest.mark.parametrize("rule", [
    "meta mark {n} accept", "ip saddr 10.0.0.0/{n} accept", "tcp dport {{ 1, {n} }} accept",
    "ct count over {n} accept", "limit rate {n}/second accept", "meta mark 0x{n} accept",
])
def test_huge_numbers_anywhere_in_an_nft_rule(rule):
    result = parse("ruleset.nft", f"""\
        table inet f {{
          chain input {{ type filter hook input priority 0; policy drop;
            {rule.format(n=HUGE)}
            tcp dport 23 accept
          }}
        }}
        """, "nftables")
    assert "PL009" not in {d.code for d in result.diagnostics}
    assert rule_count(result) >= 1


def test_a_huge_chain_priority_is_out_of_range():
    result = parse("ruleset.nft", f"""\
        table inet f {{
          chain input {{ type filter hook input priority {HUGE}; policy drop; }}
        }}
        """, "nftables")
    assert [(code, line) for code, line, _ in diagnostics(result) if code == "PL011"] == [("PL011", 2)]


def test_a_huge_number_in_a_script(tmp_path):
    path = write(tmp_path / "firewall.sh", f"""\
        #!/bin/sh
        iptables -P INPUT DROP
        iptables -A INPUT -p tcp --dport {HUGE} -j ACCEPT
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        shift {HUGE}
        iptables -I INPUT {HUGE} -p tcp --dport 22 -j ACCEPT
        [ "$X" -eq {HUGE} ] && iptables -A INPUT -p tcp --dport 80 -j ACCEPT
        echo {{1..{HUGE}}}
        """)
    code, findings = check("--fail-on", "critical", path)
    assert ("PL011", 3, 34) in located(findings)
    assert "PL101" in codes_at(findings, 4)
    assert "PL009" not in {f["code"] for f in findings}
    assert code == 1


def test_a_huge_compose_port(tmp_path):
    path = write(tmp_path / "compose.yaml", f"""\
        services:
          web:
            image: nginx
            ports:
              - "{HUGE}:80"
              - "23:23"
        """)
    code, findings = check(path)
    assert "PL009" not in {f["code"] for f in findings}
    assert ("PL040", 5, 9) in located(findings)
    assert "999999999:80 (4304 characters)" in next(f["message"] for f in findings if f["code"] == "PL040")
    assert ("PL101", 6, 9) in located(findings)  # telnet published on all interfaces: plaintext, as for a firewall


# --- 3. Nesting: one finding at the construct, the rest linted, no RecursionError ----------------

TELNET_SCRIPT = "#!/bin/sh\niptables -P INPUT DROP\niptables -A INPUT -p tcp --dport 23 -j ACCEPT\n"


def test_5000_nested_ifs_in_a_script(monkeypatch):
    from linter.frontends.shell.parser import Parser

    commands = 0
    parse_command = Parser.parse_command

    def counting(self):
        nonlocal commands
        commands += 1
        return parse_command(self)

    monkeypatch.setattr(Parser, "parse_command", counting)
    body = "if true; then\n" * 5000 + "echo\n" + "fi\n" * 5000
    text = TELNET_SCRIPT + body + "iptables -A INPUT -p tcp --dport 445 -j ACCEPT\n"
    result = parse("firewall.sh", text, "iptables-script")
    depth_line = 3 + budgets.MAX_NESTING + 1  # the first if past the limit
    assert diagnostics(result) == [("PL010", depth_line, 1)]
    assert f"nested deeper than {budgets.MAX_NESTING} levels" in result.diagnostics[0].message
    assert rule_count(result) == 2  # the rule before and the rule after the bomb
    # each of the 100 ifs read, its condition, the one skipped, the three iptables commands
    assert commands == 2 * budgets.MAX_NESTING + 1 + 3


@pytest.mark.parametrize("bomb, column", [
    ("{ " * 5000 + "echo; " + "}; " * 5000, 2 * budgets.MAX_NESTING + 1),
    ("while true; do " * 5000 + "echo; " + "done; " * 5000, 15 * budgets.MAX_NESTING + 1),
    ("f() { " * 5000 + "echo; " + "}; " * 5000, 3 * budgets.MAX_NESTING + 1),
])
def test_other_nested_commands_in_a_script(bomb, column):
    _, errors = parse_script(bomb + "\necho after\n")
    assert [(e.line, e.column) for e in errors] == [(1, column)]


@pytest.mark.parametrize("word", ["${X:-" * 5000 + "a" + "}" * 5000, '"$(' * 5000, "$(echo " * 5000])
def test_nested_expansions_in_a_script(word):
    text = TELNET_SCRIPT + f"echo {word}\niptables -A INPUT -p tcp --dport 445 -j ACCEPT\n"
    result = parse("firewall.sh", text, "iptables-script")
    assert diagnostics(result) == [("PL010", 4, 6)]
    assert "Quotes and expansions nested deeper than 100 levels" in result.diagnostics[0].message
    assert rule_count(result) == 2


def test_10000_nested_parentheses_in_nftables(tmp_path):
    path = write(tmp_path / "ruleset.nft", """\
        table inet f {
          chain input { type filter hook input priority 0; policy drop;
            tcp dport 23 accept
            meta mark %s accept
            tcp dport 445 accept
          }
        }
        """ % ("(" * 10_000 + "1" + ")" * 10_000))
    code, findings = check(path)
    paren = 15 + budgets.MAX_NESTING  # the parentheses start at column 15; the 101st is too deep
    assert ("PL010", 4, paren) in located(findings)
    assert [f["code"] for f in findings if f["code"].startswith("PL0")] == ["PL010"]
    assert "PL101" in codes_at(findings, 3) and "PL201" in codes_at(findings, 5)


def test_10000_nested_braces_in_nftables():
    result = parse("ruleset.nft", """\
        table inet f {
          chain input { type filter hook input priority 0; policy drop;
            tcp dport 23 accept
            tcp dport %s accept
            tcp dport 445 accept
          }
        }
        """ % ("{ " * 10_000 + "1" + " }" * 10_000), "nftables")
    assert [(code, line) for code, line, _ in diagnostics(result)] == [("PL010", 4)]
    assert "braces nested deeper than 100 levels" in result.diagnostics[0].message
    assert rule_count(result) == 2


# --- 4. Expansion budgets: doubling bombs end in one finding, the rest linted -------------------

def test_doubling_nft_defines(monkeypatch):
    from linter.frontends.nftables import loader

    copied = 0
    borrow = loader.borrow

    def counting_borrow(atom, at):
        nonlocal copied
        copied += 1
        return borrow(atom, at)

    monkeypatch.setattr(loader, "borrow", counting_borrow)
    defines = "define a0 = 10.0.0.1\n" + "".join(f"define a{i} = {{ $a{i - 1}, $a{i - 1} }}\n" for i in range(1, 41))
    result = parse("ruleset.nft", defines + textwrap.dedent("""\
        table inet f {
          chain input { type filter hook input priority 0; policy drop;
            tcp dport 23 accept
            ip saddr $a40 accept
            tcp dport 445 accept
          }
        }
        """), "nftables")
    notes = [(code, line, column) for code, line, column in diagnostics(result) if code == "PL034"]
    # a_k holds 3 * 2**k - 2 values; a17 is the first use past the budget (its define, a18's line)
    first_over = next(k for k in range(41) if sum(3 * 2 ** j - 2 for j in range(1, k + 1)) > budgets.MAX_DEFINE_ATOMS)
    assert notes == [("PL034", first_over + 1, 16 if first_over >= 10 else 15)]
    assert "1,000,000 values" in next(d.message for d in result.diagnostics if d.code == "PL034")
    assert copied <= budgets.MAX_DEFINE_ATOMS  # values copied into uses: the budget, not 2**40
    assert rule_count(result) == 3


def test_doubling_nft_defines_through_the_cli(tmp_path):
    defines = "define a0 = x\n" + "".join(f"define a{i} = {{ $a{i - 1}, $a{i - 1} }}\n" for i in range(1, 41))
    path = write(tmp_path / "ruleset.nft", defines + textwrap.dedent("""\
        table inet f {
          chain input { type filter hook input priority 0; policy drop;
            tcp dport 23 accept
            iifname $a40 accept
          }
        }
        """))
    code, findings = check(path)
    assert [f["code"] for f in findings if f["code"] in ("PL009", "PL034")] == ["PL034"]
    assert "PL101" in codes_at(findings, 44)
    assert code == 1


def test_a_shell_variable_doubled_40_times(tmp_path):
    doubling = "X=a\n" + 'X="$X$X"\n' * 40
    text = (TELNET_SCRIPT + doubling + 'iptables -A INPUT -s "$X" -j ACCEPT\n'
            "iptables -A INPUT -p tcp --dport 445 -j ACCEPT\n")
    result, stats = read_script(SourceFile("firewall.sh", text))
    # the first doubling past a million characters: X holds 2**k characters after the k-th one
    first_over = next(k for k in range(41) if 2 ** k > budgets.MAX_SHELL_WORD_CHARS)
    notes = [(code, line, column) for code, line, column in diagnostics(result) if code == "PL050"]
    assert notes[0] == ("PL050", 4 + first_over, 3)
    assert "the budget for one word" in result.diagnostics[0].message
    assert stats.expanded < 8 * budgets.MAX_SHELL_WORD_CHARS  # not 2**41: the doubling stopped at the budget
    assert rule_count(result) == 3  # telnet, the unknown source (may-match), smb
    path = write(tmp_path / "firewall.sh", text)
    code, findings = check(path)
    assert "PL101" in codes_at(findings, 3) and code == 1


def test_a_shell_array_doubled_40_times():
    doubling = "A=(a)\n" + 'A=("${A[@]}" "${A[@]}")\n' * 40
    text = TELNET_SCRIPT + doubling + 'for x in "${A[@]}"; do iptables -A INPUT -s "$x" -j ACCEPT; done\n'
    result, stats = read_script(SourceFile("firewall.sh", text))
    assert [code for code, _, _ in diagnostics(result)].count("PL050") >= 1
    assert "the budget for one word" in " ".join(d.message for d in result.diagnostics)
    assert stats.expanded < 8 * budgets.MAX_SHELL_WORD_CHARS
    assert rule_count(result) == 2


def test_the_total_expansion_budget_stops_the_replay_at_the_word(monkeypatch):
    from linter.frontends.iptables import script
    from linter.frontends.shell import expansion

    monkeypatch.setattr(expansion, "MAX_SHELL_EXPANSION_CHARS", 10_000)  # where it is counted
    monkeypatch.setattr(script, "MAX_SHELL_EXPANSION_CHARS", 10_000)  # where it is reported
    text = TELNET_SCRIPT + 'X="' + "a" * 900 + '"\n' + 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo "$X"; done\n'
    result, stats = read_script(SourceFile("firewall.sh", text))
    assert diagnostics(result)[-1] == ("PL050", 5, 46)  # the "$X" that went past it
    assert "more than 10,000 characters (the expansion budget)" in result.diagnostics[-1].message
    assert 10_000 < stats.expanded <= 11_000
    assert rule_count(result) == 1


def test_the_command_budget_stops_at_the_command(monkeypatch):
    from linter.frontends.iptables import script
    from linter.frontends.shell import evaluation

    monkeypatch.setattr(evaluation, "MAX_COMMANDS", 1000)  # where it is counted
    monkeypatch.setattr(script, "MAX_COMMANDS", 1000)  # where it is reported
    digits = " ".join(str(d) for d in range(10))
    loops = "".join(f"{' ' * k}for v{k} in {digits}; do\n" for k in range(3))
    text = TELNET_SCRIPT + loops + "   iptables -A INPUT -p tcp --dport 22 -j ACCEPT\n" + "done\n" * 3
    result, stats = read_script(SourceFile("firewall.sh", text))
    assert diagnostics(result) == [("PL050", 7, 4)]
    assert "more than 1,000 commands" in result.diagnostics[0].message
    assert rule_count(result) == 1 + 998  # the telnet rule, then the loop until the budget


# --- 5. source and eval get their PL050 note ---------------------------------------------------

def test_source_and_eval_are_noted():
    result = parse("firewall.sh", """\
        #!/bin/sh
        . /etc/firewall.conf
        source ./ports.sh
        eval "iptables -A INPUT -p tcp --dport $PORT -j ACCEPT"
        iptables -A INPUT -p tcp --dport 23 -j ACCEPT
        """, "iptables-script")
    notes = [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics if d.code == "PL050"]
    assert [n[:3] for n in notes] == [("PL050", 2, 1), ("PL050", 3, 1), ("PL050", 4, 1)]
    assert notes[0][3].startswith(". /etc/firewall.conf: the sourced file is not read")
    assert notes[1][3].startswith("source ./ports.sh: the sourced file is not read")
    assert notes[2][3].startswith('eval "iptables -A INPUT -p tcp --dport $PORT -j ACCEPT": the command eval builds')
    assert rule_count(result) == 1


# --- 6. A MemoryError in one file never loses the others ---------------------------------------

@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_a_reader_that_runs_out_of_memory_costs_only_its_file(tmp_path, monkeypatch, error):
    from linter.frontends import nftables

    def exhausted(source, *options):
        raise error()

    monkeypatch.setattr(nftables, "parse", exhausted)
    bad = write(tmp_path / "bad.nft", "table inet f { }\n")
    good = write(tmp_path / "rules.v4", BYPASS)
    result = lint_paths([str(bad), str(good)], Settings(), jobs=1)
    by_path = {r.path: r for r in result.files}
    assert [f.code for f in by_path[str(bad)].findings] == ["PL009"]
    assert f"The nftables reader failed: {error.__name__}" in by_path[str(bad)].findings[0].message
    assert by_path[str(bad)].unreadable
    assert {"PL101", "PL201"} <= {f.code for f in by_path[str(good)].findings}
    code, findings = check("--jobs", "1", "--fail-on", "critical", bad, good)
    assert code == 2  # a file was not linted, whatever --fail-on says
    assert "PL101" in codes_at(findings, 6)


def test_a_memory_error_outside_the_reader_costs_only_its_file(tmp_path, monkeypatch):
    from linter import pipeline

    real = pipeline.detect_format

    def detect(path, text):
        if path.endswith("bad.v4"):
            raise MemoryError()
        return real(path, text)

    monkeypatch.setattr(pipeline, "detect_format", detect)
    bad = write(tmp_path / "bad.v4", BYPASS)
    good = write(tmp_path / "rules.v4", BYPASS)
    result = lint_paths([str(bad), str(good)], Settings(), jobs=1)
    by_path = {r.path: r for r in result.files}
    assert [f.code for f in by_path[str(bad)].findings] == ["PL009"] and by_path[str(bad)].unreadable
    assert {"PL101", "PL201"} <= {f.code for f in by_path[str(good)].findings}


def test_the_bombs_of_this_file_lint_without_an_internal_error(tmp_path):
    """Every bomb above through lint_file (reader and checks): findings, never PL009."""
    bombs = {
        "ifs.sh": TELNET_SCRIPT + "if true; then\n" * 5000 + "fi\n" * 5000,
        "double.sh": TELNET_SCRIPT + "X=a\n" + 'X="$X$X"\n' * 40 + 'iptables -A INPUT -s "$X" -j ACCEPT\n',
        "huge.sh": TELNET_SCRIPT + f"iptables -A INPUT -p tcp --dport {HUGE} -j ACCEPT\n",
        "parens.nft": "table inet f {\n chain c { type filter hook input priority 0;\n  meta mark "
                      + "(" * 10_000 + "1" + ")" * 10_000 + " accept\n }\n}\n",
    }
    for name, text in bombs.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        result = lint_file(str(path), Settings())
        assert result.document is not None, name
        assert [f.message for f in result.findings if f.code == "PL009"] == [], name
