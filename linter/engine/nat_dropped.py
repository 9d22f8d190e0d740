"""Jumps on the routed path whose every result a DNAT rewrote: answered without the walk.

``PathEvaluator.evaluate_routed(keep_nat=False)`` throws away whatever a DNAT rewrote (the
local path reports it), and while it does (``SharedWalks.drop_nat``) a subtree whose template
accepts every box by a DNAT, nothing coming back, gives nothing: kube-proxy's KUBE-SVC
chains, entered once per service from KUBE-SERVICES (engine/jump_copies.py). Each such jump
still went through ``Walker.after_split``, ``enter``, ``passes_through`` and the template
search (~20 us a service, 10,000 services). ``dropped`` asks the questions that path asks, in
its order, of the boxes the rule matched, and answers only where the path would end in that
template: then nothing comes back and no result is made, and the budget is charged what the
template charges. Anywhere else it answers None and the caller takes the path itself.
"""

from __future__ import annotations

from linter.engine.budget import MAX_FOLLOWED_DEPTH
from linter.engine.chains import chain_named
from linter.engine.coalesce import COALESCE_AT_LEAST
from linter.engine.marks import marks_only
from linter.engine.passthrough import walked_anyway
from linter.model import VerdictKind

_JUMP = VerdictKind.JUMP
_BLOCKS = []  # [walk.blocks_of], read at the first call (walk.py imports this module's callers)


def dropped(walker, table, rule, matched: list, stack: tuple) -> int | None:
    """What ``walker.after_split`` of ``rule`` (a jump without statements, no mark effect) on
    ``matched`` (none only assumed) and nothing else would charge the budget, when it would
    return nothing more than it was given and add no result; None where it might do anything
    else. Changes nothing."""
    shared = walker.shared
    if shared is None or not shared.drop_nat or walker.record or not matched \
            or len(matched) >= COALESCE_AT_LEAST or rule.verdict.kind is not _JUMP:
        return None  # (fewer boxes than coalesce merges: the target is entered by these very boxes)
    target = chain_named(table, rule.verdict.target)
    if target is None or target.name in stack or len(stack) >= MAX_FOLLOWED_DEPTH:
        return None
    if walker.budget.degraded or walker.marks and marks_only(target) is not None:
        return None
    if not _BLOCKS:
        from linter.engine.walk import blocks_of
        _BLOCKS.append(blocks_of)
    if not walked_anyway(walker, _BLOCKS[0](target), matched):
        return None
    return shared.drops(walker, table, target, matched, stack)
