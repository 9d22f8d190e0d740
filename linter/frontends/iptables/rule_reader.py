"""RuleReader: one rule's option tokens into model matches, a verdict and statements."""

from __future__ import annotations

import dataclasses

from linter import netdb
from linter.diagnostics import caret_excerpt, Diagnostic
from linter.frontends.iptables import options as opt
from linter.frontends.makers import address_match as make_address_match, verdict as make_verdict
from linter.frontends.iptables.rule_options import (
    ADDRESS_OPTIONS,
    OTHER_OUTCOMES,
    AMBIGUOUS,
    CONTINUE,
    is_option,
    limit_match,
    MATCHES,
    Module,
    NAT_KINDS,
    option_noun,
    PORT_OPTIONS,
    STANDARD_VERDICTS,
    TARGETS,
    tcp_flags,
    TOP,
)
from linter.frontends.iptables.tokens import (
    BANG,
    DESTINATION,
    fast_path,
    INVALID,
    NO_TARGET,
    OPEN_STRING,
    SOURCE,
    SYNTAX,
    UNKNOWN,
    UNKNOWN_OPTION,
    UNMODELLED,
    WORD,
)
from linter.frontends.iptables.values import (
    address_list,
    address_range,
    BadValue,
    multiport_list,
    nat_to,
    port_range,
    Unmodelled,
)
from linter.model import (
    AddressMatch,
    AddressSet,
    AddrTypeMatch,
    CtStatusMatch,
    Family,
    FragmentMatch,
    InterfaceMatch,
    MarkMatch,
    NatStateMatch,
    normalize_ranges,
    OpaqueMatch,
    OriginalAddressMatch,
    OriginalPortMatch,
    PortMatch,
    PortSet,
    ProtocolMatch,
    Span,
    StateMatch,
    Verdict,
    VerdictKind,
)


