"""Which boxes share a path object (coalesce merges only boxes of one path) depends on their
own paths, not on the path cache's history: a base chain's walk begins with an empty cache
(engine/paths.py), and walk_many's replays run with the cache held whole (engine/replay.py),
so holding some boxes back from a batch cannot change which of the others share a path."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import space  # noqa: E402
from linter.engine.paths import PathEvaluator  # noqa: E402
from linter.engine.replay import MIN_BOXES, walk_many  # noqa: E402
from linter.engine.space import extend_path, forget_paths, hold_paths  # noqa: E402
from linter.engine.universe import routed_boxes  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_replay import FORWARD, _boxes, _chain, _walker  # noqa: E402


def _partition(results) -> list[tuple[int, ...]]:
    """Which results share their trail object: for each result, the first result holding the
    same object."""
    first: dict[int, int] = {}
    return [first.setdefault(id(box.trail), index) for index, (box, _) in enumerate(results)]


def _batch(table, chain, pairs_every: int = 1):
    """Boxes with a path each, and every ``pairs_every``-th box twinned: the same path object,
    another protocol and source (two dimensions apart, so coalesce keeps both)."""
    boxes = _boxes(table, chain, 2 * MIN_BOXES, nat=True)[:-1]  # (without the straddling box)
    twins = [box._replace(proto=((17, 17),), src=((1, 1),)) for box in boxes[::pairs_every]]
    return boxes + twins


def test_replays_share_a_path_whatever_the_cache_size(monkeypatch):
    """With a cache emptied at every new entry, boxes of one path still share the path their
    replay extends: the replays run with the cache held."""
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    boxes = _batch(table, chain)
    forget_paths()
    expected = walk_many(_walker(document), table, chain, list(boxes))
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 0)
    forget_paths()
    got = walk_many(_walker(document), table, chain, list(boxes))
    assert got == expected
    assert _partition(got) == _partition(expected)
    shared = sum(1 for index, first in enumerate(_partition(got)) if first != index)
    assert shared == 2 * MIN_BOXES  # each twin shares its box's path


def test_replays_of_other_boxes_do_not_change_which_boxes_share_a_path(monkeypatch):
    """The boxes of a batch come out alike, values and shared paths, whether or not boxes of
    other paths (the same kinds: in the same groups, counted in them) were replayed among them:
    what holding boxes back from a batch relies on."""
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    boxes = _batch(table, chain, pairs_every=3)
    others = [box._replace(trail=box.trail + ("other",)) for box in boxes]  # paths of their own
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 40)  # emptied several times by the others' replays
    forget_paths()
    alone = walk_many(_walker(document), table, chain, list(boxes))
    forget_paths()
    mixed = walk_many(_walker(document), table, chain, [b for pair in zip(boxes, others) for b in pair])
    mine = [(box, outcome) for box, outcome in mixed if "other" not in box.trail]
    assert sorted(mine, key=repr) == sorted(alone, key=repr)
    by_value = {repr(pair): index for index, pair in enumerate(sorted(alone, key=repr))}
    assert sorted(_partition_by(alone, by_value)) == sorted(_partition_by(mine, by_value))


def _partition_by(results, number_of) -> list[tuple[int, ...]]:
    """The groups of results sharing a trail object, each named by its results' numbers."""
    groups: dict[int, list[int]] = {}
    for pair in results:
        groups.setdefault(id(pair[0].trail), []).append(number_of[repr(pair)])
    return [tuple(sorted(members)) for members in groups.values()]


def test_a_hold_keeps_the_cache_and_its_end_empties_it_if_full(monkeypatch):
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 2)
    forget_paths()
    hold_paths(True)
    paths = [extend_path((), ("step", n), lambda n: n, n) for n in range(5)]
    assert [extend_path((), ("step", n), lambda n: -1, n) for n in range(5)] == paths  # all still there
    hold_paths(False)
    assert extend_path((), ("step", 0), lambda n: "new", 0) == ("new",)  # emptied at the end
    forget_paths()


def test_a_base_chains_walk_begins_with_an_empty_cache(monkeypatch):
    """What earlier walks left in the cache (here: a cache one entry short of full, which would
    be emptied in the middle of the walk) changes nothing in what a walk gives, objects shared
    included."""
    document = ruleset(FORWARD)
    boxes = routed_boxes(Family.IPV4, frozenset({"eth0"}))

    def evaluate():
        results = PathEvaluator([document]).evaluate_routed(list(boxes))
        return [(r.box, r.verdict) for r in results]

    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 6)
    forget_paths()
    clean = evaluate()
    forget_paths()
    left_over = ("left", "over")
    junk = [extend_path(left_over, ("junk", n), lambda n: n, n) for n in range(6)]
    after_junk = evaluate()
    assert after_junk == clean
    assert _partition(after_junk) == _partition(clean)
    # Nothing left over is found again, even in a cache far from full: the walk emptied it
    # before its first step.
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 50_000)
    junk = [extend_path(left_over, ("junk", n), lambda n: n, n) for n in range(6)]
    evaluate()
    assert all(extend_path(left_over, ("junk", n), lambda n: n, n) is not junk[n] for n in range(6))
    forget_paths()


def test_a_hold_left_by_a_file_that_raised_ends_before_the_next_file(monkeypatch):
    from linter.engine import memo

    monkeypatch.setattr(space, "PATH_CACHE_SIZE", 2)
    hold_paths(True)  # as a walk that raised in the middle of its replays leaves it
    memo.forget_every_file()
    first = extend_path((), ("step", 0), lambda n: n, 0)
    for n in range(1, 5):
        extend_path((), ("step", n), lambda n: n, n)
    assert extend_path((), ("step", 0), lambda n: "new", 0) is not first  # the cache is bounded again
    forget_paths()


def test_an_evaluation_ends_with_an_empty_cache(monkeypatch):
    """The walk's paths go with it (PathEvaluator.evaluate): kept, an allow-list's 50,000 paths
    stayed to the end of the run, and the next base chain's walk empties the cache anyway."""
    from linter.engine import paths
    from linter.engine.universe import initial_boxes

    document = ruleset("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                       "-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp --dport 80 -j ACCEPT\n"
                       "COMMIT\n")
    sizes = []
    monkeypatch.setattr(paths, "forget_paths", lambda: (sizes.append(len(space._PATHS)), forget_paths()))
    results = PathEvaluator([document]).evaluate(initial_boxes(Family.IPV4, frozenset({"eth0"})))
    assert any(result.box.trail for result in results)
    assert sizes[-1] > 0  # the walk's paths, let go when the evaluation ended
    assert not space._PATHS and not space._HOLDING[0]
