"""The summary's results let go as read (engine/read_once.py, ExposureAnalysis.read_once): the
same exposures, the results gone after; entries numbered only where lone exposures are
(lone_results.number_the_rest): in_merge_order places them as with every entry numbered."""

from __future__ import annotations

import random

import pytest

from linter.engine import lone_results
from linter.engine.exposure import ExposureAnalysis
from linter.engine.read_once import drained
from linter.frontends.iptables.save import parse
from linter.source import SourceFile


def test_drained_gives_the_items_in_order_and_empties_the_list():
    items = list(range(7))
    assert list(drained(items)) == list(range(7))
    assert items == []


_RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:user - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -j user
{rules}COMMIT
"""


def _ruleset(rng: random.Random):
    lines = []
    for _ in range(rng.randint(1, 40)):
        src = rng.choice(["", f"-s {rng.randint(1, 200)}.{rng.randint(0, 255)}.0.0/16 ", "-s 10.0.0.0/8 "])
        port = rng.choice(["", f"-p tcp -m tcp --dport {rng.randint(1, 2000)} "])
        verdict = rng.choice(["ACCEPT", "ACCEPT", "DROP"])
        chain = rng.choice(["INPUT", "user"])
        lines.append(f"-A {chain} {src}{port}-j {verdict}\n")
    return parse(SourceFile("rules.v4", _RULES.format(rules="".join(lines)))).document


def test_exposures_read_once_equal_the_general_path():
    rng = random.Random(5)
    for _ in range(60):
        ruleset = _ruleset(rng)
        general = ExposureAnalysis([ruleset]).exposures()
        once = ExposureAnalysis([ruleset])
        once.read_once()
        assert once.exposures() == general
        with pytest.raises(RuntimeError):
            once.results(once.families()[0])


def test_unnumbered_families_are_placed_as_when_numbered():
    rng = random.Random(8)
    for _ in range(500):
        # Two families in turn, numbers given from one counter; lone exposures only in some.
        numbers, lone, entries, exact, unnumbered, numbered = [], [], [], {}, [], 0
        for _family in range(rng.randint(1, 3)):
            with_lone = rng.random() < 0.5
            start, first = len(entries), numbered
            for _ in range(rng.randint(0, 6)):
                if with_lone and rng.random() < 0.4:
                    numbers.append(numbered)
                    lone.append(("lone", numbered))
                else:
                    entry = {"group": rng.randint(0, 3), "n": numbered}
                    if rng.random() < 0.2:
                        numbered += 1  # (an entry gathered, then dropped: a gap)
                        continue
                    entries.append(entry)
                    exact[id(entry)] = numbered
                numbered += 1
            if not with_lone:
                unnumbered.append((start, len(entries), first))
        kept = {key: value for key, value in exact.items()
                if not any(start <= index < end for start, end, _ in unnumbered
                           for index in [next(i for i, e in enumerate(entries) if id(e) == key)])}
        lone_results.number_the_rest(kept, entries, unnumbered)

        def merge(items):
            seen = {}
            for item in items:
                seen.setdefault(item["group"], item)
            return list(seen.values())

        def key(entry):
            return entry["group"]

        def make(entry):
            return ("entry", entry["n"])

        assert lone_results.in_merge_order(numbers, lone, entries, kept, merge, key, make) == \
            lone_results.in_merge_order(numbers, lone, entries, exact, merge, key, make)
