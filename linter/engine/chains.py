"""Finding a chain of a table by name, through an index built once per table."""

from __future__ import annotations

from linter.engine.memo import IdentityCache
from linter.model import Chain, Table

_CHAIN_INDEX: IdentityCache[dict[str, Chain]] = IdentityCache(10_000)


def chain_named(table: Table, name: str | None) -> Chain | None:
    """The chain ``name`` of ``table``, through an index built once per table."""
    index = _CHAIN_INDEX.get(table)
    if index is None:
        index = _CHAIN_INDEX.put(table, {chain.name: chain for chain in table.chains})
    return index.get(name or "")
