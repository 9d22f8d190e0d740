"""Merged boxes that merging again would leave as they are (dead-rule analysis).

The dead-rule analysis (engine/shadow.py) merges what goes on after a dispatch run, again
when the boxes pass the regrow mark, and again for what the chain returns. When the first
merge found nothing to merge (Docker's NAT POSTROUTING: per container a ``-s IP -d IP``
hole whose pieces differ in two addresses at once, 150,000 boxes at 25,000 containers),
the later ones are passes over the same boxes that find nothing either, each one as costly.

coalesce() hands back the very list it was given exactly when it merged nothing, and a list
it merged nothing of is merged nothing of again (the same boxes group the same way): such
a list is *settled*, and merging it again is skipped. The boxes are the same objects
either way, so every count the analysis budgets by stays as it was.

Nor is what a chain returns merged when nothing reads it: a chain no rule jumps to and whose
analysis is not shared by shape (engine/shadow_shapes.py) returns to no caller the analysis
sees, so after its last block (no rule left to spend a budget on) its boxes stay as they are.
"""

from __future__ import annotations

from linter.engine.coalesce import coalesce
from linter.engine.space import Box, replace
from linter.model import Table


def forget_settled(boxes: list[Box]) -> tuple[list[Box], bool]:
    """The boxes without their path and assumptions, merged (shadow.forget), and whether
    nothing merged, so that merging the result again would give it back unchanged."""
    stripped = [replace(b, assumptions=(), trail=()) if b.assumptions or b.trail else b for b in boxes]
    merged = coalesce(stripped)
    return merged, merged is stripped


def jump_targets(table: Table) -> frozenset[str]:
    """The names of the chains some rule of ``table`` jumps or goes to (any named target, to
    be sure): only their returned space is ever read, by the analysis of their callers."""
    targets = {rule.verdict.target for chain in table.chains for rule in chain.rules}  # (a set display: in C)
    targets.discard(None)
    return frozenset(targets)
