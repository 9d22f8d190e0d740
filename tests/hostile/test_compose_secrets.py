"""Hostile compose input (issue 15): secrets from the environment and `.env`, files outside
the linted directories, interpolation and extends bombs, and compose files found by content.

portlint runs in CI on untrusted pull requests: every secret is an environment variable
there and reports land in public logs. So no report format, nor `portlint show`, may print
what a variable holds or what a file outside the linted tree contains; messages quote the
file as written (``${DB_PASSWORD}``).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.detect import looks_like_compose_head
from linter.frontends import FrontEndOptions
from linter.frontends.compose.project import MAX_EXTENDS_DEPTH, parse
from linter.frontends.compose.env import (
    MAX_FILE_CHARS, MAX_VALUE_CHARS, Budget, Interpolator, TooLarge, parse_env_file,
)
from linter.pipeline import discover
from linter.source import read_source

SECRET = "S3CR3T-VALUE-123"
FILE_SECRET = "OUTSIDE-FILE-CONTENT-987"
FORMATS = ("text", "concise", "json", "sarif", "junit", "github", "gitlab")

COMPOSE = """\
services:
  db:
    image: "postgres:${CI_SECRET}"
    ports:
      - "${DB_PASSWORD}:5432"
      - published: ${CI_SECRET}
        target: 80
      - host_ip: ${CI_SECRET}
        target: 81
        published: 8081
      - "${UNSET_ONE:?${DB_PASSWORD}}:82"
      - "${CI_SECRET}:83:83"
      - "127.0.0.1:5433:5432"
    expose: ["${DB_PASSWORD}"]
  web:
    network_mode: "service:${DB_PASSWORD}"
    ports: ["8080:80"]
  cache:
    profiles: ["${CI_SECRET}"]
    ports: ["6379:6379"]
