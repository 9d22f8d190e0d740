"""The exposure walk's SourceRun cuts as RangeLists (engine/rangelist.py): intervals.py reads a
RangeList met by a few ranges chunk by chunk (no flat tuple built) and answers as it does for
the tuple, to the object; the walk of ufw's user chain gives the same results and exposures
with lists held as RangeLists and without."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from linter.engine import intervals as iv, rangelist, simple_cut
from linter.engine.exposure import ExposureAnalysis
from linter.engine.rangelist import RangeList, held
from linter.model import Family
from tests.engine.helpers import ruleset

ROOT = Path(__file__).resolve().parents[2]


def _ranges(rnd: random.Random, count: int, top: int = 70_000) -> iv.Ranges:
    points = sorted(rnd.sample(range(top), 2 * count))
    return iv.normalize((points[2 * i], points[2 * i + 1]) for i in range(count))


def _few(rnd: random.Random, ranges: iv.Ranges) -> list[iv.Ranges]:
    """Few-range lists to meet ``ranges`` with: one value inside a range, a gap, a stretch
    across chunks, all of it, past both ends, a piece of it as it is, random ones."""
    middle = ranges[len(ranges) // 2]
    gap = (ranges[5][1] + 1, ranges[6][0] - 1)
    return [((middle[0], middle[0]),), (gap,), ((ranges[30][0] + 1, ranges[200][1] - 1),), ((0, 70_000),),
            ((ranges[0][0], ranges[-1][1]),), ranges[40:43], ((70_001, 70_009),), (ranges[7],),
            ((ranges[3][0], ranges[3][1]), (ranges[90][0], ranges[120][1] + 1)), _ranges(rnd, rnd.randint(1, 6))]


@pytest.mark.parametrize("seed", range(20))
def test_intervals_read_a_range_list_met_by_a_few_ranges_chunk_by_chunk(seed):
    rnd = random.Random(seed)
    ranges = _ranges(rnd, rnd.choice((300, 900)))
    for few in _few(rnd, ranges):
        for a_first in (True, False):
            chunked = held(ranges)
            assert type(chunked) is RangeList
            pair, plain_pair = ((chunked, few), (ranges, few)) if a_first else ((few, chunked), (few, ranges))
            found = iv.intersect(*pair)
            rest = iv.subtract(chunked, few)
            assert chunked._flat is None  # (nothing flattened)
            expected = iv.intersect(*plain_pair)
            expected_rest = iv.subtract(ranges, few)
            assert (found is chunked) == (expected is ranges) and (found is few) == (expected is few)
            assert (rest is chunked) == (expected_rest is ranges)
            assert found == expected and rest == expected_rest


def test_unsorted_few_ranges_are_met_as_intervals_meets_them():
    ranges = _ranges(random.Random(3), 400)
    unsorted = (ranges[9], ranges[2])
    chunked = held(ranges)
    assert iv.intersect(chunked, unsorted) == iv.intersect(ranges, unsorted)
    assert iv.subtract(chunked, unsorted) == iv.subtract(ranges, unsorted)


def _ufw(rules: int) -> str:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return generate.ufw(rules)


def _user_rules(count: int, ipv6: bool = False) -> str:
    """ufw's user chain with every kind of rule a SourceRun meets: `allow port Q`, `deny from
    NET`, `allow from NET port P`, a limit (`-m recent` and jumps), a rule with conntrack state,
    one on an input interface, a RETURN."""
    rnd = random.Random(5)
    lines = ["*filter", ":INPUT DROP [0:0]", ":ufw-user-input - [0:0]", ":ufw-user-limit - [0:0]",
             ":ufw-user-limit-accept - [0:0]", "-A INPUT -i lo -j ACCEPT", "-A INPUT -j ufw-user-input",
             "-A INPUT -p tcp --dport 22 -j ACCEPT", "-A ufw-user-limit -j REJECT", "-A ufw-user-limit-accept -j ACCEPT"]
    for number, net in enumerate(rnd.sample(range(256, 200 * 256), count)):
        kind = number % 7
        port = 1000 + rnd.randrange(60000)
        source = f"2001:db8:{net:x}::/48" if ipv6 else f"{11 + (net >> 8)}.{net & 255}.0.0/16"
        if kind in (0, 3):
            lines.append(f"-A ufw-user-input -p tcp -m tcp --dport {port} -j ACCEPT")
        elif kind in (1, 4):
            lines.append(f"-A ufw-user-input -s {source} -j DROP")
        elif kind == 2:
            lines.append(f"-A ufw-user-input -s {source} -p tcp -m tcp --dport {port} -j ACCEPT")
        elif kind == 5:
            lines += [f"-A ufw-user-input -p tcp -m tcp --dport {port} -m conntrack --ctstate NEW -m recent --set",
                      f"-A ufw-user-input -p tcp -m tcp --dport {port} -m conntrack --ctstate NEW -m recent "
                      "--update --seconds 30 --hitcount 6 -j ufw-user-limit",
                      f"-A ufw-user-input -p tcp -m tcp --dport {port} -j ufw-user-limit-accept"]
        elif number % 21 == 6:
            lines.append(f"-A ufw-user-input -i eth1 -p udp -m udp --dport {port} -j ACCEPT")
        elif number % 35 == 13:
            lines.append(f"-A ufw-user-input -s {source} -p tcp -m tcp --dport {port} -j RETURN")
        else:
            lines.append(f"-A ufw-user-input -s {source} -m conntrack --ctstate NEW -j REJECT")
    return "\n".join(lines + ["COMMIT", ""])


def _hold(monkeypatch, at_least: int | None) -> None:
    """Lists of ``at_least`` ranges or more held as RangeLists in small chunks (None: never)."""
    value = 10 ** 9 if at_least is None else at_least
    monkeypatch.setattr(rangelist, "HOLD_AT_LEAST", value)
    monkeypatch.setattr(simple_cut, "HOLD_AT_LEAST", value)
    monkeypatch.setattr(rangelist, "SHORT_AT_MOST", 3)
    monkeypatch.setattr(rangelist, "CHUNK_AT_LEAST", 2)


def _walked(text: str, family: Family) -> tuple[list, list]:
    """(every result of the exposure walk as values, the exposures)."""
    analysis = ExposureAnalysis([ruleset(text)])
    results = [(tuple(result.box), result.verdict, result.forwarded) for result in analysis.results(family)]
    return results, analysis.exposures()


@pytest.mark.parametrize("at_least", [4, 40])
@pytest.mark.parametrize("case", ["user rules", "user rules ipv6", "ufw 400"])
def test_the_exposure_walk_is_the_same_with_range_lists(monkeypatch, case, at_least):
    family = Family.IPV6 if case.endswith("ipv6") else Family.IPV4
    text = _ufw(400) if case == "ufw 400" else _user_rules(280, ipv6=family is Family.IPV6)
    _hold(monkeypatch, None)
    plain = _walked(text, family)
    _hold(monkeypatch, at_least)
    met: list = []
    original = rangelist.looked_up

    def counted(long_, short, a, b):
        met.append(long_._flat is None)
        return original(long_, short, a, b)

    monkeypatch.setattr(rangelist, "looked_up", counted)
    assert _walked(text, family) == plain
    assert True in met  # (the walk's rules met RangeLists and read them in chunks)
    assert len(plain[0]) > 250 and plain[1]
