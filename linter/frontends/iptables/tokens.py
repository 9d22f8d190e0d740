"""The iptables-save line grammar, the fast path built from its terminals, token kinds and friendly messages for lines it cannot read."""

from __future__ import annotations

import functools
import re

from linter.model import Direction


FORMAT = "iptables-save"
LOADER = "iptables"  # Ruleset.loader: iptables-restore and iptables, either backend
RESTRICT_EXAMPLE = "-s 10.0.0.0/8"  # Ruleset.restrict_example
GRAMMAR = "iptables"

SYNTAX = "PL010"
LAYOUT = "PL005"  # read fine, but iptables-restore refuses the layout (CR LF, indentation...)
INVALID = "PL011"
UNKNOWN_OPTION = "PL012"
UNMODELLED = "PL013"
NO_TARGET = "PL015"

SOURCE, DESTINATION = Direction.SOURCE, Direction.DESTINATION

# Token kinds of the option list (the grammar's WORD, STRING, OPEN_STRING and BANG).
WORD, STRING, OPEN_STRING, BANG = "W", "S", "U", "!"
# A value the input does not give (a shell variable portlint cannot resolve); never made
# by this front end's tokenizers, only by iptables/script.py. Its value is the text as written.
UNKNOWN = "?"


# --- The grammar and the fast path built from its terminals ------------------------


@functools.lru_cache(maxsize=1)
def line_parser():
    """The Lark parser for one line (grammars/iptables.lark), loaded from its compiled pickle."""
    from linter.grammars import load_parser

    return load_parser(GRAMMAR)


class _FastPath:
    """Regular expressions for well-formed rule lines, made from the grammar's terminals."""

    def __init__(self) -> None:
        from linter.grammars import terminal_patterns

        # The grammar's terminals, read without building (or importing) Lark when the
        # compiled parser is there: a file whose lines all take the fast path never needs Lark.
        pattern = terminal_patterns(GRAMMAR)
        self.chain_word = pattern["CHAIN"]
        self.head = re.compile(
            rf"[ \t]*(?:({pattern['COUNTERS']})[ \t]+)?(-A|-I)[ \t]+({pattern['CHAIN']})(?=[ \t]|\Z)"
        )
        self.table = re.compile(rf"\*({pattern['NAME']})[ \t]*\Z")
        self.chain = re.compile(
            rf":({pattern['CHAIN']})[ \t]+({pattern['POLICY']})(?:[ \t]+({pattern['COUNTERS']}))?[ \t]*\Z"
        )
        # The usual user chain line (a subset of ``chain``'s): ":NAME - [p:b]", nothing more.
        self.user_chain = re.compile(rf":({pattern['CHAIN']}) - {pattern['COUNTERS']}").fullmatch
        # One alternative per token kind, and a catch-all that sends the line to Lark.
        self.args = re.compile(
            rf"({pattern['STRING']})|({pattern['OPEN_STRING']})|({re.escape('!')})|({pattern['WORD']})|([^ \t])"
        )

    def read_rule(self, line: str):
        """A well-formed ``-A``/``-I`` line as (command, chain, chain column, position token or
        None, option tokens, rule column, where the options start), or None for Lark to read."""
        m = self.head.match(line)
        if m is None:
            return None
        end = m.end()
        tokens = self.tokenize(line, end)
        if tokens is None:
            return None
        _, command, chain = m.groups()
        position = None
        if command == "-I" and tokens and tokens[0][0] == WORD and tokens[0][1].isdigit():
            # A rule number (the grammar's POSITION) when white space or the line's end follows it.
            value = tokens[0][1]
            at = line.index(value, end)
            if line[at + len(value):at + len(value) + 1] in ("", " ", "\t"):
                position = (WORD, value, value, at + 1)
                tokens = tokens[1:]
        return command, chain, m.start(3) + 1, position, tokens, m.start(2) + 1, end

    def tokenize(self, line: str, start: int) -> list[tuple[str, str, str, int]] | None:
        """The option list of ``line`` from ``start`` as (kind, value, raw, column), or None.

        Most lines have no quotes and no white space but spaces: they are split by
        str.split, and their columns are left for later (stored as -index), computed
        only when a diagnostic needs one (RuleReader._at). Other lines go to ``scan``.
        """
        rest = line[start:]
        if not rest.isprintable():
            return self.scan(line, start)
        if '"' not in rest:
            parts = rest.split()
        elif "\\" in rest:
            return self.scan(line, start)
        else:
            # Quoted strings without escapes: the pieces between quotes alternate outside/inside.
            pieces = rest.split('"')
            if len(pieces) % 2 == 0:  # a quote is never closed
                return self.scan(line, start)
            parts = []
            last = len(pieces) - 1
            for k, piece in enumerate(pieces):
                if k % 2:
                    parts.append('"' + piece + '"')
                else:
                    # A quote must start and end a word: white space (or the line's end) around it.
                    if (k > 0 and piece and piece[0] != " ") or (k < last and piece and piece[-1] != " "):
                        return self.scan(line, start)
                    parts.extend(piece.split())
        tokens = [(WORD, w, w, -k) for k, w in enumerate(parts, 1)]
        if "!" in rest or '"' in rest:
            for k, w in enumerate(parts):
                first = w[0]
                if first == "!":
                    if w != "!":
                        return self.scan(line, start)
                    tokens[k] = (BANG, w, w, -k - 1)
                elif first == '"':
                    tokens[k] = (STRING, w[1:-1], w, -k - 1)
        return tokens

    def scan(self, line: str, start: int) -> list[tuple[str, str, str, int]] | None:
        """Like ``tokenize``, by the grammar's terminal patterns, with columns; None if one fails."""
        tokens = []
        append = tokens.append
        for m in self.args.finditer(line, start):
            raw = m.group()
            group = m.lastindex
            if group == 4:
                append((WORD, raw, raw, m.start() + 1))
            elif group == 1:
                append((STRING, _unquote(raw), raw, m.start() + 1))
            elif group == 3:
                append((BANG, raw, raw, m.start() + 1))
            elif group == 2:
                append((OPEN_STRING, _unquote(raw, False), raw, m.start() + 1))
            else:
                return None
        return tokens


