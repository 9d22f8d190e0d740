"""engine/heap.py gives free heap pages back after a large walk only, and never fails."""

from __future__ import annotations

from linter.engine import heap


def test_a_small_walk_gives_nothing_back(monkeypatch):
    called = []
    monkeypatch.setattr(heap, "_TRIM", [lambda pad: called.append(pad)])
    heap.give_back(heap.TRIM_AT_LEAST - 1)
    assert not called
    heap.give_back(heap.TRIM_AT_LEAST)
    assert called == [0]


def test_without_malloc_trim_nothing_is_done(monkeypatch):
    monkeypatch.setattr(heap, "_TRIM", [None])
    heap.give_back(10**6)


def test_the_real_lookup_runs(monkeypatch):
    monkeypatch.setattr(heap, "_TRIM", [])
    heap.give_back(10**6)
    assert len(heap._TRIM) == 1
