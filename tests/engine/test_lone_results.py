"""Results decided by one rule alone (engine/lone_results.py) are summarised without the merge:
the exposures, their order included, are the ones the merge of every entry gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.engine import lone_results as lone_module
from linter.engine.exposure import ExposureAnalysis, NetworkClasses
from linter.engine.paths import Result
from linter.engine.walk import Outcome
from linter.model import Hook
from linter.pipeline import read_document
from linter.rule_cases import all_case_files
from tests.engine.helpers import ruleset

ROOT = Path(__file__).resolve().parents[2]

# Lone accepts next to accepts that are not (a jump, a multiport rule split by an earlier one, a
# DNAT, an interface, private and public sources, a /0), sharing protocols and ports, so that
# the order of equal sort keys is tested.
MIXED = """*nat
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p tcp --dport 8080 -j DNAT --to-destination 10.0.0.5:80
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:ADMIN - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -s 203.0.113.0/24 -p tcp --dport 22 -j ACCEPT
-A INPUT -s 10.1.0.0/16 -p tcp --dport 22 -j ACCEPT
-A INPUT -s 198.51.100.7 -j ADMIN
-A INPUT -s 192.0.2.0/24 -p tcp --dport 22 -j ACCEPT
-A INPUT -s 192.0.2.0/25 -p tcp -m multiport --dports 22,443 -j ACCEPT
-A INPUT -p udp --dport 53 -j ACCEPT
-A INPUT -s 100.64.0.0/10 -p tcp --dport 443 -j ACCEPT
-A INPUT -p tcp --dport 443 -j ACCEPT
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -s 8.8.8.0/24 -p udp --dport 161 -j ACCEPT
-A INPUT -m mark --mark 0x1 -p tcp --dport 3306 -j ACCEPT
-A INPUT -s 9.9.9.0/24 -p tcp --dport 3306 -j ACCEPT
-A ADMIN -p tcp --dport 22 -j ACCEPT
-A FORWARD -d 10.0.0.5 -p tcp --dport 80 -j ACCEPT
COMMIT
"""

# Interfaces split every rule's space into boxes: no rule is alone.
INTERFACES = MIXED.replace("-A INPUT -p udp --dport 53", "-A INPUT -i eth1 -p udp --dport 53")

# A loop of a script gives rules with one span: one cause, merged as before.
LOOP = """#!/bin/sh
for net in 203.0.113.0/24 198.51.100.0/24 192.0.2.0/24; do
  iptables -A INPUT -s "$net" -p tcp --dport 22 -j ACCEPT
done
iptables -A INPUT -s 8.8.8.0/24 -p tcp --dport 22 -j ACCEPT
iptables -P INPUT DROP
"""



def _lone_ids(results: list, accept, final_hook) -> set[int] | None:
    """lone_or_every's answer as ids: those of the results of an Every, or its set (or None) as it is."""
    found = lone_module.lone_or_every(results, accept, final_hook)
    if type(found) is lone_module.Every:
        return {id(result) for result in found}
    return found

def _both_ways(monkeypatch, rulesets, **options):
    """(exposures with every lone result summarised apart, exposures with none) of fresh analyses."""
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0)
    forced = ExposureAnalysis(rulesets, **options).exposures()
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 10**9)
    plain = ExposureAnalysis(rulesets, **options).exposures()
    return forced, plain


@pytest.mark.parametrize("loopback", [True, False])
@pytest.mark.parametrize("text", [MIXED, INTERFACES])
def test_mixed_ruleset_gives_the_merged_exposures_in_the_merged_order(monkeypatch, loopback, text):
    document = ruleset(text)
    forced, plain = _both_ways(monkeypatch, [document], loopback=loopback)
    assert forced == plain
    assert len(forced) > 10


def test_the_lone_results_of_the_mixed_ruleset_are_the_single_rule_accepts(monkeypatch):
    analysis = ExposureAnalysis([ruleset(MIXED)])
    from linter.model import Family

    results = analysis.results(Family.IPV4)
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0)
    lone = _lone_ids(results, Outcome.ACCEPT, Hook.INPUT)
    lines = sorted({r.box.trail[-1].rule.span.line for r in results if id(r) in lone})
    # Not 15's and 25's (a jump to ADMIN and its accept), 18's, 20's and 21's (split by the rules
    # before them: several results each), 23's (a mark) or the DNAT's path; the rest are alone,
    # after nat PREROUTING's policy (11's, the loopback accept, without it).
    assert lines == [11, 13, 14, 16, 17, 19, 22, 24]


def test_rules_of_one_span_stay_one_cause(monkeypatch, tmp_path):
    path = tmp_path / "fw.sh"
    path.write_text(LOOP)
    document = read_document(str(path)).document
    forced, plain = _both_ways(monkeypatch, [document], loopback=False)
    assert forced == plain
    looped = [e for e in forced if e.deciders and e.deciders[0].span.line == 3]
    assert len(looped) == 1 and len(looped[0].sources) == 3


