"""Finding a chain of a table by name, through an index built once per table."""

from __future__ import annotations

from linter.engine.memo import IdentityCache, on_forget
from linter.model import Chain, Table

_CHAIN_INDEX: IdentityCache[dict[str, Chain]] = IdentityCache(10_000)
# The last table asked about and its index: a walk asks of one table over and over (kube-proxy
# 100k: 125,000 look-ups), each a method call and a dictionary look-up through the cache.
# Let go with the other caches (memo.forget_every_file), so it keeps no old document alive.
_LAST: list = [None, None]
on_forget(lambda: _LAST.__setitem__(slice(None), [None, None]))


def chain_named(table: Table, name: str | None) -> Chain | None:
    """The chain ``name`` of ``table``, through an index built once per table."""
    return chains_by_name(table).get(name or "")


def chains_by_name(table: Table) -> dict[str, Chain]:
    """The index of ``table``'s chains by name (built once per table; not to be changed), for
    loops that look up many names."""
    last = _LAST
    if last[0] is table:
        return last[1]
    index = _CHAIN_INDEX.get(table)
    if index is None:
        index = _CHAIN_INDEX.put(table, {chain.name: chain for chain in table.chains})
    last[0], last[1] = table, index
    return index
