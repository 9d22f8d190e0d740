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
MAX_MODULE_LINES = 760


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


def test_modules_stay_small():
    """One job per module: no source file of the package over ~700 lines."""
    for path in _files("."):
        lines = path.read_text(encoding="utf-8").count("\n")
        assert lines <= MAX_MODULE_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"


def _reads_format(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}  # str.format(...)
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "format" and id(node) not in called]


def test_checks_and_engine_never_branch_on_the_input_format():
    """What they need of the input (a chain's table, the loader, set references, notrack) is in the model."""
    for path in _files("checks", "engine"):
        assert _reads_format(path) == [], f"{path.relative_to(PACKAGE)} reads .format at lines {_reads_format(path)}"


# Checks ask the engine through its façade; what else of the engine they may import.
CHECK_ENGINE_IMPORTS = {"linter.engine.query", "linter.engine.memo"}


def _imported_names(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every ``from module import name`` of a file, relative imports resolved
    inside the linter package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


def test_checks_reach_the_engine_only_through_its_facade():
    for path in _files("checks"):
        for module, name in _imported_names(path):
            full = f"{module}.{name}" if module == "linter.engine" else module
            if full.startswith("linter.engine"):
                assert full in CHECK_ENGINE_IMPORTS, f"{path.relative_to(PACKAGE)} imports {full}"


def test_checks_import_no_private_name_of_another_module():
    for path in _files("checks"):
        for module, name in _imported_names(path):
            assert not name.startswith("_"), f"{path.relative_to(PACKAGE)} imports {name} from {module}"


def test_checks_build_no_boxes_and_write_no_raw_address_numbers():
    for path in _files("checks"):
        text = path.read_text(encoding="utf-8")
        for needle in ("Box(", ".trail", "2**32", "0x7F000000", "Walker("):
            assert needle not in text, f"{path.relative_to(PACKAGE)} uses {needle}"


def test_shared_check_constants_have_one_copy():
    for path in _files("checks"):
        if path.name == "common.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    assert not (isinstance(target, ast.Name) and target.id in
                                {"WIDE_PORTS", "LIST_AT_MOST", "PORT_TRANSPORTS", "PROTOCOL_NUMBERS"}), \
                        f"{path.relative_to(PACKAGE)} defines its own {target.id}"


def test_no_module_imports_another_modules_private_names():
    """What one module shares with another is public; an underscore name is that module's own."""
    for path in _files("."):
        assert _private_imports(path) == [], f"{path.relative_to(PACKAGE)} imports private names"


BASE = {"linter.model", "linter.findings", "linter.addresses", "linter.netdb", "linter.numbers", "linter.budgets"}
RUN = ("linter.cli", "linter.pipeline", "linter.gate", "linter.commands", "linter.diff")
# What each layer of docs/architecture.md's map must never import.
FORBIDDEN = {
    "frontends": ("linter.engine", "linter.checks", "linter.reporters", *RUN),
    "engine": ("linter.frontends", "linter.checks", "linter.reporters", "linter.grammars", *RUN),
    "checks": ("linter.frontends", "linter.reporters", *RUN),
    "reporters": ("linter.engine", "linter.frontends", "linter.checks", *RUN),
    "diff": ("linter.cli", "linter.commands"),
}


def test_each_layer_imports_only_what_the_map_allows():
    for layer, banned in FORBIDDEN.items():
        for path in _files(layer):
            for name in _imports(path):
                assert not name.startswith(banned), f"{path.relative_to(PACKAGE)} imports {name}"


def test_the_base_modules_import_only_each_other():
    for module in sorted(BASE):
        path = PACKAGE / f"{module.split('.')[1]}.py"
        for name in _imports(path):
            if name.startswith("linter"):
                assert name in BASE, f"{path.relative_to(PACKAGE)} imports {name}"
