"""Locating data files (grammars/, rules/) and building Lark parsers once per process.

In a checkout the data lives at the project root; in an installed wheel it is
packaged under ``linter/_data`` (see pyproject.toml's force-include).

Building a Lark LALR parser from a grammar costs 0.1-0.3 s (the LALR tables, and the
terminal collision check when ``interegular`` is installed): more than a whole
pre-commit run may take. The parsers the front ends use are therefore compiled ahead
of time into ``grammars/compiled/<grammar>.pickle`` by ``python -m linter.grammars``:
Lark's own serialised form of the parser (plain dicts, lists, strings and numbers)
under a key made of the grammar's text, the start symbols, the options and Lark's
version. Loading one takes a few milliseconds. A key that does not match (the grammar
was edited, another Lark version) falls back to building from the grammar, so a
stale file costs time, never correctness; ``tests/test_grammars.py`` fails when a
compiled file is stale. Nothing is ever written at run time.
"""

from __future__ import annotations

import functools
import io
import sys
from pathlib import Path

try:
    # The interpreter's own SHA-256 (the same digests): hashlib loads OpenSSL, ~11 M instructions
    # at start-up, to hash the ~200 KB of rule data and grammar a run checks its compiled files by.
    from _sha256 import sha256
except ImportError:  # an interpreter without it
    from hashlib import sha256
try:
    # Rule data is checked by BLAKE2b: the interpreter's SHA-256 takes ~48 instructions a byte, ~10 M
    # of a small file's run for the ~200 KB of rule files it reads; BLAKE2b a third of that.
    from _blake2 import blake2b
except ImportError:
    from hashlib import blake2b

# The digest a compiled.json entry carries of its YAML file's bytes, under this key.
DATA_DIGEST = "blake2b"


def data_digest(raw: bytes) -> str:
    """The digest of a rule data file's bytes that compiled.json keeps (``DATA_DIGEST``)."""
    return blake2b(raw).hexdigest()

_PACKAGE_DIR = Path(__file__).resolve().parent

# The parsers the front ends ask for: (grammar, start symbols). `python -m linter.grammars`
# compiles exactly these; any other call to load_parser builds from the grammar.
COMPILED: tuple[tuple[str, str | tuple[str, ...]], ...] = (
    ("iptables", "start"),
    ("nftables", ("start", "table_content", "lines")),
    ("compose_ports", "start"),
    ("compose_ports", "expose"),
)

# Keys of the parsers this process built from a grammar rather than loaded compiled (tests read it).
built_from_source: list[tuple[str, object, tuple]] = []


@functools.lru_cache(maxsize=None)
def data_dir(name: str) -> Path:
    """The directory of packaged data ``name`` ("grammars" or "rules"); looked up once (every
    rule file's read asks)."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


def read_yaml(path: Path):
    """The data of a YAML file shipped with portlint (rules, the port registry).

    Taken from rules/compiled.json when that holds this file's data for its current
    content (no YAML parser is even imported then), else parsed with libyaml's safe
    loader when PyYAML has it (eight times faster than the pure-Python one). The data
    from compiled.json is shared: callers must not change it.
    """
    raw = path.read_bytes()
    name = _data_name(path)
    found = _compiled_data().get(name) if name else None
    if isinstance(found, dict) and found.get(DATA_DIGEST) == data_digest(raw):
        return found.get("data")
    return _parse_yaml(raw.decode("utf-8"))


def _data_name(path: Path) -> str | None:
    """``path`` relative to rules/ (its key in compiled.json), or None outside rules/. Read from
    the path as written when it is one (callers name data_dir("rules") / ...): resolving every
    rule file's path cost a dozen system calls each at start-up. The digest, not the name,
    decides whether an entry stands for the file."""
    rules = data_dir("rules")
    try:
        return path.relative_to(rules).as_posix()
    except ValueError:
        pass
    try:
        return path.resolve().relative_to(rules.resolve()).as_posix()
    except ValueError:
        return None


def _parse_yaml(text: str):
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def compiled_data_path() -> Path:
    return data_dir("rules") / "compiled.json"


@functools.lru_cache(maxsize=1)
def _compiled_data() -> dict:
    import json

    try:
        found = json.loads(compiled_data_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _data_files() -> list[Path]:
    return sorted(path for path in data_dir("rules").rglob("*.yaml"))


def compile_data(out=sys.stdout) -> Path:
    """Write rules/compiled.json: every YAML file under rules/ as JSON, with the digest of its text."""
    import json

    rules = data_dir("rules")
    entries = {}
    for path in _data_files():
        raw = path.read_bytes()
        data = _parse_yaml(raw.decode("utf-8"))
        if json.loads(json.dumps(data)) != data:  # not plain JSON data (a date, a number key): read as YAML
            continue
        entries[path.relative_to(rules).as_posix()] = {DATA_DIGEST: data_digest(raw), "data": data}
    lines = [f"{json.dumps(name)}:{json.dumps(entry, ensure_ascii=False, separators=(',', ':'))}"
             for name, entry in sorted(entries.items())]
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    path = compiled_data_path()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        print(f"{path} is up to date", file=out)
    else:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(entries)} files)", file=out)
    return path


def stale_data() -> list[str]:
    """The YAML files under rules/ whose compiled data is missing or out of date."""
    rules = data_dir("rules")
    compiled = _compiled_data()
    stale = []
    for path in _data_files():
        entry = compiled.get(path.relative_to(rules).as_posix())
        if not isinstance(entry, dict) or entry.get(DATA_DIGEST) != data_digest(path.read_bytes()):
            stale.append(path.relative_to(rules).as_posix())
    return stale


def _options(start, options: dict) -> dict:
    return dict(
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        start=list(start) if isinstance(start, tuple) else start,
        **options,
    )


def _source_key(text: str, options: dict) -> str:
    """A digest of what a parser is built from: the grammar's text and the options."""
    digest = sha256()
    for part in (text, repr(sorted(options.items()))):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def _key(text: str, options: dict) -> str:
    """What a compiled parser must have been built from to stand in for this call (Lark's version too)."""
    import lark

    return sha256(f"{_source_key(text, options)} lark {lark.__version__}".encode()).hexdigest()


