"""Values remembered for objects by identity.

The engine remembers things about model objects (a chain's dispatch blocks, whether a rule
has an opaque match) and about its own shared tuples (a path's conditions): keyed by
``id()``, because hashing them costs their size or they are equal without being the same.
An entry keeps its object alive, so the id cannot be reused while the entry exists.
"""

from __future__ import annotations

from typing import Generic, TypeVar

V = TypeVar("V")
_MISSING = object()


class IdentityCache(Generic[V]):
    """A bounded map from objects (by identity) to values; it starts afresh when full."""

    __slots__ = ("_entries", "_limit")

    def __init__(self, limit: int = 100_000):
        self._entries: dict[int, tuple[object, V]] = {}
        self._limit = limit

    def get(self, obj: object, default=None):
        """The value remembered for ``obj``, or ``default``."""
        hit = self._entries.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        return default

    def put(self, obj: object, value: V) -> V:
        """Remember ``value`` for ``obj``; returns it."""
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[id(obj)] = (obj, value)
        return value
