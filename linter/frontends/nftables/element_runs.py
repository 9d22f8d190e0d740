"""The fast path for long lists and plain lines: an ELEMS or LINERUN token cut into the atoms the parser would have read.

A set of 100,000 addresses is 300,000 tokens (element, comma, newline), a 100,000-rule
chain a million; shifting and reducing each through the LALR parser took seconds, and
holding them all at once hundreds of megabytes. The grammar therefore reads the content of
a group made only of names, numbers, addresses, a few operators and blanks as one ELEMS
token, and such a whole body line as one LINERUN token; ``atoms`` cuts one here with the
grammar's own terminals, tried in the order Lark's lexer tries them (priority, then width,
then pattern length, then name), into tokens with the same types, values and positions:
nothing after the parser can tell the difference (tests/frontends/test_nft_element_runs.py
compares both ways). A rule keeps its line's run and is cut when the model is built, one
rule at a time.
"""

from __future__ import annotations

import functools
import re

from lark import Token, Tree
from lark.tree import Meta

# The terminals the contextual lexer accepts inside a group (see `braced` in
# grammars/nftables.lark), and those it reads and drops.
_GROUP_TERMINALS = ("COLONADDR", "IPV4", "NUM", "WORD", "STRING", "VAR", "SETREF", "OP", "NL", "SEMI")
_IGNORED = frozenset({"WS", "COMMENT", "CONTINUATION"})


@functools.lru_cache(maxsize=1)
def _scanner() -> re.Pattern:
    """One alternation of the group's terminals, first match wins: what Lark's lexer does."""
    from linter.frontends.nftables.keywords import START_SYMBOLS
    from linter.grammars import load_parser

    wanted = set(_GROUP_TERMINALS) | _IGNORED
    terminals = [t for t in load_parser("nftables", start=START_SYMBOLS).terminals if t.name in wanted]
    terminals.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    return re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals))


def first_word(text: str) -> str | None:
    """The first atom of ``text`` (a run's) when it is a name (what the loader looks at to tell
    a rule from a chain's type, policy... line), else None."""
    found = _scanner().match(text)
    return found.group() if found is not None and found.lastgroup == "WORD" else None


RUN_TYPES = ("ELEMS", "LINERUN", "LINERUNS")


def token(kind: str, value: str, start: int, line: int, column: int, end_line: int, end_column: int, end_pos: int,
          _new=str.__new__, _cls=Token) -> Token:
    """``Token(kind, value, start, line, column, end_line, end_column, end_pos)``, made as Lark's
    ``Token._future_new`` makes it (the string, then its eight slots) without the two calls
    before it: a third of the time, and these loops make a million tokens for a 100k-rule
    kube-proxy ruleset."""
    made = _new(_cls, value)
    made.type = kind
    made.start_pos = start
    made.value = value
    made.line = line
    made.column = column
    made.end_line = end_line
    made.end_column = end_column
    made.end_pos = end_pos
    return made
_BLANKS = " \t\f\r"


def line_places(run: Token) -> list[tuple[str, int, int, int]]:
    """(text, start offset, line, column) of each line of a LINERUNS token (blank lines skipped):
    the line's text without the blanks around it, at its place in the file; ``line_token``
    makes the LINERUN token the lexer would have made of it."""
    out = []
    append = out.append
    offset = run.start_pos
    line = run.line
    column = run.column
    for piece in run.value.split("\n"):
        text = piece.lstrip(_BLANKS)
        if text:
            lead = len(piece) - len(text)
            append((text.rstrip(_BLANKS), offset + lead, line, column + lead))
        offset += len(piece) + 1
        line += 1
        column = 1
    return out


def line_token(text: str, start: int, line: int, column: int) -> Token:
    """The LINERUN token of a line ``line_places`` gave."""
    return token("LINERUN", text, start, line, column, line, column + len(text), start + len(text))


def line_runs(run: Token) -> list[Token]:
    """The LINERUN tokens the lexer would have made of a LINERUNS token's lines (blank lines skipped)."""
    return [line_token(*place) for place in line_places(run)]


def line_tree(run: Token) -> Tree:
    """The `linerun` line the parser would have made of one LINERUN token."""
    meta = Meta()
    meta.empty = False
    meta.line, meta.column, meta.start_pos = run.line, run.column, run.start_pos
    meta.end_line, meta.end_column, meta.end_pos = run.end_line, run.end_column, run.end_pos
    return Tree("linerun", [run], meta)


