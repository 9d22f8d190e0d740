"""The shell evaluator: runs a syntax tree symbolically (lists, pipelines, if/case/for/while, functions, builtins, test) without executing anything.

A subclass decides what a command does (``command``); ScriptReader in
linter/frontends/iptables/script.py replays iptables there.
"""

from __future__ import annotations

import fnmatch
import re

from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends.shell.expansion import WordExpansion
from linter.frontends.shell.syntax_tree import (
    AndOr,
    ArithCommand,
    ArrayWords,
    Assignment,
    Case,
    For,
    FunctionDef,
    Group,
    If,
    Lit,
    Node,
    Pipeline,
    Simple,
    While,
    Word,
)
from linter.frontends.shell.values import (
    ASSIGNING,
    BINARY,
    binary,
    Break,
    Budget,
    c_escapes,
    Exit,
    Field,
    Frame,
    has_glob,
    MAX_CALL_DEPTH,
    MAX_COMMANDS,
    MAX_LOOP_ITEMS,
    PREFIXES,
    printf,
    RESTORE_NAMES,
    Return,
    short,
    SUCCEEDS,
    UNDECIDED,
    Unknown,
    UNRESOLVED,
    UNSET,
)
from linter.model import Span
from linter.numbers import bounded_int


class ShellEvaluator(WordExpansion):
    """Walks a shell syntax tree; ``command`` (in a subclass) runs one simple command."""

    def _line(self, number: int) -> str:
        return self.lines[number - 1].rstrip("\r") if 0 < number <= len(self.lines) else ""

    def _diag(self, code: str, message: str, line: int, column: int, width: int = 1, hint: str | None = None) -> None:
        key = (code, message, line, column)
        if key in self._reported:
            return
        self._reported.add(key)
        self.diagnostics.append(Diagnostic(code, message, Span(self.path, line, column, line, column + max(width, 1) - 1),
                                           hint=hint, excerpt=caret_excerpt(self._line(line), column)))

    def _unresolved(self, fld: Field, effect: str) -> None:
        self.unknown_here = True
        assert fld.unknown is not None
        what = fld.word.text if fld.word.text else "a value"
        cause = fld.unknown.describe()
        subject = short(what)
        message = f"{subject} is not known: {short(cause, 110)}; {effect}" if subject not in cause \
            else f"{short(cause, 110)}; {effect}"
        self._diag(UNRESOLVED, message, fld.word.line, fld.word.column, len(fld.word.text.split("\n")[0]),
                   hint="Set the variable to a literal value in the script, or lint the ruleset the script produces "
                        "(iptables-save)")

    def _not_followed(self, node: Simple, name: str, args: list[Field]) -> None:
        """The PL050 note for ``source FILE`` / ``. FILE`` and ``eval ...``, which portlint does not follow."""
        written = " ".join(a.text if a.known else a.word.text for a in args)
        if name == "eval":
            message = (f"eval {short(written, 60)}: the command eval builds is not read; iptables commands it "
                       "runs are missing from the result")
            hint = "Write the command out in the script, or lint the ruleset the script produces (iptables-save)"
        else:
            message = (f"{name} {short(written, 60)}: the sourced file is not read; the variables and functions "
                       "it sets are not known")
            hint = "Lint the sourced file too, or lint the ruleset the script produces (iptables-save)"
        self._diag(UNRESOLVED, message, node.line, node.column, len(name), hint=hint)

    def _undecided_note(self, node: Node, message: str) -> None:
        key = (node.line, node.column)
        if key in self._undecided:
            return
        self._undecided.add(key)
        self._diag(UNDECIDED, message, node.line, node.column)

    # -- running
    def run_list(self, items: list) -> bool | None:
        status: bool | None = True
        for item in items:
            status = self.run(item)
        return status

    # The node types that have a runner of their own (run_<name>).
    _RUNNERS = {AndOr: "run_and_or", Pipeline: "run_pipeline", Simple: "run_simple", If: "run_if",
                For: "run_for", While: "run_while", Case: "run_case"}

    def run(self, node) -> bool | None:
        kind = type(node)
        runner = self._RUNNERS.get(kind)
        if runner is not None:
            return getattr(self, runner)(node)
        if kind is Group:
            if node.subshell:
                saved = dict(self.vars)
                try:
                    return self.run_list(node.body)
                except Exit:
                    return None  # exit leaves only the subshell
                finally:
                    self.vars = saved
            return self.run_list(node.body)
        if kind is FunctionDef:
            self.functions[node.name] = node
            return True
        if kind is ArithCommand:
            for name in re.findall(r"([A-Za-z_]\w*)\s*(?:\+\+|--|[-+*/%]?=(?!=))", node.text):
                self._set(name, Unknown("is changed by an arithmetic command", name))
            return None
        return None

    def uncertainly(self, function, *args):
        self.uncertain += 1
        try:
            return function(*args)
        except (Exit, Return, Break):
            return None
        finally:
            self.uncertain -= 1

    def run_and_or(self, node: AndOr) -> bool | None:
        status = self.run_pipeline(node.first)
        for op, pipeline in node.rest:
            if (op == "&&" and status is False) or (op == "||" and status is True):
                continue
            if status is None:
                self.uncertainly(self.run_pipeline, pipeline)
            else:
                status = self.run_pipeline(pipeline)
        return status

    def run_pipeline(self, node: Pipeline) -> bool | None:
        commands = node.commands
        status: bool | None = True
        if len(commands) > 1 and self._feeds_restore(commands[-1]):
            # ( echo '*filter'; echo ... ) | iptables-restore, cat <<EOF | iptables-restore: what the
            # stage before the restore prints (echo, printf, cat of a here-document) is its input.
            for command in commands[:-2]:
                self.run(command)
            saved = (self.capture, self.capture_unknown)
            self.capture, self.capture_unknown = [], None
            try:
                self.run(commands[-2])
                captured = (self.capture, self.capture_unknown)
            finally:
                self.capture, self.capture_unknown = saved
            status = self.run_simple(commands[-1], stdin=captured)
        else:
            for command in commands:
                status = self.run(command)
        if node.negated:
            return None if status is None else not status
        return status

    def _feeds_restore(self, node) -> bool:
        """Whether a pipeline's last command is iptables-restore/ip6tables-restore."""
        if type(node) is not Simple or not node.words:
            return False
        for word in node.words[:4]:
            fields = self.expand(word)
            for fld in fields:
                if not fld.known:
                    return False
                name = fld.text.rsplit("/", 1)[-1]
                if name in RESTORE_NAMES:
                    return True
                if name not in PREFIXES and not fld.text.startswith("-"):
                    return False
        return False

    def _stdout_redirected(self, node: Simple) -> bool:
        for redirect in node.redirects:
            if redirect.op in (">", ">>", ">|", "&>", "&>>") and redirect.fd in (None, "1"):
                return True
            if redirect.op == ">&" and redirect.fd in (None, "1") and redirect.target is not None \
                    and redirect.target.text != "1":
                return True
        return False

    def captured_output(self, node: Simple, name: str, args: list[Field]) -> bool:
        """Record what echo, printf or cat print while a pipeline feeds iptables-restore; False when
        the command's output is not something portlint can know."""
        if name == "cat":
            docs = [r.heredoc for r in node.redirects if r.heredoc is not None]
            if docs and not args:
                self.capture.extend(self._heredoc_lines(docs[-1]))
                return True
            return False
        if name == "echo":
            interpret = False
            newline = True
            k = 0
            while k < len(args) and args[k].known and re.fullmatch(r"-[neE]+", args[k].text):
                interpret = "e" in args[k].text or interpret
                newline = "n" not in args[k].text and newline
                k += 1
            texts = [self.marked_word(word) for word in node.words[1 + k:]] if node.words else []
            text = " ".join(texts)
            if interpret:
                text = c_escapes(text)
            first = node.words[1 + k] if len(node.words) > 1 + k else node.words[0]
            shift = first.column - 1 + (1 if first.text[:1] in "\"'" else 0)
            pieces = text.split("\n")
            if not newline and pieces and pieces[-1] == "":
                pieces.pop()
            for piece in pieces:
                self.capture.append((first.line, piece, shift))
            return True
        if name == "printf" and node.words[1:]:
            fmt = self.marked_word(node.words[1])
            values = [self.marked_word(word) for word in node.words[2:]]
            text = printf(fmt, values)
            first = node.words[1]
            for piece in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
                self.capture.append((first.line, piece, 0))
            return True
        return False

    def run_if(self, node: If) -> bool | None:
        """The branch a decided condition picks; every branch from an undecided one on (PL051)."""
        status: bool | None = True
        undecided = False
        for condition, body in node.clauses:
            decided = self.run_condition(node, condition)
            if decided is True:
                return self.uncertainly(self.run_list, body) if undecided else self.run_list(body)
            if decided is None:
                undecided = True
                text = self._node_text(condition[0]) if condition else ""
                self._undecided_note(node, f"Portlint cannot decide '{short(text, 50)}'; the commands of every "
                                           "branch are taken as executed")
                status = self.uncertainly(self.run_list, body)
        if node.else_body is not None:
            status = self.uncertainly(self.run_list, node.else_body) if undecided else self.run_list(node.else_body)
        return status

    def run_condition(self, node: Node, condition: list) -> bool | None:
        """Run a condition list; its status decides the branch (None: portlint cannot tell)."""
        self._guessed = None
        status = self.run_list(condition)
        if status is not None and self._guessed is not None:
            text = self._node_text(condition[0]) if condition else ""
            self._undecided_note(node, f"'{short(text, 50)}' tests the script's first argument, taken as "
                                       f"'{self._guessed}' (how init systems run a firewall script)")
        self._guessed = None
        return status

    def _node_text(self, node) -> str:
        lines = self.lines[node.line - 1:node.end_line]
        if not lines:
            return ""
        if len(lines) == 1:
            return lines[0][node.column - 1:node.end_column]
        return lines[0][node.column - 1:] + " ..."

    def run_for(self, node: For) -> bool | None:
        if node.arithmetic is not None:
            self._undecided_note(node, f"Portlint cannot tell how often 'for (({short(node.arithmetic, 30)}))' runs; "
                                       "its body is read once")
            return self.uncertainly(self.run_list, node.body)
        if node.words is None:
            values = self._positional_values()
        else:
            values = []
            for word in node.words:
                values.extend(self.expand(word))
                if len(values) > MAX_LOOP_ITEMS:
                    break
        known = [v for v in values if v.known and not has_glob(v)]
        unknown = [v for v in values if not v.known or has_glob(v)]
        status: bool | None = True
        self.loops += 1
        try:
            for value in known[:MAX_LOOP_ITEMS]:
                self._set(node.var, value.text)
                self._taint(node.var, value.positional)
                try:
                    status = self.run_list(node.body)
                except Break as exc:
                    if exc.levels > 1:
                        exc.levels -= 1
                        raise
                    if not exc.cont:
                        return status
            if unknown:
                first = unknown[0]
                if first.known:
                    why = Unknown(f"loops over the file name pattern {short(first.word.text)}", node.var)
                else:
                    why = Unknown(f"loops over {short(first.word.text)}, which is not known "
                                  f"({short(first.unknown.describe(), 60)})", node.var)
                self._set(node.var, why)
                status = self.uncertainly(self.run_list, node.body)
        finally:
            self.loops -= 1
        return status

    def run_while(self, node: While) -> bool | None:
        decided = self.uncertainly(self.run_condition, node, node.condition)
        if decided is (True if node.until else False):
            return True
        self._undecided_note(node, f"Portlint cannot tell how often this '{'until' if node.until else 'while'}' "
                                   "loop runs; its body is read once")
        self.loops += 1
        try:
            return self.uncertainly(self.run_list, node.body)
        finally:
            self.loops -= 1

    def run_case(self, node: Case) -> bool | None:
        value = self.expand_joined(node.word)
        guessed = None
        if isinstance(value, Unknown):
            if value.guess is not None:
                guessed = value.guess
            else:
                self._undecided_note(node, f"Portlint cannot decide 'case {short(node.word.text)}'; the commands of "
                                           "every branch are taken as executed")
                status: bool | None = True
                for item in node.items:
                    status = self.uncertainly(self.run_list, item.body)
                return status
        subject = guessed if guessed is not None else value
        if guessed is not None:
            self._undecided_note(node, f"'case {short(node.word.text)}' tests the script's first argument, "
                                       f"taken as '{guessed}' (how init systems run a firewall script); "
                                       "the other branches are not read")
        falling = False
        status = True
        for index, item in enumerate(node.items):
            if not falling:
                hit = self._case_matches(subject, item.patterns)
                if hit is None:
                    self._undecided_note(node, f"Portlint cannot decide a pattern of 'case {short(node.word.text)}'; "
                                               "that branch is taken as executed")
                    status = self.uncertainly(self.run_list, item.body)
                    continue
                if not hit:
                    continue
            status = self.run_list(item.body)
            if item.terminator == ";&":
                falling = True
                continue
            falling = False
            if item.terminator != ";;&":
                break
        return status

    def _case_matches(self, subject: str, patterns: list[Word]) -> bool | None:
        undecided = False
        for pattern in patterns:
            text = self.pattern(pattern)
            if text is None:
                undecided = True
                continue
            if fnmatch.fnmatchcase(subject, text):
                return True
        return None if undecided else False

    def run_simple(self, node: Simple, stdin=None) -> bool | None:
        self.count += 1
        if self.count > MAX_COMMANDS:
            raise Budget(node)
        if not node.words:
            for assignment in node.assignments:
                self.assign(assignment)
            return True
        fields: list[Field] = []
        for word in node.words:
            fields.extend(self.expand(word))
        if not fields:
            for assignment in node.assignments:
                self.assign(assignment)
            return True
        return self.command(node, fields, stdin)

    def assign(self, assignment, local: bool = False) -> None:
        name = assignment.name
        if assignment.array is not None:
            values = []
            for word in assignment.array:
                for fld in self.expand(word):
                    if not fld.known:
                        self._assign_value(name, Unknown(f"is an array holding {short(word.text)}, which is not known "
                                                         f"({short(fld.unknown.describe(), 60)})", name), local)
                        return
                    values.append(fld.text)
            if assignment.append and isinstance(self.vars.get(name), list):
                values = self.vars[name] + values
            self._assign_value(name, values, local)
            return
        fields = self.expand(assignment.value, split=False)
        self._taint(name, any(f.positional for f in fields))
        value = self.expand_joined(assignment.value)
        if isinstance(value, Unknown):
            if value.name is None:
                value = Unknown(value.why, name)
        elif assignment.append:
            old = self.vars.get(name)
            if isinstance(old, Unknown):
                value = old
            elif isinstance(old, list):
                value = [*old[:-1], (old[-1] if old else "") + value] if old else [value]
            else:
                value = (old or "") + value
        self._assign_value(name, value, local)

    def _taint(self, name: str, positional: bool) -> None:
        """Remember whether a variable holds (part of) a function's arguments."""
        if positional and self.frames:
            self.tainted.add(name)
        else:
            self.tainted.discard(name)

    def _assign_value(self, name, value, local: bool) -> None:
        if local and self.frames:
            frame = self.frames[-1]
            if name not in frame.saved:
                frame.saved[name] = self.vars.get(name, UNSET)
        self.vars[name] = value

    def builtin(self, node: Simple, name: str, fields: list[Field]) -> bool | None:
        args = fields[1:]
        if self.capture is not None and not self._stdout_redirected(node) and name not in ASSIGNING \
                and name not in ("set", "unset", "shift", "read", "exit", "return", "[", "test", "[[", "true", ":",
                                 "false", "break", "continue"):
            if not self.captured_output(node, name, args) and self.capture_unknown is None:
                self.capture_unknown = node
            if name in ("echo", "printf", "cat"):
                return True
        if name in ASSIGNING:
            local = name == "local" or (name in ("declare", "typeset") and bool(self.frames))
            for word in node.words[1:]:
                self._assign_word(word, local, name)
            return True
        if name in ("source", ".", "eval"):
            self._not_followed(node, name, args)
            return True if name != "eval" else None
        if name == "unset":
            functions = any(a.known and a.text == "-f" for a in args)
            for arg in args:
                if arg.known and not arg.text.startswith("-"):
                    if functions:
                        self.functions.pop(arg.text, None)
                    else:
                        self.vars.pop(arg.text, None)
            return True
        if name == "read":
            skip = False
            for arg in args:
                if skip:
                    skip = False
                    continue
                if arg.known and arg.text in ("-p", "-t", "-n", "-N", "-d", "-u", "-a", "-i"):
                    skip = True
                    continue
                if arg.known and not arg.text.startswith("-"):
                    self._set(arg.text, Unknown("is read from input", arg.text))
            return None
        if name == "shift":
            count = bounded_int(args[0].text) if args and args[0].known and args[0].text.isdigit() else 1
            params = self._positional()
            if not isinstance(params, Unknown):
                if self.frames:
                    self.frames[-1].positional = params[count:]
                elif self.script_args is not None:
                    self.script_args = params[count:]
            return True
        if name == "set":
            start = 0
            if args and args[0].known and args[0].text == "--":
                start = 1
            elif not args or (args[0].known and args[0].text[:1] in "-+"):
                return True  # options (set -e, set -o pipefail) or a listing
            values = args[start:]
            unknown = next((a for a in values if not a.known), None)
            if unknown is not None:
                positional = Unknown(f"is set by 'set' from {short(unknown.word.text)}, which is not known "
                                     f"({unknown.unknown.describe()})")
            else:
                positional = [a.text for a in values]
            if self.frames:
                self.frames[-1].positional = positional
            else:
                self.script_args = positional
            return True
        if name in ("exit", "return", "break", "continue"):
            if self.uncertain:
                return None
            if name == "exit":
                raise Exit()
            if name == "return":
                if self.frames:
                    raise Return()
                raise Exit()  # return outside a function (a sourced script) ends it
            if self.loops:
                levels = bounded_int(args[0].text) if args and args[0].known and args[0].text.isdigit() else 1
                raise Break(levels, name == "continue")
            return True
        if name in ("[", "test", "[["):
            words = [a for a in args]
            if name == "[" and words and words[-1].known and words[-1].text == "]":
                words = words[:-1]
            if name == "[[" and words and words[-1].known and words[-1].text == "]]":
                words = words[:-1]
            return self.test(words, name == "[[")
        if name == "false":
            return False
        if name in SUCCEEDS:
            return True
        return None

    def _assign_word(self, word: Word, local: bool, builtin: str) -> None:
        first = word.parts[0] if word.parts else None
        if type(first) is Lit and not first.quoted and first.text.startswith("-"):
            return  # an option (-r, -x, -a...)
        if type(first) is Lit and "=" in first.text:
            name, _, rest = first.text.partition("=")
            append = name.endswith("+")
            name = name.rstrip("+")
            if not re.fullmatch(r"[A-Za-z_]\w*", name):
                return
            if len(word.parts) == 2 and type(word.parts[1]) is ArrayWords and not rest:
                self.assign(Assignment(name, None, list(word.parts[1].words), append, word), local)
                return
            value_word = Word(((Lit(rest),) if rest else ()) + tuple(word.parts[1:]) or (Lit("", True),),
                              word.line, word.column, word.end_line, word.end_column, word.text.partition("=")[2])
            self.assign(Assignment(name, value_word, None, append, word), local)
            return
        name = word.literal
        if name and re.fullmatch(r"[A-Za-z_]\w*", name):
            if local and name not in self.vars:
                self._assign_value(name, "", True)
            elif local:
                self._assign_value(name, self.vars[name], True)

    # -- tests
    def test(self, args: list[Field], double: bool) -> bool | None:
        try:
            value, rest = self._test_or(args, double)
        except (IndexError, ValueError):
            return None
        if rest:
            return None
        return value

    def _text(self, fld: Field) -> str | None:
        if fld.known:
            return fld.text
        if fld.unknown.guess is not None:
            self._guessed = fld.unknown.guess
            return fld.unknown.guess
        return None

    def _test_or(self, args, double):
        value, args = self._test_and(args, double)
        while args and args[0].known and args[0].text in (("||", "-o") if double else ("-o",)):
            right, args = self._test_and(args[1:], double)
            value = True if value is True or right is True else (None if value is None or right is None else False)
        return value, args

    def _test_and(self, args, double):
        value, args = self._test_not(args, double)
        while args and args[0].known and args[0].text in (("&&", "-a") if double else ("-a",)):
            right, args = self._test_not(args[1:], double)
            value = False if value is False or right is False else (None if value is None or right is None else True)
        return value, args

    def _test_not(self, args, double):
        if args and args[0].known and args[0].text == "!" and len(args) > 1:
            value, rest = self._test_not(args[1:], double)
            return (None if value is None else not value), rest
        return self._test_primary(args, double)

    def _test_primary(self, args, double):
        if not args:
            return False, []
        first = args[0]
        if first.known and first.text == "(":
            value, rest = self._test_or(args[1:], double)
            if rest and rest[0].known and rest[0].text == ")":
                rest = rest[1:]
            return value, rest
        if len(args) >= 3 and args[1].known and args[1].text in BINARY:
            op = args[1].text
            left, right = self._text(args[0]), self._text(args[2])
            return binary(op, left, right, double), args[3:]
        if first.known and first.text.startswith("-") and len(first.text) == 2 and len(args) >= 2:
            op = first.text
            operand = self._text(args[1])
            if op in ("-n", "-z"):
                if operand is None:
                    return None, args[2:]
                return (operand != "") if op == "-n" else (operand == ""), args[2:]
            return None, args[2:]  # files, terminals, variables set...
        value = self._text(first)
        return (None if value is None else value != ""), args[1:]

    # -- function calls
    def call(self, node: Simple, function: FunctionDef, args: list[Field]) -> bool | None:
        if len(self.frames) >= MAX_CALL_DEPTH:
            self._diag(UNRESOLVED, f"Calls of {function.name} nest more than {MAX_CALL_DEPTH} deep (recursion); "
                                   "this call is not followed", node.line, node.column)
            return None
        positional = [a.text if a.known else a.unknown for a in args]
        call = self.frames[0].call if self.frames else node
        frame = Frame(function.name, positional, call)
        self.frames.append(frame)
        loops, self.loops = self.loops, 0
        try:
            body = function.body
            if type(body) is Group and not body.subshell:
                return self.run_list(body.body)
            return self.run(body)
        except Return:
            return True
        finally:
            self.loops = loops
            self.frames.pop()
            for name, old in frame.saved.items():
                if old is UNSET:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = old

    # -- iptables
