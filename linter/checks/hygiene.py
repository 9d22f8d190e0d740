"""Ruleset hygiene: default-accept chains, dead rules, broken jumps, unused chains and sets."""

from __future__ import annotations

import re

from linter.checks import CheckContext, check
from linter.checks.generators import generator_of, safety_net
from linter.checks.jump_graph import acyclic, jump_graph, reaches
from linter.findings import Severity
from linter.engine import query
from linter.model import Chain, Family, Hook, Policy, Ruleset, Span, Table, VerdictKind

_DEFAULT_DENY_HOOKS = (Hook.INPUT, Hook.FORWARD)


_NO_RULES: frozenset[int] = frozenset()


def _families(table: Table) -> list[Family]:
    if table.family in (Family.IPV4, Family.IPV6):
        return [table.family]
    if table.family in (Family.INET, Family.NETDEV, Family.BRIDGE):
        return [Family.IPV4, Family.IPV6]
    return []


def default_accept_chains(ruleset: Ruleset):
    """(table, chain) of the input and forward filter base chains where unmatched traffic meets
    an accepting policy (``query.accepts_by_default``). PL401 reports them (see
    exposure_checks, which rates the ones that let the internet in by what they expose)."""
    # (_forwarding_in_use goes through every chain: asked last, and only of an empty accepting FORWARD)
    forwarding = None
    interfaces = None
    for table in ruleset.tables:
        for chain in table.chains:
            if chain.hook not in _DEFAULT_DENY_HOOKS or (chain.type or "filter") != "filter":
                continue
            if (chain.policy or Policy.ACCEPT) is not Policy.ACCEPT:
                continue
            if (chain.role or "filter") != "filter":
                continue  # an iptables INPUT of mangle or raw, not filter
            if is_fragment_chain(table, chain):
                continue
            if chain.hook is Hook.FORWARD and not chain.rules:
                if forwarding is None:
                    forwarding = _forwarding_in_use(ruleset)
                if not forwarding:
                    continue  # a host that does not route: an empty accepting FORWARD changes nothing
            if interfaces is None:
                interfaces = query.interfaces_of([ruleset])
            families = _families(table) or [table.family]
            if any(query.accepts_by_default(table, chain, family, interfaces) for family in families):
                yield table, chain


def is_fragment_chain(table: Table, chain: Chain) -> bool:
    """A built-in chain the file never declares (no ``:INPUT ACCEPT`` line), in a table that
    declares none: a fragment loaded with ``iptables-restore --noflush`` (ufw's before.rules),
    whose policy is whatever the host already has, not accept."""
    return chain.is_base and not chain.rules and chain.span == table.span and \
        all(c.span == table.span for c in table.chains if c.is_base)


_FORWARDING_KINDS = frozenset((VerdictKind.DNAT, VerdictKind.SNAT, VerdictKind.MASQUERADE))


def _forwarding_in_use(ruleset: Ruleset) -> bool:
    # A large chain's kinds gathered once in C (query.kinds_of: engine/verdict_kinds.py); a small one rule by rule.
    nat = _FORWARDING_KINDS
    return any(not nat.isdisjoint(query.kinds_of(chain)) if len(chain.rules) >= query.LARGE_CHAIN
               else any(rule.verdict.kind in nat for rule in chain.rules)
               for table in ruleset.tables for chain in table.chains)


