"""The walk's results let go once read (ExposureAnalysis.let_go_results, CheckContext.walk_read):
the summary stays, a later reader of the results fails loudly, and findings do not change."""

import pytest

from linter.checks import CheckContext, Settings
from linter.engine.exposure import ExposureAnalysis
from linter.model import Family
from tests.engine.helpers import findings_full, ruleset

RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp --dport 5432 -j ACCEPT
-A INPUT -s 1.2.3.4 -p tcp --dport 22 -j ACCEPT
-A FORWARD -p tcp --dport 80 -j ACCEPT
COMMIT
"""


def test_let_go_keeps_the_summary_and_refuses_a_later_read():
    analysis = ExposureAnalysis([ruleset(RULES)])
    before = analysis.exposures()
    assert analysis.results(Family.IPV4)
    analysis.let_go_results()
    assert analysis.exposures() == before
    with pytest.raises(RuntimeError):
        analysis.results(Family.IPV4)


def test_let_go_before_the_summary_lets_nothing_go():
    analysis = ExposureAnalysis([ruleset(RULES)])
    analysis.let_go_results()
    fresh = ExposureAnalysis([ruleset(RULES)]).exposures()
    assert analysis.exposures() == fresh


def test_walk_read_lets_the_context_analysis_go():
    ctx = CheckContext(ruleset(RULES), Settings())
    summary = ctx.exposure.exposures()
    ctx.walk_read()
    assert ctx.exposure._results is None
    assert ctx.exposure.exposures() == summary


def test_findings_are_the_same_with_the_dead_rule_check_letting_go(monkeypatch):
    with_let_go = [(f.code, f.line, f.message) for f in findings_full(RULES)]
    monkeypatch.setattr(CheckContext, "walk_read", lambda self: None)
    without = [(f.code, f.line, f.message) for f in findings_full(RULES)]
    assert with_let_go == without
    assert [(code, line) for code, line, _ in with_let_go] == [("PL201", 4), ("PL402", 6)]
