"""HeldCuts.cut_lone (a source drop meeting one held box and short pieces, the pieces' bounds
merged once per list: lone_of, lone_grown) gives what cut_by_source gives: the same part, the
same holes noted, the boxes going on the very same, in their order; and held runs walked with
it give what they give without it, result by result."""

from __future__ import annotations

import random

import pytest

from linter.engine import heldcuts, heldrun, intervals as iv
from linter.engine.heldcuts import HeldCuts, lone_grown, lone_of, lone_shape
from linter.engine.space import Box, with_src
from linter.model import Family
from tests.engine.test_heldcuts_pieces import EVERYWHERE, _box, _wanted


def _piece(rnd: random.Random, family: Family = Family.IPV4) -> Box:
    """A short box: a few ranges somewhere (now and then none, or of the other family)."""
    low = rnd.randint(0, 2**16)
    src = iv.normalize((lo, lo + rnd.randint(0, 40)) for lo in (low + rnd.randint(0, 3000) for _ in range(rnd.randint(0, 3))))
    fam = family if rnd.random() < 0.9 else Family.IPV6
    return Box(fam, ((6, 6),), ((0, 65535),), ((22, 22),), src, EVERYWHERE,
               frozenset({"eth0"}), frozenset({"new"}), trail=("piece",))


def _boxes(rnd: random.Random) -> tuple[HeldCuts, list[Box]]:
    """One held box (a hole or two already) among a few pieces, in some order."""
    box = _box(rnd)
    held = HeldCuts()
    lo, hi = box.src[rnd.randrange(len(box.src))]
    held.adopt(box, [(lo, lo)] if rnd.random() < 0.7 else [])
    boxes = [_piece(rnd) for _ in range(rnd.randint(0, 6))]
    boxes.insert(rnd.randint(0, len(boxes)), box)
    return held, boxes


def _copy(held: HeldCuts) -> HeldCuts:
    twin = HeldCuts()
    for box, holes in held.values():
        twin.adopt(box, list(holes))
    return twin


@pytest.mark.parametrize("seed", range(8))
def test_lone_cuts_give_what_cut_by_source_gives(seed):
    rnd = random.Random(seed)
    taken = declined = 0
    for _ in range(30):
        held, boxes = _boxes(rnd)
        lone = next(box for box in boxes if id(box) in held)
        shape = lone_shape(held, boxes)
        assert shape is not None and shape[0] is lone
        earlier: list = []
        for _ in range(40):
            if rnd.random() < 0.15:
                key = (Family.IPV4, iv.normalize([_wanted(rnd, lone.src, earlier)[0], _wanted(rnd, lone.src, earlier)[0]]))
            else:
                key = (Family.IPV4 if rnd.random() < 0.95 else Family.IPV6, _wanted(rnd, lone.src, earlier))
            earlier.extend(key[1])
            twin = _copy(held)
            inside, going_on = twin.cut_by_source(key, boxes)
            part = held.cut_lone(shape, key)
            if part is None:
                declined += 1
                assert {k: (b, list(h)) for k, (b, h) in held.items()} == \
                    {k: (b, list(h)) for k, (b, h) in _copy(held).items()}  # (nothing done)
                if len(going_on) != len(boxes) or any(a is not b for a, b in zip(going_on, boxes)):
                    break  # (the general way changed the boxes: this list is done)
                held = twin
                continue
            taken += 1
            assert len(going_on) == len(boxes) and all(a is b for a, b in zip(going_on, boxes))
            assert inside == ([with_src(lone, part)] if part else [])
            assert {k: list(h) for k, (b, h) in held.items()} == {k: list(h) for k, (b, h) in twin.items()}
    assert taken > 150 and declined > 20


@pytest.mark.parametrize("seed", range(4))
def test_a_grown_list_keeps_the_shape_made_again(seed):
    rnd = random.Random(seed)
    for _ in range(40):
        held, boxes = _boxes(rnd)
        assert lone_of(held, boxes) == lone_shape(held, boxes)
        grown = boxes + [_piece(rnd) for _ in range(rnd.randint(0, 4))]
        lone_grown(held, boxes, grown)
        assert lone_of(held, grown) == lone_shape(held, grown)
        assert heldcuts._LONE[0] is grown
        # (a list changed in place is not taken for what it was)
        grown[0] = _piece(rnd)
        assert lone_of(held, grown) == lone_shape(held, grown)
    heldcuts.forget_lone()


