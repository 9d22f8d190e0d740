"""IPv4 and IPv6 of one host: what one family closes and the other leaves open.

- PL230: a tcp/udp/sctp port that new connections from the internet reach over IPv6
  while IPv4 does not let them in from the whole internet.
- PL431: the IPv6 input filter path accepts by default (policy accept, no final drop)
  while the IPv4 one drops.

A pair of families is one document holding both (an nft ruleset with inet, or ip and
ip6, tables; a shell script running iptables and ip6tables), checked on its own; or
two single-family rulesets of one run: files in one directory whose names pair up
(rules.v4/rules.v6, iptables.rules/ip6tables.rules, iptables*/ip6tables*), else the
only IPv4 and the only IPv6 ruleset of the run.

Compose: a port published without a host address is bound on 0.0.0.0 and [::], so
it is reachable over IPv6 as well; PL220 compares compose with the IPv4 firewall only.
"""

from __future__ import annotations

import posixpath

from linter.checks import CheckContext, LintRun, check
from linter.checks.common import LIST_AT_MOST, PORT_TRANSPORTS, WIDE_PORTS, ports_text, registry_severity
from linter.engine import query
from linter.engine.query import ExposureAnalysis, NetworkClasses
from linter.findings import Severity
from linter.model import Family, Ruleset, Span

V4, V6 = Family.IPV4, Family.IPV6


def families_of(ruleset: Ruleset) -> set[Family]:
    """The address families a ruleset filters (IPV4, IPV6)."""
    found: set[Family] = set()
    for table in ruleset.tables:
        if table.family in (Family.ARP, Family.BRIDGE):
            continue
        for family in (V4, V6):
            if table.family.covers(family):
                found.add(family)
    if not ruleset.tables and ruleset.family in (V4, V6):
        found.add(ruleset.family)
    return found


def reads_walk(ruleset: Ruleset) -> bool:
    """Whether a check of this module reads the walk's own results of ``ruleset``'s context
    (query.dropped_by of ctx.exposure): only for a ruleset filtering both families
    (families_of_one_document); a LintRun's checks make analyses of their own."""
    return families_of(ruleset) == {V4, V6}


# --- Pairing the documents of a run ----------------------------------------------------

_V6_MARKS = (("ip6tables", "iptables"), ("ipv6", "ipv4"), ("v6", "v4"), ("inet6", "inet"))


def _v4_names(name: str) -> set[str]:
    """Names the IPv4 twin of an IPv6 file ``name`` may have (rules.v6 -> rules.v4)."""
    lower = name.lower()
    names = set()
    for six, four in _V6_MARKS:
        if six in lower:
            names.add(lower.replace(six, four))
    return names


def pair_documents(documents: list[Ruleset]) -> list[tuple[Ruleset, Ruleset]]:
    """(IPv4, IPv6) pairs of single-family rulesets that describe one host."""
    v4s = [d for d in documents if families_of(d) == {V4}]
    v6s = [d for d in documents if families_of(d) == {V6}]
    pairs = []
    used: set[int] = set()
    for v6 in v6s:
        folder, name = posixpath.split(v6.path.replace("\\", "/"))
        wanted = _v4_names(name)
        for v4 in v4s:
            if id(v4) in used:
                continue
            folder4, name4 = posixpath.split(v4.path.replace("\\", "/"))
            if folder4 == folder and name4.lower() in wanted:
                pairs.append((v4, v6))
                used.update((id(v4), id(v6)))
                break
    # iptables* with ip6tables* when a directory has one of each
    for v6 in v6s:
        if id(v6) in used:
            continue
        folder, name = posixpath.split(v6.path.replace("\\", "/"))
        if not name.lower().startswith("ip6tables"):
            continue
        same_dir6 = [d for d in v6s if id(d) not in used and posixpath.split(d.path)[0] == folder
                     and posixpath.split(d.path)[1].lower().startswith("ip6tables")]
        same_dir4 = [d for d in v4s if id(d) not in used and posixpath.split(d.path)[0] == folder
                     and posixpath.split(d.path)[1].lower().startswith("iptables")]
        if len(same_dir6) == 1 and len(same_dir4) == 1:
            pairs.append((same_dir4[0], v6))
            used.update((id(same_dir4[0]), id(v6)))
    if not pairs and len(v4s) == 1 and len(v6s) == 1:
        pairs.append((v4s[0], v6s[0]))
    return pairs


# --- The checks ----------------------------------------------------------------------------


def _classes(ctx: CheckContext) -> NetworkClasses:
    return ctx.settings.network_classes()


@check("PL230", "PL431", on=Ruleset)
def families_of_one_document(ctx: CheckContext) -> None:
    """A ruleset that filters both families (nft inet, a script with iptables and ip6tables)."""
    ruleset: Ruleset = ctx.document
    if families_of(ruleset) != {V4, V6}:
        return
    compare_families(ctx, [ruleset], [ruleset], ctx.exposure, ctx.exposure)