@check("PL402", "PL403", "PL410", on=Ruleset)
def dead_rules(ctx: CheckContext) -> None:
    """Rules after a catch-all (PL403), rules that earlier rules shadow completely (PL402), and
    chains too costly to judge (PL410: none of their rules is reported as shadowed)."""
    ruleset: Ruleset = ctx.document
    ctx.walk_read()
    interfaces = query.interfaces_of([ruleset])
    # One command can make a rule in both families (ufw allow ..., a function running iptables and
    # ip6tables): its line gets one finding of each code.
    reported: set[tuple[str, Span]] = set()
    # Each chain's first catch-all as rule_scan's pass noted it, when it was made (the exposure
    # analysis makes it): the loop below then reads that rule alone, not every rule again.
    scan = query.rule_scan_made(ruleset)
    catch_alls = scan.catch_alls if scan is not None else None
    for table in ruleset.tables:
        analyses = [(family, query.dead_rules_of(table, family, interfaces)) for family in _families(table)]
        for chain in table.chains:
            after_catch_all = None
            candidates = enumerate(chain.rules)
            if catch_alls is not None:
                noted = catch_alls.get(id(chain))
                if noted is None:
                    candidates = ()
                elif noted[0] is chain:
                    candidates = ((noted[1], chain.rules[noted[1]]),)
            for index, rule in candidates:
                # A catch-all (no match, a final verdict), tested in place: an allow-list's 100,000 rules
                if not rule.matches and rule.verdict.terminal and index + 1 < len(chain.rules):
                    after_catch_all = index
                    following = chain.rules[index + 1]
                    # Rules as written: a verdict map split by verdict, or ``-s a,b``, is one line.
                    count = _written_rules(chain.rules[index + 1:])
                    if ("PL403", following.span) in reported:
                        break
                    reported.add(("PL403", following.span))
                    ctx.report("PL403", following.span, variant="many" if count > 1 else None,
                               fields={"count": count, "verdict": rule.verdict.kind.value, "chain": chain.name},
                               key=f"{table.name}/{chain.name}/{following.text}",
                               hint="Insert the rule before the catch-all, or move the catch-all to the end")
                    break
            limit = after_catch_all if after_catch_all is not None else len(chain.rules)
            if len(analyses) == 1:  # (one family: the loop below without its sets, for 40,000 kube-proxy chains)
                family, analysis = analyses[0]
                verdicts = analysis.chain(chain)
                if not verdicts.judged:
                    _report_unjudged(ctx, table, chain, [family])
                found = verdicts.dead & verdicts.shadowed if verdicts.dead else _NO_RULES
            else:
                dead_everywhere = None
                shadowed_somewhere: set[int] = set()
                unjudged: list[Family] = []
                for family, analysis in analyses:
                    verdicts = analysis.chain(chain)
                    if not verdicts.judged:
                        unjudged.append(family)
                    shadowed_somewhere |= verdicts.shadowed
                    dead_everywhere = verdicts.dead if dead_everywhere is None else dead_everywhere & verdicts.dead
                if unjudged:
                    _report_unjudged(ctx, table, chain, unjudged)
                found = (dead_everywhere or set()) & shadowed_somewhere
            if not found:
                continue
            for index in sorted(found):
                if index >= limit:
                    continue  # after a catch-all: PL403 says so once
                rule = chain.rules[index]
                if ("PL402", rule.span) in reported:
                    continue
                reported.add(("PL402", rule.span))
                if safety_net(generator_of(ruleset), chain.name, rule):
                    continue
                shares = map_shares(chain.rules, index)
                dead_shares = [share for share in shares if share in found]
                whole = len(dead_shares) == len(shares)
                # A block that never happens is worse than an allow that is redundant: the author
                # believes those packets are dropped.
                blocks = any(chain.rules[share].verdict.kind in (VerdictKind.DROP, VerdictKind.REJECT)
                             for share in dead_shares)
                fields = {"chain": chain.name}
                if whole:
                    mixed = len({chain.rules[share].verdict.kind for share in shares}) > 1
                    variant = None if mixed or not blocks else "drop"
                else:
                    entries = map_entries(chain.rules, dead_shares, shares)
                    all_block = all(chain.rules[share].verdict.kind in (VerdictKind.DROP, VerdictKind.REJECT)
                                    for share in dead_shares)
                    fields.update(entries=entries, they=entries_pronoun(entries, all_block))
                    variant = "map_drop" if all_block else "map"
                ctx.report("PL402", rule.span, variant=variant, fields=fields,
                           severity=Severity.MEDIUM if blocks else None,
                           key=f"{table.name}/{chain.name}/{rule.text}",
                           hint="Move it before the rules that cover it, or delete it")


def _written_rules(rules) -> int:
    """How many rules the reader sees among ``rules``: the model rules one written rule became
    (side by side, one span) count once."""
    count = 0
    previous = None
    for rule in rules:
        if rule.span != previous:
            count += 1
            previous = rule.span
    return count


def map_shares(rules, index: int) -> list[int]:
    """The indexes of the rules the front end made of the one written rule at ``index``: a verdict
    map split by verdict (nft ``tcp dport vmap { 22 : drop, 80 : accept }``) gives rules side by
    side with one span and different verdicts. ``[index]`` for a rule of its own (rules sharing a
    span and a verdict, such as ``-s a,b``, are one rule to the reader)."""
    span = rules[index].span
    first = index
    while first > 0 and rules[first - 1].span == span:
        first -= 1
    last = index
    while last + 1 < len(rules) and rules[last + 1].span == span:
        last += 1
    if len({rules[share].verdict for share in range(first, last + 1)}) < 2:
        return [index]
    return list(range(first, last + 1))


