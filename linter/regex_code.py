"""Regular expressions compiled ahead of time, so that start-up does not compile them.

``re`` turns a pattern into the code its matcher runs each time a process first asks for it:
parsing and compiling the ~150 patterns a `portlint check` defines (its own, and those of
click and the standard modules it imports) took 13 of the 100 ms a small file's run spends in
Python. ``python -m linter.grammars`` records every pattern a run compiles, in a fresh
interpreter that imports every module of the package and checks the sample files, and stores
what ``re._compiler.compile`` makes of each (the arguments it hands to ``_sre.compile``) in
``linter/regex_code.<cache tag>.marshal`` (``compile_all``). When that file was made by this
very interpreter (its version and its matcher's), ``install()`` (called by
``linter/__init__.py``) makes ``re._compiler.compile`` build a stored pattern from its stored
code, which is what compiling it gives, value for value (tests/test_regex_code.py checks
it), and compile any other pattern as before. A missing or stale file costs time, never
behaviour; nothing is written at run time.
"""

from __future__ import annotations

import _sre
import marshal
import os
import sys
from re import _compiler

from linter.stored_code import read_stored, stored_path

# What compiling depends on besides the pattern: the interpreter and its matcher's code format.
# (and the file's own layout: 1, each pattern's arguments marshalled apart)
_HEADER = (1, sys.version, _sre.MAGIC, _sre.CODESIZE)

# Patterns compiled the usual way since install() (none stored for them), by (pattern, flags):
# tests read it; a set bounded by the patterns of the program.
compiled_at_run_time: set[tuple] = set()

_stored: dict[tuple, bytes] = {}  # (pattern, flags) -> the arguments of _sre.compile after the pattern, marshalled
_original = _compiler.compile

_RECORDER = """
import marshal, sys, warnings
from re import _compiler
found = {}
original = _compiler.compile
def record(p, flags=0):
    if type(p) in (str, bytes) and type(flags) is int:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            original(p, flags)  # a pattern that warns is left to compile (and warn) at run time
        if not said:
            found[(p, flags)] = None
    return original(p, flags)
_compiler.compile = record  # (install() leaves a compile it did not find in re._compiler alone)
import importlib, pkgutil
import linter
for module in pkgutil.walk_packages(linter.__path__, "linter."):
    if module.name != "linter.__main__":
        importlib.import_module(module.name)
from linter.cli import main
for options in (["--isolated", "--format", "text"], ["--isolated", "--format", "json"], []):  # [] reads a config
    try:
        main(["check", "--jobs", "1", *options, sys.argv[1]], standalone_mode=True)
    except SystemExit:
        pass
with open(sys.argv[2], "wb") as out:
    out.write(marshal.dumps(sorted(found, key=lambda item: (type(item[0]).__name__, item))))
"""


def data_path() -> str:
    """The compiled file for this interpreter (CPython 3.11: ``regex_code.cpython-311.marshal``)."""
    return stored_path("regex_code")


def _read() -> dict | None:
    """The stored {(pattern, flags): marshalled arguments}, or None when there is no file for this
    interpreter."""
    return read_stored(data_path(), _HEADER)


def install() -> bool:
    """Serve ``re`` the stored code of the patterns it compiles; False when there is none to serve
    or when something else already replaced ``re._compiler.compile``."""
    if _compiler.compile is not _original or getattr(_original, "__module__", None) != "re._compiler":
        return False
    stored = _read()
    if not stored:
        return False
    _stored.update(stored)
    _compiler.compile = _compile_stored
    return True


def _compile_stored(p, flags=0):
    """``re._compiler.compile`` as ``re`` calls it, from the stored code of ``p`` when there is one."""
    if type(flags) is int:
        found = _stored.get((p, flags)) if type(p) in (str, bytes) else None
        if found is not None:
            try:
                final_flags, code, groups, groupindex, indexgroup = marshal.loads(found)
            except (EOFError, ValueError, TypeError):
                pass  # a damaged entry: compiled as usual
            else:
                # (_sre.compile copies the code; the group index is the pattern's own, as compiling makes it)
                return _sre.compile(p, final_flags, code, groups, dict(groupindex), indexgroup)
        if type(p) in (str, bytes) and not flags & _compiler.SRE_FLAG_DEBUG:
            compiled_at_run_time.add((p, flags))
    return _original(p, flags)


def compiled_arguments(pattern, flags: int) -> tuple:
    """What ``re._compiler.compile(pattern, flags)`` hands to ``_sre.compile`` after the pattern:
    its own steps, written out (the final flags, the code, the groups, both group maps)."""
    parsed = _compiler._parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    # (the opcodes are named int constants: _sre.compile reads each as the int it is)
    return int(flags | parsed.state.flags), [int(word) for word in code], parsed.state.groups - 1, groupindex, \
        tuple(indexgroup)


def recorded_patterns() -> list[tuple]:
    """Every (pattern, flags) a fresh interpreter compiles importing every module of the package
    and checking samples/ (those that warn left out)."""
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))}
    with tempfile.TemporaryDirectory() as temporary:
        found = os.path.join(temporary, "patterns.marshal")
        subprocess.run([sys.executable, "-c", _RECORDER, os.path.join(root, "samples"), found], capture_output=True,
                       env=env, cwd=root, check=True)
        with open(found, "rb") as handle:
            return marshal.loads(handle.read())


def compiled_bytes(patterns: list[tuple]) -> bytes:
    """The file's content for ``patterns``: the header and each pattern's arguments."""
    # Each pattern's arguments marshalled apart: read when the pattern is compiled, not at start-up.
    return marshal.dumps((_HEADER, {(p, flags): marshal.dumps(compiled_arguments(p, flags)) for p, flags in patterns}))


def _stored_arguments() -> dict:
    """The file's {(pattern, flags): arguments}, each unmarshalled ({} without a file)."""
    return {key: marshal.loads(found) for key, found in (_read() or {}).items()}


def stale_patterns() -> list[tuple]:
    """Recorded patterns the file lacks or holds wrongly, and stored ones no longer recorded."""
    stored = _stored_arguments()
    recorded = recorded_patterns()
    wrong = [key for key in recorded if stored.get(key) != compiled_arguments(*key)]
    return wrong + [key for key in stored if key not in set(recorded)]


def compile_all(out=sys.stdout) -> str:
    """Write this interpreter's compiled file when it is out of date; its path."""
    path = data_path()
    patterns = recorded_patterns()
    stored = _stored_arguments()
    if set(stored) == set(patterns) and all(stored[key] == compiled_arguments(*key) for key in patterns):
        print(f"{path} is up to date", file=out)
    else:
        content = compiled_bytes(patterns)
        with open(path, "wb") as handle:
            handle.write(content)
        print(f"wrote {path} ({len(content):,} bytes)", file=out)
    return path
