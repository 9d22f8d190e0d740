"""The shell scanner: characters into tokens and words, here-documents, quoting and expansions inside words."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from linter.budgets import MAX_NESTING
from linter.frontends.shell.syntax_tree import (
    Arith,
    CommandSub,
    HereDoc,
    Lit,
    Param,
    Redirect,
    ShellError,
    Word,
)


# --- Scanner -------------------------------------------------------------------------

_META = set(" \t\n;&|()<>")
_SPECIAL_PARAMS = set("@*#?$!-0123456789")
_NAME_START = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
NAME_CHARS = _NAME_START | set("0123456789")
RESERVED = {"if", "then", "elif", "else", "fi", "do", "done", "case", "esac", "while", "until", "for", "in",
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
            while j < limit and text[j] in NAME_CHARS:
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
            if is_name(name) or name in _SPECIAL_PARAMS or name.isdigit():
                return Param(name, "len", None, quoted, raw, index)
            return Param(name, "?", None, quoted, raw)
        j = pos
        if j < close and text[j] in _NAME_START:
            while j < close and text[j] in NAME_CHARS:
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


def is_name(text: str) -> bool:
    return bool(text) and text[0] in _NAME_START and all(c in NAME_CHARS for c in text)


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
