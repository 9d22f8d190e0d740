"""A template's replay built in one loop (engine/template_made.py) gives the boxes the
one-call-per-step construction gives: the same values, and the same boxes sharing a path
object, whatever the path cache's size (emptied in the middle of replays or not)."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shapewalk, space  # noqa: E402
from linter.engine.order_test import label_reads  # noqa: E402
from linter.engine.shapewalk import _values  # noqa: E402
from linter.engine.space import Assumption, Box, extend_path, forget_paths  # noqa: E402
from linter.engine.walk import Step, apply_nat, nat_fields  # noqa: E402
from linter.model import VerdictKind  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_shapewalk import SERVICES, _box, _kube, _walk  # noqa: E402

_NAT = (VerdictKind.DNAT, VerdictKind.REDIRECT)


def _one_by_one(item, walker, table, subtree, entering: Box, boxes, values) -> Box:
    """The box ``item`` (as shapewalk._item makes it) describes: each step and assumption by
    its own extend_path call, the DNAT's fields by their own nat_fields call."""
    exact, wide, steps, conditions, nat = item
    chains = subtree.chains
    trail = entering.trail
    for event, c, r, detail in steps:
        chain = chains[c]
        rule = None if r is None else chain.rules[r]
        trail = extend_path(trail, (event, id(table), id(chain), id(rule), detail), Step, event, table, chain, rule,
                            detail)
    assumptions = entering.assumptions
    for c, r, position, matched in conditions:
        rule = chains[c].rules[r]
        match = rule.matches[position]
        assumptions = extend_path(assumptions, (id(rule), id(match), matched), Assumption, rule, match, matched)
    fields = []
    for spec in wide:
        if spec is None:
            fields.append(None)
        elif spec[0] == "same":
            fields.append(boxes[spec[1]][spec[2]])
        else:
            fields.append(tuple((values[spec[1]][low], values[spec[1]][high] - 1) for low, high in spec[2]))
    family, proto, iif, state, local, oif, mark, ctmark = exact
    sport, dport, src, dst, nat_dst, nat_dport = fields
    if nat is None:
        return Box(family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif, mark, ctmark,
                   assumptions, trail)
    rule = chains[nat[0]].rules[nat[1]]
    if rule.verdict.kind not in _NAT:
        return apply_nat(Box(family, proto, sport, dport, src, dst, iif, state, entering.local, None, None, oif, mark,
                             ctmark, assumptions, trail), rule, walker.routing)
    nat_dst, nat_dport, local = nat_fields(rule.verdict, family, dst, dport, entering.local, walker.routing)
    return Box(family, proto, sport, dport, src, dst, iif, state, local, nat_dst, nat_dport, oif, mark, ctmark,
               assumptions, trail)


def _sharing(boxes) -> tuple[list[int], list[int]]:
    """For each box, the first box holding its trail object, and the first holding its
    assumptions object."""
    trails: dict[int, int] = {}
    assumed: dict[int, int] = {}
    return ([trails.setdefault(id(box.trail), n) for n, box in enumerate(boxes)],
            [assumed.setdefault(id(box.assumptions), n) for n, box in enumerate(boxes)])


def _replays(monkeypatch, document, entering):
    """Every replay of a kube-proxy walk: (template, its arguments), recorded as it ran."""
    calls = []
    replay = shapewalk.Template.replay

    def recording(self, walker, table, subtree, boxes, results):
        calls.append((self, walker, table, subtree, boxes, _values(subtree, boxes)))
        return replay(self, walker, table, subtree, boxes, results)
    monkeypatch.setattr(shapewalk.Template, "replay", recording)
    _walk(document, entering, shared=True)
    monkeypatch.setattr(shapewalk.Template, "replay", replay)
    return calls