def root_token(run: Token) -> Token | None:
    """The token Lark's fallback lexer would have made at ``run``'s start without the runs.

    Where the parser meets text its state does not expect, Lark lexes it with every
    terminal to name the unexpected token, and a run then takes the whole list or line:
    syntax errors name and skip just its first token instead, as before runs existed."""
    text = run.value
    pos = 0
    line = run.line
    line_start = run.start_pos - (run.column - 1)
    match = _root_scanner().match
    while pos < len(text):
        found = match(text, pos)
        if found is None or found.end() == pos:
            return None
        kind, stop = found.lastgroup, found.end()
        start = run.start_pos + pos
        if kind not in _IGNORED:
            if kind == "NL":
                return Token(kind, "\n", start, line, start - line_start + 1, line + 1, 1, start + 1)
            finish = run.start_pos + stop
            return Token(kind, found.group(), start, line, start - line_start + 1, line, finish - line_start + 1,
                         finish)
        pos = stop
    return None


@functools.lru_cache(maxsize=1)
def _root_scanner() -> re.Pattern:
    from linter.frontends.nftables.keywords import START_SYMBOLS
    from linter.grammars import load_parser

    terminals = [t for t in load_parser("nftables", start=START_SYMBOLS).terminals if t.name not in RUN_TYPES]
    terminals.sort(key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
    return re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals))


class RunError(ValueError):
    """Text in an ELEMS token that no group terminal reads (the grammar's ELEMS is wider than its terminals)."""


def atoms(run: Token) -> list[Token]:
    """The tokens the parser's lexer would have made of ``run``'s text, at their places in the file."""
    text = run.value
    from linter.frontends.nftables.atoms import Group  # atoms imports this module

    ignored = _IGNORED
    base = run.start_pos
    line = run.line
    line_start = base - (run.column - 1)  # file offset of the current line's first character
    out = []
    append = out.append
    new = token
    pos = 0
    for found in _token_scanner().finditer(text):
        if found.start() != pos:
            raise RunError(f"unreadable text in a {{ }} list at offset {base + pos}")
        pos = found.end()
        kind = found.lastgroup
        if kind == "NL":
            start = base + pos - 1
            append(new("NL", "\n", start, line, start - line_start + 1, line + 1, 1, start + 1))
            line += 1
            line_start = start + 1
        elif kind == "GROUP":  # a line's one-line { } group: what group_of makes of "{" ELEMS "}"
            content = found.group("ELEMS")
            finish = base + pos
            first = base + found.start("GROUP")
            inner = first + 1
            elems = new("ELEMS", content, inner, line, inner - line_start + 1, line,
                          finish - 1 - line_start + 1, finish - 1)
            append(Group(None, first, finish, line, first - line_start + 1, line, finish - line_start + 1, run=elems))
        elif kind not in ignored:
            value = found.group(kind)
            finish = base + pos
            start = finish - len(value)
            append(new(kind, value, start, line, start - line_start + 1, line, finish - line_start + 1, finish))
    if pos != len(text):
        raise RunError(f"unreadable text in a {{ }} list at offset {base + pos}")
    return out


@functools.lru_cache(maxsize=1)
def _token_scanner() -> re.Pattern:
    """The group's terminals after any blanks: at a token's start, blanks are always one ignored
    WS token (no other terminal starts with one), so skipping them first changes no token."""
    return re.compile(r"[ \t\f\r]*(?:(?P<GROUP>\{(?P<ELEMS>[0-9a-zA-Z_.:*\/\-, \t\r]+)\})|" + _scanner().pattern + ")")


def elements(run: Token) -> list[list[Token]]:
    """``split_commas(atoms(run))``: the atoms of each element, without making the comma and
    newline tokens between them."""
    text = run.value
    base = run.start_pos
    line = run.line
    line_start = base - (run.column - 1)
    out = []
    current: list = []
    new = token
    pos = 0
    for found in _element_scanner().finditer(text):
        start = found.start()
        if start != pos:
            raise RunError(f"unreadable text in a {{ }} list at offset {base + pos}")
        pos = found.end()
        kind = found.lastgroup
        if kind == "SEPARATORS":
            blank = found.group()
            if "," in blank and current:
                out.append(current)
                current = []
            newlines = blank.count("\n")
            if newlines:
                line += newlines
                line_start = base + start + blank.rindex("\n") + 1
        elif kind not in _IGNORED:
            first, last = base + start, base + pos
            current.append(new(kind, found.group(), first, line, first - line_start + 1, line,
                                 last - line_start + 1, last))
    if pos != len(text):
        raise RunError(f"unreadable text in a {{ }} list at offset {base + pos}")
    if current:
        out.append(current)
    return out


@functools.lru_cache(maxsize=1)
def _element_scanner() -> re.Pattern:
    """The group's terminals behind one alternative for the blanks and commas between elements:
    at a token's start each of those characters is a token of its own (``,``, a newline) or
    ignored (blanks), whatever follows, so reading a stretch of them at once changes no token."""
    return re.compile(r"(?P<SEPARATORS>[, \t\r\n]+)|" + _scanner().pattern)
