"""Mutable builders for tables, chains, sets and rules while the loader reads commands."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from lark import Tree

from linter.frontends.nftables import element_runs
from linter.frontends.nftables.atoms import render
from linter.frontends.nftables.keywords import FAMILIES
from linter.model import Family, Hook, Policy, Span
from linter.source import SourceFile


# --- Builders (mutable state while reading) ----------------------------------------


class Elem:
    """One element of a set or map: its key atoms, the atoms after ':' (maps), and its text
    (rendered when first asked for: only named sets show theirs)."""

    __slots__ = ("key", "data", "atoms")

    def __init__(self, key: list, data: list | None, atoms: list):
        self.key = key
        self.data = data
        self.atoms = atoms

    @property
    def text(self) -> str:
        atoms = self.atoms
        if len(atoms) == 1 and atoms[0].type != "GROUP":
            return atoms[0].value
        return render(atoms)


@dataclass
class SetB:
    name: str
    kind: str  # set or map
    span: Span
    type: str = ""
    flags: tuple[str, ...] = ()
    elements: list[Elem] = field(default_factory=list)


class RuleB:
    """A rule as read: its atoms, or the LINERUN token they are cut from when the model is built.

    A line of a LINERUNS token is given as ``run=(start, line, column)``, its place in the
    file: its token is made only when asked for (``run``), most such lines never need it
    (line_plans.py models them from their text)."""

    __slots__ = ("_atoms", "_run", "span", "text", "handle", "source")

    def __init__(self, atoms: list | None, span: Span, text: str, handle: int, source: SourceFile, run=None):
        self._atoms = atoms
        self._run = run
        self.span = span
        self.text = text
        self.handle = handle
        self.source = source

    @property
    def is_line(self) -> bool:
        """Whether the rule is a whole plain line (a LINERUN token's, made or to be made)."""
        return self._run is not None

    @property
    def run(self):
        """The rule's LINERUN token, or None when it was read from the grammar's atoms."""
        run = self._run
        if type(run) is tuple:
            run = self._run = element_runs.line_token(self.text, *run)
        return run

    @property
    def atoms(self) -> list:
        return self._atoms if self._atoms is not None else element_runs.atoms(self.run)


@dataclass
class ChainB:
    name: str
    span: Span
    handle: int
    hook: Hook | None = None
    type: str | None = None
    priority: int | None = None
    policy: Policy | None = None
    device: str | None = None
    rules: list[RuleB] = field(default_factory=list)


@dataclass
class TableB:
    name: str
    family_word: str
    span: Span
    chains: dict[str, ChainB] = field(default_factory=dict)
    sets: dict[str, SetB] = field(default_factory=dict)
    next_handle: int = 1
    bindings: int = 0

    @property
    def family(self) -> Family:
        return FAMILIES[self.family_word]

    def handle(self) -> int:
        value = self.next_handle
        self.next_handle += 1
        return value


def span_of(path: str, first, last=None) -> Span:
    """A Span from a token, Group or tree meta (``last`` gives the end)."""
    last = last if last is not None else first
    if isinstance(first, Tree):
        first = first.meta
    if isinstance(last, Tree):
        last = last.meta
    line = getattr(first, "line", None) or 1
    column = getattr(first, "column", None) or 1
    end_line = getattr(last, "end_line", None)
    end_column = getattr(last, "end_column", None)
    if end_line is None or end_column is None:
        return Span(path, line, column)
    return Span(path, line, column, end_line, max(end_column - 1, 1))


HANDLE_COMMENT = re.compile(r"#\s*handle\s+(\d+)")


def statement_end(text: str, pos: int) -> int:
    """Where the statement that starts at ``pos`` ends: a newline or ``;`` outside braces,
    or just before a ``}`` that closes the enclosing block."""
    depth = 0
    n = len(text)
    while pos < n:
        char = text[pos]
        if char == '"':
            close = text.find('"', pos + 1)
            newline = text.find("\n", pos + 1)
            if close == -1 or (newline != -1 and newline < close):
                pos = newline if newline != -1 else n
                continue
            pos = close
        elif char == "#":
            newline = text.find("\n", pos)
            pos = newline if newline != -1 else n
            continue
        elif char == "\\" and text.startswith("\n", pos + 1):
            pos += 2
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        elif (char == "\n" or char == ";") and depth == 0:
            return pos
        pos += 1
    return n


LIST_HELPERS = ("__start_star", "__table_content_star", "__lines_star")
TOKEN_NAMES = {
    "WORD": "a name", "NUM": "a number", "STRING": "a string", "NL": "end of line", "SEMI": "';'",
    "LBRACE": "'{'", "RBRACE": "'}'", "$END": "end of file", "VAR": "a $variable", "IPV4": "an address",
    "COLONADDR": "an address", "SETREF": "an @set", "OP": "an operator", "EQUAL": "'='",
    # the runs of element_runs.py: a name is expected wherever they are
    "ELEMS": "a name", "LINERUN": "a name",
}


def glob_directory(path: str) -> str:
    """The directory a glob pattern lists: its components before the first one with a wildcard."""
    parts = path.split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    return os.sep.join(fixed) or (os.sep if path.startswith(os.sep) else ".")


def describe(token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "NL":
        return "end of line"
    return repr(str(token.value))
