"""Runs of rules that differ in one address (engine/runs.py): a blocklist's plain drops and an
allow-list's groups alike but for their sources are met without splitting boxes rule by rule,
with exactly the walk's results (values, order, trails, budget) and the same dead rules."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.addresses import family_max  # noqa: E402
from linter.engine import runs, shadow, walk  # noqa: E402
from linter.engine import intervals as iv  # noqa: E402
from linter.engine.shadow import ShadowAnalysis, universe  # noqa: E402
from linter.engine.space import replace  # noqa: E402
from linter.engine.walk import Segment, Walker, blocks_of  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import findings, ruleset  # noqa: E402

HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
TAIL = "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n"
LOOPBACK = (0x7F000000, 0x7FFFFFFF)


def drops(*sources: str) -> str:
    return HEAD + "".join(f"-A INPUT -s {source} -j DROP\n" for source in sources) + TAIL


def allows(*sources: str, ports=(22, 443)) -> str:
    return HEAD + "".join(f"-A INPUT -s {source} -p tcp -m tcp --dport {port} -j ACCEPT\n"
                          for source in sources for port in ports) + "COMMIT\n"


BLOCKLIST = drops(*(f"198.51.100.{i}/32" for i in range(1, 13)))
# Keys on both sides of the loopback gap of a box from another interface, one across it.
AROUND_LOOPBACK = drops("100.0.0.0/8", "126.0.0.0/8", "128.0.0.0/8", "127.0.0.0/16", "129.0.0.0/8", "130.0.0.0/8", "131.0.0.0/8", "132.0.0.0/8", "133.0.0.0/8")
ACROSS_LOOPBACK = drops("100.0.0.0/8", "126.0.0.0/7", "128.0.0.0/8", "129.0.0.0/8", "130.0.0.0/8",
                        "131.0.0.0/8", "132.0.0.0/8", "133.0.0.0/8")
DUPLICATED = drops(*(f"198.51.100.{i}/32" for i in (1, 2, 3, 4, 2, 5, 6, 7, 8, 9)))
ALLOWLIST = allows(*(f"10.{i}.0.0/16" for i in range(1, 10)))
ALLOWLIST_REPEATED = allows(*(f"10.{i}.0.0/16" for i in (1, 2, 3, 4, 5, 3, 6, 7, 8, 9)))
ALLOWLIST_ONE_PORT_TWICE = allows(*(f"10.{i}.0.0/16" for i in range(1, 10)), ports=(22, 22))
# Plain rules with different verdicts: each is plain, the groups are not alike.
MIXED = BLOCKLIST.replace("198.51.100.5/32 -j DROP", "198.51.100.5/32 -j ACCEPT")
# A group that logs first: neither plain nor alike (a LOG goes on).
LOGGED = BLOCKLIST.replace("-A INPUT -s 198.51.100.5/32 -j DROP\n",
                           "-A INPUT -s 198.51.100.5/32 -j LOG\n-A INPUT -s 198.51.100.5/32 -j DROP\n")
ALL = [MIXED, LOGGED, BLOCKLIST, AROUND_LOOPBACK, ACROSS_LOOPBACK, DUPLICATED, ALLOWLIST, ALLOWLIST_REPEATED, ALLOWLIST_ONE_PORT_TWICE]


def _general(monkeypatch) -> None:
    """Every segment walked and analysed group by group, rule by rule (no run shortcut)."""
    for module in (walk, shadow):
        monkeypatch.setattr(module, "split_by_keys", lambda segment, boxes: None)
    monkeypatch.setattr(walk, "split_parts", lambda segment, boxes: None)


def _boxes() -> list:
    """The whole space, and a part of it from another interface (no loopback sources): its
    sources have a gap some keys fall in."""
    boxes = universe(Family.IPV4, {"eth0", "lo"})
    outside = iv.subtract(iv.full(family_max(Family.IPV4)), (LOOPBACK,))
    return boxes + [replace(boxes[0], src=outside, iif=frozenset({"eth0"}))]


def _walked(text: str):
    rules = ruleset(text)
    table = rules.tables[0]
    walker = Walker()
    results = walker.walk(table, table.chains[0], _boxes())
    described = [(outcome, tuple(box[:-2]), box.assumptions,
                  tuple((s.event, s.rule.span.line if s.rule else None) for s in box.trail)) for box, outcome in results]
    return described, walker.budget.spent


def _dead(text: str):
    rules = ruleset(text)
    table = rules.tables[0]
    verdicts = ShadowAnalysis(table, Family.IPV4, {"eth0", "lo"}).chain(table.chains[0])
    return sorted(verdicts.dead), sorted(verdicts.shadowed), verdicts.judged


def test_the_runs_are_segments_the_shortcuts_apply_to():
    for text, plain, shaped in ((BLOCKLIST, True, True), (ALLOWLIST, False, True), (ACROSS_LOOPBACK, True, True),
                                (MIXED, True, False), (LOGGED, False, False)):
        segment, = [b for b in blocks_of(ruleset(text).tables[0].chains[0]) if isinstance(b, Segment)]
        assert (runs.plain_firsts(segment) is not None, runs.same_shape(segment)) == (plain, shaped)


@pytest.mark.parametrize("text", ALL)
def test_a_run_is_walked_exactly_as_rule_by_rule(monkeypatch, text):
    fast = _walked(text)
    _general(monkeypatch)
    assert _walked(text) == fast


@pytest.mark.parametrize("text", ALL)
def test_a_run_has_the_same_dead_rules_as_rule_by_rule(monkeypatch, text):
    fast = _dead(text)
    _general(monkeypatch)
    assert _dead(text) == fast


def test_a_source_dropped_twice_is_shadowed_where_it_repeats():
    assert _dead(DUPLICATED) == ([4], [4], True)
    assert findings(DUPLICATED, {"PL402", "PL403"}) == [("PL402", 9, None)]


def test_a_source_allowed_twice_is_shadowed_in_both_rules_of_its_repeat():
    assert _dead(ALLOWLIST_REPEATED) == ([10, 11], [10, 11], True)
    assert [line for _, line, _ in findings(ALLOWLIST_REPEATED, {"PL402"})] == [15, 16]


def test_the_second_of_two_equal_rules_in_every_group_is_dead():
    assert _dead(ALLOWLIST_ONE_PORT_TWICE) == ([1, 3, 5, 7, 9, 11, 13, 15, 17],) * 2 + (True,)


def test_a_key_across_the_gap_of_a_box_gets_only_the_part_outside_it():
    split = _split(ACROSS_LOOPBACK)
    assert [len(p) for p in split.partial] == [0, 0, 1]
    assert split.partial[2] == {1: ((0x7E000000, 0x7EFFFFFF),)}  # 126.0.0.0/7 without 127/8
    assert split.order == list(range(8))


def test_a_key_inside_the_gap_is_met_by_the_boxes_that_hold_it_after_the_others():
    split = _split(AROUND_LOOPBACK)
    assert split.partial[2] == {3: ()}  # 127.0.0.0/16: not from eth0
    assert split.order == list(range(9))  # the first box meets every key


def _split(text: str):
    segment, = [b for b in blocks_of(ruleset(text).tables[0].chains[0]) if isinstance(b, Segment)]
    return runs.split_by_keys(segment, _boxes())


def test_the_groups_first_met_by_a_later_box_come_after_the_first_boxs():
    assert runs._order(5, [{1: (), 3: ()}, {}, {}]) == [0, 2, 4, 1, 3]
    assert runs._order(5, [{1: (), 3: ()}, {1: ()}, {}]) == [0, 2, 4, 3, 1]


def test_boxes_of_many_intervals_are_partitioned_the_general_way():
    segment, = [b for b in blocks_of(ruleset(BLOCKLIST).tables[0].chains[0]) if isinstance(b, Segment)]
    base = 0xC6336400  # 198.51.100.0: the box's intervals lie among the keys
    many = tuple((base + i * 4, base + i * 4 + 1) for i in range(runs.MAX_INTERVALS + 1))
    assert runs.split_by_keys(segment, [replace(_boxes()[0], src=many)]) is None


def test_a_part_is_a_new_tuple_never_the_rules_own_key():
    segment, = [b for b in blocks_of(ruleset(ALLOWLIST).tables[0].chains[0]) if isinstance(b, Segment)]
    _, by_group = runs.split_parts(segment, _boxes())
    for (group, parts), key in zip(by_group.values(), segment.keys):
        assert all(part.src == key and part.src is not key for part in parts)


WIDE_ALLOWLIST = allows(*(f"10.0.{i}.0/24" for i in range(0, 60, 2)), *(f"10.1.{i}.0/24" for i in range(40)),
                        ports=(22, 443, 8443))


@pytest.mark.parametrize("at_least", [6, 40])
@pytest.mark.parametrize("text", [ALLOWLIST, ALLOWLIST_ONE_PORT_TWICE, WIDE_ALLOWLIST])
def test_what_goes_on_past_alike_groups_merges_as_one_copy_per_key_would(monkeypatch, text, at_least):
    """shaped_walk hands on the first group's boxes and a few copies holding the other keys
    (one, or as many as make ``at_least`` boxes): what the walk gives after merging is what
    one copy per key gives."""
    copies = []
    original = runs._other_keys
    monkeypatch.setattr(runs, "_other_keys", lambda *args: copies.append(len(original(*args))) or original(*args))
    monkeypatch.setattr(runs, "COALESCE_AT_LEAST", at_least)
    fast = _walked(text)
    assert copies and all(0 < n < len(WIDE_ALLOWLIST) for n in copies)
    monkeypatch.setattr(runs, "COALESCE_AT_LEAST", 10**9)  # every key copied
    assert _walked(text) == fast


def test_the_keys_after_the_first_are_copied_in_as_few_lists_as_coalesce_needs():
    segment, = [b for b in blocks_of(ruleset(WIDE_ALLOWLIST).tables[0].chains[0]) if isinstance(b, Segment)]
    keys = [key[0] for key in segment.keys]  # 10.0.0.0/24, 10.0.2.0/24 ... 10.0.58.0/24, 10.1.0.0/24 ...

    def union(first, last):
        return iv.normalize(tuple(keys[first:last]))

    assert len(keys) == 70
    assert runs._other_keys(segment, 1, 0) == []
    assert runs._other_keys(segment, 4, 2) == [union(1, 70)]  # 4 + 2 + 2 boxes: coalesce merges them
    assert runs._other_keys(segment, 1, 2) == [union(1, 36), union(36, 70)]  # 1 + 2 + 2 * 2
    assert runs._other_keys(segment, 0, 1) == [union(1, 15), union(15, 29), union(29, 43), union(43, 57), union(57, 70)]
    assert union(57, 70) == ((0x0A011B00, 0x0A0127FF),)  # 10.1.27.0 - 10.1.39.255, one range


def test_groups_are_alike_whatever_the_order_of_their_matches_and_unlike_with_another_port():
    reordered = ALLOWLIST.replace("-A INPUT -s 10.5.0.0/16 -p tcp -m tcp --dport 443",
                                  "-A INPUT -p tcp -m tcp --dport 443 -s 10.5.0.0/16")
    other_port = ALLOWLIST.replace("-A INPUT -s 10.5.0.0/16 -p tcp -m tcp --dport 443",
                                   "-A INPUT -s 10.5.0.0/16 -p tcp -m tcp --dport 444")
    state = ALLOWLIST.replace("-A INPUT -s 10.5.0.0/16 -p tcp -m tcp --dport 443",
                              "-A INPUT -s 10.5.0.0/16 -p tcp -m tcp --dport 443 -m conntrack --ctstate NEW")
    for text, alike in ((ALLOWLIST, True), (reordered, True), (other_port, False), (state, False)):
        assert reordered != ALLOWLIST and other_port != ALLOWLIST and state != ALLOWLIST
        segment, = [b for b in blocks_of(ruleset(text).tables[0].chains[0]) if isinstance(b, Segment)]
        assert runs.same_shape(segment) is alike


def test_rules_are_plain_together_exactly_when_each_is():
    lines = ["-s 10.0.0.1 -j DROP", "-s 10.0.0.2 -j ACCEPT", "-s 10.0.0.3 -j REJECT", "! -s 10.0.0.4 -j DROP",
             "-d 10.0.0.5 -j DROP", "-s 10.0.0.6 -j LOG", "-s 10.0.0.7 -p tcp -j DROP", "-s 10.0.0.8 -j RETURN"]
    rules = ruleset(HEAD + "".join(f"-A INPUT {line}\n" for line in lines) + "COMMIT\n").tables[0].chains[0].rules
    for dimension in ("src", "dst", "dport"):
        for first in range(len(rules)):
            for last in range(first + 1, len(rules) + 1):
                expected = all(runs.is_plain(rule, dimension) for rule in rules[first:last])
                assert runs._all_plain(rules[first:last], dimension) is expected
    assert runs._all_plain(rules[:3], "src") and runs._all_plain(rules[4:5], "dst")


@pytest.mark.parametrize("seed", range(8))
def test_what_lies_outside_many_keys_is_subtracts_answer(seed):
    chance = random.Random(seed)
    covered = iv.normalize(tuple((lo, lo + chance.randrange(0, 3)) for lo in chance.sample(range(0, 3000, 3), 400)))
    for _ in range(50):
        current = iv.normalize(tuple((lo, lo + chance.randrange(0, 900)) for lo in
                                     (chance.randrange(0, 3200) for _ in range(chance.randrange(0, 5)))))
        expected = iv.subtract(current, covered)
        found = runs.outside(current, covered)
        assert found == expected and (found is current) is (expected is current)
    assert runs.outside(((5000, 6000),), covered) == ((5000, 6000),)


def test_rule_positions_are_looked_up_only_off_the_rules_order():
    rules = ruleset(BLOCKLIST).tables[0].chains[0].rules
    positions = shadow.RulePositions(rules)
    assert positions.at(3, rules[3]) == 3 and not positions  # where the blocks say: no map built
    assert positions.at(4, rules[7]) == 7 and positions.built and len(positions) == len(rules)
    assert positions.at(len(rules), rules[0]) == 0
    with pytest.raises(KeyError):
        positions[id(object())]
    with pytest.raises(KeyError):
        shadow.RulePositions([])[0]


def _alike_by_definition(segment) -> bool:
    """same_shape by its definition: groups of as many rules, the rules at one position of the
    same shape (_rule_shape), none of them without one."""
    direction = runs._DIRECTION.get(segment.dimension)
    groups = segment.groups
    if direction is None or len(groups) < 2:
        return False
    shape = [runs._rule_shape(rule, direction) for rule in groups[0]]
    return None not in shape and all(
        len(group) == len(shape) and all(runs._rule_shape(rule, direction) == part for rule, part in zip(group, shape))
        for group in groups[1:])


@pytest.mark.parametrize("seed", range(10))
def test_groups_are_alike_exactly_by_their_definition(seed):
    """_alike's shortcut (matches beside the key the same as the first group's) answers what
    comparing every rule's shape answers: matches reordered, negated, another state or port,
    a jump, no key at all."""
    chance = random.Random(seed)
    variants = ["-s {net} -p tcp -m tcp --dport {port} -j ACCEPT", "-p tcp -m tcp --dport {port} -s {net} -j ACCEPT",
                "-p tcp -s {net} -m tcp --dport {port} -j ACCEPT", "-s {net} -p tcp -m tcp --dport 444 -j ACCEPT",
                "-s {net} -p tcp -m tcp --dport {port} -m conntrack --ctstate NEW -j ACCEPT",
                "-s {net} -p tcp -m tcp --dport {port} -j DROP", "-s {net} -i eth0 -p tcp -m tcp --dport {port} -j ACCEPT"]
    seen = set()
    for _ in range(12):
        lines = []
        for i in range(1, 12):
            for port in (22, 443):
                variant = variants[0] if chance.random() < 0.85 else chance.choice(variants)
                lines.append("-A INPUT " + variant.format(net=f"10.{i}.0.0/16", port=port) + "\n")
        segments = [b for b in blocks_of(ruleset(HEAD + "".join(lines) + "COMMIT\n").tables[0].chains[0])
                    if isinstance(b, Segment)]
        for segment in segments:
            alike = runs._alike(segment)
            assert alike is _alike_by_definition(segment)
            seen.add(alike)
    assert seen == {True, False} or seed  # (seed 0 meets both answers)


@pytest.mark.parametrize("seed", range(8))
def test_the_copied_keys_read_off_the_covered_ranges_are_their_unions(seed, monkeypatch):
    """_other_keys reads the union of a stretch of ascending keys off the segment's covered
    ranges: the same lists as uniting the keys, for keys touching, apart or out of order."""
    chance = random.Random(seed)
    for _ in range(6):
        nets = sorted(chance.sample(range(256), chance.randrange(8, 60)))
        if chance.random() < 0.3:
            chance.shuffle(nets)
        text = allows(*(f"10.{net}.0.0/16" for net in nets))
        segment, = [b for b in blocks_of(ruleset(text).tables[0].chains[0]) if isinstance(b, Segment)]
        assert runs.ascending(segment) is (nets == sorted(nets))
        for skipping, going_on in ((0, 1), (1, 2), (1, 1), (4, 2), (0, 0)):
            fast = runs._other_keys(segment, skipping, going_on)
            with monkeypatch.context() as patched:
                patched.setattr(runs, "ascending", lambda segment: False)
                assert runs._other_keys(segment, skipping, going_on) == fast


@pytest.mark.parametrize("seed", range(4))
def test_ranges_within_bounds_are_their_intersection(seed):
    chance = random.Random(seed)
    ranges = iv.normalize(tuple((lo, lo + chance.randrange(0, 4)) for lo in chance.sample(range(0, 600, 2), 120)))
    for _ in range(200):
        lo = chance.randrange(-5, 620)
        hi = lo + chance.randrange(0, 100)
        assert runs.within(ranges, lo, hi) == iv.intersect(ranges, ((lo, hi),))
