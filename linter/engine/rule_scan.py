"""One pass over a ruleset's rules for what building an exposure analysis reads of them.

Three readers went through every rule of a ruleset in turn: the interface names rules use
(universe.interface_representatives), the evidence of interface roles (roles.infer_roles)
and the host's own addresses (roles.host_addresses). The last two read only a few kinds of
rule, yet each walked all of kube-proxy's 100,000. Here one pass notes the names and, in rule
order, the rules each of the other two would go on to read past its own first tests; those
tests are repeated by the readers, so the lists only spare them the rules they would skip.

The same pass answers what other passes over every rule asked (each such pass over a random
mix's 100,000 rules cost 10-25 ms, most of it memory traffic): whether a rule reads a mark
(marks.marks_read), each table's jumps and gotos in order (checks/jump_graph.py) and each
chain's first catch-all with a rule after it (hygiene.dead_rules, PL403).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from linter.engine.memo import IdentityCache
from linter.engine.verdict_kinds import LARGE, kinds_of
from linter.model import Hook, InterfaceMatch, MarkMatch, Ruleset, VerdictKind

# firewalld's zone dispatch chain (roles.py reads its jumps whatever their matches).
ZONE_DISPATCH = re.compile(r"^(?:filter_)?INPUT_ZONES$")
# The kinds of rule whose interfaces tell roles (roles._NAT_OUT and roles._NAT_IN).
ROLE_NAT_KINDS = frozenset((VerdictKind.MASQUERADE, VerdictKind.SNAT, VerdictKind.DNAT))


class RuleScan(NamedTuple):
    """What one pass over a ruleset found."""

    names: frozenset[str]  # interface names and prefixes (universe._named's answer)
    role_rules: tuple  # (table, chain, rule, in a zone dispatch chain) roles.infer_roles reads
    host_rules: tuple  # (chain, rule) roles.host_addresses reads
    reads_marks: bool = False  # whether any rule has a MarkMatch (marks.marks_read's question)
    # id(table) -> (table, [(chain, rule) of each jump or goto of the table, in order])
    jumps: dict | None = None
    # id(chain) -> (chain, index of its first rule with no match and a final verdict that another rule follows)
    catch_alls: dict | None = None


_SCANS: IdentityCache[RuleScan] = IdentityCache()
# The match classes the scan reads (model classes have no subclasses: told by type).
_NOTED_MATCHES = frozenset((InterfaceMatch, MarkMatch))
# The verdict kinds of the rules the scan lists (jumps, gotos, role and host rules): a large
# chain without any (engine/verdict_kinds.py, read once for every pass that asks) has its
# matches read alone (_names_and_marks).
_LISTED_KINDS = ROLE_NAT_KINDS | {VerdictKind.JUMP, VerdictKind.GOTO, VerdictKind.REDIRECT}


def rule_scan(ruleset: Ruleset) -> RuleScan:
    """The scan of ``ruleset`` (remembered per ruleset: an analysis and the checks' query both
    ask).

    ``role_rules``: jumps and gotos in a zone dispatch chain, jumps and gotos whose one match
    is an interface match, and MASQUERADE, SNAT and DNAT rules with an interface match (also
    what roles._ruleset_bridges reads: Docker's MASQUERADE names its bridge).
    ``host_rules``: DNAT and REDIRECT rules of a chain on PREROUTING, and SNAT rules with
    addresses to rewrite to."""
    found = _SCANS.get(ruleset)
    if found is None:
        found = _SCANS.put(ruleset, _scan(ruleset))
    return found


def scanned(ruleset: Ruleset) -> RuleScan | None:
    """The scan of ``ruleset`` if it was made already, else None (nothing is scanned)."""
    return _SCANS.get(ruleset)


def _scan(ruleset: Ruleset) -> RuleScan:
    names = set()
    role_rules = []
    host_rules = []
    # (marks.marks_read asks this of every match too: a pass of its own over a random mix's
    # 100,000 rules cost as much as this one, most of it memory traffic)
    reads_marks = False
    jumps: dict = {}
    catch_alls: dict = {}
    # (Enum members looked up once and compared by identity: hashing one runs Python code.)
    jump, goto = VerdictKind.JUMP, VerdictKind.GOTO
    dnat, redirect, snat = VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.SNAT
    nat_kinds = ROLE_NAT_KINDS
    prerouting = Hook.PREROUTING
    noted = _NOTED_MATCHES
    for table in ruleset.tables:
        table_jumps: list = []
        jumps[id(table)] = (table, table_jumps)
        for chain in table.chains:
            if chain.device:
                names.update(d.strip() for d in chain.device.split(","))
            if len(chain.rules) >= LARGE and _LISTED_KINDS.isdisjoint(kinds_of(chain)):
                # (an allow-list's 100,000 accepts)
                marks, catch_all = _names_and_marks(chain.rules, names)
                reads_marks = reads_marks or marks
                if catch_all is not None:
                    catch_alls[id(chain)] = (chain, catch_all)
                continue
            zones = ZONE_DISPATCH.match(chain.name) is not None
            on_prerouting = chain.hook is prerouting
            last = len(chain.rules) - 1
            catch_all = None
            for index, rule in enumerate(chain.rules):
                matches = rule.matches
                if not matches and catch_all is None and index < last and rule.verdict.terminal:
                    catch_all = catch_alls[id(chain)] = (chain, index)
                named = False
                for match in matches:
                    if type(match) in noted:  # (one test for the two kinds of match noted)
                        if type(match) is InterfaceMatch:
                            named = True
                            for name in match.names:
                                if name.endswith(("+", "*")):
                                    names.add(name[:-1] + "\x00")
                                else:
                                    names.add(name)
                        else:
                            reads_marks = True
                kind = rule.verdict.kind
                if kind is jump or kind is goto:
                    table_jumps.append((chain, rule))
                    if zones or named and len(rule.matches) == 1:
                        role_rules.append((table, chain, rule, zones))
                    continue
                if named and kind in nat_kinds:
                    role_rules.append((table, chain, rule, zones))
                if kind is dnat or kind is redirect:
                    if on_prerouting:
                        host_rules.append((chain, rule))
                elif kind is snat and rule.verdict.to_addresses is not None:
                    host_rules.append((chain, rule))
    return RuleScan(frozenset(names), tuple(role_rules), tuple(host_rules), reads_marks, jumps, catch_alls)


def _names_and_marks(rules: list, names: set) -> tuple[bool, int | None]:
    """_scan's loop over a chain none of whose rules has a verdict kind of _LISTED_KINDS: no
    rule of it is listed, only its interface names are added to ``names``. (Whether a rule has
    a MarkMatch, the index of its first rule with no match and a final verdict that another
    rule follows, None when none.)"""
    noted = _NOTED_MATCHES
    reads_marks = False
    catch_all = None
    last = len(rules) - 1
    for index, rule in enumerate(rules):
        matches = rule.matches
        if not matches and catch_all is None and index < last and rule.verdict.terminal:
            catch_all = index
        for match in matches:
            if type(match) in noted:
                if type(match) is InterfaceMatch:
                    for name in match.names:
                        names.add(name[:-1] + "\x00" if name.endswith(("+", "*")) else name)
                else:
                    reads_marks = True
    return reads_marks, catch_all