class RuleReader:
    """Turns the option list of one rule into matches and a verdict (shared by iptables front ends).

    ``chain_names`` gives the chain names of the file, asked for only when a ``-j NAME``
    could be a chain or a target extension (``target_chain_names``, when given, those of them
    that are target extensions' names); ``diagnostics`` receives what is wrong.
    """

    def __init__(self, path: str, family: Family, chain_names, diagnostics: list[Diagnostic],
                 target_chain_names=None) -> None:
        self.path = path
        self.family = family
        self._chain_names = chain_names
        self._chains: set[str] | None = None
        self._target_chain_names = target_chain_names
        self._target_chains: set[str] | None = None
        self.diagnostics = diagnostics
        self.memo: dict = {}
        # The AddressMatch of each -s/-d value read, per (option, negated): keyed by the value alone
        # (no key tuple made and hashed per address; plans.py reads through the same dictionaries).
        self.addresses: dict = {(option, negated): {} for option in ("-s", "-d") for negated in (False, True)}
        self.jumps: dict = {}  # the Verdict of each -j CHAIN read, by the chain's name (shared the same way)
        self.uses: list = []
        self.chains_changed = 0  # counts add_chain calls (plans.py drops its plans then)
        self.unknowns = False  # set by front ends whose tokens may be UNKNOWN

    @property
    def chains(self) -> set[str]:
        if self._chains is None:
            self._chains = set(self._chain_names())
        return self._chains

    def has_chain(self, name: str) -> bool:
        """Whether ``name`` is in ``chains``; a target extension's name is looked up among
        ``target_chain_names`` when given (``chains`` is not made for it)."""
        if self._chains is None and self._target_chain_names is not None and name in TARGETS:
            if self._target_chains is None:
                self._target_chains = set(self._target_chain_names())
            return name in self._target_chains
        return name in self.chains

    def add_chain(self, name: str) -> None:
        """A chain created after the reader was made (a script's ``-N``): ``-j name`` jumps to it."""
        if self._chains is not None:
            self._chains.add(name)
        if self._target_chains is not None:
            self._target_chains.add(name)
        self.chains_changed += 1  # a -j NAME read before may now be a jump

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
        ``uses`` records how each value was read (plans.py makes a shape's plan from it).
        """
        self.line = line
        self.lineno = lineno
        self._args_start = args_start
        self._columns = None
        memo = self.memo
        memo_get = memo.get
        jumps = self.jumps
        top_get = TOP.get
        matches: list = []
        loaded: list[Module] = []
        verdict: Verdict | None = None
        target: Module | None = None
        target_options: list[tuple[str, str]] = []
        nat_addresses: list[AddressSet] = []
        nat_ports: list[PortSet] = []
        comment = None
        proto_name = None  # "tcp"... for service names
        proto_module = None  # the module "-p" loads when an option is not otherwise known
        swallowing: Module | None = None  # an unknown module or target taking its options
        ignore = False
        bad_target = False
        has_unknown = any(t[0] == UNKNOWN for t in tokens) if self.unknowns else False
        entry_matches: list[tuple[Module, int]] = []  # conntrack matches that look at the entry
        uses = self.uses = []  # (token position or -1, kind, info, what it made), for plans.py
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
                    if found is None or found is AMBIGUOUS:
                        if found is None:
                            self._report(UNKNOWN_OPTION, f"Unknown option {name}", tok, len(name))
                        # Its arguments (the words up to the next option) join it in a may-match.
                        parts = (["!"] if negated else []) + [tok[2]]
                        i += 1
                        while i < n and not is_option(tokens[i]):
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
            if nargs == 1 and inline is None and j < n and tokens[j][0] != BANG and tokens[j][1] not in TOP:
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
                noun = opt.TOP_LEVEL_NOUN.get(canonical, "value") if module is None else option_noun(canonical)
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
                    module = Module(args[0][2], None)
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
                    elif name in STANDARD_VERDICTS:
                        verdict = STANDARD_VERDICTS[name]
                    elif (name not in TARGETS and not self._unknown_option_follows(tokens, i, loaded, proto_module)
                          or self.has_chain(name)):
                        # A jump; one to a chain the file never declares is the hygiene checks' business.
                        verdict = jumps.get(name) or jumps.setdefault(name, Verdict(VerdictKind.JUMP, name))
                        if name not in TARGETS and not self._unknown_option_follows(tokens, i, loaded, proto_module):
                            uses.append((i - 1 if inline is None else -1, "jump", None, verdict))
                    else:
                        spec = TARGETS.get(name)
                        target = Module(name, spec, is_target=True)
                        loaded.append(target)
                        if spec is None:
                            self._report(INVALID, f"Unknown target {name!r}", arg, len(arg[2]))
                            swallowing = target
                elif canonical == "-m":
                    arg = args[0]
                    if negated:
                        self._report(SYNTAX, "'!' cannot negate -m", tok)
                    name = opt.MATCH_ALIASES.get(arg[1], arg[1])
                    spec = MATCHES.get(name)
                    module = Module(name, spec)
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
                    known = self.addresses[canonical, negated]
                    match = known.get(arg[1])
                    if match is None:
                        try:
                            match = self.address_match(SOURCE if canonical == "-s" else DESTINATION, arg[1],
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
                        known[arg[1]] = match
                    uses.append((i - 1 if inline is None else -1, "addr", (canonical, negated), match))
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
                if canonical in ADDRESS_OPTIONS or canonical in PORT_OPTIONS:
                    self._nat_option(module.name, canonical, args[0], proto_name, nat_addresses, nat_ports)
                    if inline is None and len(args) == 1:
                        uses.append((i - 1, "nat", (module.name, canonical, proto_name), None))
                continue
            # --- options of a match module
            if handler is None:
                self._opaque(module, matches, " ".join([tok[2]] + [a[2] for a in args]), negated, canonical,
                             " ".join(a[1] for a in args))
                continue
            if handler == "syn" or handler == "tcp-flags":
                written = " ".join([tok[2]] + [a[2] for a in args])
                try:
                    matches.append(tcp_flags(handler, [a[1] for a in args], negated, written))
                except BadValue as exc:
                    self._bad_value(exc, args[getattr(exc, "index", 0)])
                    self._opaque(module, matches, written, negated, "?")
                continue
            arg = args[0]
            if handler == "comment":
                comment = arg[1] if comment is None else f"{comment}; {arg[1]}"
                uses.append((i - 1 if inline is None else -1, "comment", None, arg[1]))
                continue
            key = (handler, arg[1], negated, proto_name)
            match = memo_get(key)
            if match is None:
                try:
                    match = self.modelled(handler, arg[1], negated, proto_name, module.name)
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
            elif inline is None:
                uses.append((i - 1, "value", (handler, negated, proto_name, module.name), match))
            matches.append(match)
        # --- the verdict
        if target is not None:
            verdict = self.target_verdict(target.name, target_options, nat_addresses, nat_ports)
        elif verdict is None:
            verdict = CONTINUE
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
                matches[module.slot] = limit_match(module, " ".join(parts), negated) or OpaqueMatch(
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
        try:
            self.nat_values(target, option, arg[1], proto_name, addresses, ports)
        except BadValue as exc:
            self._bad_value(exc, arg)

    def nat_values(self, target, option, value, proto_name, addresses, ports) -> None:
        """Add the rewrite ``value`` of NAT target option ``option`` to ``addresses`` and ``ports``
        (BadValue when it cannot be read)."""
        if option in PORT_OPTIONS:
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
        if name in TOP:
            return False
        for module in loaded:
            if module.options is not None and name in module.options:
                return False
        return not (proto_module is not None and name in (MATCHES.get(proto_module) or {}))

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
            if a[0] == WORD and a[1] in TOP:
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
            options = MATCHES.get(proto_module)
            hit = options.get(name) if options else None
            if hit is not None:
                for module in loaded:
                    if module.name == proto_module and not module.is_target:
                        break
                else:
                    module = Module(proto_module, options)
                    if proto_module not in opt.MODELLED_MODULES:
                        module.slot = -2  # given a slot when its first option is read
                    loaded.append(module)
                return module, hit
        return None

    def _abbreviation(self, name, loaded, proto_module, tok):
        """getopt's unambiguous prefixes: ``--dpo`` for ``--dport``; None, a hit or AMBIGUOUS."""
        if not name.startswith("--") or len(name) < 3:
            return None
        candidates: dict[str, tuple] = {}  # canonical name -> (where, hit, spelling shown)
        for spelling, hit in TOP.items():
            if spelling.startswith(name) and spelling.startswith("--"):
                candidates.setdefault(hit[0], ("top", hit, spelling))
        for module in reversed(loaded):
            if module.options is not None:
                for spelling, hit in module.options.items():
                    if spelling.startswith(name):
                        candidates.setdefault(hit[0], (module, hit, spelling))
        if not candidates and proto_module is not None:
            for spelling, hit in (MATCHES.get(proto_module) or {}).items():
                if spelling.startswith(name):
                    candidates.setdefault(hit[0], ("implicit", hit, spelling))
        if not candidates:
            return None
        if len(candidates) > 1:
            names = ", ".join(sorted(c[2] for c in candidates.values()))
            self._report(UNKNOWN_OPTION, f"Ambiguous option {name} (could be {names})", tok, len(name))
            return AMBIGUOUS
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
        if text in TOP:
            return True
        if text.startswith("--"):
            for module in loaded:
                if module.options is not None and text in module.options:
                    return True
            if proto_module is not None and text in (MATCHES.get(proto_module) or {}):
                return True
        return False

    def _opaque(self, module: Module, matches: list, text: str, negated: bool, canonical: str = "?",
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

    def address_match(self, direction, text, negated) -> AddressMatch:
        """The match of ``-s``/``-d`` ``text`` (BadValue when it cannot be read)."""
        if "," not in text and "-" not in text:
            return make_address_match(direction, self.family, (address_range(text, self.family),), text, negated)
        ranges = address_list(text, self.family)
        if negated and len(ranges) > 1:
            # iptables makes one rule per address: "! -s a,b" matches what is not in all of them.
            inter = [ranges[0]]
            for lo, hi in ranges[1:]:
                inter = [(max(a, lo), min(b, hi)) for a, b in inter if max(a, lo) <= min(b, hi)]
            return AddressMatch(direction, AddressSet(self.family, normalize_ranges(inter), text), True)
        return AddressMatch(direction, AddressSet(self.family, normalize_ranges(ranges), text), negated)

    def modelled(self, handler: str, value: str, negated: bool, proto_name: str | None, module: str):
        """The match a modelled module option makes of ``value`` (BadValue when it cannot be read)."""
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

    def target_verdict(self, name, options, addresses, ports) -> Verdict:
        """The verdict of target extension ``name`` with its ``options`` and NAT rewrites."""
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
        kind = NAT_KINDS.get(name)
        if kind is None:
            kind = VerdictKind.LOG if name in opt.LOG_TARGETS else VerdictKind.OTHER
        terminal = name in opt.TERMINAL_TARGETS
        return make_verdict(kind, name if kind is VerdictKind.OTHER or kind is VerdictKind.LOG else None,
                            to_addresses, to_ports, tuple(options), terminal,
                            OTHER_OUTCOMES.get(name.upper()) if kind is VerdictKind.OTHER else None)
