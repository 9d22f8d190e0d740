"""Causes of one exposure, reported without a Cause each.

An allow-list of 100,000 `-s NET/24 -p tcp --dport 22 -j ACCEPT` rules gives 100,000 causes
(exposure_checks._causes), each one rule's one exposure, and all but a few of one shape
(causes.CauseShape: the same ports, comment, reach level and cap). The finding such a cause
makes is the shape's, but for its place and its reach (the rule's own sources): once the shape
has been reported through a whole Cause, the others are stamped from the same template here
(CheckContext.report_stamped), each with the reach basis its Cause would have had. Anything
this lane does not know yet (a shape seen fewer than three times, a range, a finding above
info, related locations) goes the general way.
"""

from __future__ import annotations

from functools import partial

from linter.checks import CheckContext
from linter.checks.causes import known_shape
from linter.findings import Severity


def report_lone(ctx: CheckContext, decider, exposure, transport: str, reach_of, same_kind) -> bool:
    """Report what ``Cause.started(ctx, decider, exposure, transport)`` would have reported (through
    exposure_checks.report_causes, a local cause); True when done here, False when the caller must
    build the Cause (nothing reported then). ``reach_of``: exposure_checks._reach_of;
    ``same_kind``: exposure_checks._same_kind."""
    rule = decider.rule
    if rule is None or exposure.forwarded or exposure.via or len(exposure.deciders) != 1:
        return False  # a policy (a default accept), a DNAT or jump, or other deciders (related locations)
    level, shape = known_shape(ctx, decider, exposure, transport)
    if shape is None or shape.range is not False:
        return False  # not shared yet (Cause.started would not share it), or a range, or not asked yet
    if not shape.services:
        return True  # _report_services says nothing
    internal = level == "internal"
    found = ctx.memo("service findings").get(
        (internal, "", exposure.possible, level, decider.chain, False, rule.comment, rule.verdict.target, shape))
    if found is None or found[2] is None:
        return False  # the shape's first finding, or none stamped yet: made the general way
    finding = found[0]
    if finding is None:
        return True
    if finding[3] is not Severity.INFO:
        return False
    basis = (exposure, level, exposure.interfaces, "", exposure.possible, same_kind(ctx, internal))
    ctx.report_stamped(found[2], decider.span, {"reach": partial(reach_of, basis)})
    return True
