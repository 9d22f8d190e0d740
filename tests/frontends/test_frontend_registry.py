"""A front end is one package plus one registry line (linter/frontends/registry.py).

The toy front end below lives in a temporary package, registered by one call; it is then
recognised by content and by name, found by a directory walk, offered by every --input-format
and run by `portlint check`. Nothing of it ships.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter import frontends
from linter.cli import main
from linter.detect import detect_format, looks_lintable
from linter.frontends import hook, registry

# The toy format: "#!toyfw" then lines "open PROTO PORT", read as a filter INPUT chain that drops by default.
TOY_DETECT = '''
import re
from pathlib import PurePath

from linter.frontends.registry import Detector, FrontEndInfo

FRONT_ENDS = (
    FrontEndInfo(
        name="toyfw",
        module="toyfw.frontend",
        detect=(Detector(65, lambda file: file.head.startswith("#!toyfw") or file.name.endswith(".toyfw")),),
        names=lambda path: PurePath(path).name.endswith(".toyfw"),
        hook_files=r"[^/]*\\.toyfw",
    ),
)
'''

TOY_FRONTEND = '''
from linter.diagnostics import Diagnostic
from linter.frontends import ParseResult
from linter.model import (Chain, Direction, Family, Hook, Policy, PortMatch, PortSet, ProtocolMatch, Rule,
                          Ruleset, Span, Table, Verdict, VerdictKind)

PROTOCOLS = {"tcp": 6, "udp": 17}


def parse(source):
    rules, diagnostics = [], []
    for number, line in enumerate(source.text.split("\\n"), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if len(words) != 3 or words[0] != "open" or words[1] not in PROTOCOLS or not words[2].isdigit():
            diagnostics.append(Diagnostic("PL010", f"not a toyfw line: {line!r}", Span(source.path, number, 1)))
            continue
        matches = (ProtocolMatch(frozenset({PROTOCOLS[words[1]]}), text=words[1]),
                   PortMatch(Direction.DESTINATION, PortSet.of(int(words[2]))))
        rules.append(Rule(matches, Verdict(VerdictKind.ACCEPT), Span(source.path, number, 1), text=line))
    start = Span(source.path, 1, 1)
    chain = Chain("INPUT", tuple(rules), start, Hook.INPUT, "filter", 0, Policy.DROP, role="filter")
    table = Table("filter", Family.IPV4, (chain,), start)
    return ParseResult(Ruleset(source.path, "toyfw", Family.IPV4, (table,), loader="nft"), diagnostics)
'''

TOY_RULES = "#!toyfw\nopen tcp 22\nopen tcp 23\n"


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """The toy package on sys.path, registered by one call; the registry is restored afterwards."""
    package = tmp_path / "lib" / "toyfw"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A toy firewall format."""\n')
    (package / "detect.py").write_text(textwrap.dedent(TOY_DETECT))
    (package / "frontend.py").write_text(textwrap.dedent(TOY_FRONTEND))
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    registry.front_ends()  # the shipped ones first, so restoring leaves them registered
    for name in ("PACKAGES", "_registered", "_loaded", "_detectors"):
        monkeypatch.setattr(registry, name, list(getattr(registry, name)))
    monkeypatch.setitem(frontends.FRONT_ENDS, "toyfw", "toyfw.frontend")  # undone: the key is removed

    registry.register_package("toyfw")  # the one registry line, as a call

    yield tmp_path


def test_the_shipped_front_ends_are_registered_in_order():
    assert registry.input_formats() == ("iptables-save", "iptables-script", "nftables", "compose", "firewalld")
    assert registry.input_formats(rulesets_only=True) == ("iptables-save", "iptables-script", "nftables", "firewalld")
    assert frontends.FRONT_ENDS == {info.name: info.module for info in registry.front_ends()}


