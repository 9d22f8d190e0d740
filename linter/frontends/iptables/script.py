"""The iptables-script front end: shell scripts that call iptables, read without running them.

The script is read by linter/frontends/shell/parser.py and then *replayed symbolically*:
its commands are walked in order with a table of shell variables, and every iptables
command is applied to a model of the tables (linter.frontends.iptables.save.TableStore),
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

import re
from dataclasses import replace as dc_replace

from linter.budgets import MAX_SHELL_EXPANSION_CHARS
from linter.diagnostics import Diagnostic
from linter.frontends import FrontEndOptions, ParseResult, container_run
from linter.frontends.firewalld.command import NAMES as FIREWALL_CMD_NAMES, FirewallCmdState
from linter.frontends.iptables import options as opt
from linter.frontends.iptables.other_commands import OtherCommands
from linter.frontends.iptables.rule_options import statements_for
from linter.frontends.iptables.rule_reader import RuleReader
from linter.frontends.iptables.save import FileReader
from linter.frontends.iptables.tables import chain_names, ChainState, same_rule, TableStore
from linter.frontends.iptables.tokens import BANG, INVALID, LOADER, RESTRICT_EXAMPLE, SYNTAX, UNKNOWN, WORD
from linter.frontends.shell.evaluation import ShellEvaluator
from linter.frontends.shell.parser import parse_script
from linter.frontends.shell.scanner import expand_heredoc_line
from linter.frontends.shell.syntax_tree import CommandSub, FunctionDef, Lit, Simple, Word
from linter.frontends.shell.values import (
    Budget,
    display,
    Exit,
    ExpansionBudget,
    Field,
    Frame,
    HEREDOC_MARK,
    IPT_VARIABLE,
    IPTABLES_NAMES,
    looks_like_option,
    MAX_COMMANDS,
    NEW_CHAIN_WORDS,
    PREFIXES,
    RESTORE_NAMES,
    short,
    Stats,
    Unknown,
    UNRESOLVED,
)
from linter.model import Family, Policy, Rule, Ruleset, Span
from linter.numbers import bounded_int, shown
from linter.source import SourceFile


FORMAT = "iptables-script"
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


class ScriptReader(OtherCommands, ShellEvaluator):
    """Replays a shell script's iptables and iptables-restore commands into tables."""

    def __init__(self, source: SourceFile, read_policy=None) -> None:
        self.source = source
        self.read_policy = read_policy
        self.ufw = None  # a UfwState, created by the first ufw command (linter/frontends/ufw)
        self.containers: list = []  # services of docker/podman run commands (other_commands.py)
        self.path = source.path
        self.text = source.text
        self.lines = source.text.split("\n")
        self.diagnostics: list[Diagnostic] = []
        self.vars: dict[str, object] = {}
        self.functions: dict[str, FunctionDef] = {}
        self.frames: list[Frame] = []
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
        except Exit:
            pass
        except Budget as exc:
            self._diag(UNRESOLVED, f"The script runs more than {MAX_COMMANDS:,} commands when its loops and calls "
                       "are unrolled (the command budget); the rest is not read", exc.node.line, exc.node.column)
        except ExpansionBudget as exc:
            self._diag(UNRESOLVED, f"The script's expansions produce more than {MAX_SHELL_EXPANSION_CHARS:,} "
                       "characters (the expansion budget); the rest is not read", exc.word.line, exc.word.column,
                       len(exc.word.text.split("\n", 1)[0]))
        if self.ufw is not None:
            self.load_ufw()
        return self.result()

    def result(self) -> ParseResult:
        """The ruleset, and the run commands' publications as a second document (only document
        when the script touches no firewall)."""
        if not self.containers:
            return ParseResult(self.build(), self.diagnostics)
        project = container_run.project(self.path, self.containers)
        if not self.stores and self.firewalld is None:
            return ParseResult(project, self.diagnostics)
        return ParseResult(self.build(), self.diagnostics, extra=(project,))

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
        return Ruleset(self.path, FORMAT, family, tuple(tables), loader=LOADER, restrict_example=RESTRICT_EXAMPLE)

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
    def command(self, node: Simple, fields: list[Field], stdin=None) -> bool | None:
        # Strip wrappers: sudo, env, nice, command... (a function of the script goes first, as in the shell)
        no_functions = False
        while fields:
            head = fields[0]
            if not head.known:
                break
            name = head.text.rsplit("/", 1)[-1]
            options = PREFIXES.get(name)
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
        if name == "ufw":
            return self.ufw_command(node, fields)
        if name in container_run.ENGINES:
            return self.container_command(node, fields, name)
        return self.builtin(node, name, fields)

    def _iptables_by_name(self, head: Field) -> Family | None:
        unknown = head.unknown
        name = unknown.name if unknown is not None and unknown.name else head.word.text
        if not IPT_VARIABLE.search(name or ""):
            return None
        return Family.IPV6 if "6" in name else Family.IPV4

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
            self._prescan = chain_names(self.text) + NEW_CHAIN_WORDS.findall(self.text)
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
                if command in _NEEDS_CHAIN or (k < n and not looks_like_option(tokens[k])):
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
            table.chains[chain_name] = ChainState(chain_name, span, None, True)
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
            chain = table.chains[name] = ChainState(name, span, Policy.ACCEPT if builtin else None, False)
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
                raw = display(fld.text)
                kind = BANG if fld.text == "!" else WORD
                token = (kind, fld.text, raw, column)
            else:
                raw = short(fld.word.text, 60) or "?"
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
        return Rule(matches, verdict, self._rule_span(node, fields), comment, statements_for(verdict), text)

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
                self._diag(UNRESOLVED, f"{short(what)} is read by {tool}; portlint does not read that file here",
                           files[0].word.line, files[0].word.column,
                           hint="Lint that file too (portlint reads iptables-save files)")
            elif unknown_input is not None:
                self._diag(UNRESOLVED, f"The input of {tool} comes from '{short(self._node_text(unknown_input))}', "
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
                        text = HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, rule.text)
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
                m = HEREDOC_MARK.search(tok[1])
                if m is None:
                    out.append(tok)
                    continue
                index = int(m.group(1))
                fld = self._marks[index]
                marked.append(index)
                if index not in self._marks_reported:
                    self._marks_reported.add(index)
                    self._unresolved(fld, "the rule is kept and this value treated as may-match")
                raw = HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, tok[2])
                out.append((UNKNOWN, raw, raw, tok[3]))
            return out

        source = SourceFile(self.path, "\n".join(text for _, text, _ in lines))
        FileReader(source, self._store(family), numbers[0], restore=flush, shifts=shifts, token_hook=hook,
                    rules=reader, line_numbers=numbers).read()
        for diag in diagnostics:
            shift = shifts.get(diag.span.line, 0)
            self._diag(diag.code, HEREDOC_MARK.sub(lambda g: self._marks[int(g.group(1))].text, diag.message),
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


def read_script(source: SourceFile) -> tuple[ParseResult, Stats]:
    """The ruleset a script leaves, its diagnostics, and how its iptables commands were read."""
    reader = ScriptReader(source)
    result = reader.read()
    return result, reader.stats()


def parse(source: SourceFile, options: FrontEndOptions | None = None) -> ParseResult:
    """Read a shell script that calls iptables/ip6tables or ufw into a Ruleset (both families when it
    uses both); its docker/podman run commands become a ComposeProject (ParseResult.extra, or the
    document itself when the script touches no firewall)."""
    return ScriptReader(source, options.read_policy if options is not None else None).read()
