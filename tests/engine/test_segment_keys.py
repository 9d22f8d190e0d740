"""Growing a dispatch segment's keys (engine/segment_keys.py): the run ends at the first rule
without a plain key of the family, or whose key overlaps an earlier key without equalling it;
equal keys share a group; the union of the keys is iv.normalize's."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv, segment_keys  # noqa: E402
from linter.engine.segment_keys import covered_by, dispatch_key, grow_keys, keyless_at  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"


def _rules(*lines: str):
    return ruleset(HEAD + "".join(f"-A INPUT {line}\n" for line in lines) + "COMMIT\n").tables[0].chains[0].rules


def _reference(rules, start, dimension, family):
    """The run by its definition: each key equal to an earlier key or disjoint from all of them."""
    keys: list = []
    groups: list = []
    end = start
    for rule in rules[start:]:
        key = dispatch_key(rule, dimension)
        if key is None or key[0] is not family or not key[1]:
            break
        ranges = key[1]
        if ranges in keys:
            groups[keys.index(ranges)].append(rule)
        elif any(iv.intersect(ranges, other) for other in keys):
            break
        else:
            keys.append(ranges)
            groups.append([rule])
        end += 1
    return groups, keys, end


def _check(rules, start, dimension, family):
    groups, keys, intervals, end = grow_keys(rules, start, dimension, family)
    assert (groups, keys, end) == _reference(rules, start, dimension, family)
    assert intervals == [(lo, hi, group) for group, key in enumerate(keys) for lo, hi in key]
    return end


def test_a_sorted_blocklist_is_one_run():
    rules = _rules(*(f"-s 10.0.0.{i}/32 -j DROP" for i in range(1, 40)), "-p tcp --dport 22 -j ACCEPT")
    assert _check(rules, 0, "src", Family.IPV4) == 39


def test_a_key_below_the_highest_so_far_ends_the_run_only_where_it_overlaps():
    rules = _rules("-s 10.0.0.8/29 -j DROP", "-s 10.0.0.0/30 -j DROP", "-s 10.0.0.4/32 -j DROP",
                   "-s 10.0.0.0/30 -j ACCEPT", "-s 10.0.0.6/31 -j DROP", "-s 10.0.0.1/32 -j DROP")
    assert _check(rules, 0, "src", Family.IPV4) == 5  # 10.0.0.6/31 is free; 10.0.0.1 is in 10.0.0.0/30


def test_a_rule_without_the_key_or_of_another_family_ends_the_run():
    rules = _rules("-s 10.0.0.1 -j DROP", "! -s 10.0.0.2 -j DROP", "-s 10.0.0.3 -j DROP")
    assert _check(rules, 0, "src", Family.IPV4) == 1
    assert _check(rules, 0, "src", Family.IPV6) == 0
    assert _check(rules, 0, "dst", None) == 0


def test_a_port_run_groups_rules_by_their_ports():
    rules = _rules("-p tcp --dport 22 -s 10.0.0.1 -j ACCEPT", "-p tcp --dport 22 -s 10.0.0.2 -j ACCEPT",
                   "-p tcp --dport 80:90 -j ACCEPT", "-p tcp --dport 85 -j ACCEPT")
    assert _check(rules, 0, "dport", None) == 3


@pytest.mark.parametrize("seed", range(6))
def test_random_runs_end_where_their_definition_says(seed):
    chance = random.Random(seed)
    lines = []
    for _ in range(60):
        prefix = chance.choice((24, 26, 28, 30, 32))
        host = chance.randrange(0, 256) & ~((1 << (32 - prefix)) - 1) & 0xFF if prefix > 24 else 0
        lines.append(f"-s 10.0.{chance.randrange(0, 4)}.{host}/{prefix} -j DROP")
    rules = _rules(*lines)
    for start in range(0, 60, 7):
        _check(rules, start, "src", Family.IPV4)


@pytest.mark.parametrize("seed", range(6))
def test_the_covered_union_is_normalizes(seed):
    chance = random.Random(seed)
    intervals = []
    for group in range(200):
        lo = chance.randrange(0, 2000)
        intervals.append((lo, lo + chance.randrange(0, 12), group))
    intervals.sort()
    assert covered_by(intervals) == iv.normalize(tuple((lo, hi) for lo, hi, _ in intervals))
    assert covered_by([]) == iv.normalize(()) == ()


def _score(groups, start, end):
    return end - start - max(len(group) for group in groups)


@pytest.mark.parametrize("seed", range(8))
def test_a_run_cut_short_by_beat_is_a_prefix_that_cannot_beat_it(seed):
    """grow_keys with ``beat`` stops where the run's score can no longer pass ``beat``: what it
    returns is the whole run's beginning, and the whole run scores no more than ``beat``."""
    chance = random.Random(seed)
    lines = [f"-s 10.0.{i // 2}.0/24 -p tcp --dport {chance.choice((22, 443, 80))} -j ACCEPT" for i in range(80)]
    rules = _rules(*lines)
    for start in (0, 5, 30):
        groups, keys, _, end = grow_keys(rules, start, "dport", None)
        whole = _score(groups, start, end)
        for beat in (whole - 1, whole, whole + 1, 60, 79):
            cut_groups, cut_keys, _, cut_end = grow_keys(rules, start, "dport", None, beat)
            assert cut_end <= end and cut_keys == keys[:len(cut_keys)]
            assert cut_groups == [group[:len(cut)] for group, cut in zip(groups, cut_groups)]
            if cut_end < end:
                assert whole <= beat  # only a run that loses is cut short
            else:
                assert (cut_groups, cut_keys) == (groups, keys)


