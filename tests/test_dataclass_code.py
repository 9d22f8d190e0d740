"""Dataclass methods come compiled ahead of time (linter/dataclass_code.py), and are exactly
what dataclasses would have compiled."""

from __future__ import annotations

import dataclasses
import importlib.util
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linter import dataclass_code

ROOT = Path(__file__).resolve().parents[1]
HERE = pytest.mark.skipif(not os.path.exists(dataclass_code.data_path()),
                          reason="no compiled dataclass code for this interpreter (python -m linter.grammars)")

# Every method of every dataclass of some modules, as {class: {method: code}}, marshalled to stdout.
METHODS = """
import dataclasses, importlib, marshal, sys
if sys.argv[1] == "compiled-now":
    import builtins
    dataclasses.exec = builtins.exec  # install() leaves dataclasses alone: every text is compiled here
out = {}
for name in sys.argv[2:]:
    module = importlib.import_module(name)
    for value in vars(module).values():
        if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name:
            out[f"{name}.{value.__qualname__}"] = {
                key: attr.__code__ for key, attr in vars(value).items() if hasattr(attr, "__code__")
                and attr.__code__.co_filename == "<string>"}
from linter import dataclass_code
print(len(dataclass_code.compiled_at_run_time), file=sys.stderr)
sys.stdout.buffer.write(marshal.dumps(out))
"""
MODULES = ("linter.model", "linter.findings", "linter.pipeline", "linter.ports", "linter.engine.walk",
           "linter.frontends.registry", "linter.config")


def _methods(how: str) -> tuple[dict, int]:
    done = subprocess.run([sys.executable, "-c", METHODS, how, *MODULES], capture_output=True, cwd=ROOT,
                          check=True)
    return marshal.loads(done.stdout), int(done.stderr.decode().strip().splitlines()[-1])


@HERE
def test_the_compiled_dataclass_code_is_up_to_date():
    stale = dataclass_code.stale_modules()
    assert not stale, f"{dataclass_code.data_path()} is out of date for {stale}: run `python -m linter.grammars`"


@HERE
def test_classes_get_the_methods_dataclasses_compiles_itself():
    stored, compiled_at_run_time = _methods("stored")
    fresh, _ = _methods("compiled-now")
    assert compiled_at_run_time == 0  # every method came from the file
    # The modules define about 40 dataclasses (walk.Step became a NamedTuple): the test saw them.
    assert set(stored) == set(fresh) and len(stored) >= 30
    assert "linter.model.Rule" in stored and "__init__" in stored["linter.model.Rule"]
    for name, methods in fresh.items():
        assert set(stored[name]) == set(methods), name
        for method, code in methods.items():
            assert stored[name][method] == code, f"{name}.{method}"


@HERE
def test_stored_code_is_what_compiling_its_text_gives():
    with open(dataclass_code.data_path(), "rb") as handle:
        magic, chunks = marshal.loads(handle.read())
    assert magic == importlib.util.MAGIC_NUMBER  # made by this interpreter's bytecode version
    assert "linter.model" in chunks
    for chunk in chunks.values():
        for text, code in marshal.loads(chunk).items():
            assert code == compile(text, "<string>", "exec", dont_inherit=True)


@HERE
def test_a_check_run_compiles_no_dataclass_text():
    code = ("import os, sys; from linter import launch, dataclass_code; sys.argv = ['portlint', 'check', "
            f"{str(ROOT / 'samples' / 'hardened.rules')!r}]; "
            "launch.leave = lambda status: (print(len(dataclass_code.compiled_at_run_time), file=sys.stderr), "
            "sys.stderr.flush(), os._exit(status or 0)); launch.run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "PL101" in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "0"


def test_a_file_of_another_bytecode_version_is_not_read(monkeypatch, tmp_path):
    path = tmp_path / "code.marshal"
    path.write_bytes(marshal.dumps((b"\x00\x00\r\n", {"linter.model": marshal.dumps({})})))
    monkeypatch.setattr(dataclass_code, "data_path", lambda: str(path))
    assert dataclass_code._read() is None
    path.write_bytes(b"not marshal data")
    assert dataclass_code._read() is None


def test_a_damaged_module_entry_compiles_its_texts(monkeypatch):
    monkeypatch.setattr(dataclass_code, "compiled_at_run_time", set())
    monkeypatch.setitem(dataclass_code._chunks, "linter.damaged", b"\xe3 not marshal")
    namespace = {"__name__": "linter.damaged"}
    dataclass_code._exec_stored("x = 1\n", namespace, namespace)
    assert namespace["x"] == 1
    assert dataclass_code.compiled_at_run_time == {("linter.damaged", "x = 1\n")}
    dataclass_code._codes.pop("linter.damaged", None)


def test_install_leaves_an_exec_someone_else_gave_dataclasses(monkeypatch):
    monkeypatch.setattr(dataclasses, "exec", print, raising=False)
    assert dataclass_code.install() is False
    assert dataclasses.exec is print


def test_a_text_without_stored_code_compiles_as_before(monkeypatch):
    monkeypatch.setattr(dataclass_code, "compiled_at_run_time", set())
    namespace = {"__name__": "linter.not_a_module"}
    dataclass_code._exec_stored("def f():\n return 42\n", namespace, namespace)
    assert namespace["f"]() == 42
    assert dataclass_code.compiled_at_run_time == {("linter.not_a_module", "def f():\n return 42\n")}
