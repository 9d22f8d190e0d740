"""Which options each match module and target takes, and small readers RuleReader shares (tcp flags, limits)."""

from __future__ import annotations

from linter.frontends.iptables import options as opt
from linter.frontends.iptables.tokens import BANG, WORD
from linter.frontends.iptables.values import BadValue
from linter.model import LimitMatch, Statement, TcpFlagsMatch, Verdict, VerdictKind
from linter.numbers import bounded_int


# --- Reading one rule's options -----------------------------------------------------

STANDARD_VERDICTS = {
    "ACCEPT": Verdict(VerdictKind.ACCEPT),
    "DROP": Verdict(VerdictKind.DROP),
    "RETURN": Verdict(VerdictKind.RETURN),
    "QUEUE": Verdict(VerdictKind.QUEUE),
}
CONTINUE = Verdict(VerdictKind.CONTINUE)
NAT_KINDS = {"DNAT": VerdictKind.DNAT, "SNAT": VerdictKind.SNAT, "MASQUERADE": VerdictKind.MASQUERADE,
              "REDIRECT": VerdictKind.REDIRECT, "REJECT": VerdictKind.REJECT}
ADDRESS_OPTIONS = {"--to-destination", "--to-source", "--to", "--on-ip"}
PORT_OPTIONS = {"--to-ports", "--on-port"}

TOP = opt.TOP_LEVEL
# module -> {spelling: (canonical, nargs, handler)}; the handler names how a modelled option
# becomes a match (None: it joins the module's OpaqueMatch).
MATCHES = {module: {spelling: (canonical, nargs, opt.MODELLED_OPTIONS.get((module, canonical)))
                     for spelling, (canonical, nargs) in options.items()}
            for module, options in opt.MATCH_OPTIONS.items()}
TARGETS = {target: {spelling: (canonical, nargs, None) for spelling, (canonical, nargs) in options.items()}
            for target, options in opt.TARGET_OPTIONS.items()}


AMBIGUOUS = object()


class Module:
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


_SYN_MASK = opt.TCP_FLAGS["FIN"] | opt.TCP_FLAGS["SYN"] | opt.TCP_FLAGS["RST"] | opt.TCP_FLAGS["ACK"]


def tcp_flags(handler: str, values: list[str], negated: bool, text: str) -> TcpFlagsMatch:
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


def limit_match(module: Module, text: str, negated: bool) -> LimitMatch | None:
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


def is_option(tok) -> bool:
    """Whether a token is an option ("-p", "--dport") or the "!" before one."""
    return tok[0] == BANG or (tok[0] == WORD and len(tok[1]) > 1 and tok[1][0] == "-")


def option_noun(option: str) -> str:
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


NOTRACK = Statement("notrack", "notrack")
OTHER_OUTCOMES = {"NFQUEUE": "queue", "MIRROR": "drop"}  # Verdict.other_outcome of these targets


def statements_for(verdict: Verdict) -> tuple[Statement, ...]:
    """The model statements a target stands for: ``-j CT --notrack`` and ``-j NOTRACK`` exempt
    their packets from connection tracking, as nft's ``notrack`` does."""
    if verdict.kind is VerdictKind.OTHER and (verdict.target == "NOTRACK" or verdict.target == "CT" and any(
            name == "--notrack" for name, _ in verdict.options)):
        return (NOTRACK,)
    return ()
