"""Source runs (engine/sourcerun.py): ufw's user rules, `allow from NET port P` kept as holes,
with the same verdicts, exposure and dead rules as a rule-by-rule walk."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import sourcerun  # noqa: E402
from linter.engine.sourcerun import FREE, HOLE, KEYED, SourceRun  # noqa: E402
from linter.engine.walk import blocks_of, chain_named  # noqa: E402
from tests.engine.helpers import exposure, findings, ruleset, verdict  # noqa: E402

HEAD = ("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:user-input - [0:0]\n"
        ":user-limit - [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n"
        "-A INPUT -j user-input\n-A user-limit -j REJECT --reject-with icmp-port-unreachable\n")


def user_rules(extra: str = "") -> str:
    """Twelve sources each allowed one port, between rules for everyone, blocked networks and
    a rate limit, then ``extra`` (from line FIRST_EXTRA_LINE on)."""
    lines = []
    for i in range(1, 13):
        lines.append(f"-A user-input -s 198.51.{i}.0/24 -p tcp -m tcp --dport {2000 + i} -j ACCEPT")
        lines.append(f"-A user-input -p tcp -m tcp --dport {3000 + i} -j ACCEPT")
        if i % 3 == 0:
            lines.append(f"-A user-input -s 203.0.{i}.0/24 -j DROP")
    lines.append("-A user-input -p tcp -m tcp --dport 4000 -m conntrack --ctstate NEW "
                 "-m recent --update --seconds 30 --hitcount 6 --name DEFAULT --rsource -j user-limit")
    lines.append("-A user-input -p tcp -m tcp --dport 4000 -j ACCEPT")
    # What the user rules return meets one more rule: what a hole decided must not come back.
    return HEAD + "".join(line + "\n" for line in lines) + extra + "-A INPUT -p tcp -m tcp --dport 2001 -j ACCEPT\nCOMMIT\n"


FIRST_EXTRA_LINE = 9 + 12 * 2 + 4 + 2 + 1  # the 9 lines of HEAD, the 30 rules, then the first extra line
# Meeting holes: a source's port again, `allow port P` after `allow from NET port P`, a blocked
# source that holds a hole, a jump for everyone at a held port, a source's second port.
COLLISIONS = ("-A user-input -s 198.51.1.0/24 -p tcp -m tcp --dport 2001 -j DROP\n"
              "-A user-input -p tcp -m tcp --dport 2002 -j ACCEPT\n"
              "-A user-input -s 198.51.3.0/24 -j DROP\n"
              "-A user-input -p tcp -m tcp --dport 2004 -j user-limit\n"
              "-A user-input -s 198.51.5.0/24 -p udp -m udp --dport 53 -j ACCEPT\n"
              "-A user-input -p tcp -m tcp --dport 2006 -j ACCEPT\n"
              "-A user-input -p udp -m udp --dport 53 -j ACCEPT\n")


def test_user_rules_fold_into_one_run_of_holes_keyed_rules_and_free_rules():
    chain = chain_named(ruleset(user_rules()).tables[0], "user-input")
    blocks = blocks_of(chain)
    assert [type(block) for block in blocks] == [SourceRun]
    kinds = blocks[0].kinds
    assert (kinds.count(HOLE), kinds.count(KEYED), kinds.count(FREE)) == (12, 4, 14)


def test_a_base_chain_that_drops_by_policy_is_not_folded():
    text = user_rules().replace("-A user-input ", "-A INPUT ")
    assert not any(isinstance(block, SourceRun) for block in blocks_of(ruleset(text).tables[0].chains[0]))


def test_holes_decide_their_source_and_port_only():
    rules = ruleset(user_rules(COLLISIONS))
    flow = dict(dst="192.0.2.1", proto="tcp")
    assert verdict(rules, src="198.51.1.9", dport=2001, **flow) == "accept"  # the hole's own rule first
    assert verdict(rules, src="198.51.2.9", dport=2003, **flow) == "drop"
    assert verdict(rules, src="198.51.1.9", dport=3001, **flow) == "accept"  # a later rule for everyone
    assert verdict(rules, src="198.51.2.9", dport=2002, **flow) == "accept"
    assert verdict(rules, src="198.51.9.9", dport=2002, **flow) == "accept"  # `allow port 2002`
    assert verdict(rules, src="198.51.3.9", dport=2003, **flow) == "accept"  # before the source's drop
    assert verdict(rules, src="198.51.3.9", dport=2006, **flow) == "drop"  # after it
    assert verdict(rules, src="198.51.2.9", dport=2006, **flow) == "accept"
    assert verdict(rules, src="203.0.3.9", dport=3012, **flow) == "drop"
    assert verdict(rules, src="203.0.3.9", dport=3001, **flow) == "accept"  # before that network's drop
    assert verdict(rules, src="198.51.4.9", dport=2004, **flow) == "accept"
    assert verdict(rules, src="198.51.7.9", dport=2004, **flow) == "reject"
    assert verdict(rules, src="198.51.9.9", dport=4000, **flow) == "accept"


@pytest.mark.parametrize("extra", ["", COLLISIONS, "LIMITS"])
def test_runs_change_nothing_that_is_reported(monkeypatch, extra):
    text = user_rules(LIMITS if extra == "LIMITS" else extra)
    summary = {(e.protocol, e.reach, e.ports, e.sources, e.interfaces, e.possible,
                tuple(d.span.line for d in e.deciders)) for e in exposure(text)}
    with_runs = (summary, findings(text))
    monkeypatch.setattr(sourcerun, "MIN_HOLES", 10**9)  # every rule on its own (a new parse: new chains)
    assert not any(isinstance(b, SourceRun) for b in blocks_of(chain_named(ruleset(text).tables[0], "user-input")))
    summary = {(e.protocol, e.reach, e.ports, e.sources, e.interfaces, e.possible,
                tuple(d.span.line for d in e.deciders)) for e in exposure(text)}
    assert (summary, findings(text)) == with_runs


def test_a_port_allowed_again_for_its_source_is_dead_where_it_repeats():
    text = user_rules("-A user-input -s 198.51.2.0/24 -p tcp -m tcp --dport 2002 -j ACCEPT\n"
                      "-A user-input -p tcp -m tcp --dport 3005 -j ACCEPT\n")
    assert findings(text, {"PL402", "PL403"}) == [("PL402", FIRST_EXTRA_LINE, None),
                                                  ("PL402", FIRST_EXTRA_LINE + 1, None)]


# ufw's limit rules at a port a source's hole holds (2005: 198.51.5.0/24's), then a rule for
# everyone: the holes must stay holes (the source not cut into boxes of its own), and what the
# jump and the `-m recent` rules meet is what the rule-by-rule walk gives them.
LIMITS = ("-A user-input -p tcp -m tcp --dport 2005 -m conntrack --ctstate NEW -m recent --set --name DEFAULT "
          "--rsource\n"
          "-A user-input -p tcp -m tcp --dport 2005 -m conntrack --ctstate NEW -m recent --update --seconds 30 "
          "--hitcount 6 --name DEFAULT --rsource -j user-limit\n"
          "-A user-input -p tcp -m tcp --dport 2005 -j user-limit\n"
          "-A user-input -p tcp -m tcp --dport 3100 -j ACCEPT\n")


def test_limit_rules_at_a_held_port_keep_the_holes():
    from linter.engine.shadow import universe
    from linter.engine.space import split_rule
    from linter.model import Family

    chain = chain_named(ruleset(user_rules(LIMITS)).tables[0], "user-input")
    (run,) = blocks_of(chain)
    met: dict[int, list] = {}

    def apply(rule, boxes):
        met[rule.span.line] = boxes
        return [part for box in boxes for part in split_rule(box, rule.matches, rule, False, False)[1]
                if rule.verdict.terminal or rule.verdict.target == "user-limit"]

    sourcerun.run(run, universe(Family.IPV4, frozenset({"eth0"})), apply, False, False)
    held = ((0xC6330500, 0xC63305FF),)  # 198.51.5.0/24
    limit_lines = range(FIRST_EXTRA_LINE, FIRST_EXTRA_LINE + 3)
    # The limit rules meet only tcp at port 2005, without the hole's part.
    assert all(box.proto == ((6, 6),) and box.dport == ((2005, 2005),) for line in limit_lines for box in met[line])
    assert all(not sourcerun.iv.intersect(box.src, held) for line in limit_lines for box in met[line])
    # The rule after them meets every source whole: nothing was cut per source.
    assert met[FIRST_EXTRA_LINE + 3] and all(box.src != held for box in met[FIRST_EXTRA_LINE + 3])
    assert all(sourcerun.iv.covers(box.src, held) for box in met[FIRST_EXTRA_LINE + 3])


def test_limit_rules_at_a_held_port_decide_as_rule_by_rule():
    rules = ruleset(user_rules(LIMITS))
    flow = dict(dst="192.0.2.1", proto="tcp")
    assert verdict(rules, src="198.51.5.9", dport=2005, **flow) == "accept"  # its hole, before the limits
    assert verdict(rules, src="198.51.6.9", dport=2005, **flow) == "reject"  # user-limit rejects
    assert verdict(rules, src="198.51.5.9", dport=3100, **flow) == "accept"


def test_a_whole_source_is_shared_and_a_part_of_it_is_normalised():
    """_Plan.source_part: the ranges a box holds of a source, the source's own tuple when they
    are all of it, else what normalize gives; equal either way (random sources and boxes)."""
    import random

    from linter.engine import intervals as iv

    rng = random.Random(14)
    for _ in range(300):
        entries = []
        at = 0
        for _ in range(rng.randint(1, 6)):
            ranges = []
            for _ in range(rng.randint(1, 3)):
                at += rng.randint(2, 20)
                lo = at
                at += rng.randint(0, 10)
                ranges.append((lo, at))
            entries.append((tuple(ranges), [], {1}))
        plan = sourcerun._Plan(entries)
        box_src = iv.normalize(tuple((lo, lo + rng.randint(0, 40)) for lo in rng.sample(range(0, at + 20), 4)))
        inner = iv.intersect(box_src, plan.covered)
        met: dict[int, list] = {}
        for lo, hi in inner:
            for r_lo, r_hi, number, whole in plan.rows:
                if r_hi >= lo and r_lo <= hi:
                    met.setdefault(number, []).append(whole if lo <= r_lo and r_hi <= hi
                                                      else (max(lo, r_lo), min(hi, r_hi)))
        for number, parts in met.items():
            expected = iv.normalize(tuple((lo, hi) for lo, hi in parts))
            got = plan.source_part(number, parts)
            assert got == expected == iv.intersect(entries[number][0], box_src)
            if got == entries[number][0]:
                assert got is entries[number][0]
