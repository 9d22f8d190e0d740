"""engine/quickmiss.py: a box it calls a miss is one split_rule leaves whole and unmatched, and
it calls no miss where a match cuts the box first."""

from __future__ import annotations

from linter.engine import intervals as iv
from linter.engine.quickmiss import misses, miss_tests, quick_split
from linter.engine.space import ALL_STATES, Box, split_rule
from linter.model import Family
from tests.engine.helpers import ruleset

RULES = """\
*filter
:INPUT DROP [0:0]
-A INPUT -s 10.1.2.0/24 -j DROP
-A INPUT -p tcp -m multiport --dports 22,80,443 -j DROP
-A INPUT -p tcp -s 10.0.0.0/8 --dport 8080 -j ACCEPT
-A INPUT -m conntrack --ctstate NEW -s 10.1.2.0/24 -j DROP
-A INPUT ! -s 10.1.2.0/24 -j DROP
-A INPUT -d 192.168.0.0/16 -j ACCEPT
COMMIT
"""


def _rules():
    document = ruleset(RULES)
    return document.tables[0].chain("INPUT").rules


def _box(proto=((0, 255),), dport=((0, 65535),), src=((0, 2**32 - 1),), dst=((0, 2**32 - 1),),
         state=ALL_STATES, nat_dport=None) -> Box:
    return Box(Family.IPV4, proto, ((0, 65535),), dport, src, dst, frozenset({"eth0"}), state,
               nat_dport=nat_dport)


def _net(text: str) -> iv.Ranges:
    first, length = text.split("/")
    a, b, c, d = (int(part) for part in first.split("."))
    low = (a << 24) | (b << 16) | (c << 8) | d
    return ((low, low + (1 << (32 - int(length))) - 1),)


def _agrees(rule, box: Box) -> bool:
    """misses() for ``box``, checked against split_rule's answer when it says yes."""
    found = misses(box, miss_tests(rule))
    if found:
        inside, outside = split_rule(box, rule.matches, rule, False, decide=False)
        assert inside is None and len(outside) == 1 and outside[0] is box
    return found


def test_a_source_elsewhere_misses_and_an_overlapping_one_is_split():
    drop = _rules()[0]
    assert _agrees(drop, _box(src=_net("10.9.0.0/16")))
    assert not _agrees(drop, _box(src=_net("10.1.0.0/16")))
    assert not _agrees(drop, _box())  # a long list around the /24: split_rule decides


def test_the_protocol_decides_before_the_ports():
    multiport = _rules()[1]
    assert _agrees(multiport, _box(proto=((17, 17),)))
    assert _agrees(multiport, _box(proto=((6, 6),), dport=((1000, 2000),)))  # past the ports' bounds
    # Between 22 and 443 but on none of them: not a quick miss (the bounds say nothing).
    assert not _agrees(multiport, _box(proto=((6, 6),), dport=((100, 200),)))
    # Protocols other than tcp in the box: the protocol match cuts it first.
    assert not _agrees(multiport, _box(dport=((1000, 2000),)))


def test_a_later_match_counts_only_when_the_earlier_ones_hold_the_whole_box():
    rule = _rules()[2]  # -p tcp -s 10.0.0.0/8 --dport 8080
    assert _agrees(rule, _box(proto=((6, 6),), src=_net("10.1.0.0/16"), dport=((1, 100),)))
    assert _agrees(rule, _box(proto=((6, 6),), src=_net("11.0.0.0/8")))
    # The source is cut (half inside 10/8): the port's miss would leave two pieces.
    assert not _agrees(rule, _box(proto=((6, 6),), src=((0x0A000000 - 256, 0x0A0000FF),), dport=((1, 100),)))


def test_what_it_cannot_read_is_left_to_split_rule():
    rules = _rules()
    assert miss_tests(rules[3]) is None  # a state match first
    assert miss_tests(rules[4]) is None  # a negated address
    # A DNATed destination port is what later rules see: no quick answer from the original one.
    rule = rules[1]
    assert not misses(_box(proto=((6, 6),), dport=((1, 10),), nat_dport=((22, 22),)), miss_tests(rule))
    assert _agrees(rules[5], _box(dst=_net("10.0.0.0/8")))


def test_quick_split_gives_split_rules_answer_on_many_boxes():
    """Every rule above against boxes of random protocols, ports and addresses (seeded): the
    same matching part and the same parts going on, in the same order."""
    import random

    chooser = random.Random(14)
    rules = _rules()

    def some_ranges(top: int) -> iv.Ranges:
        count = chooser.choice((1, 1, 2, 12))
        points = sorted(chooser.sample(range(top), 2 * count))
        return iv.normalize((points[2 * n], points[2 * n + 1]) for n in range(count))

    compared = 0
    for _ in range(400):
        box = _box(proto=chooser.choice((((6, 6),), ((17, 17),), ((0, 255),), ((1, 17),))),
                   dport=some_ranges(65536), src=chooser.choice((some_ranges(2**32), _net("10.1.2.0/24"))),
                   dst=some_ranges(2**32))
        for rule in rules:
            expected = split_rule(box, rule.matches, rule, False, decide=False)
            assert quick_split(box, rule, False, False) == expected
            compared += 1
    assert compared == 400 * len(rules)


def _reference_tests(matches):
    """The quick tests by their definition: each leading match's _test_of, up to the first
    without one or that may cut a box it holds."""
    from linter.engine.quickmiss import _test_of
    tests = []
    for match in matches:
        test = _test_of(match)
        if test is None:
            break
        tests.append(test)
        if not test[4]:
            break
    return tuple(tests) or None


def test_the_tests_read_in_place_are_the_tests_match_by_match():
    """quickmiss._build reads each match by its type in place: the same tests as _test_of's, over
    the rules of the samples and random rules (negations, families, port and protocol lists)."""
    import random
    from pathlib import Path
    from linter.engine.quickmiss import _build
    from linter.pipeline import read_document
    rules = []
    for path in sorted(Path(__file__).resolve().parents[2].joinpath("samples").glob("*.rules")):
        document = read_document(str(path)).document
        if document is not None:
            rules += [rule for table in document.tables for chain in table.chains for rule in chain.rules]
    chance = random.Random(7)
    parts = ["-s 10.1.{}.0/24", "! -s 10.2.{}.0/24", "-d 192.168.{}.1", "-d 10.3.0.0/16,10.4.{}.0/24",
             "-p tcp", "-p udp", "! -p tcp", "-i eth0", "-m conntrack --ctstate NEW",
             "-p tcp -m multiport --dports 22,{}0,443", "-p udp --sport 5{}", "-p tcp -m multiport ! --dports 2{}"]
    lines = ["-A INPUT " + " ".join(chance.choice(parts).format(chance.randint(1, 9))
                                    for _ in range(chance.randint(1, 3))) + " -j DROP" for _ in range(300)]
    text = "*filter\n:INPUT DROP [0:0]\n" + "\n".join(lines) + "\nCOMMIT\n"
    rules += list(ruleset(text).tables[0].chain("INPUT").rules)
    assert len(rules) > 300
    for rule in rules:
        assert _build(rule.matches) == _reference_tests(rule.matches), rule
