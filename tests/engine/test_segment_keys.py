"""Growing a dispatch segment's keys (engine/segment_keys.py): the run ends at the first rule
without a plain key of the family, or whose key overlaps an earlier key without equalling it;
equal keys share a group; the union of the keys is iv.normalize's."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv, segment_keys  # noqa: E402
from linter.engine.segment_keys import covered_by, dispatch_key, grow_keys, keyless_at  # noqa: E402
from linter.model import AddressMatch, Direction, Family, PortMatch  # noqa: E402
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
    rules = _rules("-s 10.0.0.0/24 -j DROP", "-s 10.0.1.0/24 -p tcp --dport 22 -j DROP", "-p tcp --dport 23 -j DROP",
                   "! -s 10.0.2.0/24 -j DROP", "-s 10.1.0.0/16 -j DROP", "-s 10.2.0.0/16 -d 10.0.0.1 -j DROP")
    reach = _keyed_reach(rules, 0, len(rules))
    assert reach["src"] == [2, 2, 2, 3, 6, 6]
    assert reach["dport"] == [0, 3, 3, 3, 4, 5]
    assert reach["dst"] == [0, 1, 2, 3, 4, 6]
    assert _keyed_reach(rules, 1, 3)["src"] == [2, 2]  # (looking no further than ``stop``)
    assert segment_keys.long_starts(rules, 0, len(rules), 2) == {"src": {0, 4}, "dport": {1}, "dst": set()}


@pytest.mark.parametrize("seed", range(8))
def test_long_starts_are_the_rules_whose_key_stretch_reaches_least_rules(seed):
    """long_starts (runs of a family's byte found by a regular expression) names exactly the rules
    whose stretch (_keyed_reach, a rule at a time) holds ``least`` rules, in any window, with
    stretches of IPv4 and IPv6 keys side by side (an nft inet table's)."""
    chance = random.Random(4000 + seed)
    v4 = ["-s 10.0.{}.0/24 -j DROP", "-p tcp -m multiport --dports {},99 -j DROP", "-d 10.9.{}.1 -j ACCEPT",
          "-d 10.8.0.{} -s 10.1.{}.0/24 -j ACCEPT", "-i eth0 -j ACCEPT", "! -s 10.2.{}.0/24 -j DROP",
          "-p udp --dport {} -s 10.3.{}.0/24 -j DROP"]
    v6 = ["-s 2001:db8:{}::/48 -j DROP", "-d 2001:db8::{} -j ACCEPT", "-d 2001:db8::{} -s 2001:db8:1:{}::/64 -j ACCEPT",
          "-p tcp --dport {} -j DROP"]
    chunks = []
    for _ in range(40):
        family = chance.random() < 0.3
        text = chance.choice(v6 if family else v4)
        chunks.append((family, [text.format(chance.randint(1, 50), chance.randint(1, 50))
                                for _ in range(chance.choice((1, 2, 4, 9)))]))
    parsed = {family: iter(_rules(*[line for f, lines in chunks if f is family for line in lines]))
              for family in (False, True)}
    rules = [next(parsed[family]) for family, lines in chunks for _ in lines]
    for least in (1, 2, 3, 8):
        for start, stop in ((0, len(rules)), (5, 40), (17, 18), (len(rules) - 30, len(rules))):
            reach = _keyed_reach(rules, start, stop)
            expected = {dimension: {start + at for at, end in enumerate(ends) if end - (start + at) >= least}
                        for dimension, ends in reach.items()}
            assert segment_keys.long_starts(rules, start, stop, least) == expected


def _grow_from_every_start(monkeypatch) -> None:
    """blocks_of without the key stretches' skip: every stretch taken as long enough."""
    from linter.engine import segment_keys
    monkeypatch.setattr(segment_keys, "long_starts", lambda rules, start, stop, least: {
        dimension: set(range(start, stop)) for dimension in ("dst", "src", "dport")})


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


_NO_KEY = object()  # (a rule without a key on a dimension: equal to no family)
_PORT_KEY = object()  # (a port key: of every family alike)


def _keyed_reach(rules, start: int, stop: int) -> dict[str, list[int]]:
    """(The plain statement long_starts is tested against.) Per dimension, for every rule of
    ``rules[start:stop]`` (in order), where the stretch of
    rules from it whose keys are of its key's family ends, looking no further than ``stop``
    (the rule itself without a key: its own index). grow_keys from a rule stops at that end or
    before (at the first rule without a key of the family), so walk.blocks_of need not grow a
    run from a rule whose stretch is shorter than a segment, when it ends before ``stop``: one
    pass reading each rule's matches once, instead of a key and a grow per rule and dimension
    (a random mix's INPUT of 50,000 rules, few of them in runs)."""
    count = stop - start
    families = {"dst": [_NO_KEY] * count, "src": [_NO_KEY] * count, "dport": [_NO_KEY] * count}
    dst, src, dport = families["dst"], families["src"], families["dport"]
    source, destination = Direction.SOURCE, Direction.DESTINATION
    for index in range(count):
        seen_src = seen_dst = seen_port = False
        for match in rules[start + index].matches:
            if match.negated:
                continue
            kind = type(match)
            if kind is AddressMatch:
                if match.direction is source:
                    if not seen_src:
                        seen_src = True
                        if match.addresses.ranges:
                            src[index] = match.addresses.family
                elif match.direction is destination and not seen_dst:
                    seen_dst = True
                    if match.addresses.ranges:
                        dst[index] = match.addresses.family
            elif kind is PortMatch and match.direction is destination and not seen_port:
                seen_port = True
                if match.ports.ranges:
                    dport[index] = _PORT_KEY
    return {dimension: _reach_of(found, start) for dimension, found in families.items()}


def _reach_of(families: list, start: int) -> list[int]:
    """For every index of ``families`` (the rules' from ``start``), the end of the stretch from
    it of one family, as a rule's index (its own where it holds no key)."""
    count = len(families)
    reach = [0] * count
    end = start + count
    following = _NO_KEY
    for index in range(count - 1, -1, -1):
        family = families[index]
        if family is _NO_KEY:
            end = start + index
        elif family is not following:
            end = start + index + 1
        # (else: in the stretch of the rule after it, which ends where that one ends)
        reach[index] = end
        following = family
    return reach