def test_the_pre_commit_hook_picks_up_the_files_of_every_front_end():
    """.pre-commit-hooks.yaml is written from the registry: run `python -m linter.frontends.hook`."""
    hooks = (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert hook.files_line() in hooks.splitlines()
    assert re.search(registry.hook_files_pattern(), "etc/iptables/rules.v4")
    assert re.search(registry.hook_files_pattern(), "roles/fw/files/Firewall.SH")


def test_writing_the_hook_files_line(tmp_path, toy):
    hooks = tmp_path / "hooks.yaml"
    hooks.write_text("- id: portlint\n  files: 'old'\n  types_or: [text]\n- id: portlint-diff\n  files: 'keep'\n")
    assert hook.write_hook_files(str(hooks)) is True
    assert hook.write_hook_files(str(hooks)) is False
    lines = hooks.read_text().splitlines()
    assert lines[1] == hook.files_line() and lines[4] == "  files: 'keep'"
    assert re.search(re.search(r"'(.*)'", lines[1]).group(1), "site/edge.toyfw")


def test_a_registered_front_end_is_detected_by_content_and_name(toy):
    assert detect_format("edge.conf", TOY_RULES) == "toyfw"
    assert detect_format("edge.toyfw", "open tcp 22\n") == "toyfw"
    assert looks_lintable("conf/edge.toyfw")
    # Detection order is kept: content the shipped front ends claim first stays theirs.
    assert detect_format("edge.toyfw", "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n") == "iptables-save"
    assert registry.front_ends()[-1].name == "toyfw"


def test_a_registered_front_end_is_offered_by_every_input_format_option(toy):
    for command in ("check", "show", "trace", "exposure"):
        result = CliRunner().invoke(main, [command, "--help"])
        assert "toyfw" in result.output, command
    unknown = CliRunner().invoke(main, ["check", "--input-format", "toyfw2", str(toy)])
    assert unknown.exit_code == 2
    assert "'toyfw'" in unknown.output


def test_portlint_check_runs_a_registered_front_end(toy):
    rules = toy / "site" / "edge.toyfw"
    rules.parent.mkdir()
    rules.write_text(TOY_RULES)
    (toy / "site" / "notes.txt").write_text(TOY_RULES)  # named like nothing: not walked

    result = CliRunner().invoke(main, ["check", "--format", "json", str(toy / "site")])

    report = json.loads(result.stdout)
    found = [(f["code"], f["line"], f["ports"], f["severity"]) for f in report["findings"]]
    assert found == [("PL201", 2, [[22, 22]], "info"), ("PL101", 3, [[23, 23]], "critical")]
    assert result.exit_code == 1
    assert {f["path"] for f in report["findings"]} == {str(rules)}
    # The same exposure as iptables-save gets the same codes and severities.
    save = toy / "same.rules"
    save.write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\n"
                    "-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n")
    as_save = json.loads(CliRunner().invoke(main, ["check", "--format", "json", str(save)]).stdout)
    assert [(f["code"], f["line"] - 1, f["ports"], f["severity"]) for f in as_save["findings"]] == found

    forced = CliRunner().invoke(main, ["check", "--format", "json", "--input-format", "toyfw",
                                       str(toy / "site" / "notes.txt")])
    assert [(f["code"], f["line"]) for f in json.loads(forced.stdout)["findings"]] == [("PL201", 2), ("PL101", 3)]


def test_detection_imports_no_front_end_and_no_parser_library():
    """Detection reads each package's detect.py only: no Lark, no PyYAML, no front end module."""
    code = textwrap.dedent('''
        import sys
        from linter.detect import detect_format, looks_lintable, looks_sniffable
        formats = [detect_format(p, t) for p, t in [
            ("a.rules", "*filter\\nCOMMIT\\n"), ("x", "table inet f {}\\n"), ("fw.sh", "iptables -A INPUT -j DROP\\n"),
            ("app.yml", "services:\\n  web:\\n    image: nginx\\n"), ("zones/p.xml", "<zone><port port='22'/></zone>")]]
        assert formats == ["iptables-save", "nftables", "iptables-script", "compose", "firewalld"], formats
        assert looks_lintable("etc/nftables.conf") and looks_sniffable("app.yaml")
        heavy = ("lark", "yaml", "linter.model", "linter.frontends.nftables.frontend", "linter.frontends.firewalld.frontend",
                 "linter.frontends.iptables.save", "linter.frontends.iptables.script", "linter.frontends.compose.project")
        print(sorted(m for m in heavy if m in sys.modules))
    ''')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).parents[2], check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[]\n"