@functools.lru_cache(maxsize=1)
def fast_path() -> _FastPath:
    return _FastPath()


def _unquote(raw: str, closed: bool = True) -> str:
    """The text of a quoted string; one never closed (``closed`` False) runs to the end of the line."""
    inner = raw[1:-1] if closed else raw[1:]
    if "\\" in inner:
        inner = re.sub(r"\\(.)", r"\1", inner)
    return inner


def tokens_from_tree(items) -> list[tuple[str, str, str, int]]:
    """Lark tokens of an option list as (kind, value, raw, column)."""
    out = []
    for tok in items:
        raw = str(tok)
        if tok.type == "STRING":
            out.append((STRING, _unquote(raw), raw, tok.column))
        elif tok.type == "OPEN_STRING":
            out.append((OPEN_STRING, _unquote(raw, False), raw, tok.column))
        elif tok.type == "BANG":
            out.append((BANG, raw, raw, tok.column))
        else:
            out.append((WORD, raw, raw, tok.column))
    return out


# --- Friendly messages for lines the grammar cannot read ----------------------------

_EXPECTED_WORDS = {
    "NAME": "a table name",
    "CHAIN": "a chain name",
    "POLICY": "a policy (ACCEPT, DROP or -)",
    "COUNTERS": "counters like [0:0]",
    "POSITION": "a rule number",
    "WORD": "an option",
    "STRING": "an option",
    "BANG": "an option",
    "$END": "the end of the line",
}

_LINE_START = {"STAR", "COLON", "APPEND", "INSERT", "COMMIT", "COMMENT"}

# Labelled examples of malformed lines for UnexpectedInput.match_examples.
_ERROR_EXAMPLES = {
    "missing table name after *": ["*", "* "],
    "missing chain name after the command": ["-A", "-I", "[0:0] -A", "-N", "-P"],
    "missing policy after the chain name (ACCEPT, DROP or -)": [":INPUT", ":FORWARD "],
    "counters must look like [packets:bytes]": [":INPUT ACCEPT [0:", ":INPUT ACCEPT 0:0", ":INPUT ACCEPT [a:b]"],
    "text after COMMIT": ["COMMIT x", "COMMIT COMMIT"],
    "text after the table name": ["*filter x", "*nat COMMIT"],
    "missing COMMIT or a chain command (-A, -I, -N, -P)": ["[0:0]", "[0:0] x"],
}


def describe_error(exc, line: str) -> tuple[str, int]:
    """(message, column) for a Lark UnexpectedInput on ``line``."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    column = getattr(exc, "column", None) or 1
    label = None
    try:
        label = exc.match_examples(line_parser().parse, _ERROR_EXAMPLES, use_accepts=True)
    except Exception:  # match_examples is a best effort
        label = None
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        column = len(line.rstrip()) + 1
    if label:
        return f"Cannot read this line: {label}", column
    if isinstance(exc, UnexpectedCharacters):
        char = line[exc.pos_in_stream] if 0 <= exc.pos_in_stream < len(line) else ""
        if char == '"':
            return "Cannot read this line: unterminated quoted string", column
        return f"Cannot read this line: unexpected character {char!r}", column
    expected = set(getattr(exc, "expected", ()) or ())
    if expected & _LINE_START:
        return ("Cannot read this line: expected *table, :CHAIN POLICY, a rule (-A, -I), COMMIT "
                "or a # comment"), column
    words = sorted({_EXPECTED_WORDS.get(name, name) for name in expected})
    what = " or ".join(words) if words else "something else"
    return f"Cannot read this line: expected {what}", column
