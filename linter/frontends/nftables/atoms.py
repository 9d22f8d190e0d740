"""The atoms a rule line is kept as (words, operators, groups) and the values and terms read from them."""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token, Tree

from linter.budgets import MAX_NESTING
from linter.frontends.nftables import element_runs
from linter.model import VerdictKind


# --- Atoms -----------------------------------------------------------------------


class Group:
    """A ``{ ... }`` group of atoms (NL and SEMI tokens kept for chain bindings).

    A group read as one ELEMS token keeps it as ``run`` and cuts it into atoms only when
    ``items`` is first asked for: a set's elements are read from the run directly
    (``element_runs.elements``) without the 200,000 comma and newline tokens between them.
    """

    __slots__ = ("_items", "run", "start_pos", "end_pos", "line", "column", "end_line", "end_column")
    type = "GROUP"
    value = "{"

    def __init__(self, items, start_pos, end_pos, line, column, end_line, end_column, run=None):
        self._items = items
        self.run = run
        self.start_pos = start_pos
        self.end_pos = end_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    @property
    def items(self) -> list:
        if self._items is None:
            self._items = element_runs.atoms(self.run)
        return self._items


class GroupTooDeep(Exception):
    """Braces nested deeper than MAX_NESTING: the statement holding them is skipped (one PL010)."""

    def __init__(self, meta):
        super().__init__()
        self.meta = meta


def group_of(tree: Tree, depth: int = 1) -> Group:
    if depth > MAX_NESTING:
        raise GroupTooDeep(tree.meta)
    children = tree.children
    meta = tree.meta
    if len(children) == 1 and isinstance(children[0], Token) and children[0].type == "ELEMS":
        return Group(None, meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column,
                     run=children[0])
    items = [group_of(child, depth + 1) if isinstance(child, Tree) else child for child in children]
    return Group(items, meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def measure(atoms, limit: int) -> tuple[int, int]:
    """How many atoms ``atoms`` holds, groups' contents included, and how deep its groups nest;
    counting stops once past ``limit`` atoms (without recursion: a define can be any size)."""
    count = depth = 0
    stack = [(atoms, 1)]
    while stack:
        items, level = stack.pop()
        for item in items:
            count += 1
            if count > limit:
                return count, depth
            if isinstance(item, Group):
                depth = max(depth, level)
                stack.append((item.items, level + 1))
    return count, depth


def borrow(atom, at):
    """A copy of ``atom`` (from a define) placed at the position of the ``$var`` token ``at``."""
    if isinstance(atom, Group):
        return Group([borrow(item, at) for item in atom.items], at.start_pos, at.end_pos, at.line,
                     at.column, at.end_line, at.end_column)
    return Token.new_borrow_pos(atom.type, atom.value, at)


def render(atoms) -> str:
    """Atoms as text from their values (a define's values show, not ``$name``)."""
    out: list[str] = []
    glue = False
    for atom in atoms:
        if isinstance(atom, Group):
            text = "{ " + ", ".join(render(el) for el in split_commas(atom.items)) + " }"
        else:
            text = atom.value
        tight = atom.type == "OP" and text in ("/", "-", "[", "]", "(", ")")
        if out and not glue and not tight:
            out.append(" ")
        out.append(text)
        glue = tight and text not in (")", "]")
    return "".join(out)


def split_commas(items) -> list[list]:
    """The elements of a group: atoms between top-level commas (newlines dropped)."""
    elements: list[list] = []
    current: list = []
    for item in items:
        kind = item.type
        if kind == "NL" or kind == "SEMI":
            continue
        if kind == "OP" and item.value == ",":
            if current:
                elements.append(current)
            current = []
            continue
        current.append(item)
    if current:
        elements.append(current)
    return elements


def split_lines(items) -> list[list]:
    """The statements of a chain binding ``{ rule; rule }``."""
    lines: list[list] = []
    current: list = []
    for item in items:
        if item.type in ("NL", "SEMI"):
            if current:
                lines.append(current)
            current = []
        else:
            current.append(item)
    if current:
        lines.append(current)
    return lines


def word_of(atom) -> str | None:
    return atom.value if atom is not None and atom.type == "WORD" else None


def is_op(atom, *ops) -> bool:
    return atom is not None and atom.type == "OP" and atom.value in ops


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


# --- Values and terms ------------------------------------------------------------


class Val:
    """An rhs expression: kind is tok, group, ref, range, prefix, concat, list, binop, paren, neg."""

    __slots__ = ("kind", "a", "b", "first", "last")

    def __init__(self, kind, a, b=None, first=None, last=None):
        self.kind = kind
        self.a = a
        self.b = b
        self.first = first
        self.last = last

    def atoms(self, out=None):
        return out


@dataclass
class Sel:
    """An lhs selector: its parts (concatenation) as word tuples; masked when it has a binop."""

    parts: list[tuple[str, ...]]
    first: object
    last: object
    masked: bool = False
    ops: list = field(default_factory=list)  # (operator, value or None for a selector) of each binop


@dataclass
class Term:
    kind: str  # match, vmap, opaque, stmt, verdict, nat, comment
    first: object
    last: object
    sel: Sel | None = None
    op: str = ""
    value: Val | None = None
    module: str = ""
    verdict: object = None
    matchlike: bool = False
    nat: tuple | None = None  # (kind, addresses Val, ports Val, options, map (Sel, Val) or None)
    explicit: bool = False  # the relational operator was written (`tcp flags == syn`, not `tcp flags syn`)
    over: bool | None = None  # a limit term: `over` or not; None when a named object decides


@dataclass
class VerdictSpec:
    kind: VerdictKind
    target: str | None = None
    options: tuple = ()
    binding: Group | None = None
    terminal_other: bool = False
    to_addresses: object = None
    to_ports: object = None