def test_blocks_of_chooses_the_same_runs_as_growing_every_dimension_whole(monkeypatch):
    """An allow-list (two ports per source) folds into one source run whether or not the dport
    run, which cannot beat it, is cut short."""
    from linter.engine import walk
    lines = [f"-s 10.0.{i // 2}.0/24 -p tcp -m tcp --dport {(22, 443)[i % 2]} -j ACCEPT" for i in range(200)]
    text = HEAD + "-A INPUT -i lo -j ACCEPT\n" + "".join(f"-A INPUT {line}\n" for line in lines) + "COMMIT\n"

    def blocks():  # (a new chain each time: blocks_of remembers its answer per chain)
        return [(type(b).__name__, getattr(b, "dimension", None), len(getattr(b, "groups", ())))
                for b in walk.blocks_of(ruleset(text).tables[0].chains[0])]
    cut = blocks()
    whole_grow = walk._grow_segment
    monkeypatch.setattr(walk, "_grow_segment", lambda rules, start, dimension, family, beat=None:
                        whole_grow(rules, start, dimension, family))
    assert cut == blocks() == [("Rule", None, 0), ("Segment", "src", 100)]


def test_keyless_at_says_why_a_run_stopped():
    """A run stops for want of a key (no match on the dimension, another family, the end of the
    rules): keyless; for an overlapping key: not (a later start may get past it)."""
    rules = _rules("-s 10.0.0.0/24 -j DROP", "-s 10.0.0.0/16 -j DROP", "-p tcp -j DROP",
                   "-s 10.0.1.0/24 -j DROP")
    assert grow_keys(rules, 0, "src", Family.IPV4)[3] == 1
    assert not keyless_at(rules, 1, "src", Family.IPV4)  # (an overlapping key)
    assert keyless_at(rules, 2, "src", Family.IPV4)  # (no source match)
    assert keyless_at(rules, 4, "src", Family.IPV4)  # (past the last rule)
    assert not keyless_at(rules, 3, "src", Family.IPV4) and keyless_at(rules, 3, "src", Family.IPV6)
    assert keyless_at(rules, 3, "dport", None) and not keyless_at(_rules("-p tcp --dport 22 -j DROP"), 0, "dport", None)


