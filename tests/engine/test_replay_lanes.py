"""engine/replay.py's and engine/template_made.py's loops written out: ``Plan.key`` with each
atom found in place gives what ``_atom`` gives; ``_replay_all`` handing returned boxes back
on their own gives what filtering its results gives; a replay built straight (no path cache
emptied in its middle) gives what the lazy build gives, whatever the cache holds."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import space  # noqa: E402
from linter.engine.replay import Plan, _atom, _replay_all  # noqa: E402
from linter.engine.space import Box, forget_paths, hold_paths  # noqa: E402
from linter.engine.walk import Outcome, step  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_replay import FORWARD, _boxes, _chain, _walker  # noqa: E402


def _key_by_atoms(plan: Plan, box) -> tuple | None:
    """Plan.key as it was written before: every atom by _atom, then None if any spans two."""
    family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif, mark, ctmark, _, _ = box
    src = _atom(plan.sources, src)
    sport = _atom(plan.sports, sport)
    if nat_dst is None:
        nat_dst, dst = -2, _atom(plan.addresses, dst)
    else:
        nat_dst = _atom(plan.addresses, nat_dst)
        dst = _atom(plan.addresses, dst) if plan.originals else -3
    if nat_dport is None:
        nat_dport, dport = -2, _atom(plan.dports, dport)
    else:
        nat_dport = _atom(plan.dports, nat_dport)
        dport = _atom(plan.dports, dport) if plan.originals else -3
    if -1 in (src, dst, dport, sport, nat_dst, nat_dport):
        return None
    return (src, dst, dport, sport, nat_dst, nat_dport, id(family), proto, iif, state, local, oif, mark, ctmark)


def _ranges(rng: random.Random, top: int):
    """A range list: none, empty, or one to three sorted ranges below ``top``."""
    pick = rng.random()
    if pick < 0.1:
        return None
    if pick < 0.2:
        return ()
    points = sorted(rng.sample(range(top), 2 * rng.randint(1, 3)))
    return tuple((points[i], points[i + 1]) for i in range(0, len(points), 2))


@pytest.mark.parametrize("seed", range(8))
def test_a_key_with_its_atoms_written_out_is_the_key_by_atoms(seed):
    rng = random.Random(seed)
    for _ in range(60):
        bounds = [sorted(set(rng.sample(range(1, 60), rng.randrange(5)))) for _ in range(4)]
        plan = Plan(bounds[0], bounds[1], bounds[2], bounds[3], rng.random() < 0.5)
        for _ in range(40):
            box = Box(Family.IPV4, ((6, 6),), _ranges(rng, 64), _ranges(rng, 64), _ranges(rng, 64),
                      _ranges(rng, 64), frozenset({"eth0"}), frozenset({"new"}), local=rng.random() < 0.5,
                      nat_dst=_ranges(rng, 64) if rng.random() < 0.5 else None,
                      nat_dport=_ranges(rng, 64) if rng.random() < 0.5 else None, mark=rng.choice((0, 0x4000)))
            assert plan.key(box) == _key_by_atoms(plan, box)


@pytest.mark.parametrize("seed", range(4))
def test_returned_boxes_handed_back_on_their_own_are_what_filtering_gives(seed):
    rng = random.Random(seed)
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    walker = _walker(document)
    boxes = _boxes(table, chain, 12, nat=True)
    members = [rng.choice(boxes) for _ in range(30)]
    done = boxes[0]._replace(trail=(), assumptions=())
    steps = [step((), "rule", table, chain, r) for r in chain.rules[:2]]
    outcomes = [Outcome.ACCEPT, Outcome.RETURN, rng.choice((Outcome.ACCEPT, Outcome.RETURN, Outcome.DROP))]
    rng.shuffle(outcomes)
    template = [(done, outcome, None, tuple(((i, "s"), s[0]) for i, s in enumerate(steps[:n])), ())
                for n, outcome in enumerate(outcomes)]
    runs = []
    for split in (False, True):
        forget_paths()
        hold_paths(True)
        results: list = []
        returned: list = []
        if split:
            _replay_all(members, template, walker, results, returned)
        else:
            _replay_all(members, template, walker, results)
            returned = [box for box, outcome in results if outcome is Outcome.RETURN]
            results = [pair for pair in results if pair[1] is not Outcome.RETURN]
        hold_paths(False)
        runs.append((results, returned))
    assert runs[0] == runs[1]
    assert runs[0][0] and runs[0][1]


def test_a_replay_with_the_cache_near_full_makes_what_one_call_per_step_makes(monkeypatch):
    """The path cache holding a little less or more than a replay's nodes leave room for: the
    straight build (room enough) and the lazy one (not) each give what extend_path gives."""
    from tests.engine.test_shapewalk import SERVICES, _box, _kube
    from tests.engine.test_template_made import _one_by_one, _replays, _sharing
    from linter.engine.template_made import made_all
    document = ruleset(_kube(SERVICES * 3))
    calls = _replays(monkeypatch, document, [_box()])
    for (template, walker, table, subtree, boxes, values), room in (
            (call, room) for call in calls[-4:] for room in (-3, -2, -1, 0, 1, 2, 10)):
        compiled = template.compiled
        trees = compiled[3]
        nodes = len(trees[0][0]) + len(trees[1][0])
        items = [item for item, _ in template.results] + list(template.back)
        for held in range(40):
            space._PATHS[("held", held)] = ((), ())
        monkeypatch.setattr(space, "PATH_CACHE_SIZE", len(space._PATHS) + nodes + room)
        kept = dict(space._PATHS)
        expected = [_one_by_one(item, walker, table, subtree, boxes[0], boxes, values) for item in items]
        cache_expected = sorted(((value[0], key[1], value[1]) for key, value in space._PATHS.items()), key=repr)
        space._PATHS.clear()
        space._PATHS.update(kept)
        got = made_all(*compiled, walker, table, subtree, boxes[0], boxes)
        cache_got = sorted(((value[0], key[1], value[1]) for key, value in space._PATHS.items()), key=repr)
        assert got == expected
        assert _sharing(got) == _sharing(expected)
        assert cache_got == cache_expected
        forget_paths()


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("size", [0, 1, 50_000])
def test_members_with_no_trail_yet_get_paths_made_as_extend_path_makes_them(monkeypatch, size, count):
    """A member entering with an empty trail: each extension a new tuple where extend_path
    makes one (the path cache emptied between them, not held), the same one where it shares."""
    from tests.engine.test_path_sharing import _one_by_one, _partition
    document = ruleset(FORWARD)
    table, chain = _chain(document, "filter", "FORWARD")
    walker = _walker(document)
    # (every other member with a trail of its own: its extension empties a cache of size 0)
    members = [box._replace(trail=()) if n % 2 == 0 else box for n, box in enumerate(_boxes(table, chain, 6, nat=True))]
    done = members[0]._replace(assumptions=())
    steps = [step((), "rule", table, chain, r) for r in chain.rules[:count]]
    template = [(done, Outcome.ACCEPT, None, tuple(((i, "s"), s[0]) for i, s in enumerate(steps)), ())]
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", size)
    runs = []
    for make in (_one_by_one, _replay_all):
        forget_paths()
        made: list = []
        make(members, template, walker, made)
        runs.append(made)
    assert runs[0] == runs[1]
    assert _partition(runs[0]) == _partition(runs[1])


def _values_field_by_field(subtree, boxes) -> list[list[int]]:
    """shapewalk._values as it was written before: a loop over _WIDE and _CLASS."""
    from linter.engine.shapewalk import _CLASS, _WIDE
    values = [list(constants) for constants in subtree.constants]
    for box in boxes:
        for field in _WIDE:
            ranges = box[field]
            if ranges is not None:
                for lo, hi in ranges:
                    values[_CLASS[field]].extend((lo, hi + 1))
    return values


@pytest.mark.parametrize("seed", range(4))
def test_values_with_the_fields_written_out_are_the_values_field_by_field(seed):
    from linter.engine.shapewalk import Subtree, _values
    rng = random.Random(seed)
    for _ in range(50):
        subtree = Subtree(0, (), tuple(tuple(rng.sample(range(100), rng.randrange(4))) for _ in range(4)))
        boxes = [Box(Family.IPV4, ((6, 6),), _ranges(rng, 64), _ranges(rng, 64), _ranges(rng, 64),
                     _ranges(rng, 64), frozenset({"eth0"}), frozenset({"new"}), local=False,
                     nat_dst=_ranges(rng, 64), nat_dport=_ranges(rng, 64)) for _ in range(rng.randint(1, 3))]
        assert _values(subtree, boxes) == _values_field_by_field(subtree, boxes)
