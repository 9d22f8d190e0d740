"""Start-up stays small: a pre-commit run on one file must not pay for what it does not use.

`portlint check` on an iptables-save file whose lines all take the fast path, with text
output to a pipe, imports neither Lark, nor PyYAML (rule data comes from
rules/compiled.json), nor rich (plain text needs no console), nor the trace and exposure
commands, nor the other front ends, nor the standard modules only a file written needs;
and its dataclasses' methods come compiled (tests/test_dataclass_code.py).
"""

from __future__ import annotations

import io
import subprocess
import sys

from linter.findings import Finding, Severity
from linter.reporters import text

PROBE = """
import sys
from linter.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
loaded = sorted(m for m in ("lark", "yaml", "rich", "linter.commands.trace", "linter.commands.exposure",
                            # the other front ends: detection reads their detect.py only
                            "linter.frontends.nftables.frontend", "linter.frontends.compose.project",
                            "linter.frontends.firewalld.frontend", "linter.frontends.shell.parser",
                            "linter.frontends.ufw.rules",
                            # standard modules only some runs need: writing a file (tempfile, and the
                            # random and shutil it brings), a "did you mean" (difflib);
                            # socket (the iptables front end reads addresses without it)
                            "tempfile", "random", "shutil", "difflib", "socket",
                            # OpenSSL: the compiled files' digests come from the interpreter's sha256
                            "_hashlib",
                            # the compiled grammars: the fast path's terminal patterns come from a small JSON file
                            "pickle",
                            # a directory walk: the .gitignore reader
                            "linter.gitignore")
                if m in sys.modules)
print("LOADED", ",".join(loaded), file=sys.stderr)
"""


def _loaded(*args: str) -> tuple[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True)
    line = [ln for ln in done.stderr.splitlines() if ln.startswith("LOADED")][-1]
    return done.stdout, set(filter(None, line.split(" ", 1)[1].split(",")))


def test_check_on_a_small_file_imports_no_parser_library_and_no_rich(samples):
    out, loaded = _loaded("check", str(samples / "docker-host.rules"))
    assert "finding" in out
    assert loaded == set()


QUICK_PROBE = """
import sys
from linter.launch import guarded, check_arguments, run
sys.argv[0] = "portlint"
import linter.launch
linter.launch.leave = lambda code: None  # stay to look, instead of os._exit
try:
    run()
except SystemExit:
    pass
loaded = sorted(m for m in ("click", "linter.cli", "linter.format_choice", "lark", "yaml", "rich")
                if m in sys.modules)
print("LOADED", ",".join(loaded), file=sys.stderr)
"""


def test_a_plain_check_command_line_imports_neither_click_nor_the_cli(samples):
    # `portlint FILE` and `portlint check --isolated -q FILE` (a pre-commit hook) take linter.launch's
    # short way: click and the command tree are a tenth of such a run.
    for args in ((str(samples / "docker-host.rules"),), ("check", "--isolated", "-q", str(samples / "hardened.rules"))):
        done = subprocess.run([sys.executable, "-c", QUICK_PROBE, *args], capture_output=True, text=True)
        line = [ln for ln in done.stderr.splitlines() if ln.startswith("LOADED")][-1]
        assert line == "LOADED ", (args, done.stderr)
        assert args[0] == "check" or "finding" in done.stdout


def test_lark_is_imported_when_a_line_needs_it(tmp_path):
    path = tmp_path / "rules.v4"
    path.write_text("*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT x\n", encoding="utf-8")
    out, loaded = _loaded("check", str(path))
    assert "PL010" in out
    assert "lark" in loaded


def _finding(**changes) -> Finding:
    values = dict(code="PL101", name="plaintext-protocol-exposed", severity=Severity.HIGH, category="plaintext",
                  path="a.rules", line=3, column=2, message="m", hint=None, key="k", source_line="x",
                  end_line=3, end_column=3)
    values.update(changes)
    return Finding(**values)


def test_text_output_prints_brackets_and_backslashes_as_written():
    finding = _finding(path="dir\\[x]\\", message="[bold]not bold[/bold] \\", hint="[/", related=(("[a", 1, 1, "]"),))
    for color in (False, True):
        out = io.StringIO()
        text.render(text.output_for(out, color), [finding], 1)
        value = out.getvalue()
        assert "dir\\[x]\\:3:2: PL101 [high] [bold]not bold[/bold] \\" in value
        assert "= note: [a:1:1: ]" in value
        assert "= hint: [/" in value


def test_plain_text_replaces_control_characters_and_expands_tabs():
    # Every control character but tab is shown as "?" (reporters/safe.py), as rich prints it too.
    out = io.StringIO()
    text.PlainConsole(out).line([("a\tb\x07\r", None), ("\x1bc", "bold")])
    assert out.getvalue() == "a       b???c\n"
    rich_out = io.StringIO()
    text._rich_line(text.console_for(rich_out, False), [("a\tb\x07\r", None), ("\x1bc", "bold")])
    assert rich_out.getvalue() == "a       b???c\n"
