"""What a diff is made of: one opened or closed part of the accepted space."""

from __future__ import annotations

from dataclasses import dataclass

from linter.engine.exposure import Decider, Exposure
from linter.findings import Severity


@dataclass(frozen=True)
class Change:
    """A part of the space that one side accepts and the other does not.

    ``exposure`` carries the part (family, protocol, reach, ports, sources, interfaces) on the
    side that accepts it; ``before``/``after`` are the rules that decide it on each side (the
    accepting rule on one side, the rule or policy that drops it on the other; None when
    nothing could be found, e.g. a family the other side has no rules for)."""

    kind: str  # "opened" or "closed"
    exposure: Exposure
    services: tuple[str, ...]
    severity: Severity
    before: tuple[Decider, ...]
    after: tuple[Decider, ...]
    code: str = ""  # the rule a check reports this exposure with (PL101, PL201, PL202, PL210, PL401)


@dataclass(frozen=True)
class Diff:
    """Everything one change opens and closes, opened first, worst first."""

    opened: tuple[Change, ...]
    closed: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.opened and not self.closed
