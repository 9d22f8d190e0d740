"""Walking boxes of packet space through chains, the way netfilter evaluates rules.

First match wins; a jump pushes and RETURN (or falling off a user chain) pops; a
goto does not come back; non-terminal targets (LOG, MARK, counters) let the
packet go on. The result of walking a chain is a list of (box, outcome) pairs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from linter.engine import intervals as iv
from linter.engine.space import Box, split_rule
from linter.addresses import LOOPBACK_V4, LOOPBACK_V6
from linter.model import Chain, Family, Rule, Table, VerdictKind


class Outcome(str, enum.Enum):
    ACCEPT = "accept"
    DROP = "drop"
    REJECT = "reject"
    RETURN = "return"  # explicit RETURN or fell off the end of the chain
    QUEUE = "queue"


@dataclass(frozen=True, slots=True)
class Step:
    """One event on a packet's path: a chain entered or left, a rule matched, a policy applied."""

    event: str  # "enter", "rule", "leave", "policy"
    table: Table
    chain: Chain
    rule: Rule | None = None
    detail: str = ""


_VERDICT_OUTCOME = {
    VerdictKind.ACCEPT: Outcome.ACCEPT,
    VerdictKind.DROP: Outcome.DROP,
    VerdictKind.REJECT: Outcome.REJECT,
    VerdictKind.RETURN: Outcome.RETURN,
    VerdictKind.QUEUE: Outcome.QUEUE,
    VerdictKind.SNAT: Outcome.ACCEPT,
    VerdictKind.MASQUERADE: Outcome.ACCEPT,
    VerdictKind.DNAT: Outcome.ACCEPT,
    VerdictKind.REDIRECT: Outcome.ACCEPT,
}

MAX_DEPTH = 64


class Walker:
    """Walks boxes through the chains of one table.

    ``record`` adds every step (chains entered and left, every matching rule,
    non-terminal ones included) to each box's trail, for ``portlint trace``;
    without it only deciding rules (verdicts and jumps) are recorded.
    """

    def __init__(self, record: bool = False):
        self.record = record

    def walk(self, table: Table, chain: Chain, boxes: list[Box], stack: tuple[str, ...] = ()) -> list[tuple[Box, Outcome]]:
        if self.record:
            boxes = [replace(b, trail=b.trail + (Step("enter", table, chain),)) for b in boxes]
        stack = stack + (chain.name,)
        results: list[tuple[Box, Outcome]] = []
        pending = boxes
        for rule in chain.rules:
            if not pending:
                break
            verdict = rule.verdict
            kind = verdict.kind
            if not verdict.terminal and kind is not VerdictKind.JUMP:
                if self.record:
                    pending = self._record_nonterminal(table, chain, rule, pending)
                continue
            next_pending: list[Box] = []
            for box in pending:
                inside, outside = split_rule(box, rule.matches, rule)
                next_pending.extend(outside)
                if inside is None:
                    continue
                inside = replace(inside, trail=inside.trail + (Step("rule", table, chain, rule),))
                if kind is VerdictKind.JUMP or kind is VerdictKind.GOTO:
                    target = table.chain(verdict.target or "")
                    if target is None or target.name in stack or len(stack) >= MAX_DEPTH:
                        # Undefined chain or loop: the kernel would refuse the ruleset;
                        # hygiene checks report it, evaluation goes on past the rule.
                        next_pending.append(inside)
                        continue
                    for sub_box, outcome in self.walk(table, target, [inside], stack):
                        if outcome is Outcome.RETURN:
                            if kind is VerdictKind.GOTO:
                                results.append((sub_box, Outcome.RETURN))
                            else:
                                next_pending.append(sub_box)
                        else:
                            results.append((sub_box, outcome))
                else:
                    results.append((apply_nat(inside, rule), _VERDICT_OUTCOME[kind]))
            pending = next_pending
        for box in pending:
            results.append((box, Outcome.RETURN))
        if self.record:
            results = [
                (replace(b, trail=b.trail + (Step("leave", table, chain, detail=o.value),)), o) for b, o in results
            ]
        return results

    def _record_nonterminal(self, table: Table, chain: Chain, rule: Rule, pending: list[Box]) -> list[Box]:
        out = []
        for box in pending:
            inside, outside = split_rule(box, rule.matches, rule)
            if inside is not None:
                out.append(replace(inside, trail=inside.trail + (Step("rule", table, chain, rule),)))
            out.extend(outside)
        return out


def apply_nat(box: Box, rule: Rule) -> Box:
    """Rewrite the destination of a box for DNAT and REDIRECT; other verdicts leave it as it is."""
    verdict = rule.verdict
    if verdict.kind is VerdictKind.DNAT:
        nat_dst = box.cur_dst
        local = box.local
        if verdict.to_addresses is not None and verdict.to_addresses.family is box.family:
            nat_dst = verdict.to_addresses.ranges
            loopback = LOOPBACK_V6 if box.family is Family.IPV6 else LOOPBACK_V4
            local = iv.covers(loopback, nat_dst)
        nat_dport = verdict.to_ports.ranges if verdict.to_ports is not None else box.cur_dport
        return replace(box, nat_dst=nat_dst, nat_dport=nat_dport, local=local)
    if verdict.kind is VerdictKind.REDIRECT:
        nat_dport = verdict.to_ports.ranges if verdict.to_ports is not None else box.cur_dport
        return replace(box, nat_dst=box.cur_dst, nat_dport=nat_dport, local=True)
    return box
