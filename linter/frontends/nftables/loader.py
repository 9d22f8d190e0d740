"""The reader of nft commands: a Lark Interpreter that walks the parsed file in order.

It keeps the state nft keeps (variables with block scopes, tables, chains, sets, rule
handles, includes) and leaves each rule's atoms for the cursor and the model builder.
"""

from __future__ import annotations

import glob
import os
import re
from typing import TYPE_CHECKING

from lark import Tree
from lark.visitors import Interpreter

from linter.budgets import MAX_DEFINE_ATOMS, MAX_NESTING
from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends.nftables import element_runs, rule_lines
from linter.frontends.nftables.atoms import (
    borrow,
    Group,
    group_of,
    GroupTooDeep,
    is_op,
    measure,
    render,
    split_commas,
    unquote,
    word_of,
)
from linter.frontends.nftables.builders import (
    ChainB,
    glob_directory,
    HANDLE_COMMENT,
    RuleB,
    SetB,
    span_of,
    TableB,
)
from linter.frontends.nftables.elements import set_elements
from linter.frontends.nftables.keywords import (
    BRIDGE_PRIORITIES,
    FAMILIES,
    HOOKS,
    LINE_WORDS,
    MAX_INCLUDE_DEPTH,
    PRIORITIES,
    PRIORITY_LIMIT,
)
from linter.model import Policy, Span
from linter.numbers import bounded_int, shown
from linter.readpolicy import OUTSIDE
from linter.source import read_source, SourceFile

if TYPE_CHECKING:
    from linter.frontends.nftables.state import State


# --- The reader ----------------------------------------------------------------------


