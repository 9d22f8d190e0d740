"""The shell syntax tree: words with their quoting and expansions, commands, compound commands, errors."""

from __future__ import annotations

from dataclasses import dataclass, field


# --- Words ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lit:
    """Literal text; ``quoted`` when it came from quotes or a backslash (no splitting, no reserved word)."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter expansion: ``$X``, ``${X}``, ``${X:-word}``, ``${#X}``, ``${X[@]}``, ``$1``, ``$@``...

    ``op`` is None, one of ``:- - := = :+ + :? ?`` (with ``arg``), ``# ## % %%`` (a pattern
    in ``arg``), ``len`` (``${#X}``) or ``?`` for anything portlint does not read (``raw`` then
    says what it was).
    """

    name: str
    op: str | None = None
    arg: "Word | None" = None
    quoted: bool = False
    raw: str = ""
    index: str | None = None  # ${X[0]}, ${X[@]}


@dataclass(frozen=True, slots=True)
class CommandSub:
    """``$(...)`` or a backquoted command; ``text`` is the command as written."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Arith:
    """``$((...))``."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class ArrayWords:
    """The ``(a b c)`` of ``declare -a NAME=(a b c)`` / ``local NAME=(...)``, after ``NAME=``."""

    words: tuple


@dataclass(frozen=True, slots=True)
class Word:
    parts: tuple
    line: int
    column: int
    end_line: int
    end_column: int
    text: str  # the word as written in the script

    @property
    def literal(self) -> str | None:
        """The word's value when it has no expansions (quotes removed), else None."""
        if all(type(p) is Lit for p in self.parts):
            return "".join(p.text for p in self.parts)
        return None

    @property
    def bare(self) -> str | None:
        """The word when it is plain unquoted text (a reserved word or a name), else None."""
        if len(self.parts) == 1 and type(self.parts[0]) is Lit and not self.parts[0].quoted:
            return self.parts[0].text
        return None


# --- The tree ------------------------------------------------------------------------


@dataclass
class HereDoc:
    delimiter: str
    strip_tabs: bool
    quoted: bool  # a quoted delimiter: no expansion in the body
    line: int  # of the << operator
    column: int
    body: list[tuple[int, str, int]] = field(default_factory=list)  # (line number, text, tabs stripped)
    closed: bool = False


@dataclass
class Redirect:
    op: str  # > >> < << <<- <<< <> >& <& >| &> &>>
    fd: str | None
    target: Word | None
    heredoc: HereDoc | None
    line: int
    column: int


@dataclass
class Assignment:
    name: str
    value: Word | None  # None for an array
    array: list[Word] | None
    append: bool
    word: Word  # the whole NAME=value word


@dataclass
class Node:
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Simple(Node):
    assignments: list[Assignment]
    words: list[Word]
    redirects: list[Redirect]


@dataclass
class Pipeline(Node):
    commands: list[Node]
    negated: bool = False


@dataclass
class AndOr(Node):
    first: Pipeline
    rest: list[tuple[str, Pipeline]]  # ("&&" | "||", pipeline)
    background: bool = False


@dataclass
class If(Node):
    clauses: list[tuple[list, list]]  # (condition, body) for if and each elif
    else_body: list | None


@dataclass
class For(Node):
    var: str
    words: list[Word] | None  # None: "for x; do" (the positional parameters)
    body: list
    arithmetic: str | None = None  # for ((...)): the header as written


@dataclass
class While(Node):
    condition: list
    body: list
    until: bool = False


@dataclass
class CaseItem:
    patterns: list[Word]
    body: list
    terminator: str  # ;; ;& ;;& or "" at esac


@dataclass
class Case(Node):
    word: Word
    items: list[CaseItem]


@dataclass
class Group(Node):
    body: list
    subshell: bool


@dataclass
class FunctionDef(Node):
    name: str
    body: Node


@dataclass
class ArithCommand(Node):
    text: str


@dataclass(frozen=True)
class ShellError:
    message: str
    line: int
    column: int
