"""The nftables front end: `nft -f` scripts and `nft list ruleset` output into the model.

grammars/nftables.lark parses the command and block structure (tables, chains,
sets, maps, objects, define, include) and keeps each chain, set and object line as
a sequence of atoms. This module then

1. walks the commands in order (an Interpreter), keeping the state nft keeps:
   variables with block scopes, tables, chains, sets, rule handles, includes;
2. reads every remaining rule's atoms with nft's keyword tables (selectors such as
   ``ip saddr`` or ``ct original ip daddr``, statements, verdicts) into terms;
3. turns the terms into model Rules, inlining named sets with their final
   elements and expanding verdict maps, NAT maps and concatenations into one
   Rule per element.

Anything it does not model becomes an OpaqueMatch or a Statement; a syntax error
is one PL010 diagnostic and reading goes on at the next statement.
"""

from __future__ import annotations

import functools
import glob
import os
import re
from dataclasses import dataclass, field

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.visitors import Interpreter

from linter import netdb
from linter.addresses import AddressError, parse_address_range
from linter.budgets import MAX_DEFINE_ATOMS, MAX_NESTING
from linter.diagnostics import Diagnostic, caret_excerpt
from linter.frontends import FrontEndOptions, ParseResult
from linter.grammars import load_parser
from linter.model import (
    IPV4_MAX,
    IPV6_MAX,
    MAX_PORT,
    AddressMatch,
    AddressSet,
    TCP_FLAG_BITS,
    AddrTypeMatch,
    Chain,
    CtStatusMatch,
    Direction,
    Family,
    FragmentMatch,
    Hook,
    InterfaceMatch,
    LimitMatch,
    NamedSet,
    OpaqueMatch,
    OriginalAddressMatch,
    OriginalPortMatch,
    Policy,
    PortMatch,
    PortSet,
    ProtocolMatch,
    Rule,
    Ruleset,
    Span,
    StateMatch,
    Statement,
    Table,
    TcpFlagsMatch,
    Verdict,
    VerdictKind,
    normalize_ranges,
)
from linter.readpolicy import OUTSIDE, ReadPolicy
from linter.frontends import nft_choices, nft_marks
from linter.numbers import bounded_int, shown
from linter.source import SourceFile, read_source

START_SYMBOLS = ("start", "table_content", "lines")
MAX_EXPANSION = 10_000
MAX_SYNTAX_ERRORS = 200
MAX_INCLUDE_DEPTH = 16