def compiled_path(grammar: str) -> Path:
    return data_dir("grammars") / "compiled" / f"{grammar}.pickle"


def _plain_data(stream):
    """An unpickler of ``stream`` for dicts, lists, tuples, strings and numbers only: no class is
    ever looked up. (pickle is imported here, when a grammar is: rule data needs none of it.)"""
    import pickle

    class PlainData(pickle.Unpickler):
        def find_class(self, module, name):
            raise pickle.UnpicklingError(f"compiled grammar refers to {module}.{name}")

    return PlainData(stream)


@functools.lru_cache(maxsize=None)
def _compiled(grammar: str) -> dict:
    """The compiled parsers of ``grammar`` by key ({} when there is no usable file)."""
    import pickle

    try:
        with open(compiled_path(grammar), "rb") as handle:
            found = _plain_data(handle).load()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError):
        return {}
    return found if isinstance(found, dict) else {}


@functools.lru_cache(maxsize=None)
def load_parser(grammar: str, start: str | tuple[str, ...] = "start", **options):
    """A Lark LALR parser (contextual lexer, positions on) for grammars/<grammar>.lark, cached.

    ``start`` is one start symbol or a tuple of them (a tuple, not a list, so the call
    can be cached); with several, each ``parse`` call names the one it wants. Lark's own
    ``cache`` option is refused: it is part of the key, so the compiled parser would never be
    used, and it writes a file at run time.
    """
    if "cache" in options:
        raise ValueError("load_parser builds from grammars/compiled, not Lark's cache: drop cache=")
    from lark import Lark

    text = (data_dir("grammars") / f"{grammar}.lark").read_text(encoding="utf-8")
    settings = _options(start, options)
    compiled = _compiled(grammar).get(_key(text, settings))
    if compiled is not None:
        try:
            return Lark.load({"data": compiled["data"], "memo": compiled["memo"]})
        except Exception:  # a damaged file: build from the grammar instead
            pass
    built_from_source.append((grammar, start, tuple(sorted(options.items()))))
    return Lark(text, **settings)


def terminals_path(grammar: str) -> Path:
    return data_dir("grammars") / "compiled" / f"{grammar}.terminals.json"


@functools.lru_cache(maxsize=None)
def terminal_patterns(grammar: str, start: str | tuple[str, ...] = "start") -> dict[str, str]:
    """Each terminal's regular expression (as Lark's ``TerminalDef.pattern.to_regexp()``), by name.

    Read from grammars/compiled/<grammar>.terminals.json when that holds them for this
    grammar's text (a small file: unpickling the compiled parser, and importing pickle, was
    ~9 M instructions of a small file's run), else from the compiled parser without
    importing Lark when that is up to date (a file whose every line takes a front end's fast
    path never needs Lark at all), else from the parser ``load_parser`` builds.
    """
    text = (data_dir("grammars") / f"{grammar}.lark").read_text(encoding="utf-8")
    source = _source_key(text, _options(start, {}))
    stored = _stored_terminals(grammar).get(source)
    if isinstance(stored, dict) and all(isinstance(v, str) for v in stored.values()):
        return dict(stored)
    return _compiled_terminals(grammar, start, source)


