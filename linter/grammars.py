"""Locating data files (grammars/, rules/) and building Lark parsers once per process.

In a checkout the data lives at the project root; in an installed wheel it is
packaged under ``linter/_data`` (see pyproject.toml's force-include).
"""

from __future__ import annotations

import functools
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The directory of packaged data ``name`` ("grammars" or "rules")."""
    installed = _PACKAGE_DIR / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent / name


@functools.lru_cache(maxsize=None)
def load_parser(grammar: str, start: str | tuple[str, ...] = "start", **options):
    """A Lark LALR parser (contextual lexer, positions on) for grammars/<grammar>.lark, cached.

    ``start`` is one start symbol or a tuple of them (a tuple, not a list, so the call
    can be cached); with several, each ``parse`` call names the one it wants.
    """
    from lark import Lark

    path = data_dir("grammars") / f"{grammar}.lark"
    return Lark(
        path.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        start=list(start) if isinstance(start, tuple) else start,
        **options,
    )
