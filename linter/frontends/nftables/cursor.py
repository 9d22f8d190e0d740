"""Reading one rule's atoms into terms: a recursive-descent cursor over nft's expression syntax."""

from __future__ import annotations

from linter.budgets import MAX_NESTING
from linter.frontends.nftables.atoms import (
    Group,
    is_op,
    render,
    Sel,
    Term,
    unquote,
    Val,
    VerdictSpec,
    word_of,
)
from linter.frontends.nftables.keywords import (
    BARE_META,
    BINOPS,
    FIB_FLAGS,
    NAT_FLAGS,
    OPAQUE_CONTAINED,
    OPTION_FIELDS,
    PAYLOAD_HEADS,
    RATE_WORDS,
    RAW_BASES,
    ReadError,
    RELOPS,
    SPECIAL_HEADS,
    STATEMENTS,
    VERDICTS,
    WORD_BINOPS,
)
from linter.frontends.nftables.matches import number_or_none
from linter.model import VerdictKind


class Cursor:
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
        return word_of(self.peek(k))

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
                term = Term("opaque", atom, atom, module=word_of(atom) or atom.value)
            terms.append(term)
        return terms

    def starts_statement(self, k: int = 0) -> bool:
        atom = self.peek(k)
        word = word_of(atom)
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
        word = word_of(atom)
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
                limit = number_or_none(self.take().value)
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
        module = word_of(first) or first.value
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
        while is_op(self.peek(), ".") and self._selector_start(1):
            self.take()
            nxt = self.selector_part()
            if nxt is None:
                break
            parts.append(nxt)
        sel = Sel(parts, first, self.last())
        while True:
            atom = self.peek()
            if is_op(atom, *BINOPS) or word_of(atom) in WORD_BINOPS:
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
        word = word_of(atom)
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
            if atom.value in RAW_BASES and is_op(self.peek(1), ","):
                self.take()
                words = [atom.value]
                while is_op(self.peek(), ",") and self.peek(1) is not None and self.peek(1).type in ("NUM", "VAR"):
                    self.take()
                    words.append(self.take().value)
                return tuple(words)
            return None
        word = word_of(atom)
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
                while is_op(self.peek(), ".") and self.peek_word(1) in FIB_FLAGS:
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
            if is_op(self.peek(), "[") and self.peek(1) is not None and self.peek(1).type == "NUM" and is_op(self.peek(2), "]"):
                self.take()
                self.take()
                self.take()
            return tuple(words)
        return None

    def after_selector(self, sel: Sel) -> Term:
        atom = self.peek()
        word = word_of(atom)
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
        elif is_op(atom, "!"):
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
            if is_op(self.peek(), ")"):
                self.take()
            return Val("paren", inner, first=atom, last=self.last())
        if value == "[":
            inner = self.read_value(colon=False)
            if is_op(self.peek(), "]"):
                self.take()
            return Val("paren", inner, first=atom, last=self.last())
        inner = self.primary()
        return Val("neg", inner, value, first=atom, last=self.last())

    def read_value(self, colon: bool = True) -> Val | None:
        """An rhs value. Precedence, loosest first: ``,`` lists, ``.`` concatenations,
        ``-`` ranges (and ``:`` pairs), then ``/ | ^ & << >>`` left to right."""
        first = self.read_concat(colon)
        if first is None or not is_op(self.peek(), ","):
            return first
        items = [first]
        while is_op(self.peek(), ",") and self.peek(1) is not None:
            comma = self.take()
            item = self.read_concat(colon)
            if item is None:
                raise ReadError("missing value after ','", self.peek() or comma)
            items.append(item)
        return Val("list", items, first=first.first, last=items[-1].last)

    def read_concat(self, colon: bool) -> Val | None:
        first = self.read_range(colon)
        if first is None or not is_op(self.peek(), "."):
            return first
        items = [first]
        while is_op(self.peek(), ".") and self.peek(1) is not None:
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
        if (is_op(atom, "-") or colon and is_op(atom, ":")) and self.peek(1) is not None:
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
            if is_op(atom, "/", *BINOPS):
                op = atom.value
            elif word_of(atom) in WORD_BINOPS:
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
                spec = VerdictSpec(kind, unquote(target.value))
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
                    options.append((key, render(self.atoms[start:self.i])))
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
            if atom.type == "NUM" or word_of(atom) in words or is_op(atom, "/"):
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
                    while is_op(self.peek(), ".") and self.peek(1) is not None:
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
                    over = any(word_of(atom) == "over" for atom in self.atoms[start:self.i])
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
            return Term("comment", first, atom, module=unquote(atom.value))
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
                word_of(after) in ("to", "addr", "prefix") or after is not None and after.type in ("IPV4", "COLONADDR")
                or is_op(after, "[")):
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
            if is_op(self.peek(), ":") and self.peek(1) is not None:
                self.take()  # `dnat tcp dport map {...} : tcp dport map {...}`: the port is mapped too
                self.read_expr()
                options.append(("port", "expression"))
        elif explicit or atom is not None and (
                atom.type in ("IPV4", "COLONADDR", "VAR") or is_op(atom, "[", ":")
                or word == "redirect" and atom.type == "NUM"):
            addresses, ports = self.read_nat_target(word)
        flags = []
        while True:
            key = self.peek_word()
            if key in NAT_FLAGS:
                flags.append(self.take().value)
            elif is_op(self.peek(), ",") and self.peek_word(1) in NAT_FLAGS:
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
        if is_op(self.peek(), "-") and self.peek(1) is not None and self.peek(1).type in ("NUM", "WORD", "VAR"):
            self.take()
            high = self.take()
            return Val("range", low, Val("tok", high, first=high, last=high), first=atom, last=high)
        return low

    def read_nat_target(self, word: str):
        addresses = ports = None
        atom = self.peek()
        if is_op(atom, ":"):
            self.take()
            if self._selector_start(0):  # `redirect to :tcp dport map { ... }`
                self.read_expr()
                return None, None
            return None, self.read_port_value()
        if is_op(atom, "["):
            self.take()
            addresses = self.primary()
            if is_op(self.peek(), "]"):
                self.take()
        elif atom is not None and (atom.type in ("IPV4", "COLONADDR", "VAR", "GROUP") or atom.type == "WORD" and word != "redirect"):
            addresses = self.primary()
        elif atom is not None and atom.type == "NUM" and word in ("redirect", "masquerade"):
            return None, self.read_port_value()
        if addresses is not None:
            while is_op(self.peek(), "-", "/") and self.peek(1) is not None and self.peek(1).type in ("IPV4", "COLONADDR", "NUM", "VAR"):
                op = self.take().value
                right = self.primary()
                addresses = Val("range" if op == "-" else "prefix", addresses, right, first=addresses.first, last=right.last)
            if is_op(self.peek(), ":"):
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
