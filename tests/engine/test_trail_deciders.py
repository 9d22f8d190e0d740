"""engine/trail_deciders.TrailReader: the deciders and jumps it reads from a trail, each step
worked out once, are what reading every step of every trail gave (that way is kept here as
the reference) on the local and routed results of real-looking rulesets."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.engine.exposure import Decider, ExposureAnalysis, _final_policy, decider_of
from linter.engine.trail_deciders import TrailReader
from linter.engine.walk import CUT_DETAIL, Outcome
from linter.model import Hook, Policy, VerdictKind
from linter.pipeline import read_document

CASES = Path(__file__).parent.parent / "conformance" / "cases"
SAMPLES = Path(__file__).parent.parent.parent / "samples"
_ACCEPTING = (VerdictKind.ACCEPT, VerdictKind.DNAT, VerdictKind.REDIRECT, VerdictKind.QUEUE)


def reference_deciders(trail, forwarded, fallback):
    """The rules and policies that let a box in, reading every step of its trail."""
    rule_steps, policy_steps, final_policies, deciding, passed = [], [], [], [], []
    final_hook = Hook.FORWARD if forwarded else Hook.INPUT
    hooks, bases = {}, {}
    for step in trail:
        chain = step.chain
        hook = chain.hook
        if hook is not None:
            hooks[id(step.table)] = hook
            bases[id(step.table)] = chain
        else:
            hook = hooks.get(id(step.table))
        if step.event == "rule":
            base = bases.get(id(step.table))
            accept = step.rule is not None and step.rule.verdict.kind is VerdictKind.ACCEPT
            if step.rule is not None and (step.rule.verdict.kind in _ACCEPTING or step.detail == CUT_DETAIL) \
                    and not (accept and base is not None and base.type == "nat"):
                decider = decider_of(step.rule, chain, step.table, hook)
                rule_steps.append(decider)
                if accept and base is not None and base.policy is Policy.ACCEPT:
                    passed.append((base, step.table, hook))
                else:
                    deciding.append(decider)
        elif step.event == "policy" and step.detail == "accept":
            if chain.rules:
                policy_steps.append(decider_of(None, chain, step.table, chain.hook))
            if chain.hook is final_hook:
                final_policies.append(decider_of(None, chain, step.table, chain.hook))
    on_final = [d for d in rule_steps if d.hook is final_hook] or final_policies[-1:]
    if len(on_final) > 1:
        kept = [d for d in on_final if d.rule is None or d.rule.verdict.kind is not VerdictKind.QUEUE]
        on_final = kept or on_final
    dnat = [d for d in rule_steps if d.rule.verdict.kind in (VerdictKind.DNAT, VerdictKind.REDIRECT)]
    chosen = dnat + [d for d in on_final if d not in dnat]
    if not chosen and fallback is not None and not forwarded:
        chosen = [fallback]
    if not chosen:
        chosen = deciding[-1:] or policy_steps[-1:] or [decider_of(None, b, t, h) for b, t, h in passed[-1:]]
    return tuple(chosen)


def reference_via(trail):
    """The jumps with matches on the way, a new Decider each."""
    return tuple(Decider(s.rule.span, s.rule, s.chain.name, s.table.name, s.chain.hook) for s in trail
                 if s.event == "rule" and s.rule is not None and s.rule.matches
                 and s.rule.verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO))


INPUTS = [CASES / name for name in ("kube-proxy-statistic.rules", "kube-proxy.rules", "docker-user.rules",
                                    "home-router.rules", "proxmox-dnat.rules", "fw4.nft", "firewalld-fedora.nft",
                                    "ufw.rules", "nft-marks.nft")] + [SAMPLES / "docker-host.rules"]


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name)
def test_trails_read_once_per_step_give_what_every_step_read_gave(path):
    document = read_document(str(path)).document
    analysis = ExposureAnalysis([document])
    reader = TrailReader(decider_of)
    compared = longest = 0
    for family in analysis.families():
        fallback = _final_policy(analysis.rulesets, family)
        for routed, results in ((False, analysis.results(family)), (True, analysis.routed_results(family))):
            for result in results:
                if result.verdict is not Outcome.ACCEPT:
                    continue
                trail, forwarded = result.box.trail, result.forwarded or routed
                for _ in range(2):  # steps worked out, then steps known
                    assert reader.read(trail, forwarded, fallback) == (
                        reference_deciders(trail, forwarded, fallback), reference_via(trail))
                compared += 1
                longest = max(longest, len(trail))
    assert compared and (longest > 5 or "kube" not in path.name)  # kube-proxy: PREROUTING to POSTROUTING
