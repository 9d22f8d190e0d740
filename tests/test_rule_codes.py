"""The codes in rules/ are exactly the codes portlint can report: the checks' and the diagnostics'."""

from __future__ import annotations

import re
from pathlib import Path

from linter.checks import load_checks
from linter.diagnostics import DIAGNOSTIC_CODES
from linter.rulebook import all_rules

LINTER = Path(__file__).resolve().parents[1] / "linter"


def _check_codes() -> set[str]:
    return {code for check in load_checks() for code in check.codes}


def test_rules_equal_the_registered_codes():
    registered = _check_codes() | DIAGNOSTIC_CODES
    rules = set(all_rules())
    assert rules - registered == set(), "rules/ documents codes nothing reports"
    assert registered - rules == set(), "codes reported without a rules/PLxxx.yaml"


def test_checks_and_diagnostics_do_not_share_codes():
    assert _check_codes() & DIAGNOSTIC_CODES == set()
    assert all(code.startswith("PL0") for code in DIAGNOSTIC_CODES)
    assert not any(code.startswith("PL0") for code in _check_codes())


def test_every_diagnostic_code_in_the_code_is_registered():
    """A "PL0xx" literal anywhere outside the checks is a diagnostic some code emits."""
    used = set()
    for path in LINTER.rglob("*.py"):
        if "checks" in path.relative_to(LINTER).parts:
            continue
        used |= set(re.findall(r"[\"'](PL0\d\d)[\"']", path.read_text()))
    assert used - DIAGNOSTIC_CODES == set()
    assert len(used) >= 20
