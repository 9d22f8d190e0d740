"""The iptables-save front end: iptables-save / ip6tables-save output into the common model.

Reads the iptables-restore input format for every table (filter, nat, mangle, raw,
security): ``*table``, ``:CHAIN POLICY [packets:bytes]``, ``-A``/``-I`` rules (with or
without ``[p:b]`` counters), ``-N``/``-P``/``-F``/``-Z``/``-X``, ``COMMIT`` and comments.

Division of labour
------------------
* ``grammars/iptables.lark`` defines the structure of one line and what a token is
  (a word, a double-quoted string with backslash escapes, the ``!`` mark). Lark parses
  every line the fast path below does not take; its errors, named by
  ``match_examples`` or by the terminals the parser expected, become the PL010
  diagnostics (the caret excerpt is made by linter.diagnostics.caret_excerpt at Lark's
  error column, so it counts columns as every other diagnostic does).
* Lark costs about 100 µs per rule line (10,000 rules/s), too slow for 100,000-rule
  files. Well-formed lines therefore take a fast path: regular expressions for the
  ``-A``/``-I`` head, ``:CHAIN POLICY [p:b]`` and ``*table`` lines and a tokenizer for
  the option list, all assembled from the grammar's own terminal patterns, so a token
  is exactly what the grammar says it is. The fast path only ever accepts a subset of
  what the grammar accepts; anything else (including every malformed line) goes to
  Lark. ``tests/frontends/test_iptables_save.py`` checks that both agree.
* Rule lines of one shape (the same options with other values) are interpreted once:
  ``plans.py`` fills later lines' addresses, ports, comments, jump chains and NAT targets
  into the first clean read of the shape (none of this with a script's token hook), and
  ``shape_runs.py`` reads runs of lines of the recent shapes (and ``_declarations`` runs of
  ``:CHAIN - [p:b]`` lines) in one loop, where each line's number is its own.
* The meaning of the option list is not context-free: which module an option belongs
  to and how many arguments it takes depend on the ``-m``/``-p``/``-j`` seen earlier
  in the rule (``--set`` takes no argument after ``-m recent`` and two after
  ``-m set``). That is read by ``RuleReader`` from the tables in
  ``linter/frontends/iptables/options.py``, the way iptables' own getopt loop does:
  the most recently loaded module first, then the protocol's module (``-p tcp
  --dport 22`` loads ``tcp`` implicitly), then unambiguous abbreviations
  (``--dpo``), then "Unknown option" (PL012).
* The tables being built live in a ``TableStore`` (chains, rules in order, ``-I n``,
  ``-D``, ``-R``, flushes). The iptables-script front end replays a shell script's
  commands onto one, reads their options with ``RuleReader``, and feeds here-documents
  to ``FileReader`` (at the script's line numbers, replacing each table it names as
  iptables-restore does). Its option tokens may be of kind ``UNKNOWN`` (a value the
  script leaves unknown): ``RuleReader`` makes the option holding one a may-match.

Modelling choices
-----------------
* Each ``-m`` module becomes at most one OpaqueMatch (module name, its options as
  written) unless portlint models it: ports (tcp/udp/sctp/dccp ``--sport``/
  ``--dport``, multiport ``--sports``/``--dports``), ``state``/``conntrack --ctstate``,
  ``addrtype``, ``iprange``; their other options (``--tcp-flags``, ``--ctstatus``,
  ``--limit-iface-in``...) form the module's OpaqueMatch. An OpaqueMatch is negated
  only when it holds exactly one option and that option was negated; otherwise the
  ``!`` stays in its text.
* ``multiport --ports`` matches when the source *or* the destination port is in the
  list; a rule's matches are ANDed, so no PortMatch can say that: it is an OpaqueMatch.
* ``-m comment --comment`` sets Rule.comment (several are joined with "; ").
* ``-s a,b`` is one AddressMatch with both. iptables expands lists into one rule per
  address, so ``! -s a,b`` becomes "not a" OR "not b", i.e. "not in (a and b)": it is
  modelled as a negated match of the intersection (often empty: it matches everything).
* A value portlint cannot read (port 70000, a bad address) is a PL011 diagnostic and the
  option becomes an OpaqueMatch, so the rule is treated as may-match rather than as
  broader than written. A missing value is PL010. A value iptables accepts but portlint
  does not model (a host name, a non-contiguous netmask) is PL013 and an OpaqueMatch.
* Values of modules kept verbatim are not checked (a malformed --mac-source is kept).
* An unknown match module is an OpaqueMatch plus PL013 (info); its options are taken
  up to the next top-level option (``-m``, ``-j``, ``-p``, ``! -s``...) or the next
  option of a module already loaded in the rule.
* ``-j NAME`` is a target extension when iptables knows one by that name (and no chain
  of the file has it), else a jump. A jump to a chain the file never declares is left
  as it is for the hygiene checks (PL404), which is what fragments such as ufw's
  after.rules need. A name followed by options nothing loaded knows is an unknown
  target extension: PL011, an OTHER non-terminal verdict, its options kept.
* Verdict.target names the target for LOG/NFLOG/ULOG too (kind LOG), not only OTHER.
* Several blocks of the same table are merged, in file order. ``-N``, ``-P``, ``-F``,
  ``-X``, ``-Z`` lines (which iptables-restore accepts) declare, set the policy of,
  flush and delete chains.
* White space iptables-restore refuses (CR LF line ends, "COMMIT ", indented ``*``,
  ``:`` or ``#`` lines, lines of spaces) is reported as PL010, and the line is read.
"""

