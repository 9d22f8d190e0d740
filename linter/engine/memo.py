"""Values remembered for objects by identity.

The engine remembers things about model objects (a chain's dispatch blocks, whether a rule
has an opaque match) and about its own shared tuples (a path's conditions): keyed by
``id()``, because hashing them costs their size or they are equal without being the same.
An entry keeps its object alive, so the id cannot be reused while the entry exists.

Such entries are worth nothing once their file is linted, and they hold its model (and what
was computed from it) alive: ``forget_every_file`` empties every cache of this kind, and the
pipeline calls it before each file, so a run over many files holds one file's objects at a time.
"""

from __future__ import annotations

import weakref
from typing import Callable, Generic, TypeVar

V = TypeVar("V")
_MISSING = object()
_CACHES: "weakref.WeakSet[IdentityCache]" = weakref.WeakSet()
_CLEARED_TOO: list[Callable[[], None]] = []


def per_file(cache: dict) -> dict:
    """Register a plain dict that holds model objects (or values keyed by their id) so that
    ``forget_every_file`` empties it too; returns it."""
    _CLEARED_TOO.append(cache.clear)
    return cache


def on_forget(clear: Callable[[], None]) -> None:
    """Have ``forget_every_file`` call ``clear`` (a cache kept with a count beside it)."""
    _CLEARED_TOO.append(clear)


def forget_every_file() -> None:
    """Empty every identity cache and every registered dict: what they hold belongs to files
    already linted (a cache is only ever a shortcut, so this never changes a result)."""
    for cache in list(_CACHES):
        cache._entries.clear()
    for clear in _CLEARED_TOO:
        clear()


class IdentityCache(Generic[V]):
    """A bounded map from objects (by identity) to values; it starts afresh when full."""

    __slots__ = ("_entries", "_limit", "__weakref__")

    def __init__(self, limit: int = 100_000):
        self._entries: dict[int, tuple[object, V]] = {}
        self._limit = limit
        _CACHES.add(self)

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
