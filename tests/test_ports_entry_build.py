"""Registry entries built without the frozen dataclass's __init__ (ports._entry) are the objects
the constructor makes."""

from __future__ import annotations

import pickle

from linter.ports import PortEntry, default_registry, entry_from_dict


def test_every_registry_entry_is_what_the_constructor_makes():
    entries = default_registry().entries
    assert len(entries) > 400
    assert not hasattr(PortEntry, "__post_init__")  # _entry would skip it
    for entry in entries:
        made = PortEntry(**vars(entry))
        assert type(entry) is PortEntry
        assert made == entry and hash(made) == hash(entry) and repr(made) == repr(entry)
        assert list(vars(made).items()) == list(vars(entry).items())  # the same fields in the same order
        assert pickle.loads(pickle.dumps(entry)) == entry


def test_an_entry_from_configuration_is_what_the_constructor_makes():
    entry = entry_from_dict({"name": "x", "ports": "10-12,5", "risk": "high", "transports": ["UDP"],
                             "images": ["docker.io/library/Foo:1"], "aliases": [" Bar "]})
    assert entry == PortEntry(name="x", ranges=((5, 5), (10, 12)), transports=("udp",), description="",
                              category="other", plaintext=False, alternative=None, risk="high", why="",
                              references=(), finding=None, title=None, aliases=("bar",), images=("foo",),
                              evidence_only=False)
