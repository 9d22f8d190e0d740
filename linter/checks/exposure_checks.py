"""Checks on what a ruleset really lets in: plaintext (PL101), risky services (PL201),
ephemeral-range ports (PL301) and stateless high-port accepts (PL302).

All of them read the engine's exposure: rule order, jumps, policies, conntrack state
and DNAT have already been evaluated, so a shadowed accept is never reported and
an accept reached through a user chain always is.
"""

from __future__ import annotations

from functools import partial

from linter.checks import CheckContext, check
from linter.checks.causes import ASSUME_HINT, MOST_OF_THE_PORTS, RANGE_AT_LEAST, Cause, calibrated, level_of_size, \
    reach_level
from linter.checks.common import LIST_AT_MOST, PORT_TRANSPORTS, WIDE_PORTS, ports_text
from linter.engine import query
from linter.engine.query import LOOPBACK_IFACE, Exposure, interfaces_record
from linter.engine.memo import IdentityCache
from linter.findings import Severity
from linter.checks.generators import generator_of, restrict_hint
from linter.service_identity import hedge
from linter.model import CtStatusMatch, Hook, NatStateMatch, PortMatch, Ruleset, StateMatch

def reach_text(exposure: Exposure, all_interfaces=None, interfaces=None) -> str:
    """How far a port reaches, in words: 'from the internet on eth0 through DNAT to ...'
    (``interfaces``: the interfaces to name, when not the exposure's own)."""
    if exposure.reach == "internet":
        text = "from the internet"
    elif exposure.reach == "restricted":
        text = f"from {sources_text(exposure)} only"
    else:
        text = f"from {exposure.reach} networks"
    if all_interfaces is not None:
        named = interfaces_phrase(exposure.interfaces if interfaces is None else interfaces, all_interfaces)
        if named:
            text += f" on {named}"
    if exposure.forwarded:
        target = exposure.nat_targets[0] if exposure.nat_targets else "another address"
        text += f" through DNAT to {target} (INPUT rules do not apply)"
    if exposure.possible:
        text += f" (possibly: if {', '.join(exposure.conditions[:3])} matches)"
    return text


def interfaces_phrase(interfaces, candidates) -> str:
    """Where connections arrive, for a message: "" (any interface), "eth0,eth1", or "any interface
    but eth0" when the rules let in every interface except some (the unnamed rest included).
    ``candidates``: the interfaces that could have been in (those of the same reach)."""
    known = (frozenset(interfaces), frozenset(candidates))  # no copies: both are frozensets already
    found = _PHRASES.get(known)
    if found is None:
        if len(_PHRASES) >= 4096:
            _PHRASES.clear()
        record = interfaces_record(known[0], (known[1] | known[0]) - {LOOPBACK_IFACE})
        if isinstance(record, list):
            found = ",".join(record)
        else:
            found = f"any interface but {','.join(record['all_but'])}" if record["all_but"] else ""
        _PHRASES[known] = found
    return found


_PHRASES: dict[tuple, str] = {}  # (interfaces, candidates) -> phrase: a few sets, asked per finding


def sources_text(exposure: Exposure) -> str:
    """The public sources of a restricted exposure, shortest first: '203.0.113.5' or '3 ranges'."""
    from linter.addresses import format_range

    ranges = exposure.sources
    if len(ranges) <= 2:
        return ", ".join(format_range(exposure.family, lo, hi) for lo, hi in ranges)
    return f"{len(ranges)} public address ranges"


_CAUSE_REACHES = frozenset({"internet", "restricted", "internal"})  # public reach, or internal


