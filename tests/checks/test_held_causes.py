"""The checks never build a held exposure's public sources (engine/held_exposure.py) just to
sort its cause: they are built again at each read, and ufw 100k's 40,000 held exposures took
the run from 31 s to 72 s and its peak over 500 MB when exposure_checks._causes sized the reach of
each rule's first exposure. A held exposure's cause goes the general way (Cause), which reads
what it needs of them."""

from __future__ import annotations

from linter.checks import Settings
from linter.engine import held_exposure
from linter.pipeline import read_document, run_checks
from tests.engine.test_held_sources import _user_rules


def test_the_causes_of_held_exposures_are_found_without_building_their_sources(monkeypatch, tmp_path):
    path = tmp_path / "held.rules"
    path.write_text(_user_rules(450))
    result = read_document(str(path))
    built = []
    sources = held_exposure.HeldExposure.sources
    monkeypatch.setattr(held_exposure.HeldExposure, "sources",
                        property(lambda exposure: built.append(exposure) or sources.fget(exposure)))
    findings = run_checks(result.document, Settings(), result.source)  # (the exposures are made in here)
    assert len(findings) == 155
    assert built == []
