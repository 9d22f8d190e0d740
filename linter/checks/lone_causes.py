"""Causes of one exposure, reported without a Cause each.

An allow-list of 100,000 `-s NET/24 -p tcp --dport 22 -j ACCEPT` rules gives 100,000 causes
(exposure_checks._causes), each one rule's one exposure, and all but a few of one shape
(causes.CauseShape: the same ports, comment, reach level and cap). The finding such a cause
makes is the shape's, but for its place and its reach (the rule's own sources): once the shape
has been reported through a whole Cause, the others are stamped from the same template here
(CheckContext.report_stamped), each with the reach basis its Cause would have had. Anything
this lane does not know yet (a shape seen fewer than three times, a range, a finding above
info, related locations) goes the general way.

Each such cause's shape is learned once (learned_shape: the key its answer depends on, and
whether a cause of it reports nothing at all): _causes leaves the quiet ones out while the
exposure is at hand (an allow-list's 50,000 rules on port 443), unless another exposure of the
same rule comes, and hands the others here with their level and shape.
"""

from __future__ import annotations

from functools import partial

from linter.checks import CheckContext
from linter.checks.causes import known_shape, reports_nothing
from linter.findings import Severity

_SILENT = ()  # a settled shape that reports nothing


def learned_shape(ctx: CheckContext, key: tuple, decider, exposure, transport: str, level: str) -> list:
    """[key, quiet, answer]: the entry of ``ctx.memo("lone shapes")`` for a cause of one exposure
    that _causes makes. ``key``: everything LoneCauses' answer depends on but the rule's place
    and sources; ``quiet``: whether such a cause reports nothing (causes.reports_nothing, a
    function of the shape alone: the key holds all it reads); ``answer``: LoneCauses' settled
    answer, None until settled (kept here, with the key: 50,000 causes hold one entry, and
    none is looked up again by its key)."""
    found = ctx.memo("lone shapes")[key] = [key, reports_nothing(ctx, decider, exposure, transport, level), None]
    return found


def _lone_reach(reach_of, candidates: frozenset, exposure, level: str) -> str:
    """The reach of a cause of one exposure in words: reach_of (exposure_checks._reach_of) of
    what exposure_checks._reach_basis gives for it (an Exposure is frozen: read when worded)."""
    return reach_of((exposure, level, exposure.interfaces, "", exposure.possible, candidates))


class LoneCauses:
    """The lane of one document's report (exposure_checks.report_causes). ``reach_of``:
    exposure_checks._reach_of; ``same_kind``: exposure_checks._same_kind."""

    def __init__(self, ctx: CheckContext, reach_of, same_kind):
        self.ctx, self.reach_of, self.same_kind = ctx, reach_of, same_kind

    def report_all(self, causes: list, general) -> None:
        """Report every cause of ``causes`` in order: a (decider, exposure, transport, level,
        shape) tuple of _causes (``shape``: its learned_shape entry) here when it can (what
        ``Cause.started(ctx, decider, exposure, transport)`` would have reported: a local cause),
        any other cause, and a tuple it leaves, by ``general(cause)``. One stamper is kept per
        answer: an allow-list reports 50,000 causes here."""
        stampers: dict[int, object] = {}  # id(answer) -> its ctx.stamper (the answers live in the shapes)
        reach_of = self.reach_of
        last_answer = report = None  # (causes in a row share their answer: an allow-list's)
        for cause in causes:
            if type(cause) is tuple and len(cause) == 5:
                # Not a policy (a default accept), a DNAT or jump, or other deciders (related
                # locations): _causes sized its level and learned its shape. Only settled answers
                # are kept (the memos they come from never change an entry once it is a shape or
                # a stamp).
                decider, exposure, transport, level, shape = cause
                answer = shape[2]
                if answer is None:
                    answer = shape[2] = self._settle(decider, exposure, transport, level)
                if answer is _SILENT:
                    continue
                if answer is not None:
                    if answer is not last_answer:
                        report = stampers.get(id(answer))
                        if report is None:
                            stamp, candidates = answer
                            report = stampers[id(answer)] = self.ctx.stamper(
                                stamp, "reach", partial(_lone_reach, reach_of, candidates))
                        last_answer = answer
                    # later={"reach": partial(reach_of, (exposure, level, ...))}, as one small tuple
                    report(decider.span, exposure, level)
                    continue
            general(cause)

    def _settle(self, decider, exposure, transport: str, level: str):
        """_SILENT, (stamp, interfaces of the same kind) or None (not settled: the general way)."""
        ctx = self.ctx
        rule = decider.rule
        _, shape = known_shape(ctx, decider, exposure, transport)
        if shape is None or shape.range is not False:
            return None  # not shared yet (Cause.started would not share it), or a range, or not asked yet
        if not shape.services:
            return _SILENT  # _report_services says nothing
        internal = level == "internal"
        found = ctx.memo("service findings").get(
            (internal, "", exposure.possible, level, decider.chain, False, rule.comment, rule.verdict.target, shape))
        if found is None:
            return None  # the shape's first finding: made the general way
        if found[0] is None:
            return _SILENT
        if found[0][3] is not Severity.INFO or found[2] is None:
            return None  # said in full each time, or no finding of the shape stamped yet
        return found[2], self.same_kind(ctx, internal)