def _causes(ctx: CheckContext) -> list:
    """The exposures of the document gathered per deciding rule, in file order: what one rule
    admits from the internet and from internal interfaces is one cause. A cause of one exposure
    stays a tuple, (decider, exposure, transport), with its reach level and shape (lone_causes.
    learned_shape) after them when the lone lane may report it; one that would report nothing
    (causes.reports_nothing: an allow-list's 50,000 rules on port 443) is left out here, the
    exposure read once, unless another exposure of its rule comes."""
    from linter.checks.lone_causes import learned_shape

    causes: dict[tuple, Cause | tuple | list] = {}
    # PL301's exposures are picked in the same pass (ephemeral_service_ports reads them): a
    # second pass over kube-proxy's 22,000 exposures cost ~14 ms at 100k, cache misses mostly.
    overlapping, overlaps_of = [], _OverlapsOf(ctx)
    last_ports, overlaps = object(), None  # (overlaps_of's own test, without the call: runs share ports)
    known_shape = ctx.memo("lone shapes").get
    last_span = last_family = last_level = None  # level_of_size's last question and answer
    quiet = False
    for exposure in ctx.exposure.exposures():
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        if transport is None:
            continue
        reach = exposure.reach
        if reach == "loopback":
            continue
        ports = exposure.ports
        if ports is not last_ports:
            last_ports, overlaps = ports, overlaps_of(ports)
        if overlaps:
            overlapping.append(exposure)
        if reach not in _CAUSE_REACHES:
            continue
        if exposure.forwarded or exposure.via:
            decider, alone = exposure.primary, False
        else:
            deciders = exposure.deciders
            decider = deciders[-1] if deciders else None  # Exposure.primary, without a jump or DNAT
            alone = len(deciders) == 1  # (no related locations)
        if decider is None:
            continue
        span = decider.span
        place = (span.path, span.line, span.column)
        cause = causes.get(place)
        if cause is None:
            rule = decider.rule
            # (Not a HeldExposure: its sources are built each time they are read, and a cause of
            # several exposures never needs them whole: ufw's held public sources.)
            if alone and rule is not None and type(exposure) is Exposure:
                # reach_level, its one-range case written out (asked again only when the size or
                # the family changes: an allow-list's /24s)
                sources = exposure.sources
                if reach == "restricted" and len(sources) == 1:
                    lo, hi = sources[0]
                    if hi - lo != last_span or exposure.family is not last_family:
                        last_span, last_family = hi - lo, exposure.family
                        last_level = level_of_size(hi - lo + 1, last_family)
                    level = last_level
                else:
                    level = reach_level(exposure)
                # What the lone lane's answer depends on but the rule's place and sources
                # (LoneCauses.report_all): kept once per shape, with whether it reports nothing.
                key = (ports, exposure.nat_ports, transport, rule.comment, level, exposure.possible,
                       exposure.conditions, decider.chain, rule.verdict.target)
                shape = known_shape(key)
                if shape is None:
                    shape = learned_shape(ctx, key, decider, exposure, transport, level)
                if shape[1]:
                    quiet = True
                    causes[place] = [decider, exposure, transport]  # (a list: left out below)
                else:
                    causes[place] = (decider, exposure, transport, level, shape)
            else:
                causes[place] = (decider, exposure, transport)
            continue
        if type(cause) is not Cause:
            cause = causes[place] = Cause.started(ctx, *cause[:3])
        cause.add(ctx, exposure, transport)
    ctx.memo("ephemeral overlaps")["exposures"] = (overlapping, overlaps_of)
    # File order: the keys are (path, line, column), each once (sorted alone: no item pairs made).
    if not quiet:
        return [causes[place] for place in sorted(causes)]
    return [cause for place in sorted(causes) if type(cause := causes[place]) is not list]


def _reach(ctx: CheckContext, cause: Cause) -> str:
    """The reach of a cause in words: its widest reach, over every interface that reach has."""
    return _reach_of(_reach_basis(ctx, cause))


def _reach_basis(ctx: CheckContext, cause: Cause) -> tuple:
    """What _reach words, without the cause or the context: a deferred message keeps this (the
    context would keep the whole exposure analysis alive until the report is written)."""
    exposure = cause.worst
    level = cause.worst_level
    if len(cause.exposures) == 1:
        interfaces = exposure.interfaces
    else:
        interfaces = frozenset().union(*(e.interfaces for e, e_level in zip(cause.exposures, cause.levels)
                                         if e_level == level))
    # Name what is left out only among interfaces of the same kind: the LAN's are no "but".
    return exposure, level, interfaces, cause.routed_to, cause.possible, _same_kind(ctx, level == "internal")


def _reach_of(basis: tuple) -> str:
    exposure, level, interfaces, routed_to, possible, candidates = basis
    if routed_to and interfaces_phrase(interfaces, candidates).count(",") >= LIST_AT_MOST:
        candidates = None  # a router's dozens of VLANs: the destinations say more
    text = reach_text(exposure, candidates, interfaces)
    if routed_to:
        text += f" routed to {routed_to}"
    if exposure.possible and not possible and " (possibly" in text:
        text = text[:text.index(" (possibly")]
    return text


