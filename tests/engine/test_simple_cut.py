"""engine/simple_cut.py: split_rule's answer for a source or protocol-and-port rule, to the object."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine.shadow import universe  # noqa: E402
from linter.engine.simple_cut import cut, simple_cut  # noqa: E402
from linter.engine.space import replace, split_rule  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

RULES = """*filter
:INPUT DROP [0:0]
:c - [0:0]
-A INPUT -s 10.0.0.0/24 -j DROP
-A INPUT -s 10.0.0.0/8 -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443,1000:2000 -j DROP
-A INPUT -p udp --dport 53 -j REJECT
-A INPUT -p tcp -m multiport --dports 22,25 -j LOG
-A INPUT -p sctp -m multiport --dports 7,9 -j DROP
-A INPUT -p icmp -j DROP
-A INPUT -s 10.0.0.0/24 -j RETURN
-A INPUT -s 10.0.0.0/24 -j c
-A INPUT ! -s 10.0.0.0/24 -j DROP
-A INPUT -p tcp ! --dport 22 -j DROP
-A INPUT -s 10.0.0.0/24 -p tcp -j DROP
COMMIT
"""

_PROTOCOLS = (((6, 6),), ((17, 17),), ((132, 132),), ((6, 6), (17, 17)), ((1, 1),), ((0, 5), (7, 16), (18, 255)), ((0, 255),))


def _ranges(rnd: random.Random, top: int, near: tuple[int, ...]) -> iv.Ranges:
    """A random canonical range list, its bounds drawn near the rules' values so that they meet."""
    points = sorted({min(top, max(0, rnd.choice(near) + rnd.randint(-3, 3))) for _ in range(rnd.randint(1, 14))}
                    | {rnd.randint(0, top) for _ in range(rnd.randint(0, 4))})
    if len(points) % 2:
        points.append(top)
    return iv.normalize((points[i], points[i + 1]) for i in range(0, len(points) - 1, 2)) or ((0, top),)


def _boxes(rnd: random.Random, count: int) -> list:
    base = universe(Family.IPV4, frozenset({"eth0", "lo"}))
    net = 0x0A000000
    boxes = []
    for _ in range(count):
        box = replace(rnd.choice(base), proto=rnd.choice(_PROTOCOLS),
                      src=_ranges(rnd, 0xFFFFFFFF, (net - 1, net, net + 255, net + 256, 0x0AFFFFFF, 0)),
                      dport=_ranges(rnd, 65535, (7, 9, 22, 25, 53, 80, 443, 1000, 2000)))
        if rnd.random() < 0.1:
            box = replace(box, nat_dport=((80, 80),))
        if rnd.random() < 0.05:
            box = replace(box, family=Family.IPV6)
        boxes.append(box)
    for _ in range(count // 4):  # boxes sharing their lists, as boxes split from one another do
        other = rnd.choice(boxes)
        boxes.append(replace(other, local=not other.local))
    rnd.shuffle(boxes)
    return boxes


def _labelled(parts: list, boxes: list) -> list:
    """Each part as its values plus where each of its range lists comes from: the very list of
    an input box, or a new one (numbered in order of appearance, so sharing shows)."""
    given = {id(box): number for number, box in enumerate(boxes)}
    old = {}
    for number, box in enumerate(boxes):
        for field, value in enumerate(box):
            if type(value) is tuple:
                old.setdefault(id(value), (number, field))
    new: dict[int, int] = {}
    return [(tuple(part), given.get(id(part)),
             tuple(old.get(id(v), ("new", new.setdefault(id(v), len(new)))) for v in part if type(v) is tuple))
            for part in parts]


def test_the_shapes_taken_and_those_left_to_split_rule():
    rules = ruleset(RULES).tables[0].chains[0].rules
    taken = [simple_cut(rule) is not None for rule in rules]
    assert taken == [True, True, True, True, True, True, False, False, False, False, False, False]


@pytest.mark.parametrize("seed", range(40))
def test_cut_gives_split_rules_parts_to_the_object(seed):
    rnd = random.Random(seed)
    rules = [rule for rule in ruleset(RULES).tables[0].chains[0].rules if simple_cut(rule) is not None]
    for rule in rules:
        boxes = _boxes(rnd, 40)
        met, parts = cut(boxes, simple_cut(rule), rule)
        expected, inside = [], False
        for box in boxes:
            part, rest = split_rule(box, rule.matches, rule, False, decide=False)
            inside = inside or part is not None
            expected.extend(rest)
        assert met == inside
        assert _labelled(parts, boxes) == _labelled(expected, boxes)


@pytest.mark.parametrize("seed", range(20))
def test_without_is_subtract_by_value_and_hands_back_the_list_it_did_not_cut(seed):
    from linter.engine.simple_cut import _without

    rnd = random.Random(seed)
    for _ in range(500):
        a = _ranges(rnd, 300, (10, 50, 100, 150, 200, 250))
        points = sorted(rnd.sample(range(305), rnd.randint(1, 6)))
        b, previous = [], -1
        for point in points:
            lo = previous + 1 if b and rnd.random() < 0.4 else max(point, previous + 2)
            hi = lo + rnd.randint(0, 8)
            b.append((lo, hi))
            previous = hi
        b = tuple(b)
        result = _without(a, b)
        assert result == iv.subtract(a, b)
        assert (result is a) == (not iv.intersect(a, b))


def test_a_long_set_is_taken_away_in_one_pass(monkeypatch):
    # nft's `ip saddr @blocklist drop` with thousands of elements: _without joined the pieces
    # left in the box's one range again at every element (10,000 elements: 10^8 appends).
    import linter.engine.simple_cut as simple

    elements = ",".join(f"192.0.{n // 256}.{n % 256}" for n in range(0, 4000, 2))
    rule = ruleset(f"*filter\n:INPUT DROP [0:0]\n-A INPUT -s {elements} -j DROP\nCOMMIT\n").tables[0].chains[0].rules[0]
    shape = simple_cut(rule)
    assert shape is not None and len(shape[1]) == 2000

    def refuse(a, b):
        raise AssertionError(f"_without given {len(b)} ranges")

    monkeypatch.setattr(simple, "_without", refuse)
    boxes = universe(Family.IPV4, frozenset({"eth0"}))
    met, parts = cut(boxes, simple_cut(rule), rule)
    expected = [piece for box in boxes for piece in split_rule(box, rule.matches, rule, False, decide=False)[1]]
    assert met and parts == expected and len(parts[0].src) == 2001