@pytest.mark.parametrize("size", [0, 1, 3, 7, 50_000])
@pytest.mark.parametrize("entering", [
    [_box()],
    [_box(src=((0, 10), (200, 300)), sport=((1024, 65535),))],
    [_box(proto=((6, 6),)), _box(proto=((17, 17),))],
])
def test_a_replay_makes_what_one_call_per_step_makes(monkeypatch, size, entering):
    services = SERVICES * 3  # (each shape met often: templates recorded and replayed)
    document = ruleset(_kube([(f"10.96.{n}.{cluster.split('.')[-1]}", port, endpoints)
                              for n, (cluster, port, endpoints) in enumerate(services)]))
    calls = _replays(monkeypatch, document, entering)
    assert len(calls) >= 10
    monkeypatch.setattr(space, "PATH_CACHE_SIZE", size)
    for template, walker, table, subtree, boxes, values in calls:
        forget_paths()
        items = [item for item, _ in template.results] + list(template.back)
        expected = [_one_by_one(item, walker, table, subtree, boxes[0], boxes, values) for item in items]
        forget_paths()
        results: list = []
        back = template.replay(walker, table, subtree, boxes, results)
        got = [box for box, _ in results] + back
        assert [outcome for _, outcome in results] == [outcome for _, outcome in template.results]
        assert got == expected
        assert _sharing(got) == _sharing(expected)
        assert _wide_sources(got, boxes) == _wide_sources(expected, boxes)


def _wide_sources(made, boxes) -> list[tuple]:
    """For each box, per wide field, the (entering box, field) whose very object it holds, or
    None (a range list of its own, or no list)."""
    wide = (2, 3, 4, 5, 9, 10)
    return [tuple(next(((n, f) for n, entering in enumerate(boxes) for f in wide
                        if box[field] is not None and entering[f] is box[field]), None) for field in wide)
            for box in made]


def test_a_replay_held_in_the_path_cache_shares_paths_with_what_came_before(monkeypatch):
    """An extension the path cache holds from before the replay is taken from it, as
    extend_path takes it: the replayed box's trail is the very object made before."""
    document = ruleset(_kube(SERVICES * 2))
    calls = _replays(monkeypatch, document, [_box()])
    template, walker, table, subtree, boxes, values = calls[-1]
    forget_paths()
    items = [item for item, _ in template.results]
    before = [_one_by_one(item, walker, table, subtree, boxes[0], boxes, values) for item in items]
    results: list = []
    template.replay(walker, table, subtree, boxes, results)
    assert [box for box, _ in results] == before
    assert all(box.trail is old.trail and box.assumptions is old.assumptions
               for (box, _), old in zip(results, before))


@pytest.mark.parametrize("seed", range(6))
def test_random_items_sharing_prefixes_make_what_one_call_per_step_makes(monkeypatch, seed):
    """Items whose steps and assumptions share prefixes in every way (drawn at random from a
    real template's), built with the path cache emptied now and then mid-replay, even between
    a node and its children: the prefix trees' nodes give what extend_path gives."""
    import random
    from linter.engine.template_made import compile_items, made_all
    rng = random.Random(seed)
    document = ruleset(_kube(SERVICES * 3))
    calls = _replays(monkeypatch, document, [_box()])
    template, walker, table, subtree, boxes, values = calls[-1]
    items = [item for item, _ in template.results] + list(template.back)
    steps = sorted({s for item in items for s in item[2]}, key=repr)
    conditions = sorted({c for item in items for c in item[3]}, key=repr)
    assert steps and conditions
    for size in (0, 1, 2, 5, 50_000):
        monkeypatch.setattr(space, "PATH_CACHE_SIZE", size)
        drawn = []
        for _ in range(30):
            exact, wide, _, _, nat = rng.choice(items)
            drawn.append((exact, wide, tuple(rng.choice(steps) for _ in range(rng.randrange(4))),
                          tuple(rng.choice(conditions) for _ in range(rng.randrange(4))), nat))
        # (prefixes shared: each drawn item followed by some of its own prefixes and extensions)
        more = []
        for item in drawn:
            more.append(item)
            if item[2] and rng.random() < 0.5:
                more.append(item[:2] + (item[2][:rng.randrange(len(item[2]) + 1)],) + item[3:])
            if rng.random() < 0.5:
                more.append(item[:3] + (item[3] + (rng.choice(conditions),),) + item[4:])
        forget_paths()
        expected = [_one_by_one(item, walker, table, subtree, boxes[0], boxes, values) for item in more]
        forget_paths()
        got = made_all(*compile_items(more, label_reads(subtree.constants, boxes)), walker, table, subtree, boxes[0], boxes)
        assert got == expected
        assert _sharing(got) == _sharing(expected)