class Loader(Interpreter):
    """Walks the parse tree of one file in order, updating the shared state."""

    def __init__(self, state: "State", source: SourceFile, depth: int = 0):
        super().__init__()
        self.state = state
        self.source = source
        self.path = source.path
        self.depth = depth
        self.table: TableB | None = None
        self.chain: ChainB | None = None
        self.set: SetB | None = None

    # -- helpers
    def span(self, first, last=None) -> Span:
        return span_of(self.path, first, last)

    def error(self, code: str, message: str, first, last=None, hint: str | None = None) -> None:
        span = self.span(first, last)
        excerpt = caret_excerpt(self.source.line(span.line), span.column) if code == "PL010" else None
        self.state.diagnostics.append(Diagnostic(code, message, span, hint=hint, excerpt=excerpt))

    def atoms(self, line: Tree | None) -> list:
        """A line's atoms with $variables replaced by their values."""
        if line is None:
            return []
        out = []
        for child in line.children:
            if isinstance(child, Tree):
                out.append(self._subst_group(group_of(child)))
            elif child.type == "VAR":
                out.extend(self.variable(child))
            elif child.type == "LINERUN":
                out.extend(element_runs.atoms(child))
            else:
                out.append(child)
        return out

    def _subst_group(self, group: Group) -> Group:
        if group.run is not None:
            return group  # a run holds no $variable
        items = []
        changed = False
        for item in group.items:
            if isinstance(item, Group):
                new = self._subst_group(item)
                changed = changed or new is not item
                items.append(new)
            elif item.type == "VAR":
                items.extend(self.variable(item))
                changed = True
            else:
                items.append(item)
        if not changed:
            return group
        return Group(items, group.start_pos, group.end_pos, group.line, group.column, group.end_line, group.end_column)

    def variable(self, token) -> list:
        name = token.value[1:]
        value = self.state.lookup(name)
        if value is None:
            self.error("PL031", f"Undefined variable ${name}", token,
                       hint=f"define it first: define {name} = ...")
            return [token]
        remaining = MAX_DEFINE_ATOMS - self.state.define_atoms
        size, depth = measure(value, remaining)
        if size > remaining or depth > MAX_NESTING:
            if not self.state.define_budget_reported:
                self.state.define_budget_reported = True
                what = (f"more than the {MAX_DEFINE_ATOMS:,} values all defines of a file may expand to"
                        if size > remaining else f"braces nested deeper than {MAX_NESTING} levels")
                self.error("PL034", f"${name} is not expanded: it makes {what}; treated as may-match", token,
                           hint="docs/security.md lists portlint's budgets")
            return [token]
        self.state.define_atoms += size
        return [borrow(atom, token) for atom in value]

    def name(self, tree: Tree | None) -> str:
        if tree is None:
            return ""
        token = tree.children[0]
        if token.type == "VAR":
            atoms = self.variable(token)
            if len(atoms) == 1 and atoms[0].type in ("WORD", "STRING", "NUM"):
                return unquote(atoms[0].value)
            return token.value
        return unquote(token.value)

    @staticmethod
    def family_word(tree: Tree | None) -> str:
        return tree.children[0].value if tree is not None else "ip"

    @staticmethod
    def child(tree: Tree, data: str) -> Tree | None:
        for item in tree.children:
            if isinstance(item, Tree) and item.data == data:
                return item
        return None

    @staticmethod
    def children(tree: Tree, data: str) -> list[Tree]:
        return [item for item in tree.children if isinstance(item, Tree) and item.data == data]

    def verb(self, tree: Tree) -> str:
        verb = self.child(tree, "verb")
        return verb.children[0].value if verb is not None else "add"

    def text(self, meta_or_first, last=None) -> str:
        if last is None:
            start, end = meta_or_first.start_pos, meta_or_first.end_pos
        else:
            start, end = meta_or_first.start_pos, last.end_pos
        return self.source.text[start:end].strip()

    # -- top level
    def start(self, tree: Tree) -> None:
        self.visit_children(tree)

    def table_content(self, tree: Tree) -> None:
        self.visit_children(tree)

    def lines(self, tree: Tree) -> None:
        for line in tree.children:
            if isinstance(line, Tree):
                if line.data == "linerun" and line.children[0].type == "LINERUNS":
                    rule_lines.read_lines(self, line.children[0])
                    continue
                try:
                    self.body_line(line)
                except GroupTooDeep as exc:
                    self.group_too_deep(exc)

    def _visit_tree(self, tree: Tree):
        try:
            return super()._visit_tree(tree)
        except GroupTooDeep as exc:  # a command (add rule, add element...) with braces too deep
            self.group_too_deep(exc)
            return None

    def group_too_deep(self, exc: GroupTooDeep) -> None:
        self.error("PL010", f"Syntax error: braces nested deeper than {MAX_NESTING} levels; the statement is "
                   "skipped", exc.meta)

    def get_table(self, family: str, name: str, first, last=None) -> TableB:
        key = (family, name)
        table = self.state.tables.get(key)
        if table is None:
            table = TableB(name, family, self.span(first, last))
            self.state.tables[key] = table
        return table

    def table_cmd(self, tree: Tree) -> None:
        family = self.family_word(self.child(tree, "family"))
        name_tree = self.child(tree, "name")
        name = self.name(name_tree)
        table = self.get_table(family, name, tree.meta, name_tree)
        body = self.child(tree, "table_body")
        if body is not None:
            self.in_table(table, body.children[0])

    def in_table(self, table: TableB, content: Tree) -> None:
        saved = self.table
        self.table = table
        self.state.scopes.append({})
        try:
            self.visit(content)
        finally:
            self.state.scopes.pop()
            self.table = saved

    def get_chain(self, table: TableB, name: str, first, last=None) -> ChainB:
        chain = table.chains.get(name)
        if chain is None:
            chain = ChainB(name, self.span(first, last), table.handle())
            table.chains[name] = chain
        return chain

    def chain_decl(self, tree: Tree) -> None:
        name_tree = self.child(tree, "name")
        chain = self.get_chain(self.table, self.name(name_tree), tree.meta, name_tree)
        self.in_chain(chain, self.child(tree, "chain_body"))

    def in_chain(self, chain: ChainB, body: Tree | None) -> None:
        if body is None:
            return
        saved = self.chain
        self.chain = chain
        self.state.scopes.append({})
        try:
            self.visit(body.children[0])
        finally:
            self.state.scopes.pop()
            self.chain = saved

    def chain_cmd(self, tree: Tree) -> None:
        family = self.family_word(self.child(tree, "family"))
        names = self.children(tree, "name")
        table = self.lookup_table(family, self.name(names[0]), names[0])
        chain = self.get_chain(table, self.name(names[1]), tree.meta, names[1])
        saved = self.table
        self.table = table
        try:
            self.in_chain(chain, self.child(tree, "chain_body"))
        finally:
            self.table = saved

    def lookup_table(self, family: str, name: str, first) -> TableB:
        table = self.state.tables.get((family, name))
        if table is None:
            self.error("PL011", f"Table {family} {name} does not exist", first,
                       hint=f"add it first: table {family} {name}")
            table = self.get_table(family, name, first)
        return table

    def set_decl(self, tree: Tree, kind: str = "set") -> None:
        name_tree = self.child(tree, "name")
        self.declare_set(self.table, self.name(name_tree), kind, (tree.meta, name_tree),
                         self.child(tree, "block_body"))

    def map_decl(self, tree: Tree) -> None:
        self.set_decl(tree, "map")

    def declare_set(self, table: TableB, name: str, kind: str, meta, body: Tree | None) -> None:
        named = table.sets.get(name)
        if named is None:
            named = SetB(name, kind, self.span(*meta))
            table.sets[name] = named
            table.handle()
        if body is not None:
            saved_set, saved_table = self.set, self.table
            self.set, self.table = named, table
            try:
                self.visit(body.children[0])
            finally:
                self.set, self.table = saved_set, saved_table

    def set_cmd(self, tree: Tree, kind: str = "set") -> None:
        family = self.family_word(self.child(tree, "family"))
        names = self.children(tree, "name")
        table = self.lookup_table(family, self.name(names[0]), names[0])
        self.declare_set(table, self.name(names[1]), kind, (tree.meta, names[1]), self.child(tree, "block_body"))

    def map_cmd(self, tree: Tree) -> None:
        self.set_cmd(tree, "map")

    def element_cmd(self, tree: Tree) -> None:
        family = self.family_word(self.child(tree, "family"))
        table = self.lookup_table(family, self.name(self.child(tree, "name")), tree.meta)
        set_name = self.name(self.child(tree, "elemset"))
        named = table.sets.get(set_name)
        group = self._subst_group(group_of(self.child(tree, "braced")))
        if named is None:
            self.error("PL011", f"Set {set_name} does not exist in table {family} {table.name}", tree.meta)
            return
        named.elements.extend(set_elements(group))

    def flowtable_decl(self, tree: Tree) -> None:
        if self.table is not None:
            self.table.handle()

    def flowtable_cmd(self, tree: Tree) -> None:
        pass

    def object_decl(self, tree: Tree) -> None:
        if self.table is not None:
            self.table.handle()

    def object_cmd(self, tree: Tree) -> None:
        pass

    def table_flags(self, tree: Tree) -> None:
        pass

    def table_comment(self, tree: Tree) -> None:
        pass

    def other_cmd(self, tree: Tree) -> None:
        words = [word_of(a) or getattr(a, "value", "") for a in self.atoms(self.child(tree, "line"))]
        keyword = tree.children[0].value
        if keyword == "rename" and len(words) >= 5 and words[0] == "chain":
            family, rest = (words[1], words[2:]) if words[1] in FAMILIES else ("ip", words[1:])
            if len(rest) >= 3:
                table = self.state.tables.get((family, rest[0]))
                if table is not None and rest[1] in table.chains:
                    chain = table.chains.pop(rest[1])
                    chain.name = rest[2]
                    table.chains[rest[2]] = chain

    # -- define / include
    def define(self, tree: Tree) -> None:
        keyword, name = tree.children[0].value, tree.children[1].value
        value = self.atoms(self.child(tree, "line"))
        scope = self.state.scopes[-1]
        if keyword == "define" and name in scope:
            self.error("PL011", f"Variable ${name} is already defined", tree.children[1],
                       hint="use redefine to change it")
        scope[name] = value

    def undefine(self, tree: Tree) -> None:
        name = tree.children[0].value
        for scope in reversed(self.state.scopes):
            if name in scope:
                del scope[name]
                return
        self.error("PL031", f"Undefined variable ${name}", tree.children[0])

    def include(self, tree: Tree) -> None:
        token = tree.children[0]
        if self.chain is not None or self.set is not None:
            start = "lines"
        elif self.table is not None:
            start = "table_content"
        else:
            start = "start"
        self.include_path(unquote(token.value), token, start)

    def include_path(self, pattern: str, token, start: str) -> None:
        base = os.path.dirname(self.path) if self.path != "-" else ""
        path = pattern if os.path.isabs(pattern) else os.path.join(base, pattern)
        policy = self.state.policy
        if any(char in pattern for char in "*?["):
            # Only list directories a readable file could be in: `include "/etc/*"` lists nothing.
            if not policy.may_contain(glob_directory(path)):
                self.state.diagnostics.append(policy.diagnostic(pattern, OUTSIDE, self.span(token)))
                return
            paths = []
            refused = False
            for item in sorted(glob.glob(path)):
                if os.path.isdir(item):
                    continue
                if policy.refusal(item):
                    refused = True
                else:
                    paths.append(item)
            if refused:  # one finding for the include, however many files it matched
                self.state.diagnostics.append(policy.diagnostic(
                    pattern, "matches files outside the scanned tree or not regular files", self.span(token)))
        else:
            why = policy.refusal(path)
            if why:
                self.state.diagnostics.append(policy.diagnostic(pattern, why, self.span(token)))
                return
            if os.path.exists(path) and not os.path.isdir(path):
                paths = [path]
            else:
                self.error("PL032", f"Included file not found: {pattern}", token,
                           hint="paths are relative to the including file's directory")
                return
        for item in paths:
            if os.path.isdir(item):
                continue
            real = os.path.realpath(item)
            if real in self.state.include_stack:
                self.error("PL033", f"Include cycle: {pattern} is already being read", token)
                continue
            if len(self.state.include_stack) > MAX_INCLUDE_DEPTH:
                self.error("PL033", f"Includes nested more than {MAX_INCLUDE_DEPTH} deep: {pattern}", token)
                continue
            source = read_source(os.path.normpath(item))
            if isinstance(source, Diagnostic):
                self.state.diagnostics.append(source)
                continue
            self.state.diagnostics.extend(source.diagnostics)
            self.state.include_stack.append(real)
            try:
                tree = self.state.parse_text(source, start)
                if tree is not None:
                    loader = Loader(self.state, source, self.depth + 1)
                    loader.table, loader.chain, loader.set = self.table, self.chain, self.set
                    loader.visit(tree)
            finally:
                self.state.include_stack.pop()

    # -- rules
    def rule_cmd(self, tree: Tree) -> None:
        verb = self.verb(tree)
        family = self.family_word(self.child(tree, "family"))
        names = self.children(tree, "name")
        table = self.lookup_table(family, self.name(names[0]), names[0])
        chain_name = self.name(names[1])
        chain = table.chains.get(chain_name)
        if chain is None:
            self.error("PL011", f"Chain {chain_name} does not exist in table {family} {table.name}", names[1],
                       hint=f"add it first: chain {family} {table.name} {chain_name}")
            chain = self.get_chain(table, chain_name, names[1])
        position = self.child(tree, "rule_pos")
        line = self.child(tree, "line")
        atoms = self.atoms(line)
        if not atoms:
            self.error("PL010", "Syntax error: rule without statements", tree.meta)
            return
        rule = RuleB(atoms, self.span(tree.meta), self.text(tree.meta), 0, self.source)
        pos_kind = position.children[0].value if position is not None else None
        pos_value = bounded_int(position.children[1].value) if position is not None else None
        if verb == "replace":
            index = self.rule_index(chain, pos_value, position or tree.meta)
            rule.handle = table.handle()
            if index is not None:
                chain.rules[index] = rule
            return
        rule.handle = self.handle_for(table, line)
        if pos_kind is None:
            if verb == "insert":
                chain.rules.insert(0, rule)
            else:
                chain.rules.append(rule)
            return
        if pos_kind == "index":
            index = min(pos_value, len(chain.rules))
        else:
            index = self.rule_index(chain, pos_value, position)
            if index is None:
                index = len(chain.rules) if verb != "insert" else 0
        if verb == "insert":
            chain.rules.insert(index, rule)
        else:
            chain.rules.insert(index + 1 if pos_kind != "index" or index < len(chain.rules) else index, rule)

    def rule_index(self, chain: ChainB, handle: int | None, where) -> int | None:
        for index, rule in enumerate(chain.rules):
            if rule.handle == handle:
                return index
        self.error("PL011", f"No rule with handle {handle} in chain {chain.name}", where)
        return None

    def handle_for(self, table: TableB, last) -> int:
        """The rule's handle: a `# handle N` comment after it (nft list -a), else the next one."""
        where = last.meta if isinstance(last, Tree) else last
        end_line, end_column = getattr(where, "end_line", None), getattr(where, "end_column", None)
        if end_line is not None and end_column is not None:
            match = HANDLE_COMMENT.search(self.source.line(end_line), max(end_column - 1, 0))
            if match:
                value = bounded_int(match.group(1))
                table.next_handle = max(table.next_handle, value + 1)
                return value
        return table.handle()

    def flush_cmd(self, tree: Tree) -> None:
        words = [word_of(a) or getattr(a, "value", "") for a in self.atoms(self.child(tree, "line"))]
        if not words:
            return
        what, rest = words[0], words[1:]
        if what == "ruleset":
            family = rest[0] if rest else None
            for key in list(self.state.tables):
                if family is None or key[0] == family:
                    del self.state.tables[key]
            return
        family, rest = (rest[0], rest[1:]) if rest and rest[0] in FAMILIES else ("ip", rest)
        if not rest:
            return
        table = self.state.tables.get((family, unquote(rest[0])))
        if table is None:
            self.error("PL011", f"Table {family} {rest[0]} does not exist", tree.meta)
            return
        if what == "table":
            for chain in table.chains.values():
                chain.rules.clear()
            for named in table.sets.values():
                named.elements.clear()
        elif what == "chain" and len(rest) > 1:
            chain = table.chains.get(unquote(rest[1]))
            if chain is not None:
                chain.rules.clear()
        elif what in ("set", "map", "meter") and len(rest) > 1:
            named = table.sets.get(unquote(rest[1]))
            if named is not None:
                named.elements.clear()

    def delete_cmd(self, tree: Tree) -> None:
        destroy = tree.children[0].value == "destroy"
        atoms = self.atoms(self.child(tree, "line"))
        words = [word_of(a) or (a.value if not isinstance(a, Group) else None) for a in atoms]
        if not words:
            return
        what = words[0]
        rest, rest_atoms = words[1:], atoms[1:]
        family = "ip"
        if rest and rest[0] in FAMILIES:
            family, rest, rest_atoms = rest[0], rest[1:], rest_atoms[1:]
        if not rest:
            return
        if what == "table":
            if rest[0] == "handle":
                return
            if self.state.tables.pop((family, unquote(rest[0])), None) is None and not destroy:
                self.error("PL011", f"Table {family} {rest[0]} does not exist", tree.meta)
            return
        table = self.state.tables.get((family, unquote(rest[0] or "")))
        if table is None:
            if not destroy:
                self.error("PL011", f"Table {family} {rest[0]} does not exist", tree.meta)
            return
        if what == "chain" and len(rest) > 1:
            if rest[1] == "handle" and len(rest) > 2:
                for name, chain in list(table.chains.items()):
                    if str(chain.handle) == rest[2]:
                        del table.chains[name]
                return
            if table.chains.pop(unquote(rest[1] or ""), None) is None and not destroy:
                self.error("PL011", f"Chain {rest[1]} does not exist in table {family} {table.name}", tree.meta)
        elif what == "rule" and len(rest) > 3 and rest[2] == "handle":
            chain = table.chains.get(unquote(rest[1] or ""))
            if chain is None:
                if not destroy:
                    self.error("PL011", f"Chain {rest[1]} does not exist in table {family} {table.name}", tree.meta)
                return
            handle = bounded_int(rest[3]) if (rest[3] or "").isdigit() else -1
            for index, rule in enumerate(chain.rules):
                if rule.handle == handle:
                    del chain.rules[index]
                    return
            if not destroy:
                self.error("PL011", f"No rule with handle {rest[3]} in chain {chain.name}", tree.meta)
        elif what in ("set", "map") and len(rest) > 1:
            table.sets.pop(unquote(rest[1] or ""), None)
        elif what == "element" and len(rest_atoms) > 2 and isinstance(rest_atoms[2], Group):
            named = table.sets.get(unquote(rest[1] or ""))
            if named is not None:
                gone = {render(el.key) for el in set_elements(rest_atoms[2])}
                named.elements = [el for el in named.elements if render(el.key) not in gone]

    # -- chain, set and object lines
    def body_line(self, line: Tree) -> None:
        if line.data == "linerun" and self.set is None and self.chain is not None and \
                element_runs.first_word(line.children[0].value) not in LINE_WORDS:
            self.rule_line(self.chain, line, None, line.children[0])  # cut into atoms when modelled
            return
        atoms = self.atoms(line)
        if not atoms:
            return
        first = word_of(atoms[0])
        if first in ("define", "redefine") and len(atoms) >= 3 and is_op(atoms[2], "="):
            scope = self.state.scopes[-1]
            scope[atoms[1].value] = atoms[3:]
            return
        if first == "undefine" and len(atoms) == 2:
            for scope in reversed(self.state.scopes):
                scope.pop(atoms[1].value, None)
            return
        if first == "include" and len(atoms) == 2 and atoms[1].type == "STRING":
            self.include_path(unquote(atoms[1].value), atoms[1], "lines")
            return
        if self.set is not None:
            self.set_line(self.set, atoms)
        elif self.chain is not None:
            self.chain_line(self.chain, atoms, line)
        # object and flowtable lines are read and not modelled

    def set_line(self, named: SetB, atoms: list) -> None:
        key = word_of(atoms[0])
        if key in ("type", "typeof"):
            named.type = ("typeof " if key == "typeof" else "") + render(atoms[1:])
        elif key == "flags":
            named.flags = tuple(a.value for a in atoms[1:] if a.type == "WORD")
        elif key == "elements":
            for atom in atoms[1:]:
                if isinstance(atom, Group):
                    named.elements.extend(set_elements(atom))

    def chain_line(self, chain: ChainB, atoms: list, line: Tree) -> None:
        key = word_of(atoms[0])
        if key == "type" and self.table is not None:
            self.chain_type(chain, atoms)
            return
        if key == "policy":
            value = word_of(atoms[1]) if len(atoms) > 1 else None
            if len(atoms) == 2 and atoms[1].type == "STRING":
                value = atoms[1].value.strip('"')  # `define p = "accept"` ... `policy $p`: nft reads it
            if value in ("accept", "drop"):
                chain.policy = Policy(value)
            elif len(atoms) == 2 and atoms[1].type == "VAR":
                chain.policy = Policy.UNKNOWN  # undefined: PL031 says so, nothing more to say here
            else:
                self.error("PL011", "Chain policy must be accept or drop", atoms[-1])
            return
        if key in ("device", "devices"):
            chain.device = _devices(atoms[1:])
            return
        if key == "comment" and len(atoms) == 2:
            return
        if key == "flags" and len(atoms) >= 2 and word_of(atoms[1]) == "offload":
            return
        self.rule_line(chain, line, atoms)

    def rule_line(self, chain: ChainB, line: Tree, atoms: list | None, run=None) -> None:
        table = self.table
        handle = self.handle_for(table, line) if table is not None else 0
        text = run.value if run is not None else self.text(line.meta)  # a run is its line's text, blanks off
        chain.rules.append(RuleB(atoms, self.span(line.meta), text, handle, self.source, run))

    def chain_type(self, chain: ChainB, atoms: list) -> None:
        words = atoms[1:]
        i = 0
        while i < len(words):
            key = word_of(words[i])
            value = words[i + 1] if i + 1 < len(words) else None
            if key == "hook" and value is not None:
                hook = HOOKS.get(value.value)
                if hook is None:
                    self.error("PL011", f"Unknown hook {value.value}", value)
                chain.hook = hook
                i += 2
            elif key == "priority":
                j = i + 1
                while j < len(words) and word_of(words[j]) not in ("hook", "device", "devices", "policy"):
                    j += 1
                chain.priority = self.priority(words[i + 1:j], words[i])
                i = j
            elif key in ("device", "devices"):
                j = i + 1
                while j < len(words) and word_of(words[j]) not in ("hook", "priority", "policy"):
                    j += 1
                chain.device = _devices(words[i + 1:j])
                i = j
            elif i == 0 and value is not None or i == 0 and key is not None:
                chain.type = words[0].value
                i += 1
            else:
                i += 1

    def priority(self, atoms: list, where) -> int | None:
        text = " ".join(a.value for a in atoms if not isinstance(a, Group))
        match = re.fullmatch(r"\s*(-?\s*\d+)\s*", text)
        if match:
            value = bounded_int(match.group(1).replace(" ", ""))
            if -PRIORITY_LIMIT <= value < PRIORITY_LIMIT:
                return value
            self.error("PL011", f"Chain priority {shown(text.strip())} is out of range (a 32-bit number)",
                       atoms[0] if atoms else where)
            return None
        match = re.fullmatch(r"\s*([a-z]+)\s*(?:([+-])\s*(\d+))?\s*", text)
        if match:
            names = BRIDGE_PRIORITIES if self.table is not None and self.table.family_word == "bridge" else PRIORITIES
            base = names.get(match.group(1))
            if base is not None:
                offset = bounded_int(match.group(3) or "0")
                return base - offset if match.group(2) == "-" else base + offset
        self.error("PL011", f"Unknown chain priority {text or '(missing)'}", atoms[0] if atoms else where,
                   hint="use a number or raw, mangle, dstnat, filter, security, srcnat")
        return None


def _devices(atoms: list) -> str | None:
    names = []
    for atom in atoms:
        if isinstance(atom, Group):
            for element in split_commas(atom.items):
                names.extend(unquote(a.value) for a in element if a.type in ("WORD", "STRING", "NUM"))
        elif atom.type in ("WORD", "STRING", "NUM"):
            names.append(unquote(atom.value))
    return ",".join(names) if names else None