def _same_kind(ctx: CheckContext, internal: bool) -> frozenset:
    """The document's interfaces that are internal (or not): one set per document, not per cause."""
    kinds = ctx.memo("interface kinds")
    found = kinds.get(internal)
    if found is None:
        roles = ctx.exposure.roles
        found = kinds[internal] = frozenset(i for i in ctx.exposure.interfaces if roles.is_internal(i) == internal)
    return found


def _ports_by_transport(ports: dict[str, query.Ranges]) -> str:
    return ", ".join(f"{ports_text(r)}/{t}" for t, r in sorted(ports.items()) if r)


def _service_list(services: list, at_most: int = LIST_AT_MOST) -> str:
    names = [f"{entry.name} {ports_text(ports)}" for entry, ports, _ in services]
    unique = list(dict.fromkeys(names))
    listed = ", ".join(unique[:at_most])
    if len(unique) > at_most:
        listed += f" and {len(unique) - at_most} more"
    return listed


@check("PL101", "PL201", "PL202", "PL302", "PL401", on=Ruleset)
def exposed_services(ctx: CheckContext) -> None:
    """One finding per rule (or policy) that lets new connections reach a plaintext or risky
    service, a wide port range, or everything by default; severity from the services and
    from how many addresses can connect."""
    from linter.checks.routed_checks import routed_policies

    reported_policies = report_causes(ctx, _causes(ctx))
    # A forward chain's policy that lets the internet through is the routed check's finding.
    _hygiene_default_accept(ctx, reported_policies | routed_policies(ctx))


def report_causes(ctx: CheckContext, causes: list) -> set:
    """Report each cause (services, a range, or a default accept; a (decider, exposure,
    transport) tuple is a cause of one exposure, see _causes); returns where the default
    accepts reported are (policy spans as (path, line, column))."""
    from linter.checks.lone_causes import LoneCauses

    reported_policies = set()

    def general(cause) -> None:
        if type(cause) is tuple:
            cause = Cause.started(ctx, *cause[:3])
        internal = cause.worst_level == "internal"
        if cause.decider.rule is None:
            # Only an input (or forward) filter chain's policy is a default accept to report: a
            # file with nat or ingress chains alone is not this host's input filter.
            if not internal and cause.decider.hook in (Hook.INPUT, Hook.FORWARD) \
                    and _filter_chain(ctx, cause.decider) and not _fragment_policy(ctx, cause.decider):
                _report_default_accept(ctx, cause)
                reported_policies.add(_where(cause.decider.span))
            return
        if cause.is_range(ctx.registry):
            _report_range(ctx, cause, internal)
        else:
            _report_services(ctx, cause, internal)

    LoneCauses(ctx, _reach_of, _same_kind).report_all(causes, general)
    return reported_policies


def _chain_of(ctx: CheckContext, decider):
    """(table, chain) the decider (a rule or a chain's policy) belongs to, or (None, None)."""
    for table in ctx.document.tables:
        if table.name != decider.table:
            continue
        chain = table.chain(decider.chain)
        if chain is None:
            continue
        if decider.rule is None and chain.span is decider.span:
            return table, chain
        if decider.rule is not None and id(decider.rule) in _rule_ids(chain):
            return table, chain
    return None, None


_RULE_IDS: IdentityCache[frozenset] = IdentityCache(100_000)


def _rule_ids(chain) -> frozenset:
    """The identities of the chain's rules (remembered per chain: an allow-list of 100,000
    accepts asked once per finding, scanning every rule each time)."""
    found = _RULE_IDS.get(chain)
    if found is None:
        found = _RULE_IDS.put(chain, frozenset(map(id, chain.rules)))
    return found


def _filter_chain(ctx: CheckContext, decider) -> bool:
    """Whether the deciding policy is a filter chain's (an iptables filter table's)."""
    table, chain = _chain_of(ctx, decider)
    if chain is None:
        return False
    return (chain.role or chain.type or "filter") == "filter"


def _fragment_policy(ctx: CheckContext, decider) -> bool:
    """Whether the deciding policy is one the file never set (a --noflush fragment's chain)."""
    from linter.checks.hygiene import is_fragment_chain

    for table in ctx.document.tables:
        if table.name == decider.table:
            chain = table.chain(decider.chain)
            if chain is not None and chain.span is decider.span:
                return is_fragment_chain(table, chain)
    return False