@pytest.mark.parametrize("seed", range(10))
def test_blocks_of_skipping_runs_too_short_gives_the_blocks_of_trying_every_start(monkeypatch, seed):
    """blocks_of skips starts inside a run that stopped too short for want of a key: the blocks
    (segments' rules, keys and index) are those of growing a run from every start."""
    from linter.engine import walk
    chance = random.Random(seed)

    def line(kind: float) -> str:
        if kind < 0.4:
            return f"-s 10.{chance.randint(0, 3)}.{chance.randint(0, 40)}.0/{chance.choice((24, 24, 16))} -j DROP"
        if kind < 0.55:
            return f"! -s 10.9.{chance.randint(0, 40)}.0/24 -j DROP"  # (negated: no key)
        if kind < 0.75:
            return f"-p tcp -m tcp --dport {chance.randint(20, 60)} -j DROP"
        if kind < 0.85:
            return f"-d 192.168.{chance.randint(0, 40)}.1/32 -j ACCEPT"
        return chance.choice(["-p udp -j DROP", "-i eth0 -j ACCEPT", "-m conntrack --ctstate NEW -j DROP"])
    # Runs of one kind too (some long enough for a segment, some cut by an overlapping key).
    lines = []
    for _ in range(60):
        kind = chance.random()
        lines += [line(chance.random())] if chance.random() < 0.6 else [line(kind) for _ in range(chance.randint(5, 14))]
    text = HEAD + "".join(f"-A INPUT {line}\n" for line in lines) + "COMMIT\n"

    def blocks():  # (a new chain each time: blocks_of remembers its answer per chain)
        chain = ruleset(text).tables[0].chains[0]
        place = {id(rule): n for n, rule in enumerate(chain.rules)}
        return [(place[id(b)],) if not isinstance(b, walk.Segment) else
                (b.dimension, b.family, [[place[id(r)] for r in group] for group in b.groups], b.keys, b.index,
                 b.covered) for b in walk.blocks_of(chain)]
    _grow_from_every_start(monkeypatch)  # (else the key stretches skip the starts keyless_at would)
    said = []
    real = walk.keyless_at
    monkeypatch.setattr(walk, "keyless_at", lambda *args: said.append(real(*args)) or said[-1])
    skipping = blocks()
    assert any(said)  # (some starts were skipped)
    monkeypatch.setattr(walk, "keyless_at", lambda *args: False)
    assert skipping == blocks()
    assert any(len(block) > 1 for block in skipping)  # (some runs made segments)


@pytest.mark.parametrize("seed", range(10))
def test_blocks_of_skipping_starts_by_their_key_stretch_gives_the_blocks_of_growing_every_start(monkeypatch, seed):
    """blocks_of grows no run from a rule whose stretch of keys of one family (keyed_reach, read
    a window at a time) is shorter than a segment: the blocks are those of growing from every
    start, whatever the window."""
    from linter.engine import walk
    chance = random.Random(1000 + seed)

    def line(kind: float) -> str:
        if kind < 0.35:
            return f"-s 10.{chance.randint(0, 3)}.{chance.randint(0, 40)}.0/{chance.choice((24, 24, 16))} -j DROP"
        if kind < 0.45:
            return f"! -s 10.9.{chance.randint(0, 40)}.0/24 -j DROP"  # (negated: no key)
        if kind < 0.55:
            return f"! -s 10.8.0.0/16 -s 10.9.{chance.randint(0, 40)}.0/24 -j DROP"  # (the first plain one)
        if kind < 0.7:
            return f"-p tcp -m multiport --dports {chance.randint(20, 60)},{chance.randint(70, 90)} -j DROP"
        if kind < 0.85:
            return f"-d 192.168.{chance.randint(0, 40)}.1/32 -s 10.7.{chance.randint(0, 40)}.0/24 -j ACCEPT"
        return chance.choice(["-p udp -j DROP", "-i eth0 -j ACCEPT", "-m conntrack --ctstate NEW -j DROP"])
    lines = []
    for _ in range(80):
        kind = chance.random()
        lines += [line(chance.random())] if chance.random() < 0.5 else [line(kind) for _ in range(chance.randint(5, 14))]
    text = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n" \
        + "".join(f"-A INPUT {line}\n" for line in lines) + "COMMIT\n"

    def blocks():  # (a new chain each time: blocks_of remembers its answer per chain)
        chain = ruleset(text).tables[0].chains[0]
        place = {id(rule): n for n, rule in enumerate(chain.rules)}
        return [(place[id(b)],) if not isinstance(b, walk.Segment) else
                (b.dimension, b.family, [[place[id(r)] for r in group] for group in b.groups], b.keys, b.index,
                 b.covered) for b in walk.blocks_of(chain)]
    found = {}
    for window in (1, 3, 16, 1024):
        monkeypatch.setattr(segment_keys, "REACH_WINDOW", window)
        found[window] = blocks()
    _grow_from_every_start(monkeypatch)
    every_start = blocks()
    assert all(got == every_start for got in found.values())
    assert any(len(block) > 1 for block in every_start)  # (some runs made segments)


