"""Reading a POSIX/bash shell script into a small syntax tree, without running it.

Only the structure is read here: words (with their quoting and the expansions in
them), simple commands with assignments and redirections, pipelines, ``&&``/``||``
lists, ``if``/``case``/``for``/``while``/``until``, brace groups, subshells, function
definitions, here-documents, ``[[ ... ]]`` and ``(( ... ))``. What the words mean is
decided later by linter/frontends/iptables/script.py, which walks the tree.

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

from linter.budgets import MAX_NESTING
from linter.frontends.shell.scanner import is_name, NAME_CHARS, RESERVED, Scanner, Token
from linter.frontends.shell.syntax_tree import (
    AndOr,
    ArithCommand,
    ArrayWords,
    Assignment,
    Case,
    CaseItem,
    For,
    FunctionDef,
    Group,
    If,
    Lit,
    Node,
    Pipeline,
    Redirect,
    ShellError,
    Simple,
    While,
    Word,
)


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
        if not eq or not is_name(name) or index is not None:
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
        if self.tok.kind != "WORD" or not is_name(self.tok.value.literal or ""):
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
    return bool(text) and text not in RESERVED and all(c in NAME_CHARS or c in "-.:" for c in text) \
        and not text[0].isdigit()


def parse_script(text: str) -> tuple[list, list[ShellError]]:
    """The syntax tree of a script and the errors met while reading it."""
    parser = Parser(text)
    body = parser.parse()
    return body, parser.errors
