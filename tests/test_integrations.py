"""The pre-commit hook, the GitHub Action and the snippets in docs/ci.md."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ci_support import real_iptables_front_end
from linter.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
DOC = ROOT / "docs" / "ci.md"


def hook(name: str = "portlint") -> dict:
    hooks = {entry["id"]: entry for entry in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert list(hooks) == ["portlint", "portlint-scripts", "portlint-diff"]
    return hooks[name]


# -- pre-commit ------------------------------------------------------------------------------------

def test_hook_manifest():
    entry = hook()
    assert entry["id"] == "portlint"
    assert entry["entry"] == "portlint check --"
    assert entry["language"] == "python"
    review = hook("portlint-diff")
    assert review["entry"] == "portlint diff --git HEAD --"
    assert re.search(review["files"], "etc/iptables/rules.v4") and not re.search(review["files"], "compose.yaml")


def test_scripts_hook_reads_every_shell_script_as_one():
    entry = hook("portlint-scripts")
    assert entry["entry"] == "portlint check --input-format iptables-script --"
    assert entry["types"] == ["shell"] and "files" not in entry
    assert entry["language"] == "python" and entry["require_serial"] is True


@pytest.mark.parametrize("path", [
    "firewall/office.rules", "x.nft", "etc/iptables/rules.v4", "rules.v6", "iptables", "iptables.up",
    "ip6tables-save.txt", "etc/nftables.conf", "compose.yaml", "compose.yml", "docker-compose.yml",
    "deploy/docker-compose.prod.yaml", "compose.override.yaml", "etc/firewalld/zones/public.xml",
    "roles/fw/files/firewalld/services/app.xml", "firewalld/policies/allow-dns.xml", "etc/firewalld/firewalld.conf",
])
def test_hook_files_match(path):
    assert re.search(hook()["files"], path)


@pytest.mark.parametrize("path", [
    "scripts/firewall.sh", "rc.firewall", "etc/rc.local", "gw.fw", "my-firewall", "Firewall-Setup", "samples/scripts/ipv6.sh",
])
def test_hook_reaches_shell_scripts_as_a_directory_walk_does(path):
    from linter.detect import looks_lintable

    assert looks_lintable(path)
    assert re.search(hook()["files"], path)
    assert "shell" in hook()["types_or"]


@pytest.mark.parametrize("path", [
    "README.md", "rules.v5", "docs/iptables.md/x.txt", "composer.yml", "compose.json", "nftables.conf.bak",
    "my.rules.txt", "mycompose.yaml", "pom.xml", "zones/public.xml", "firewalld/zones/public.xml.bak",
])
def test_hook_files_do_not_match(path):
    assert not re.search(hook()["files"], path)


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(cwd), "-c", "user.name=portlint tests",
                           "-c", "user.email=tests@example.org", *args],
                          capture_output=True, text=True, check=False)


def _pre_commit() -> list[str] | None:
    exe = shutil.which("pre-commit") or shutil.which("pre-commit", path=os.path.dirname(sys.executable))
    return [exe] if exe else None


def _skip_unless_try_repo_can_run():
    if _pre_commit() is None:
        pytest.skip("pre-commit is not installed (pip install -e .[test])")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    if _git(ROOT, "rev-parse", "--verify", "HEAD").returncode != 0:
        pytest.skip("the repository under test is not a git checkout with a commit")
    if _git(ROOT, "ls-files", "--error-unmatch", ".pre-commit-hooks.yaml").returncode != 0:
        pytest.skip("try-repo uses tracked files only and .pre-commit-hooks.yaml is not committed yet")
    if not (ROOT / "grammars").is_dir():
        pytest.skip("grammars/ is missing, so the package cannot be built for the hook's environment")


def _scratch_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "scratch"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "README.md").write_text("# scratch\n")
    _git(repo, "add", "README.md")
    _git(repo, "commit", "-q", "-m", "start")
    return repo


def _try_repo(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the hook on what is staged in ``repo``, as a commit would."""
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"))
    env.pop("NO_COLOR", None)
    return subprocess.run([*_pre_commit(), "try-repo", str(ROOT), "portlint", "--color", "never"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
def test_hook_skips_commits_without_firewall_files(tmp_path):
    _skip_unless_try_repo_can_run()
    repo = _scratch_repo(tmp_path)
    (repo / "notes.txt").write_text("telnet is on port 23\n")
    _git(repo, "add", "notes.txt")
    result = _try_repo(repo, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(no files to check)" in result.stdout


@pytest.mark.slow
def test_hook_fails_a_commit_that_exposes_telnet(tmp_path):
    _skip_unless_try_repo_can_run()
    if not real_iptables_front_end():
        pytest.skip("linter.frontends.iptables.save is not merged yet")
    repo = _scratch_repo(tmp_path)
    (repo / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
                                   "COMMIT\n")
    _git(repo, "add", "rules.v4")
    assert _try_repo(repo, tmp_path).returncode == 0
    _git(repo, "commit", "-q", "-m", "ssh")
    (repo / "rules.v4").write_text("*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
                                   "-A INPUT -p tcp -m tcp --dport 23 -j ACCEPT\nCOMMIT\n")
    _git(repo, "add", "rules.v4")
    result = _try_repo(repo, tmp_path)
    assert result.returncode != 0
    assert "rules.v4:4:" in result.stdout and "PL101" in result.stdout


# -- GitHub Action -------------------------------------------------------------------------------------

def test_action_is_a_composite_that_uploads_sarif():
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert set(action["inputs"]) == {"paths", "fail-on", "sarif-file", "version", "diff-comment", "github-token"}
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    upload = next(step for step in steps if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    scripts = "\n".join(step.get("run", "") for step in steps)
    assert "pip install" in scripts
    assert re.search(r"portlint check --format sarif --output \"\$PORTLINT_SARIF\"", scripts)
    # On pull requests the markdown diff against the base is posted as a comment.
    assert re.search(r'portlint diff --git "origin/\$BASE_REF" --format markdown', scripts)
    # Inputs reach scripts through the environment, never pasted into the script text.
    assert "${{" not in scripts
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"


# -- docs/ci.md ---------------------------------------------------------------------------------------

def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_doc_toml_snippets_are_valid_configuration():
    from linter.config import toml_reader

    tomllib = toml_reader()
    blocks = _blocks("toml")
    assert len(blocks) >= 3
    for block in blocks:
        data = tomllib.loads(block)
        table = data["tool"]["portlint"] if "tool" in data else data
        parse_config(table, Path("docs/ci.md"))  # raises ConfigError on any mistake


def test_doc_yaml_snippets_parse_and_use_what_exists():
    documents = [yaml.safe_load(block) for block in _blocks("yaml")]
    pre_commit = next(d for d in documents if "repos" in d)
    assert pre_commit["repos"][0]["hooks"][0]["id"] == hook()["id"]
    inputs = set(yaml.safe_load(ACTION.read_text(encoding="utf-8"))["inputs"])
    workflows = [d for d in documents if "jobs" in d]
    used = [step for d in workflows for job in d["jobs"].values() for step in job["steps"]
            if "portlint@" in step.get("uses", "")]
    assert used and all(set(step.get("with", {})) <= inputs for step in used)
    gitlab = next(d for d in documents if "portlint" in d and "script" in d["portlint"])
    assert gitlab["portlint"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert any("--format gitlab --output gl-code-quality-report.json" in line for line in gitlab["portlint"]["script"])
    compose = next(d for d in documents if "services" in d)
    assert compose["services"]["lab"]["ports"] == ["23:23"]


def test_doc_suppression_examples_are_read_as_written():
    from linter.source import SourceFile
    from linter.suppressions import scan

    for block in _blocks("text"):
        found = scan(SourceFile("docs.txt", block))
        assert not found.problems, found.problems
    assert len(scan(SourceFile("docs.txt", "".join(_blocks("text")))).directives) == 2


def test_doc_suppression_script_runs_and_silences_what_it_says(tmp_path, monkeypatch):
    """The shell example of docs/ci.md, linted as it is: every finding is suppressed, each with
    the reason written beside it, and no suppression is unused."""
    import json

    from click.testing import CliRunner

    from linter.cli import main

    (script,) = [block for block in _blocks("sh") if block.startswith("#!/bin/sh")]
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "firewall.sh").write_text(script)
    result = CliRunner().invoke(main, ["check", "firewall.sh", "--format", "json"], catch_exceptions=False)
    report = json.loads(result.output)
    assert (result.exit_code, report["findings"]) == (0, [])
    assert sorted((s["code"], s["line"], s["suppression"]["justification"]) for s in report["suppressed"]) == [
        ("PL101", 4, "lab switch only speaks telnet"),
        ("PL101", 8, "the printers' status pages"),
        ("PL101", 11, "SFTP migration, OPS-12"),
        ("PL101", 15, "IMAP for the old mail client"),
        ("PL201", 19, "reviewed exposure, SEC-31"),
        ("PL405", 20, "reviewed exposure, SEC-31"),
    ]


# -- README.md ---------------------------------------------------------------------------------------

README = ROOT / "README.md"


def _readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_output_examples_are_what_portlint_prints(monkeypatch):
    """README's text and JSON examples are the output of the command it names, as printed."""
    import json

    from click.testing import CliRunner

    from linter.cli import main

    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)
    command = ["check", "samples/legacy.rules", "--select", "PL101", "--no-color"]
    assert "`portlint check samples/legacy.rules --select PL101` begins:" in README.read_text(encoding="utf-8")
    text = CliRunner().invoke(main, command, catch_exceptions=False).output
    (shown_text,) = [b for b in _readme_blocks("text") if b.startswith("samples/legacy.rules:17:1")]
    assert text.startswith(shown_text)
    printed = json.loads(CliRunner().invoke(main, [*command, "--format", "json"], catch_exceptions=False).output)
    (shown_json,) = [json.loads(b) for b in _readme_blocks("json") if '"version": 1' in b]
    assert shown_json["findings"] == printed["findings"][:1]
    assert {k: v for k, v in shown_json.items() if k != "findings"} == \
        {k: v for k, v in printed.items() if k != "findings"}


def _command_lines() -> list[tuple[str, str]]:
    """(file, line) of every `portlint ...` command in a sh block of README.md and docs/*.md."""
    found = []
    for path in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for block in re.findall(r"```sh\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
            for line in block.splitlines():
                line = line.strip()
                if line.startswith("portlint "):
                    found.append((path.name, line))
    return found


@pytest.mark.parametrize("where, line", _command_lines())
def test_doc_command_lines_are_accepted_by_the_cli(where, line):
    """Every portlint command shown in the docs names a command and options that exist, with
    values they accept (parsed by click as the shell would pass them; nothing is run)."""
    import shlex

    from linter.cli import main

    args = shlex.split(line.split("  #")[0], comments=True)[1:]
    _parse(main, args)


def _parse(group, args):
    ctx = group.make_context("portlint", args)
    name, command, rest = group.resolve_command(ctx, [*getattr(ctx, "_protected_args", ()), *ctx.args])
    command.make_context(name, rest, parent=ctx)


def test_the_doc_command_lines_are_found_and_checked():
    import click

    from linter.cli import main

    lines = [line for _, line in _command_lines()]
    assert any(line.startswith("portlint . --statistics") for line in lines) and len(lines) >= 20
    with pytest.raises(click.UsageError):
        _parse(main, [".", "--statistic"])
    with pytest.raises(click.UsageError):
        _parse(main, ["exposure", "x", "--format", "sarif"])