def map_entries(rules, dead: list[int], shares: list[int]) -> str:
    """What of its verdict map the ``dead`` shares stand for: "The drop entries" when they hold
    every key of their verdict ("The accept and drop entries" for two), "A drop entry" when the map
    was read one key per rule. A map line is not a "drop rule", and its other entries may well match."""
    said = []
    one_key = False
    for share in dead:
        verdict = rules[share].verdict
        word = f"{verdict.kind.value} {verdict.target}" if verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO) \
            else verdict.kind.value
        if word not in said:
            said.append(word)
        one_key = one_key or sum(1 for other in shares if rules[other].verdict == verdict) > 1
    if one_key or len(dead) > len(said):
        return "Some entries" if len(dead) > 1 else f"{'An' if said[0][0] in 'aeiou' else 'A'} {said[0]} entry"
    return f"The {' and '.join(said) if len(said) < 3 else ', '.join(said[:-1]) + ' and ' + said[-1]} entries"


def entries_pronoun(entries: str, blocks: bool) -> str:
    """The end of PL402's map message agreeing with ``entries`` (one entry or all of a verdict's)."""
    plural = not entries.startswith(("A ", "An "))
    if blocks:
        return "they were" if plural else "it was"
    return "they match" if plural else "it matches"


def _report_unjudged(ctx: CheckContext, table: Table, chain: Chain, families: list[Family]) -> None:
    """PL410 at the chain: its dead-rule analysis stopped at the budget, so a clean report
    there is not a judgement (a silent gap would read as "no dead rules")."""
    ctx.report("PL410", chain.span, key=f"{table.name}/{chain.name}",
               fields={"chain": chain.name, "family": " and ".join(f.label for f in families),
                       "rules": f"{len(chain.rules):,}", "budget": f"{query.dead_rule_budget(chain):,}"},
               hint="Group the rules that differ in several fields at once (one ipset or nft set per field) "
                    "so that fewer independent splits meet")



@check("PL404", "PL405", "PL406", on=Ruleset)
def chain_graph(ctx: CheckContext) -> None:
    """Jumps to undefined chains, user chains never used, and jump loops."""
    ruleset: Ruleset = ctx.document
    for table in ruleset.tables:
        graph = jump_graph(table, _jumps_noted(ruleset, table))  # checks/jump_graph.py, shared with jump_depth
        edges, used = graph.edges, graph.used
        for target, rule in graph.undefined:
            if _ufw_fragment(table, target):
                # ufw's before.rules/after.rules jump to chains ufw itself defines when it
                # loads them: nothing the user can act on in this file.
                ctx.report("PL404", rule.span, variant="ufw", fields={"target": target},
                           severity=Severity.INFO, key=f"{table.name}/{target}",
                           hint="Lint the ruleset ufw builds (iptables-save) to judge these jumps")
            else:
                ctx.report("PL404", rule.span, key=f"{table.name}/{target}", fields={"target": target},
                           hint=f"Define the chain {target} or fix the name")
        # firewalld makes and wires its zone chains itself: an unused one is nothing to act on.
        generated = table.name == "firewalld" and generator_of(ruleset) == "firewalld"
        for chain in table.chains:
            if not chain.is_base and chain.name not in used and not generated and not GENERATOR_CHAIN.match(chain.name):
                ctx.report("PL405", chain.span, key=f"{table.name}/{chain.name}", fields={"chain": chain.name},
                           hint="Jump to it from the chain it belongs to, or delete it")
        # (no loop: graph.depth() is the one pass _cycles begins with, kept for jump_depth)
        for cycle, rule in (_cycles(edges) if graph.depth() is None else ()):
            ctx.report("PL406", rule.span, key=f"{table.name}/{'>'.join(sorted(cycle))}",
                       fields={"cycle": " -> ".join(cycle + [cycle[0]])}, hint="Break the cycle; RETURN goes back to the caller")


def _jumps_noted(ruleset: Ruleset, table: Table) -> list | None:
    """The (chain, rule) of each jump and goto of ``table`` in order, as rule_scan's pass noted
    them if it was made (None: not known without going through every rule)."""
    scan = query.rule_scan_made(ruleset)
    noted = scan.jumps.get(id(table)) if scan is not None and scan.jumps is not None else None
    return noted[1] if noted is not None and noted[0] is table else None


UFW_CHAIN = re.compile(r"ufw6?-")
# Chains generators create and jump to from elsewhere (ufw's other files, the kubelet's canaries):
# nothing the user can act on when one looks unused.
GENERATOR_CHAIN = re.compile(r"ufw6?-|KUBE-(?:KUBELET|PROXY)-CANARY$")


def _ufw_fragment(table: Table, target: str) -> bool:
    """Whether ``target`` is one of ufw's own chains, jumped to from a ufw rules file."""
    return bool(UFW_CHAIN.match(target)) and any(UFW_CHAIN.match(chain.name) for chain in table.chains)