def test_fewer_than_the_threshold_take_the_general_path():
    document = ruleset(MIXED)
    from linter.model import Family

    results = ExposureAnalysis([document]).results(Family.IPV4)
    assert _lone_ids(results, Outcome.ACCEPT, Hook.INPUT) is None


def test_a_rule_that_also_decides_another_path_is_not_lone(monkeypatch):
    document = ruleset(MIXED)
    from linter.model import Family

    results = ExposureAnalysis([document]).results(Family.IPV4)
    only = next(r for r in results if r.verdict is Outcome.ACCEPT and r.box.trail[-1].rule is not None
                and r.box.trail[-1].rule.span.line == 24)
    # The same rule seen on another path (as through a jump) makes it no longer alone.
    other = Result(only.box._replace(trail=(only.box.trail[-1], only.box.trail[-1])), Outcome.ACCEPT, False)
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0)
    lone = _lone_ids(results + [other], Outcome.ACCEPT, Hook.INPUT)
    assert id(only) not in lone
    assert id(only) in _lone_ids(results, Outcome.ACCEPT, Hook.INPUT)


def _documents():
    paths = sorted(p for p in (ROOT / "samples").rglob("*") if p.is_file() and p.name != "README.md")
    for path in paths:
        yield str(path.relative_to(ROOT)), [read_document(str(path)).document]


def _case_documents(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cases")
    for code, case_file in all_case_files().items():
        for number, case in enumerate(case_file.failing + case_file.passing):
            where = directory / f"{code}-{number}"
            written = case.write(where)
            documents = []
            for path in written:
                try:
                    documents.append(read_document(str(path), input_format=case.format).document)
                except Exception:  # noqa: BLE001 (a case made to break a front end is not this test's)
                    continue
            documents = [d for d in documents if d is not None and hasattr(d, "tables")]
            if documents:
                yield f"{code} {case.name}", documents


def test_every_sample_and_rule_case_gives_the_same_exposures(monkeypatch, tmp_path_factory):
    compared = 0
    for name, documents in list(_documents()) + list(_case_documents(tmp_path_factory)):
        documents = [d for d in documents if d is not None and hasattr(d, "tables")]
        if not documents:
            continue
        for loopback in (True, False):
            forced, plain = _both_ways(monkeypatch, documents, classes=NetworkClasses(), loopback=loopback)
            assert forced == plain, name
        compared += 1
    assert compared > 100


def test_lone_makers_make_what_the_constructors_make():
    from linter.engine import exposure as exposure_module
    from linter.engine.exposure import Decider, Exposure
    from linter.model import Family, Span

    span = Span("fw.rules", 3, 1, 3, 20)
    decider = Decider(span, None, "INPUT", "filter", Hook.INPUT)
    values = (Family.IPV4, 6, ((22, 22),), "restricted", ((1, 2),), frozenset({"eth0"}), False, (), (decider,))
    made = exposure_module.DECIDER_BUILDER()  # as LoneLane.add_all makes them
    made.span, made.rule, made.chain, made.table, made.hook = span, None, "INPUT", "filter", Hook.INPUT
    made.__class__ = Decider
    assert type(made) is Decider and made == decider and hash(made) == hash(decider)
    assert [getattr(made, name) for name in Decider.__slots__] == [getattr(decider, name) for name in Decider.__slots__]
    assert repr(made) == repr(decider)
    lone = exposure_module.EXPOSURE_BUILDER()
    for name, value in zip(Exposure.__slots__, values + exposure_module._LONE_TAIL):
        setattr(lone, name, value)
    lone.__class__ = Exposure
    built = Exposure(*values)
    assert type(lone) is Exposure and lone == built and hash(lone) == hash(built)
    assert not hasattr(lone, "__dict__") and not hasattr(built, "__dict__")  # (slotted)
    assert [getattr(lone, name) for name in Exposure.__slots__] == [getattr(built, name) for name in Exposure.__slots__]
    assert all(getattr(lone, name) is getattr(built, name) for name in Exposure.__slots__)  # (the defaults' own)


def test_the_entry_maker_makes_what_the_constructor_makes():
    """exposure.exposure_of against Exposure(**entry), for entries with every subset of the
    optional fields (given or left to their defaults), as the summary's entries have them."""
    import itertools

    from linter.engine import exposure as exposure_module
    from linter.engine.exposure import Decider, Exposure
    from linter.model import Family, Span

    decider = Decider(Span("fw.rules", 3, 1, 3, 20), None, "INPUT", "filter", Hook.INPUT)
    entry = dict(family=Family.IPV6, protocol=17, ports=((53, 53),), reach="internal", sources=((1, 2),),
                 interfaces=frozenset({"eth0"}), possible=True, conditions=("the recent match",), deciders=(decider,))
    optional = dict(forwarded=True, nat_targets=("10.0.0.5",), nat_ports=((80, 80),), via=(decider,), routed=True,
                    destinations=((5, 9),), out_interfaces=frozenset({"eth1"}))
    for count in range(len(optional) + 1):
        for names in itertools.combinations(optional, count):
            values = {**entry, **{name: optional[name] for name in names}}
            made, built = exposure_module.exposure_of(dict(values)), Exposure(**values)
            assert type(made) is Exposure and made == built and hash(made) == hash(built) and repr(made) == repr(built)
            assert all(getattr(made, name) is getattr(built, name) for name in Exposure.__slots__)


@pytest.mark.parametrize("seed", range(6))
def test_random_allow_lists_give_the_merged_exposures(monkeypatch, seed):
    """Single-range sources of every prefix length (inside one address class, in a gap between
    public ranges, across a class's edge), interfaces, private destinations and repeated rules:
    the lane's own cut of one range and its makers against the general path."""
    import random

    rng = random.Random(seed)
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A INPUT -i lo -j ACCEPT"]
    for _ in range(rng.randrange(20, 60)):
        address = ".".join(str(rng.choice([rng.randrange(256), 10, 100, 127, 172, 192, 0, 255])) for _ in range(4))
        rule = f"-A INPUT -s {address}/{rng.randrange(1, 33)}"
        if rng.random() < 0.15:
            rule += f" -i eth{rng.randrange(2)}"
        if rng.random() < 0.15:
            rule += " -d 10.0.0.1" if rng.random() < 0.5 else " -d 198.51.100.1"
        rule += rng.choice([" -p tcp -m tcp --dport 22", " -p tcp -m tcp --dport 443", " -p udp --dport 53",
                            " -p tcp", ""])
        lines.append(rule + " -j ACCEPT")
        if rng.random() < 0.1:
            lines.append(lines[-1])  # the same rule twice: the second is shadowed
    lines.append("COMMIT")
    document = ruleset("\n".join(lines) + "\n")
    for loopback in (True, False):
        forced, plain = _both_ways(monkeypatch, [document], loopback=loopback)
        assert forced == plain
        # (the interface sets are equal; how a frozenset prints depends on how it was built)
        assert [(type(e), repr(e.deciders)) for e in forced] == [(type(e), repr(e.deciders)) for e in plain]


@pytest.mark.parametrize("shuffled", [False, True])
def test_lone_results_do_not_depend_on_the_order_of_the_spans(monkeypatch, tmp_path, shuffled):
    """Spans listed while their lines ascend (none can equal an earlier one) and keyed once they
    do not (a script's loop repeats a span; results out of line order): the same lone results."""
    import random

    from linter.model import Family

    path = tmp_path / "fw.sh"
    path.write_text(LOOP)
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0)
    for document in (ruleset(MIXED), ruleset(INTERFACES), read_document(str(path)).document):
        results = ExposureAnalysis([document]).results(Family.IPV4)
        expected = _lone_ids(results, Outcome.ACCEPT, Hook.INPUT)
        reordered = list(reversed(results))
        if shuffled:
            random.Random(len(results)).shuffle(reordered)
        assert _lone_ids(reordered, Outcome.ACCEPT, Hook.INPUT) == expected


