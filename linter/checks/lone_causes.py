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

from linter.checks import CheckContext
from linter.checks.causes import known_shape, level_of_size, reach_level
from linter.findings import Severity

_SILENT = ()  # a settled shape that reports nothing


class LoneCauses:
    """The lane of one document's report (exposure_checks.report_causes). ``reach_of``:
    exposure_checks._reach_of; ``same_kind``: exposure_checks._same_kind."""

    def __init__(self, ctx: CheckContext, reach_of, same_kind):
        self.ctx, self.reach_of, self.same_kind = ctx, reach_of, same_kind
        self.settled = ctx.memo("lone causes")

    def report_all(self, causes: list, general) -> None:
        """Report every cause of ``causes`` in order: a (decider, exposure, transport) tuple
        here when it can (what ``Cause.started(ctx, *cause)`` would have reported: a local
        cause), any other, and a tuple it leaves, by ``general(cause)``. The lookups are made
        once and one stamper kept per answer: an allow-list reports 100,000 causes here."""
        settled = self.settled
        get = settled.get
        stampers: dict[int, object] = {}  # id(stamp) -> its ctx.stamper (the stamps live in ``settled``)
        reach_of = self.reach_of

        def reach_words(*basis) -> str:
            return reach_of(basis)

        last_span = last_family = last_level = None  # level_of_size's last question and answer
        for cause in causes:
            if type(cause) is tuple:
                decider, exposure, transport = cause
                rule = decider.rule
                # Not a policy (a default accept), a DNAT or jump, or other deciders (related locations).
                if rule is not None and not exposure.forwarded and not exposure.via and len(exposure.deciders) == 1:
                    # reach_level, its one-range case written out
                    if exposure.reach == "restricted":
                        sources = exposure.sources
                        if len(sources) == 1:
                            lo, hi = sources[0]
                            # (asked again only when the size or family changes: an allow-list's /24s)
                            if hi - lo != last_span or exposure.family is not last_family:
                                last_span, last_family = hi - lo, exposure.family
                                last_level = level_of_size(hi - lo + 1, last_family)
                            level = last_level
                        else:
                            level = reach_level(exposure)
                    else:
                        level = reach_level(exposure)
                    # Everything the answer depends on but the rule's place and sources: what
                    # causes._shape_key and _cap read, and what _report_services adds to it. Only
                    # settled answers are kept (the memos they come from never change an entry
                    # once it is a shape or a stamp).
                    possible = exposure.possible
                    key = (exposure.ports, exposure.nat_ports, transport, rule.comment, level, possible,
                           exposure.conditions, decider.chain, rule.verdict.target)
                    answer = get(key)
                    if answer is None:
                        answer = self._settle(decider, exposure, transport, level)
                        if answer is not None:
                            settled[key] = answer
                    if answer is _SILENT:
                        continue
                    if answer is not None:
                        stamp, candidates = answer
                        report = stampers.get(id(stamp))
                        if report is None:
                            report = stampers[id(stamp)] = self.ctx.stamper(stamp, "reach", reach_words)
                        # later={"reach": partial(reach_of, (exposure, level, ...))}, one partial made
                        report(decider.span, exposure, level, exposure.interfaces, "", possible, candidates)
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