def _cycles(edges):
    """Each elementary jump cycle once, found by depth-first search, with a rule that closes it.

    Iterative: a chain of thousands of jumps is a path, not a recursion."""
    found = []
    if acyclic(edges):
        return found  # (checks/jump_graph.py: one pass, where the search below is several)
    seen_sets = set()
    state: dict[str, int] = {}
    for root in sorted(edges):
        if state.get(root) is not None:
            continue
        state[root] = 1
        path = [root]
        pending = [iter(edges.get(root, ()))]
        while pending:
            for target, rule in pending[-1]:
                if state.get(target) == 1:
                    cycle = path[path.index(target):]
                    key = frozenset(cycle)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        found.append((list(cycle), rule))
                elif state.get(target) is None:
                    state[target] = 1
                    path.append(target)
                    pending.append(iter(edges.get(target, ())))
                    break
            else:
                pending.pop()
                state[path.pop()] = 2
    return found


NFT_JUMP_STACK_SIZE = 16  # linux/include/net/netfilter/nf_tables.h


@check("PL408", on=Ruleset)
def jump_depth(ctx: CheckContext) -> None:
    """Jumps nested deeper than nf_tables allows (it refuses the rule: "Too many links")."""
    ruleset: Ruleset = ctx.document
    backend = "" if ruleset.loader == "nft" else "; iptables-nft refuses it too, iptables-legacy loads it"
    for table in ruleset.tables:
        found = _deepest_jump(table)
        if found is None:
            continue
        rule, base, depth = found
        ctx.report("PL408", rule.span, key=f"{table.name}/{rule.verdict.target}",
                   fields={"target": rule.verdict.target, "depth": depth, "base": base, "backend": backend},
                   hint="Jump to the leaf chains from one dispatching chain instead of nesting them")


def _deepest_jump(table: Table):
    """(the first jump that is the 16th nested one from a base chain, that base chain, 16), or None.

    Levels are the longest way from a base chain through user chains (nf_tables checks every
    way); a jump closing a loop is left out (PL406 reports loops)."""
    graph = jump_graph(table)
    edges = graph.edges
    if not any(edges.values()):
        return None
    depth = graph.depth()  # (without a loop, the longest way: what reaches() would find)
    if depth is not None and depth < NFT_JUMP_STACK_SIZE:
        return None  # no way is that deep (kube-proxy's are 4 jumps)
    if depth is None and not reaches(edges, graph.bases, NFT_JUMP_STACK_SIZE):
        return None  # no way is that deep, loops or not
    # Chains reachable from base chains, in topological order (reverse DFS postorder, iterative).
    state: dict[str, int] = {}
    postorder: list[str] = []
    for chain in table.chains:
        if not chain.is_base or chain.name in state:
            continue
        state[chain.name] = 1
        stack = [(chain.name, iter(edges[chain.name]))]
        while stack:
            name, targets = stack[-1]
            for target, _ in targets:
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(edges[target])))
                    break
            else:
                stack.pop()
                state[name] = 2
                postorder.append(name)
    order = postorder[::-1]
    position = {name: index for index, name in enumerate(order)}
    level: dict[str, int] = {}
    origin: dict[str, str] = {}
    for chain in table.chains:
        if chain.is_base and chain.name in position:
            level[chain.name] = 0
            origin[chain.name] = chain.name
    deepest = []
    for name in order:
        if name not in level:
            continue
        for target, rule in edges[name]:
            if position[target] <= position[name]:
                continue  # closes a loop
            if level[name] + 1 == NFT_JUMP_STACK_SIZE:
                deepest.append(rule)
            if level[name] + 1 > level.get(target, -1):
                level[target] = level[name] + 1
                origin[target] = origin[name]
    if not deepest:
        return None
    first = min(deepest, key=lambda rule: (rule.span.path, rule.span.line, rule.span.column))
    owner = next(chain.name for chain in table.chains if any(r is first for r in chain.rules))
    return first, origin[owner], NFT_JUMP_STACK_SIZE


@check("PL407", on=Ruleset)
def unused_sets(ctx: CheckContext) -> None:
    """nftables named sets and maps no rule refers to."""
    ruleset: Ruleset = ctx.document
    for table in ruleset.tables:
        if not table.sets:
            continue
        for named in table.sets:
            if named.name not in table.used_sets:
                ctx.report("PL407", named.span, key=f"{table.name}/{named.name}", fields={"set": named.name},
                           hint=f"Use it in a rule (@{named.name}) or delete it")