FAMILIES = {
    "ip": Family.IPV4,
    "ip6": Family.IPV6,
    "inet": Family.INET,
    "arp": Family.ARP,
    "bridge": Family.BRIDGE,
    "netdev": Family.NETDEV,
}
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
BRIDGE_PRIORITIES = {"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}
PRIORITY_LIMIT = 1 << 31  # a chain priority is a signed 32-bit number
HOOKS = {hook.value: hook for hook in Hook}

# --- Keyword tables ------------------------------------------------------------

VERDICTS = {"accept", "drop", "return", "continue", "jump", "goto", "queue", "reject"}
RELOPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
          "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
BINOPS = {"&", "|", "^", "<<", ">>"}
WORD_BINOPS = {"and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>"}
VALUE_OPS = {"-", "/", ",", ".", "&", "|", "^", "<<", ">>", ":"}

# Headers whose fields are one word: `ip saddr`, `tcp dport`, `vlan id`, `hbh nexthdr`...
PAYLOAD_HEADS = {
    "ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "th", "icmp", "icmpv6", "igmp", "ether",
    "vlan", "arp", "ah", "esp", "comp", "gre", "gretap", "geneve", "vxlan", "hbh", "rt0", "rt2",
    "rt4", "srh", "frag", "dst", "mh", "exthdr", "rt", "dccp", "ipcomp", "cgroupv2",
}
SPECIAL_HEADS = {"meta", "ct", "fib", "socket", "osf", "numgen", "jhash", "symhash", "ipsec"}
# Meta keys nft accepts without `meta` in front.
BARE_META = {
    "mark", "iif", "iifname", "iiftype", "oif", "oifname", "oiftype", "skuid", "skgid", "nftrace",
    "rtclassid", "ibrname", "obrname", "ibriport", "obriport", "ibridgename", "obridgename",
    "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "iifkind", "oifkind", "time", "day",
    "hour", "l4proto", "random", "sdif", "sdifname",
}
RAW_BASES = {"@ll", "@nh", "@th", "@ih"}
FIB_FLAGS = {"saddr", "daddr", "mark", "iif", "oif"}
OPTION_FIELDS = {
    "kind", "length", "size", "count", "left", "right", "tsval", "tsecr", "subtype", "value",
    "type", "ptr", "addr", "flags", "tsn", "stream", "ssn", "ppid", "init-tag", "a-rwnd",
    "num-outbound-streams", "num-inbound-streams", "initial-tsn", "cum-tsn-ack", "num-gap-ack-blocks",
    "num-dup-tsns", "lowest-tsn", "seqno", "new-cum-tsn", "vtag",
}
STATEMENTS = {
    "counter", "log", "limit", "quota", "notrack", "dnat", "snat", "masquerade", "redirect",
    "tproxy", "dup", "fwd", "meter", "synproxy", "comment", "flow", "xt", "last", "reset",
}
NAT_FLAGS = {"random", "persistent", "fully-random", "netmap"}
RATE_WORDS = {
    "rate", "over", "until", "burst", "packets", "bytes", "kbytes", "mbytes", "gbytes",
    "second", "minute", "hour", "day", "week", "used", "inv",
}
PORT_PROTOCOLS = {"tcp": 6, "udp": 17, "udplite": 136, "sctp": 132, "dccp": 33}
IMPLIED_PROTOCOLS = dict(PORT_PROTOCOLS, icmp=1, icmpv6=58, igmp=2, ah=51, esp=50, comp=108)
CT_STATES = {"new", "established", "related", "invalid", "untracked"}
# The state bits of nft's numeric output (NF_CT_STATE_INVALID_BIT ... NF_CT_STATE_UNTRACKED_BIT).
_CT_STATE_BITS = ((0x1, "invalid"), (0x2, "established"), (0x4, "related"), (0x8, "new"), (0x40, "untracked"))
_CT_STATE_ALL = 0x4F
_CT_STATE_NUMBER = re.compile(r"0x[0-9a-fA-F]{1,8}|[0-9]{1,3}")
ADDR_TYPES = {
    "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable",
    "prohibit", "throw", "nat", "xresolve",
}
L3_VALUES = {"ipv4": Family.IPV4, "ip": Family.IPV4, "ipv6": Family.IPV6, "ip6": Family.IPV6}
OPAQUE_CONTAINED = {"limit", "quota", "count"}


class ReadError(Exception):
    """A rule nft would reject; becomes a PL010 diagnostic at ``atom``."""

    def __init__(self, message: str, atom=None):
        super().__init__(message)
        self.atom = atom


# --- Atoms -----------------------------------------------------------------------


class Group:
    """A ``{ ... }`` group of atoms (NL and SEMI tokens kept for chain bindings)."""

    __slots__ = ("items", "start_pos", "end_pos", "line", "column", "end_line", "end_column")
    type = "GROUP"
    value = "{"

    def __init__(self, items, start_pos, end_pos, line, column, end_line, end_column):
        self.items = items
        self.start_pos = start_pos
        self.end_pos = end_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column


class _GroupTooDeep(Exception):
    """Braces nested deeper than MAX_NESTING: the statement holding them is skipped (one PL010)."""

    def __init__(self, meta):
        super().__init__()
        self.meta = meta


def _group(tree: Tree, depth: int = 1) -> Group:
    if depth > MAX_NESTING:
        raise _GroupTooDeep(tree.meta)
    items = [_group(child, depth + 1) if isinstance(child, Tree) else child for child in tree.children]
    meta = tree.meta
    return Group(items, meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def _measure(atoms, limit: int) -> tuple[int, int]:
    """How many atoms ``atoms`` holds, groups' contents included, and how deep its groups nest;
    counting stops once past ``limit`` atoms (without recursion: a define can be any size)."""
    count = depth = 0
    stack = [(atoms, 1)]
    while stack:
        items, level = stack.pop()
        for item in items:
            count += 1
            if count > limit:
                return count, depth
            if isinstance(item, Group):
                depth = max(depth, level)
                stack.append((item.items, level + 1))
    return count, depth


def _borrow(atom, at):
    """A copy of ``atom`` (from a define) placed at the position of the ``$var`` token ``at``."""
    if isinstance(atom, Group):
        return Group([_borrow(item, at) for item in atom.items], at.start_pos, at.end_pos, at.line,
                     at.column, at.end_line, at.end_column)
    return Token.new_borrow_pos(atom.type, atom.value, at)


def _render(atoms) -> str:
    """Atoms as text from their values (a define's values show, not ``$name``)."""
    out: list[str] = []
    glue = False
    for atom in atoms:
        if isinstance(atom, Group):
            text = "{ " + ", ".join(_render(el) for el in _split_commas(atom.items)) + " }"
        else:
            text = atom.value
        tight = atom.type == "OP" and text in ("/", "-", "[", "]", "(", ")")
        if out and not glue and not tight:
            out.append(" ")
        out.append(text)
        glue = tight and text not in (")", "]")
    return "".join(out)


def _split_commas(items) -> list[list]:
    """The elements of a group: atoms between top-level commas (newlines dropped)."""
    elements: list[list] = []
    current: list = []
    for item in items:
        kind = item.type
        if kind == "NL" or kind == "SEMI":
            continue
        if kind == "OP" and item.value == ",":
            if current:
                elements.append(current)
            current = []
            continue
        current.append(item)
    if current:
        elements.append(current)
    return elements


def _split_lines(items) -> list[list]:
    """The statements of a chain binding ``{ rule; rule }``."""
    lines: list[list] = []
    current: list = []
    for item in items:
        if item.type in ("NL", "SEMI"):
            if current:
                lines.append(current)
            current = []
        else:
            current.append(item)
    if current:
        lines.append(current)
    return lines


def _word(atom) -> str | None:
    return atom.value if atom is not None and atom.type == "WORD" else None


def _is_op(atom, *ops) -> bool:
    return atom is not None and atom.type == "OP" and atom.value in ops


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1].replace('\\"', '"')
    return text


# --- Values and terms ------------------------------------------------------------


class Val:
    """An rhs expression: kind is tok, group, ref, range, prefix, concat, list, binop, paren, neg."""

    __slots__ = ("kind", "a", "b", "first", "last")

    def __init__(self, kind, a, b=None, first=None, last=None):
        self.kind = kind
        self.a = a
        self.b = b
        self.first = first
        self.last = last

    def atoms(self, out=None):
        return out


@dataclass
class Sel:
    """An lhs selector: its parts (concatenation) as word tuples; masked when it has a binop."""

    parts: list[tuple[str, ...]]
    first: object
    last: object
    masked: bool = False
    ops: list = field(default_factory=list)  # (operator, value or None for a selector) of each binop


@dataclass
class Term:
    kind: str  # match, vmap, opaque, stmt, verdict, nat, comment
    first: object
    last: object
    sel: Sel | None = None
    op: str = ""
    value: Val | None = None
    module: str = ""
    verdict: object = None
    matchlike: bool = False
    nat: tuple | None = None  # (kind, addresses Val, ports Val, options, map (Sel, Val) or None)
    explicit: bool = False  # the relational operator was written (`tcp flags == syn`, not `tcp flags syn`)
    over: bool | None = None  # a limit term: `over` or not; None when a named object decides


@dataclass
class VerdictSpec:
    kind: VerdictKind
    target: str | None = None
    options: tuple = ()
    binding: Group | None = None
    terminal_other: bool = False
    to_addresses: object = None
    to_ports: object = None


class _Cursor:
    """Reads one rule's atoms into terms with nft's keyword tables."""

    def __init__(self, atoms):
        self.atoms = atoms
        self.i = 0
        self.n = len(atoms)
        self.depth = 0  # parentheses, brackets and negations open (MAX_NESTING)

    # -- primitives
    def peek(self, k: int = 0):
        j = self.i + k
        return self.atoms[j] if j < self.n else None

    def take(self):
        atom = self.atoms[self.i]
        self.i += 1
        return atom

    def peek_word(self, k: int = 0) -> str | None:
        return _word(self.peek(k))

    def last(self):
        return self.atoms[self.i - 1]

    # -- rule
    def read_rule(self) -> list[Term]:
        terms: list[Term] = []
        while self.i < self.n:
            start = self.i
            term = self.read_term()
            if self.i == start:  # never loop without consuming
                atom = self.take()
                term = Term("opaque", atom, atom, module=_word(atom) or atom.value)
            terms.append(term)
        return terms

    def starts_statement(self, k: int = 0) -> bool:
        atom = self.peek(k)
        word = _word(atom)
        if word is None:
            return atom is not None and atom.type == "SETREF" and atom.value in RAW_BASES
        if word in VERDICTS or word in STATEMENTS or word in PAYLOAD_HEADS or word in SPECIAL_HEADS:
            return True
        if word in BARE_META:
            return True
        if word in ("add", "update", "delete") and self.peek(k + 1) is not None and self.peek(k + 1).type == "SETREF":
            return True
        return word == "set" and self.peek_word(k + 1) in ("add", "update", "delete")

    def read_term(self) -> Term:
        atom = self.peek()
        word = _word(atom)
        if word in VERDICTS:
            return self.read_verdict()
        if word == "ct" and self.peek_word(1) == "count":
            first = self.take()
            self.take()
            words = []
            while self.peek_word() in ("over", "until"):
                words.append(self.take().value)
            limit = None
            if self.peek() is not None and self.peek().type in ("NUM", "VAR"):
                limit = _number(self.take().value)
            over = None
            if limit is not None and words in ([], ["over"]):
                # Counted with the new connection itself: the first one makes 1.
                over = limit >= 1 if words else limit == 0
            return Term("opaque", first, self.last(), module="ct count", matchlike=True, over=over)
        if word in STATEMENTS:
            return self.read_statement(word)
        if word in ("add", "update", "delete") and self.peek(1) is not None and self.peek(1).type == "SETREF":
            first = self.take()
            self.take()
            group = self.peek()
            if group is not None and group.type == "GROUP":
                self.take()
            return self._set_statement(first, word, group)
        if word == "set" and self.peek_word(1) in ("add", "update", "delete"):
            first = self.take()
            verb = self.take().value
            while self.i < self.n and self.peek().type != "SETREF":
                self.take()
            if self.i < self.n:
                self.take()
            return Term("stmt", first, self.last(), module=f"set {verb}")
        sel = self.read_selector()
        if sel is not None:
            return self.after_selector(sel)
        return self.read_opaque_run()

    def read_opaque_run(self) -> Term:
        first = self.take()
        module = _word(first) or first.value
        while self.i < self.n and not self.starts_statement():
            self.take()
        return Term("opaque", first, self.last(), module=module)

    # -- selectors
    def read_selector(self) -> Sel | None:
        first = self.peek()
        part = self.selector_part()
        if part is None:
            return None
        parts = [part]
        while _is_op(self.peek(), ".") and self._selector_start(1):
            self.take()
            nxt = self.selector_part()
            if nxt is None:
                break
            parts.append(nxt)
        sel = Sel(parts, first, self.last())
        while True:
            atom = self.peek()
            if _is_op(atom, *BINOPS) or _word(atom) in WORD_BINOPS:
                self.take()
                operator = atom.value if atom.type == "OP" else WORD_BINOPS[atom.value]
                if self._selector_start(0):
                    self.read_selector()
                    sel.ops.append((operator, None))
                else:
                    operand = self.read_value()
                    if operand is None:
                        raise ReadError("missing operand", self.peek() or atom)
                    sel.ops.append((operator, operand))
                sel.masked = True
                sel.last = self.last()
            else:
                break
        return sel

    def _selector_start(self, k: int) -> bool:
        atom = self.peek(k)
        word = _word(atom)
        if word is None:
            return atom is not None and atom.type == "SETREF" and atom.value in RAW_BASES
        return word in PAYLOAD_HEADS or word in SPECIAL_HEADS or word in BARE_META

    def _next_word_or_num(self):
        atom = self.peek()
        if atom is not None and atom.type in ("WORD", "NUM"):
            self.take()
            return atom.value
        return None

    def selector_part(self) -> tuple[str, ...] | None:
        atom = self.peek()
        if atom is None:
            return None
        if atom.type == "SETREF":
            if atom.value in RAW_BASES and _is_op(self.peek(1), ","):
                self.take()
                words = [atom.value]
                while _is_op(self.peek(), ",") and self.peek(1) is not None and self.peek(1).type in ("NUM", "VAR"):
                    self.take()
                    words.append(self.take().value)
                return tuple(words)
            return None
        word = _word(atom)
        if word is None:
            return None
        nxt = self.peek_word(1)
        if word == "meta":
            self.take()
            key = self._next_word_or_num()
            return ("meta", key or "")
        if word == "ipsec" and nxt in ("in", "out"):
            self.take()
            self.take()
            words = ["ipsec", nxt]
            if self.peek_word() == "spnum":
                self.take()
                self._next_word_or_num()
            key = self._next_word_or_num()
            if key in ("ip", "ip6"):
                words.append(key)
                key = self._next_word_or_num()
            words.append(key or "")
            return tuple(words)
        if word in BARE_META:
            self.take()
            return ("meta", word)
        if word == "ct":
            self.take()
            words = ["ct"]
            if self.peek_word() in ("original", "reply"):
                words.append(self.take().value)
            if self.peek_word() in ("ip", "ip6"):
                words.append(self.take().value)
            key = self._next_word_or_num()
            words.append(key or "")
            return tuple(words)
        if word == "fib":
            self.take()
            flags = []
            if self.peek_word() in FIB_FLAGS:
                flags.append(self.take().value)
                while _is_op(self.peek(), ".") and self.peek_word(1) in FIB_FLAGS:
                    self.take()
                    flags.append(self.take().value)
            result = self.peek_word()
            if result in ("oif", "oifname", "type"):
                self.take()
            else:
                result = ""
            return ("fib", ".".join(flags), result)
        if word == "socket":
            self.take()
            key = self._next_word_or_num() or ""
            if key == "cgroupv2" and self.peek_word() == "level":
                self.take()
                self._next_word_or_num()
            return ("socket", key)
        if word == "osf":
            self.take()
            if self.peek_word() == "ttl":
                self.take()
                self._next_word_or_num()
            return ("osf", self._next_word_or_num() or "")
        if word in ("numgen", "symhash", "jhash"):
            self.take()
            words = [word]
            if word == "numgen":
                words.append(self._next_word_or_num() or "")
            elif word == "jhash":
                self.read_selector()
            while self.peek_word() in ("mod", "seed", "offset"):
                self.take()
                self._next_word_or_num()
            return tuple(words)
        if word in PAYLOAD_HEADS:
            self.take()
            if word in ("tcp", "ip", "ip6") and nxt == "option" or word == "sctp" and nxt == "chunk":
                self.take()
                name = self._next_word_or_num() or ""
                words = [word, nxt, name]
                if self.peek_word() in OPTION_FIELDS:
                    words.append(self.take().value)
                return tuple(words)
            if word == "rt" and nxt in ("ip", "ip6"):
                self.take()
            if word == "exthdr":
                key = self._next_word_or_num() or ""
                return ("exthdr", key)
            if word in ("vxlan", "geneve", "gre", "gretap") and nxt in PAYLOAD_HEADS:
                inner = self.selector_part()  # inner header matching: `vxlan ip saddr`
                return (word, *(inner or ()))
            key = self.peek_word()
            if key is None:
                return (word,)
            self.take()
            words = [word, key]
            if word == "arp" and key in ("saddr", "daddr") and self.peek_word() in ("ip", "ether"):
                words.append(self.take().value)
            if _is_op(self.peek(), "[") and self.peek(1) is not None and self.peek(1).type == "NUM" and _is_op(self.peek(2), "]"):
                self.take()
                self.take()
                self.take()
            return tuple(words)
        return None

    def after_selector(self, sel: Sel) -> Term:
        atom = self.peek()
        word = _word(atom)
        if word == "set":
            self.take()
            if self.read_expr() is None:
                raise ReadError(f"missing value after '{' '.join(sel.parts[0])} set'", self.peek() or atom)
            name = " . ".join(" ".join(p) for p in sel.parts)
            return Term("stmt", sel.first, self.last(), module=name)
        if word == "vmap":
            self.take()
            mapping = self.primary()
            if mapping is None:
                raise ReadError("missing map after 'vmap'", self.peek() or atom)
            return Term("vmap", sel.first, self.last(), sel=sel, value=mapping)
        if word == "map":
            self.take()
            mapping = self.primary()
            return Term("opaque", sel.first, self.last(), module=" ".join(sel.parts[0]))
        op = "=="
        explicit = False
        if atom is not None and (atom.type == "OP" and atom.value in RELOPS or word in RELOPS):
            op = RELOPS[atom.value]
            explicit = True
            self.take()
        elif _is_op(atom, "!"):
            # nft's negation operator (`ct state ! invalid`): true when none of the value's
            # bits are set; nft allows it only for bitmask types, with one value (no set).
            op = "!"
            self.take()
        value = self.read_value()
        if value is None:
            what = " ".join(" ".join(p) for p in sel.parts)
            raise ReadError(f"missing value after '{what}'", self.peek() or sel.last)
        return Term("match", sel.first, self.last(), sel=sel, op=op, value=value, explicit=explicit)

    # -- values
    def primary(self) -> Val | None:
        atom = self.peek()
        if atom is None:
            return None
        kind = atom.type
        if kind == "OP":
            value = atom.value
            if value in ("(", "[") or value in ("-", "!", "~") and self.peek(1) is not None \
                    and self.peek(1).type in ("NUM", "VAR", "WORD", "GROUP"):
                self.depth += 1
                if self.depth > MAX_NESTING:
                    raise ReadError(f"expression nested deeper than {MAX_NESTING} levels", atom)
                try:
                    return self._nested(atom, value)
                finally:
                    self.depth -= 1
            if value == "*":
                self.take()
                return Val("tok", atom, first=atom, last=atom)
            return None
        if kind == "WORD" and atom.value in VERDICTS:
            return None
        self.take()
        if kind == "GROUP":
            return Val("group", atom, first=atom, last=atom)
        if kind == "SETREF":
            return Val("ref", atom, first=atom, last=atom)
        return Val("tok", atom, first=atom, last=atom)

    def _nested(self, atom, value: str) -> Val:
        """A parenthesised value, ``[...]``, or a negated one, from its first atom."""
        self.take()
        if value == "(":
            inner = self.read_expr() if self._selector_start(0) else self.read_value()
            if _is_op(self.peek(), ")"):
                self.take()
            return Val("paren", inner, first=atom, last=self.last())
        if value == "[":
            inner = self.read_value(colon=False)
            if _is_op(self.peek(), "]"):
                self.take()
            return Val("paren", inner, first=atom, last=self.last())
        inner = self.primary()
        return Val("neg", inner, value, first=atom, last=self.last())

    def read_value(self, colon: bool = True) -> Val | None:
        """An rhs value. Precedence, loosest first: ``,`` lists, ``.`` concatenations,
        ``-`` ranges (and ``:`` pairs), then ``/ | ^ & << >>`` left to right."""
        first = self.read_concat(colon)
        if first is None or not _is_op(self.peek(), ","):
            return first
        items = [first]
        while _is_op(self.peek(), ",") and self.peek(1) is not None:
            comma = self.take()
            item = self.read_concat(colon)
            if item is None:
                raise ReadError("missing value after ','", self.peek() or comma)
            items.append(item)
        return Val("list", items, first=first.first, last=items[-1].last)

    def read_concat(self, colon: bool) -> Val | None:
        first = self.read_range(colon)
        if first is None or not _is_op(self.peek(), "."):
            return first
        items = [first]
        while _is_op(self.peek(), ".") and self.peek(1) is not None:
            dot = self.take()
            item = self.read_range(colon)
            if item is None:
                raise ReadError("missing value after '.'", self.peek() or dot)
            items.append(item)
        return Val("concat", items, first=first.first, last=items[-1].last)

    def read_range(self, colon: bool) -> Val | None:
        left = self.read_binop()
        if left is None:
            return None
        atom = self.peek()
        if (_is_op(atom, "-") or colon and _is_op(atom, ":")) and self.peek(1) is not None:
            self.take()
            right = self.read_binop()
            if right is None:
                raise ReadError(f"missing value after '{atom.value}'", self.peek() or atom)
            kind = "range" if atom.value == "-" else "colon"
            return Val(kind, left, right, first=left.first, last=right.last)
        return left

    def read_binop(self) -> Val | None:
        left = self.primary()
        if left is None:
            return None
        while True:
            atom = self.peek()
            if _is_op(atom, "/", *BINOPS):
                op = atom.value
            elif _word(atom) in WORD_BINOPS:
                op = WORD_BINOPS[atom.value]
            else:
                return left
            if self.peek(1) is None:
                return left
            self.take()
            right = self.primary()
            if right is None:
                raise ReadError(f"missing value after '{atom.value}'", self.peek() or atom)
            if op == "/":
                left = Val("prefix", left, right, first=left.first, last=right.last)
            else:
                left = Val("binop", left, (op, right), first=left.first, last=right.last)

    def read_expr(self) -> Val | None:
        """A statement argument: a value or a selector expression, maybe with ``map``."""
        if self._selector_start(0):
            first = self.peek()
            sel = self.read_selector()
            if self.peek_word() in ("map", "vmap"):
                self.take()
                self.primary()
            return Val("expr", sel, first=first, last=self.last())
        value = self.read_value()
        if value is not None and self.peek_word() == "map":
            self.take()
            self.primary()
            value = Val("expr", value, first=value.first, last=self.last())
        return value

    # -- statements
    def read_verdict(self) -> Term:
        first = self.take()
        word = first.value
        if word in ("jump", "goto"):
            target = self.peek()
            kind = VerdictKind.JUMP if word == "jump" else VerdictKind.GOTO
            if target is None or target.type not in ("WORD", "STRING", "VAR", "GROUP", "NUM"):
                raise ReadError(f"missing chain name after '{word}'", target or first)
            if target.type == "WORD" and target.value in VERDICTS:
                # nft reads a verdict word there as a keyword, not a chain name ("jump return").
                raise ReadError(f"'{target.value}' is a verdict, not a chain name after '{word}' "
                                f"(quote it to name a chain so)", target)
            self.take()
            if target.type == "GROUP":
                spec = VerdictSpec(kind, None, binding=target)
            else:
                spec = VerdictSpec(kind, _unquote(target.value))
            return Term("verdict", first, target, verdict=spec)
        if word == "reject":
            options = []
            if self.peek_word() == "with":
                self.take()
                parts = []
                if self.peek_word() in ("icmp", "icmpv6", "icmpx", "tcp", "icmp6"):
                    parts.append(self.take().value)
                    if self.peek_word() == "type" or self.peek_word() == "code":
                        self.take()
                    atom = self.peek()
                    if atom is not None and atom.type in ("WORD", "NUM", "VAR"):
                        parts.append(self.take().value)
                options.append(("with", " ".join(parts)))
            return Term("verdict", first, self.last(), verdict=VerdictSpec(VerdictKind.REJECT, options=tuple(options)))
        if word == "queue":
            options = []
            while True:
                key = self.peek_word()
                if key in ("num", "flags", "to"):
                    self.take()
                    start = self.i
                    if self.read_expr() is None:
                        break
                    options.append((key, _render(self.atoms[start:self.i])))
                elif key in ("bypass", "fanout"):
                    self.take()
                    options.append((key, ""))
                else:
                    break
            return Term("verdict", first, self.last(), verdict=VerdictSpec(VerdictKind.QUEUE, options=tuple(options)))
        kind = {"accept": VerdictKind.ACCEPT, "drop": VerdictKind.DROP, "return": VerdictKind.RETURN,
                "continue": VerdictKind.CONTINUE}[word]
        return Term("verdict", first, first, verdict=VerdictSpec(kind))

    def _skip_words(self, words) -> None:
        while self.i < self.n:
            atom = self.peek()
            if atom.type == "NUM" or _word(atom) in words or _is_op(atom, "/"):
                self.take()
            else:
                break

    def _name_arg(self) -> None:
        atom = self.peek()
        if atom is not None and atom.type in ("WORD", "STRING", "VAR", "NUM"):
            self.take()

    def read_statement(self, word: str) -> Term:
        first = self.take()
        if word == "counter":
            while True:
                key = self.peek_word()
                if key in ("packets", "bytes") and self.peek(1) is not None and self.peek(1).type == "NUM":
                    self.take()
                    self.take()
                elif key == "name":
                    self.take()
                    self.read_expr()
                else:
                    break
            return Term("stmt", first, self.last(), module="counter")
        if word == "log":
            while True:
                key = self.peek_word()
                if key in ("prefix", "level", "group", "snaplen", "queue-threshold"):
                    self.take()
                    if self.primary() is None:
                        raise ReadError(f"missing value after 'log {key}'", self.peek() or first)
                    while _is_op(self.peek(), ".") and self.peek(1) is not None:
                        self.take()
                        self.primary()
                elif key == "flags":
                    self.take()
                    if self.peek_word() in ("tcp", "ip"):
                        self.take()
                    self.read_value()
                else:
                    break
            return Term("stmt", first, self.last(), module="log")
        if word in ("limit", "quota"):
            over = None
            if self.peek_word() == "name":
                self.take()
                self.read_expr()
            else:
                start = self.i
                self._skip_words(RATE_WORDS)
                if word == "limit":
                    over = any(_word(atom) == "over" for atom in self.atoms[start:self.i])
            return Term("opaque", first, self.last(), module=word, matchlike=True, over=over)
        if word == "last":
            if self.peek_word() == "used":
                self.take()
                self._skip_words({"never"})
            return Term("stmt", first, self.last(), module="last")
        if word == "comment":
            atom = self.peek()
            if atom is None or atom.type not in ("STRING", "WORD", "VAR"):
                raise ReadError("missing text after 'comment'", atom or first)
            self.take()
            return Term("comment", first, atom, module=_unquote(atom.value))
        if word == "notrack":
            return Term("stmt", first, first, module="notrack")
        if word == "reset":  # `reset tcp option X`
            if self.read_selector() is None:
                raise ReadError("missing what to reset", self.peek() or first)
            return Term("stmt", first, self.last(), module="reset")
        if word in ("dnat", "snat", "masquerade", "redirect", "tproxy"):
            return self.read_nat(first, word)
        if word in ("dup", "fwd"):
            if self.peek_word() in ("ip", "ip6"):
                self.take()
            if self.peek_word() == "to":
                self.take()
                self.read_expr()
            if self.peek_word() == "device":
                self.take()
                self.read_expr()
            if word == "fwd":
                spec = VerdictSpec(VerdictKind.OTHER, "FWD", terminal_other=True)
                return Term("verdict", first, self.last(), verdict=spec)
            return Term("stmt", first, self.last(), module=word)
        if word == "meter":
            self._name_arg()
            if self.peek_word() == "size":
                self.take()
                self._next_word_or_num()
            group = self.peek()
            if group is not None and group.type == "GROUP":
                self.take()
            return self._set_statement(first, "meter", group)
        if word == "flow":
            key = self.peek_word()
            if key in ("add", "offload") and self.peek(1) is not None and self.peek(1).type == "SETREF":
                self.take()
                self.take()
                return Term("stmt", first, self.last(), module="flow offload")
            if key == "table":
                self.take()
                self._name_arg()
                group = self.peek()
                if group is not None and group.type == "GROUP":
                    self.take()
                return self._set_statement(first, "meter", group)
            return Term("stmt", first, first, module="flow")
        if word == "synproxy":
            if self.peek_word() == "name":
                self.take()
                self.read_expr()
            while True:
                key = self.peek_word()
                if key in ("mss", "wscale"):
                    self.take()
                    self._next_word_or_num()
                elif key in ("timestamp", "sack-perm"):
                    self.take()
                else:
                    break
            spec = VerdictSpec(VerdictKind.OTHER, "SYNPROXY", terminal_other=True)
            return Term("verdict", first, self.last(), verdict=spec)
        if word == "xt":
            for _ in range(2):
                self._name_arg()
            return Term("opaque", first, self.last(), module="xt")
        return Term("stmt", first, first, module=word)  # pragma: no cover - every STATEMENTS word is handled

    def _set_statement(self, first, name: str, group) -> Term:
        contained = set()
        if isinstance(group, Group):
            _words_in(group, contained)
        matchlike = bool(contained & OPAQUE_CONTAINED)
        kind = "opaque" if matchlike else "stmt"
        over = None
        if matchlike and not contained & {"quota", "count", "name"}:
            over = "over" in contained  # a limit per element: a new element starts within it
        return Term(kind, first, self.last(), module=name, matchlike=matchlike, over=over)

    def read_nat(self, first, word: str) -> Term:
        family = None
        options: list[tuple[str, str]] = []
        after = self.peek(1)
        if self.peek_word() in ("ip", "ip6") and (
                _word(after) in ("to", "addr", "prefix") or after is not None and after.type in ("IPV4", "COLONADDR")
                or _is_op(after, "[")):
            family = self.take().value
            options.append(("family", family))
        if self.peek_word() in ("addr", "prefix"):
            # `dnat ip addr . port to ...` / `snat ip prefix to ...`
            while self.i < self.n and self.peek_word() != "to":
                self.take()
        addresses = ports = None
        mapping = None
        explicit = self.peek_word() == "to"
        if explicit:
            self.take()
        atom = self.peek()
        if self._selector_start(0) and (explicit or word in ("dnat", "snat")):
            sel = self.read_selector()
            if self.peek_word() == "map":
                self.take()
                table = self.primary()
                mapping = (sel, table)
            else:
                options.append(("to", "expression"))
            if _is_op(self.peek(), ":") and self.peek(1) is not None:
                self.take()  # `dnat tcp dport map {...} : tcp dport map {...}`: the port is mapped too
                self.read_expr()
                options.append(("port", "expression"))
        elif explicit or atom is not None and (
                atom.type in ("IPV4", "COLONADDR", "VAR") or _is_op(atom, "[", ":")
                or word == "redirect" and atom.type == "NUM"):
            addresses, ports = self.read_nat_target(word)
        flags = []
        while True:
            key = self.peek_word()
            if key in NAT_FLAGS:
                flags.append(self.take().value)
            elif _is_op(self.peek(), ",") and self.peek_word(1) in NAT_FLAGS:
                self.take()
            else:
                break
        if flags:
            options.append(("flags", ",".join(flags)))
        kind = {"dnat": VerdictKind.DNAT, "snat": VerdictKind.SNAT, "masquerade": VerdictKind.MASQUERADE,
                "redirect": VerdictKind.REDIRECT, "tproxy": VerdictKind.OTHER}[word]
        return Term("nat", first, self.last(), nat=(kind, addresses, ports, tuple(options), mapping, family))

    def read_port_value(self) -> Val | None:
        atom = self.peek()
        if atom is None or atom.type not in ("NUM", "WORD", "VAR"):
            return None
        low = Val("tok", self.take(), first=atom, last=atom)
        if _is_op(self.peek(), "-") and self.peek(1) is not None and self.peek(1).type in ("NUM", "WORD", "VAR"):
            self.take()
            high = self.take()
            return Val("range", low, Val("tok", high, first=high, last=high), first=atom, last=high)
        return low

    def read_nat_target(self, word: str):
        addresses = ports = None
        atom = self.peek()
        if _is_op(atom, ":"):
            self.take()
            if self._selector_start(0):  # `redirect to :tcp dport map { ... }`
                self.read_expr()
                return None, None
            return None, self.read_port_value()
        if _is_op(atom, "["):
            self.take()
            addresses = self.primary()
            if _is_op(self.peek(), "]"):
                self.take()
        elif atom is not None and (atom.type in ("IPV4", "COLONADDR", "VAR", "GROUP") or atom.type == "WORD" and word != "redirect"):
            addresses = self.primary()
        elif atom is not None and atom.type == "NUM" and word in ("redirect", "masquerade"):
            return None, self.read_port_value()
        if addresses is not None:
            while _is_op(self.peek(), "-", "/") and self.peek(1) is not None and self.peek(1).type in ("IPV4", "COLONADDR", "NUM", "VAR"):
                op = self.take().value
                right = self.primary()
                addresses = Val("range" if op == "-" else "prefix", addresses, right, first=addresses.first, last=right.last)
            if _is_op(self.peek(), ":"):
                self.take()
                if self._selector_start(0):  # `dnat to 10.0.0.1 : numgen inc mod 2 map { ... }`
                    self.read_expr()
                else:
                    ports = self.read_port_value()
        return addresses, ports


def _words_in(group: Group, out: set) -> None:
    for item in group.items:
        if isinstance(item, Group):
            _words_in(item, out)
        elif item.type == "WORD":
            out.add(item.value)


# --- Builders (mutable state while reading) ----------------------------------------


@dataclass
class _Elem:
    key: list  # atoms of the key
    data: list | None  # atoms after ':' (maps)
    text: str


@dataclass
class _SetB:
    name: str
    kind: str  # set or map
    span: Span
    type: str = ""
    flags: tuple[str, ...] = ()
    elements: list[_Elem] = field(default_factory=list)


@dataclass
class _RuleB:
    atoms: list
    span: Span
    text: str
    handle: int
    source: SourceFile


@dataclass
class _ChainB:
    name: str
    span: Span
    handle: int
    hook: Hook | None = None
    type: str | None = None
    priority: int | None = None
    policy: Policy | None = None
    device: str | None = None
    rules: list[_RuleB] = field(default_factory=list)


@dataclass
class _TableB:
    name: str
    family_word: str
    span: Span
    chains: dict[str, _ChainB] = field(default_factory=dict)
    sets: dict[str, _SetB] = field(default_factory=dict)
    next_handle: int = 1
    bindings: int = 0

    @property
    def family(self) -> Family:
        return FAMILIES[self.family_word]

    def handle(self) -> int:
        value = self.next_handle
        self.next_handle += 1
        return value


def _span(path: str, first, last=None) -> Span:
    """A Span from a token, Group or tree meta (``last`` gives the end)."""
    last = last if last is not None else first
    if isinstance(first, Tree):
        first = first.meta
    if isinstance(last, Tree):
        last = last.meta
    line = getattr(first, "line", None) or 1
    column = getattr(first, "column", None) or 1
    end_line = getattr(last, "end_line", None)
    end_column = getattr(last, "end_column", None)
    if end_line is None or end_column is None:
        return Span(path, line, column)
    return Span(path, line, column, end_line, max(end_column - 1, 1))


_HANDLE_COMMENT = re.compile(r"#\s*handle\s+(\d+)")


def _statement_end(text: str, pos: int) -> int:
    """Where the statement that starts at ``pos`` ends: a newline or ``;`` outside braces,
    or just before a ``}`` that closes the enclosing block."""
    depth = 0
    n = len(text)
    while pos < n:
        char = text[pos]
        if char == '"':
            close = text.find('"', pos + 1)
            newline = text.find("\n", pos + 1)
            if close == -1 or (newline != -1 and newline < close):
                pos = newline if newline != -1 else n
                continue
            pos = close
        elif char == "#":
            newline = text.find("\n", pos)
            pos = newline if newline != -1 else n
            continue
        elif char == "\\" and text.startswith("\n", pos + 1):
            pos += 2
            continue
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return pos
            depth -= 1
        elif (char == "\n" or char == ";") and depth == 0:
            return pos
        pos += 1
    return n


_LIST_HELPERS = ("__start_star", "__table_content_star", "__lines_star")
_TOKEN_NAMES = {
    "WORD": "a name", "NUM": "a number", "STRING": "a string", "NL": "end of line", "SEMI": "';'",
    "LBRACE": "'{'", "RBRACE": "'}'", "$END": "end of file", "VAR": "a $variable", "IPV4": "an address",
    "COLONADDR": "an address", "SETREF": "an @set", "OP": "an operator", "EQUAL": "'='",
}


def _glob_directory(path: str) -> str:
    """The directory a glob pattern lists: its components before the first one with a wildcard."""
    parts = path.split(os.sep)
    fixed = []
    for part in parts[:-1]:
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    return os.sep.join(fixed) or (os.sep if path.startswith(os.sep) else ".")


def _describe(token) -> str:
    if token.type == "$END":
        return "end of file"
    if token.type == "NL":
        return "end of line"
    return repr(str(token.value))


# --- The reader ----------------------------------------------------------------------


class _Loader(Interpreter):
    """Walks the parse tree of one file in order, updating the shared state."""

    def __init__(self, state: "_State", source: SourceFile, depth: int = 0):
        super().__init__()
        self.state = state
        self.source = source
        self.path = source.path
        self.depth = depth
        self.table: _TableB | None = None
        self.chain: _ChainB | None = None
        self.set: _SetB | None = None

    # -- helpers
    def span(self, first, last=None) -> Span:
        return _span(self.path, first, last)

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
                out.append(self._subst_group(_group(child)))
            elif child.type == "VAR":
                out.extend(self.variable(child))
            else:
                out.append(child)
        return out

    def _subst_group(self, group: Group) -> Group:
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
        size, depth = _measure(value, remaining)
        if size > remaining or depth > MAX_NESTING:
            if not self.state.define_budget_reported:
                self.state.define_budget_reported = True
                what = (f"more than the {MAX_DEFINE_ATOMS:,} values all defines of a file may expand to"
                        if size > remaining else f"braces nested deeper than {MAX_NESTING} levels")
                self.error("PL034", f"${name} is not expanded: it makes {what}; treated as may-match", token,
                           hint="docs/security.md lists portlint's budgets")
            return [token]
        self.state.define_atoms += size
        return [_borrow(atom, token) for atom in value]

    def name(self, tree: Tree | None) -> str:
        if tree is None:
            return ""
        token = tree.children[0]
        if token.type == "VAR":
            atoms = self.variable(token)
            if len(atoms) == 1 and atoms[0].type in ("WORD", "STRING", "NUM"):
                return _unquote(atoms[0].value)
            return token.value
        return _unquote(token.value)

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
                try:
                    self.body_line(line)
                except _GroupTooDeep as exc:
                    self.group_too_deep(exc)

    def _visit_tree(self, tree: Tree):
        try:
            return super()._visit_tree(tree)
        except _GroupTooDeep as exc:  # a command (add rule, add element...) with braces too deep
            self.group_too_deep(exc)
            return None

    def group_too_deep(self, exc: _GroupTooDeep) -> None:
        self.error("PL010", f"Syntax error: braces nested deeper than {MAX_NESTING} levels; the statement is "
                   "skipped", exc.meta)

    def get_table(self, family: str, name: str, first, last=None) -> _TableB:
        key = (family, name)
        table = self.state.tables.get(key)
        if table is None:
            table = _TableB(name, family, self.span(first, last))
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

    def in_table(self, table: _TableB, content: Tree) -> None:
        saved = self.table
        self.table = table
        self.state.scopes.append({})
        try:
            self.visit(content)
        finally:
            self.state.scopes.pop()
            self.table = saved

    def get_chain(self, table: _TableB, name: str, first, last=None) -> _ChainB:
        chain = table.chains.get(name)
        if chain is None:
            chain = _ChainB(name, self.span(first, last), table.handle())
            table.chains[name] = chain
        return chain

    def chain_decl(self, tree: Tree) -> None:
        name_tree = self.child(tree, "name")
        chain = self.get_chain(self.table, self.name(name_tree), tree.meta, name_tree)
        self.in_chain(chain, self.child(tree, "chain_body"))

    def in_chain(self, chain: _ChainB, body: Tree | None) -> None:
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

    def lookup_table(self, family: str, name: str, first) -> _TableB:
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

    def declare_set(self, table: _TableB, name: str, kind: str, meta, body: Tree | None) -> None:
        named = table.sets.get(name)
        if named is None:
            named = _SetB(name, kind, self.span(*meta))
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
        group = self._subst_group(_group(self.child(tree, "braced")))
        if named is None:
            self.error("PL011", f"Set {set_name} does not exist in table {family} {table.name}", tree.meta)
            return
        named.elements.extend(_elements(group))

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
        words = [_word(a) or getattr(a, "value", "") for a in self.atoms(self.child(tree, "line"))]
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
        self.include_path(_unquote(token.value), token, start)

    def include_path(self, pattern: str, token, start: str) -> None:
        base = os.path.dirname(self.path) if self.path != "-" else ""
        path = pattern if os.path.isabs(pattern) else os.path.join(base, pattern)
        policy = self.state.policy
        if any(char in pattern for char in "*?["):
            # Only list directories a readable file could be in: `include "/etc/*"` lists nothing.
            if not policy.may_contain(_glob_directory(path)):
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
                    loader = _Loader(self.state, source, self.depth + 1)
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
        rule = _RuleB(atoms, self.span(tree.meta), self.text(tree.meta), 0, self.source)
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

    def rule_index(self, chain: _ChainB, handle: int | None, where) -> int | None:
        for index, rule in enumerate(chain.rules):
            if rule.handle == handle:
                return index
        self.error("PL011", f"No rule with handle {handle} in chain {chain.name}", where)
        return None

    def handle_for(self, table: _TableB, last) -> int:
        """The rule's handle: a `# handle N` comment after it (nft list -a), else the next one."""
        where = last.meta if isinstance(last, Tree) else last
        end_line, end_column = getattr(where, "end_line", None), getattr(where, "end_column", None)
        if end_line is not None and end_column is not None:
            match = _HANDLE_COMMENT.search(self.source.line(end_line), max(end_column - 1, 0))
            if match:
                value = bounded_int(match.group(1))
                table.next_handle = max(table.next_handle, value + 1)
                return value
        return table.handle()

    def flush_cmd(self, tree: Tree) -> None:
        words = [_word(a) or getattr(a, "value", "") for a in self.atoms(self.child(tree, "line"))]
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
        table = self.state.tables.get((family, _unquote(rest[0])))
        if table is None:
            self.error("PL011", f"Table {family} {rest[0]} does not exist", tree.meta)
            return
        if what == "table":
            for chain in table.chains.values():
                chain.rules.clear()
            for named in table.sets.values():
                named.elements.clear()
        elif what == "chain" and len(rest) > 1:
            chain = table.chains.get(_unquote(rest[1]))
            if chain is not None:
                chain.rules.clear()
        elif what in ("set", "map", "meter") and len(rest) > 1:
            named = table.sets.get(_unquote(rest[1]))
            if named is not None:
                named.elements.clear()

    def delete_cmd(self, tree: Tree) -> None:
        destroy = tree.children[0].value == "destroy"
        atoms = self.atoms(self.child(tree, "line"))
        words = [_word(a) or (a.value if not isinstance(a, Group) else None) for a in atoms]
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
            if self.state.tables.pop((family, _unquote(rest[0])), None) is None and not destroy:
                self.error("PL011", f"Table {family} {rest[0]} does not exist", tree.meta)
            return
        table = self.state.tables.get((family, _unquote(rest[0] or "")))
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
            if table.chains.pop(_unquote(rest[1] or ""), None) is None and not destroy:
                self.error("PL011", f"Chain {rest[1]} does not exist in table {family} {table.name}", tree.meta)
        elif what == "rule" and len(rest) > 3 and rest[2] == "handle":
            chain = table.chains.get(_unquote(rest[1] or ""))
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
            table.sets.pop(_unquote(rest[1] or ""), None)
        elif what == "element" and len(rest_atoms) > 2 and isinstance(rest_atoms[2], Group):
            named = table.sets.get(_unquote(rest[1] or ""))
            if named is not None:
                gone = {_render(el.key) for el in _elements(rest_atoms[2])}
                named.elements = [el for el in named.elements if _render(el.key) not in gone]

    # -- chain, set and object lines
    def body_line(self, line: Tree) -> None:
        atoms = self.atoms(line)
        if not atoms:
            return
        first = _word(atoms[0])
        if first in ("define", "redefine") and len(atoms) >= 3 and _is_op(atoms[2], "="):
            scope = self.state.scopes[-1]
            scope[atoms[1].value] = atoms[3:]
            return
        if first == "undefine" and len(atoms) == 2:
            for scope in reversed(self.state.scopes):
                scope.pop(atoms[1].value, None)
            return
        if first == "include" and len(atoms) == 2 and atoms[1].type == "STRING":
            self.include_path(_unquote(atoms[1].value), atoms[1], "lines")
            return
        if self.set is not None:
            self.set_line(self.set, atoms)
        elif self.chain is not None:
            self.chain_line(self.chain, atoms, line)
        # object and flowtable lines are read and not modelled

    def set_line(self, named: _SetB, atoms: list) -> None:
        key = _word(atoms[0])
        if key in ("type", "typeof"):
            named.type = ("typeof " if key == "typeof" else "") + _render(atoms[1:])
        elif key == "flags":
            named.flags = tuple(a.value for a in atoms[1:] if a.type == "WORD")
        elif key == "elements":
            for atom in atoms[1:]:
                if isinstance(atom, Group):
                    named.elements.extend(_elements(atom))

    def chain_line(self, chain: _ChainB, atoms: list, line: Tree) -> None:
        key = _word(atoms[0])
        if key == "type" and self.table is not None:
            self.chain_type(chain, atoms)
            return
        if key == "policy":
            value = _word(atoms[1]) if len(atoms) > 1 else None
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
        if key == "flags" and len(atoms) >= 2 and _word(atoms[1]) == "offload":
            return
        table = self.table
        handle = self.handle_for(table, line) if table is not None else 0
        rule = _RuleB(atoms, self.span(line.meta), self.text(line.meta), handle, self.source)
        chain.rules.append(rule)

    def chain_type(self, chain: _ChainB, atoms: list) -> None:
        words = atoms[1:]
        i = 0
        while i < len(words):
            key = _word(words[i])
            value = words[i + 1] if i + 1 < len(words) else None
            if key == "hook" and value is not None:
                hook = HOOKS.get(value.value)
                if hook is None:
                    self.error("PL011", f"Unknown hook {value.value}", value)
                chain.hook = hook
                i += 2
            elif key == "priority":
                j = i + 1
                while j < len(words) and _word(words[j]) not in ("hook", "device", "devices", "policy"):
                    j += 1
                chain.priority = self.priority(words[i + 1:j], words[i])
                i = j
            elif key in ("device", "devices"):
                j = i + 1
                while j < len(words) and _word(words[j]) not in ("hook", "priority", "policy"):
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
            for element in _split_commas(atom.items):
                names.extend(_unquote(a.value) for a in element if a.type in ("WORD", "STRING", "NUM"))
        elif atom.type in ("WORD", "STRING", "NUM"):
            names.append(_unquote(atom.value))
    return ",".join(names) if names else None


def _elements(group: Group) -> list[_Elem]:
    """The elements of a set or map group: key atoms, data atoms after ':' (maps)."""
    out = []
    for element in _split_commas(group.items):
        if len(element) == 1 and isinstance(element[0], Group):
            out.extend(_elements(element[0]))
            continue
        key, data = element, None
        depth = 0
        for index, atom in enumerate(element):
            if _is_op(atom, "(", "["):
                depth += 1
            elif _is_op(atom, ")", "]"):
                depth -= 1
            elif depth == 0 and _is_op(atom, ":") and index > 0:
                key, data = element[:index], element[index + 1:]
                break
        out.append(_Elem(key, data, _render(element)))
    return out


# --- State and the semantic pass -------------------------------------------------------


class _State:
    def __init__(self, root: SourceFile, policy: ReadPolicy):
        self.root = root
        self.policy = policy
        self.diagnostics: list[Diagnostic] = []
        self.tables: dict[tuple[str, str], _TableB] = {}
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
                message = f"Syntax error: unexpected {_describe(token)}"
                expected = sorted({_TOKEN_NAMES.get(name, name.lower()) for name in exc.expected
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
            tables.append(_TableBuilder(self, table).build())
        return Ruleset(self.root.path, "nftables", Family.INET, tuple(tables))

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
        end = _statement_end(text, token.start_pos)
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
            str(values[boundary].data).startswith(_LIST_HELPERS):
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
    end = _statement_end(text, start)
    if end > counter.char_pos:
        counter.feed(text[counter.char_pos:end])
    elif token is not None and token.type == "RBRACE" and token.start_pos >= end:
        try:
            parser.feed_token(token)
        except UnexpectedInput:
            pass
    return True


class _TableBuilder:
    """Turns one table's rules into model objects (named sets inlined, maps expanded)."""

    def __init__(self, state: _State, table: _TableB):
        self.state = state
        self.table = table
        self.family = table.family
        self.extra_chains: list[Chain] = []
        self.path = ""
        self.source: SourceFile | None = None

    def build(self) -> Table:
        chains = []
        for chain in self.table.chains.values():
            rules: list[Rule] = []
            for rule in chain.rules:
                rules.extend(self.rules(rule))
            chains.append(Chain(chain.name, tuple(rules), chain.span, chain.hook, chain.type, chain.priority,
                                chain.policy, chain.device))
        chains.extend(self.extra_chains)
        sets = tuple(
            NamedSet(s.name, s.span, s.type, s.flags, tuple(el.text for el in s.elements))
            for s in self.table.sets.values()
        )
        return Table(self.table.name, self.family, tuple(chains), self.table.span, sets)

    # -- diagnostics
    def diag(self, code: str, message: str, atom, hint: str | None = None) -> None:
        self.state.errors_reported += 1
        span = _span(self.path, atom) if atom is not None else self.rule_span
        excerpt = caret_excerpt(self.source.line(span.line), span.column) if code == "PL010" else None
        self.state.diagnostics.append(Diagnostic(code, message, span, hint=hint, excerpt=excerpt))

    def text(self, first, last) -> str:
        return self.source.text[first.start_pos:last.end_pos].strip()

    def opaque(self, module: str, first, last, negated: bool = False) -> OpaqueMatch:
        self.state.note_opaque(module, _span(self.path, first))
        return OpaqueMatch(module, self.text(first, last), negated)

    # -- rules
    def rules(self, rule: _RuleB, atoms=None, span=None, text=None) -> list[Rule]:
        self.path, self.source = rule.source.path, rule.source
        self.rule_span = span or rule.span
        try:
            terms = _Cursor(atoms if atoms is not None else rule.atoms).read_rule()
        except ReadError as exc:
            self.diag("PL010", f"Syntax error: {exc}", exc.atom)
            return []
        try:
            return self.model_rules(terms, span or rule.span, text if text is not None else rule.text)
        except ReadError as exc:
            self.diag("PL010", f"Syntax error: {exc}", exc.atom)
            return []
        except RecursionError:
            self.diag("PL010", "Syntax error: nesting too deep", None)
            return []

    def model_rules(self, terms: list[Term], span: Span, text: str) -> list[Rule]:
        alts: list[tuple[list, VerdictSpec | None]] = [([], None)]
        statements: list[Statement] = []
        verdict: VerdictSpec | None = None
        comment = None
        has_log = False
        too_large = False
        pending_text = ""
        for term in terms:
            kind = term.kind
            if kind == "match":
                options = self.term_matches(term)
                if len(options) == 1:
                    for matches, _ in alts:
                        _extend(matches, options[0])
                else:
                    if len(alts) * len(options) > MAX_EXPANSION:
                        too_large = True
                        self.too_large(term)
                        op = OpaqueMatch(_module(term.sel), self.text(term.first, term.last))
                        for matches, _ in alts:
                            matches.append(op)
                        continue
                    alts = [(_extend(list(m), option), v) for m, v in alts for option in options]
            elif kind in ("vmap", "nat") and (kind == "vmap" or term.nat[4] is not None):
                options = self.map_options(term)
                if options is _TOO_LARGE:
                    self.too_large(term)
                    options = None
                if options is None:
                    op = self.opaque(_module(term.sel) if term.sel else "map", term.first, term.last)
                    for matches, _ in alts:
                        matches.append(op)
                    if kind == "nat":
                        verdict = VerdictSpec(term.nat[0], options=term.nat[3])
                    continue
                if term.sel is not None:
                    options = nft_choices.exhaustive(self.text(term.sel.first, term.sel.last), options)
                if len(alts) * len(options) > MAX_EXPANSION:
                    self.too_large(term)
                    op = OpaqueMatch(_module(term.sel) if term.sel else "map", self.text(term.first, term.last))
                    for matches, _ in alts:
                        matches.append(op)
                    continue
                alts = [(_extend(list(m), conj), spec) for m, _v in alts for conj, spec in options]
            elif kind == "nat":
                nat_kind, addresses, ports, options, _, family = term.nat
                spec = VerdictSpec(nat_kind, options=options)
                spec.to_addresses = self.nat_addresses(addresses, family)
                spec.to_ports = self.nat_ports(ports)
                if nat_kind is VerdictKind.OTHER:
                    spec.target = "TPROXY"
                    pending_text = self.text(term.first, term.last)
                if verdict is None:
                    verdict = spec
                else:
                    statements.append(Statement(term.first.value, self.text(term.first, term.last)))
            elif kind == "verdict":
                spec = term.verdict
                if spec.binding is not None:
                    spec = VerdictSpec(spec.kind, self.binding_chain(spec.binding))
                if verdict is not None and verdict.kind is VerdictKind.OTHER and not verdict.terminal_other:
                    # tproxy does not end the rule: it is a statement before the verdict
                    statements.append(Statement("tproxy", pending_text))
                    verdict = spec
                elif verdict is None:
                    verdict = spec
            elif kind == "opaque" and term.over is not None:
                op = LimitMatch(term.module, term.over, text=self.text(term.first, term.last))
                for matches, _ in alts:
                    matches.append(op)
            elif kind == "opaque":
                op = self.opaque(term.module, term.first, term.last)
                for matches, _ in alts:
                    matches.append(op)
            elif kind == "stmt":
                statements.append(nft_marks.statement(term.module, self.text(term.first, term.last)))
                has_log = has_log or term.module == "log"
            elif kind == "comment":
                comment = term.module
        del too_large
        out = []
        for matches, alt_verdict in alts:
            spec = alt_verdict or verdict
            if spec is None:
                model_verdict = Verdict(VerdictKind.LOG if has_log else VerdictKind.CONTINUE)
            else:
                model_verdict = Verdict(spec.kind, spec.target, spec.to_addresses, spec.to_ports, tuple(spec.options),
                                        spec.terminal_other)
            out.append(Rule(tuple(self.with_families(matches)), model_verdict, span, comment, tuple(statements), text))
        return out

    def too_large(self, term: Term) -> None:
        self.state.diagnostics.append(Diagnostic(
            "PL034", f"Expansion larger than {MAX_EXPANSION} rules; kept as one opaque match",
            _span(self.path, term.first, term.last),
        ))

    def with_families(self, matches: list) -> list:
        """Add the IPv4/IPv6 dependency of ip/ip6 matches in inet, bridge and netdev tables."""
        if self.family in (Family.IPV4, Family.IPV6):
            return [m for m in matches if not isinstance(m, _Implied)]
        out = []
        for index, match in enumerate(matches):
            if isinstance(match, _Implied):
                if not any(isinstance(m, AddressMatch) and m.addresses.family is match.family for m in matches):
                    full = _full_family(match.family)
                    if full not in out:
                        out.append(full)
                continue
            out.append(match)
        return out

    # -- anonymous chains
    def binding_chain(self, group: Group) -> str:
        self.table.bindings += 1
        name = f"__chain{self.table.bindings}"
        saved = (self.path, self.source, self.rule_span)
        rules: list[Rule] = []
        for line in _split_lines(group.items):
            if not line:
                continue
            span = _span(self.path, line[0], line[-1])
            dummy = _RuleB(line, span, self.text(line[0], line[-1]), 0, self.source)
            rules.extend(self.rules(dummy))
            self.path, self.source, self.rule_span = saved
        self.extra_chains.append(Chain(name, tuple(rules), _span(self.path, group)))
        return name

    # -- sets
    def lookup_set(self, ref) -> _SetB | None:
        named = self.table.sets.get(ref.value[1:])
        if named is None:
            self.diag("PL011", f"Undefined set {ref.value}", ref, hint="declare the set in the same table")
        return named

    def flatten(self, value: Val) -> list[Val] | None:
        """The elements a value stands for (sets, lists and named sets opened), or None."""
        kind = value.kind
        if kind == "group":
            out = []
            for element in _elements(value.a):
                val = _Cursor(element.key).read_value(colon=False)
                if val is None:
                    continue
                inner = self.flatten(val)
                if inner is None:
                    return None
                out.extend(inner)
            return out
        if kind == "list":
            out = []
            for item in value.a:
                inner = self.flatten(item)
                if inner is None:
                    return None
                out.extend(inner)
            return out
        if kind == "ref":
            named = self.lookup_set(value.a)
            if named is None:
                return None
            out = []
            for element in named.elements:
                val = _Cursor(element.key).read_value(colon=False)
                if val is not None:
                    inner = self.flatten(val) if val.kind != "ref" else None
                    if inner is None:
                        return None
                    out.extend(inner)
            return out
        if kind == "paren":
            return self.flatten(value.a) if value.a is not None else None
        return [value]

    # -- matches
    def term_matches(self, term: Term) -> list[list]:
        """The alternatives (each a list of matches) a match term stands for."""
        sel = term.sel
        if len(sel.parts) == 1:
            return [self.matches_for(sel.parts[0], term.op, term.value, term, masked=sel.masked)]
        if term.op != "==" or sel.masked:
            return [self.opaque_for(sel, term)]
        elements = self.flatten(term.value)
        if elements is None:
            return [self.opaque_for(sel, term)]
        options = []
        if len(elements) > MAX_EXPANSION:
            self.too_large(term)
            return [[OpaqueMatch(_module(sel), self.text(term.first, term.last))]]
        for element in elements:
            parts = element.a if element.kind == "concat" else [element]
            if len(parts) != len(sel.parts):
                return [self.opaque_for(sel, term)]
            conj: list = []
            for part, component in zip(sel.parts, parts):
                _extend(conj, self.matches_for(part, "==", component, term))
            options.append(conj)
        if not options:
            return [self.matches_for(sel.parts[0], "==", Val("empty", None), term)]
        return options

    def opaque_for(self, sel: Sel, term: Term) -> list:
        return [self.opaque(_module(sel), term.first, term.last, term.op == "!=")]

    def matches_for(self, words: tuple, op: str, value: Val, term: Term, masked: bool = False) -> list:
        """The matches of one selector compared with one value (a set, range, element...)."""
        head = words[0]
        key = words[1] if len(words) > 1 else ""
        implied: list = []
        proto = IMPLIED_PROTOCOLS.get(head)
        if proto is not None and len(words) > 1:
            implied.append(ProtocolMatch(frozenset({proto}), text=head))
        if head in ("ip", "ip6") and len(words) > 1:
            implied.append(_Implied(Family.IPV4 if head == "ip" else Family.IPV6))
        negated = op == "!="
        simple = op in ("==", "!=") and not masked
        errors_before = self.state.errors_reported
        module = " ".join(w for w in words if w)
        result = None
        if words in _PATH_DECIDED:
            if term.kind == "match" and len(term.sel.parts) == 1:
                result = self.path_decided(words, op, value, term, masked)
        elif simple and head in ("ip", "ip6") and key in ("saddr", "daddr") and len(words) == 2:
            family = Family.IPV4 if head == "ip" else Family.IPV6
            addresses = self.addresses(value, family, term)
            if addresses is not None:
                direction = Direction.SOURCE if key == "saddr" else Direction.DESTINATION
                result = [AddressMatch(direction, addresses, negated)]
        elif head in PORT_PROTOCOLS or head == "th":
            if key in ("sport", "dport") and not masked:
                ports = self.ports(value, op, head, term)
                if ports is not None:
                    direction = Direction.SOURCE if key == "sport" else Direction.DESTINATION
                    result = [PortMatch(direction, ports, negated and op == "!=")]
        elif simple and words in (("ip", "protocol"), ("ip6", "nexthdr"), ("meta", "l4proto")):
            protocols = self.protocols(value, term)
            if protocols is not None:
                result = [ProtocolMatch(protocols, negated, _value_text(value))]
        elif words == ("ct", "state") and (simple or op == "!" and value.kind in ("tok", "list")):
            states = self.names(value, term, CT_STATES, "conntrack state")
            if states is not None:
                # A packet has exactly one state bit, so `! a,b` (no bit of a|b set) is "not a or b".
                result = [StateMatch(frozenset(states), negated or op == "!")]
        elif simple and words in (("meta", "iifname"), ("meta", "iif"), ("meta", "oifname"), ("meta", "oif")):
            names = self.names(value, term, None, "interface")
            if names is not None:
                direction = "in" if key in ("iifname", "iif") else "out"
                result = [InterfaceMatch(direction, tuple(names), negated)]
        elif simple and head == "fib" and key in ("saddr", "daddr") and words[2] == "type":
            types = self.names(value, term, ADDR_TYPES, "address type")
            if types is not None:
                direction = Direction.SOURCE if key == "saddr" else Direction.DESTINATION
                result = [AddrTypeMatch(direction, frozenset(t.upper() for t in types), negated)]
        elif simple and words in (("meta", "nfproto"), ("meta", "protocol"), ("ether", "type")):
            families = self.names(value, term, None, "")
            if families is not None and families and all(f in L3_VALUES for f in families):
                kinds = {L3_VALUES[f] for f in families}
                if len(kinds) == 1:
                    # Only IPv4 and IPv6 packets are modelled: `!= ipv4` is IPv6.
                    only = kinds.pop()
                    if negated:
                        only = Family.IPV6 if only is Family.IPV4 else Family.IPV4
                    result = [_full_family(only)]
                elif not negated:
                    result = []
            if result is not None and head == "ether":
                implied = []
        if result is None and module in nft_marks.MARK_MODULES and term.kind == "match" and len(term.sel.parts) == 1:
            mark = nft_marks.mark_match(self.text(term.first, term.last))
            result = [mark] if mark is not None else None
        if result is None:
            if self.state.errors_reported > errors_before or _has_var(value):
                # already reported (PL011/PL031): no "not modelled" note on top
                shown = self.text(term.first, term.last) if term.kind == "match" else _value_text(value)
                result = [OpaqueMatch(module, shown, negated)]
            elif term.kind == "match" and len(term.sel.parts) == 1:
                result = [self.opaque(module, term.first, term.last, negated)]
            else:  # a component of a concatenation or a map key: say which
                self.state.note_opaque(module, _span(self.path, term.first))
                shown = "{}" if value.kind == "empty" else _value_text(value)
                result = [OpaqueMatch(module, f"{module} {shown}", negated)]
        return implied + result

    def path_decided(self, words: tuple, op: str, value: Val, term: Term, masked: bool) -> list | None:
        """A match a packet's path decides (tcp flags, ct status, the original tuple, fragments),
        or None when written in a form portlint keeps opaque."""
        ops = term.sel.ops if masked else []
        if masked and (len(ops) != 1 or ops[0][0] != "&" or ops[0][1] is None):
            return None
        text = self.text(term.first, term.last)
        negated = op == "!="
        if words == ("tcp", "flags"):
            return _tcp_flags_match(op, value, ops, term.explicit, text)
        if words == ("ct", "status"):
            return _ct_status_match(op, value, ops, term.explicit, text)
        if words == ("ip", "frag-off"):
            if ops and _number_value(ops[0][1], {}) == 0x1FFF and op in ("==", "!=") \
                    and _number_value(value, {}) == 0:
                return [FragmentMatch(op == "==", text)]
            return None
        if masked or op not in ("==", "!="):
            return None
        field_name = words[-1]
        if field_name in ("proto-src", "proto-dst"):
            ports = self.ports(value, op, "tcp", term)
            if ports is None:
                return None
            direction = Direction.SOURCE if field_name == "proto-src" else Direction.DESTINATION
            return [OriginalPortMatch(direction, ports, negated, text=text)]
        if len(words) == 4:
            family = Family.IPV4 if words[2] == "ip" else Family.IPV6
        elif self.family in (Family.IPV4, Family.IPV6):
            family = self.family
        else:
            return None  # `ct original saddr` in an inet table: nft needs the family
        addresses = self.addresses(value, family, term)
        if addresses is None:
            return None
        direction = Direction.SOURCE if field_name == "saddr" else Direction.DESTINATION
        return [OriginalAddressMatch(direction, addresses, negated, text=text)]

    def _has_unknown(self, value: Val) -> bool:
        atom = value.first
        return atom is not None and getattr(atom, "type", "") == "VAR"

    def addresses(self, value: Val, family: Family, term: Term) -> AddressSet | None:
        if value.kind == "empty":
            return AddressSet(family, (), "")
        elements = self.flatten(value)
        if elements is None:
            return None
        ranges = []
        for element in elements:
            span = self.address_range(element, family)
            if span is None:
                return None
            ranges.append(span)
        return AddressSet(family, normalize_ranges(ranges), _value_text(value))

    def address_range(self, value: Val, family: Family | None) -> tuple[int, int] | None:
        kind = value.kind
        try:
            if kind == "tok":
                atom = value.a
                if atom.value == "*":  # the catch-all element
                    return 0, IPV6_MAX if family is Family.IPV6 else IPV4_MAX
                if atom.type in ("IPV4", "COLONADDR"):
                    return _address(atom.value, family)
                if atom.type == "VAR":
                    return None
                if atom.type == "STRING" or atom.type == "WORD":
                    return None  # a host name: nft resolves it when loading
                raise AddressError(f"not an IP address: {atom.value!r}")
            if kind == "paren" and value.a is not None:
                return self.address_range(value.a, family)
            if kind == "prefix" and value.a.kind in ("tok", "paren") and value.b.kind == "tok":
                inner = value.a.a.a if value.a.kind == "paren" else value.a.a
                return _address(f"{inner.value}/{value.b.a.value}", family)
            if kind == "range":
                low = self.address_range(value.a, family)
                high = self.address_range(value.b, family)
                if low is None or high is None:
                    return None
                if low[0] > high[1]:
                    raise AddressError(f"range start is above its end: {_value_text(value)!r}")
                return low[0], high[1]
        except AddressError as exc:
            self.diag("PL011", f"Invalid address: {exc}", value.first)
            return None
        if kind == "tok" or value.first is None:
            return None
        self.diag("PL011", f"Invalid address {_value_text(value)!r}", value.first)
        return None

    def ports(self, value: Val, op: str, proto: str, term: Term) -> PortSet | None:
        if value.kind == "empty":
            return PortSet(())
        if op in ("<", "<=", ">", ">="):
            port = self.port_number(value, proto)
            if port is None:
                return None
            bounds = {"<": (0, port - 1), "<=": (0, port), ">": (port + 1, MAX_PORT), ">=": (port, MAX_PORT)}[op]
            if bounds[0] > bounds[1]:
                return PortSet(())
            return PortSet((bounds,))
        if op not in ("==", "!="):
            return None
        elements = self.flatten(value)
        if elements is None:
            return None
        ranges = []
        for element in elements:
            if element.kind == "range":
                low = self.port_number(element.a, proto)
                high = self.port_number(element.b, proto)
                if low is None or high is None:
                    return None
                if low > high:
                    self.diag("PL011", f"Port range start is above its end: {_value_text(element)}", element.first)
                    return None
                ranges.append((low, high))
            elif element.kind == "tok" and element.a.value == "*":
                ranges.append((0, MAX_PORT))
            else:
                port = self.port_number(element, proto)
                if port is None:
                    return None
                ranges.append((port, port))
        return PortSet(normalize_ranges(ranges))

    def port_number(self, value: Val, proto: str) -> int | None:
        if value.kind != "tok":
            return None
        atom = value.a
        text = _unquote(atom.value)
        if atom.type == "NUM":
            number = _number(text)
            if number is None or number > MAX_PORT:
                self.diag("PL011", f"Invalid port {shown(text)} (ports are 0-65535)", atom)
                return None
            return number
        if atom.type in ("WORD", "STRING"):
            port = netdb.service_port(text, proto if proto in ("tcp", "udp", "sctp", "dccp") else "tcp")
            if port is None:
                self.diag("PL011", f"Unknown service name {text!r}", atom, hint="use a port number")
            return port
        return None

    def protocols(self, value: Val, term: Term) -> frozenset[int] | None:
        if value.kind == "empty":
            return frozenset()
        elements = self.flatten(value)
        if elements is None:
            return None
        out = set()
        for element in elements:
            if element.kind == "range" and element.a.kind == "tok" and element.b.kind == "tok":
                low, high = _number(element.a.a.value), _number(element.b.a.value)
                if low is None or high is None or high > 255:
                    return None
                out.update(range(low, high + 1))
                continue
            if element.kind != "tok" or element.a.type == "VAR":
                return None
            number = netdb.protocol_number(_unquote(element.a.value))
            if number is None:
                self.diag("PL011", f"Unknown protocol {element.a.value!r}", element.a)
                return None
            out.add(number)
        return frozenset(out)

    def names(self, value: Val, term: Term, allowed: set | None, what: str) -> list[str] | None:
        if value.kind == "empty":
            return []
        elements = self.flatten(value)
        if elements is None:
            return None
        out = []
        for element in elements:
            if element.kind != "tok" or element.a.type not in ("WORD", "STRING", "NUM"):
                return None
            name = _unquote(element.a.value)
            if what == "conntrack state" and name not in allowed and _CT_STATE_NUMBER.fullmatch(name):
                # `nft -n list ruleset` writes states as their bits: 0x2 is established.
                bits = int(name, 0)
                named = [state for bit, state in _CT_STATE_BITS if bits & bit]
                if named and not bits & ~_CT_STATE_ALL:
                    out.extend(named)
                    continue
            if allowed is not None and name not in allowed:
                if what:
                    self.diag("PL011", f"Unknown {what} {name!r}", element.a)
                return None
            out.append(name)
        return out

    # -- maps
    def map_options(self, term: Term) -> list[tuple[list, VerdictSpec]] | None:
        if term.kind == "vmap":
            sel, mapping = term.sel, term.value
            nat = None
        else:
            sel, mapping = term.nat[4]
            nat = term.nat
        if mapping is None or sel is None or sel.masked:
            return None
        if mapping.kind == "group":
            elements = _elements(mapping.a)
        elif mapping.kind == "ref":
            named = self.lookup_set(mapping.a)
            if named is None:
                return None
            elements = named.elements
        else:
            return None
        options = []
        catchall: list = []
        if len(elements) > MAX_EXPANSION:
            return _TOO_LARGE
        for element in elements:
            if element.data is None:
                continue
            key = _Cursor(element.key).read_value(colon=False)
            if key is None:
                continue
            if nat is None:
                cursor = _Cursor(element.data)
                if _word(cursor.peek()) not in VERDICTS:
                    continue
                spec = cursor.read_verdict().verdict
                if spec.binding is not None:
                    spec = VerdictSpec(spec.kind, self.binding_chain(spec.binding))
            else:
                data = _Cursor(element.data).read_value(colon=True)
                spec = VerdictSpec(nat[0], options=nat[3])
                if data is not None:
                    addr_val, port_val = data, None
                    if data.kind == "colon":
                        addr_val, port_val = data.a, data.b
                    elif data.kind == "concat" and len(data.a) == 2:
                        addr_val, port_val = data.a
                    spec.to_addresses = self.nat_addresses(addr_val, nat[5])
                    spec.to_ports = self.nat_ports(port_val)
            if key.kind == "tok" and key.a.value == "*":
                catchall.append(([], spec))  # nft tries it after every other element
                continue
            keys = self.flatten(key) if key.kind in ("group", "list") else [key]
            if keys is None:
                return None
            for one in keys:
                parts = one.a if one.kind == "concat" else [one]
                if len(parts) != len(sel.parts):
                    return None
                conj: list = []
                for words, component in zip(sel.parts, parts):
                    _extend(conj, self.matches_for(words, "==", component, term))
                options.append((conj, spec))
        options.extend(catchall)
        if not options:
            conj = self.matches_for(sel.parts[0], "==", Val("empty", None), term)
            options.append((conj, VerdictSpec(VerdictKind.CONTINUE)))
        return options

    def nat_addresses(self, value: Val | None, family_word: str | None) -> AddressSet | None:
        if value is None:
            return None
        family = {"ip": Family.IPV4, "ip6": Family.IPV6}.get(family_word or "")
        if family is None and self.family in (Family.IPV4, Family.IPV6):
            family = self.family
        span = self.address_range(value, family)
        if span is None:
            return None
        atom = value.first
        fam = Family.IPV6 if atom is not None and getattr(atom, "type", "") == "COLONADDR" or (
            value.kind == "paren" and value.a is not None and getattr(value.a.first, "type", "") == "COLONADDR"
        ) else Family.IPV4
        if value.kind in ("range", "prefix") and getattr(value.a.first, "type", "") == "COLONADDR":
            fam = Family.IPV6
        return AddressSet(fam, (span,), _value_text(value))

    def nat_ports(self, value: Val | None) -> PortSet | None:
        if value is None:
            return None
        if value.kind == "range":
            low = self.port_number(value.a, "tcp")
            high = self.port_number(value.b, "tcp")
            if low is None or high is None or low > high:
                return None
            return PortSet(((low, high),))
        port = self.port_number(value, "tcp")
        return PortSet(((port, port),)) if port is not None else None


_TOO_LARGE: list = []


@dataclass(frozen=True)
class _Implied:
    """Marker: an ip/ip6 match that only applies to that family (replaced in with_families)."""

    family: Family


def _full_family(family: Family, negated: bool = False) -> AddressMatch:
    top = IPV6_MAX if family is Family.IPV6 else IPV4_MAX
    text = "ipv6" if family is Family.IPV6 else "ipv4"
    return AddressMatch(Direction.SOURCE, AddressSet(family, ((0, top),), text), negated)


def _extend(matches: list, new: list) -> list:
    for match in new:
        if isinstance(match, (ProtocolMatch, _Implied)) and match in matches:
            continue
        if isinstance(match, ProtocolMatch) and not match.negated and any(
                isinstance(m, ProtocolMatch) and not m.negated and m.protocols == match.protocols for m in matches):
            continue
        matches.append(match)
    return matches


_PATH_DECIDED = {("tcp", "flags"), ("ct", "status"), ("ip", "frag-off")} | {
    ("ct", "original", *family, key) for family in ((), ("ip",), ("ip6",)) for key in ("saddr", "daddr")} | {
    ("ct", "original", "proto-src"), ("ct", "original", "proto-dst")}
CT_STATUS_BITS = {"expected": 0x1, "seen-reply": 0x2, "assured": 0x4, "confirmed": 0x8, "snat": 0x10,
                  "dnat": 0x20, "dying": 0x200}


def _number_value(value: Val | None, names: dict) -> int | None:
    """The number a flag value stands for: names of ``names``, numbers, ``a|b``, ``a,b``, ``(a)``."""
    if value is None:
        return None
    kind = value.kind
    if kind == "tok":
        atom = value.a
        if atom.type == "NUM":
            return _number(atom.value)
        return names.get(atom.value) if atom.type == "WORD" else None
    if kind == "paren":
        return _number_value(value.a, names)
    if kind == "list" or kind == "binop" and value.b[0] == "|":
        items = value.a if kind == "list" else [value.a, value.b[1]]
        total = 0
        for item in items:
            bits = _number_value(item, names)
            if bits is None:
                return None
            total |= bits
        return total
    return None


def _tcp_flags_match(op: str, value: Val, ops: list, explicit: bool, text: str) -> list | None:
    """nft ``tcp flags`` in the forms nft gives a meaning to (nft 1.0: ``tcp flags syn`` is
    "syn set", ``== syn`` and ``!= syn`` compare the whole byte, ``! syn`` is "syn unset",
    ``syn / syn,ack`` and ``& (syn|ack) == syn`` compare under a mask)."""
    slashes = [i for i, item in enumerate(value.a) if item.kind == "prefix"] if value.kind == "list" else []
    if len(slashes) == 1:
        # `syn,ack / syn,ack,fin`: commas bind looser than "/" in the reader; the flags before
        # the "/" are the value, those after it the mask.
        at = slashes[0]
        items = value.a
        bits = Val("list", [*items[:at], items[at].a])
        mask = Val("list", [items[at].b, *items[at + 1:]])
        value = Val("prefix", bits, mask, first=value.first, last=value.last)
    if value.kind == "prefix" and not ops and op in ("==", "!="):
        bits, mask = _number_value(value.a, TCP_FLAG_BITS), _number_value(value.b, TCP_FLAG_BITS)
        if bits is None or mask is None:
            return None
        return [TcpFlagsMatch(mask, bits, negated=op == "!=", text=text)]
    bits = _number_value(value, TCP_FLAG_BITS)
    if bits is None or bits > 0xFF:
        return None
    if ops:
        mask = _number_value(ops[0][1], TCP_FLAG_BITS)
        if mask is None or op not in ("==", "!="):
            return None
        return [TcpFlagsMatch(mask, bits, negated=op == "!=", text=text)]
    if op == "!":
        return [TcpFlagsMatch(bits, 0, text=text)]
    if op in ("==", "!=") and (explicit or op == "!="):
        return [TcpFlagsMatch(0xFF, bits, negated=op == "!=", text=text)]
    if op == "==" and value.kind != "group":
        return [TcpFlagsMatch(bits, 0, any_of=True, text=text)]
    return None


def _ct_status_match(op: str, value: Val, ops: list, explicit: bool, text: str) -> list | None:
    """nft ``ct status``: ``dnat`` / ``dnat,snat`` (any set), ``! dnat`` (none set),
    ``& dnat == dnat``, ``& dnat != 0``... The whole word compared (``== dnat``) stays opaque:
    it holds bits portlint does not know."""
    names_of = {bit: name for name, bit in CT_STATUS_BITS.items()}

    def statuses(bits: int) -> frozenset[str] | None:
        found = frozenset(name for bit, name in names_of.items() if bits & bit)
        return found if sum(CT_STATUS_BITS[n] for n in found) == bits else None

    if ops:
        mask = _number_value(ops[0][1], CT_STATUS_BITS)
        bits = _number_value(value, CT_STATUS_BITS)
        if mask is None or bits is None or op not in ("==", "!=") or statuses(mask) is None:
            return None
        names = statuses(mask)
        if bits == 0:
            return [CtStatusMatch(names, negated=op == "==", text=text)]
        if bits == mask:
            return [CtStatusMatch(names, all_of=len(names) > 1, negated=op == "!=", text=text)]
        return None
    if value.kind == "group" or explicit or op not in ("==", "!"):
        return None
    bits = _number_value(value, CT_STATUS_BITS)
    names = statuses(bits) if bits is not None else None
    if names is None or not names:
        return None
    return [CtStatusMatch(names, negated=op == "!", text=text)]


def _module(sel: Sel | None) -> str:
    if sel is None:
        return "map"
    return " . ".join(" ".join(w for w in part if w) for part in sel.parts)


def _value_text(value: Val) -> str:
    if value.first is None:
        return ""
    atoms = []
    _collect(value, atoms)
    return _render(atoms)


def _collect(value: Val, out: list) -> None:
    kind = value.kind
    if kind in ("tok", "group", "ref"):
        out.append(value.a)
    elif kind in ("list", "concat"):
        for index, item in enumerate(value.a):
            if index:
                out.append(Token("OP", "," if kind == "list" else "."))
            _collect(item, out)
    elif kind in ("range", "prefix", "colon"):
        _collect(value.a, out)
        out.append(Token("OP", {"range": "-", "prefix": "/", "colon": ":"}[kind]))
        _collect(value.b, out)
    elif kind == "binop":
        _collect(value.a, out)
        op, right = value.b
        out.append(Token("OP", op))
        _collect(right, out)
    elif kind == "paren" and value.a is not None:
        _collect(value.a, out)
    elif kind == "neg" and value.a is not None:
        out.append(Token("OP", value.b))
        _collect(value.a, out)


@functools.lru_cache(maxsize=8192)
def _address(text: str, family: Family | None) -> tuple[int, int]:
    """parse_address_range, cached: rulesets repeat their addresses a lot."""
    return parse_address_range(text, family)[1:]


def _has_var(value: Val) -> bool:
    """Whether a value holds a ``$variable`` left in place (undefined: PL031 said so)."""
    atoms: list = []
    _collect(value, atoms)
    return any(getattr(atom, "type", "") == "VAR" for atom in atoms)


def _number(text: str) -> int | None:
    try:
        return bounded_int(text, 0) if text[:2].lower() == "0x" else bounded_int(text, 10)
    except ValueError:
        return None


# --- Entry point ---------------------------------------------------------------------


def _internal_error(path: str, exc: Exception) -> Diagnostic:
    """A bug in this reader (PL009): what it read before is kept, the error is not hidden as a syntax error."""
    return Diagnostic(
        "PL009", f"The nftables reader failed: {type(exc).__name__}: {exc}", Span(path, 1, 1),
        hint="This is a bug in portlint; the rest of the run went on. Please report it with the input that caused it",
    )


def parse(source: SourceFile, options: FrontEndOptions | None = None) -> ParseResult:
    """Read an nftables ruleset (script or `nft list ruleset` output) into the model; includes
    are read as ``options.read_policy`` allows (default: inside the file's own directory)."""
    policy = options.read_policy if options is not None and options.read_policy is not None else None
    state = _State(source, policy or ReadPolicy.for_file(source.path))
    diagnostics = list(source.diagnostics)
    real = os.path.realpath(source.path) if source.path != "-" else "-"
    state.include_stack.append(real)
    try:
        tree = state.parse_text(source, "start")
        if tree is not None:
            _Loader(state, source).visit(tree)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop a run
        state.diagnostics.append(_internal_error(source.path, exc))
    try:
        ruleset = state.ruleset()
    except Exception as exc:  # noqa: BLE001
        state.diagnostics.append(_internal_error(source.path, exc))
        ruleset = Ruleset(source.path, "nftables", Family.INET, ())
    diagnostics.extend(sorted(state.diagnostics, key=lambda d: (d.span.path != source.path, d.span.path,
                                                                d.span.line, d.span.column)))
    return ParseResult(ruleset, diagnostics)
