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
* The meaning of the option list is not context-free: which module an option belongs
  to and how many arguments it takes depend on the ``-m``/``-p``/``-j`` seen earlier
  in the rule (``--set`` takes no argument after ``-m recent`` and two after
  ``-m set``). That is read by ``RuleReader`` from the tables in
  ``linter/frontends/iptables_options.py``, the way iptables' own getopt loop does:
  the most recently loaded module first, then the protocol's module (``-p tcp
  --dport 22`` loads ``tcp`` implicitly), then unambiguous abbreviations
  (``--dpo``), then "Unknown option" (PL012).
* The tables being built live in a ``TableStore`` (chains, rules in order, ``-I n``,
  ``-D``, ``-R``, flushes). The iptables-script front end replays a shell script's
  commands onto one, reads their options with ``RuleReader``, and feeds here-documents
  to ``_FileReader`` (at the script's line numbers, replacing each table it names as
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

import dataclasses
import functools
import ipaddress
import re
from socket import inet_aton

from linter import collector, netdb
from linter.addresses import AddressError, parse_address_range
from linter.diagnostics import Diagnostic, caret_excerpt
from linter.frontends import ParseResult
from linter.frontends import iptables_options as opt
from linter.model import (
    IPV4_MAX,
    MarkMatch,
    MAX_PORT,
    AddressMatch,
    AddressSet,
    AddrTypeMatch,
    Chain,
    CtStatusMatch,
    Direction,
    Family,
    FragmentMatch,
    InterfaceMatch,
    LimitMatch,
    NatStateMatch,
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
    Table,
    TcpFlagsMatch,
    Verdict,
    VerdictKind,
    normalize_ranges,
)
from linter.numbers import bounded_int, shown
from linter.source import SourceFile

FORMAT = "iptables-save"
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
# by this front end's tokenizers, only by iptables_script. Its value is the text as written.
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
        self.head = re.compile(
            rf"[ \t]*(?:({pattern['COUNTERS']})[ \t]+)?(-A|-I)[ \t]+({pattern['CHAIN']})(?=[ \t]|\Z)"
        )
        self.table = re.compile(rf"\*({pattern['NAME']})[ \t]*\Z")
        self.chain = re.compile(
            rf":({pattern['CHAIN']})[ \t]+({pattern['POLICY']})(?:[ \t]+({pattern['COUNTERS']}))?[ \t]*\Z"
        )
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


def _describe_error(exc, line: str) -> tuple[str, int]:
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


# --- Values -------------------------------------------------------------------------


class BadValue(ValueError):
    """A value that cannot be read; ``offset`` is where in the token the problem starts."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.offset = offset


class Unmodelled(BadValue):
    """A value iptables accepts but portlint does not model (PL013; the match becomes may-match)."""


class HostName(Unmodelled):
    """A host name where an address is expected: iptables resolves it when loading, portlint does not."""


_HOST_NAME = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*"
                        r"[A-Za-z0-9])?)*\.?(?:/[0-9.]+)?\Z")


def _number(text: str) -> int:
    """A C-style unsigned number: decimal, 0x hex or leading-zero octal (as inet_aton)."""
    if text[:2] in ("0x", "0X"):
        return bounded_int(text[2:], 16)
    if len(text) > 1 and text[0] == "0":
        return bounded_int(text[1:], 8)
    if not text.isdigit():
        raise ValueError(text)
    return bounded_int(text)


_HOST_BITS = [(1 << (32 - bits)) - 1 for bits in range(33)]


@functools.lru_cache(maxsize=65536)
def _ipv4_range(text: str) -> tuple[int, int]:
    """``a.b.c.d[/len|/mask]`` as iptables reads it (missing octets are 0, ``010`` is octal)."""
    addr, _, bits = text.partition("/")
    if addr.count(".") == 3 and addr.replace(".", "").isalnum() and (not bits or (bits.isdigit() and len(bits) <= 2)):
        # Four parts: iptables reads them as inet_aton does (decimal, 0x hex, 0 octal).
        try:
            value = int.from_bytes(inet_aton(addr), "big")
        except OSError:
            return _ipv4_slow(text)
        if not bits:
            return value, value
        if int(bits) <= 32:
            host = _HOST_BITS[int(bits)]
            lo = value & ~host & IPV4_MAX
            return lo, lo | host
    return _ipv4_slow(text)


def _ipv4_slow(text: str) -> tuple[int, int]:
    addr, slash, mask = text.partition("/")
    parts = addr.split(".")
    if not 1 <= len(parts) <= 4 or not addr:
        if _HOST_NAME.match(text):
            raise HostName(f"Host name {text!r}")
        raise BadValue(f"Not an IPv4 address: {text!r}")
    value = 0
    try:
        for i in range(4):
            part = _number(parts[i]) if i < len(parts) else 0
            if part > 255:
                raise ValueError(part)
            value = value << 8 | part
    except ValueError:
        if _HOST_NAME.match(text):
            raise HostName(f"Host name {text!r}") from None
        raise BadValue(f"Not an IPv4 address: {text!r}") from None
    if not slash:
        return value, value
    if mask.isdigit():
        bits = bounded_int(mask)
        if bits > 32:
            raise BadValue(f"Invalid prefix length /{mask}", len(addr) + 1)
    else:
        try:
            netmask = int(ipaddress.IPv4Address(mask))
        except ValueError:
            raise BadValue(f"Invalid netmask {mask!r}", len(addr) + 1) from None
        inverted = ~netmask & IPV4_MAX
        if inverted & (inverted + 1):
            raise Unmodelled(f"Non-contiguous netmask {mask}", len(addr) + 1)
        bits = 32 - inverted.bit_length()
    host = (1 << (32 - bits)) - 1
    lo = value & ~host & IPV4_MAX
    return lo, lo | host


def _ipv6_range(text: str) -> tuple[int, int]:
    try:
        _, lo, hi = parse_address_range(text, Family.IPV6)
    except AddressError:
        if ":" not in text and _HOST_NAME.match(text) and not text.replace(".", "").replace("/", "").isdigit():
            raise HostName(f"Host name {text!r}") from None
        if "." in text and ":" not in text:
            raise BadValue(f"IPv4 address in an IPv6 ruleset: {text!r}") from None
        raise BadValue(f"Not an IPv6 address: {text!r}") from None
    return lo, hi


def address_range(text: str, family: Family) -> tuple[int, int]:
    """One address or prefix (no ranges) in ``family`` as integers."""
    if family is Family.IPV6:
        return _ipv6_range(text)
    if ":" in text and not text.startswith(":") and text.count(":") >= 2 or text.startswith("::"):
        raise BadValue(f"IPv6 address in an IPv4 ruleset: {text!r}")
    return _ipv4_range(text)


def address_list(text: str, family: Family, allow_ranges: bool = False) -> list[tuple[int, int]]:
    """A comma list of addresses/prefixes (and ``a-b`` ranges when allowed)."""
    out = []
    offset = 0
    for item in text.split(","):
        try:
            if not item:
                raise BadValue("Empty address in the list")
            if "-" in item:
                if not allow_ranges:
                    raise BadValue(f"Address ranges need -m iprange: {item!r}")
                first, _, last = item.partition("-")
                lo = address_range(first, family)[0]
                hi = address_range(last, family)[1]
                if lo > hi:
                    raise BadValue(f"Address range {item!r} starts above its end")
                out.append((lo, hi))
            else:
                out.append(address_range(item, family))
        except BadValue as exc:
            exc.offset += offset
            raise
        offset += len(item) + 1
    return out


def _port(text: str, proto: str, offset: int = 0) -> int:
    if text.isdigit() and text.isascii():
        value = bounded_int(text)
        if value > MAX_PORT:
            raise BadValue(f"Port {shown(text)} is above {MAX_PORT}", offset)
        return value
    value = netdb.service_port(text, proto) if text else None
    if value is None:
        raise BadValue(f"Unknown port or service name {text!r} for {proto}", offset)
    return value


def port_range(text: str, proto: str, sep: str = ":", offset: int = 0) -> tuple[int, int]:
    """``p``, ``a:b``, ``:b`` (0:b) or ``a:`` (a:65535)."""
    if sep in text:
        first, _, last = text.partition(sep)
        lo = _port(first, proto, offset) if first else 0
        hi = _port(last, proto, offset + len(first) + 1) if last else MAX_PORT
        if lo > hi:
            raise BadValue(f"Port range {text} starts above its end", offset)
        return lo, hi
    value = _port(text, proto, offset)
    return value, value


def multiport_list(text: str, proto: str) -> tuple[tuple[int, int], ...]:
    ranges = []
    count = 0
    offset = 0
    for item in text.split(","):
        if not item:
            raise BadValue("Empty port in the list", offset)
        ranges.append(port_range(item, proto, ":", offset))
        count += 2 if ":" in item else 1
        offset += len(item) + 1
    if count > 15:
        raise BadValue("multiport takes at most 15 ports (a range counts as two)")
    return normalize_ranges(ranges)


def nat_to(text: str, family: Family, proto: str) -> tuple[AddressSet | None, PortSet | None]:
    """``[addr[-addr]][:port[-port[/base]]]``, IPv6 as ``[addr]:port``; either part may be absent."""
    addr, ports = text, ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise BadValue(f"Missing ']' in {text!r}")
        addr, rest = text[1:end], text[end + 1:]
        if rest and not rest.startswith(":"):
            raise BadValue(f"Expected ':port' after ']' in {text!r}", end + 1)
        ports = rest[1:]
        port_offset = end + 2
    elif family is Family.IPV6:
        port_offset = 0
    else:
        addr, _, ports = text.partition(":")
        port_offset = len(addr) + 1
    addresses = None
    if addr:
        first, _, last = addr.partition("-")
        lo = address_range(first, family)[0]
        hi = address_range(last or first, family)[1]
        if lo > hi:
            raise BadValue(f"Address range {addr!r} starts above its end")
        addresses = AddressSet(family, ((lo, hi),), addr)
    port_set = None
    if ports:
        ports = ports.split("/", 1)[0]
        port_set = PortSet((port_range(ports, proto, "-", port_offset),))
    if addresses is None and port_set is None:
        raise BadValue(f"Empty address and port: {text!r}")
    return addresses, port_set


# --- Reading one rule's options -----------------------------------------------------

_STANDARD_VERDICTS = {
    "ACCEPT": Verdict(VerdictKind.ACCEPT),
    "DROP": Verdict(VerdictKind.DROP),
    "RETURN": Verdict(VerdictKind.RETURN),
    "QUEUE": Verdict(VerdictKind.QUEUE),
}
_CONTINUE = Verdict(VerdictKind.CONTINUE)
_NAT_KINDS = {"DNAT": VerdictKind.DNAT, "SNAT": VerdictKind.SNAT, "MASQUERADE": VerdictKind.MASQUERADE,
              "REDIRECT": VerdictKind.REDIRECT, "REJECT": VerdictKind.REJECT}
_ADDRESS_OPTIONS = {"--to-destination", "--to-source", "--to", "--on-ip"}
_PORT_OPTIONS = {"--to-ports", "--on-port"}

_TOP = opt.TOP_LEVEL
# module -> {spelling: (canonical, nargs, handler)}; the handler names how a modelled option
# becomes a match (None: it joins the module's OpaqueMatch).
_MATCHES = {module: {spelling: (canonical, nargs, opt.MODELLED_OPTIONS.get((module, canonical)))
                     for spelling, (canonical, nargs) in options.items()}
            for module, options in opt.MATCH_OPTIONS.items()}
_TARGETS = {target: {spelling: (canonical, nargs, None) for spelling, (canonical, nargs) in options.items()}
            for target, options in opt.TARGET_OPTIONS.items()}


_AMBIGUOUS = object()


class _Module:
    """One loaded match module (or the target) of the rule being read."""

    __slots__ = ("name", "options", "slot", "parts", "count", "negated", "is_target", "read")

    def __init__(self, name: str, options: dict | None, is_target: bool = False) -> None:
        self.name = name
        self.options = options  # None for an unknown module or target
        self.slot = -1  # index of its OpaqueMatch in the rule's match list
        self.parts: list[str] = []
        self.count = 0  # options read into the OpaqueMatch
        self.negated = False
        self.is_target = is_target
        self.read: list[tuple[str, bool, str]] = []  # (canonical option, negated, value) kept opaque


class RuleReader:
    """Turns the option list of one rule into matches and a verdict (shared by iptables front ends).

    ``chain_names`` gives the chain names of the file, asked for only when a ``-j NAME``
    could be a chain or a target extension; ``diagnostics`` receives what is wrong.
    """

    def __init__(self, path: str, family: Family, chain_names, diagnostics: list[Diagnostic]) -> None:
        self.path = path
        self.family = family
        self._chain_names = chain_names
        self._chains: set[str] | None = None
        self.diagnostics = diagnostics
        self._memo: dict = {}
        self.unknowns = False  # set by front ends whose tokens may be UNKNOWN

    @property
    def chains(self) -> set[str]:
        if self._chains is None:
            self._chains = set(self._chain_names())
        return self._chains

    def add_chain(self, name: str) -> None:
        """A chain created after the reader was made (a script's ``-N``): ``-j name`` jumps to it."""
        if self._chains is not None:
            self._chains.add(name)

    # -- diagnostics
    def _at(self, tok) -> int:
        """The column of a token (computed now if the tokenizer left it for later)."""
        column = tok[3]
        if column > 0:
            return column
        if self._columns is None:
            self._columns = [t[3] for t in fast_path().scan(self.line, self._args_start)]
        return self._columns[-column - 1]

    def _report(self, code: str, message: str, where, width: int = 1, hint: str | None = None) -> None:
        """A diagnostic at ``where``: a column, or a token (whose column is looked up)."""
        column = where if isinstance(where, int) else self._at(where)
        end = column + max(width, 1) - 1
        self.diagnostics.append(
            Diagnostic(code, message, Span(self.path, self.lineno, column, self.lineno, end), hint=hint,
                       excerpt=caret_excerpt(self.line, column))
        )

    def _bad_value(self, exc: BadValue, tok) -> None:
        """PL011 at the offending part of a value token (``offset`` characters into it)."""
        offset = exc.offset if 0 <= exc.offset < len(tok[1]) else 0
        column = self._at(tok) + offset + (0 if tok[0] == WORD else 1)
        self._report(INVALID, str(exc), column, len(tok[2]) - offset)

    # -- the reader
    def read(self, tokens, line: str, lineno: int, chain: str = "", rule_column: int = 1, args_start: int = 0):
        """(matches, verdict, comment, ignore) for one rule's option tokens.

        ``chain`` is the built-in chain the rule is in ("" for user chains); ``ignore`` is
        set for a ``-6`` rule in an IPv4 file (or ``-4`` in IPv6), which iptables skips.
        """
        self.line = line
        self.lineno = lineno
        self._args_start = args_start
        self._columns = None
        memo = self._memo
        memo_get = memo.get
        top_get = _TOP.get
        matches: list = []
        loaded: list[_Module] = []
        verdict: Verdict | None = None
        target: _Module | None = None
        target_options: list[tuple[str, str]] = []
        nat_addresses: list[AddressSet] = []
        nat_ports: list[PortSet] = []
        comment = None
        proto_name = None  # "tcp"... for service names
        proto_module = None  # the module "-p" loads when an option is not otherwise known
        swallowing: _Module | None = None  # an unknown module or target taking its options
        ignore = False
        bad_target = False
        has_unknown = any(t[0] == UNKNOWN for t in tokens) if self.unknowns else False
        entry_matches: list[tuple[_Module, int]] = []  # conntrack matches that look at the entry
        with_state: set[int] = set()  # conntrack modules with a --ctstate
        i = 0
        n = len(tokens)
        while i < n:
            tok = tokens[i]
            if swallowing is not None:
                if not self._stops_swallow(tokens, i, loaded, proto_module):
                    swallowing.parts.append(tok[2])
                    swallowing.count += 1
                    i += 1
                    continue
                swallowing = None
            negated = False
            if tok[0] == BANG:
                negated = True
                i += 1
                if i == n:
                    self._report(SYNTAX, "'!' at the end of the rule negates nothing", tok)
                    break
                tok = tokens[i]
            text = tok[1]
            if tok[0] == UNKNOWN:
                # A word in place of an option that portlint cannot know ("$EXTRA_OPTS"): may-match.
                matches.append(OpaqueMatch("shell", tok[2], negated))
                i += 1
                continue
            if tok[0] != WORD or len(text) < 2 or text[0] != "-":
                self._report(SYNTAX, f"Unexpected argument {tok[2]!r}; an option was expected", tok, len(tok[2]))
                i += 1
                continue
            # Which option is it?
            inline = None
            name = text
            if "=" in text and text[1] == "-":
                name, _, inline = text.partition("=")
            top = top_get(name)
            if top is None:
                found = None
                if loaded:  # most often the option belongs to the module loaded last
                    last = loaded[-1]
                    if last.options is not None:
                        hit = last.options.get(name)
                        if hit is not None:
                            found = (last, hit)
                if found is None:
                    found = self._lookup(name, loaded, proto_module)
                if found is None:
                    found = self._abbreviation(name, loaded, proto_module, tok)
                    if found is None or found is _AMBIGUOUS:
                        if found is None:
                            self._report(UNKNOWN_OPTION, f"Unknown option {name}", tok, len(name))
                        # Its arguments (the words up to the next option) join it in a may-match.
                        parts = (["!"] if negated else []) + [tok[2]]
                        i += 1
                        while i < n and not _is_option(tokens[i]):
                            parts.append(tokens[i][2])
                            i += 1
                        matches.append(OpaqueMatch("unknown", " ".join(parts)))
                        continue
                    if found[0] == "top":
                        top = found[1]
            if top is not None:
                module = None
                canonical, nargs = top
            else:
                module, (canonical, nargs, handler) = found
            # Its arguments (one plain word, the common case, without a call)
            j = i + 1
            if nargs == 1 and inline is None and j < n and tokens[j][0] != BANG and tokens[j][1] not in _TOP:
                args = (tokens[j],)
                i = j + 1
                missing = False
            else:
                args, i, missing = self._take_args(tokens, i, nargs, inline)
            if not missing and nargs > 0 and args[0][0] == BANG:
                # The old "--option ! value" form.
                if negated:
                    self._report(SYNTAX, "Two '!' negate the same option", args[0])
                negated = True
                args, i, missing = self._take_args(tokens, i - len(args), nargs, None)
            if missing:
                noun = opt.TOP_LEVEL_NOUN.get(canonical, "value") if module is None else _noun(canonical)
                self._report(SYNTAX, f"Missing {noun} after {text}", tok, len(text))
                if module is not None:
                    self._opaque(module, matches, tok[2], negated, "?")
                elif canonical == "-j" or canonical == "-g":
                    bad_target = True
                continue
            if has_unknown and any(a[0] == UNKNOWN for a in args):
                # A value portlint cannot know (an unresolved shell variable): the option may match.
                written = " ".join([tok[2]] + [a[2] for a in args])
                if module is not None:
                    if module.is_target:
                        target_options.append((canonical, " ".join(a[2] for a in args)))
                    else:
                        self._opaque(module, matches, written, negated, "?")
                elif canonical == "-j" or canonical == "-g":
                    if verdict is not None or target is not None or bad_target:
                        self._report(SYNTAX, "More than one target (-j/-g) in the rule", tok, len(text))
                    else:
                        # Which target is unknown: a non-terminal OTHER, so the rule decides nothing.
                        verdict = Verdict(VerdictKind.OTHER, args[0][2])
                elif canonical == "-m":
                    module = _Module(args[0][2], None)
                    loaded.append(module)
                    module.slot = len(matches)
                    matches.append(None)
                    swallowing = module
                elif canonical in opt.TOP_LEVEL_MODULE:
                    matches.append(OpaqueMatch(opt.TOP_LEVEL_MODULE[canonical], written, negated))
                    if canonical == "-p":  # port options are still read, as tcp's
                        proto_name, proto_module = None, "tcp"
                continue
            if module is None:
                # --- top-level options
                if canonical == "-j" or canonical == "-g":
                    arg = args[0]
                    if negated:
                        self._report(SYNTAX, f"'!' cannot negate {text}", tok)
                    if verdict is not None or target is not None or bad_target:
                        self._report(SYNTAX, "More than one target (-j/-g) in the rule", tok, len(text))
                        continue
                    name = arg[1]
                    if canonical == "-g":
                        verdict = memo_get(("-g", name)) or memo.setdefault(("-g", name),
                                                                            Verdict(VerdictKind.GOTO, name))
                    elif name in _STANDARD_VERDICTS:
                        verdict = _STANDARD_VERDICTS[name]
                    elif (name not in _TARGETS and not self._unknown_option_follows(tokens, i, loaded, proto_module)
                          or name in self.chains):
                        # A jump; one to a chain the file never declares is the hygiene checks' business.
                        verdict = memo_get(("-j", name)) or memo.setdefault(("-j", name),
                                                                            Verdict(VerdictKind.JUMP, name))
                    else:
                        spec = _TARGETS.get(name)
                        target = _Module(name, spec, is_target=True)
                        loaded.append(target)
                        if spec is None:
                            self._report(INVALID, f"Unknown target {name!r}", arg, len(arg[2]))
                            swallowing = target
                elif canonical == "-m":
                    arg = args[0]
                    if negated:
                        self._report(SYNTAX, "'!' cannot negate -m", tok)
                    name = opt.MATCH_ALIASES.get(arg[1], arg[1])
                    spec = _MATCHES.get(name)
                    module = _Module(name, spec)
                    loaded.append(module)
                    if spec is None:
                        self._report(UNMODELLED, f"Match module {arg[1]!r} is not modelled; treated as may-match",
                                     arg, len(arg[2]))
                        swallowing = module
                    if name not in opt.MODELLED_MODULES:
                        module.slot = len(matches)
                        matches.append(None)
                elif canonical == "-p":
                    arg = args[0]
                    key = ("-p", arg[1], negated)
                    cached = memo_get(key)
                    if cached is None:
                        lower = arg[1].lower()
                        number = 0 if lower == "all" else netdb.protocol_number(lower)
                        if number is None:
                            self._report(INVALID, f"Unknown protocol {arg[1]!r}", arg, len(arg[2]))
                            matches.append(OpaqueMatch("protocol", f"{text} {arg[2]}", negated))
                            continue
                        if number == 0:  # "all": no ProtocolMatch (negated: matches nothing)
                            match = ProtocolMatch(frozenset(range(256)), True, arg[1]) if negated else None
                        else:
                            match = ProtocolMatch(frozenset({number}), negated, arg[1])
                        if number and not negated:
                            cached = (match, opt.PORT_PROTOCOLS.get(number), opt.PROTOCOL_MODULE.get(number))
                        else:
                            cached = (match, None, None)
                        memo[key] = cached
                    match, proto_name, proto_module = cached
                    if match is not None:
                        matches.append(match)
                        if negated and len(match.protocols) == 256:
                            # Not every protocol: no packet. iptables-restore refuses the rule.
                            self._report(INVALID, f"'! {text} {arg[2]}' never matches a packet (iptables refuses "
                                         "it: rule would never match protocol)", arg, len(arg[2]),
                                         hint="Delete the rule, or name the protocol it should leave out")
                elif canonical == "-s" or canonical == "-d":
                    arg = args[0]
                    key = (canonical, arg[1], negated)
                    match = memo_get(key)
                    if match is None:
                        try:
                            match = self._address_match(SOURCE if canonical == "-s" else DESTINATION, arg[1],
                                                        negated)
                        except BadValue as exc:
                            if isinstance(exc, Unmodelled):
                                self._report(UNMODELLED, f"{exc} is not modelled; treated as may-match",
                                             arg, len(arg[2]))
                            else:
                                self._bad_value(exc, arg)
                            matches.append(OpaqueMatch(opt.TOP_LEVEL_MODULE[canonical], f"{text} {arg[2]}",
                                                       negated))
                            continue
                        memo[key] = match
                    matches.append(match)
                elif canonical == "-i" or canonical == "-o":
                    arg = args[0]
                    key = (canonical, arg[1], negated)
                    match = memo_get(key)
                    if match is None:
                        match = memo[key] = InterfaceMatch("in" if canonical == "-i" else "out", (arg[1],),
                                                           negated)
                    if len(arg[1]) > 15:  # on every line that has it, not only the first (the match is shared)
                        self._report(INVALID, f"Interface name {arg[1]!r} is longer than 15 characters",
                                     arg, len(arg[2]))
                    if chain and chain in (opt.NO_IN_INTERFACE if canonical == "-i" else opt.NO_OUT_INTERFACE):
                        self._report(INVALID, f"Can't use {text} in {chain}: the packet has no "
                                     f"{'input' if canonical == '-i' else 'output'} interface there",
                                     tok, len(text))
                    matches.append(match)
                elif canonical == "-f":
                    matches.append(FragmentMatch(negated, "-f"))
                elif canonical == "-6" or canonical == "-4":
                    if (canonical == "-6") != (self.family is Family.IPV6):
                        ignore = True
                # -c PKTS BYTES: counters are not modelled
                continue
            # --- options of the target
            if module.is_target:
                value = " ".join(a[1] for a in args)
                target_options.append((canonical, value))
                if canonical in _ADDRESS_OPTIONS or canonical in _PORT_OPTIONS:
                    self._nat_option(module.name, canonical, args[0], proto_name, nat_addresses, nat_ports)
                continue
            # --- options of a match module
            if handler is None:
                self._opaque(module, matches, " ".join([tok[2]] + [a[2] for a in args]), negated, canonical,
                             " ".join(a[1] for a in args))
                continue
            if handler == "syn" or handler == "tcp-flags":
                written = " ".join([tok[2]] + [a[2] for a in args])
                try:
                    matches.append(_tcp_flags(handler, [a[1] for a in args], negated, written))
                except BadValue as exc:
                    self._bad_value(exc, args[getattr(exc, "index", 0)])
                    self._opaque(module, matches, written, negated, "?")
                continue
            arg = args[0]
            if handler == "comment":
                comment = arg[1] if comment is None else f"{comment}; {arg[1]}"
                continue
            key = (handler, arg[1], negated, proto_name)
            match = memo_get(key)
            if match is None:
                try:
                    match = self._modelled(handler, arg[1], negated, proto_name, module.name)
                except BadValue as exc:
                    self._bad_value(exc, arg)
                    self._opaque(module, matches, f"{tok[2]} {arg[2]}", negated, "?")
                    continue
                memo[key] = match
            if module.name == "conntrack":
                if handler in opt.CONNTRACK_ENTRY_HANDLERS:
                    entry_matches.append((module, len(matches)))
                elif handler == "state":
                    with_state.add(id(module))
            matches.append(match)
        # --- the verdict
        if target is not None:
            verdict = self._target_verdict(target.name, target_options, nat_addresses, nat_ports)
        elif verdict is None:
            verdict = _CONTINUE
            # `-m recent --set` (or --update/--remove) without a target records the source for a
            # later rule (ufw limit, port knocking): a side effect, not a rule that only counts.
            side_effect = any(m.name == "recent" and any(p in ("--set", "--update", "--remove") for p in m.parts)
                              for m in loaded)
            if not bad_target and not side_effect:
                hint = "add -j ACCEPT, -j DROP or another target if the rule should decide"
                if n and tokens[-1][0] == OPEN_STRING:
                    hint = (f"the quote at column {self._at(tokens[-1])} is never closed, so iptables reads the "
                            "rest of the line, target included, as one value")
                self._report(NO_TARGET, "Rule has no target; it only counts packets", rule_column, hint=hint)
        # --- the OpaqueMatches of the loaded modules, in their places
        for module in loaded:
            if module.slot >= 0:
                parts = module.parts
                negated = module.negated and module.count == 1
                if negated:
                    parts = parts[1:]
                matches[module.slot] = _limit_match(module, " ".join(parts), negated) or OpaqueMatch(
                    module.name, " ".join(parts), negated)
        # iptables' conntrack match passes a packet without a conntrack entry once its --ctstate
        # did: the module's other options then do not look at it.
        for module, index in entry_matches:
            if id(module) in with_state:
                matches[index] = dataclasses.replace(matches[index], without_entry=True)
        if None in matches:
            matches = [m for m in matches if m is not None]
        return tuple(matches), verdict, comment, ignore

    def _nat_option(self, target, option, arg, proto_name, addresses, ports) -> None:
        """The rewrite of a NAT-like target option (--to-destination, --to-ports...)."""
        value = arg[1]
        try:
            if option in _PORT_OPTIONS:
                sep = ":" if ":" in value and "-" not in value else "-"
                ports.append(PortSet((port_range(value, proto_name or "tcp", sep),)))
            elif target == "NETMAP" or option == "--on-ip":
                addresses.append(AddressSet(self.family, normalize_ranges(address_list(value, self.family)), value))
            else:
                to_addresses, to_ports = nat_to(value, self.family, proto_name or "tcp")
                if to_addresses is not None:
                    addresses.append(to_addresses)
                if to_ports is not None:
                    ports.append(to_ports)
        except BadValue as exc:
            self._bad_value(exc, arg)

    def _unknown_option_follows(self, tokens, i, loaded, proto_module) -> bool:
        """Whether tokens[i] is a long option nothing loaded knows (so the -j name before it is a target)."""
        if i >= len(tokens):
            return False
        tok = tokens[i]
        if tok[0] == BANG and i + 1 < len(tokens):
            tok = tokens[i + 1]
        text = tok[1]
        if tok[0] != WORD or not text.startswith("--"):
            return False
        name = text.split("=", 1)[0]
        if name in _TOP:
            return False
        for module in loaded:
            if module.options is not None and name in module.options:
                return False
        return not (proto_module is not None and name in (_MATCHES.get(proto_module) or {}))

    # -- helpers of read()
    def _take_args(self, tokens, i, nargs, inline):
        """(args, next index, missing) for an option at tokens[i] taking ``nargs`` arguments."""
        i += 1
        if inline is not None:
            option = tokens[i - 1]
            return [(WORD, inline, inline, self._at(option) + len(option[1]) - len(inline))], i, False
        if nargs == 0:
            return [], i, False
        if nargs == -1:
            if i < len(tokens) and not (tokens[i][0] == WORD and tokens[i][1].startswith("-")) and tokens[i][0] != BANG:
                return [tokens[i]], i + 1, False
            return [], i, False
        end = i + nargs
        if end > len(tokens):
            return [], len(tokens), True
        args = tokens[i:end]
        for a in args:
            if a[0] == WORD and a[1] in _TOP:
                return [], i, True
        return args, end, False

    def _lookup(self, name, loaded, proto_module):
        """(module, canonical, nargs) for an option of a loaded or implicit module, or None."""
        for module in reversed(loaded):
            options = module.options
            if options is not None:
                hit = options.get(name)
                if hit is not None:
                    return module, hit
        if proto_module is not None:
            options = _MATCHES.get(proto_module)
            hit = options.get(name) if options else None
            if hit is not None:
                for module in loaded:
                    if module.name == proto_module and not module.is_target:
                        break
                else:
                    module = _Module(proto_module, options)
                    if proto_module not in opt.MODELLED_MODULES:
                        module.slot = -2  # given a slot when its first option is read
                    loaded.append(module)
                return module, hit
        return None

    def _abbreviation(self, name, loaded, proto_module, tok):
        """getopt's unambiguous prefixes: ``--dpo`` for ``--dport``; None, a hit or _AMBIGUOUS."""
        if not name.startswith("--") or len(name) < 3:
            return None
        candidates: dict[str, tuple] = {}  # canonical name -> (where, hit, spelling shown)
        for spelling, hit in _TOP.items():
            if spelling.startswith(name) and spelling.startswith("--"):
                candidates.setdefault(hit[0], ("top", hit, spelling))
        for module in reversed(loaded):
            if module.options is not None:
                for spelling, hit in module.options.items():
                    if spelling.startswith(name):
                        candidates.setdefault(hit[0], (module, hit, spelling))
        if not candidates and proto_module is not None:
            for spelling, hit in (_MATCHES.get(proto_module) or {}).items():
                if spelling.startswith(name):
                    candidates.setdefault(hit[0], ("implicit", hit, spelling))
        if not candidates:
            return None
        if len(candidates) > 1:
            names = ", ".join(sorted(c[2] for c in candidates.values()))
            self._report(UNKNOWN_OPTION, f"Ambiguous option {name} (could be {names})", tok, len(name))
            return _AMBIGUOUS
        where, hit, _ = next(iter(candidates.values()))
        if where == "top":
            return ("top", hit)
        if where == "implicit":
            return self._lookup(hit[0], loaded, proto_module)
        return where, hit

    def _stops_swallow(self, tokens, i, loaded, proto_module) -> bool:
        """Whether tokens[i] ends the options of an unknown module or target."""
        tok = tokens[i]
        if tok[0] == BANG:
            if i + 1 < len(tokens):
                tok = tokens[i + 1]
            else:
                return False
        if tok[0] != WORD:
            return False
        text = tok[1]
        if text in _TOP:
            return True
        if text.startswith("--"):
            for module in loaded:
                if module.options is not None and text in module.options:
                    return True
            if proto_module is not None and text in (_MATCHES.get(proto_module) or {}):
                return True
        return False

    def _opaque(self, module: _Module, matches: list, text: str, negated: bool, canonical: str = "?",
                value: str = "") -> None:
        """Add an option to its module's OpaqueMatch (``canonical`` "?" for one that must stay opaque)."""
        if module.slot == -2 or module.slot == -1:
            module.slot = len(matches)
            matches.append(None)
        module.read.append((canonical, negated, value))
        if negated:
            module.parts.append("!")
            module.negated = True
        module.parts.append(text)
        module.count += 1

    def _address_match(self, direction, text, negated) -> AddressMatch:
        if "," not in text and "-" not in text:
            return AddressMatch(direction, AddressSet(self.family, (address_range(text, self.family),), text), negated)
        ranges = address_list(text, self.family)
        if negated and len(ranges) > 1:
            # iptables makes one rule per address: "! -s a,b" matches what is not in all of them.
            inter = [ranges[0]]
            for lo, hi in ranges[1:]:
                inter = [(max(a, lo), min(b, hi)) for a, b in inter if max(a, lo) <= min(b, hi)]
            return AddressMatch(direction, AddressSet(self.family, normalize_ranges(inter), text), True)
        return AddressMatch(direction, AddressSet(self.family, normalize_ranges(ranges), text), negated)

    def _modelled(self, handler: str, value: str, negated: bool, proto_name: str | None, module: str):
        proto = proto_name or "tcp"
        if handler == "port-destination" or handler == "port-source":
            direction = DESTINATION if handler == "port-destination" else SOURCE
            return PortMatch(direction, PortSet((port_range(value, proto_name or module),)), negated)
        if handler == "multiport-destination" or handler == "multiport-source":
            direction = DESTINATION if handler == "multiport-destination" else SOURCE
            return PortMatch(direction, PortSet(multiport_list(value, proto)), negated)
        if handler == "state":
            allowed = opt.CT_STATES if module == "conntrack" else opt.STATES
            states = value.upper().split(",")
            for state in states:
                if state not in allowed:
                    raise BadValue(f"Unknown conntrack state {state!r}", value.upper().find(state) if state else 0)
            nat = frozenset(s.lower() for s in states if s in ("SNAT", "DNAT"))
            if nat:
                # The virtual states: the connection's NAT status bits, not a state.
                plain = frozenset(s.lower() for s in states if s not in ("SNAT", "DNAT"))
                return NatStateMatch(plain, nat, negated, f"--ctstate {value}")
            return StateMatch(frozenset(s.lower() for s in states), negated)
        if handler == "mark" or handler == "connmark":
            value_text, _, mask_text = value.partition("/")
            try:
                mark, mask = int(value_text, 0), int(mask_text, 0) if mask_text else 0xFFFFFFFF
            except ValueError:
                raise BadValue(f"Bad mark {value!r}", 0) from None
            if not (0 <= mark <= 0xFFFFFFFF and 0 <= mask <= 0xFFFFFFFF) or len(value) > 23:
                raise BadValue(f"Mark {value[:23]!r} is out of range (32 bits)", 0)
            return MarkMatch(mark & mask, mask, negated, conn=handler == "connmark", text=f"--mark {value}")
        if handler == "ctstatus":
            statuses = set()
            for name in value.upper().split(","):
                if name not in opt.CT_STATUSES:
                    raise BadValue(f"Bad ctstatus {name!r}", value.upper().find(name) if name else 0)
                if opt.CT_STATUSES[name] is not None:
                    statuses.add(opt.CT_STATUSES[name])
            return CtStatusMatch(frozenset(statuses), negated=negated, text=f"--ctstatus {value}")
        if handler == "ctorig-source" or handler == "ctorig-destination":
            direction = SOURCE if handler == "ctorig-source" else DESTINATION
            addresses = AddressSet(self.family, (address_range(value, self.family),), value)
            option = "--ctorigsrc" if direction is SOURCE else "--ctorigdst"
            return OriginalAddressMatch(direction, addresses, negated, text=f"{option} {value}")
        if handler == "ctorigport-source" or handler == "ctorigport-destination":
            direction = SOURCE if handler == "ctorigport-source" else DESTINATION
            option = "--ctorigsrcport" if direction is SOURCE else "--ctorigdstport"
            return OriginalPortMatch(direction, PortSet((port_range(value, proto),)), negated,
                                     text=f"{option} {value}")
        if handler == "addrtype-source" or handler == "addrtype-destination":
            direction = SOURCE if handler == "addrtype-source" else DESTINATION
            types = value.upper().split(",")
            for kind in types:
                if kind not in opt.ADDRESS_TYPES:
                    raise BadValue(f"Unknown address type {kind!r}", value.upper().find(kind) if kind else 0)
            return AddrTypeMatch(direction, frozenset(types), negated)
        if handler == "range-source" or handler == "range-destination":
            direction = SOURCE if handler == "range-source" else DESTINATION
            if "," in value:
                raise BadValue("iprange takes one range, not a list")
            ranges = address_list(value, self.family, allow_ranges=True)
            return AddressMatch(direction, AddressSet(self.family, tuple(ranges), value), negated)
        if handler == "comment":
            return value
        raise AssertionError(handler)

    def _target_verdict(self, name, options, addresses, ports) -> Verdict:
        to_addresses = None
        if addresses:
            if len(addresses) == 1:
                to_addresses = addresses[0]
            else:
                to_addresses = AddressSet(self.family, normalize_ranges(r for a in addresses for r in a.ranges),
                                          ",".join(a.text for a in addresses))
        to_ports = None
        if ports:
            to_ports = ports[0] if len(ports) == 1 else PortSet(normalize_ranges(r for p in ports for r in p.ranges))
        kind = _NAT_KINDS.get(name)
        if kind is None:
            kind = VerdictKind.LOG if name in opt.LOG_TARGETS else VerdictKind.OTHER
        terminal = name in opt.TERMINAL_TARGETS
        return Verdict(kind, name if kind is VerdictKind.OTHER or kind is VerdictKind.LOG else None,
                       to_addresses, to_ports, tuple(options), terminal)


_SYN_MASK = opt.TCP_FLAGS["FIN"] | opt.TCP_FLAGS["SYN"] | opt.TCP_FLAGS["RST"] | opt.TCP_FLAGS["ACK"]


def _tcp_flags(handler: str, values: list[str], negated: bool, text: str) -> TcpFlagsMatch:
    """``--syn`` or ``--tcp-flags MASK COMP`` (comma lists of flag names, ALL and NONE)."""
    if handler == "syn":
        return TcpFlagsMatch(_SYN_MASK, opt.TCP_FLAGS["SYN"], negated=negated, text=text)
    bits = []
    for index, value in enumerate(values):
        total = 0
        for name in value.split(","):
            bit = opt.TCP_FLAGS.get(name.upper())
            if bit is None:
                exc = BadValue(f"Unknown TCP flag {name!r}", value.find(name) if name else 0)
                exc.index = index  # which of the two values
                raise exc
            total |= bit
        bits.append(total)
    return TcpFlagsMatch(bits[0], bits[1], negated=negated, text=text)


def _limit_match(module: _Module, text: str, negated: bool) -> LimitMatch | None:
    """The LimitMatch a limit, hashlimit, connlimit or ``recent --set`` module stands for, or None."""
    spec = opt.LIMIT_OPTIONS.get(module.name)
    if spec is None:
        return None
    under, above = spec
    plain = opt.LIMIT_PLAIN_OPTIONS[module.name]
    over = None
    for canonical, option_negated, value in module.read:
        if canonical in plain:
            continue
        if canonical not in under and canonical not in above:
            return None
        if option_negated and module.count > 1:
            return None  # the "!" of one option among several: kept in the text, not modelled
        limited = canonical in above
        if module.name == "connlimit":
            # Counted with the new connection itself: the first one makes 1.
            if not value.isdigit():
                return None
            limited = bounded_int(value) >= 1 if limited else bounded_int(value) == 0
        if over is not None:
            return None
        over = limited
    if over is None:
        if module.name != "limit":
            return None
        over = False  # -m limit alone: 3/hour, a burst of 5
    return LimitMatch(module.name, over, negated, text)


def _is_option(tok) -> bool:
    """Whether a token is an option ("-p", "--dport") or the "!" before one."""
    return tok[0] == BANG or (tok[0] == WORD and len(tok[1]) > 1 and tok[1][0] == "-")


def _noun(option: str) -> str:
    if option in ("--sport", "--dport", "--to-ports", "--on-port"):
        return "port"
    if option in ("--sports", "--dports", "--ports"):
        return "port list"
    if option in ("--state", "--ctstate"):
        return "state list"
    if option in ("--src-range", "--dst-range"):
        return "address range"
    if option in ("--to-destination", "--to-source", "--to"):
        return "address"
    if option == "--comment":
        return "comment"
    if option in ("--src-type", "--dst-type"):
        return "address type"
    return "value"


# --- Family -------------------------------------------------------------------------

_IPV6_ADDRESS = re.compile(r"(?:-s|-d|--source|--destination|--src|--dst|--src-range|--dst-range|--to-destination"
                           r"|--to-source)[ \t]+(?:![ \t]+)?\[?[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:")
_IPV4_ADDRESS = re.compile(r"(?:-s|-d|--source|--destination|--src|--dst|--src-range|--dst-range)[ \t]+(?:![ \t]+)?"
                           r"[0-9]{1,3}\.[0-9]{1,3}\.")
_IPV6_MODULES = re.compile(r"(?:-m|--match)[ \t]+(?:icmp6|icmpv6|hl|rt|frag|ipv6header|mh|hbh|dst|eui64|srh)"
                           r"(?![^ \t\r\n])"
                           r"|(?:-j|--jump)[ \t]+(?:HL|DNPT|SNPT)(?![^ \t\r\n])")


def _ipv6_header(text: str) -> bool:
    """Whether a "# Generated by ip6tables-save" comment heads the file (or one of its tables)."""
    at = text.find("ip6tables")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        line = text[start:end if end >= 0 else len(text)]
        if line.startswith("#") and re.search(r"\bip6tables(?:-legacy|-nft)?-save\b", line):
            return True
        at = text.find("ip6tables", at + 9)
    return False


def detect_family(text: str) -> Family:
    """IPV6 for ip6tables-save output, else IPV4.

    IPv6 when the header says ip6tables-save, when the rules use IPv6 addresses, or when
    they use ICMPv6 or ip6tables-only modules and no IPv4 address (the weakest evidence
    gives way to addresses in a file that mixes them).
    """
    if _ipv6_header(text) or _IPV6_ADDRESS.search(text):
        return Family.IPV6
    if _IPV4_ADDRESS.search(text):  # addresses outweigh hints; usually found in the first lines
        return Family.IPV4
    hints = "icmpv6" in text or "ipv6-icmp" in text or "icmp6" in text or _IPV6_MODULES.search(text)
    return Family.IPV6 if hints else Family.IPV4


_CHAIN_NAMES = re.compile(
    r"^[ \t]*(?:\[\d+:\d+\][ \t]*)?(?::|(?:-N|--new-chain|--new|-A|--append|-I|--insert)[ \t]+)([^\s\"!#][^\s\"]*)",
    re.M,
)


# --- The file ---------------------------------------------------------------------


class _ChainState:
    __slots__ = ("name", "span", "policy", "rules", "front", "declared")

    def __init__(self, name: str, span: Span, policy: Policy | None, declared: bool) -> None:
        self.name = name
        self.span = span
        self.policy = policy
        self.rules: list[Rule] = []
        self.front: list[Rule] = []  # rules inserted at position 1, latest last
        self.declared = declared

    def merged(self) -> list[Rule]:
        """The rules in order (``front`` folded in)."""
        if self.front:
            self.front.reverse()
            self.rules[:0] = self.front
            self.front = []
        return self.rules

    def insert(self, number: int, rule: Rule) -> bool:
        """Insert at rule ``number`` (1-based); False when the chain is too short (nothing inserted)."""
        if number == 1:
            self.front.append(rule)
            return True
        rules = self.merged()
        if not 1 <= number <= len(rules) + 1:
            return False
        rules.insert(number - 1, rule)
        return True

    def delete_at(self, number: int) -> Rule | None:
        """Delete rule ``number`` (1-based); the rule, or None when there is no such rule."""
        rules = self.merged()
        if not 1 <= number <= len(rules):
            return None
        return rules.pop(number - 1)

    def delete_like(self, rule: Rule) -> Rule | None:
        """Delete the first rule with the same matches, verdict and comment (``-D CHAIN spec``)."""
        rules = self.merged()
        for index, old in enumerate(rules):
            if same_rule(old, rule):
                return rules.pop(index)
        return None

    def replace_at(self, number: int, rule: Rule) -> bool:
        rules = self.merged()
        if not 1 <= number <= len(rules):
            return False
        rules[number - 1] = rule
        return True


def same_rule(a: Rule, b: Rule) -> bool:
    """Whether two rules are the same rule to iptables (``-D``/``-C`` by specification)."""
    return a.matches == b.matches and a.verdict == b.verdict and a.comment == b.comment


class _TableState:
    def __init__(self, name: str, span: Span) -> None:
        self.name = name
        self.span = span
        self.chains: dict[str, _ChainState] = {}
        self.builtin = opt.BUILTIN_CHAINS.get(name, {})
        self.open = True
        self.last_line = span.line

    def flush(self, name: str | None = None) -> None:
        """Delete the rules of chain ``name``, or of every chain."""
        for chain in self.chains.values():
            if name is None or chain.name == name:
                chain.rules.clear()
                chain.front.clear()

    def delete_chains(self, name: str | None = None) -> None:
        """Delete user chain ``name``, or every user chain (built-in chains stay)."""
        for chain_name in list(self.chains):
            if (name is None or chain_name == name) and chain_name not in self.builtin:
                del self.chains[chain_name]

    def reset(self) -> None:
        """What iptables-restore does to a table it reads (without --noflush): rules and user chains go."""
        self.flush()
        self.delete_chains()


class TableStore:
    """The tables of one address family as rules are added, inserted, deleted and flushed.

    Shared by the iptables-save reader and the shell-script front end
    (linter/frontends/iptables_script.py), which replays a script's commands on it.
    """

    def __init__(self, path: str, family: Family, format: str = FORMAT) -> None:
        self.path = path
        self.family = family
        self.format = format
        self.tables: dict[str, _TableState] = {}

    def table(self, name: str, span: Span) -> _TableState:
        """The table ``name``, created (with ``span``) when it is new."""
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = _TableState(name, span)
        return table

    def build_tables(self) -> list[Table]:
        tables = []
        for table in self.tables.values():
            for name in table.builtin:
                if name not in table.chains:
                    table.chains[name] = _ChainState(name, table.span, Policy.ACCEPT, False)
            chains = []
            for chain in table.chains.values():
                base = table.builtin.get(chain.name)
                if base is not None:
                    hook, kind, priority = base
                    chains.append(Chain(chain.name, tuple(chain.merged()), chain.span, hook, kind, priority,
                                        chain.policy or Policy.ACCEPT))
                else:
                    chains.append(Chain(chain.name, tuple(chain.merged()), chain.span))
            tables.append(Table(table.name, self.family, tuple(chains), table.span))
        return tables

    def build(self) -> Ruleset:
        return Ruleset(self.path, self.format, self.family, tuple(self.build_tables()))


class _FileReader:
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
        self.table: _TableState | None = None
        self.family = store.family
        if rules is None:
            rules = RuleReader(self.path, self.family, lambda: _CHAIN_NAMES.findall(text), self.diagnostics)
        else:
            self.diagnostics = rules.diagnostics
        self.rules = rules
        self.fast = fast_path()
        self._lines: list[str] | None = None
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
        chain_line = self.fast.chain.match
        table_line = self.fast.table.match
        crlf_reported = False
        lines = self.source.text.split("\n")
        numbered = zip(self.line_numbers, lines) if self.line_numbers else enumerate(lines, 1 + self.offset)
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
                fast = read_rule(line)
                if fast is not None:
                    self._rule(*fast, line, lineno)
                    continue
            elif first == "#" or not line:
                continue
            elif first == ":":
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
        return Span(self.path, lineno, column + shift, lineno, end + shift)

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
            message, column = _describe_error(exc, line)
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

    def _need_table(self, what: str, line: str, lineno: int, column: int) -> _TableState | None:
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

    def _missing_commit(self, table: _TableState) -> None:
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
        policy = self._policy(table, name, policy, policy_column, line, lineno)
        chain = table.chains.get(name)
        if chain is None:
            table.chains[name] = _ChainState(name, span, policy, True)
        else:
            chain.policy = policy if policy is not None else chain.policy
            if not chain.declared:
                chain.declared = True
                chain.span = span

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
            table.chains[name] = _ChainState(name, span, None, True)
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

    def _chain(self, table, name, lineno, line, column, declare=False) -> _ChainState:
        chain = table.chains.get(name)
        if chain is None:
            span = self._span(lineno, column, column + len(name) - 1)
            builtin = name in table.builtin
            if not builtin and not declare:
                self._report(INVALID, f"Chain {name!r} is not declared", lineno, line, column, len(name),
                             hint=f"declare it with :{name} - [0:0] before its rules")
            chain = table.chains[name] = _ChainState(name, span, Policy.ACCEPT if builtin else None, declare)
        return chain

    def _rule(self, command, chain_name, chain_column, position, tokens, column, args_start, line, lineno):
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
        matches, verdict, comment, ignore = self.rules.read(
            tokens, line, lineno, chain_name if chain_name in table.builtin else "", column, args_start)
        if ignore:
            return
        end = len(line) - 1
        while line[end] in " \t":
            end -= 1
        end += 1
        span = Span(self.path, lineno, column, lineno, end) if not self.shifts else self._span(lineno, column, end)
        rule = Rule(matches, verdict, span, comment, (), line[column - 1:end])
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
        return _FileReader(source, implicit_table=rules_listing_table(source.text)).read()


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
