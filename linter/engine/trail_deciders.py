"""Who let a box in, read from its trail: the rules and policies that decided (exposure's
deciders) and the jumps with matches on the way (its ``via``).

What one step adds to either is worked out once per step object and kept for the trails that
share it: kube-proxy's 21,000 accepted boxes at 100k rules have trails of 8 steps that share
43,000 step objects (the way into KUBE-SERVICES, FORWARD and POSTROUTING is everyone's).
"""

from __future__ import annotations

from collections.abc import Callable

from linter.engine.walk import CUT_DETAIL
from linter.model import Hook, Policy, VerdictKind

_ACCEPTING = (VerdictKind.ACCEPT, VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.QUEUE)
_JUMPS = (VerdictKind.JUMP, VerdictKind.GOTO)
_NAT_TARGETS = (VerdictKind.DNAT, VerdictKind.REDIRECT)
# Enum members read once here: a look-up through the class is Python-level work, ~0.3 us, and
# every one of kube-proxy's 21,000 accepted results is read.
_FORWARD, _INPUT, _ACCEPT_POLICY, _QUEUE, _ACCEPT = Hook.FORWARD, Hook.INPUT, Policy.ACCEPT, VerdictKind.QUEUE, \
    VerdictKind.ACCEPT

# What a step is to the deciders: nothing but its chain's place (a user chain's rule that
# neither accepts nor was cut), an accepting rule, or an accepting policy.
_PASSING, _RULE, _POLICY = 0, 1, 2
# The record of a user chain's step that is nothing to either (passing, no jump with matches):
# kube-proxy's service jumps without matches and its masquerade steps.
_NOTHING = (_PASSING,)
_UNENTERED = (None, None)  # (hook, base chain) of a table no base chain's step has entered yet


class TrailReader:
    """Reads trails into (deciders, via), each step's part worked out once (by identity: the
    reader keeps the steps it has seen, so their ids stay theirs)."""

    def __init__(self, decider_of: Callable):
        """``decider_of(rule, chain, table, hook)``: the one Decider of a rule or policy and hook
        (engine.exposure.decider_of)."""
        self._decider_of = decider_of
        self._steps: dict[int, tuple] = {}
        self._nothing: list = []  # the steps recorded as _NOTHING (kept: their ids stay theirs)

    def _record(self, step) -> tuple:
        chain, rule = step.chain, step.rule
        hook = chain.hook
        verdict = rule.verdict.kind if rule is not None else None
        kind = _PASSING
        via = None
        event = step.event
        if event == "rule":
            if rule is not None:
                if verdict in _ACCEPTING or step.detail == CUT_DETAIL:
                    kind = _RULE
                if verdict in _JUMPS and rule.matches:
                    via = self._decider_of(rule, chain, step.table, hook)
        elif event == "policy" and step.detail == "accept":
            kind = _POLICY
        if kind is _PASSING and via is None and hook is None:
            self._nothing.append(step)
            self._steps[id(step)] = _NOTHING
            return _NOTHING
        table = step.table
        # (what a base chain's step enters its table with; the hook and Decider the step's rule
        # was last read under: a user chain's rule nearly always inherits the same hook)
        enter = (hook, chain) if hook is not None else None
        record = self._steps[id(step)] = (kind, id(table), hook, chain, table, rule, verdict is _ACCEPT, via,
                                          verdict in _NAT_TARGETS, enter, [None, None], step)
        return record

    def read(self, trail: tuple, forwarded: bool, fallback=None) -> tuple[tuple, tuple]:
        """(the rules and policies that let the box of ``trail`` in, in path order; the jumps
        with matches that led there). ``fallback``: the accepting policy of the final hook's
        last chain, for a walk that left no step (an empty chain)."""
        decider_of = self._decider_of
        steps = self._steps
        final_hook = _FORWARD if forwarded else _INPUT
        # table -> (the hook of the base chain its steps run under, that base chain)
        entered: dict[int, tuple] = {}
        on_final = []  # the accepting rules on the final hook
        dnat = []  # the DNAT and REDIRECT rules
        policy_steps = []  # accepting policies of chains with rules
        final_policies = []  # accepting policies on the final hook, empty chains too
        deciding = []  # accepting rules, but the ACCEPTs of chains whose policy accepts anyway
        passed = []  # (base chain, table, hook) of those ACCEPTs, in path order
        via = []
        for step in trail:
            record = steps.get(id(step))
            if record is None:
                record = self._record(step)
            if record is _NOTHING:
                continue
            kind, table_id, hook, chain, table, rule, accept, jump, nat, enter, made, _ = record
            if jump is not None:
                via.append(jump)
            if hook is not None:
                entered[table_id] = enter
                base = chain
            elif kind is _PASSING:
                continue
            else:
                hook, base = entered.get(table_id, _UNENTERED)  # a user chain inherits its caller's hook
            if kind is _RULE:
                if not (accept and base is not None and base.type == "nat"):
                    # A nat chain's ACCEPT only ends that chain (no NAT): it never decides filtering.
                    if made[0] is hook and hook is not None:
                        decider = made[1]
                    else:
                        decider = made[1] = decider_of(rule, chain, table, hook)
                        made[0] = hook
                    # (what choose() picks from: the decider's hook is ``hook``, its rule ``rule``)
                    if hook is final_hook:
                        on_final.append(decider)
                    if nat:
                        dnat.append(decider)
                    if accept and base is not None and base.policy is _ACCEPT_POLICY:
                        passed.append((base, table, hook))
                    else:
                        deciding.append(decider)
            elif kind is _POLICY:
                if chain.rules:
                    policy_steps.append(decider_of(None, chain, table, chain.hook))
                if chain.hook is final_hook:
                    final_policies.append(decider_of(None, chain, table, chain.hook))
        chosen = choose(on_final, dnat, final_policies, forwarded, fallback)
        if not chosen:
            # Off the final hook, an accept in a chain whose policy accepts anyway (a prerouting
            # mangle chain skipping its marks) let nothing in that the chain would have refused:
            # its chain's policy is the decider, as it would be without the accept.
            chosen = deciding[-1:] or policy_steps[-1:] or [
                decider_of(None, base, table, hook) for base, table, hook in passed[-1:]]
        return tuple(chosen), tuple(via)


def choose(on_final: list, dnat: list, final_policies: list, forwarded: bool, fallback) -> list:
    """The deciders among a trail's accepting rules and the final hook's accepting policies:
    every DNAT on the way, then the final hook's accept. ``on_final``: the accepting rules on
    the final hook, ``dnat``: the DNAT and REDIRECT rules, each in path order."""
    # With no accepting rule on the final hook, the last accepting policy there decided (the
    # filter chain's, after mangle's), whether or not its chain has rules: an empty
    # default-accept INPUT exposes as much as one with an unrelated rule.
    on_final = on_final or final_policies[-1:]
    if len(on_final) > 1:
        # A queue to an IPS (Suricata's NFQUEUE) in a later chain sees what an accept let in
        # already: the accept decided, the queue only inspects.
        kept = [d for d in on_final if d.rule is None or d.rule.verdict.kind is not _QUEUE]
        on_final = kept or on_final
    if not dnat:
        chosen = list(on_final)
    else:
        chosen = list(dnat)
        for decider in on_final:  # ``decider not in dnat``, equal deciders sharing their hook
            hook = decider.hook
            for other in dnat:
                if other is decider or (other.hook is hook and other == decider):
                    break
            else:
                chosen.append(decider)
    if not chosen and fallback is not None and not forwarded:
        chosen = [fallback]  # the input chain was empty: its policy let the box in
    return chosen