def _most_severe(cause: Cause, floor: Severity | None = None) -> Severity:
    severities = [severity for _, _, severity in cause.services.values()]
    worst = max(severities, default=Severity.INFO)
    return max(worst, floor) if floor is not None else worst


def _report_default_accept(ctx: CheckContext, cause: Cause) -> None:
    """The policy of an input chain admits new connections from public addresses: one finding,
    on the policy line, at least high when the internet reaches most ports."""
    decider = cause.decider
    level = cause.worst_level
    floor = calibrated(Severity.HIGH, level) if cause.width() >= MOST_OF_THE_PORTS else None
    severity = min(_most_severe(cause, floor), cause.cap)
    services = cause.ranked_services()
    listed = f", including {_service_list(services)}" if services else ""
    chain = decider.chain if ctx.document.loader == "iptables" else f"{decider.table} {decider.chain}"
    ctx.report("PL401", decider.span, variant="exposure", severity=severity,
               fields={"chain": chain, "what": _ports_phrase(cause.ports), "reach": _reach(ctx, cause),
                       "listed": listed}, proto=",".join(sorted(cause.ports)),
               ports=query.normalize(r for p in cause.ports.values() for r in p),
               key=f"{decider.table}/{decider.chain}",
               hint="Set the policy to drop and accept only what you serve")


def _report_range(ctx: CheckContext, cause: Cause, internal: bool) -> None:
    """A rule that opens a port range: one finding about the range, its size, reach and the
    notable services inside; everything or most of it is judged like a default accept. A
    stateless range of high ports (PL302) is the classic way to let replies in without conntrack."""
    decider = cause.decider
    level = cause.worst_level
    if cause.width() >= MOST_OF_THE_PORTS:
        severity = _most_severe(cause, calibrated(Severity.HIGH, level))
    else:
        severity = calibrated(Severity.MEDIUM, level)
    severity = min(severity, cause.cap, Severity.LOW if internal else Severity.CRITICAL)
    services = cause.ranked_services()
    listed = f"; includes {_service_list(services)}" if services else ""
    what = _ports_phrase(cause.ports)
    code, hint = "PL202", "Open only the ports the service uses, and only to the networks that need them"
    purpose = cause.purpose(ctx)
    if purpose:
        what = what.replace(") ", f", {purpose} per the rule's comment) ", 1) if ") " in what else what
    high = max(query.size(query.intersect(p, ((1024, 65535),))) for p in cause.ports.values())
    # A range the comment gives a purpose (RTP media, passive FTP) is deliberate, not a stateless
    # way to let replies in.
    if decider.rule is not None and not internal and not purpose and \
            high >= int(ctx.settings.option("PL302", "min_ports")) \
            and not any(isinstance(m, _CONNTRACK_MATCHES) for m in decider.rule.matches) and _names_ports(decider.rule):
        code = "PL302"
        hint = "Let replies in with -m conntrack --ctstate ESTABLISHED,RELATED instead of opening high ports"
    ephemeral = [f"{lo}-{hi} ({name})" for name, lo, hi in ctx.settings.ephemeral_ranges
                 if any(query.intersect(p, ((lo, hi),)) for p in cause.ports.values())]
    if ephemeral and cause.width() < MOST_OF_THE_PORTS:
        listed += f"; it overlaps the ephemeral port range {ephemeral[0]}"
    if cause.possible:
        hint += ASSUME_HINT
    ctx.report(code, decider.span, fields={"what": what, "reach": _reach(ctx, cause), "notes": listed},
               severity=severity, proto=",".join(sorted(cause.ports)),
               ports=query.normalize(r for p in cause.ports.values() for r in p),
               key=f"{cause.scope}range/{_ports_by_transport(cause.ports)}/{decider.text}", hint=hint)


_TRANSPORT_ORDER = ("tcp", "udp", "sctp")


def _ports_phrase(ports: dict[str, query.Ranges]) -> str:
    """'every tcp and udp port is', '64512 ports (1024-65535/tcp) are': the subject of a message."""
    transports = sorted((t for t in ports if ports[t]), key=_TRANSPORT_ORDER.index)
    names = " and ".join(transports) if len(transports) < 3 else f"{', '.join(transports[:-1])} and {transports[-1]}"
    count = sum(query.size(ports[t]) for t in transports)
    if all(query.size(ports[t]) >= 65536 for t in transports):
        return f"every {names} port is"
    if all(query.size(ports[t]) >= MOST_OF_THE_PORTS for t in transports):
        return f"every other {names} port ({count} ports) is"
    if count == 1:
        return f"port {_compact_ports(ports)} is"
    return f"{count} ports ({_compact_ports(ports)}) are"


