"""The files of code compiled ahead of time (``dataclass_code``, ``regex_code``): where each lives
and how it is read back. Each is ``linter/<stem>.<cache tag>.marshal`` holding
``(header, payload)``; a missing, unreadable or stale file (its header not this interpreter's)
reads as None, which costs start-up time, never behaviour."""

from __future__ import annotations

import marshal
import os
import sys


def stored_path(stem: str) -> str:
    """The file of ``stem`` for this interpreter (CPython 3.11: ``<stem>.cpython-311.marshal``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        f"{stem}.{sys.implementation.cache_tag}.marshal")


def read_stored(path: str, header) -> dict | None:
    """The payload dictionary stored in ``path`` (``stored_path``'s) when its header equals
    ``header``, else None."""
    if sys.implementation.cache_tag is None:
        return None
    try:
        with open(path, "rb") as handle:
            found, payload = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if found != header or not isinstance(payload, dict):
        return None
    return payload