@pytest.mark.parametrize("seed", range(4))
def test_held_runs_with_and_without_lone_cuts_walk_alike(monkeypatch, seed):
    from tests.engine.test_heldcuts import mixed_rules
    from tests.engine.test_heldjumps import _walked, varied_rules
    from tests.engine.test_heldchain import short_chains
    monkeypatch.setattr(heldcuts, "LONG", 8)
    calls = {"lone": 0}
    real = HeldCuts.cut_lone

    def counting(self, shape, key):
        part = real(self, shape, key)
        calls["lone"] += part is not None
        return part
    for text in (short_chains(seed), mixed_rules(seed, 400), varied_rules(seed, 300)):
        monkeypatch.setattr(HeldCuts, "cut_lone", counting)
        lane = _walked(text, Family.IPV4)
        monkeypatch.setattr(HeldCuts, "cut_lone", lambda self, shape, key: None)
        assert _walked(text, Family.IPV4) == lane
        monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
        assert _walked(text, Family.IPV4) == lane
        monkeypatch.undo()
        monkeypatch.setattr(heldcuts, "LONG", 8)
    assert calls["lone"] > 10


@pytest.mark.parametrize("seed", range(6))
def test_holes_settled_by_bisecting_starts_as_without_inside(seed):
    rnd = random.Random(seed)
    for _ in range(60):
        src = _box(rnd).src
        holes = []
        for index in sorted(rnd.sample(range(len(src)), rnd.randint(0, min(len(src), 90)))):
            lo, hi = src[index]
            at = lo
            while at <= hi and rnd.random() < 0.8:  # (one hole or several in a range, or none)
                hole_lo = rnd.randint(at, hi)
                hole_hi = rnd.randint(hole_lo, min(hi, hole_lo + 3))
                holes.append((hole_lo, hole_hi))
                at = hole_hi + 2
        starts = [piece[0] for piece in src]
        assert heldcuts._without_holes(src, holes, starts) == iv.without_inside(src, holes)
        box = _box(rnd)
        held = HeldCuts()
        held.adopt(box, [box.src[0]] if rnd.random() < 0.5 else [(box.src[-1][1], box.src[-1][1])])
        heldcuts._in_range(box.src, 0, 5, ((0, 5),))  # (twice: its starts are made)
        heldcuts._in_range(box.src, 0, 5, ((0, 5),))
        assert heldcuts._STARTS[0] is box.src and heldcuts._STARTS[1] is not None
        expected = with_src(box, iv.without_inside(box.src, list(held.holes_of(box))))
        assert held.settle([box]) == [expected]


@pytest.mark.parametrize("seed", range(4))
def test_every_lone_lane_walks_as_the_general_path(monkeypatch, seed):
    """The lone lane of each caller (held_run, heldchain.walk_carried for chains carried into,
    heldchain.apply_by_source for Walker._apply_held) is taken, and the walk equals the one
    where cut_lone always declines (cut_by_source everywhere), result by result."""
    import sys

    from linter.engine import heldchain
    from tests.engine.test_heldcuts import mixed_rules
    from tests.engine.test_heldjumps import _walked, varied_rules
    from tests.engine.test_heldchain import short_chains
    callers: dict[str, int] = {}
    real = heldchain.decide_lone

    def counting(*args):
        done = real(*args)
        if done:
            name = sys._getframe(1).f_code.co_name
            callers[name] = callers.get(name, 0) + 1
        return done
    for text in (short_chains(seed), mixed_rules(seed, 400), varied_rules(seed, 300)):
        for long, runs in ((8, True), (2, True), (8, False)):
            monkeypatch.setattr(heldcuts, "LONG", long)
            monkeypatch.setattr(heldchain, "decide_lone", counting)
            if not runs:  # (without held runs, the walker's own loop meets the drops: _apply_held)
                monkeypatch.setattr(heldrun, "held_run", lambda *args: None)
            lane = _walked(text, Family.IPV4)
            monkeypatch.setattr(HeldCuts, "cut_lone", lambda self, shape, key: None)
            assert _walked(text, Family.IPV4) == lane
            monkeypatch.undo()
    assert callers.get("held_run", 0) > 10
    assert callers.get("walk_carried", 0) > 3
    assert callers.get("apply_by_source", 0) > 3
