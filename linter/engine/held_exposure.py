"""Exposures whose public sources the summary holds as how they were cut (engine/held_sources.py).

Exposure's own class has no ``__getattr__`` (with one, Python 3.11 specialises no read of any
Exposure attribute): an exposure made with held sources becomes a HeldExposure instead
(``held_sources.hold_sources``), whose ``sources`` property builds the list when read.
"""

from __future__ import annotations

from dataclasses import fields

from linter.engine import intervals as iv
from linter.engine.exposure import Exposure

_FIELD_NAMES = tuple(f.name for f in fields(Exposure))
# Exposure's own slots, read and written past HeldExposure's ``sources`` property.
_SLOTS = tuple(Exposure.__dict__[name] for name in _FIELD_NAMES)
_HELD = Exposure.__dict__["sources"].__get__


class HeldExposure(Exposure):
    """An Exposure whose public sources the summary kept as how they were cut
    (engine/held_sources.py: a HeldSources in Exposure's own ``sources`` slot): built each time
    they are read. Equal to, hashed and shown as the Exposure of the list built.
    (No slots of its own: an Exposure becomes one by ``__class__`` assignment, in place.)"""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        # Made from fields (dataclasses.replace): the Exposure of those fields, its sources a list.
        # Without any (copy, pickle): an empty instance whose slots __setstate__ then fills.
        if args or kwargs:
            return Exposure(*args, **kwargs)
        return object.__new__(cls)

    @property
    def sources(self) -> iv.Ranges:
        return _HELD(self).ranges()

    def __eq__(self, other):
        # Also asked first for ``exposure == held`` (a subclass's reflected __eq__ goes first).
        if isinstance(other, Exposure):
            return _field_values(self) == _field_values(other)
        return NotImplemented

    __hash__ = Exposure.__hash__  # (a class that defines __eq__ alone is unhashable)

    def __repr__(self) -> str:
        return "Exposure" + Exposure.__repr__(self)[len(type(self).__qualname__):]

    def __getstate__(self) -> list:
        # (Exposure's, the dataclass's, reads the fields: the sources built, which its
        # __setstate__ could not store past the property.) The slots as they are, held.
        return [slot.__get__(self) for slot in _SLOTS]

    def __setstate__(self, state: list) -> None:
        for slot, value in zip(_SLOTS, state):
            slot.__set__(self, value)


def _field_values(exposure: Exposure) -> tuple:
    """What the dataclass's equality compares: every field, in order."""
    return tuple([getattr(exposure, name) for name in _FIELD_NAMES])
