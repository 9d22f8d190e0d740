"""Cutting boxes to the accept hull (engine/hull.py) and forgetting chains a box came back from:
the same verdicts with fewer boxes."""

from linter.engine.hull import MAX_ACCEPTS, hull_of, suffix_rules
from linter.engine.paths import PathEvaluator
from linter.engine.space import ALL_STATES
from linter.engine.universe import initial_boxes, interface_representatives
from linter.engine.walk import Outcome, Walker, blocks_of, unpruned
from linter.model import Family
from tests.engine.helpers import exposure, ruleset

HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
HOST = (HEAD + ":side - [0:0]\n"
        "-A INPUT -i lo -j ACCEPT\n"  # line 6
        "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        "-A INPUT -p udp -m multiport --dports 1024,2048 -j DROP\n"
        "-A INPUT -s 198.51.100.0/24 -j side\n"
        "-A INPUT -p tcp -m tcp --dport 8080 -j DROP\n"  # line 10
        "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n"
        "-A side -s 198.51.100.7/32 -j RETURN\n"
        "-A side -p tcp -m tcp --dport 9000 -j DROP\n"
        "COMMIT\n")


def _input(text):
    document = ruleset(text)
    table = document.tables[0]
    return table, table.chain("INPUT")


def test_the_hull_after_each_accept_holds_what_later_rules_may_accept():
    table, chain = _input(HOST)
    found = suffix_rules(table, blocks_of(chain))
    assert sorted(found) == [0, 1, 2]  # the start, after the lo accept, after the conntrack accept
    assert [rule.span.line for rule in found[2]] == [11]
    hull = hull_of(found[2], Family.IPV4)
    assert (hull.proto, hull.dport, hull.sport, hull.src, hull.dst) == (((6, 6),), ((22, 22),), None, None, None)
    assert hull_of(found[0], Family.IPV4).is_full()  # -i lo accepts every port


def test_too_many_accepts_leave_no_hull_before_them():
    rules = "".join(f"-A INPUT -i eth{i} -j ACCEPT\n" for i in range(MAX_ACCEPTS + 1))
    table, chain = _input(HEAD + rules + "COMMIT\n")
    assert sorted(suffix_rules(table, blocks_of(chain))) == list(range(1, MAX_ACCEPTS + 1))
    # A dispatch segment of as many accepts is one block: no hull at all.
    rules = "".join(f"-A INPUT -s 10.0.{i // 256}.{i % 256}/32 -j ACCEPT\n" for i in range(MAX_ACCEPTS + 1))
    table, chain = _input(HEAD + rules + "COMMIT\n")
    assert suffix_rules(table, blocks_of(chain)) == {}


def test_cut_parts_are_dropped_and_walked_again_name_their_rule():
    document = ruleset(HOST)
    evaluator = PathEvaluator([document])
    boxes = initial_boxes(Family.IPV4, interface_representatives([document]), ALL_STATES)
    results = evaluator.evaluate(boxes)
    pruned = [r for r in results if r.box.trail and r.box.trail[-1].event == "pruned"]
    assert pruned and all(r.verdict is Outcome.DROP for r in pruned)
    # Walked again, tcp/8080 is dropped by its rule (line 10), the rest by the policy.
    lines = set()
    for result in pruned:
        for box, outcome in unpruned(result.box, result.verdict):
            assert outcome is Outcome.DROP
            last = box.trail[-1]
            lines.add(last.rule.span.line if last.event == "rule" else last.event)
    assert lines == {8, 10, 13, "policy"}


def test_cutting_changes_no_verdict():
    document = ruleset(HOST)
    table, chain = _input(HOST)
    boxes = initial_boxes(Family.IPV4, interface_representatives([document]), ALL_STATES)

    def accepted(prune):
        walker = Walker()
        walker.prune = prune
        return {(b.proto, b.dport, b.src, b.iif, b.state) for b, o in walker.walk(table, chain, boxes)
                if o is Outcome.ACCEPT}

    assert accepted(True) == accepted(False)
    ssh = [e for e in exposure(HOST) if e.protocol == 6 and e.reach == "internet"]
    assert [(e.ports, e.via) for e in ssh] == [(((22, 22),), ())]


def test_what_comes_back_from_a_chain_takes_its_trail_from_before_the_jump():
    table, chain = _input(HOST)
    document = ruleset(HOST)
    boxes = initial_boxes(Family.IPV4, interface_representatives([document]), ALL_STATES)
    walker = Walker()
    for box, outcome in walker.walk(table, chain, boxes):
        if outcome is Outcome.ACCEPT:
            assert [s.rule.span.line for s in box.trail] in ([6], [7], [11])  # never the jump at line 9
    traced = Walker(record=True)
    jumps = {s.rule.span.line for b, o in traced.walk(table, chain, boxes) if o is Outcome.ACCEPT
             for s in b.trail if s.event == "rule"}
    assert 9 in jumps  # a trace still records every step