from __future__ import annotations

import re
from itertools import islice

from linter import collector
from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends import ParseResult
from linter.frontends.iptables import options as opt
from linter.frontends.makers import rule as make_rule, span as make_span
from linter.frontends.iptables.plans import ShapePlans
from linter.frontends.iptables.rule_options import statements_for
from linter.frontends.iptables.rule_reader import RuleReader
from linter.frontends.iptables.shape_runs import NO_SHAPE, ShapeRuns
from linter.frontends.iptables.tables import (chain_names, ChainState, detect_family, TableState, TableStore,
                                              target_chain_names)
from linter.frontends.iptables.tokens import (
    describe_error,
    fast_path,
    INVALID,
    LAYOUT,
    line_parser,
    SYNTAX,
    tokens_from_tree,
    WORD,
)
from linter.model import Policy, Rule, Span
from linter.numbers import bounded_int, shown
from linter.source import SourceFile


class FileReader:
    """Reads iptables-restore input into a TableStore.

    The shell-script front end uses it for here-documents fed to iptables-restore:
    ``store`` is the script's state for that family, ``first_line`` the script line of the
    document's first line, ``restore`` makes every ``*table`` line flush the table first
    (as iptables-restore does without --noflush), ``shifts`` adds columns per line (tabs a
    ``<<-`` here-document lost) and ``token_hook`` may rewrite a rule's option tokens.
    ``line_numbers`` gives the script line of each line of the text when they are not
    consecutive (lines echoed into iptables-restore).
    """

    def __init__(self, source: SourceFile, store: TableStore | None = None, first_line: int = 1,
                 restore: bool = False, shifts: dict[int, int] | None = None, token_hook=None,
                 rules: RuleReader | None = None, line_numbers: list[int] | None = None,
                 implicit_table: str | None = None) -> None:
        self.source = source
        self.implicit_table = implicit_table
        self.path = source.path
        self.diagnostics: list[Diagnostic] = []
        text = source.text
        if store is None:
            store = TableStore(self.path, detect_family(text))
        self.store = store
        self.tables = store.tables
        self.table: TableState | None = None
        self.family = store.family
        if rules is None:
            rules = RuleReader(self.path, self.family, lambda: chain_names(text), self.diagnostics,
                               lambda: target_chain_names(text))
        else:
            self.diagnostics = rules.diagnostics
        self.rules = rules
        self.fast = fast_path()
        # Lines of a shape read before only have their values read (plans.py); not with a token hook.
        self.plans = ShapePlans(rules, self.fast.head) if token_hook is None else None
        # Runs of lines of recent shapes are read in one loop (shape_runs.py), where each line's
        # number and columns are its own (no script's line numbers or tab shifts).
        self.runs = None
        if self.plans is not None and line_numbers is None and not shifts:
            self.runs = ShapeRuns(self.plans, self.fast.chain_word)
        self._lines: list[str] | None = None
        self.split: list[str] | None = None  # the text's lines, once ``read`` split it
        self.offset = first_line - 1
        self.line_numbers = line_numbers
        self.restore = restore
        self.shifts = shifts or {}
        self.token_hook = token_hook

    def _report(self, code, message, line_no, line, column, width=1, hint=None):
        self.diagnostics.append(Diagnostic(
            code, message, Span(self.path, line_no, column, line_no, column + max(width, 1) - 1),
            hint=hint, excerpt=caret_excerpt(line, column)))

    def read(self) -> ParseResult:
        read_rule = self.fast.read_rule
        plans = self.plans
        chain_line = self.fast.chain.match
        table_line = self.fast.table.match
        crlf_reported = False
        runs = self.runs
        lines = self.split = self.source.text.split("\n")
        numbered = zip(self.line_numbers, lines) if self.line_numbers else enumerate(lines, 1 + self.offset)
        first_index = 1 + self.offset  # lineno - first_index: the line's index in ``lines`` (with ``runs``)
        if self.implicit_table:
            # `iptables -S` output: the table is the one listed (filter unless -t named another),
            # chains come as -P/-N commands, and there is no COMMIT.
            self._table_line(self.implicit_table, 1, lines[0] if lines else "", 1)
        for lineno, line in numbered:
            if line.endswith("\r"):
                line = line[:-1]
                if not crlf_reported:
                    crlf_reported = True
                    self._report(LAYOUT, "Windows line ending (CR LF); iptables-restore rejects the file", lineno,
                                 line, len(line) + 1, hint="convert the file to Unix line endings (LF)")
            first = line[:1]
            if first == "-" or first == "[" or (first in " \t" and line.lstrip(" \t")[:1] in ("-", "[")):
                if plans is not None and self.table is not None:
                    patterns = True
                    if runs is not None:
                        taken = runs.read(lines, lineno - first_index, line, lineno, self.table, self)
                        if taken > 0:
                            if taken > 1:
                                next(islice(numbered, taken - 2, None), None)  # skip the others read
                            continue
                        patterns = taken != NO_SHAPE
                    planned = plans.lookup(line, self.table.builtin, patterns)
                    if planned is not None:
                        self._planned_rule(planned[0], planned[1], line, lineno)
                        continue
                fast = read_rule(line)
                if fast is not None:
                    self._rule(*fast, line, lineno)
                    continue
                if plans is not None:
                    plans.pending = None
            elif first == "#" or not line:
                continue
            elif first == ":":
                if runs is not None and self.table is not None:
                    taken = self._declarations(lines, lineno - first_index, lineno)
                    if taken:
                        if taken > 1:
                            next(islice(numbered, taken - 2, None), None)  # skip the others read
                        continue
                m = chain_line(line)
                if m is not None:
                    self._chain_line(m.group(1), m.group(2), m.start(2) + 1, line, lineno)
                    continue
            elif first == "*":
                m = table_line(line)
                if m is not None:
                    self._table_line(m.group(1), 2, line, lineno)
                    continue
            elif line == "COMMIT":
                self._commit(line, lineno)
                continue
            self._lark_line(line, lineno)
        if self.table is not None and self.table.open:
            if self.implicit_table:
                self.table.open = False
            else:
                self._missing_commit(self.table)
        return ParseResult(self.store.build(), self.diagnostics)

    def _span(self, lineno: int, column: int, end: int) -> Span:
        shift = self.shifts.get(lineno, 0) if self.shifts else 0
        return make_span(self.path, lineno, column + shift, lineno, end + shift)

    def _layout(self, line: str, lineno: int, what: str) -> None:
        """iptables-restore reads "*", ":", "#" and COMMIT only in column 1, and COMMIT alone."""
        column = _first_column(line)
        if column > 1:
            self._report(LAYOUT, f"{what} must start in column 1; iptables-restore rejects the line", lineno, line,
                         column)
        elif what == "COMMIT" and line != "COMMIT":
            self._report(LAYOUT, "Text after COMMIT; iptables-restore rejects the line", lineno, line, 7)

    # -- lines through Lark
    def _lark_line(self, line: str, lineno: int) -> None:
        from lark.exceptions import UnexpectedInput

        try:
            tree = line_parser().parse(line)
        except UnexpectedInput as exc:
            message, column = describe_error(exc, line)
            self._report(SYNTAX, message, lineno, line, column)
            if self.table is not None:
                self.table.last_line = lineno
            return
        if not tree.children:
            self._report(LAYOUT, "Line of spaces; iptables-restore rejects it (no command specified)", lineno, line, 1,
                         hint="remove the spaces or the line")
            return
        node = tree.children[0]
        kind = node.data
        items = node.children
        if kind in ("table_line", "chain_line", "commit_line", "comment_line"):
            self._layout(line, lineno, {"table_line": "A *table line", "chain_line": "A :CHAIN line",
                                        "commit_line": "COMMIT", "comment_line": "A # comment"}[kind])
        if kind == "table_line":
            self._table_line(str(items[0]), items[0].column, line, lineno)
        elif kind == "chain_line":
            self._chain_line(str(items[0]), str(items[1]), items[1].column, line, lineno)
        elif kind == "commit_line":
            self._commit(line, lineno)
        elif kind == "rule_line":
            command = items[-1]
            self._command(command.data, command.children, line, lineno)

    def _need_table(self, what: str, line: str, lineno: int, column: int) -> TableState | None:
        if self.table is None:
            self._report(SYNTAX, f"{what} outside a table; a *table line (*filter, *nat...) must come first",
                         lineno, line, column)
        else:
            self.table.last_line = lineno
        return self.table

    def _commit(self, line: str, lineno: int) -> None:
        table = self._need_table("COMMIT", line, lineno, _first_column(line))
        if table is not None:
            table.open = False
            table.last_line = lineno
            self.table = None

    def _table_line(self, name, column, line, lineno):
        if self.table is not None and self.table.open:
            self._missing_commit(self.table)
        span = self._span(lineno, _first_column(line), len(line.rstrip()))
        if name not in opt.BUILTIN_CHAINS:
            self._report(INVALID, f"Unknown table {name!r} (filter, nat, mangle, raw or security)", lineno, line,
                         column, len(name))
        table = self.store.table(name, span)
        if self.restore:
            table.reset()  # iptables-restore without --noflush replaces the table
        table.open = True
        table.last_line = lineno
        self.table = table

    def _missing_commit(self, table: TableState) -> None:
        line = self._line(table.last_line)
        self._report(SYNTAX, f"Missing COMMIT at the end of table {table.name!r}", table.last_line, line, 1,
                     hint="iptables-restore applies a table only when it reads COMMIT")
        table.open = False

    def _line(self, lineno: int) -> str:
        if self._lines is None:
            self._lines = self.source.text.split("\n")
        if self.line_numbers:
            lineno = self.line_numbers.index(lineno) + 1 if lineno in self.line_numbers else 0
        else:
            lineno -= self.offset
        return self._lines[lineno - 1].rstrip("\r") if 0 < lineno <= len(self._lines) else ""

    def _chain_line(self, name, policy, policy_column, line, lineno):
        table = self._need_table("Chain declaration", line, lineno, 1)
        if table is None:
            return
        span = self._span(lineno, _first_column(line), len(line.rstrip()))
        if policy != "-" or name in table.builtin:  # a user chain's "-" is no policy, and right
            policy = self._policy(table, name, policy, policy_column, line, lineno)
        else:
            policy = None
        chain = table.chains.get(name)
        if chain is None:
            table.chains[name] = ChainState(name, span, policy, True)
        else:
            chain.policy = policy if policy is not None else chain.policy
            if not chain.declared:
                chain.declared = True
                chain.span = span

    def _declarations(self, lines: list[str], index: int, lineno: int) -> int:
        """How many lines from ``lines[index]`` (line ``lineno``) were new user chains of the table
        being read, declared ``:NAME - [p:b]`` in one piece (kube-proxy's thousands): what
        ``_chain_line`` makes of such lines, without its questions."""
        declaration = self.fast.user_chain
        table = self.table
        builtin = table.builtin
        chains = table.chains
        path = self.path
        start = index
        last = len(lines)
        while index < last:
            line = lines[index]
            m = declaration(line)
            if m is None:
                break
            name = m.group(1)
            if name in chains or name in builtin:
                break
            chains[name] = ChainState(name, make_span(path, lineno, 1, lineno, len(line)), None, True)
            index += 1
            lineno += 1
        if index > start:
            table.last_line = lineno - 1
        return index - start

    def _policy(self, table, name, value, column, line, lineno) -> Policy | None:
        if name not in table.builtin:
            if value not in ("-", "ACCEPT", "DROP"):
                self._report(INVALID, f"Invalid policy {value!r}", lineno, line, column, len(value))
            return None
        if value == "ACCEPT" or value == "-":
            return Policy.ACCEPT
        if value == "DROP":
            return Policy.DROP
        self._report(INVALID, f"Invalid policy {value!r} for a built-in chain (ACCEPT or DROP)", lineno, line,
                     column, len(value))
        return Policy.ACCEPT

    def _command(self, kind, items, line, lineno):
        if kind == "append" or kind == "insert":
            cmd, chain_tok = items[0], items[1]
            rest = items[2:]
            position = None
            if rest and rest[0].type == "POSITION":
                position = (WORD, str(rest[0]), str(rest[0]), rest[0].column)
                rest = rest[1:]
            self._rule("-A" if kind == "append" else "-I", str(chain_tok), chain_tok.column, position,
                       tokens_from_tree(rest), cmd.column, 0, line, lineno)
            return
        table = self._need_table("Chain command", line, lineno, items[0].column)
        if table is None:
            return
        chain_tok = items[1] if len(items) > 1 else None
        name = str(chain_tok) if chain_tok is not None else None
        if kind == "new_chain":
            if name in table.chains or name in table.builtin:
                self._report(INVALID, f"Chain {name!r} already exists", lineno, line, chain_tok.column, len(name))
                return
            span = self._span(lineno, items[0].column, len(line.rstrip()))
            table.chains[name] = ChainState(name, span, None, True)
            self.rules.add_chain(name)
        elif kind == "set_policy":
            if name not in table.builtin:
                self._report(INVALID, f"Only built-in chains have a policy; {name!r} is not one", lineno, line,
                             chain_tok.column, len(name))
                return
            policy = self._policy(table, name, str(items[2]), items[2].column, line, lineno)
            chain = self._chain(table, name, lineno, line, chain_tok.column, declare=True)
            chain.policy = policy
        elif kind == "flush":
            table.flush(name)
        elif kind == "delete_chain":
            table.delete_chains(name)
        # zero: counters are not modelled

    def _chain(self, table, name, lineno, line, column, declare=False) -> ChainState:
        chain = table.chains.get(name)
        if chain is None:
            span = self._span(lineno, column, column + len(name) - 1)
            builtin = name in table.builtin
            if not builtin and not declare:
                self._report(INVALID, f"Chain {name!r} is not declared", lineno, line, column, len(name),
                             hint=f"declare it with :{name} - [0:0] before its rules")
            chain = table.chains[name] = ChainState(name, span, Policy.ACCEPT if builtin else None, declare)
        return chain

    def undeclared_chain(self, table: TableState, name: str, lineno: int, line: str) -> ChainState:
        """The chain ``name`` an ``-A`` line adds a rule to, which ``table`` does not have yet
        (reported as undeclared unless built in); its name starts in column 4."""
        return self._chain(table, name, lineno, line, 4)

    def _planned_rule(self, chain_name, planned, line, lineno):
        """Add the rule of an ``-A`` line a shape plan read: ``planned`` is its (matches, verdict,
        comment, ignore, statements); the rule starts in column 1 and its chain in column 4."""
        table = self.table
        table.last_line = lineno
        chain = table.chains.get(chain_name)
        if chain is None:
            chain = self._chain(table, chain_name, lineno, line, 4)
        matches, verdict, comment, ignore, statements = planned
        if ignore:
            return
        end = len(line)
        if line[-1] == " ":
            end = len(line.rstrip(" \t"))
        where = make_span(self.path, lineno, 1, lineno, end) if not self.shifts else self._span(lineno, 1, end)
        chain.rules.append(make_rule(matches, verdict, where, comment, statements, line[:end]))

    def _rule(self, command, chain_name, chain_column, position, tokens, column, args_start, line, lineno):
        """Add one rule from its option tokens."""
        table = self.table
        if table is None:
            self._need_table("Rule", line, lineno, column)
            return
        table.last_line = lineno
        chain = table.chains.get(chain_name)
        if chain is None:
            chain = self._chain(table, chain_name, lineno, line, chain_column)
        if self.token_hook is not None:
            tokens = self.token_hook(tokens, line, lineno)
        reported = len(self.diagnostics)
        read = self.rules.read(tokens, line, lineno, chain_name if chain_name in table.builtin else "", column,
                               args_start)
        if self.plans is not None and self.plans.pending is not None:
            self.plans.learn(line, tokens, read, len(self.diagnostics) == reported)
        matches, verdict, comment, ignore = read
        if ignore:
            return
        end = len(line) - 1
        while line[end] in " \t":
            end -= 1
        end += 1
        span = Span(self.path, lineno, column, lineno, end) if not self.shifts else self._span(lineno, column, end)
        rule = Rule(matches, verdict, span, comment, statements_for(verdict), line[column - 1:end])
        if command == "-A":
            chain.rules.append(rule)
            return
        # -I: "-I CHAIN" (rule 1) is common and goes to a list kept in reverse, so that a file
        # of thousands of inserts stays linear; "-I CHAIN n" inserts into the merged list.
        if position is None or position[1] == "1":
            chain.front.append(rule)
            return
        rules = chain.merged()
        number = bounded_int(position[1])
        if not 1 <= number <= len(rules) + 1:
            self._report(INVALID, f"Cannot insert at rule {shown(position[1])}; chain {chain_name!r} has "
                                  f"{len(rules)} rules",
                         lineno, line, position[3], len(position[1]))
            number = len(rules) + 1 if number > 1 else 1
        rules.insert(number - 1, rule)


