"""The nftables front end: `nft -f` scripts and `nft list ruleset` output into the model.

grammars/nftables.lark parses the command and block structure (tables, chains,
sets, maps, objects, define, include) and keeps each chain, set and object line as
a sequence of atoms. This package then

1. walks the commands in order (an Interpreter), keeping the state nft keeps:
   variables with block scopes, tables, chains, sets, rule handles, includes;
2. reads every remaining rule's atoms with nft's keyword tables (selectors such as
   ``ip saddr`` or ``ct original ip daddr``, statements, verdicts) into terms;
3. turns the terms into model Rules, inlining named sets with their final
   elements and expanding verdict maps, NAT maps and concatenations into one
   Rule per element.

Anything it does not model becomes an OpaqueMatch or a Statement; a syntax error
is one PL010 diagnostic and reading goes on at the next statement.

Modules: keywords (nft's keyword tables), atoms (words, groups, values, terms),
cursor (one rule's atoms into terms), builders and loader (the commands in order),
state (what a file read keeps, error recovery), to_model and matches (terms into
model Rules).

This package's ``__init__`` stays light: ``detect.py`` declares the front end (linter/frontends/registry.py)
and is read on every run; ``frontend.py`` holds ``parse`` and is imported only when a file is parsed.
"""

from __future__ import annotations

import importlib

# What ``from linter.frontends.nftables import NAME`` finds in frontend.py; any other name is a submodule.
_FROM_FRONTEND = ("parse", "START_SYMBOLS")


def __getattr__(name: str):
    """``parse`` and the front end's other public names, imported from ``frontend.py`` on first use."""
    if name not in _FROM_FRONTEND:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.frontend"), name)
