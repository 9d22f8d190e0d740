"""What nft keeps while reading a file (variables, tables, includes, diagnostics) and error recovery."""

from __future__ import annotations

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends.nftables import element_runs
from linter.frontends.nftables.builders import describe, LIST_HELPERS, statement_end, TableB, TOKEN_NAMES
from linter.frontends.nftables.keywords import LOADER, MAX_SYNTAX_ERRORS, RESTRICT_EXAMPLE, START_SYMBOLS
from linter.frontends.nftables.to_model import TableBuilder
from linter.grammars import load_parser
from linter.model import Family, Ruleset, Span
from linter.readpolicy import ReadPolicy
from linter.source import SourceFile


# --- State and the semantic pass -------------------------------------------------------


class State:
    def __init__(self, root: SourceFile, policy: ReadPolicy):
        self.root = root
        self.policy = policy
        self.diagnostics: list[Diagnostic] = []
        self.tables: dict[tuple[str, str], TableB] = {}
        self.scopes: list[dict[str, list]] = [{}]
        self.include_stack: list[str] = []
        self.opaque_seen: set[tuple[str, str]] = set()
        self.errors_reported = 0
        self.syntax_errors = 0
        self.define_atoms = 0  # values all $variables expanded to so far (MAX_DEFINE_ATOMS)
        self.define_budget_reported = False

    def lookup(self, name: str):
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        return None

    # -- parsing with recovery
    def parse_text(self, source: SourceFile, start: str) -> Tree | None:
        parser = load_parser("nftables", start=START_SYMBOLS)
        text = source.text

        def on_error(exc: UnexpectedInput) -> bool:
            _first_token_of_run(exc)
            self.syntax_error(source, exc)
            if self.syntax_errors > MAX_SYNTAX_ERRORS:
                return False
            return _recover(exc, text)

        try:
            return parser.parse(text, start=start, on_error=on_error)
        except UnexpectedInput:
            return None
        except RecursionError:  # pragma: no cover - pathological nesting
            self.diagnostics.append(Diagnostic("PL010", "Syntax error: nesting too deep", Span(source.path, 1, 1)))
            return None

    def syntax_error(self, source: SourceFile, exc: UnexpectedInput) -> None:
        self.syntax_errors += 1
        if isinstance(exc, UnexpectedToken):
            token = exc.token
            line, column = token.line or 1, token.column or 1
            if token.type == "$END":
                line = max(len(source.lines), 1)
                column = len(source.line(line)) + 1
                message = "Syntax error: unexpected end of file"
                hint = "a '}' is missing" if "RBRACE" in exc.expected else None
            else:
                message = f"Syntax error: unexpected {describe(token)}"
                expected = sorted({TOKEN_NAMES.get(name, name.lower()) for name in exc.expected
                                   if not name.startswith("__")})
                hint = "expected " + ", ".join(expected[:6]) + (" ..." if len(expected) > 6 else "")
        elif isinstance(exc, UnexpectedCharacters):
            line, column = exc.line, exc.column
            char = source.text[exc.pos_in_stream] if exc.pos_in_stream < len(source.text) else ""
            message = f"Syntax error: unexpected character {char!r}"
            hint = None
        else:  # pragma: no cover
            line, column, message, hint = 1, 1, f"Syntax error: {exc}", None
        span = Span(source.path, line, column)
        excerpt = caret_excerpt(source.line(line), column)
        self.diagnostics.append(Diagnostic("PL010", message, span, hint=hint, excerpt=excerpt))

    # -- model
    def ruleset(self) -> Ruleset:
        tables = []
        for table in self.tables.values():
            tables.append(TableBuilder(self, table).build())
        return Ruleset(self.root.path, "nftables", Family.INET, tuple(tables), loader=LOADER,
                       restrict_example=RESTRICT_EXAMPLE)

    def note_opaque(self, module: str, span: Span) -> None:
        if module in _ICMP_ONLY:
            return  # it narrows ICMP messages, which decide no exposure: nothing to warn about
        key = (span.path, module)
        if key in self.opaque_seen:
            return
        self.opaque_seen.add(key)
        self.diagnostics.append(Diagnostic(
            "PL013", f"Match '{module}' is not modelled; it is treated as may-match", span,
        ))


