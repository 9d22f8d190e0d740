"""Runs of rule lines of the shapes read last, read in one loop by one regular expression.

plans.py reads a line of a shape it has a plan for by the shape's pattern (shape_patterns.py),
trying the recent shapes' patterns one after the other, through a few calls per line. Once
the set of recent shapes has stayed the same for a while, this module compiles one
alternation of their patterns, and reads the lines that follow with it in a loop of its own:
one ``fullmatch`` per line picks the shape (``lastindex``: each shape's pattern, after an opening
shared with other shapes, is one group) and reads its values, which the plan's fill function
fills in (``Plan.filler``, or in the loop itself: ``Plan.lone``, ``Plan.pair``, ``Plan.two``); the rule is
added to its chain. The loop stops at the first line it does not take whole, which the usual
way reads. Compiling an alternation costs milliseconds: it is done only with enough lines
left to pay for it, and within a budget when the recent shapes keep changing.

Why it reads what plans.py reads: a line matches a shape's pattern only if it is of that shape
(shape_patterns.py), whichever of the patterns is tried first, except where a value is a
literal target (the line is then of another shape): a ``-j`` value may not be one in the
alternation (shape_source's guard, so a ``-j DROP`` line goes on to the shape where ``DROP``
is literal text), and any other such value stops the run. Shapes of a built-in chain come
before those of a user chain, whose pattern reads the chain name as a value, so a built-in
chain's line finds its own shape first. A user chain's name is read by the grammar's CHAIN
pattern, followed by a space, which is what ``ShapePlans.chain_read`` asks of it line by line
(the head pattern reads it whole); the other checks (a built-in chain of the table being read,
a value the plan cannot read) are the ones ``ShapePlans.by_pattern`` makes, and a line failing
one stops the run.
"""

from __future__ import annotations

import re

from linter.frontends.makers import RULE_BUILDER, SPAN_BUILDER
from linter.frontends.iptables.shape_patterns import LITERAL_TARGETS, VALUE, options_pieces
from linter.model import Rule, Span

STABLE = 48  # rule lines looked up with one set of recent shapes before their alternation is compiled
MAX_KEPT = 16  # alternations kept (a set of shapes seen again reuses its own)
# Compiling an alternation costs a few milliseconds, what reading 2,000 lines by it saves: one is
# compiled only with LINES_PER_COMPILE / 2 lines left to read, and after FREE_COMPILES, only when
# LINES_PER_COMPILE rule lines came with each.
FREE_COMPILES = 4
LINES_PER_COMPILE = 4096
NO_SHAPE = -1  # ``read``'s answer when no recent shape's pattern reads the line