@pytest.mark.parametrize("seed", range(6))
def test_nat_entries_shared_as_the_keyed_cache_shares_them(monkeypatch, seed):
    """Items DNATed by the template's rules in a random order, their destinations and ports
    taken from entering boxes whose lists are equal or not, the same objects or not: each
    box is what nat_fields gives it, and two boxes share their rewritten destination object
    exactly where one dict keyed by (rule, destination object, ports object) would give both
    the same entry (made_all's last-entry-per-rule shortcut reads that dict's entries)."""
    import random
    from linter.engine.template_made import compile_items, made_all
    rng = random.Random(seed)
    document = ruleset(_kube(SERVICES * 3))
    calls = _replays(monkeypatch, document, [_box()])
    template, walker, table, subtree, boxes, values = calls[-1]
    items = [item for item, _ in template.results if item[4] is not None]
    assert len({item[4] for item in items}) >= 2
    first = boxes[0]
    other = ((first.dst[0][0], first.dst[0][0]),)
    entering = [first, first._replace(dst=tuple(first.dst), dport=tuple(first.dport)), first._replace(dst=other)]
    drawn = []
    for _ in range(40):
        exact, wide, steps, conditions, nat = rng.choice(items)
        wide = list(wide)
        wide[1] = ("same", rng.randrange(3), 3)  # the destination ports
        wide[3] = ("same", rng.randrange(3), 5)  # the destination
        drawn.append((exact, tuple(wide), steps, conditions, nat))
    forget_paths()
    expected = [_one_by_one(item, walker, table, subtree, entering[0], entering, values) for item in drawn]
    forget_paths()
    got = made_all(*compile_items(drawn, label_reads(subtree.constants, boxes)), walker, table, subtree, entering[0],
                   entering)
    assert got == expected
    # The objects one keyed dict of nat_fields' answers gives, item by item.
    keyed: dict = {}
    reference = []
    for item, box in zip(drawn, expected):
        key = (item[4], id(box.dst), id(box.dport))
        found = keyed.get(key)
        if found is None or found[0] is not box.family:
            rule = subtree.chains[item[4][0]].rules[item[4][1]]
            found = keyed[key] = (box.family, nat_fields(rule.verdict, box.family, box.dst, box.dport,
                                                         entering[0].local, walker.routing))
        reference.append(found[1])
    assert all(box.nat_dst is made[0] and box.nat_dport is made[1] for box, made in zip(got, reference))


@pytest.mark.parametrize("seed", range(4))
def test_labelled_fields_of_every_length_make_what_one_call_per_step_makes(monkeypatch, seed):
    """Wide fields made of one to four label pairs (made_all writes one to three out)
    give the ranges the labels name, in order."""
    import random
    from linter.engine.template_made import compile_items, made_all
    rng = random.Random(seed)
    document = ruleset(_kube(SERVICES * 3))
    calls = _replays(monkeypatch, document, [_box()])
    template, walker, table, subtree, boxes, values = calls[-1]
    items = [item for item, _ in template.results] + list(template.back)
    classes = {0: 2, 1: 3, 2: 4, 3: 5}  # a class and the place of a field of it
    drawn = []
    for _ in range(40):
        exact, wide, steps, conditions, nat = rng.choice(items)
        wide = list(wide)
        for kind, place in classes.items():
            if place in (3, 5) and nat is not None or not values[kind] or rng.random() < 0.3:
                continue
            labels = range(len(values[kind]))
            wide[place] = ("labels", kind, tuple((rng.choice(labels), rng.choice(labels))
                                                 for _ in range(rng.randrange(1, 5))))
        drawn.append((exact, tuple(wide), steps, conditions, nat))
    forget_paths()
    expected = [_one_by_one(item, walker, table, subtree, boxes[0], boxes, values) for item in drawn]
    forget_paths()
    got = made_all(*compile_items(drawn, label_reads(subtree.constants, boxes)), walker, table, subtree, boxes[0], boxes)
    assert got == expected