def _compact_ports(ports: dict[str, query.Ranges], at_most: int = 4) -> str:
    parts = []
    for transport, ranges in sorted(ports.items()):
        if not ranges:
            continue
        if ranges == ((0, 65535),) or ranges == ((1, 65535),):
            parts.append(f"all {transport}")
            continue
        text = ports_text(ranges[:at_most])
        if len(ranges) > at_most:
            text += f" and {len(ranges) - at_most} more ranges"
        parts.append(f"{text}/{transport}")
    return ", ".join(parts)


def _report_services(ctx: CheckContext, cause: Cause, internal: bool) -> None:
    """Plaintext and risky services one rule lets in: one finding naming them all."""
    if not cause.services:
        return
    decider = cause.decider
    rule = decider.rule
    if cause.shared is not None:
        # Ports, services and what named them are the shape's (kept by its memo).
        shape = (internal, cause.scope, cause.possible, cause.worst_level, decider.chain, rule is None,
                 rule.comment if rule is not None else None, rule.verdict.target if rule is not None else None,
                 cause.shared)
    else:
        shape = (internal, cause.scope, cause.evidence, cause.possible, cause.worst_level, decider.chain,
                 min(cause.ports), rule is None, rule.comment if rule is not None else None,
                 rule.verdict.target if rule is not None else None, tuple(cause.named_by_comment.items()),
                 tuple((name, id(entry), ports, severity) for name, (entry, ports, severity) in cause.services.items()))
    # Everything but the reach and the related locations is the same for every rule of one shape:
    # an allow-list's 50,000 rules on port 22 are said once.
    said = ctx.memo("service findings")
    found = said.get(shape)
    if found is None:
        # The entries are kept with the finding (their ids in the shape cannot be reused); the stamp
        # of its deferred findings comes with the first of them.
        found = said[shape] = [_service_finding(ctx, cause, internal), list(cause.services.values()), None]
    finding = found[0]
    if finding is None:
        return
    plaintext, kind, said, severity, hint, transports, ports, key = finding
    code = "PL101" if plaintext else "PL201"
    if kind == "services":
        variant = "services"
        fields = {"count": said["count"], "listed": said["listed"], "plaintext": said["plaintext"]}
    else:
        variant = "hedged" if kind == "hedged" else "default"
        fields = {"service": said["service"], "unencrypted": said["unencrypted"]}
    if severity is not Severity.INFO:
        fields.update(reach=_reach(ctx, cause))
        ctx.report(code, decider.span, variant=variant, fields=fields, severity=severity, hint=hint,
                   proto=transports, ports=ports, key=key, related=_related(cause.worst))
        return
    # Ordinary services (collapse.py makes them one finding a file): the reach, each rule's own,
    # is worded only when the message is read. A partial, not a closure over the context (that
    # would keep the whole analysis alive until the report is written). Findings of one shape
    # without related locations are alike but for their place and reach: made from one stamp.
    later = {"reach": partial(_reach_of, _reach_basis(ctx, cause))}
    related = _related(cause.worst)
    if related:
        ctx.report(code, decider.span, variant=variant, fields=fields, later=later, severity=severity, hint=hint,
                   proto=transports, ports=ports, key=key, related=related)
        return
    stamp = found[2]
    if stamp is None:
        stamp = found[2] = ctx.deferred_stamp(code, variant=variant, fields=fields, severity=severity, hint=hint,
                                              proto=transports, ports=ports, key=key)
    ctx.report_stamped(stamp, decider.span, later)


