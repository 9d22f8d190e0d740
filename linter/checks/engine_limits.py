"""Where the engine simplified its analysis (PL409): merged paths past its operation budget,
or a jump nested deeper than it follows (linter/engine/budget.py)."""

from __future__ import annotations

from linter.checks import CheckContext, check
from linter.checks.family_consistency import reads_walk
from linter.model import Ruleset

_HOW = {
    "paths": ("merged paths past its operation budget",
              "which packets are accepted (and which only possibly) is exact; findings name one of "
              "several ways through the rules"),
    "depth": ("stopped following jumps nested too deep",
              "whatever enters there counts as possibly accepted (more exposure than the truth, never less)"),
}


@check("PL409", on=Ruleset)
def analysis_simplified(ctx: CheckContext) -> None:
    """One finding per family whose evaluation was cut, at the first place it was."""
    analysis = ctx.exposure
    walk_read = not reads_walk(ctx.document)
    if walk_read:
        analysis.read_once()  # (the summary lets each result go as it reads it: ufw 100k's top)
    analysis.exposures()  # evaluated once, shared with the exposure checks
    if walk_read:
        # No later check reads the walk's own results (the summary holds what they read): they
        # go now, and what the other checks make reuses their memory (an allow-list's 100,000
        # results, ~40 MB: fewer pages to fault in).
        ctx.walk_read()
    reported = set()
    for cut in analysis.cuts:
        family = cut.table.family.label
        if (family, cut.reason) in reported:
            continue
        reported.add((family, cut.reason))
        span = cut.rule.span if cut.rule is not None else cut.chain.span
        how, effect = _HOW[cut.reason]
        ctx.report("PL409", span, key=f"{cut.table.name}/{cut.chain.name}/{cut.reason}",
                   fields={"family": family, "how": how, "chain": f"{cut.table.name} {cut.chain.name}",
                           "effect": effect},
                   hint="Dispatch on marks from one chain instead of forking at every chain; "
                        "`portlint trace` shows one flow's path")