"""
DOTENV = f"""\
DB_PASSWORD={SECRET}
BROKEN {SECRET} LINE=x
BAD=${{{SECRET}
OPEN="{SECRET}
"""
# (path, line, column, code) of every finding the project above gets
EXPECTED = {
    (".env", 2, 1, "PL010"),  # not KEY=VALUE
    (".env", 3, 5, "PL010"),  # invalid interpolation in BAD
    (".env", 4, 6, "PL010"),  # unclosed quote in OPEN
    ("compose.yaml", 5, 9, "PL040"),  # host port is the password
    ("compose.yaml", 6, 9, "PL040"),  # published: ${CI_SECRET}
    ("compose.yaml", 8, 9, "PL413"),  # host_ip: ${CI_SECRET}
    ("compose.yaml", 11, 9, "PL041"),  # ${UNSET_ONE:?${DB_PASSWORD}}
    ("compose.yaml", 12, 9, "PL413"),  # "${CI_SECRET}:83:83"
    ("compose.yaml", 14, 14, "PL040"),  # expose: ["${DB_PASSWORD}"]
    ("compose.yaml", 17, 13, "PL412"),  # network_mode: service:${DB_PASSWORD}
    ("compose.yaml", 20, 13, "PL201"),  # redis on every interface (a risky service: PL201): the rest is still linted
}


@pytest.fixture(autouse=True)
def workspace(tmp_path, monkeypatch):
    """A scratch repository root (no configuration above it) with a secret in the environment."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("CI_SECRET", SECRET)
    monkeypatch.delenv("UNSET_ONE", raising=False)
    return tmp_path


def write(path, body: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def run(*args) -> tuple[str, int]:
    """Everything a command printed (stdout and stderr) and its exit code."""
    result = invoke(*args)
    return result.stdout + result.stderr, result.exit_code


def findings(*args) -> set[tuple[str, int, int, str]]:
    report = json.loads(invoke("check", "--format", "json", *args).stdout)
    return {(os.path.basename(f["path"]), f["line"], f["column"], f["code"]) for f in report["findings"]}


def project(root: Path) -> None:
    write(root / "compose.yaml", COMPOSE)
    write(root / ".env", DOTENV)


# -- 1. values of variables never reach a report ------------------------------------------------------

def test_each_construct_is_found_where_it_is_written(workspace):
    project(workspace / "app")
    assert findings("app") == EXPECTED


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_prints_a_secret(workspace, fmt):
    project(workspace / "app")
    output, code = run("check", "--format", fmt, "app")
    assert code == 1
    assert SECRET not in output and SECRET[:8] not in output
    assert "PL413" in output and "PL041" in output  # the findings are there, worded from the file


def test_messages_quote_the_file_as_written(workspace):
    project(workspace / "app")
    output, _ = run("check", "--format", "concise", "app")
    lines = {line.split(": ", 1)[0].rsplit("/", 1)[1]: line for line in output.splitlines() if ": PL" in line}
    assert "Invalid port entry '${DB_PASSWORD}:5432' of service 'db': after interpolation, host port is not a " \
           "number" in lines["compose.yaml:5:9"]
    assert "Host IP '${CI_SECRET}' of service db" in lines["compose.yaml:8:9"]
    assert "which is not set: ${DB_PASSWORD}" in lines["compose.yaml:11:9"]  # the :? message as written
    assert "Host IP '${CI_SECRET}' of service db" in lines["compose.yaml:12:9"]
    assert "network_mode: service:${DB_PASSWORD}" in lines["compose.yaml:17:13"]
    assert "Not a KEY=VALUE line" in lines[".env:2:1"]
    assert "Invalid interpolation in the value of BAD" in lines[".env:3:5"]
    assert "Unclosed \" quote in the value of OPEN" in lines[".env:4:6"]


EVERY_POSITION = """\
services:
  a:
    image: ${CI_SECRET}
    network_mode: "container:${CI_SECRET}"
    ports:
      - "${CI_SECRET}"
      - "80/${CI_SECRET}"
      - "127.0.0.1:${CI_SECRET}:80"
      - "${CI_SECRET}-9000:80"
      - "[${CI_SECRET}]:80:80"
      - "${CI_SECRET}:80:80/udp"
      - "1.2.3.4:${CI_SECRET}"
      - target: ${CI_SECRET}
      - {target: 80, protocol: "${CI_SECRET}"}
      - {target: 80, mode: "${CI_SECRET}"}
      - {target: 80, name: "${CI_SECRET}", app_protocol: "${CI_SECRET}", published: "8000"}
      - {target: 80, host_ip: "[${CI_SECRET}]", published: "8001"}
      - "${CI_SECRET:-}${CI_SECRET}${CI_SECRET}:1:1"
      - "${CI_SECRET:+x}${UNSET_ONE:?}"
    expose: ["${CI_SECRET}/tcp", "80/${CI_SECRET}", "${CI_SECRET}-${CI_SECRET}"]
  b:
    extends: ${CI_SECRET}
  c:
    extends: {service: "${CI_SECRET}", file: "${CI_SECRET}"}
  e:
    network_mode: "service:${CI_SECRET}"
    profiles: ["${CI_SECRET}", "p"]
    ports: ["${CI_SECRET}:${CI_SECRET}"]
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_variable_anywhere_stays_out_of_every_format(workspace, fmt):
    write("app/compose.yaml", EVERY_POSITION)
    output, code = run("check", "--format", fmt, "app")
    assert code == 1 and SECRET not in output and SECRET[:8] not in output
    shown, _ = run("show", "--format", "json" if fmt == "json" else "text", "app/compose.yaml")
    assert SECRET not in shown and "${CI_SECRET}" in shown


def test_a_variable_anywhere_findings(workspace):
    write("app/compose.yaml", EVERY_POSITION)
    found = findings("app")
    assert {line for _, line, _, code in found if code == "PL040"} == {6, 7, 8, 9, 12, 13, 14, 15, 20, 28}
    assert {line for _, line, _, code in found if code == "PL413"} == {10, 11, 17, 18}
    assert {line for _, line, _, code in found if code == "PL010"} == {22, 24}


def test_show_prints_templates_not_values(workspace):
    project(workspace / "app")
    result = invoke("show", "--format", "json", "app/compose.yaml")
    assert result.exit_code == 0 and SECRET not in result.stdout + result.stderr
    assert "PL413" not in result.stderr and "PL040" in result.stderr  # parse problems go to stderr, worded safely
    shown = json.loads(result.stdout)
    services = {s["name"]: s for s in shown["services"]}
    assert services["db"]["image"] == "postgres:${CI_SECRET}"
    assert services["web"]["network_mode"] == "service:${DB_PASSWORD}"
    assert services["cache"]["profiles"] == ["${CI_SECRET}"]
    hosts = {p["line"]: p["host_ip"] for p in shown["publications"]}
    assert hosts[8] == "${CI_SECRET}" and hosts[12] == "${CI_SECRET}" and hosts[13] == "127.0.0.1"
    text, _ = run("show", "app/compose.yaml")
    assert SECRET not in text and "${CI_SECRET} 83 -> 83/tcp" in text


def test_a_value_without_variables_is_shown_as_read(workspace):
    write("app/compose.yaml", 'services:\n  web:\n    image: "nginx:${TAG:-1.27}"\n    ports: ["${IP:-10.0.0.1}:80:80"]\n')
    shown = json.loads(invoke("show", "--format", "json", "app/compose.yaml").stdout)
    assert shown["services"][0]["image"] == "nginx:1.27"
    assert shown["publications"][0]["host_ip"] == "10.0.0.1"


def test_required_message_is_kept_as_written():
    result = Interpolator({"SECRET": SECRET}).expand("${UNSET:?${SECRET} is needed}")
    assert result.required == [("UNSET", "${SECRET} is needed")] and not result.substituted
    assert Interpolator({"SECRET": SECRET}).expand("a${SECRET}").substituted
    assert not Interpolator({"SECRET": SECRET}).expand("${NOPE:-80}").substituted


def test_env_file_problems_never_quote_the_line():
    values, problems = parse_env_file(DOTENV)
    assert values == {"DB_PASSWORD": SECRET, "BAD": "${" + SECRET}  # a broken template is kept as written
    assert [(p.line, p.column, p.code) for p in problems] == [(2, 1, "PL010"), (3, 5, "PL010"), (4, 6, "PL010")]
    assert not any(SECRET in p.message for p in problems)


# -- 2. files outside the linted directories are never read ---------------------------------------------

def test_extends_outside_is_one_finding_without_the_content(workspace):
    write("outside/secret.yml", f"{FILE_SECRET}: 1\nservices:\n  x:\n    image: {FILE_SECRET}\n")
    (workspace / "app").mkdir()
    os.symlink(workspace / "outside" / "secret.yml", workspace / "app" / "link.yml")
    write("app/compose.yaml", f"""\
        services:
          a:
            extends: {{file: ../outside/secret.yml, service: x}}
          b:
            extends: {{file: {workspace / "outside" / "secret.yml"}, service: x}}
          c:
            extends: {{file: link.yml, service: x}}
          d:
            extends: {{file: ../outside/secret.yml, service: y}}
          e:
            extends: {{file: ../outside/nowhere.yml, service: x}}
          web:
            ports: ["5432:5432"]
        """)
    assert findings("app") == {
        ("compose.yaml", 3, 14, "PL006"), ("compose.yaml", 5, 14, "PL006"), ("compose.yaml", 7, 14, "PL006"),
        ("compose.yaml", 11, 14, "PL006"),  # not "not found": whether an outside file exists is not said
        ("compose.yaml", 13, 13, "PL201"),
        ("link.yml", 1, 1, "PL006"),  # the committed symlink out of the tree, met by the directory walk
    }
    for fmt in FORMATS:
        output, _ = run("check", "--format", fmt, "app")
        assert FILE_SECRET not in output
    output, _ = run("show", "--format", "json", "app/compose.yaml")
    assert FILE_SECRET not in output and "is outside the scanned tree" in output


def test_extends_outside_names_the_path_as_written(workspace):
    write("outside/base.yml", "services:\n  x:\n    ports: ['1:1']\n")
    write("app/compose.yaml", "services:\n  a:\n    extends: {file: '${BASE_DIR}/base.yml', service: x}\n")
    os.environ["BASE_DIR"] = str(workspace / "outside")
    try:
        output, _ = run("check", "--format", "concise", "app")
    finally:
        del os.environ["BASE_DIR"]
    assert "Not read: extends: file '${BASE_DIR}/base.yml' is outside the scanned tree" in output
    assert str(workspace / "outside") not in output


def test_extends_inside_the_linted_tree_still_works(workspace):
    write("repo/common/base.yml", "services:\n  x:\n    ports: ['5432:5432']\n")
    write("repo/app/compose.yaml", "services:\n  a:\n    extends: {file: ../common/base.yml, service: x}\n")
    assert ("compose.yaml", 3, 11, "PL201") not in findings("repo/app")  # ../common is outside repo/app
    assert ("base.yml", 3, 13, "PL201") in findings("repo")


def test_dotenv_leading_outside_is_not_read(workspace):
    write("outside/env", f"PORT={FILE_SECRET}\nBROKEN {FILE_SECRET}\n")
    write("app/compose.yaml", 'services:\n  web:\n    ports: ["${PORT:-8080}:80"]\n')
    os.symlink(workspace / "outside" / "env", workspace / "app" / ".env")
    assert findings("app") == {(".env", 1, 1, "PL006"), ("compose.yaml", 3, 13, "PL101")}
    output, _ = run("check", "app")
    assert FILE_SECRET not in output


# -- 3. budgets -------------------------------------------------------------------------------------

def doubling_env(levels: int) -> str:
    lines = ["V0=xx"] + [f"V{i}=${{V{i - 1}}}${{V{i - 1}}}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\nPORT=8080\n"


def test_doubling_env_file_ends_in_one_finding():
    text = doubling_env(40)
    assert len(text) < 700
    budget = Budget()
    values, problems = parse_env_file(text, {}, budget)
    assert [(p.line, p.code) for p in problems] == [(20, "PL042")]  # V19 would pass 1 MiB in all
    assert budget.limit - budget.left <= MAX_FILE_CHARS + MAX_VALUE_CHARS
    assert sum(map(len, values.values())) <= MAX_FILE_CHARS + len(text)
    assert values["PORT"] == "8080" and "V19" not in values and "V40" not in values


def test_doubling_env_file_rest_still_linted(workspace):
    write("app/.env", doubling_env(40))
    write("app/compose.yaml", 'services:\n  web:\n    ports: ["${V40}:80", "${PORT}:5432"]\n')
    assert findings("app") == {
        (".env", 20, 5, "PL042"),
        ("compose.yaml", 3, 13, "PL041"), ("compose.yaml", 3, 13, "PL211"),  # V40 was left unset
        ("compose.yaml", 3, 26, "PL201"),  # ${PORT} is still read
    }


def test_one_value_past_the_limit():
    big = "x" * (MAX_VALUE_CHARS // 2 + 1)
    interpolator = Interpolator({"BIG": big})
    assert interpolator.expand("${BIG}").text == big
    with pytest.raises(TooLarge) as error:
        Interpolator({"BIG": big}).expand("${BIG}${BIG}")
    assert not error.value.file_budget and big not in str(error.value)


def test_compose_file_budget_is_spent_once(workspace):
    write("app/.env", "BIG=" + "9" * (MAX_VALUE_CHARS // 3) + "\n")
    entries = ", ".join(['"${BIG}:80"'] * 500)
    write("app/compose.yaml", f'services:\n  web:\n    ports: [{entries}]\n  db:\n    ports: ["5432:5432"]\n')
    found = findings("app")
    assert [f for f in found if f[3] == "PL042"] == [("compose.yaml", 3, 13 + 13 * 3, "PL042")]  # the 4th entry
    assert ("compose.yaml", 5, 13, "PL201") in found


def test_deep_extends_chain_and_loop(tmp_path):
    depth = 5000
    services = [f"  s{i}:\n    extends: s{i + 1}" for i in range(depth - 1)]
    services.append(f"  s{depth - 1}:\n    ports: ['5432:5432']")
    services.append("  c1:\n    extends: c2\n  c2:\n    extends: c3\n  c3:\n    extends: c1\n    ports: ['1:1']")
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n" + "\n".join(services) + "\n")
    result = parse(read_source(str(path)), FrontEndOptions(environ={}))
    codes = [(d.code, d.span.line) for d in result.diagnostics]
    assert codes == [("PL042", 2 * (MAX_EXTENDS_DEPTH + 1) + 1), ("PL010", 2 * depth + 7)]
    services = {s.name: s for s in result.document.services}
    assert len(services) == depth + 3
    assert [p.published for p in services[f"s{depth - 2}"].publications] == [(5432, 5432)]
    assert services["s0"].publications == ()  # its chain is cut MAX_EXTENDS_DEPTH services down
    assert [p.published for p in services["c1"].publications] == [(1, 1)]


# -- 4. compose files found by content ----------------------------------------------------------------

def test_directory_walk_finds_compose_files_by_content(workspace):
    write("repo/deploy/app.yml", "version: '3'\nservices:\n  web:\n    ports: ['5432:5432']\n")
    write("repo/deploy/stack.yaml", "x-common: &c\n  restart: always\nservices: {db: {image: postgres}}\n")
    write("repo/k8s/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec:\n  ports: []\n")
    write("repo/.gitlab-ci.yml", "image: ruby\nservices:\n  - postgres:16\n")
    write("repo/ci.yml", "stages: [test]\nservices:\n  - docker\n")
    write("repo/workflow.yml", "on: push\njobs:\n  build: {runs-on: ubuntu-latest}\n")
    write("repo/values.yaml", "services:\n  - name: web\n")
    files, problems = discover(["repo"])
    assert problems == [] and sorted(files) == ["repo/deploy/app.yml", "repo/deploy/stack.yaml"]
    assert ("app.yml", 4, 13, "PL201") in findings("repo")


@pytest.mark.parametrize("head, compose", [
    ("services:\n  web:\n    image: x\n", True),
    ("# a comment\n---\nname: p\nservices:\n\n  # c\n  web: {}\n", True),
    ('"services":\n  web: {}\n', True),
    ("services:\n  - postgres\n", False),
    ("services:\n", False),
    ("kind: Pod\nservices:\n  web: {}\n", False),
    ("- hosts: all\n  tasks: []\n", False),
])
def test_compose_head(head, compose):
    assert looks_like_compose_head(head) is compose


def test_walk_reads_only_the_head_of_yaml_files(workspace):
    write("repo/big.yml", "services:\n  web:\n    image: x\n" + "# filler\n" * 10_000 + "kind: Pod\n")
    write("repo/late.yml", "# filler\n" * 2_000 + "services:\n  web: {}\n")
    files, _ = discover(["repo"])
    assert files == ["repo/big.yml"]  # late.yml's services: lies past the first 8 KB