@functools.lru_cache(maxsize=None)
def _stored_terminals(grammar: str) -> dict:
    """<grammar>.terminals.json: terminal patterns by the source key they were read for ({} when
    there is no usable file)."""
    import json

    try:
        found = json.loads(terminals_path(grammar).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _compiled_terminals(grammar: str, start, source: str) -> dict[str, str]:
    """terminal_patterns read from the compiled parser, or from the parser built."""
    import re

    patterns: dict[str, str] = {}
    try:
        # The terminals depend on the grammar alone: any Lark version's compiled parser will do.
        compiled = next(c for c in _compiled(grammar).values() if c["source"] == source)
        for entry in compiled["memo"].values():
            if entry.get("__type__") != "TerminalDef":
                continue
            pattern = entry["pattern"]
            if pattern["flags"]:
                raise ValueError("flags")
            kind = pattern["__type__"]
            if kind not in ("PatternStr", "PatternRE"):
                raise ValueError(kind)
            value = pattern["value"]
            patterns[entry["name"]] = re.escape(value) if kind == "PatternStr" else value
        return patterns
    except (StopIteration, TypeError, KeyError, AttributeError, ValueError):
        return {t.name: t.pattern.to_regexp() for t in load_parser(grammar, start).terminals}


def write_terminals(out=sys.stdout) -> list[Path]:
    """Write grammars/compiled/<grammar>.terminals.json for the parsers in COMPILED (after
    compile_grammars); the paths written or up to date."""
    import json

    by_grammar: dict[str, dict] = {}
    for grammar, start in COMPILED:
        text = (data_dir("grammars") / f"{grammar}.lark").read_text(encoding="utf-8")
        source = _source_key(text, _options(start, {}))
        by_grammar.setdefault(grammar, {})[source] = _compiled_terminals(grammar, start, source)
    paths = []
    for grammar, entries in by_grammar.items():
        path = terminals_path(grammar)
        content = json.dumps(dict(sorted(entries.items())), indent=1) + "\n"  # each grammar's terminals in its order
        if path.exists() and path.read_text(encoding="utf-8") == content:
            print(f"{path} is up to date", file=out)
        else:
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path}", file=out)
        paths.append(path)
    return paths


def compile_grammars(out=sys.stdout, force: bool = False) -> list[Path]:
    """Write grammars/compiled/*.pickle for the parsers in COMPILED; the paths written.

    A grammar whose compiled file is up to date is left alone (Lark's tables come out in
    a different order from one run to the next, so rewriting would only churn the file).
    """
    import pickle

    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    by_grammar: dict[str, dict] = {}
    for grammar, start in COMPILED:
        text = (data_dir("grammars") / f"{grammar}.lark").read_text(encoding="utf-8")
        settings = _options(start, {})
        data, memo = Lark(text, **settings).memo_serialize([TerminalDef, Rule])
        by_grammar.setdefault(grammar, {})[_key(text, settings)] = {
            "data": data, "memo": memo, "source": _source_key(text, settings)}
    written = []
    for grammar, parsers in by_grammar.items():
        if not force and set(parsers) == set(_compiled(grammar)):
            print(f"{compiled_path(grammar)} is up to date", file=out)
            continue
        path = compiled_path(grammar)
        path.parent.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        pickle.dump(parsers, buffer, protocol=4)
        _plain_data(io.BytesIO(buffer.getvalue())).load()  # refuses anything but plain data
        path.write_bytes(buffer.getvalue())
        written.append(path)
        print(f"wrote {path} ({len(parsers)} parser{'s' if len(parsers) != 1 else ''})", file=out)
    return written


def stale_grammars() -> list[tuple[str, object]]:
    """The entries of COMPILED whose compiled parser is missing or out of date."""
    stale = []
    for grammar, start in COMPILED:
        text = (data_dir("grammars") / f"{grammar}.lark").read_text(encoding="utf-8")
        if _key(text, _options(start, {})) not in _compiled(grammar):
            stale.append((grammar, start))
    return stale


def sync_rule_examples(out=sys.stdout) -> None:
    """Write each rule's documentation example from its case file (tests/cases), when the tests
    are there: the example `portlint rule CODE` prints is then one the tests run."""
    from linter.rule_cases import CASES_DIR, sync_examples

    if CASES_DIR.is_dir():
        sync_examples(data_dir("rules"), out=out)


if __name__ == "__main__":
    from linter import regex_code
    from linter.dataclass_code import compile_all

    compile_grammars(force="--force" in sys.argv[1:])
    write_terminals()
    sync_rule_examples()
    compile_data()
    compile_all()
    regex_code.compile_all()  # last: its recording run reads the compiled grammars and rule data
