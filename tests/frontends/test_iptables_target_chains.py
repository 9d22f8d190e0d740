"""Whether ``-j NAME`` names a chain when NAME is a target extension's name: RuleReader looks it up
among tables.target_chain_names (one scan for those names) and finds what chain_names finds."""

from __future__ import annotations

import random

from linter.frontends.iptables.rule_options import TARGETS
from linter.frontends.iptables.rule_reader import RuleReader
from linter.frontends.iptables.save import parse
from linter.frontends.iptables.tables import chain_names, target_chain_names
from linter.model import Family, VerdictKind
from linter.source import SourceFile


def test_target_chain_names_are_the_target_names_among_chain_names():
    rnd = random.Random(5)
    names = sorted(TARGETS)[:12] + ["DNATX", "XDNAT", "LOGGER", "MARK2", "SVC", "D\"NAT", "!MARK", "#LOG"]
    heads = [":", "-N ", "--new-chain ", "--new ", "-A ", "--append ", "-I ", "--insert ", "-P ", "-j ", "[1:2] -A ",
             " \t-A\t", "# -N "]
    ends = [" - [0:0]", " -j ACCEPT", "", " ", "\t", '"x', "\r"]
    for _ in range(400):
        lines = [rnd.choice(heads) + rnd.choice(names) + rnd.choice(ends) for _ in range(rnd.randint(1, 5))]
        text = "\n".join(lines) + rnd.choice(["", "\n"])
        expected = [name for name in chain_names(text) if name in TARGETS]
        assert target_chain_names(text) == expected, text
        reader = RuleReader("x", Family.IPV4, lambda: chain_names(text), [], lambda: target_chain_names(text))
        plain = RuleReader("x", Family.IPV4, lambda: chain_names(text), [])
        for name in names:
            assert reader.has_chain(name) == plain.has_chain(name) == (name in chain_names(text)), (name, text)


def test_a_chain_named_like_a_target_is_jumped_to():
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n"
            "-A PREROUTING -p tcp -j DNAT --to-destination 10.0.0.1\n"
            "-A PREROUTING -p udp -j MARK\n"
            "-N MARK\n-A MARK -j ACCEPT\nCOMMIT\n")
    rules = {r.span.line: r for t in parse(SourceFile("t.rules", text)).document.tables for c in t.chains
             for r in c.rules}
    assert rules[3].verdict.kind is VerdictKind.DNAT
    assert rules[4].verdict.kind is VerdictKind.JUMP and rules[4].verdict.target == "MARK"
