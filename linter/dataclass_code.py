"""Dataclass methods compiled ahead of time, so that start-up does not compile them.

``dataclasses.dataclass`` writes each class's ``__init__``, ``__repr__``, ``__eq__``, ``__hash__``
(and a frozen class's ``__setattr__`` and ``__delattr__``) as source text and compiles it when
the class is defined: about 0.4 ms a class, so the ~65 dataclasses `portlint check` defines
cost a quarter of a run on a small file. ``python -m linter.grammars`` compiles the text of every
dataclass in the package once, with the interpreter it runs under, into
``linter/dataclass_code.<cache tag>.marshal`` (``compile_all``). When that file was made by this
interpreter's bytecode version, ``install()`` (called by ``linter/__init__.py``) gives the
``dataclasses`` module an ``exec`` that runs the stored code of a text it knows, which is what
compiling the text gives, byte for byte (tests/test_dataclass_code.py checks it), and compiles
any other text as before. A missing or stale file costs time, never behaviour; nothing is
written at run time.
"""

from __future__ import annotations

import builtins
import dataclasses
import marshal
import os
import sys

from linter.stored_code import read_stored, stored_path

# (module, text) of linter's dataclasses that had no stored code this run (tests read it; empty
# when the file is up to date).
compiled_at_run_time: set[tuple[str, str]] = set()

_chunks: dict[str, bytes] = {}  # module name -> the marshalled {text: code} of its dataclasses
_codes: dict[str, dict] = {}  # the same, unmarshalled when the module's first dataclass is made

_RECORDER = """
import builtins, dataclasses, importlib, marshal, pkgutil, sys
texts = {}
def record(source, globals=None, locals=None, /):
    if type(source) is str and globals is not None:
        texts.setdefault(globals.get("__name__"), set()).add(source)
    return builtins.exec(source, globals, locals)
dataclasses.exec = record
import linter
for module in pkgutil.walk_packages(linter.__path__, "linter."):
    if module.name != "linter.__main__":
        importlib.import_module(module.name)
sys.stdout.buffer.write(marshal.dumps({name: sorted(found) for name, found in texts.items()
                                       if isinstance(name, str) and name.startswith("linter")}))
"""


def data_path() -> str:
    """The compiled file for this interpreter (CPython 3.11: ``dataclass_code.cpython-311.marshal``)."""
    return stored_path("dataclass_code")


def _magic() -> bytes:
    from importlib.util import MAGIC_NUMBER

    return MAGIC_NUMBER


def _read() -> dict[str, bytes] | None:
    """The stored chunks by module, or None when there is no file for this bytecode version."""
    return read_stored(data_path(), _magic())


def install() -> bool:
    """Serve dataclasses the stored code of the texts it compiles; False when there is none to
    serve, under ``python -O`` (stored at level 0), or when something else already replaced
    ``dataclasses.exec``."""
    if "exec" in vars(dataclasses) or sys.flags.optimize:
        return False
    chunks = _read()
    if not chunks:
        return False
    _chunks.update(chunks)
    dataclasses.exec = _exec_stored
    return True


def _exec_stored(source, globals=None, locals=None, /):
    """``exec`` as dataclasses calls it, with the stored code of ``source`` when there is one."""
    if type(source) is str and globals is not None:
        module = globals.get("__name__")
        codes = _codes.get(module)
        if codes is None and module in _chunks:
            codes = _codes[module] = _unmarshal(_chunks.pop(module, None))
        code = codes.get(source) if codes is not None else None
        if code is not None:
            return builtins.exec(code, globals, locals)
        if isinstance(module, str) and module.startswith("linter"):
            compiled_at_run_time.add((module, source))
    return builtins.exec(source, globals, locals)


def _unmarshal(chunk: bytes | None) -> dict:
    """A module's {text: code}; {} for a chunk another thread took or a damaged one (its texts compile)."""
    try:
        codes = marshal.loads(chunk) if chunk is not None else {}
    except (EOFError, ValueError, TypeError):
        return {}
    return codes if isinstance(codes, dict) else {}


def compile_text(text: str):
    """What ``exec(text)`` in dataclasses compiles: no future features of the caller inherited."""
    return compile(text, "<string>", "exec", dont_inherit=True)


def package_texts() -> dict[str, list[str]]:
    """Every dataclass text of the package by module, recorded in a fresh interpreter that imports
    every module (a class defined inside a function is not there: it compiles as before)."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    done = subprocess.run([sys.executable, "-c", _RECORDER], capture_output=True, env=env, cwd=root, check=True)
    return marshal.loads(done.stdout)


def compiled_bytes(texts: dict[str, list[str]]) -> bytes:
    """The file's content for ``texts``: the bytecode version and, per module, its marshalled codes."""
    chunks = {module: marshal.dumps({text: compile_text(text) for text in found})
              for module, found in sorted(texts.items())}
    return marshal.dumps((_magic(), chunks))


def _stored_codes(chunks: dict[str, bytes]) -> dict[str, dict]:
    return {module: marshal.loads(chunk) for module, chunk in chunks.items()}


def _differs(stored: dict[str, dict], texts: dict[str, list[str]]) -> list[str]:
    """Modules whose stored codes are not exactly what their texts compile to (code objects compare
    by value; marshal's bytes may differ from one run to the next for the same code)."""
    wrong = [module for module, found in texts.items()
             if set(stored.get(module, ())) != set(found)
             or any(stored[module][text] != compile_text(text) for text in found)]
    return sorted(wrong + [module for module in stored if module not in texts])


def stale_modules() -> list[str]:
    """Modules whose dataclass texts the file lacks or holds wrongly (none when up to date)."""
    return _differs(_stored_codes(_read() or {}), package_texts())


def compile_all(out=sys.stdout) -> str:
    """Write this interpreter's compiled file when it is out of date; its path."""
    path = data_path()
    texts = package_texts()
    if not _differs(_stored_codes(_read() or {}), texts):
        print(f"{path} is up to date", file=out)
    else:
        content = compiled_bytes(texts)
        with open(path, "wb") as handle:
            handle.write(content)
        print(f"wrote {path} ({len(content):,} bytes)", file=out)
    return path
