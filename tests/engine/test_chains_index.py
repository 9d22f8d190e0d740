"""The index of a table's chains by name (engine/chains.py): the last table asked about is
answered beside the cache, with the same index the cache holds, whichever tables are asked in
turn, and let go with the other caches at each file."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import chains  # noqa: E402
from linter.engine.memo import forget_every_file  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402


def _document(names: list[str]):
    declared = "".join(f":{name} - [0:0]\n" for name in names)
    return ruleset(f"*filter\n:INPUT ACCEPT [0:0]\n{declared}COMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n"
                   f"{declared}COMMIT\n")


def test_last_table_answered_as_the_cache_answers():
    chance = random.Random(3)
    documents = [_document([f"c{n}-{k}" for k in range(chance.randrange(1, 6))]) for n in range(4)]
    tables = [table for document in documents for table in document.tables]
    for _ in range(400):
        table = chance.choice(tables)
        index = chains.chains_by_name(table)
        assert index == {chain.name: chain for chain in table.chains}
        assert index is chains._CHAIN_INDEX.get(table)
        name = chance.choice([chain.name for chain in table.chains] + ["missing", None])
        assert chains.chain_named(table, name) is index.get(name or "")


def test_let_go_at_each_file():
    table = _document(["a"]).tables[0]
    chains.chains_by_name(table)
    assert chains._LAST[0] is table
    forget_every_file()
    assert chains._LAST == [None, None]
