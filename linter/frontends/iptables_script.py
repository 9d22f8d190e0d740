"""The iptables-script front end: shell scripts that call iptables, read without running them.

The script is read by linter/frontends/shell_syntax.py and then *replayed symbolically*:
its commands are walked in order with a table of shell variables, and every iptables
command is applied to a model of the tables (linter.frontends.iptables_save.TableStore),
so the result is the state after the script ran, from empty tables. Nothing is ever
executed: no subprocess, no eval; a command substitution is text portlint looks at,
never runs.

What is read
------------
* ``iptables``, ``ip6tables``, ``iptables-legacy``/``-nft`` (and the ip6tables ones),
  called by name, by full path (``/sbin/iptables``), through ``sudo``/``doas``/
  ``command``/``env``/``nice``/``timeout``, or through a variable assigned one of
  those (``IPT=/sbin/iptables`` then ``$IPT -A ...``; ``IPT=$(which iptables)`` counts as
  ``iptables``; a variable named like IPT/IPTABLES/IP6TABLES whose value is unknown is
  taken as iptables or ip6tables by its name, with a PL050 note).
* Commands -A, -I [n], -D (by specification and by number), -R, -C, -P, -N, -X, -F, -Z,
  -E, -L/-S (a check of a chain's existence), with their long spellings; ``-t``/
  ``--table`` anywhere; ``-w [secs]``, ``-W``, ``--wait``, ``-v``, ``-n`` are dropped. The
  rule's options are read by the iptables-save front end's RuleReader, so a rule means
  exactly what it means in an iptables-save file. Rule.text is the rule as iptables-save
  would print it (``-A INPUT -p tcp --dport 22 -j ACCEPT``), variables substituted.
* ``iptables-restore``/``ip6tables-restore`` fed a here-document (``<<EOF``, ``<<-EOF``,
  quoted delimiters; ``cat <<EOF | iptables-restore``) is read by the iptables-save
  reader with spans on the script's lines; without ``--noflush`` each table it names is
  replaced, as iptables-restore does. One reading a file is a PL050 note.
* Shell: quoting and escapes, line continuations, comments, ``;``/``&&``/``||``/``|``,
  redirections (ignored, except here-documents), variable assignments (``X=1``,
  ``export``/``readonly``/``local``/``declare``, arrays ``A=(a b)``), expansions
  ``$X``, ``${X}``, ``${X:-default}``, ``${X:=v}``, ``${X:+v}``, ``${#X}``, ``${X%pat}``...,
  ``"$@"``; ``for`` loops over literal lists (also ``for p in $PORTS``), functions with
  positional parameters, ``if``/``case``/``while``/``until``, ``[``/``test``/``[[``.

Modelling choices
-----------------
* A value portlint cannot know (a command substitution other than ``which``, a script
  argument, a variable the script never sets, ``$((...))``, a variable set by ``read``)
  is a PL050 note naming it; the rule is kept and the option holding the value becomes
  an OpaqueMatch (may match). An unknown chain or table name skips the command (PL050);
  an unknown target makes the rule a non-terminal OTHER verdict (it decides nothing).
* ``if``: a condition portlint can decide (``[ "$X" = yes ]`` with X known, ``true``) picks
  its branch. Otherwise the commands inside are taken as executed, every branch in
  order, with one PL051 note for the block. ``case`` likewise: a known word picks its
  branch; an unknown one runs every branch (PL051). The script's own first argument is
  taken as ``start`` when a test or case compares it (how init systems run firewall
  scripts: ``case "$1" in start) ...``), with a PL051 note saying so. ``while``/
  ``until`` bodies are read once (PL051). ``exit``, ``return``, ``break`` act only where
  portlint knows they run, not inside a branch it could not decide.
* Commands succeed, except iptables commands that would fail on the modelled state
  (-N of an existing chain, -D of a missing rule, -C of a missing rule): this decides
  ``a || b`` and ``a && b``. Other commands' status is unknown unless they always
  succeed (echo, modprobe...).
* A function's rules point at the command inside the function, or, when the rule
  depends on the function's arguments, at the call that gave them (``allow_port 23``).
* The tables start empty; rules a script expects to exist already are not modelled.
* A shell syntax problem (unterminated quote, a loop without ``done``) is PL010 at its
  line and column; the rest of the script is still read.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace

from linter.budgets import MAX_SHELL_EXPANSION_CHARS, MAX_SHELL_WORD_CHARS
from linter.diagnostics import Diagnostic, caret_excerpt
from linter.frontends import ParseResult
from linter.frontends import iptables_options as opt
from linter.frontends.firewalld.command import NAMES as FIREWALL_CMD_NAMES, FirewallCmdState
from linter.frontends.iptables_save import (
    _CHAIN_NAMES, BANG, INVALID, SYNTAX, UNKNOWN, WORD, RuleReader, TableStore, _ChainState, _FileReader, same_rule,
)
from linter.frontends.shell_syntax import (
    AndOr, Arith, ArithCommand, ArrayWords, Assignment, Case, CommandSub, For, FunctionDef, Group, If, Lit, Node, Param,
    Pipeline, Simple, While, Word, expand_heredoc_line, parse_script,
)
from linter.model import Family, Policy, Rule, Ruleset, Span
from linter.numbers import bounded_int, shown
from linter.source import SourceFile

FORMAT = "iptables-script"
UNRESOLVED = "PL050"
UNDECIDED = "PL051"

MAX_COMMANDS = 200_000  # simple commands replayed, loops and calls included
MAX_CALL_DEPTH = 32
MAX_LOOP_ITEMS = 10_000

IPTABLES_NAMES = {
    "iptables": Family.IPV4, "iptables-legacy": Family.IPV4, "iptables-nft": Family.IPV4,
    "ip6tables": Family.IPV6, "ip6tables-legacy": Family.IPV6, "ip6tables-nft": Family.IPV6,
}
RESTORE_NAMES = {
    "iptables-restore": Family.IPV4, "iptables-legacy-restore": Family.IPV4, "iptables-nft-restore": Family.IPV4,
    "iptables-restore-legacy": Family.IPV4,
    "ip6tables-restore": Family.IPV6, "ip6tables-legacy-restore": Family.IPV6, "ip6tables-nft-restore": Family.IPV6,
}
_PREFIXES = {
    # command -> options that take an argument
    "sudo": {"-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-R", "-T"},
    "doas": {"-u", "-C"},
    "nice": {"-n"},
    "ionice": {"-c", "-n", "-p"},
    "nohup": set(),
    "time": set(),
    "exec": {"-a"},
    "builtin": set(),
    "command": set(),
    "stdbuf": {"-i", "-o", "-e"},
    "env": {"-u", "-C", "-S"},
    "timeout": {"-s", "-k"},
    "action": set(),
}
# Commands whose exit status is success for any purpose here.
_SUCCEEDS = {
    "echo", "printf", "true", ":", "modprobe", "insmod", "rmmod", "sysctl", "logger", "mkdir", "touch", "chmod",
    "chown", "cd", "set", "trap", "umask", "ulimit", "shopt", "alias", "hash", "wait", "sleep", "ip", "tc",
    "ipset", "iptables-save", "ip6tables-save", "iptables-legacy-save", "iptables-nft-save", "ip6tables-legacy-save",
    "ip6tables-nft-save", "export", "readonly", "local", "declare", "typeset", "unset", "shift", "source", ".",
    "cat", "rm", "cp", "mv", "ln", "service", "systemctl", "nft", "brctl", "ifconfig", "route", "ebtables",
    "arptables", "clear", "tput", "stty",
}
_ASSIGNING = {"export", "readonly", "local", "declare", "typeset"}
_QUERY = re.compile(r"^\s*(?:which|command\s+-[vV]|type\s+-[pP]|whereis\s+-b)\s+([\w./-]+)")
_IPT_VARIABLE = re.compile(r"IP6?T|IPTABLES", re.I)
_NEW_CHAIN_WORDS = re.compile(r"(?:^|\s)(?:-N|--new-chain|--new)\s+[\"']?([^\s\"';|&)]+)")
_HEREDOC_MARK = re.compile("\u27e6(\\d+)\u27e7")

# iptables commands: spelling -> canonical
_COMMANDS = {
    "-A": "-A", "--append": "-A", "-I": "-I", "--insert": "-I", "-D": "-D", "--delete": "-D",
    "-R": "-R", "--replace": "-R", "-C": "-C", "--check": "-C", "-P": "-P", "--policy": "-P",
    "-N": "-N", "--new-chain": "-N", "--new": "-N", "-X": "-X", "--delete-chain": "-X", "-F": "-F",
    "--flush": "-F", "-Z": "-Z", "--zero": "-Z", "-E": "-E", "--rename-chain": "-E", "-L": "-L",
    "--list": "-L", "-S": "-S", "--list-rules": "-S",
}
_NEEDS_CHAIN = {"-A", "-I", "-D", "-R", "-C", "-P", "-N", "-E"}
_DROPPED_FLAGS = {"-v", "--verbose", "-n", "--numeric", "-x", "--exact", "--line-numbers", "-q", "--quiet"}


# --- Values ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Unknown:
    """A value portlint cannot know. ``name`` is the variable it came from (None for an inline
    expansion); ``guess`` is what decisions take it as (the script's $1 is 'start')."""

    why: str
    name: str | None = None
    guess: str | None = None

    def describe(self) -> str:
        return f"${self.name} {self.why}" if self.name else self.why


@dataclass
class Field:
    """One word after expansion: its text, or the reason it is not known."""

    text: str
    word: Word
    unknown: Unknown | None = None
    positional: bool = False  # built from a function's positional parameters

    @property
    def known(self) -> bool:
        return self.unknown is None


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- Control flow ------------------------------------------------------------------------


class _Exit(Exception):
    pass


class _Return(Exception):
    pass


class _Break(Exception):
    def __init__(self, levels: int = 1, cont: bool = False) -> None:
        super().__init__()
        self.levels = levels
        self.cont = cont


class _Budget(Exception):
    """The replay ran more than MAX_COMMANDS simple commands; ``node`` is the one past the budget."""

    def __init__(self, node: Simple):
        super().__init__()
        self.node = node


class _ExpansionBudget(Exception):
    """The script's expansions produced more than MAX_SHELL_EXPANSION_CHARS characters in all."""

    def __init__(self, word: Word):
        super().__init__()
        self.word = word


@dataclass
class _Frame:
    name: str
    positional: list
    call: Simple  # the call of the outermost function on the stack
    saved: dict = field(default_factory=dict)  # locals: name -> previous value (or _UNSET)


_UNSET = object()


@dataclass
class Stats:
    """What the front end made of the iptables commands (for the corpus script)."""

    commands: int = 0  # iptables / ip6tables / restore commands in the script (by position)
    understood: int = 0  # read with every value known and no error
    opaque: int = 0  # read with a value portlint could not know, or skipped for one
    errors: int = 0  # with a PL010/PL011/PL012 diagnostic
    expanded: int = 0  # characters produced by word expansions (the expansion budget's count)


# --- The interpreter ------------------------------------------------------------------------


class ScriptReader:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.path = source.path
        self.text = source.text
        self.lines = source.text.split("\n")
        self.diagnostics: list[Diagnostic] = []
        self.vars: dict[str, object] = {}
        self.functions: dict[str, FunctionDef] = {}
        self.frames: list[_Frame] = []
        self.script_args: list | None = None  # None: the script's arguments are not known
        self._guessed: str | None = None
        self.uncertain = 0
        self.loops = 0
        self.count = 0
        self.stores: dict[Family, TableStore] = {}
        self.firewalld: FirewallCmdState | None = None  # what firewall-cmd commands configured
        self.readers: dict[Family, RuleReader] = {}
        self._reported: set = set()
        self._undecided: set = set()
        self._prescan: list[str] | None = None
        self.command_state: dict[tuple[int, int], str] = {}  # position -> understood/opaque/error
        self.unknown_here = False  # set while a command meets an unknown value
        self.capture: list | None = None  # output lines (line, text, column shift) fed to iptables-restore
        self.capture_unknown: Simple | None = None  # a command whose output portlint cannot know
        self._marks: list[Field] = []  # unknown values inside text fed to iptables-restore
        self._marks_reported: set[int] = set()
        self.tainted: set[str] = set()  # variables holding a function's arguments
        self.expanded = 0  # characters all expansions produced so far (MAX_SHELL_EXPANSION_CHARS)
        self._too_long_reported = False
        # Brace expansion ({a,b}, {1..5}) is bash's (and ksh's, zsh's); dash has none.
        first = self.lines[0] if self.lines else ""
        self.braces = not (first.startswith("#!") and "dash" in first)

    # -- entry
    def read(self) -> ParseResult:
        body, errors = parse_script(self.text)
        for error in errors:
            self._diag(SYNTAX, f"Cannot read the shell script: {error.message}", error.line, error.column)
        try:
            self.run_list(body)
        except _Exit:
            pass
        except _Budget as exc:
            self._diag(UNRESOLVED, f"The script runs more than {MAX_COMMANDS:,} commands when its loops and calls "
                       "are unrolled (the command budget); the rest is not read", exc.node.line, exc.node.column)
        except _ExpansionBudget as exc:
            self._diag(UNRESOLVED, f"The script's expansions produce more than {MAX_SHELL_EXPANSION_CHARS:,} "
                       "characters (the expansion budget); the rest is not read", exc.word.line, exc.word.column,
                       len(exc.word.text.split("\n", 1)[0]))
        return ParseResult(self.build(), self.diagnostics)

    def build(self) -> Ruleset:
        tables = []
        for family in (Family.IPV4, Family.IPV6):
            store = self.stores.get(family)
            if store is not None:
                tables.extend(store.build_tables())
        families = set(self.stores)
        family = Family.INET if len(families) == 2 else (families.pop() if families else Family.IPV4)
        if self.firewalld is not None:  # firewall-cmd commands: firewalld's table beside iptables' tables
            table, problems = self.firewalld.table()
            tables.append(table)
            self.diagnostics.extend(self.firewalld.diagnostics + problems)
            family = Family.INET
        return Ruleset(self.path, FORMAT, family, tuple(tables))

    def stats(self) -> Stats:
        stats = Stats(expanded=self.expanded)
        for state in self.command_state.values():
            stats.commands += 1
            if state == "error":
                stats.errors += 1
            elif state == "opaque":
                stats.opaque += 1
            else:
                stats.understood += 1
        return stats

    # -- diagnostics
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
        subject = _short(what)
        message = f"{subject} is not known: {_short(cause, 110)}; {effect}" if subject not in cause \
            else f"{_short(cause, 110)}; {effect}"
        self._diag(UNRESOLVED, message, fld.word.line, fld.word.column, len(fld.word.text.split("\n")[0]),
                   hint="Set the variable to a literal value in the script, or lint the ruleset the script produces "
                        "(iptables-save)")

    def _not_followed(self, node: Simple, name: str, args: list[Field]) -> None:
        """The PL050 note for ``source FILE`` / ``. FILE`` and ``eval ...``, which portlint does not follow."""
        written = " ".join(a.text if a.known else a.word.text for a in args)
        if name == "eval":
            message = (f"eval {_short(written, 60)}: the command eval builds is not read; iptables commands it "
                       "runs are missing from the result")
            hint = "Write the command out in the script, or lint the ruleset the script produces (iptables-save)"
        else:
            message = (f"{name} {_short(written, 60)}: the sourced file is not read; the variables and functions "
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
                except _Exit:
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
        except (_Exit, _Return, _Break):
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
                if name not in _PREFIXES and not fld.text.startswith("-"):
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
                text = _c_escapes(text)
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
            text = _printf(fmt, values)
            first = node.words[1]
            for piece in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
                self.capture.append((first.line, piece, 0))
            return True
        return False

    def marked_word(self, word: Word) -> str:
        """A word's text with what portlint cannot know replaced by marks (for iptables-restore input)."""
        out = []
        for part in word.parts:
            if type(part) is Lit:
                out.append(part.text)
                continue
            if type(part) is Param and (part.name in ("@", "*") or part.index in ("@", "*")):
                fields = self.expand(Word((part,), word.line, word.column, word.end_line, word.end_column,
                                          word.text), split=False)
                value = fields[0].unknown if fields and not fields[0].known else \
                    (fields[0].text if fields else "")
            else:
                value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                raw = getattr(part, "raw", "") or word.text
                at = word.text.find(raw) if "\n" not in word.text else -1
                column = word.column + max(at, 0)
                where = Word((part,), word.line, column, word.line, column + len(raw) - 1, raw)
                out.append(self._mark_unknown(Field(raw, where, value)))
            else:
                out.append(value)
        self._spend(sum(map(len, out)), word)
        return "".join(out)

    def _mark_unknown(self, fld: Field) -> str:
        self._marks.append(fld)
        return f"\u27e6{len(self._marks) - 1}\u27e7"

    # -- compound commands
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
                self._undecided_note(node, f"Portlint cannot decide '{_short(text, 50)}'; the commands of every "
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
            self._undecided_note(node, f"'{_short(text, 50)}' tests the script's first argument, taken as "
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
            self._undecided_note(node, f"Portlint cannot tell how often 'for (({_short(node.arithmetic, 30)}))' runs; "
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
        known = [v for v in values if v.known and not _has_glob(v)]
        unknown = [v for v in values if not v.known or _has_glob(v)]
        status: bool | None = True
        self.loops += 1
        try:
            for value in known[:MAX_LOOP_ITEMS]:
                self._set(node.var, value.text)
                self._taint(node.var, value.positional)
                try:
                    status = self.run_list(node.body)
                except _Break as exc:
                    if exc.levels > 1:
                        exc.levels -= 1
                        raise
                    if not exc.cont:
                        return status
            if unknown:
                first = unknown[0]
                if first.known:
                    why = Unknown(f"loops over the file name pattern {_short(first.word.text)}", node.var)
                else:
                    why = Unknown(f"loops over {_short(first.word.text)}, which is not known "
                                  f"({_short(first.unknown.describe(), 60)})", node.var)
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
                self._undecided_note(node, f"Portlint cannot decide 'case {_short(node.word.text)}'; the commands of "
                                           "every branch are taken as executed")
                status: bool | None = True
                for item in node.items:
                    status = self.uncertainly(self.run_list, item.body)
                return status
        subject = guessed if guessed is not None else value
        if guessed is not None:
            self._undecided_note(node, f"'case {_short(node.word.text)}' tests the script's first argument, "
                                       f"taken as '{guessed}' (how init systems run a firewall script); "
                                       "the other branches are not read")
        falling = False
        status = True
        for index, item in enumerate(node.items):
            if not falling:
                hit = self._case_matches(subject, item.patterns)
                if hit is None:
                    self._undecided_note(node, f"Portlint cannot decide a pattern of 'case {_short(node.word.text)}'; "
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

    def pattern(self, word: Word) -> str | None:
        """A case/[[ pattern: quoted parts match literally; None when not known."""
        out = []
        for part in word.parts:
            if type(part) is Lit:
                out.append(_glob_escape(part.text) if part.quoted else part.text)
                continue
            value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                return None
            out.append(_glob_escape(value) if part.quoted else value)
        self._spend(sum(map(len, out)), word)
        return "".join(out)

    # -- variables
    def _set(self, name: str, value) -> None:
        self.vars[name] = value

    def lookup(self, name: str, index: str | None = None):
        """The value of a parameter: str, list (array), Unknown, or None when unset."""
        script = not self.frames and self.script_args is None
        params = self._positional()
        if name.isdigit():
            number = bounded_int(name)
            if number == 0:
                return Unknown("is the script's name", "0")
            if script:
                return Unknown("is an argument of the script", name, guess="start" if number == 1 else None)
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return params[number - 1] if number <= len(params) else None
        if name in ("@", "*"):
            if script:
                return Unknown("are the script's arguments", name, guess="start")
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return list(params)
        if name == "#":
            if script:
                return Unknown("is the number of the script's arguments", "#")
            if isinstance(params, Unknown):
                return Unknown(params.why, name)
            return str(len(params))
        if name in ("?", "$", "!", "-"):
            return Unknown("is only known when the script runs", name)
        value = self.vars.get(name)
        if value is None:
            if name in ("IFS",):
                return " \t\n"
            return None
        if index is not None and isinstance(value, list):
            if index in ("@", "*"):
                return value
            if index.isdigit():
                number = bounded_int(index)
                return value[number] if number < len(value) else None
            return Unknown(f"is indexed by {index}", name)
        if index is not None and index not in ("@", "*", "0"):
            return None if isinstance(value, str) else value
        return value

    def _positional(self):
        """The positional parameters: a list of values, or Unknown."""
        if self.frames:
            return self.frames[-1].positional
        return self.script_args if self.script_args is not None else []

    def _positional_values(self) -> list[Field]:
        dummy = Word((Lit('"$@"'),), 0, 0, 0, 0, '"$@"')
        if not self.frames and self.script_args is None:
            return [Field('"$@"', dummy, Unknown("are the script's arguments", "@"))]
        params = self._positional()
        if isinstance(params, Unknown):
            return [Field("$@", dummy, params)]
        out = []
        for value in params:
            out.append(Field(value, dummy) if isinstance(value, str) else Field("$@", dummy, value))
        return out

    # -- expansion
    def expand(self, word: Word, split: bool = True) -> list[Field]:
        """The fields of a word after expansion (no globbing: patterns stay as written)."""
        if split and self.braces and any(type(p) is Lit and not p.quoted and "{" in p.text for p in word.parts):
            variants = _brace_variants(list(word.parts))
            if len(variants) > 1:
                out: list[Field] = []
                size = 0
                for parts in variants:
                    more = self.expand(Word(tuple(parts), word.line, word.column, word.end_line,
                                            word.end_column, word.text), split)
                    size += sum(len(f.text) + 1 for f in more)
                    if size > MAX_SHELL_WORD_CHARS:
                        return self._too_long(word)
                    out.extend(more)
                return out
        fields: list[Field] = []
        current: list[str] = []
        unknown: Unknown | None = None
        positional = False
        started = False  # the current field exists (quoted empty text counts)
        produced = 0  # characters of the fields so far, counted before they are joined
        too_long = False

        def close():
            nonlocal current, unknown, started, positional, produced, too_long
            if started or current:
                produced += sum(map(len, current)) + 1
                too_long = too_long or produced > MAX_SHELL_WORD_CHARS
                fields.append(Field("" if too_long else "".join(current), word, unknown, positional))
            current, unknown, started, positional = [], None, False, False

        def split_into(value: str) -> None:
            """Field splitting of an unquoted expansion on white space (the default IFS)."""
            pieces = value.split()
            if not pieces:
                return
            if value[:1].isspace():
                close()
            for k, piece in enumerate(pieces):
                if k:
                    close()
                current.append(piece)
            if value[-1:].isspace():
                close()

        for part in word.parts:
            kind = type(part)
            if kind is Lit:
                current.append(part.text)
                if part.quoted:
                    started = True
                continue
            if kind is Param and (part.name.isdigit() or part.name in ("@", "*", "#") or part.name in self.tainted):
                positional = positional or bool(self.frames)
            if kind is Param and part.name in ("@", "*") and part.op is None:
                values = self.lookup(part.name)
                if isinstance(values, Unknown):
                    unknown = unknown or values
                    started = True
                    continue
                if part.quoted and part.name == "@":
                    for k, value in enumerate(values):
                        if k:
                            close()
                        if isinstance(value, Unknown):
                            unknown = unknown or value
                        else:
                            current.append(value)
                        started = True
                    if not values and not current:
                        started = False
                    continue
                joined = self._join_values(values)
                if isinstance(joined, Unknown):
                    unknown = unknown or joined
                    started = True
                    continue
                if part.quoted:
                    current.append(joined)
                    started = True
                else:
                    split_into(joined) if split else current.append(joined)
                continue
            if kind is Param and part.index in ("@", "*") and part.op is None:
                values = self.lookup(part.name, part.index)
                if values is None:
                    continue
                if isinstance(values, Unknown):
                    unknown = unknown or values
                    started = True
                    continue
                if isinstance(values, str):
                    values = [values]
                if part.quoted and part.index == "@":
                    for k, value in enumerate(values):
                        if k:
                            close()
                        current.append(value)
                        started = True
                    continue
                joined = " ".join(values)
                if part.quoted:
                    current.append(joined)
                    started = True
                else:
                    split_into(joined) if split else current.append(joined)
                continue
            value = self.expand_part_text(part, word)
            if isinstance(value, Unknown):
                unknown = unknown or value
                started = True
                continue
            if part.quoted or not split:
                current.append(value)
                started = True
            else:
                split_into(value)
        close()
        self._spend(produced, word)
        if too_long:
            return self._too_long(word)
        if not split and len(fields) > 1:
            first = fields[0]
            return [Field(" ".join(f.text for f in fields), word, first.unknown, first.positional)]
        return fields

    def _spend(self, characters: int, word: Word) -> None:
        """Count what an expansion produced (before it is joined); past MAX_SHELL_EXPANSION_CHARS the
        replay stops at ``word``."""
        self.expanded += characters
        if self.expanded > MAX_SHELL_EXPANSION_CHARS:
            raise _ExpansionBudget(word)

    def _too_long(self, word: Word) -> list[Field]:
        """A word whose expansion exceeds MAX_SHELL_WORD_CHARS: one unknown field, and one note at the
        first such word (a variable doubled over and over makes every later use too long as well)."""
        why = f"is longer than the {MAX_SHELL_WORD_CHARS:,} characters portlint expands in one word"
        if not self._too_long_reported:
            self._too_long_reported = True
            self._diag(UNRESOLVED, f"Expanding {_short(word.text, 40)} makes more than {MAX_SHELL_WORD_CHARS:,} "
                       "characters (the budget for one word); its value is taken as unknown", word.line,
                       word.column, len(word.text.split("\n", 1)[0]),
                       hint="docs/security.md lists portlint's budgets")
        return [Field("", word, Unknown(why))]

    def _join_values(self, values):
        out = []
        for value in values:
            if isinstance(value, Unknown):
                return value
            out.append(value)
        return " ".join(out)

    def expand_joined(self, word: Word) -> str | Unknown:
        """A word expanded without field splitting (assignments, case words): text or Unknown."""
        fields = self.expand(word, split=False)
        if not fields:
            return ""
        if fields[0].unknown is not None:
            return fields[0].unknown
        return fields[0].text

    def expand_part_text(self, part, word: Word) -> str | Unknown:
        kind = type(part)
        if kind is Lit:
            return part.text
        if kind is CommandSub:
            m = _QUERY.match(part.text)
            if m and (m.group(1).rsplit("/", 1)[-1] in IPTABLES_NAMES or m.group(1).rsplit("/", 1)[-1] in RESTORE_NAMES):
                return m.group(1)
            return Unknown(f"comes from the command substitution $({_short(part.text, 40)})")
        if kind is Arith:
            return Unknown(f"$(({_short(part.text, 30)})) is an arithmetic expansion")
        if kind is not Param:
            return Unknown("is not read by portlint")
        name, op = part.name, part.op
        if op == "?":
            return Unknown(f"uses {_short(part.raw, 30)}, an expansion portlint does not evaluate", None)
        value = self.lookup(name, part.index)
        if isinstance(value, list):
            value = self._join_values(value) if part.index in ("@", "*") else (value[0] if value else "")
        if isinstance(value, Unknown) and value.name is None and not name.isdigit():
            value = Unknown(value.why, name, value.guess)
        if op is None:
            if value is None:
                if name.isdigit() and self.frames:
                    return ""
                return Unknown("is never set in the script", name)
            return value
        if op == "len":
            if value is None:
                return "0"
            if isinstance(value, Unknown):
                return value
            return str(len(value))
        if op in (":-", "-", ":=", "="):
            empty = value is None or (op.startswith(":") and value == "")
            if isinstance(value, Unknown):
                return value
            if empty:
                default = self.expand_joined(part.arg)
                if op.endswith("=") and not isinstance(default, Unknown):
                    self._set(name, default)
                return default
            return value
        if op in (":+", "+"):
            if isinstance(value, Unknown):
                return value
            empty = value is None or (op.startswith(":") and value == "")
            return "" if empty else self.expand_joined(part.arg)
        if op in (":?", "?"):
            if value is None or isinstance(value, Unknown):
                return value if isinstance(value, Unknown) else Unknown("is never set in the script", name)
            return value
        if op in ("#", "##", "%", "%%"):
            if value is None:
                return ""
            if isinstance(value, Unknown):
                return value
            pattern = self.pattern(part.arg)
            if pattern is None:
                return Unknown(f"uses {_short(part.raw, 30)} with a pattern portlint cannot know", name)
            return _trim(value, pattern, op)
        return Unknown(f"uses {_short(part.raw, 30)}, an expansion portlint does not evaluate", name)

    # -- simple commands
    def run_simple(self, node: Simple, stdin=None) -> bool | None:
        self.count += 1
        if self.count > MAX_COMMANDS:
            raise _Budget(node)
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
                        self._assign_value(name, Unknown(f"is an array holding {_short(word.text)}, which is not known "
                                                         f"({_short(fld.unknown.describe(), 60)})", name), local)
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
                frame.saved[name] = self.vars.get(name, _UNSET)
        self.vars[name] = value

    def command(self, node: Simple, fields: list[Field], stdin=None) -> bool | None:
        # Strip wrappers: sudo, env, nice, command... (a function of the script goes first, as in the shell)
        no_functions = False
        while fields:
            head = fields[0]
            if not head.known:
                break
            name = head.text.rsplit("/", 1)[-1]
            options = _PREFIXES.get(name)
            if options is None or (name in self.functions and not no_functions and "/" not in head.text):
                break
            rest = fields[1:]
            no_functions = no_functions or name in ("command", "builtin", "exec", "sudo", "doas", "env")
            if name == "command" and rest and rest[0].known and rest[0].text in ("-v", "-V"):
                return None
            if name == "action":  # Red Hat's init functions: action "message" command...
                fields = rest[1:]
                continue
            k = 0
            while k < len(rest) and rest[k].known and rest[k].text.startswith("-") and rest[k].text != "--":
                k += 2 if rest[k].text in options else 1
            if k < len(rest) and rest[k].known and rest[k].text == "--":
                k += 1
            if name == "env":
                while k < len(rest) and rest[k].known and "=" in rest[k].text:
                    k += 1
            if name == "timeout" and k < len(rest):
                k += 1
            fields = rest[k:]
        if not fields:
            return True
        head = fields[0]
        if head.known and head.text in self.functions and not no_functions:
            return self.call(node, self.functions[head.text], fields[1:])
        if not head.known:
            family = self._iptables_by_name(head)
            if family is None:
                return None
            self._unresolved(head, f"taken as {'ip6tables' if family is Family.IPV6 else 'iptables'} by its name")
            self.unknown_here = False  # the command itself may still be fully known
            return self.iptables(node, fields, family)
        name = head.text.rsplit("/", 1)[-1]
        family = IPTABLES_NAMES.get(name)
        if family is not None:
            return self.iptables(node, fields, family)
        family = RESTORE_NAMES.get(name)
        if family is not None:
            return self.restore(node, fields, family, stdin)
        if name in FIREWALL_CMD_NAMES:  # firewalld's own front end reads it (linter/frontends/firewalld/)
            self.firewalld = self.firewalld or FirewallCmdState(self.path)
            self.firewalld.apply([f.text if f.known else None for f in fields[1:]], self._rule_span(node, fields))
            return True
        return self.builtin(node, name, fields)

    def _iptables_by_name(self, head: Field) -> Family | None:
        unknown = head.unknown
        name = unknown.name if unknown is not None and unknown.name else head.word.text
        if not _IPT_VARIABLE.search(name or ""):
            return None
        return Family.IPV6 if "6" in name else Family.IPV4

    def builtin(self, node: Simple, name: str, fields: list[Field]) -> bool | None:
        args = fields[1:]
        if self.capture is not None and not self._stdout_redirected(node) and name not in _ASSIGNING \
                and name not in ("set", "unset", "shift", "read", "exit", "return", "[", "test", "[[", "true", ":",
                                 "false", "break", "continue"):
            if not self.captured_output(node, name, args) and self.capture_unknown is None:
                self.capture_unknown = node
            if name in ("echo", "printf", "cat"):
                return True
        if name in _ASSIGNING:
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
                positional = Unknown(f"is set by 'set' from {_short(unknown.word.text)}, which is not known "
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
                raise _Exit()
            if name == "return":
                if self.frames:
                    raise _Return()
                raise _Exit()  # return outside a function (a sourced script) ends it
            if self.loops:
                levels = bounded_int(args[0].text) if args and args[0].known and args[0].text.isdigit() else 1
                raise _Break(levels, name == "continue")
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
        if name in _SUCCEEDS:
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
        if len(args) >= 3 and args[1].known and args[1].text in _BINARY:
            op = args[1].text
            left, right = self._text(args[0]), self._text(args[2])
            return _binary(op, left, right, double), args[3:]
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
        frame = _Frame(function.name, positional, call)
        self.frames.append(frame)
        loops, self.loops = self.loops, 0
        try:
            body = function.body
            if type(body) is Group and not body.subshell:
                return self.run_list(body.body)
            return self.run(body)
        except _Return:
            return True
        finally:
            self.loops = loops
            self.frames.pop()
            for name, old in frame.saved.items():
                if old is _UNSET:
                    self.vars.pop(name, None)
                else:
                    self.vars[name] = old

    # -- iptables
    def _store(self, family: Family) -> TableStore:
        store = self.stores.get(family)
        if store is None:
            store = self.stores[family] = TableStore(self.path, family, FORMAT)
        return store

    def _reader(self, family: Family) -> RuleReader:
        reader = self.readers.get(family)
        if reader is None:
            reader = RuleReader(self.path, family, lambda: self._chain_names(family), [])
            reader.unknowns = True
            self.readers[family] = reader
        return reader

    def _chain_names(self, family: Family) -> set[str]:
        if self._prescan is None:
            self._prescan = _CHAIN_NAMES.findall(self.text) + _NEW_CHAIN_WORDS.findall(self.text)
        names = set(self._prescan)
        store = self.stores.get(family)
        if store is not None:
            for table in store.tables.values():
                names.update(table.chains)
        return names

    def _mark(self, node: Simple, state: str) -> None:
        self._mark_at((node.line, node.column), state)

    def _mark_at(self, key: tuple[int, int], state: str) -> None:
        old = self.command_state.get(key)
        order = {"understood": 0, "opaque": 1, "error": 2}
        if old is None or order[state] > order[old]:
            self.command_state[key] = state

    def _rule_span(self, node: Simple, fields: list[Field]) -> Span:
        if self.frames and any(f.positional for f in fields):
            call = self.frames[0].call
            return Span(self.path, call.line, call.column, call.end_line, call.end_column)
        return Span(self.path, node.line, node.column, node.end_line, node.end_column)

    def iptables(self, node: Simple, fields: list[Field], family: Family) -> bool | None:
        self.unknown_here = False
        errors_before = sum(1 for d in self.diagnostics if d.code in (SYNTAX, INVALID, "PL012"))
        try:
            return self._iptables(node, fields, family)
        finally:
            errors = sum(1 for d in self.diagnostics if d.code in (SYNTAX, INVALID, "PL012")) > errors_before
            self._mark(node, "error" if errors else "opaque" if self.unknown_here else "understood")

    def _iptables(self, node: Simple, fields: list[Field], family: Family) -> bool | None:
        head = fields[0]
        tokens = fields[1:]
        table_name = "filter"
        command = None
        command_field = None
        chain_field = None
        extra: list[Field] = []  # fixed arguments after the chain (number, policy, new name)
        rest: list[Field] = []
        k = 0
        n = len(tokens)
        while k < n:
            fld = tokens[k]
            text = fld.text if fld.known else None
            if text is None:
                rest.append(fld)
                k += 1
                continue
            if text in ("-t", "--table") or text.startswith("--table=") or (text.startswith("-t") and len(text) > 2
                                                                               and not text.startswith("--")):
                if text in ("-t", "--table"):
                    if k + 1 >= n:
                        self._diag(SYNTAX, f"Missing table name after {text}", fld.word.line, fld.word.column)
                        return False
                    value = tokens[k + 1]
                    k += 2
                else:
                    value = Field(text.split("=", 1)[1] if "=" in text else text[2:], fld.word)
                    k += 1
                if not value.known:
                    self._unresolved(value, "the command is skipped")
                    return None
                table_name = value.text
                continue
            if text in ("-w", "--wait", "-W", "--wait-interval"):
                k += 1
                if k < n and tokens[k].known and re.fullmatch(r"[0-9.]+", tokens[k].text):
                    k += 1
                continue
            if text.startswith(("--wait=", "--wait-interval=", "--modprobe")) or text in _DROPPED_FLAGS:
                if text == "--modprobe":
                    k += 1
                k += 1
                continue
            if command is None and (text in _COMMANDS or re.fullmatch(r"-[vnx]*[LS][vnx]*", text)):
                command = _COMMANDS.get(text) or ("-L" if "L" in text else "-S")
                command_field = fld
                k += 1
                if command in _NEEDS_CHAIN or (k < n and not _looks_like_option(tokens[k])):
                    if k >= n or (tokens[k].known and tokens[k].text.startswith("-") and command in _NEEDS_CHAIN
                                  and len(tokens[k].text) > 1):
                        if command in _NEEDS_CHAIN:
                            self._diag(SYNTAX, f"Missing chain name after {text}", fld.word.line, fld.word.column,
                                       len(text))
                            return False
                    else:
                        chain_field = tokens[k]
                        k += 1
                if command == "-I" and k < n and tokens[k].known and tokens[k].text.isdigit():
                    extra.append(tokens[k])
                    k += 1
                elif command in ("-R", "-P", "-E") and k < n:
                    extra.append(tokens[k])
                    k += 1
                elif command in ("-Z", "-L") and k < n and tokens[k].known and tokens[k].text.isdigit():
                    k += 1
                continue
            rest.append(fld)
            k += 1
        if command is None:
            self._diag(SYNTAX, f"No command (-A, -I, -D, -P, -N, -F...) in this {head.text.rsplit('/', 1)[-1]} call",
                       node.line, node.column, hint="iptables needs one command option, such as -A CHAIN")
            return False
        if command == "-D" and len(rest) == 1 and rest[0].known and rest[0].text.isdigit():
            extra, rest = rest, []
        if table_name not in opt.BUILTIN_CHAINS:
            self._diag(INVALID, f"Unknown table {table_name!r} (filter, nat, mangle, raw or security)",
                       node.line, node.column)
            return False
        if chain_field is not None and not chain_field.known:
            self._unresolved(chain_field, "the command is skipped")
            return None
        for value in extra:
            if not value.known:
                self._unresolved(value, "the command is skipped")
                return None
        chain_name = chain_field.text if chain_field is not None else None
        store = self._store(family)
        span = Span(self.path, node.line, node.column, node.end_line, node.end_column)
        table = store.table(table_name, span)
        if command in ("-L", "-S"):
            return chain_name is None or chain_name in table.chains or chain_name in table.builtin
        if command == "-Z":
            return True
        if command == "-F":
            if chain_name is not None and chain_name not in table.chains and chain_name not in table.builtin:
                return False
            table.flush(chain_name)
            return True
        if command == "-X":
            if chain_name is not None:
                if chain_name in table.builtin:
                    self._diag(INVALID, f"Cannot delete built-in chain {chain_name!r}", chain_field.word.line,
                               chain_field.word.column, len(chain_field.word.text))
                    return False
                if chain_name not in table.chains:
                    return False
            table.delete_chains(chain_name)
            return True
        if command == "-N":
            if chain_name in table.chains or chain_name in table.builtin:
                return False
            if len(chain_name) > 28:
                self._diag(INVALID, f"Chain name {chain_name!r} is longer than 28 characters", chain_field.word.line,
                           chain_field.word.column, len(chain_field.word.text))
            table.chains[chain_name] = _ChainState(chain_name, span, None, True)
            self._reader(family).add_chain(chain_name)
            return True
        if command == "-E":
            new = extra[0].text if extra else None
            if new is None:
                self._diag(SYNTAX, "Missing new chain name after -E", node.line, node.column)
                return False
            if chain_name not in table.chains or chain_name in table.builtin or new in table.chains:
                return False
            self._rename(table, chain_name, new)
            self._reader(family).add_chain(new)
            return True
        if command == "-P":
            if not extra:
                self._diag(SYNTAX, f"Missing policy after -P {chain_name}", node.line, node.column)
                return False
            if chain_name not in table.builtin:
                self._diag(INVALID, f"Only built-in chains have a policy; {chain_name!r} is not one",
                           chain_field.word.line, chain_field.word.column, len(chain_field.word.text))
                return False
            value = extra[0].text
            if value not in ("ACCEPT", "DROP"):
                self._diag(INVALID, f"Invalid policy {value!r} for a built-in chain (ACCEPT or DROP)",
                           extra[0].word.line, extra[0].word.column, len(extra[0].word.text))
                return False
            chain = self._chain(table, chain_name, span, chain_field)
            chain.policy = Policy.ACCEPT if value == "ACCEPT" else Policy.DROP
            chain.span = span
            return True
        # -A, -I, -D, -R, -C: a rule
        if chain_name not in table.chains and chain_name not in table.builtin:
            if command in ("-D", "-C", "-R"):
                return False
            self._diag(INVALID, f"Chain {chain_name!r} does not exist in table {table_name} at this point; "
                                "iptables refuses the command", chain_field.word.line, chain_field.word.column,
                       len(chain_field.word.text), hint=f"create it first with -N {chain_name}")
        chain = self._chain(table, chain_name, span, chain_field)
        if command == "-D" and extra:
            return chain.delete_at(bounded_int(extra[0].text)) is not None
        rule = self._read_rule(node, command_field, chain_field, extra, rest, family,
                               chain_name if chain_name in table.builtin else "", fields)
        if rule is None:
            return True
        if command == "-A":
            chain.rules.append(rule)
            return True
        if command == "-I":
            number = bounded_int(extra[0].text) if extra else 1
            if not chain.insert(number, rule):
                length = len(chain.merged())
                self._diag(INVALID, f"Cannot insert at rule {shown(extra[0].text)}; chain {chain_name!r} has {length} "
                                    "rules at this point", extra[0].word.line, extra[0].word.column,
                           len(extra[0].word.text))
                return False
            return True
        if command == "-D":
            return chain.delete_like(rule) is not None
        if command == "-C":
            return any(same_rule(old, rule) for old in chain.merged())
        if command == "-R":
            number = extra[0].text if extra else ""
            if not number.isdigit():
                self._diag(SYNTAX, "Missing rule number after -R CHAIN", node.line, node.column)
                return False
            return chain.replace_at(bounded_int(number), rule)
        return True

    def _chain(self, table, name: str, span: Span, chain_field: Field):
        chain = table.chains.get(name)
        if chain is None:
            builtin = name in table.builtin
            chain = table.chains[name] = _ChainState(name, span, Policy.ACCEPT if builtin else None, False)
        return chain

    @staticmethod
    def _rename(table, old: str, new: str) -> None:
        chains = {}
        for name, chain in table.chains.items():
            if name == old:
                chain.name = new
                name = new
            rules = chain.merged()
            for index, rule in enumerate(rules):
                if rule.verdict.target == old:
                    rules[index] = dc_replace(rule, verdict=dc_replace(rule.verdict, target=new))
            chains[name] = chain
        table.chains = chains

    def _read_rule(self, node, command_field, chain_field, extra, rest: list[Field], family, builtin_chain,
                   fields) -> Rule | None:
        """The rule of -A/-I/-D/-R/-C from its option fields, diagnostics mapped to the script."""
        reader = self._reader(family)
        tokens = []
        pieces = []
        places = []  # (virtual start, virtual end, field)
        column = 1
        head = [command_field, chain_field] + list(extra)
        for index, fld in enumerate(head + rest):
            if fld.known:
                raw = _display(fld.text)
                kind = BANG if fld.text == "!" else WORD
                token = (kind, fld.text, raw, column)
            else:
                raw = _short(fld.word.text, 60) or "?"
                token = (UNKNOWN, raw, raw, column)
            if index >= len(head):
                tokens.append(token)
            pieces.append(raw)
            places.append((column, column + len(raw) - 1, fld))
            column += len(raw) + 1
        virtual = " ".join(pieces)
        for fld in rest:
            if not fld.known:
                self._unresolved(fld, "the rule is kept and this value treated as may-match")
        diagnostics: list[Diagnostic] = []
        reader.diagnostics = diagnostics
        rule_column = places[0][0]
        matches, verdict, comment, ignore = reader.read(tokens, virtual, node.line, builtin_chain, rule_column, 0)
        for diag in diagnostics:
            self._map_diagnostic(diag, places)
        if ignore:
            return None
        # The rule as iptables-save prints the resulting state: -A CHAIN and its options.
        text = " ".join(["-A", pieces[1]] + pieces[len(head):])
        return Rule(matches, verdict, self._rule_span(node, fields), comment, (), text)

    def _map_diagnostic(self, diag: Diagnostic, places) -> None:
        vcol = diag.span.column
        chosen = places[0]
        for place in places:
            if place[0] <= vcol:
                chosen = place
        start, _, fld = chosen
        word = fld.word
        line, column = word.line, word.column
        width = len(word.text.split("\n")[0]) or 1
        if fld.known and word.literal == fld.text and word.bare == word.text and "\n" not in word.text:
            column = word.column + (vcol - start)
            width = max((diag.span.end_column or vcol) - vcol + 1, 1)
        self._diag(diag.code, diag.message, line, column, width, diag.hint)

    # -- iptables-restore
    def restore(self, node: Simple, fields: list[Field], family: Family, stdin=None) -> bool | None:
        self.unknown_here = False
        flush = True
        test_only = False
        files = []
        k = 1
        while k < len(fields):
            fld = fields[k]
            text = fld.text if fld.known else None
            if text in ("-n", "--noflush"):
                flush = False
            elif text in ("-t", "--test"):
                test_only = True
            elif text in ("-w", "--wait", "-W", "--wait-interval", "-T", "--table", "-M", "--modprobe"):
                if text not in ("-w", "--wait") or (k + 1 < len(fields) and fields[k + 1].known
                                                   and fields[k + 1].text.isdigit()):
                    k += 1
            elif text is None or not text.startswith("-"):
                files.append(fld)
            k += 1
        lines = None
        unknown_input = None
        if stdin is not None:
            lines, unknown_input = stdin
            if unknown_input is not None:
                lines = None
        for redirect in node.redirects:
            if redirect.heredoc is not None and (redirect.fd in (None, "0")):
                lines = self._heredoc_lines(redirect.heredoc)
                unknown_input = None
            elif redirect.op == "<" and redirect.target is not None and redirect.fd in (None, "0"):
                files.append(Field(redirect.target.text, redirect.target))
        tool = fields[0].text.rsplit("/", 1)[-1]
        if lines is None:
            if files:
                what = files[0].word.text
                self._diag(UNRESOLVED, f"{_short(what)} is read by {tool}; portlint does not read that file here",
                           files[0].word.line, files[0].word.column,
                           hint="Lint that file too (portlint reads iptables-save files)")
            elif unknown_input is not None:
                self._diag(UNRESOLVED, f"The input of {tool} comes from '{_short(self._node_text(unknown_input))}', "
                                       "which portlint cannot know; the rules it loads are not read",
                           unknown_input.line, unknown_input.column)
            self._mark(node, "opaque")
            return True
        if test_only:
            return True
        self._restore_document(node, lines, family, flush)
        return True

    def _unmark_texts(self, family: Family) -> None:
        """Rule texts read from marked input show the values as written ($ADMIN), not the marks."""
        for table in self._store(family).tables.values():
            for chain in table.chains.values():
                rules = chain.merged()
                for index, rule in enumerate(rules):
                    if "\u27e6" in rule.text:
                        text = _HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, rule.text)
                        rules[index] = dc_replace(rule, text=text)

    def _heredoc_lines(self, doc) -> list[tuple[int, str, int]]:
        """The lines of a here-document as (script line, text, column shift), expanded unless quoted."""
        out = []
        for lineno, text, stripped in doc.body:
            if doc.quoted or ("$" not in text and "`" not in text and "\\" not in text):
                out.append((lineno, text, stripped))
                continue
            parts = expand_heredoc_line(text)
            word = Word(tuple(parts), lineno, stripped + 1, lineno, stripped + len(text), text)
            pieces = []
            position = 0
            for part in parts:
                if type(part) is Lit:
                    pieces.append(part.text)
                    position += len(part.text)
                    continue
                value = self.expand_part_text(part, word)
                raw = getattr(part, "raw", "") or ("$(" + part.text + ")" if type(part) is CommandSub else "$((...))")
                if isinstance(value, Unknown):
                    at = text.find(raw[:2], position)
                    column = (at if at >= 0 else position) + 1 + stripped
                    pieces.append(self._mark_unknown(Field(raw, Word((part,), lineno, column, lineno,
                                                                     column + len(raw) - 1, raw), value)))
                else:
                    pieces.append(value)
                position = text.find(raw, position) + len(raw) if raw and raw in text[position:] else position
            self._spend(sum(map(len, pieces)), word)
            out.append((lineno, "".join(pieces), stripped))
        return out

    def _restore_document(self, node: Simple, lines: list[tuple[int, str, int]], family: Family,
                          flush: bool) -> None:
        """Read iptables-restore input (here-document or echoed lines) onto the family's tables."""
        if not lines:
            return
        shifts = {lineno: shift for lineno, _, shift in lines if shift}
        numbers = [lineno for lineno, _, _ in lines]
        reader = self._reader(family)
        diagnostics: list[Diagnostic] = []
        reader.diagnostics = diagnostics
        marked = []

        def hook(tokens, line, lineno):
            if "\u27e6" not in line:
                return tokens
            out = []
            for tok in tokens:
                m = _HEREDOC_MARK.search(tok[1])
                if m is None:
                    out.append(tok)
                    continue
                index = int(m.group(1))
                fld = self._marks[index]
                marked.append(index)
                if index not in self._marks_reported:
                    self._marks_reported.add(index)
                    self._unresolved(fld, "the rule is kept and this value treated as may-match")
                raw = _HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, tok[2])
                out.append((UNKNOWN, raw, raw, tok[3]))
            return out

        source = SourceFile(self.path, "\n".join(text for _, text, _ in lines))
        _FileReader(source, self._store(family), numbers[0], restore=flush, shifts=shifts, token_hook=hook,
                    rules=reader, line_numbers=numbers).read()
        for diag in diagnostics:
            shift = shifts.get(diag.span.line, 0)
            self._diag(diag.code, _HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, diag.message),
                       diag.span.line, diag.span.column + shift,
                       (diag.span.end_column or diag.span.column) - diag.span.column + 1, diag.hint)
        if marked:
            self._unmark_texts(family)
        # Each line of the input that is a command (*table, :CHAIN, -A...) counts as one iptables command.
        errors = {d.span.line for d in diagnostics if d.code in (SYNTAX, INVALID, "PL012")}
        for lineno, text, shift in lines:
            if not text.lstrip()[:1] in ("*", ":", "-", "["):
                continue
            state = "error" if lineno in errors else "opaque" if "\u27e6" in text else "understood"
            self._mark_at((lineno, shift + 1 + len(text) - len(text.lstrip())), state)


_BINARY = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "=~", "<", ">"}


def _binary(op: str, left: str | None, right: str | None, double: bool) -> bool | None:
    if left is None or right is None:
        return None
    if op in ("=", "=="):
        return fnmatch.fnmatchcase(left, right) if double else left == right
    if op == "!=":
        return not fnmatch.fnmatchcase(left, right) if double else left != right
    if op == "=~":
        try:
            return re.search(right, left) is not None
        except re.error:
            return None
    if op in ("<", ">"):
        return left < right if op == "<" else left > right
    try:
        a, b = bounded_int(left), bounded_int(right)
    except ValueError:
        return None
    return {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b, "-ge": a >= b}[op]


def _looks_like_option(fld: Field) -> bool:
    return fld.known and fld.text.startswith("-") and len(fld.text) > 1


def _has_glob(fld: Field) -> bool:
    if not fld.known:
        return False
    unquoted = "".join(p.text for p in fld.word.parts if type(p) is Lit and not p.quoted)
    return any(c in unquoted for c in "*?[") and any(c in fld.text for c in "*?[")


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _trim(value: str, pattern: str, op: str) -> str:
    if op in ("#", "##"):
        ends = range(len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for end in ends:
            if fnmatch.fnmatchcase(value[:end], pattern):
                return value[end:]
        return value
    starts = range(len(value), -1, -1) if op == "%" else range(len(value) + 1)
    for start in starts:
        if fnmatch.fnmatchcase(value[start:], pattern):
            return value[:start]
    return value


_BRACE_RANGE = re.compile(r"(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?\Z|([A-Za-z])\.\.([A-Za-z])\Z")
MAX_BRACE_WORDS = 1024


def _brace_variants(parts: list) -> list[list]:
    """Bash brace expansion of a word's unquoted text: a{b,c} -> ab ac, {1..3} -> 1 2 3."""
    for index, part in enumerate(parts):
        if type(part) is not Lit or part.quoted or "{" not in part.text:
            continue
        text = part.text
        start = text.find("{")
        while start >= 0:
            found = _brace_group(text, start)
            if found is not None:
                end, alternatives = found
                before, after = Lit(text[:start]), Lit(text[end + 1:])
                variants = []
                for alternative in alternatives:
                    rest = _brace_variants([after] + list(parts[index + 1:]))
                    for tail in rest:
                        variants.append(list(parts[:index]) + [before, Lit(alternative, True)] + tail)
                        if len(variants) >= MAX_BRACE_WORDS:
                            return variants
                return variants
            start = text.find("{", start + 1)
    return [parts]


def _brace_group(text: str, start: int):
    """(end, alternatives) of the brace group opening at ``start``, or None when it is not one."""
    depth = 0
    commas = []
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                inner = text[start + 1:i]
                if commas:
                    bounds = [start] + commas + [i]
                    return i, [text[a + 1:b] for a, b in zip(bounds, bounds[1:])]
                m = _BRACE_RANGE.match(inner)
                if m is None:
                    return None
                if m.group(1) is not None:
                    lo, hi = bounded_int(m.group(1)), bounded_int(m.group(2))
                    step = abs(bounded_int(m.group(3) or "1")) or 1
                    if abs(hi - lo) // step > MAX_BRACE_WORDS:
                        return None
                    values = range(lo, hi + 1, step) if lo <= hi else range(lo, hi - 1, -step)
                    return i, [str(v) for v in values]
                a, b = ord(m.group(4)), ord(m.group(5))
                return i, [chr(c) for c in (range(a, b + 1) if a <= b else range(a, b - 1, -1))]
        elif ch == "," and depth == 1:
            commas.append(i)
    return None


def _c_escapes(text: str) -> str:
    """echo -e / printf backslash escapes (\\n, \\t, \\\\ and \\")."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}.get(m.group(1),
                                                                                    "\\" + m.group(1)), text)


def _printf(fmt: str, values: list[str]) -> str:
    """printf FORMAT ARGS for %s, %d, %b and %%, repeating the format while arguments remain."""
    out = []
    values = list(values)
    while True:
        used = False

        def conversion(m):
            nonlocal used
            if m.group(1) == "%":
                return "%"
            used = True
            return values.pop(0) if values else ""
        out.append(_c_escapes(re.sub(r"%[-0-9.]*([sdb%])", conversion, fmt)))
        if not values or not used:
            break
    return "".join(out)


def _display(text: str) -> str:
    """A value as iptables-save prints it: quoted when it holds white space or quotes."""
    if text and not any(c in text for c in ' \t"\'\\') :
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_script(source: SourceFile) -> tuple[ParseResult, Stats]:
    """The ruleset a script leaves, its diagnostics, and how its iptables commands were read."""
    reader = ScriptReader(source)
    result = reader.read()
    return result, reader.stats()


def parse(source: SourceFile) -> ParseResult:
    """Read a shell script that calls iptables/ip6tables into a Ruleset (both families when it uses both)."""
    return ScriptReader(source).read()