def _service_finding(ctx: CheckContext, cause: Cause, internal: bool) -> tuple | None:
    """(plaintext, variant, fields, severity, hint, proto, ports, key) of a services finding, its
    fields' reach left out (None), or None when there is nothing to report."""
    services = cause.ranked_services()
    if not services:
        return None
    severity = max(item[2] for item in services)
    if internal:
        if severity < Severity.HIGH and not any(e.plaintext for e, _, _ in services if e.severity is not None):
            return None
        severity = min(severity, Severity.LOW)
    top = [item for item in services if item[2] == severity]
    plaintext = any(entry.check_kind == "plaintext" for entry, _, _ in top)
    code = "PL101" if plaintext else "PL201"
    decider = cause.decider
    reach = None  # the caller's: it is each rule's own
    by_name: dict[str, list] = {}
    for entry, ports, _ in services:
        by_name.setdefault(entry.name, []).append((entry, ports))
    transports_of = {name: sorted({t for (n, t) in cause.services if n == name}) for name in by_name}
    parts = []
    by_comment = set(cause.named_by_comment.values())
    for name, items in by_name.items():
        ports, text = _merged([p for _, p in items])
        said = f", per {cause.evidence}" if name in by_comment else ""
        parts.append(f"{name} ({'/'.join([text] + transports_of[name])}{said})")
    shared = None
    if len(parts) == 1:
        entry = services[0][0]
        name = next(iter(by_name))
        if name not in by_comment:
            # Nothing in the file names the service: the port's usual one, said as such.
            ports, text = _merged([p for _, p in by_name[name]])
            port_text = f"{text}/{'/'.join(transports_of[name])}"
            parts[0] = f"port {port_text} (commonly {name})"
            shared = hedge(ctx.registry, entry, ports, transports_of[name][0])
            if shared is not None:  # 9001: supervisord, or a Tor relay's ORPort, or MinIO's console
                parts[0] = shared.phrase(port_text, name)
                severity = min(severity, shared.cap)
        if shared is not None:
            # Only the port's usual service would be plaintext: not "a plaintext protocol" as a fact.
            variant = "hedged"
            fields = {"service": parts[0], "reach": reach,
                      "unencrypted": f"; {name} would be unencrypted" if entry.plaintext else ""}
        else:
            variant = "default"
            fields = {"service": parts[0], "reach": reach,
                      "unencrypted": "; it is also unencrypted" if entry.plaintext else ""}
    else:
        plain = [name for name, items in by_name.items() if items[0][0].plaintext]
        listed = ", ".join(parts[:LIST_AT_MOST]) + (f" and {len(parts) - LIST_AT_MOST} more" if len(parts) > LIST_AT_MOST else "")
        variant = "services"
        fields = {"count": len(parts), "reach": reach, "listed": listed,
                  "plaintext": f"; plaintext: {', '.join(plain[:LIST_AT_MOST])}" if plain else ""}
    first = services[0][0]
    hint = f"Use {first.alternative} instead, or allow it only from the networks that need it" \
        if code == "PL101" and first.alternative else "Allow it only from the networks that need it"
    ports, listed_ports = _merged([p for _, p, _ in services])
    said = restrict_hint(generator_of(ctx.document), decider.chain, sorted(cause.ports)[0], listed_ports,
                         first.name if len(by_name) == 1 else None,
                         decider.rule.comment if decider.rule is not None else None,
                         decider.rule.verdict.target if decider.rule is not None else None)
    if said:
        hint = said
    elif decider.rule is not None:
        # Hand-written: say what to add to this very rule, in its own syntax.
        source = ctx.document.restrict_example
        hint += f": add {source} (your own network) to this rule, or remove the rule" if source else \
            ": let only your own network in through this rule, or remove the rule"
    if cause.possible:
        hint += ASSUME_HINT
    transports = ",".join(sorted({t for (_, t) in cause.services}))
    key = f"{cause.scope}{transports}/{'+'.join(by_name)}/{cause.worst_level}"
    return plaintext, variant, fields, severity, hint, transports, ports, key


_MERGED: dict[tuple, tuple] = {}


def _merged(port_sets: list) -> tuple:
    """(ranges, text): the ports of several port sets, merged, and as ports_text writes them.
    One set's are remembered: an allow-list's 100,000 rules ask for the same 22 again and again."""
    if len(port_sets) != 1 or not isinstance(port_sets[0], tuple):
        merged = query.normalize(r for ports in port_sets for r in ports)
        return merged, ports_text(merged)
    found = _MERGED.get(port_sets[0])
    if found is None:
        if len(_MERGED) >= 4096:
            _MERGED.clear()
        merged = query.normalize(port_sets[0])
        found = _MERGED[port_sets[0]] = (merged, ports_text(merged))
    return found


def _where(span) -> tuple:
    return (span.path, span.line, span.column)