# Matches on ICMP fields only: opaque to the engine, but no port or service depends on them.
_ICMP_ONLY = frozenset({"icmp type", "icmp code", "icmpv6 type", "icmpv6 code", "icmp id", "icmpv6 id"})


def _first_token_of_run(exc: UnexpectedInput) -> None:
    """An unexpected ELEMS or LINERUN token stands for its first token only: the error names
    that one, and lexing resumes after it (where it resumed before the runs existed)."""
    token = getattr(exc, "token", None)
    if not isinstance(exc, UnexpectedToken) or token is None or token.type not in element_runs.RUN_TYPES:
        return
    first = element_runs.root_token(token)
    parser = exc.interactive_parser
    if first is None or parser is None:
        return
    exc.token = first
    counter = parser.lexer_thread.state.line_ctr
    counter.char_pos = first.end_pos
    counter.line = first.end_line
    counter.column = first.end_column
    counter.line_start_pos = first.end_pos - (first.end_column - 1)


def _opens_block(values: list, i: int) -> bool:
    """Whether ``values[i]`` is the ``{`` of a table, chain, set or object block."""
    value = values[i]
    return isinstance(value, Token) and value.type == "LBRACE" and i > 0 and \
        isinstance(values[i - 1], Tree) and values[i - 1].data == "name"


def _closing_braces(parser) -> int | None:
    """How many ``}`` end the input cleanly from here (None when that is not enough)."""
    trial = parser.copy()
    for count in range(64):
        accepts = trial.accepts()
        if "$END" in accepts:
            return count
        if "RBRACE" not in accepts:
            return None
        trial.feed_token(Token("RBRACE", "}"))
    return None


def _recover(exc: UnexpectedInput, text: str) -> bool:
    """Skip the statement that holds the error and resume at the next one.

    The parser's value stack tells where the statement began: just above the
    innermost open block brace (a ``{`` right after a ``name``) and the list of
    statements already read in that block.
    """
    parser = exc.interactive_parser
    if parser is None:
        return False
    state = parser.parser_state
    values, states = state.value_stack, state.state_stack
    token = exc.token if isinstance(exc, UnexpectedToken) else None
    lexer_state = parser.lexer_thread.state
    counter = lexer_state.line_ctr
    if token is not None and token.type not in ("$END", "RBRACE") and len(values) >= 4 and \
            isinstance(values[-1], Token) and values[-1].type == "RBRACE" and _opens_block(values, len(values) - 3):
        # `table t { ... } junk`: the block is complete; skip the junk only.
        end = statement_end(text, token.start_pos)
        if end > counter.char_pos:
            counter.feed(text[counter.char_pos:end])
        return True
    i = len(values) - 1
    while i >= 0:
        value = values[i]
        if _opens_block(values, i):
            break
        i -= 1
    boundary = i + 1
    if boundary < len(values) and isinstance(values[boundary], Tree) and \
            str(values[boundary].data).startswith(LIST_HELPERS):
        boundary += 1
    # Keep the statements already complete in this block: the bad one starts after the
    # last separator that is not inside an open { } group.
    for j in range(boundary, len(values)):
        value = values[j]
        if isinstance(value, Token):
            if value.type in ("NL", "SEMI"):
                boundary = j + 1
            elif value.type == "LBRACE":
                break
    if token is not None and token.type == "$END":
        closes = _closing_braces(parser)
        if closes is not None:
            for _ in range(closes):
                parser.feed_token(Token("RBRACE", "}"))
            return True
    if boundary < len(values):
        first = values[boundary]
        start = first.start_pos if isinstance(first, Token) else getattr(first.meta, "start_pos", None)
    else:
        start = None
    if start is None:
        start = token.start_pos if token is not None and token.type != "$END" else counter.char_pos
    if start is None:
        start = counter.char_pos
    del values[boundary:]
    del states[boundary + 1:]
    if token is not None and token.type == "$END":
        for _ in range(64):
            accepts = parser.accepts()
            if "$END" in accepts:
                return True
            if "RBRACE" not in accepts:
                return False
            parser.feed_token(Token("RBRACE", "}"))
        return False
    end = statement_end(text, start)
    if end > counter.char_pos:
        counter.feed(text[counter.char_pos:end])
    elif token is not None and token.type == "RBRACE" and token.start_pos >= end:
        try:
            parser.feed_token(token)
        except UnexpectedInput:
            pass
    return True
