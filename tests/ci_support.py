"""Helpers for the CI-gate tests: findings made by hand and a stand-in front end.

The stand-in reads any text: every ``--dprot`` (a misspelt --dport) is a PL012
unknown-option diagnostic at its line and column, and the document is a filter
table whose base chains drop everything, so the checks run and find nothing else. It lets the gate (configuration,
suppressions, baseline, reporters, exit codes) be tested end to end without depending
on the real front ends.
"""

from __future__ import annotations

from linter.diagnostics import Diagnostic
from linter.findings import Finding
from linter.frontends import ParseResult
from linter.model import Chain, Family, Hook, Policy, Ruleset, Span, Table
from linter.rulebook import all_rules

TYPO = "--dprot"


def finding(code: str = "PL101", path: str = "fw/rules.v4", line: int = 3, column: int = 1, message: str | None = None,
            **fields) -> Finding:
    meta = all_rules()[code]
    values = dict(code=code, name=meta.name, severity=meta.severity, category=meta.category, path=path, line=line,
                  column=column, message=f"{meta.name} at {path}" if message is None else message,
                  key=f"{code}-key")
    values.update(fields)
    return Finding(**values)


def parse(source) -> ParseResult:
    diagnostics = []
    for number, text in enumerate(source.lines, start=1):
        at = text.find(TYPO)
        if at >= 0:
            diagnostics.append(Diagnostic("PL012", f"Unknown option {TYPO}",
                                          Span(source.path, number, at + 1, number, at + 1 + len(TYPO)),
                                          hint="Did you mean --dport?"))
    span = Span(source.path, 1, 1)
    chains = tuple(Chain(hook.name, (), span, hook=hook, type="filter", priority=0, policy=Policy.DROP)
                   for hook in (Hook.INPUT, Hook.FORWARD, Hook.OUTPUT))
    table = Table("filter", Family.IPV4, chains, span)
    return ParseResult(Ruleset(source.path, "iptables-save", Family.IPV4, (table,)), diagnostics)


def use_stand_in(monkeypatch) -> None:
    """Read every iptables-save input with the stand-in front end."""
    from linter import frontends

    monkeypatch.setitem(frontends.FRONT_ENDS, "iptables-save", "ci_support")


def real_iptables_front_end() -> bool:
    try:
        import linter.frontends.iptables.save  # noqa: F401
    except ImportError:
        return False
    return True
