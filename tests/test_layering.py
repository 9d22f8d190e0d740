"""Layers point one way: checks, engine, model and reporters never import a parser."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "linter"
PARSER_MODULES = {"lark", "yaml"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(*parts: str):
    for part in parts:
        target = PACKAGE / part
        yield from ([target] if target.is_file() else sorted(target.rglob("*.py")))


def test_analysis_layers_do_not_import_parsers():
    for path in _files("checks", "engine", "reporters", "model.py", "findings.py"):
        roots = {name.split(".")[0] for name in _imports(path)}
        assert not roots & PARSER_MODULES, f"{path.relative_to(PACKAGE)} imports {roots & PARSER_MODULES}"


def test_model_and_engine_do_not_import_front_ends_or_cli():
    for path in _files("engine", "model.py", "checks", "reporters"):
        for name in _imports(path):
            assert not name.startswith(("linter.frontends", "linter.cli", "linter.pipeline")), \
                f"{path.relative_to(PACKAGE)} imports {name}"


FRONT_ENDS = PACKAGE / "frontends"
# linter/grammars.py loads and compiles the front ends' Lark grammars; nothing else outside
# linter/frontends/ may import a parser library.
GRAMMAR_LOADER = PACKAGE / "grammars.py"
MAX_FRONT_END_LINES = 760


def test_only_front_ends_import_lark():
    for path in _files("."):
        if path == GRAMMAR_LOADER or FRONT_ENDS in path.parents:
            continue
        roots = {name.split(".")[0] for name in _imports(path)}
        assert "lark" not in roots, f"{path.relative_to(PACKAGE)} imports lark"


def _private_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{node.module}.{alias.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("linter")
            for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]


def test_front_end_modules_share_only_public_names():
    for path in _files("frontends"):
        assert _private_imports(path) == [], f"{path.relative_to(PACKAGE)} imports private names"


def test_front_end_modules_stay_small():
    for path in _files("frontends"):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= MAX_FRONT_END_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


def _reads_format(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}  # str.format(...)
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "format" and id(node) not in called]


def test_checks_and_engine_never_branch_on_the_input_format():
    """What they need of the input (a chain's table, the loader, set references, notrack) is in the model."""
    for path in _files("checks", "engine"):
        assert _reads_format(path) == [], f"{path.relative_to(PACKAGE)} reads .format at lines {_reads_format(path)}"
