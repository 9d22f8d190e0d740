"""Growing a dispatch segment's keys (engine/segment_keys.py): the run ends at the first rule
without a plain key of the family, or whose key overlaps an earlier key without equalling it;
equal keys share a group; the union of the keys is iv.normalize's."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine.segment_keys import covered_by, dispatch_key, grow_keys  # noqa: E402
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
