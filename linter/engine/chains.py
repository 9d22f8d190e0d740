"""Finding a chain of a table by name, through an index built once per table."""

from __future__ import annotations

from linter.engine.memo import IdentityCache
from linter.model import Chain, Table

_CHAIN_INDEX: IdentityCache[dict[str, Chain]] = IdentityCache(10_000)


def chain_named(table: Table, name: str | None) -> Chain | None:
    """The chain ``name`` of ``table``, through an index built once per table."""
    return chains_by_name(table).get(name or "")


def chains_by_name(table: Table) -> dict[str, Chain]:
    """The index of ``table``'s chains by name (built once per table; not to be changed), for
    loops that look up many names."""
    index = _CHAIN_INDEX.get(table)
    if index is None:
        index = _CHAIN_INDEX.put(table, {chain.name: chain for chain in table.chains})
    return index
