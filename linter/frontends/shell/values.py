"""What the shell evaluator computes with: fields of known text or Unknown values, control-flow signals, budgets and small string helpers (tests, globs, brace expansion, printf)."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from linter.frontends.shell.syntax_tree import Lit, Simple, Word
from linter.model import Family
from linter.numbers import bounded_int


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
PREFIXES = {
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
SUCCEEDS = {
    "echo", "printf", "true", ":", "modprobe", "insmod", "rmmod", "sysctl", "logger", "mkdir", "touch", "chmod",
    "chown", "cd", "set", "trap", "umask", "ulimit", "shopt", "alias", "hash", "wait", "sleep", "ip", "tc",
    "ipset", "iptables-save", "ip6tables-save", "iptables-legacy-save", "iptables-nft-save", "ip6tables-legacy-save",
    "ip6tables-nft-save", "export", "readonly", "local", "declare", "typeset", "unset", "shift", "source", ".",
    "cat", "rm", "cp", "mv", "ln", "service", "systemctl", "nft", "brctl", "ifconfig", "route", "ebtables",
    "arptables", "clear", "tput", "stty",
}
ASSIGNING = {"export", "readonly", "local", "declare", "typeset"}
QUERY = re.compile(r"^\s*(?:which|command\s+-[vV]|type\s+-[pP]|whereis\s+-b)\s+([\w./-]+)")
IPT_VARIABLE = re.compile(r"IP6?T|IPTABLES", re.I)
NEW_CHAIN_WORDS = re.compile(r"(?:^|\s)(?:-N|--new-chain|--new)\s+[\"']?([^\s\"';|&)]+)")
HEREDOC_MARK = re.compile("\u27e6(\\d+)\u27e7")

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


def short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# --- Control flow ------------------------------------------------------------------------


class Exit(Exception):
    pass


class Return(Exception):
    pass


class Break(Exception):
    def __init__(self, levels: int = 1, cont: bool = False) -> None:
        super().__init__()
        self.levels = levels
        self.cont = cont


class Budget(Exception):
    """The replay ran more than MAX_COMMANDS simple commands; ``node`` is the one past the budget."""

    def __init__(self, node: Simple):
        super().__init__()
        self.node = node


class ExpansionBudget(Exception):
    """The script's expansions produced more than MAX_SHELL_EXPANSION_CHARS characters in all."""

    def __init__(self, word: Word):
        super().__init__()
        self.word = word


@dataclass
class Frame:
    name: str
    positional: list
    call: Simple  # the call of the outermost function on the stack
    saved: dict = field(default_factory=dict)  # locals: name -> previous value (or UNSET)


UNSET = object()


@dataclass
class Stats:
    """What the front end made of the iptables commands (for the corpus script)."""

    commands: int = 0  # iptables / ip6tables / restore commands in the script (by position)
    understood: int = 0  # read with every value known and no error
    opaque: int = 0  # read with a value portlint could not know, or skipped for one
    errors: int = 0  # with a PL010/PL011/PL012 diagnostic
    expanded: int = 0  # characters produced by word expansions (the expansion budget's count)


# --- The interpreter ------------------------------------------------------------------------


BINARY = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "=~", "<", ">"}


def binary(op: str, left: str | None, right: str | None, double: bool) -> bool | None:
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


def looks_like_option(fld: Field) -> bool:
    return fld.known and fld.text.startswith("-") and len(fld.text) > 1


def has_glob(fld: Field) -> bool:
    if not fld.known:
        return False
    unquoted = "".join(p.text for p in fld.word.parts if type(p) is Lit and not p.quoted)
    return any(c in unquoted for c in "*?[") and any(c in fld.text for c in "*?[")


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def trim(value: str, pattern: str, op: str) -> str:
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


def brace_variants(parts: list) -> list[list]:
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
                    rest = brace_variants([after] + list(parts[index + 1:]))
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


def c_escapes(text: str) -> str:
    """echo -e / printf backslash escapes (\\n, \\t, \\\\ and \\")."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "\\": "\\", '"': '"'}.get(m.group(1),
                                                                                    "\\" + m.group(1)), text)


def printf(fmt: str, values: list[str]) -> str:
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
        out.append(c_escapes(re.sub(r"%[-0-9.]*([sdb%])", conversion, fmt)))
        if not values or not used:
            break
    return "".join(out)


def display(text: str) -> str:
    """A value as iptables-save prints it: quoted when it holds white space or quotes."""
    if text and not any(c in text for c in ' \t"\'\\') :
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
