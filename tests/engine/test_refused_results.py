"""A drop or reject the walk decides is kept as a RefusedResult (engine/paths.py): a template
box shared by the results alike and five fields of its own. Read back, its box is the box the
walk decided, every field the very object, and an analysis gives the same results, findings
and exposures with the compact results as without."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.engine import paths as paths_module
from linter.engine.exposure import ExposureAnalysis
from linter.engine.paths import RefusedResult, decided, refused
from linter.engine.space import Box
from linter.engine.walk import Outcome
from linter.model import Family
from linter.pipeline import read_document

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(str(path) for path in (ROOT / "samples").glob("*.rules"))


def _box(**changes) -> Box:
    fields = dict(family=Family.IPV4, proto=((6, 6),), sport=((0, 65535),), dport=((22, 22),),
                  src=((1, 9),), dst=((5, 5),), iif=frozenset({"eth0"}), state=frozenset({"new"}))
    fields.update(changes)
    return Box(**fields)


def test_a_refused_box_reads_back_as_the_very_fields():
    templates: dict = {}
    box = _box(trail=("a step",), mark=0x4000, assumptions=("assumed",))
    made = refused(box, Outcome.DROP, True, templates)
    assert type(made) is RefusedResult and made.verdict is Outcome.DROP and made.forwarded and not made.routed
    assert made.deferred is None
    built = made.box
    assert type(built) is Box and built == box
    assert all(a is b for a, b in zip(built, box))
    # Another box with the same shared objects but other ports and sources: one template.
    other = box._replace(dport=((80, 80),), src=((3, 3),), trail=("another step",))
    again = refused(other, Outcome.REJECT, False, templates)
    assert len(templates) == 1 and all(a is b for a, b in zip(again.box, other))
    # Equal but not the same protocol object: a template of its own (objects kept as they were).
    third = box._replace(proto=tuple([(6, 6)]))
    assert all(a is b for a, b in zip(refused(third, Outcome.DROP, False, templates).box, third))
    assert len(templates) == 2


def test_off_gives_plain_results(monkeypatch):
    monkeypatch.setattr(paths_module, "COMPACT_REFUSED", False)
    made = refused(_box(), Outcome.DROP, False, {})
    assert type(made) is type(decided(_box(), Outcome.DROP, False))


def _results(path: str, compact: bool, monkeypatch) -> tuple:
    monkeypatch.setattr(paths_module, "COMPACT_REFUSED", compact)
    document = read_document(path).document
    analysis = ExposureAnalysis([document])
    results = [(r.box, r.verdict, r.forwarded, r.routed, type(r).__name__) for family in analysis.families()
               for r in analysis.results(family)]
    return results, analysis.exposures()


@pytest.mark.parametrize("path", SAMPLES)
def test_samples_give_the_same_results_either_way(path, monkeypatch):
    compact, compact_exposures = _results(path, True, monkeypatch)
    plain, plain_exposures = _results(path, False, monkeypatch)
    assert [r[:4] for r in compact] == [r[:4] for r in plain]
    assert compact_exposures == plain_exposures
    refusing = [r for r in compact if r[1] is not Outcome.ACCEPT and r[4] == "Result"]
    assert not refusing  # every plain drop and reject is compact


def test_some_sample_has_refused_results(monkeypatch):
    assert any(r[4] == "RefusedResult" for path in SAMPLES for r in _results(path, True, monkeypatch)[0])
