"""Reading a POSIX/bash shell script into a small syntax tree, without running it.

Only the structure is read here: words (with their quoting and the expansions in
them), simple commands with assignments and redirections, pipelines, ``&&``/``||``
lists, ``if``/``case``/``for``/``while``/``until``, brace groups, subshells, function
definitions, here-documents, ``[[ ... ]]`` and ``(( ... ))``. What the words mean is
decided later by linter/frontends/iptables_script.py, which walks the tree.

Why not Lark: what a shell token is depends on where it is (``{`` and ``fi`` are
words or reserved words by position; ``<<EOF`` makes the lines after the current one
a document; ``$(...)`` nests the whole language inside a word; ``[[ a < b ]]`` makes
``<`` a word). A hand-written scanner with a recursive-descent parser says this
directly; a context-free grammar would need most of it as lexer callbacks anyway.

Errors are collected, never raised to the caller: an unterminated quote is closed at
the end of its line, a missing ``fi``/``done``/``esac``/``}`` closes the block at the
end of the file, an unexpected token is skipped up to the end of its line. Each is
one ShellError with a line and column, and the rest of the script is still read.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from linter.budgets import MAX_NESTING

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


# --- Scanner -------------------------------------------------------------------------

_META = set(" \t\n;&|()<>")
_SPECIAL_PARAMS = set("@*#?$!-0123456789")
_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_CHARS = _NAME_START | set("0123456789")
_RESERVED = {"if", "then", "elif", "else", "fi", "do", "done", "case", "esac", "while", "until", "for", "in",
             "{", "}", "!", "function", "select", "[[", "]]"}
_ANSI_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f",
                 "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}


@dataclass
class Token:
    kind: str  # WORD, OP, REDIR, ARITH, EOF
    value: object  # Word, operator text, Redirect, arithmetic text
    pos: int
    end: int


class _TooDeep(Exception):
    """Quotes and expansions nested deeper than MAX_NESTING: the word is read as plain text."""


class Scanner:
    def __init__(self, text: str, errors: list[ShellError]) -> None:
        self.text = text
        self.n = len(text)
        self.pos = 0
        self.errors = errors
        self.line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.line_starts.append(i + 1)
        self.pending: list[HereDoc] = []
        self.dbracket = False  # inside [[ ... ]]: operators are words
        self.resume_at: int | None = None  # where scanning goes on after an unterminated quote
        self.depth = 0  # quotes and expansions being read, one inside the other

    # -- positions
    def where(self, pos: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.line_starts, pos) - 1
        return line + 1, pos - self.line_starts[line] + 1

    def error(self, message: str, pos: int) -> None:
        line, column = self.where(pos)
        self.errors.append(ShellError(message, line, column))

    def line_end(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return self.n if end < 0 else end

    # -- tokens
    def skip_blanks(self) -> None:
        text = self.text
        while self.pos < self.n:
            ch = text[self.pos]
            if ch in " \t\r":
                self.pos += 1
            elif ch == "\\" and text.startswith("\n", self.pos + 1):
                self.pos += 2
            elif ch == "#":
                self.pos = self.line_end(self.pos)
            else:
                break

    def next(self) -> Token:
        self.skip_blanks()
        text = self.text
        start = self.pos
        if start >= self.n:
            return Token("EOF", None, start, start)
        ch = text[start]
        if ch == "\n":
            self.pos += 1
            self._read_heredocs()
            return Token("OP", "\n", start, start + 1)
        if self.dbracket:
            if text.startswith("]]", start) and (start + 2 >= self.n or text[start + 2] in _META):
                self.pos = start + 2
                line, column = self.where(start)
                return Token("WORD", Word((Lit("]]"),), line, column, line, column + 1, "]]"), start, self.pos)
            return self._word_token()
        # Redirections (with an optional fd number before them).
        j = start
        while j < self.n and text[j].isdigit():
            j += 1
        if (j < self.n and text[j] in "<>" and not (j == start and text.startswith("(", j + 1))) \
                or text.startswith("&>", start):
            return self._redirect(start, j)
        if ch in ";&|()":
            for op in (";;&", ";;", ";&", "&&", "||", "|&", ";", "&", "|", ")"):
                if text.startswith(op, start):
                    self.pos = start + len(op)
                    return Token("OP", op, start, self.pos)
            if ch == "(":
                if text.startswith("((", start):
                    body_end = self._matching_double_paren(start + 2)
                    if body_end is not None:
                        self.pos = body_end + 2
                        return Token("ARITH", text[start + 2:body_end], start, self.pos)
                self.pos = start + 1
                return Token("OP", "(", start, self.pos)
        return self._word_token()

    def _word_token(self) -> Token:
        start = self.pos
        word = self.scan_word(start)
        if word is None:  # a lone metacharacter inside [[ ]]
            self.pos = start + 1
            line, column = self.where(start)
            ch = self.text[start]
            word = Word((Lit(ch),), line, column, line, column, ch)
        return Token("WORD", word, start, self.pos)

    def _redirect(self, start: int, op_start: int) -> Token:
        text = self.text
        fd = text[start:op_start] or None
        for op in ("&>>", "&>", "<<<", "<<-", "<<", "<>", ">>", ">&", "<&", ">|", "<", ">"):
            if text.startswith(op, op_start):
                break
        self.pos = op_start + len(op)
        line, column = self.where(start)
        if op in ("<<", "<<-"):
            self.skip_blanks()
            delim_word = self.scan_word(self.pos)
            if delim_word is None:
                self.error("Missing here-document delimiter after " + op, start)
                return Token("REDIR", Redirect(op, fd, None, None, line, column), start, self.pos)
            quoted = any(type(p) is Lit and p.quoted for p in delim_word.parts) or "\\" in delim_word.text
            delimiter = "".join(p.text if type(p) is Lit else getattr(p, "raw", "") or "" for p in delim_word.parts)
            doc = HereDoc(delimiter, op == "<<-", quoted, line, column)
            self.pending.append(doc)
            return Token("REDIR", Redirect(op, fd, delim_word, doc, line, column), start, self.pos)
        if op in (">&", "<&") and self.pos < self.n and (text[self.pos].isdigit() or text[self.pos] == "-"):
            j = self.pos
            while j < self.n and (text[j].isdigit() or text[j] == "-"):
                j += 1
            l2, c2 = self.where(self.pos)
            target = Word((Lit(text[self.pos:j]),), l2, c2, l2, c2 + j - self.pos - 1, text[self.pos:j])
            self.pos = j
            return Token("REDIR", Redirect(op, fd, target, None, line, column), start, self.pos)
        self.skip_blanks()
        at_word = self.pos < self.n and (self.text[self.pos] not in _META or self.text.startswith(("<(", ">("), self.pos))
        target = self.scan_word(self.pos) if at_word else None
        if target is None:
            self.error(f"Missing file name after {op}", start)
        return Token("REDIR", Redirect(op, fd, target, None, line, column), start, self.pos)

    def _read_heredocs(self) -> None:
        """After a newline: the bodies of the here-documents opened on the line just ended."""
        docs, self.pending = self.pending, []
        for doc in docs:
            while self.pos < self.n or not doc.closed:
                if self.pos >= self.n:
                    break
                end = self.line_end(self.pos)
                raw = self.text[self.pos:end]
                lineno = self.where(self.pos)[0]
                self.pos = min(end + 1, self.n)
                line = raw.rstrip("\r")
                stripped = 0
                if doc.strip_tabs:
                    body = line.lstrip("\t")
                    stripped = len(line) - len(body)
                    line = body
                if line == doc.delimiter:
                    doc.closed = True
                    break
                doc.body.append((lineno, line, stripped))
            if not doc.closed:
                self.errors.append(ShellError(
                    f"Here-document started with <<{doc.delimiter} is never closed by a line '{doc.delimiter}'",
                    doc.line, doc.column))

    def _matching_double_paren(self, pos: int) -> int | None:
        """The position of the ``))`` closing ``((`` whose body starts at ``pos``, or None."""
        depth = 0
        text = self.text
        i = pos
        while i < self.n:
            ch = text[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    return i if text.startswith("))", i) else None
                depth -= 1
            i += 1
        return None

    # -- words
    def scan_word(self, start: int, mode: str = "word", end: int | None = None) -> Word | None:
        """A word from ``start``; None when there is none. ``mode``: word, brace (inside ${...})."""
        self.pos = start
        if self.depth:
            parts = self._parts(mode, False, end)
        else:
            try:
                parts = self._parts(mode, False, end)
            except _TooDeep:
                self.depth = 0
                self.error(f"Quotes and expansions nested deeper than {MAX_NESTING} levels; the word is read "
                           "as plain text to the end of its line", start)
                self.pos = max(self.line_end(start), start + 1)
                parts = [Lit(self.text[start:self.pos], True)]
        if self.pos == start:
            return None
        line, column = self.where(start)
        end_line, end_column = self.where(max(self.pos - 1, start))
        return Word(tuple(_merge(parts)), line, column, end_line, end_column, self.text[start:self.pos])

    def _enter(self) -> None:
        """One more level of nesting; _TooDeep past MAX_NESTING (scan_word reads the word as text)."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _TooDeep()

    def _parts(self, mode: str, quoted: bool, end: int | None) -> list:
        self._enter()
        try:
            return self._parts_inside(mode, quoted, end)
        finally:
            self.depth -= 1

    def _parts_inside(self, mode: str, quoted: bool, end: int | None) -> list:
        text = self.text
        limit = self.n if end is None else end
        parts: list = []
        lit: list[str] = []
        lit_quoted = quoted

        def flush():
            nonlocal lit
            if lit:
                parts.append(Lit("".join(lit), lit_quoted))
                lit = []

        def add(chars: str, q: bool):
            nonlocal lit_quoted
            if lit and lit_quoted != q:
                flush()
            lit_quoted = q
            lit.append(chars)

        while self.pos < limit:
            ch = text[self.pos]
            if mode == "word" and ch in "<>" and text.startswith("(", self.pos + 1):
                # Process substitution <(cmd) / >(cmd): a file name portlint cannot know.
                close = self._paren_end(self.pos + 2, limit)
                if close is not None:
                    flush()
                    parts.append(CommandSub(text[self.pos + 2:close], quoted))
                    self.pos = close + 1
                    continue
            if mode == "word":
                if ch in _META and not (self.dbracket and ch not in " \t\n"):
                    break
                if self.dbracket and ch in " \t\n":
                    break
            elif mode == "brace":
                if ch == "}":
                    break
            elif mode == "dquote":
                if ch == '"':
                    break
            if ch == "\\":
                nxt = text[self.pos + 1:self.pos + 2]
                if nxt == "\n":
                    self.pos += 2
                    continue
                if mode in ("dquote", "heredoc"):
                    if nxt in ("$", "`", '"', "\\") and not (mode == "heredoc" and nxt == '"'):
                        add(nxt, True)
                        self.pos += 2
                    else:
                        add("\\", quoted)
                        self.pos += 1
                    continue
                if not nxt:
                    self.pos += 1
                    continue
                add(nxt, True)
                self.pos += 2
                continue
            if ch == "'" and mode in ("word", "brace"):
                close = text.find("'", self.pos + 1)
                if close < 0 or close >= limit:
                    self.error("Unterminated single quote", self.pos)
                    close = self.line_end(self.pos)
                    add(text[self.pos + 1:close], True)
                    self.pos = close
                    continue
                add(text[self.pos + 1:close], True)
                self.pos = close + 1
                continue
            if ch == '"' and mode in ("word", "brace"):
                open_at = self.pos
                self.pos += 1
                flush()
                inner = self._parts("dquote", True, end)
                if self.pos >= limit or text[self.pos] != '"':
                    self.error("Unterminated double quote", open_at)
                    # Close it at the end of the line it opened on and read on from there.
                    line_end = self.line_end(open_at)
                    self.pos = open_at + 1
                    inner = self._parts("dquote", True, line_end)
                    self.pos = line_end
                else:
                    self.pos += 1
                parts.extend(inner)
                if not inner:
                    parts.append(Lit("", True))
                continue
            if ch == "`":
                close = self._backquote_end(self.pos + 1, limit)
                if close is None:
                    self.error("Unterminated backquote", self.pos)
                    close = self.line_end(self.pos)
                    flush()
                    parts.append(CommandSub(text[self.pos + 1:close], quoted or mode == "dquote"))
                    self.pos = close
                    continue
                flush()
                parts.append(CommandSub(text[self.pos + 1:close].replace("\\`", "`"), quoted or mode == "dquote"))
                self.pos = close + 1
                continue
            if ch == "$":
                expansion = self._dollar(quoted or mode in ("dquote", "heredoc"), limit)
                if expansion is not None:
                    flush()
                    if type(expansion) is Lit:
                        add(expansion.text, True)
                    else:
                        parts.append(expansion)
                    continue
                add("$", quoted)
                self.pos += 1
                continue
            add(ch, quoted)
            self.pos += 1
        flush()
        return parts

    def _backquote_end(self, pos: int, limit: int) -> int | None:
        text = self.text
        i = pos
        while i < limit:
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == "`":
                return i
            i += 1
        return None

    def _dollar(self, quoted: bool, limit: int):
        """The expansion at ``$`` (self.pos), consumed; None for a literal ``$``."""
        text = self.text
        start = self.pos
        nxt = text[start + 1:start + 2]
        if nxt == "(":
            if text.startswith("((", start + 1):
                close = self._matching_double_paren(start + 3)
                if close is not None:
                    self.pos = close + 2
                    return Arith(text[start + 3:close], quoted)
            close = self._paren_end(start + 2, limit)
            if close is None:
                self.error("Unterminated $( command substitution", start)
                close = self.line_end(start)
                self.pos = close
                return CommandSub(text[start + 2:close], quoted)
            self.pos = close + 1
            return CommandSub(text[start + 2:close], quoted)
        if nxt == "{":
            close = self._brace_end(start + 2, limit)
            if close is None:
                self.error("Unterminated ${ parameter expansion", start)
                self.pos = self.line_end(start)
                return Param("?", "?", None, quoted, text[start:self.pos])
            param = self._param(start + 2, close, quoted)
            self.pos = close + 1
            return param
        if nxt == "'" and not quoted:
            close = start + 2
            out = []
            while close < limit and text[close] != "'":
                if text[close] == "\\" and close + 1 < limit:
                    esc = text[close + 1]
                    out.append(_ANSI_ESCAPES.get(esc, "\\" + esc))
                    close += 2
                    continue
                out.append(text[close])
                close += 1
            if close >= limit:
                self.error("Unterminated $' quote", start)
            self.pos = min(close + 1, limit)
            return Lit("".join(out), True)
        if nxt == '"' and not quoted:
            self.pos = start + 1  # $"..." is a double-quoted string (locale translation is not modelled)
            return self._dquote_after_dollar()
        if nxt and nxt in _NAME_START:
            j = start + 1
            while j < limit and text[j] in _NAME_CHARS:
                j += 1
            self.pos = j
            return Param(text[start + 1:j], None, None, quoted, text[start:j])
        if nxt and nxt in _SPECIAL_PARAMS:
            self.pos = start + 2
            return Param(nxt, None, None, quoted, text[start:start + 2])
        return None

    def _dquote_after_dollar(self):
        """``$"..."`` from its quote (self.pos): a literal, or its first expansion when it has one."""
        open_at = self.pos
        self.pos += 1
        inner = self._parts("dquote", True, None)
        if self.pos < self.n and self.text[self.pos] == '"':
            self.pos += 1
        else:
            self.error("Unterminated double quote", open_at)
        if all(type(p) is Lit for p in inner):
            return Lit("".join(p.text for p in inner), True)
        # Mixed content: keep the first expansion (rare in firewall scripts).
        return next(p for p in inner if type(p) is not Lit)

    def _paren_end(self, pos: int, limit: int) -> int | None:
        """The ``)`` closing a ``$(`` whose content starts at ``pos``."""
        return self._closing(pos, limit, "(", ")")

    def _skip_dquote(self, pos: int, limit: int) -> int | None:
        self._enter()
        try:
            return self._skip_dquote_inside(pos, limit)
        finally:
            self.depth -= 1

    def _skip_dquote_inside(self, pos: int, limit: int) -> int | None:
        text = self.text
        i = pos
        while i < limit:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                return i + 1
            if ch == "$" and text.startswith("$(", i):
                close = self._paren_end(i + 2, limit)
                if close is None:
                    return None
                i = close + 1
                continue
            i += 1
        return None

    def _brace_end(self, pos: int, limit: int) -> int | None:
        """The ``}`` closing a ``${`` whose content starts at ``pos``."""
        return self._closing(pos, limit, "${", "}")

    def _closing(self, pos: int, limit: int, opener: str, closer: str) -> int | None:
        """Where ``closer`` ends what starts at ``pos``, skipping quotes, escapes and nested
        ``opener``s; in ``$(...)`` also comments (a whole command line lives there), while a
        ``${...}`` that reaches a line end with no ``}`` left is not closed at all."""
        text = self.text
        in_command = closer == ")"
        depth = 0
        i = pos
        while i < limit:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'":
                close = text.find("'", i + 1)
                if close < 0:
                    return None
                i = close + 1
                continue
            if ch == '"':
                i = self._skip_dquote(i + 1, limit)
                if i is None:
                    return None
                continue
            if in_command and ch == "#" and (i == pos or text[i - 1] in " \t\n;"):
                i = self.line_end(i)
                continue
            if text.startswith(opener, i):
                depth += 1
                if depth + self.depth > MAX_NESTING:
                    raise _TooDeep()
                i += len(opener)
                continue
            if ch == closer:
                if depth == 0:
                    return i
                depth -= 1
            elif not in_command and ch == "\n" and depth == 0 and closer not in text[i:limit]:
                return None
            i += 1
        return None

    def _param(self, pos: int, close: int, quoted: bool) -> Param:
        """``${...}`` whose content is text[pos:close]."""
        text = self.text
        raw = "${" + text[pos:close] + "}"
        inner = text[pos:close]
        if inner.startswith("#") and len(inner) > 1 and (inner[1] in _NAME_START or inner[1:] in _SPECIAL_PARAMS
                                                          or inner[1:].isdigit()):
            name = inner[1:]
            index = None
            if "[" in name and name.endswith("]"):
                name, _, index = name[:-1].partition("[")
            if _is_name(name) or name in _SPECIAL_PARAMS or name.isdigit():
                return Param(name, "len", None, quoted, raw, index)
            return Param(name, "?", None, quoted, raw)
        j = pos
        if j < close and text[j] in _NAME_START:
            while j < close and text[j] in _NAME_CHARS:
                j += 1
        elif j < close and text[j].isdigit():
            while j < close and text[j].isdigit():
                j += 1
        elif j < close and text[j] in _SPECIAL_PARAMS:
            j += 1
        else:
            return Param(inner, "?", None, quoted, raw)
        name = text[pos:j]
        index = None
        if j < close and text[j] == "[":
            k = text.find("]", j)
            if k < 0 or k > close:
                return Param(name, "?", None, quoted, raw)
            index = text[j + 1:k]
            j = k + 1
        if j == close:
            return Param(name, None, None, quoted, raw, index)
        for op in (":-", ":=", ":+", ":?", "##", "%%", "-", "=", "+", "?", "#", "%"):
            if text.startswith(op, j):
                saved = self.pos
                arg = self.scan_word(j + len(op), "brace", close)
                self.pos = saved
                if arg is None:
                    line, column = self.where(j + len(op))
                    arg = Word((Lit("", True),), line, column, line, column, "")
                elif quoted:
                    arg = Word(tuple(_as_quoted(p) for p in arg.parts), arg.line, arg.column, arg.end_line,
                               arg.end_column, arg.text)
                return Param(name, op, arg, quoted, raw, index)
        return Param(name, "?", None, quoted, raw, index)


def _as_quoted(part):
    if type(part) is Lit:
        return Lit(part.text, True)
    if type(part) is Param:
        return Param(part.name, part.op, part.arg, True, part.raw, part.index)
    if type(part) is CommandSub:
        return CommandSub(part.text, True)
    if type(part) is Arith:
        return Arith(part.text, True)
    return part


def _merge(parts: list) -> list:
    out: list = []
    for part in parts:
        if out and type(part) is Lit and type(out[-1]) is Lit and out[-1].quoted == part.quoted:
            out[-1] = Lit(out[-1].text + part.text, part.quoted)
        else:
            out.append(part)
    return out


def _is_name(text: str) -> bool:
    return bool(text) and text[0] in _NAME_START and all(c in _NAME_CHARS for c in text)


def expand_heredoc_line(text: str, errors: list[ShellError] | None = None) -> list:
    """The parts of one line of an unquoted here-document (``$X``, ``$(...)``, ``\\$``)."""
    scanner = Scanner(text, errors if errors is not None else [])
    scanner.pos = 0
    try:
        return _merge(scanner._parts("heredoc", False, None))
    except _TooDeep:
        scanner.error(f"Quotes and expansions nested deeper than {MAX_NESTING} levels; the line is read as "
                      "plain text", 0)
        return [Lit(text, True)]


# --- Parser ----------------------------------------------------------------------------


class _Stop(Exception):
    pass


class Parser:
    """Recursive descent over the scanner's tokens; errors are recorded and skipped."""

    def __init__(self, text: str) -> None:
        self.errors: list[ShellError] = []
        self.scanner = Scanner(text, self.errors)
        self.tok: Token = self.scanner.next()
        self.depth = 0

    # -- tokens
    def advance(self) -> Token:
        tok = self.tok
        self.tok = self.scanner.next()
        return tok

    def is_op(self, *ops: str) -> bool:
        return self.tok.kind == "OP" and self.tok.value in ops

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "WORD" and self.tok.value.bare in words

    def where(self, tok: Token | None = None) -> tuple[int, int]:
        return self.scanner.where((tok or self.tok).pos)

    def error(self, message: str, tok: Token | None = None) -> None:
        line, column = self.where(tok)
        self.errors.append(ShellError(message, line, column))

    def skip_newlines(self) -> None:
        while self.is_op("\n"):
            self.advance()

    def end_of(self, pos: int) -> tuple[int, int]:
        return self.scanner.where(max(pos - 1, 0))

    # -- program
    def parse(self) -> list:
        body: list = []
        while True:
            body.extend(self.parse_list(()))
            if self.tok.kind == "EOF":
                break
            # Something no list can start with: a stray closer or operator.
            tok = self.tok
            what = tok.value.text if tok.kind == "WORD" else tok.value if tok.kind == "OP" else tok.kind
            self.error(f"Unexpected {what!r}", tok)
            self.advance()
            self.skip_to_line_end()
        return body

    def skip_to_line_end(self) -> None:
        while self.tok.kind != "EOF" and not self.is_op("\n"):
            self.advance()

    def skip_nested(self) -> None:
        """Skip the compound command at the current token and everything nested in it, without
        recursion: up to its closing word (or parenthesis for a subshell)."""
        start = self.tok
        subshell = start.kind == "OP"
        function = not subshell and start.value.bare not in _COMPOUND_WORDS - {"function"}
        words = parens = 0
        opened = False
        while self.tok.kind != "EOF":
            if words == 0 and parens == 0 and self.is_op("\n") and (opened or not function):
                return
            tok = self.advance()
            if tok.kind == "WORD":
                bare = tok.value.bare
                if bare in _SKIP_OPENERS:
                    words += 1
                    opened = True
                elif bare in _SKIP_CLOSERS and words:
                    words -= 1
                    if words == 0 and parens == 0:
                        return
            elif tok.kind == "OP":
                if tok.value == "(":
                    parens += 1
                elif tok.value == ")" and parens:
                    parens -= 1
                    if subshell and words == 0 and parens == 0:
                        return

    def parse_list(self, stops: tuple[str, ...], stop_ops: tuple[str, ...] = ()) -> list:
        """and-or lists up to a reserved word in ``stops``, an operator in ``stop_ops`` or EOF."""
        items: list = []
        while True:
            self.skip_newlines()
            if self.tok.kind == "EOF" or self.is_word(*stops) or self.is_op(*stop_ops, ")", ";;", ";&", ";;&"):
                return items
            if self.is_word("then", "elif", "else", "fi", "do", "done", "esac", "}", "in") and \
                    self.tok.value.bare not in stops:
                return items  # let the caller report it
            if self.tok.kind == "OP" and self.tok.value in (";", "&", "&&", "||", "|", "|&"):
                self.error(f"Unexpected {self.tok.value!r}")
                self.advance()
                continue
            start_errors = len(self.errors)
            node = self.parse_and_or()
            if node is not None:
                items.append(node)
            if self.is_op(";", "&"):
                if self.tok.value == "&" and node is not None:
                    node.background = True
                self.advance()
            elif self.is_op("\n") or self.tok.kind == "EOF":
                continue
            elif self.is_word(*stops) or self.is_op(*stop_ops, ")", ";;", ";&", ";;&"):
                continue
            elif len(self.errors) == start_errors and node is not None:
                # Words after a compound command's end ("fi x"): not shell.
                self.error(f"Unexpected {self._describe(self.tok)} after the command")
                self.skip_to_line_end()

    def _describe(self, tok: Token) -> str:
        if tok.kind == "WORD":
            return repr(tok.value.text)
        if tok.kind == "OP":
            return repr(tok.value)
        return tok.kind.lower()

    def parse_and_or(self) -> AndOr | None:
        first = self.parse_pipeline()
        if first is None:
            return None
        rest = []
        while self.is_op("&&", "||"):
            op = self.advance().value
            self.skip_newlines()
            nxt = self.parse_pipeline()
            if nxt is None:
                self.error(f"Missing command after {op!r}")
                break
            rest.append((op, nxt))
        last = rest[-1][1] if rest else first
        return AndOr(first.line, first.column, last.end_line, last.end_column, first, rest)

    def parse_pipeline(self) -> Pipeline | None:
        negated = False
        start = self.tok
        if self.is_word("!"):
            negated = True
            self.advance()
        commands = []
        command = self.parse_command()
        if command is None:
            if negated:
                self.error("Missing command after '!'", start)
            return None
        commands.append(command)
        while self.is_op("|", "|&"):
            self.advance()
            self.skip_newlines()
            command = self.parse_command()
            if command is None:
                self.error("Missing command after '|'")
                break
            commands.append(command)
        line, column = self.where(start)
        return Pipeline(line, column, commands[-1].end_line, commands[-1].end_column, commands, negated)

    def parse_command(self) -> Node | None:
        tok = self.tok
        self.depth += 1
        try:
            if self.depth > MAX_NESTING and self._opens_compound(tok):
                self.error(f"Commands nested deeper than {MAX_NESTING} levels; this one is skipped with "
                           "everything inside it")
                self.skip_nested()
                return None
            if tok.kind == "WORD":
                bare = tok.value.bare
                if bare == "if":
                    return self._redirected(self.parse_if())
                if bare in ("while", "until"):
                    return self._redirected(self.parse_while(bare == "until"))
                if bare in ("for", "select"):
                    return self._redirected(self.parse_for())
                if bare == "case":
                    return self._redirected(self.parse_case())
                if bare == "{":
                    return self._redirected(self.parse_group())
                if bare == "function":
                    return self.parse_function_keyword()
                if bare == "[[":
                    return self.parse_dbracket()
                if bare is not None and _is_function_name(bare) and self._next_is_parens():
                    return self.parse_function_parens()
            if tok.kind == "OP" and tok.value == "(":
                return self._redirected(self.parse_subshell())
            if tok.kind == "ARITH":
                self.advance()
                line, column = self.where(tok)
                end_line, end_column = self.end_of(tok.end)
                return ArithCommand(line, column, end_line, end_column, tok.value)
            if tok.kind in ("WORD", "REDIR"):
                return self.parse_simple()
            return None
        finally:
            self.depth -= 1

    def _opens_compound(self, tok: Token) -> bool:
        """Whether the command at ``tok`` holds other commands (reading it recurses)."""
        if tok.kind == "OP":
            return tok.value == "("
        if tok.kind != "WORD":
            return False
        bare = tok.value.bare
        return bare in _COMPOUND_WORDS or (bare is not None and _is_function_name(bare) and self._next_is_parens())

    def _next_is_parens(self) -> bool:
        """Whether ``name`` is followed by ``()``: a function definition."""
        text = self.scanner.text
        i = self.tok.end
        while i < len(text) and text[i] in " \t":
            i += 1
        if not text.startswith("(", i):
            return False
        i += 1
        while i < len(text) and text[i] in " \t":
            i += 1
        return text.startswith(")", i)

    def _redirected(self, node: Node | None) -> Node | None:
        # Redirections after a compound command ("done < file") are read and dropped, except
        # input redirections of while loops, which make the loop's reads unknown anyway.
        while node is not None and self.tok.kind == "REDIR":
            self.advance()
        return node

    def parse_simple(self) -> Simple:
        start = self.tok
        assignments: list[Assignment] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        end = start.end
        while True:
            tok = self.tok
            if tok.kind == "REDIR":
                redirects.append(tok.value)
                end = tok.end
                self.advance()
                continue
            if tok.kind != "WORD":
                break
            word = tok.value
            if not words:
                assignment = self._assignment(word)
                if assignment is not None:
                    self.advance()
                    end = tok.end
                    if assignment.array is None and self.is_op("(") and word.text.endswith("=") \
                            and self.tok.pos == tok.end:
                        assignment.array = self._array_words()
                        assignment.value = None
                        end = self.scanner.pos
                    assignments.append(assignment)
                    continue
            words.append(word)
            end = tok.end
            self.advance()
            if words[0].bare in ("export", "readonly", "local", "declare", "typeset") and self.is_op("(") and \
                    words[-1].text.endswith("=") and self.tok.pos == tok.end:
                array = self._array_words()
                name = words[-1]
                words[-1] = Word(name.parts + (ArrayWords(tuple(array)),), name.line, name.column,
                                 array[-1].end_line if array else name.end_line,
                                 array[-1].end_column + 1 if array else name.end_column,
                                 name.text + "(" + " ".join(w.text for w in array) + ")")
                end = self.scanner.pos
        line, column = self.where(start)
        end_line, end_column = self.end_of(end)
        return Simple(line, column, end_line, end_column, assignments, words, redirects)

    def _array_words(self) -> list[Word]:
        """The words of ``NAME=( a b c )`` after the ``(``."""
        self.advance()
        words = []
        while True:
            if self.is_op("\n"):
                self.advance()
                continue
            if self.is_op(")"):
                self.advance()
                break
            if self.tok.kind != "WORD":
                self.error("Unterminated array: missing ')'")
                break
            words.append(self.advance().value)
        return words

    def _assignment(self, word: Word) -> Assignment | None:
        first = word.parts[0] if word.parts else None
        if type(first) is not Lit or first.quoted:
            return None
        name, eq, rest = first.text.partition("=")
        append = name.endswith("+")
        if append:
            name = name[:-1]
        index = None
        if "[" in name and name.endswith("]"):
            name, _, index = name[:-1].partition("[")
        if not eq or not _is_name(name) or index is not None:
            return None
        value_parts = ((Lit(rest),) if rest else ()) + tuple(word.parts[1:])
        value = Word(value_parts or (Lit("", True),), word.line, word.column + len(first.text) - len(rest),
                     word.end_line, word.end_column, word.text.partition("=")[2])
        return Assignment(name, value, None, append, word)

    def _expect_word(self, word: str, opener: Token, opener_name: str) -> bool:
        self.skip_newlines()
        if self.is_word(word):
            return True
        line, column = self.where(opener)
        if self.tok.kind == "EOF":
            self.errors.append(ShellError(f"'{opener_name}' at line {line} has no matching '{word}'", line, column))
        else:
            self.error(f"Expected '{word}' for the '{opener_name}' at line {line}, found {self._describe(self.tok)}")
        return False

    def parse_if(self) -> If:
        opener = self.tok
        self.advance()
        clauses = []
        else_body = None
        condition = self.parse_list(("then",))
        if not self._expect_word("then", opener, "if"):
            return self._close_if(opener, clauses + [(condition, [])], else_body)
        self.advance()
        body = self.parse_list(("elif", "else", "fi"))
        clauses.append((condition, body))
        while self.is_word("elif"):
            elif_tok = self.advance()
            condition = self.parse_list(("then",))
            if not self._expect_word("then", elif_tok, "elif"):
                return self._close_if(opener, clauses + [(condition, [])], else_body)
            self.advance()
            clauses.append((condition, self.parse_list(("elif", "else", "fi"))))
        if self.is_word("else"):
            self.advance()
            else_body = self.parse_list(("fi",))
        if not self._expect_word("fi", opener, "if"):
            return self._close_if(opener, clauses, else_body)
        end = self.advance()
        line, column = self.where(opener)
        end_line, end_column = self.end_of(end.end)
        return If(line, column, end_line, end_column, clauses, else_body)

    def _close_if(self, opener, clauses, else_body) -> If:
        line, column = self.where(opener)
        end_line, end_column = self.end_of(self.tok.pos)
        if self.tok.kind != "EOF":
            self.skip_to_line_end()
        return If(line, column, end_line, end_column, clauses, else_body)

    def _do_body(self, opener: Token, name: str) -> list:
        self.skip_newlines()
        if not self.is_word("do"):
            if self.is_word("{"):  # bash also takes "for x in a; { ...; }"
                group = self.parse_group()
                return group.body
            self._expect_word("do", opener, name)
            return []
        self.advance()
        body = self.parse_list(("done",))
        if self._expect_word("done", opener, name):
            self.advance()
        return body

    def parse_while(self, until: bool) -> While:
        opener = self.advance()
        condition = self.parse_list(("do",))
        body = self._do_body(opener, "until" if until else "while")
        line, column = self.where(opener)
        end_line, end_column = self.end_of(self.tok.pos)
        return While(line, column, end_line, end_column, condition, body, until)

    def parse_for(self) -> For:
        opener = self.advance()
        line, column = self.where(opener)
        if self.tok.kind == "ARITH":
            header = self.advance().value
            if self.is_op(";"):
                self.advance()
            body = self._do_body(opener, "for")
            end_line, end_column = self.end_of(self.tok.pos)
            return For(line, column, end_line, end_column, "", None, body, header)
        if self.tok.kind != "WORD" or not _is_name(self.tok.value.literal or ""):
            self.error("Expected a variable name after 'for'")
            name = ""
        else:
            name = self.advance().value.literal
        words = None
        self.skip_newlines()
        if self.is_word("in"):
            self.advance()
            words = []
            while self.tok.kind == "WORD":
                words.append(self.advance().value)
            if self.is_op(";", "\n"):
                self.advance()
        elif self.is_op(";"):
            self.advance()
        body = self._do_body(opener, "for")
        end_line, end_column = self.end_of(self.tok.pos)
        return For(line, column, end_line, end_column, name, words, body)

    def parse_case(self) -> Case:
        opener = self.advance()
        line, column = self.where(opener)
        if self.tok.kind != "WORD":
            self.error("Expected a word after 'case'")
            self.skip_to_line_end()
            return Case(line, column, line, column, Word((Lit(""),), line, column, line, column, ""), [])
        word = self.advance().value
        self.skip_newlines()
        items: list[CaseItem] = []
        if not self.is_word("in"):
            self._expect_word("in", opener, "case")
            return Case(line, column, line, column, word, items)
        self.advance()
        while True:
            self.skip_newlines()
            if self.is_word("esac") or self.tok.kind == "EOF":
                break
            if self.is_op("("):
                self.advance()
            patterns = []
            while self.tok.kind == "WORD":
                patterns.append(self.advance().value)
                if self.is_op("|"):
                    self.advance()
                    continue
                break
            if not self.is_op(")"):
                self.error(f"Expected ')' after the case pattern, found {self._describe(self.tok)}")
                self.skip_to_line_end()
                continue
            self.advance()
            body = self.parse_list(("esac",), (";;", ";&", ";;&"))
            terminator = ""
            if self.is_op(";;", ";&", ";;&"):
                terminator = self.advance().value
            elif self.is_op(")"):
                self.error("Unexpected ')'")
                self.advance()
            items.append(CaseItem(patterns, body, terminator))
        if self._expect_word("esac", opener, "case"):
            self.advance()
        end_line, end_column = self.end_of(self.tok.pos)
        return Case(line, column, end_line, end_column, word, items)

    def parse_group(self) -> Group:
        opener = self.advance()
        body = self.parse_list(("}",))
        if self._expect_word("}", opener, "{"):
            self.advance()
        line, column = self.where(opener)
        end_line, end_column = self.end_of(self.tok.pos)
        return Group(line, column, end_line, end_column, body, False)

    def parse_subshell(self) -> Group:
        opener = self.advance()
        body = self.parse_list((), (")",))
        line, column = self.where(opener)
        if self.is_op(")"):
            self.advance()
        else:
            self.errors.append(ShellError(f"'(' at line {line} has no matching ')'", line, column))
        end_line, end_column = self.end_of(self.tok.pos)
        return Group(line, column, end_line, end_column, body, True)

    def parse_dbracket(self) -> Simple:
        opener = self.tok
        self.scanner.dbracket = True
        words = [self.advance().value]
        while self.tok.kind == "WORD":
            word = self.tok.value
            words.append(word)
            if word.bare == "]]":
                self.scanner.dbracket = False
                self.advance()
                break
            self.advance()
        else:
            self.scanner.dbracket = False
            self.error("'[[' has no matching ']]'", opener)
        line, column = self.where(opener)
        last = words[-1]
        return Simple(line, column, last.end_line, last.end_column, [], words, [])

    def parse_function_parens(self) -> FunctionDef:
        name_tok = self.advance()
        self.advance()  # (
        if self.is_op(")"):
            self.advance()
        return self._function_body(name_tok, name_tok.value.bare)

    def parse_function_keyword(self) -> FunctionDef | None:
        opener = self.advance()
        if self.tok.kind != "WORD" or not self.tok.value.literal:
            self.error("Expected a function name after 'function'")
            self.skip_to_line_end()
            return None
        name = self.advance().value.literal
        if self.is_op("("):
            self.advance()
            if self.is_op(")"):
                self.advance()
        return self._function_body(opener, name)

    def _function_body(self, opener: Token, name: str) -> FunctionDef | None:
        self.skip_newlines()
        body = self.parse_command()
        line, column = self.where(opener)
        if body is None or not isinstance(body, (Group, If, For, While, Case)):
            self.error(f"Expected the body of function {name} ('{{ ... }}')", opener)
            return None
        return FunctionDef(line, column, body.end_line, body.end_column, name, body)


# Words that open and close compound commands, counted when a too deeply nested one is skipped.
_SKIP_OPENERS = frozenset({"if", "case", "do", "{"})
_SKIP_CLOSERS = frozenset({"fi", "esac", "done", "}"})
_COMPOUND_WORDS = frozenset({"if", "while", "until", "for", "select", "case", "{", "function"})


def _is_function_name(text: str) -> bool:
    return bool(text) and text not in _RESERVED and all(c in _NAME_CHARS or c in "-.:" for c in text) \
        and not text[0].isdigit()


def parse_script(text: str) -> tuple[list, list[ShellError]]:
    """The syntax tree of a script and the errors met while reading it."""
    parser = Parser(text)
    body = parser.parse()
    return body, parser.errors