class ShapeRuns:
    """Reads runs of rule lines for a FileReader through the patterns of its ShapePlans' recent shapes."""

    __slots__ = ("plans", "chain_word", "chain_at", "compiled", "lines", "match", "branches", "version", "current", "seen", "waited", "made", "clears")

    def __init__(self, plans, chain_word: str) -> None:
        self.plans = plans
        self.chain_word = chain_word  # the grammar's CHAIN: what the head pattern reads as a chain name
        self.match = None  # the alternation's fullmatch, or None
        # Per group number of a shape's line: (its built-in chain or None, the group numbers of its
        # values, or the one number when it has one value, whether it has one, the plan's filler and
        # its ``lone``, ``pair`` and ``two``); else None.
        self.branches: list = []
        self.chain_at = 0  # the group number of a user chain's name
        self.version = -1  # the version of plans.recent the alternation was made for
        self.current = False  # whether it was made for the recent shapes as they are
        self.seen = -1  # the version of plans.recent last looked at, and the lines looked up since
        self.waited = 0
        self.made: dict = {}  # the plans' ids -> (fullmatch, branches, chain_at)
        self.clears = 0  # plans.recent.clears when they were made
        self.compiled = 0  # alternations compiled, and rule lines looked at (a budget for the former)
        self.lines = 0

    def _update(self, remaining: int) -> None:
        """Compile the alternation of the recent shapes once they have stayed the same for STABLE lines
        (and ``remaining`` lines, those left in the text, may pay for it)."""
        recent = self.plans.recent
        if recent.version == self.version:
            return
        if recent.clears != self.clears:  # the plans were dropped: so are alternations of them
            self.forget()
            self.clears = recent.clears
        self.current = False
        if recent.version != self.seen:
            self.seen = recent.version
            self.waited = 0
        self.waited += 1
        if self.waited < STABLE:
            return
        entries = [plan for plan in recent.entries if plan.builtin_chain is not None]
        entries += [plan for plan in recent.entries if plan.builtin_chain is None]
        ids = tuple(id(plan) for plan in entries)
        made = self.made.get(ids)
        if not ids:
            made = (None, [], 0)
        elif made is None:
            if remaining < LINES_PER_COMPILE // 2 or (self.compiled >= FREE_COMPILES
                                                      and self.lines < self.compiled * LINES_PER_COMPILE):
                self.waited = 0  # compiling costs milliseconds: not more often than this
                return
            if len(self.made) >= MAX_KEPT:
                self.made.clear()
            made = self.made[ids] = _alternation(entries, self.chain_word)
            self.compiled += 1
        self.match, self.branches, self.chain_at = made
        self.version = recent.version
        self.current = True

    def forget(self) -> None:
        """Drop every alternation (the plans they were made of are gone)."""
        self.match = None
        self.branches = []
        self.chain_at = 0
        self.version = self.seen = -1
        self.current = False
        self.made.clear()

    def read(self, lines: list[str], index: int, first: str, lineno: int, table, reader) -> int:
        """How many rule lines from ``lines[index]`` (``first``: that line without its CR, at line
        ``lineno``) were read into ``table``'s chains for the FileReader ``reader`` (passed, not
        kept: no reference cycle); 0 when the first was not, NO_SHAPE when no recent shape's
        pattern reads it at all (so plans.py's own patterns need not be tried)."""
        plans = self.plans
        self.lines += 1
        if plans.reader.chains_changed != plans.chains_changed:
            return 0  # plans.lookup drops the plans (and these alternations) first
        self._update(len(lines) - index)
        match = self.match
        if match is None:
            return 0
        branches = self.branches
        chain_at = self.chain_at
        builtin = table.builtin
        chains = table.chains
        path = reader.path
        disjoint = LITERAL_TARGETS.isdisjoint
        literal = LITERAL_TARGETS
        new_span = SPAN_BUILDER
        new_rule = RULE_BUILDER
        line = first
        start_index = index
        # The chain of the last line and its rules: a run's lines mostly add to one chain, whose
        # name is looked up again only when it changes (a chain made for an undeclared name is in
        # ``chains`` from then on, so the one kept is the one a lookup would find).
        last_name = None
        rules = None
        checked = None  # the built-in chain of the last line that had one (found in ``builtin``)
        last = len(lines)
        while True:
            m = match(line)
            if m is None:
                if index == start_index and self.current:
                    return NO_SHAPE
                break
            chain_name, numbers, one, filler, lone, pair, two = branches[m.lastindex]
            # The values' groups alone: not every group of the alternation (m.groups()), most of them
            # None; one value is read and tested alone (no tuple, no isdisjoint call).
            if one:
                value = m[numbers]
                if value in literal:
                    break
            else:
                values = m.group(*numbers)
                if not disjoint(values):
                    break
            if chain_name is None:  # a user chain: the group of its name
                chain_name = m[chain_at]
                if chain_name in builtin or chain_name in literal:
                    break
            elif chain_name is not checked:  # a built-in chain: of this table (looked up once a run of it)
                if chain_name not in builtin:
                    break
                checked = chain_name
            try:
                if lone is not None:  # plans.py's ``one`` filler in place (one value, one match)
                    read, verdict, comment, ignore, statements = lone
                    matches = (read(value[1:-1] if value[0] == '"' else value),)
                elif pair is not None:  # plans.py's ``first_of_two``/``second_of_two`` and its ``option`` in place
                    (kept, second, read, memo, handler, negated, proto_name, plain, direction, make, verdict, comment,
                     ignore, statements) = pair
                    if value[0] == '"':
                        value = value[1:-1]
                    key = (handler, value, negated, proto_name)
                    made = memo.get(key)
                    if made is None:
                        ranges = plain(value)
                        # Ports in plain digits made here; any other text by the reader (the usual read's model).
                        made = read(value) if ranges is None else make(direction, ranges, negated)
                        memo[key] = made
                    matches = (kept, made) if second else (made, kept)
                elif two is not None:  # plans.py's ``two_matches``, its address memo and port ``option`` in place
                    known, read_address, kept, ports, port_memo, read, verdict, comment, ignore, statements = two
                    address, value = values
                    if address[0] == '"':
                        address = address[1:-1]
                    address_match = known(address)
                    if address_match is None:
                        address_match = read_address(address)
                    if value[0] == '"':
                        value = value[1:-1]
                    made = ports(value)
                    if made is None:
                        made = port_memo[value] = read(value)
                    matches = (address_match, kept, made)
                else:
                    matches, verdict, comment, ignore, statements = filler((value,) if one else values)
            except ValueError:  # BadValue: the usual read reports it
                break
            if chain_name != last_name:
                chain = chains.get(chain_name)
                if chain is None:
                    chain = reader.undeclared_chain(table, chain_name, lineno, line)
                last_name = chain_name
                rules = chain.rules
            if not ignore:
                if line[-1] == " ":
                    end = len(line.rstrip(" \t"))
                    text = line[:end]
                else:
                    end = len(line)
                    text = line
                # makers.line_rule in place (one call less a line): Span(path, lineno, 1, lineno, end)
                # and Rule(matches, verdict, span, comment, statements, text).
                where = new_span()
                where.path = path
                where.line = lineno
                where.column = 1
                where.end_line = lineno
                where.end_column = end
                where.__class__ = Span
                rule = new_rule()
                rule.matches = matches
                rule.verdict = verdict
                rule.span = where
                rule.comment = comment
                rule.statements = statements
                rule.text = text
                rule.__class__ = Rule
                rules.append(rule)
            index += 1
            if index == last:
                break
            line = lines[index]
            lineno += 1
        taken = index - start_index
        self.lines += taken
        if taken:
            table.last_line = lineno if index == last else lineno - 1
        return taken


