"""Small helpers for engine tests: parse iptables-save text, trace flows, list findings."""

from __future__ import annotations

from linter.checks import Settings
from linter.engine.exposure import ExposureAnalysis
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.iptables.save import parse
from linter.pipeline import run_checks
from linter.source import SourceFile


def ruleset(text: str, path: str = "test.rules"):
    result = parse(SourceFile(path, text))
    assert result.document is not None
    serious = [d for d in result.diagnostics if d.code not in ("PL013", "PL015")]
    assert not serious, serious
    return result.document


def verdict(rules, **flow) -> str:
    flow.setdefault("iface", "eth0")
    return trace_flow(make_flow(**flow), [rules]).verdict


def findings(text: str, codes=None):
    """(code, line, ports) of every finding, sorted; only ``codes`` when given."""
    document = ruleset(text)
    found = run_checks(document, Settings())
    return sorted((f.code, f.line, f.ports) for f in found if codes is None or f.code in codes)


def findings_full(text: str):
    """Every Finding of ``text``, in (line, code) order."""
    return sorted(run_checks(ruleset(text), Settings()), key=lambda f: (f.line, f.code))


def exposure(text: str):
    return ExposureAnalysis([ruleset(text)]).exposures()
