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
from linter.engine.walk import step  # noqa: E402
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


def _one_by_one(members, template, walker, results) -> None:
    """What replay._replay_all gives, one extend_path call per step and assumption."""
    from linter.engine.replay import _same
    from linter.engine.space import Box
    from linter.engine.walk import apply_nat
    for member in members:
        for done, outcome, nat, steps, conditions in template:
            trail = member.trail
            for identity, s in steps:
                trail = extend_path(trail, identity, _same, s)
            assumptions = member.assumptions
            for identity, a in conditions:
                assumptions = extend_path(assumptions, identity, _same, a)
            box = Box(done.family, done.proto, member.sport, member.dport, member.src, member.dst, done.iif,
                      done.state, member.local, member.nat_dst, member.nat_dport, done.oif, done.mark, done.ctmark,
                      assumptions, trail)
            results.append((apply_nat(box, nat, walker.routing) if nat is not None else box, outcome))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("held", [True, False])
def test_a_replay_of_members_sharing_paths_makes_what_extend_path_makes(seed, held):
    """Members sharing trails and assumptions (in random order, some twice) replayed through a
    template of several outcomes with steps and assumptions: the same boxes, sharing the same
    path objects, and the same path cache afterwards, as one extend_path call per step."""
    import random
    from linter.engine.replay import _replay_all
    from linter.engine.space import Assumption
    rng = random.Random(seed)
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    walker = _walker(document)
    boxes = _boxes(table, chain, 12, nat=True)
    rule = chain.rules[0]
    facts = [Assumption(rule, rule.matches[0] if rule.matches else None, matched) for matched in (True, False)]
    members = []
    for _ in range(40):
        box = rng.choice(boxes)
        if rng.random() < 0.5:
            box = box._replace(assumptions=(rng.choice(facts),))
        members.append(box._replace(proto=((rng.choice((6, 17)),) * 2,)))
    done = boxes[0]._replace(trail=(), assumptions=())
    steps = [step((), "rule", table, chain, r) for r in chain.rules[:3]]
    template = [(done, outcome, None, tuple(((i, "s"), s[0]) for i, s in enumerate(chosen)),
                 tuple(((i, "a"), a) for i, a in enumerate(assumed)))
                for outcome, chosen, assumed in [
                    ("accept", steps[:2], facts[:1]), ("drop", steps[:2], ()), ("return", (), facts),
                    ("accept", steps, ())]]
    runs = []
    for make in (_one_by_one, _replay_all):
        forget_paths()
        hold_paths(held)
        made: list = []
        make(members, template, walker, made)
        # (the cache by value: its keys hold the ids of paths made anew in each run)
        runs.append((made, sorted(((value[0], key[1], value[1]) for key, value in space._PATHS.items()), key=repr)))
        hold_paths(False)
    (expected, cache_expected), (got, cache_got) = runs
    assert got == expected
    assert _partition(got) == _partition(expected)
    assert _assumption_partition(got) == _assumption_partition(expected)
    assert cache_got == cache_expected


def _assumption_partition(results) -> list[int]:
    first: dict[int, int] = {}
    return [first.setdefault(id(box.assumptions), index) for index, (box, _) in enumerate(results)]