def _first_column(line: str) -> int:
    return len(line) - len(line.lstrip(" \t")) + 1


def parse(source: SourceFile) -> ParseResult:
    """Read iptables-save / ip6tables-save output (or ``iptables -S`` output) into a Ruleset, with
    diagnostics; ``iptables -L`` output is one finding saying what to lint instead."""
    listing = _LIST_OUTPUT.search(source.text[:65536])
    if listing is not None and not _TABLE_HEADER.search(source.text[:65536]):
        line = source.text.count("\n", 0, listing.start()) + 1
        return ParseResult(None, [Diagnostic(
            "PL004", "This is `iptables -L` output: it leaves out interfaces, negations and most match options, "
                     "so what it lets in cannot be judged", Span(source.path, line, 1),
            hint="Lint `iptables-save` (or `iptables -S`) output instead")])
    # The model is acyclic: the cycle collector has nothing to find while it is built and
    # would cost a third of the time on large files (linter/collector.py).
    with collector.paused():
        reader = FileReader(source, implicit_table=rules_listing_table(source.text))
        parsed = reader.read()
        source.share_lines(reader.split)  # findings quote lines: the same split, made once
        return parsed


_LIST_OUTPUT = re.compile(r"^Chain [^\s]+ \((?:policy (?:ACCEPT|DROP)|\d+ references)", re.M)
_TABLE_HEADER = re.compile(r"^\*[a-z]+\s*$", re.M)
_POLICY_COMMAND = re.compile(r"^-P[ \t]+(\S+)[ \t]+(?:ACCEPT|DROP)[ \t]*$", re.M)
_NAT_TARGET = re.compile(r"^-A\s.*\s-j[ \t]+(?:DNAT|SNAT|MASQUERADE|REDIRECT|NETMAP)\b", re.M)
_TABLE_NAMED = re.compile(r"^#.*\s-t[ \t]*(filter|nat|mangle|raw|security)\b", re.M)


def rules_listing_table(text: str) -> str | None:
    """The table of ``iptables -S`` output (-P/-N/-A commands, no ``*table`` line), or None when
    ``text`` is not such output: the table a ``# iptables -t nat -S`` comment names, else nat when
    the rules NAT (or only PREROUTING/POSTROUTING have policies), mangle when PREROUTING and
    FORWARD both have one, else filter."""
    head = text[:200_000]
    if _TABLE_HEADER.search(head):
        return None
    policies = {m.group(1) for m in _POLICY_COMMAND.finditer(head)}
    if not policies:
        return None
    named = _TABLE_NAMED.search(head)
    if named:
        return named.group(1)
    if _NAT_TARGET.search(head) or (policies & {"PREROUTING", "POSTROUTING"} and "FORWARD" not in policies):
        return "nat"
    if {"PREROUTING", "FORWARD"} <= policies:
        return "mangle"
    return "filter"