@pytest.mark.parametrize("read_once", [False, True])
def test_every_accepted_result_lone_is_said_once_and_gives_the_merged_exposures(monkeypatch, read_once):
    """An allow-list (drops among its results: a policy, a DROP rule): lone_or_every lists every
    accepted result (an Every) and gathers no ids, lone_results gives all their ids, and the summary hands every accepted result
    to the lane at once (letting the walk's results go first when it reads them once)."""
    from linter.model import Family

    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]",
             "-A INPUT -i lo -j ACCEPT", "-A INPUT -s 192.0.2.7 -j DROP"]
    lines += [f"-A INPUT -s 198.{n // 256}.{n % 256}.0/24 -p tcp -m tcp --dport {(22, 443)[n % 2]} -j ACCEPT"
              for n in range(40)]
    lines += ["-A INPUT -s 10.9.0.0/16 -p udp --dport 53 -j ACCEPT", "COMMIT"]
    document = ruleset("\n".join(lines) + "\n")
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0)
    results = ExposureAnalysis([document]).results(Family.IPV4)
    every = lone_module.lone_or_every(results, Outcome.ACCEPT, Hook.INPUT)
    assert type(every) is lone_module.Every and every == [r for r in results if r.verdict is Outcome.ACCEPT]
    backwards = lone_module.lone_or_every(results[::-1], Outcome.ACCEPT, Hook.INPUT)  # (keyed: lines descend)
    assert type(backwards) is lone_module.Every and backwards == every[::-1]
    accepted = {id(r) for r in results if r.verdict is Outcome.ACCEPT}
    assert len(accepted) < len(results) and _lone_ids(results, Outcome.ACCEPT, Hook.INPUT) == accepted
    forced = ExposureAnalysis([document])
    if read_once:
        forced.read_once()
    made = forced.exposures()
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 10**9)
    plain = ExposureAnalysis([document]).exposures()
    assert made == plain and [(type(e), repr(e.deciders)) for e in made] == [(type(e), repr(e.deciders)) for e in plain]


def test_spelt_out_gives_the_numbers_one_by_one():
    assert lone_module.spelt_out([range(0, 3), 5, range(6, 6), 7, range(9, 11)]) == [0, 1, 2, 5, 7, 9, 10]
    assert lone_module.spelt_out([]) == []