def _alternation(plans: list, chain_word: str):
    """The fullmatch of one alternation of the plans' patterns, its branches and the group of a
    user chain's name (see ShapeRuns). The shapes of built-in chains come first, gathered by chain
    (its name is read once, then one group per shape holds its options: a line of another chain
    fails there at once), in their order within a chain; then a user chain's name, read once by the
    grammar's CHAIN (``chain_word``, so that the head pattern reads it whole: what
    ``ShapePlans.chain_read`` finds out line by line), and the options of the shapes of user chains.
    Shapes of different chains never read the same line, so gathering them keeps every answer."""
    branches: list = [None]
    by_chain: dict = {}
    user = []
    for plan in plans:
        if plan.builtin_chain is not None:
            by_chain.setdefault(plan.builtin_chain, []).append(plan)
        else:
            user.append(plan)
    alternatives = []
    for chain, chain_plans in by_chain.items():
        alternatives.append(f"{re.escape(chain)} (?:{_options(chain_plans, chain, branches)})")
    chain_at = len(branches)  # the group number of the user chain's name
    if user:
        branches.append(None)
        alternatives.append(f"({chain_word}) (?:{_options(user, None, branches)})")
    return re.compile(f"-A (?:{'|'.join(alternatives)})").fullmatch, branches, chain_at


def _options(plans: list, chain, branches: list) -> str:
    """The alternation of the plans' options (the part of the line after the chain), with their
    branches (``chain``: the built-in one, or None) appended to ``branches``. Shapes whose patterns
    open alike (the same literal text and values, ``options_pieces``) share that opening, read
    once (``-s V -j DROP`` and ``-s V -j RETURN`` scan V once); each shape's own rest is one group,
    the last to close on a line of that shape (``lastindex``), and its values are the groups of
    the shared opening and of that rest. The alternation takes the lines each pattern took: a
    shared opening reads what each of its shapes' patterns read there, and what follows is the
    alternation of their rests."""
    shapes = [(options_pieces(plan.key, True), plan) for plan in plans]
    return _tree([(pieces, 0, plan) for pieces, plan in shapes], [], chain, branches)


def _tree(shapes: list, values: list, chain, branches: list) -> str:
    """The alternation of ``shapes`` ((literal pieces, how many of its values are read already,
    plan)), which share an opening whose values are the groups ``values``: the pieces from each
    shape's value ``done`` on. A shape alone gets its group here; shapes whose next literal piece
    and value are the same share them (one group for the value), in the order first seen."""
    if len(shapes) == 1:
        pieces, done, plan = shapes[0]
        group = len(branches)
        count = len(pieces) - 1 - done
        numbers = values + list(range(group + 1, group + count + 1))
        branches.append((chain, *_numbers(numbers), plan.filler, plan.lone, plan.pair, plan.two))
        branches.extend([None] * count)
        return f"({VALUE.join(pieces[done:])})"
    by_opening: dict = {}
    for shape in shapes:
        pieces, done, plan = shape
        # A shape with no value left is alone (a shape's key is unique: two such never meet).
        opening = pieces[done] if done < len(pieces) - 1 else (None, id(plan))
        by_opening.setdefault(opening, []).append(shape)
    alternatives = []
    for opening, sharing in by_opening.items():
        if len(sharing) == 1 or isinstance(opening, tuple):
            alternatives.append(_tree(sharing, values, chain, branches))
            continue
        group = len(branches)  # the shared value's group
        branches.append(None)
        rest = _tree([(pieces, done + 1, plan) for pieces, done, plan in sharing], values + [group], chain, branches)
        alternatives.append(f"{opening}{VALUE}(?:{rest})")
    return "|".join(alternatives)


def _numbers(numbers: list) -> tuple:
    """(the group numbers of a shape's values, or the one number when it has one; whether it has
    one): what ShapeRuns.read asks the match for."""
    if len(numbers) == 1:
        return numbers[0], True
    return tuple(numbers), False
