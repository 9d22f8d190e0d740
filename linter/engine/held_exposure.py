"""Exposures whose public sources the summary holds as how they were cut (engine/held_sources.py).

Exposure's own class has no ``__getattr__`` (with one, Python 3.11 specialises no read of any
Exposure attribute): an exposure made with held sources becomes a HeldExposure instead
(``held_sources.hold_sources``), whose ``sources`` property builds the list when read.
"""

from __future__ import annotations

from dataclasses import fields

from linter.engine import intervals as iv
from linter.engine.exposure import Exposure


class HeldExposure(Exposure):
    """An Exposure whose public sources the summary kept as how they were cut
    (engine/held_sources.py, ``_held_sources`` in its dictionary): built each time they are read.
    Equal to, hashed and shown as the Exposure of the list built."""

    def __new__(cls, *args, **kwargs):
        # Made from fields (dataclasses.replace): the Exposure of those fields, its sources a list.
        # Without any (copy, pickle): an empty instance whose dictionary is then restored.
        if args or kwargs:
            return Exposure(*args, **kwargs)
        return object.__new__(cls)

    @property
    def sources(self) -> iv.Ranges:
        return self.__dict__["_held_sources"].ranges()

    def __eq__(self, other):
        # Also asked first for ``exposure == held`` (a subclass's reflected __eq__ goes first).
        if isinstance(other, Exposure):
            return _field_values(self) == _field_values(other)
        return NotImplemented

    __hash__ = Exposure.__hash__  # (a class that defines __eq__ alone is unhashable)

    def __repr__(self) -> str:
        return "Exposure" + Exposure.__repr__(self)[len(type(self).__qualname__):]


_FIELD_NAMES = tuple(f.name for f in fields(Exposure))


def _field_values(exposure: Exposure) -> tuple:
    """What the dataclass's equality compares: every field, in order."""
    return tuple([getattr(exposure, name) for name in _FIELD_NAMES])