def test_keyed_reach_ends_each_stretch_at_a_rule_without_a_key_of_its_family():
    from linter.engine.segment_keys import keyed_reach
    rules = _rules("-s 10.0.0.0/24 -j DROP", "-s 10.0.1.0/24 -p tcp --dport 22 -j DROP", "-p tcp --dport 23 -j DROP",
                   "! -s 10.0.2.0/24 -j DROP", "-s 10.1.0.0/16 -j DROP", "-s 10.2.0.0/16 -d 10.0.0.1 -j DROP")
    reach = keyed_reach(rules, 0, len(rules))
    assert reach["src"] == [2, 2, 2, 3, 6, 6]
    assert reach["dport"] == [0, 3, 3, 3, 4, 5]
    assert reach["dst"] == [0, 1, 2, 3, 4, 6]
    assert keyed_reach(rules, 1, 3)["src"] == [2, 2]  # (looking no further than ``stop``)


def _grow_from_every_start(monkeypatch) -> None:
    """blocks_of without the key stretches' skip: every stretch taken as long enough."""
    from linter.engine import segment_keys, walk
    monkeypatch.setattr(segment_keys, "keyed_reach", lambda rules, start, stop: {
        dimension: [len(rules) + walk.MIN_SEGMENT] * (stop - start) for dimension in ("dst", "src", "dport")})


@pytest.mark.parametrize("seed", range(6))
def test_pass_short_stops_at_the_first_rule_whose_long_at_is_not_empty(monkeypatch, seed):
    """KeyStretches.pass_short keeps every rule up to the first (no further than ``last``) whose
    long_at names a dimension, whatever the window: the rules long_at asked one by one give."""
    from linter.engine.segment_keys import KeyStretches
    chance = random.Random(3000 + seed)
    texts = ["-s 10.0.{}.0/24 -j DROP", "-p tcp -m multiport --dports {},99 -j DROP", "-d 10.9.{}.1 -j ACCEPT",
             "-i eth0 -j ACCEPT", "! -s 10.2.{}.0/24 -j DROP"]
    lines = []
    while len(lines) < 300:
        text = chance.choice(texts)
        lines += [text.format(chance.randint(1, 50)) for _ in range(chance.choice((1, 2, 5, 9, 12)))]
    rules = _rules(*lines)
    dimensions = ("dst", "src", "dport")
    for window in (1, 5, 64, 1024):
        monkeypatch.setattr(segment_keys, "REACH_WINDOW", window)
        for last in (len(rules) - 8, len(rules) // 2):
            stretches, asked = KeyStretches(rules, dimensions, 8), KeyStretches(rules, dimensions, 8)
            i = 0
            while i < len(rules):
                blocks: list = []
                stop = stretches.pass_short(blocks, i, last)
                expected = i + 1
                while expected <= last and not asked.long_at(expected):
                    expected += 1
                if expected > last:
                    expected = len(rules)
                assert stop == expected and blocks == list(rules[i:stop])
                i = stop
