"""Dispatch segments: long runs of rules keyed on one dimension (blocklists, allow-lists,
kube-proxy's services) are walked by partitioning boxes once, with the same results as a
rule-by-rule walk."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import walk  # noqa: E402
from linter.engine.walk import Segment, blocks_of  # noqa: E402
from tests.engine.helpers import exposure, findings, ruleset, verdict  # noqa: E402

HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
ACCEPTS = "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT\n"


def blocklist(count: int, extra: str = "") -> str:
    drops = "".join(f"-A INPUT -s 203.0.113.{i}/32 -j DROP\n" for i in range(1, count + 1))
    return HEAD + drops + extra + ACCEPTS + "COMMIT\n"


def allowlist(count: int) -> str:
    rules = "".join(f"-A INPUT -s 10.{i}.0.0/16 -p tcp -m tcp --dport {port} -j ACCEPT\n"
                    for i in range(1, count + 1) for port in (22, 443))
    return HEAD + rules + "COMMIT\n"


def shapes(text: str) -> list:
    chain = ruleset(text).tables[0].chains[0]
    return [(block.dimension, len(block.groups), sum(map(len, block.groups))) if isinstance(block, Segment)
            else block.span.line for block in blocks_of(chain)]


def test_a_run_of_source_drops_is_one_segment():
    assert shapes(blocklist(10)) == [("src", 10, 10), 15, 16]


def test_an_allow_list_is_dispatched_on_its_sources_not_its_two_ports():
    # Both keys make a run of 20 rules; by port each part would still walk 10 rules, by
    # source 2.
    assert shapes(allowlist(10)) == [("src", 10, 20)]


def test_an_overlapping_source_ends_the_run():
    text = blocklist(9, "-A INPUT -s 203.0.113.0/24 -j DROP\n")
    assert shapes(text) == [("src", 9, 9), 14, 15, 16]


def test_blocked_sources_are_dropped_and_the_rest_is_let_in():
    rules = ruleset(blocklist(20))
    assert verdict(rules, src="203.0.113.7", dst="192.0.2.1", proto="tcp", dport=22) == "drop"
    assert verdict(rules, src="203.0.113.21", dst="192.0.2.1", proto="tcp", dport=22) == "accept"
    assert verdict(rules, src="203.0.113.7", dst="192.0.2.1", proto="tcp", dport=80) == "drop"


def _summary(text: str) -> set:
    return {(e.protocol, e.reach, e.ports, e.sources, e.interfaces, tuple(d.span.line for d in e.deciders))
            for e in exposure(text)}


@pytest.mark.parametrize("text", [blocklist(12), allowlist(6),
                                  blocklist(10, "-A INPUT -s 203.0.113.5/32 -j DROP\n")])
def test_segments_change_nothing_that_is_reported(monkeypatch, text):
    with_segments = (_summary(text), findings(text))
    monkeypatch.setattr(walk, "MIN_SEGMENT", 10**9)  # every rule on its own (a new parse: new chains)
    assert (_summary(text), findings(text)) == with_segments


def test_a_blocked_source_listed_twice_is_dead_where_it_repeats():
    text = blocklist(10, "-A INPUT -s 203.0.113.4/32 -j DROP\n")
    assert findings(text, {"PL402", "PL403"}) == [("PL402", 15, None)]
