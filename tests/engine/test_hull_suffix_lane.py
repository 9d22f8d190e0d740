"""suffix_rules settles a block of one rule without _rules_accepting's loop, and a jump's answer
as _rule_accepting works it out at depth 0: on random chains of drops, returns, accepts, jumps
and gotos (into chains that jump on, loop, or are missing), the same map as asking
_rules_accepting of every block, as it did before."""

from __future__ import annotations

import random
from itertools import chain as chain_from

import pytest

from linter.engine import hull
from linter.engine.hull import MAX_ACCEPTS, _rules_accepting, suffix_rules
from linter.engine.walk import blocks_of
from linter.model import Rule
from tests.engine.helpers import ruleset


def _general(table, blocks) -> dict:
    """suffix_rules as it was: every block asked of _rules_accepting."""
    found: dict = {}
    suffix: tuple = ()
    for position in range(len(blocks) - 1, -1, -1):
        block = blocks[position]
        if type(block) is Rule and block.verdict.kind in hull._STOPPING:
            continue
        rules = chain_from.from_iterable(block.groups) if hasattr(block, "groups") else (block,)
        more = _rules_accepting(table, rules, 0, frozenset())
        if more is None:
            return found
        if more:
            if position + 1 < len(blocks):
                found[position + 1] = suffix
            suffix = more + suffix
            if len(suffix) > MAX_ACCEPTS:
                return found
    found[0] = suffix
    return found


def _text(seed: int) -> str:
    rng = random.Random(seed)
    users = [f"u{i}" for i in range(rng.randrange(1, 8))]
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]"]
    lines += [f":{name} - [0:0]" for name in users]

    def rule(chain: str, deep: bool) -> str:
        match = rng.choice(["", f"-s 10.0.{rng.randrange(4)}.0/24 ", f"-p tcp -m tcp --dport {rng.randrange(20, 30)} ",
                            "-i eth0 ", f"-d 192.0.2.{rng.randrange(8)}/32 "])
        target = rng.choice(["DROP", "DROP", "RETURN", "ACCEPT", "REJECT", "LOG", "jump", "jump", "goto", "missing"])
        if target == "jump":
            return f"-A {chain} {match}-j {rng.choice(users)}"
        if target == "goto":
            return f"-A {chain} {match}-g {rng.choice(users)}"
        if target == "missing":
            return f"-A {chain} {match}-j nowhere"
        return f"-A {chain} {match}-j {target}"

    for name in users:
        lines += [rule(name, True) for _ in range(rng.randrange(0, 6))]
    lines += [rule("INPUT", False) for _ in range(rng.randrange(1, 40))]
    if rng.random() < 0.3:  # a dispatch run (one Segment block)
        lines += [f"-A INPUT -s 10.1.{i}.0/24 -j {rng.choice(['ACCEPT', 'DROP'] + users)}" for i in range(12)]
    lines += [rule("INPUT", False) for _ in range(rng.randrange(0, 10))]
    return "\n".join(lines + ["COMMIT", ""])


@pytest.mark.parametrize("seed", range(300))
def test_suffix_rules_is_the_general_path(seed):
    document = ruleset(_text(seed))
    table = document.tables[0]
    chain = table.chain("INPUT")
    blocks = blocks_of(chain)
    hull._ACCEPTS._entries.clear()
    fast = suffix_rules(table, blocks)
    hull._ACCEPTS._entries.clear()
    assert fast == _general(table, blocks)


def test_suffix_rules_near_the_nesting_limit(monkeypatch):
    from linter.engine import walk

    text = _text(7)
    for depth in (0, 1, 2, 3):
        monkeypatch.setattr(walk, "MAX_DEPTH", depth)
        document = ruleset(text)
        table = document.tables[0]
        blocks = blocks_of(table.chain("INPUT"))
        hull._ACCEPTS._entries.clear()
        fast = suffix_rules(table, blocks)
        hull._ACCEPTS._entries.clear()
        assert fast == _general(table, blocks)