@check("PL230", "PL431", on=LintRun)
def families_of_paired_documents(ctx: CheckContext) -> None:
    """An IPv4 and an IPv6 ruleset of the same host, linted in one run."""
    run: LintRun = ctx.document
    rulesets = [d for d in run.of_type(Ruleset) if d.loader != "docker"]
    for v4, v6 in pair_documents(rulesets):
        compare_families(ctx, [v4], [v6], query.exposure_of([v4], _classes(ctx)),
                         query.exposure_of([v6], _classes(ctx)))


def compare_families(ctx: CheckContext, v4_rulesets, v6_rulesets, v4: ExposureAnalysis, v6: ExposureAnalysis) -> None:
    _ipv6_only_ports(ctx, v4, v6)
    _ipv6_default_accept(ctx, v4_rulesets, v6_rulesets)


IPV6_ONLY_UDP = ((546, 547),)  # dhcpv6-client, dhcpv6 server: protocols IPv4 does not have


def _internet(analysis: ExposureAnalysis, family: Family, certain: bool):
    """The exposures of ``family`` to the whole internet on the host's own input path."""
    for exposure in analysis.exposures():
        if exposure.family is not family or exposure.reach != "internet" or exposure.forwarded:
            continue
        if exposure.protocol not in PORT_TRANSPORTS or (certain and exposure.possible):
            continue
        yield exposure


def _ipv6_only_ports(ctx: CheckContext, v4: ExposureAnalysis, v6: ExposureAnalysis) -> None:
    # IPv4 counts as open wherever it possibly is: only a certain IPv6 opening is reported.
    open_v4: dict[int, query.Ranges] = {}
    for exposure in _internet(v4, V4, certain=False):
        open_v4[exposure.protocol] = query.union(open_v4.get(exposure.protocol, ()), exposure.ports)
    groups: dict[tuple, dict] = {}
    for exposure in _internet(v6, V6, certain=True):
        only = query.subtract(exposure.ports, open_v4.get(exposure.protocol, ()))
        if exposure.protocol == 17:
            only = query.subtract(only, IPV6_ONLY_UDP)  # DHCPv6 has no IPv4 side to be missing from
        decider = exposure.primary
        # An accepting policy is PL431's (and PL401's) to report, once, not port by port here.
        if not only or decider is None or decider.rule is None:
            continue
        key = (decider.span, exposure.protocol)
        group = groups.setdefault(key, {"ports": (), "decider": decider})
        group["ports"] = query.union(group["ports"], only)
    for (span, protocol), group in groups.items():
        transport = PORT_TRANSPORTS[protocol]
        ports = group["ports"]
        entries = ctx.registry.overlapping(ports, transport)
        severity = Severity.MEDIUM
        for entry, _ in entries:
            if entry.severity is not None:
                severity = max(severity, registry_severity(entry))
        decider = group["decider"]
        how = "" if decider.rule is not None else f" (the ACCEPT policy of {decider.table} {decider.chain})"
        size = query.size(ports)
        if size > WIDE_PORTS or len(entries) > LIST_AT_MOST:
            named = sorted(entries, key=lambda item: (-(item[0].severity or 0), item[1]))
            listed = ", ".join(f"{entry.name} {ports_text(p)}" for entry, p in named[:LIST_AT_MOST])
            more = f" and {len(named) - LIST_AT_MOST} more" if len(named) > LIST_AT_MOST else ""
            variant = "wide"
            fields = {"count": size, "proto": transport, "ports": ports_text(ports), "how": how,
                      "including": f", including {listed}{more}" if listed else ""}
        else:
            names = [entry.name for entry, _ in entries]
            unnamed = query.subtract(ports, query.normalize(r for _, p in entries for r in p))
            names.extend(ctx.registry.describe(lo, transport) if lo == hi else f"ports {lo}-{hi}"
                         for lo, hi in unnamed)
            service = ", ".join(dict.fromkeys(names))
            variant = "many" if len(names) > 1 else "default"
            fields = {"service": service, "ports": ports_text(ports), "proto": transport, "how": how}
        related = []
        dropper = query.dropped_by(v4, _classes(ctx), protocol, ports)
        if dropper is not None:
            where, note = dropper
            related.append((where.path, where.line, where.column, f"IPv4: {note}"))
        ctx.report("PL230", span, variant=variant, fields=fields, severity=severity, proto=transport, ports=ports,
                   key=f"{transport}/{ports_text(ports)}", related=related,
                   hint="Give ip6tables (or the ip6 family) the same restriction as IPv4, or drop by default "
                        "on IPv6 too")


def _ipv6_default_accept(ctx: CheckContext, v4_rulesets, v6_rulesets) -> None:
    v4_default, v4_span = query.input_default(v4_rulesets, V4)
    if v4_default != "drop":
        return
    v6_default, v6_span = query.input_default(v6_rulesets, V6)
    if v6_default != "accept":
        return
    span = v6_span or Span(v6_rulesets[0].path, 1, 1)
    related = [(v4_span.path, v4_span.line, v4_span.column, "IPv4 INPUT drops by default here")] if v4_span else []
    ctx.report("PL431", span, key="ipv6-input", related=related,
               hint="Set the IPv6 INPUT policy to DROP (ip6tables -P INPUT DROP), after accepting ICMPv6 "
                    "neighbour discovery and the services you serve")
