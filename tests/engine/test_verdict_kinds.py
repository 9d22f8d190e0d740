"""engine/verdict_kinds.py: a large chain's verdict kinds, gathered once, let the passes that
read only jumps or NAT rules step over chains without any; what they find is the same as
rule by rule (compared here with the lane turned off, on random tables of large chains)."""

from __future__ import annotations

import random

import pytest

from linter.checks import hygiene, jump_graph
from linter.engine import decided_lane, roles, verdict_kinds
from linter.engine.memo import forget_every_file
from linter.engine.verdict_kinds import LARGE, kinds_of, lacks
from linter.model import VerdictKind
from tests.engine.helpers import ruleset

_FILLER = ("-s 10.{a}.{b}.0/24 -p tcp -m tcp --dport 22 -j ACCEPT", "-s 10.{a}.{b}.0/24 -j DROP",
           "-p udp -m udp --dport {port} -j RETURN", "-s 10.{a}.{b}.0/24 -j LOG --log-prefix x")
_FILTER_SPECIAL = ("-i eth{a} -j SIDE", "-s 10.{a}.0.0/16 -g SIDE", "-i wg{a} -j SIDE")
_NAT_SPECIAL = {
    "PREROUTING": ("-d 203.0.113.{a}/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.{b}:80",
                   "-i eth{a} -p tcp -m tcp --dport 81 -j DNAT --to-destination 10.0.0.{b}",
                   "-d 203.0.113.{a}/32 -p tcp -m tcp --dport 82 -j REDIRECT --to-ports 8080"),
    "POSTROUTING": ("-s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", "-o eth{a} -j SNAT --to-source 203.0.113.{b}",
                    "-o eth{a} -j MASQUERADE"),
}


def _chain(rng: random.Random, chain: str, specials: tuple, size: int) -> list[str]:
    lines = [f"-A {chain} " + rng.choice(_FILLER).format(a=rng.randrange(256), b=rng.randrange(256),
                                                          port=rng.randrange(1, 65536)) for _ in range(size)]
    for _ in range(rng.choice((0, 0, 1, 3))):  # none at all in half the chains: the chain is stepped over
        lines.insert(rng.randrange(len(lines) + 1),
                     f"-A {chain} " + rng.choice(specials).format(a=rng.randrange(1, 9), b=rng.randrange(1, 250)))
    return lines


def _text(seed: int) -> str:
    rng = random.Random(seed)

    def size() -> int:
        return rng.choice((3, LARGE - 1, LARGE, LARGE + 40))

    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
    lines += _chain(rng, "PREROUTING", _NAT_SPECIAL["PREROUTING"], size())
    lines += _chain(rng, "POSTROUTING", _NAT_SPECIAL["POSTROUTING"], size())
    lines += ["COMMIT", "*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":SIDE - [0:0]"]
    lines += _chain(rng, "INPUT", _FILTER_SPECIAL, size())
    lines += _chain(rng, "FORWARD", _FILTER_SPECIAL, size())
    lines += ["-A SIDE -p tcp -m tcp --dport 443 -j ACCEPT", "COMMIT", ""]
    return "\n".join(lines)


def _answers(parsed) -> tuple:
    forget_every_file()
    tables = parsed.tables
    return (roles.infer_roles([parsed]), roles.host_addresses([parsed]), roles._ruleset_bridges(parsed),
            [(graph.edges, graph.undefined, graph.used, graph.bases) for graph in map(jump_graph._build, tables)],
            hygiene._forwarding_in_use(parsed),
            [decided_lane.worth_trying_first(chain) for table in tables for chain in table.chains])


@pytest.mark.parametrize("seed", range(40))
def test_passes_find_what_they_find_rule_by_rule(monkeypatch, seed):
    parsed = ruleset(_text(seed))
    for table in parsed.tables:
        for chain in table.chains:
            every = {rule.verdict.kind for rule in chain.rules}
            assert kinds_of(chain) == every
            for kinds in ({VerdictKind.JUMP, VerdictKind.GOTO}, {VerdictKind.MASQUERADE}, {VerdictKind.DNAT}):
                assert lacks(chain, frozenset(kinds)) == (len(chain.rules) >= LARGE and not every & kinds)
    fast = _answers(parsed)
    monkeypatch.setattr(verdict_kinds, "LARGE", 10**9)  # every chain rule by rule (lacks is never True)
    assert _answers(parsed) == fast
    # rule by rule as the passes were written before the lane: the same answers
    assert fast[4] == any(rule.verdict.kind in (VerdictKind.DNAT, VerdictKind.SNAT, VerdictKind.MASQUERADE)
                          for table in parsed.tables for chain in table.chains for rule in chain.rules)
    assert fast[5] == [any(rule.verdict.kind in (VerdictKind.JUMP, VerdictKind.GOTO) for rule in chain.rules)
                       for table in parsed.tables for chain in table.chains]


def test_remembered_per_chain_and_forgotten_per_file():
    rules = [f"-A INPUT -s 10.0.{n % 256}.0/24 -j ACCEPT" for n in range(LARGE + 5)]
    parsed = ruleset("\n".join(["*filter", ":INPUT DROP [0:0]", *rules, "COMMIT", ""]))
    chain = parsed.tables[0].chains[0]
    assert kinds_of(chain) is kinds_of(chain) == {VerdictKind.ACCEPT}
    assert lacks(chain, frozenset((VerdictKind.JUMP,)))
    forget_every_file()
    assert verdict_kinds._KINDS.get(chain) is None