def _hygiene_default_accept(ctx: CheckContext, reported: set) -> None:
    """Input and forward filter chains where unmatched traffic meets an accepting policy and no
    public exposure finding said so already (a forward chain, or a policy that only private
    sources reach)."""
    from linter.checks.hygiene import default_accept_chains

    ruleset: Ruleset = ctx.document
    for table, chain in default_accept_chains(ruleset):
        if _where(chain.span) in reported:
            continue
        name = chain.name if ruleset.loader == "iptables" else f"{table.name} {chain.name}"
        ctx.report("PL401", chain.span, key=f"{table.name}/{chain.name}", fields={"chain": name},
                   hint="Set the policy to drop and accept what you serve, or end the chain with a drop")


def _related(exposure: Exposure):
    if len(exposure.deciders) < 2 or exposure.primary is None:
        return ()
    primary = exposure.primary
    return tuple(
        (d.span.path, d.span.line, d.span.column, f"also decided by {d.table} {d.chain}")
        for d in exposure.deciders if d is not primary
    )


class _OverlapsOf:
    """The ephemeral overlaps of a port set (_ephemeral_overlaps), remembered per set: a few
    port sets, many exposures (those in a row share their ports object: looked up once)."""

    __slots__ = ("ranges", "overlaps", "last_ports", "found")

    def __init__(self, ctx: CheckContext):
        self.ranges = ctx.settings.ephemeral_ranges  # (not the context: kept in its memo, no cycle)
        self.overlaps: dict[tuple, list] = {}
        self.last_ports, self.found = object(), None

    def __call__(self, ports: query.Ranges) -> list:
        if ports is not self.last_ports:
            found = self.overlaps.get(ports)
            if found is None:
                found = self.overlaps[ports] = _ephemeral_overlaps(self.ranges, ports)
            self.last_ports, self.found = ports, found
        return self.found


def _ephemeral_exposures(ctx: CheckContext) -> tuple[list, _OverlapsOf]:
    """The exposures of a port transport and a reach other than loopback whose ports overlap an
    ephemeral range, in summary order, and their overlaps (picked by _causes when it ran)."""
    picked = ctx.memo("ephemeral overlaps").pop("exposures", None)
    if picked is not None:
        return picked
    overlapping, overlaps_of = [], _OverlapsOf(ctx)
    for exposure in ctx.exposure.exposures():
        transport = PORT_TRANSPORTS.get(exposure.protocol)
        if transport is None or exposure.reach == "loopback":
            continue
        if overlaps_of(exposure.ports):
            overlapping.append(exposure)
    return overlapping, overlaps_of


@check("PL301", on=Ruleset)
def ephemeral_service_ports(ctx: CheckContext) -> None:
    """Accepted service ports that lie inside an ephemeral port range."""
    seen = set()
    overlapping, overlaps_of = _ephemeral_exposures(ctx)
    for exposure in overlapping:
        transport = PORT_TRANSPORTS[exposure.protocol]
        ports = exposure.ports
        found = overlaps_of(ports)
        decider = exposure.primary
        if decider is None or decider.rule is None or not _names_ports(decider.rule):
            continue
        for name, lo, hi, inside in found:
            key = f"{transport}/{ports_text(inside)}/{name}"
            if (key, decider.span) in seen:
                continue
            seen.add((key, decider.span))
            service = ", ".join(sorted({ctx.registry.describe(p, transport) for p, _ in inside[:3]}))
            ctx.report(
                "PL301", decider.span,
                fields={"service": service, "ports": ports_text(inside), "proto": transport,
                        "range": f"{lo}-{hi} ({name})"},
                proto=transport, ports=inside, key=key,
                hint="Move the service below 32768 or reserve the port (net.ipv4.ip_local_reserved_ports)")


def _ephemeral_overlaps(ephemeral_ranges, ports: query.Ranges) -> list:
    """(name, lo, hi, ports inside) of each of ``ephemeral_ranges`` (the settings') the ports
    overlap; none for a port range (its PL202/PL302 finding names the overlap)."""
    if query.size(ports) > WIDE_PORTS or any(hi - lo + 1 >= RANGE_AT_LEAST for lo, hi in ports):
        return []
    overlaps = ((name, lo, hi, query.intersect(ports, ((lo, hi),))) for name, lo, hi in ephemeral_ranges)
    return [overlap for overlap in overlaps if overlap[3]]


_CONNTRACK_MATCHES = (StateMatch, NatStateMatch, CtStatusMatch)


def _names_ports(rule) -> bool:
    return any(isinstance(m, PortMatch) and not m.negated for m in rule.matches)
