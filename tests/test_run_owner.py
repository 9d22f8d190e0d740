"""One owner of a run: pipeline.read_document reads, detects and parses for check, show, trace
and exposure; exit codes live with the gate, which imports nothing of the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

from click.testing import CliRunner

from linter import gate
from linter.cli import main
from linter.pipeline import read_document, read_documents

ROOT = Path(__file__).resolve().parents[1]
RULES = "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\n"
COMPOSE = "services:\n  db:\n    image: postgres:16\n    ports:\n      - \"5432:5432\"\n"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_gate_imports_nothing_of_the_cli():
    tree = ast.parse((ROOT / "linter" / "gate.py").read_text(encoding="utf-8"))
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "linter.cli" not in modules
    assert (gate.EXIT_OK, gate.EXIT_FINDINGS, gate.EXIT_ERROR) == (0, 1, 2)


def test_read_document_reports_in_order(tmp_path):
    path = tmp_path / "a.rules"
    path.write_bytes(RULES.encode() + b"-A INPUT \xff -j DROP\n")
    read = read_document(str(path))
    assert read.format == "iptables-save" and read.document is not None and not read.unreadable
    assert [d.code for d in read.diagnostics][:1] == ["PL003"]


def test_read_document_of_an_unknown_file_is_pl004(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    read = read_document(str(path))
    assert (read.document, [(d.code, d.span.line) for d in read.diagnostics]) == (None, [("PL004", 1)])


def test_a_front_end_that_fails_is_pl009(tmp_path, monkeypatch):
    import linter.pipeline as pipeline

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pipeline, "parse_source", broken)
    path = tmp_path / "a.rules"
    path.write_text(RULES)
    read = read_document(str(path))
    assert read.unreadable and [(d.code, d.message) for d in read.diagnostics] == [
        ("PL009", "The iptables-save reader failed: RuntimeError: boom")]


def test_read_documents_walks_directories(tmp_path):
    (tmp_path / "rules.v4").write_text(RULES)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE)
    found = sorted((Path(r.path).name, r.format) for r in read_documents([str(tmp_path)]))
    assert found == [("docker-compose.yml", "compose"), ("rules.v4", "iptables-save")]


def test_exposure_and_trace_accept_a_directory(tmp_path):
    (tmp_path / "rules.v4").write_text(RULES)
    exposure = invoke("exposure", str(tmp_path), "--format", "json")
    assert exposure.exit_code == 0
    import json

    records = json.loads(exposure.output)["exposure"]
    assert [(r["protocol"], r["ports"], r["reach"]) for r in records] == [
        ("tcp", [[23, 23]], "internet"), ("tcp", [[23, 23]], "private")]
    trace = invoke("trace", str(tmp_path), "--dport", "23", "--format", "json")
    assert trace.exit_code == 0 and json.loads(trace.output)["verdict"] == "accept"


def test_exposure_of_a_compose_file_shows_its_publications(tmp_path):
    import json

    compose = tmp_path / "docker-compose.yml"
    compose.write_text(COMPOSE)
    result = invoke("exposure", str(compose), "--format", "json")
    assert result.exit_code == 0
    records = json.loads(result.output)["exposure"]
    # Docker's DNAT of the publication; the host's own ports are no compose file's to describe.
    assert [(r["protocol"], r["ports"], r["reach"], r["forwarded"], r["routed"], r["nat_to"],
             [d["line"] for d in r["decided_by"]]) for r in records if not r["routed"]] == [
        ("tcp", [[5432, 5432]], "internet", True, False, ["172.17.0.2"], [5, 5]),
        ("tcp", [[5432, 5432]], "private", True, False, ["172.17.0.2"], [5, 5]),
    ]


def test_an_unreadable_path_exits_2_for_exposure(tmp_path):
    result = CliRunner().invoke(main, ["exposure", str(tmp_path / "missing.rules")])
    assert result.exit_code == 2
    assert "PL001" in result.output


def test_show_reads_through_the_same_function(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 2
    assert f"{path}:1:1: PL004 Cannot tell what kind of file this is" in result.output


def test_a_bad_byte_in_nftables_is_one_pl003(tmp_path):
    path = tmp_path / "bad.nft"
    path.write_bytes(b"table inet f {\n chain c {\n  type filter hook input priority 0; policy drop;\n"
                     b"  tcp dport 22 \xff accept\n }\n}\n")
    read = read_document(str(path))
    assert [(d.code, d.span.line, d.span.column) for d in read.diagnostics] == [("PL003", 4, 16), ("PL010", 4, 16)]

