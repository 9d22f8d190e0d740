"""The firewalld front end: zone, service and policy XML files and firewalld.conf.

A zone file is read together with the configuration directory around it when it sits in one
(``<dir>/zones/<zone>.xml`` next to ``<dir>/services/`` and ``<dir>/firewalld.conf``, files the
read policy allows): custom services come from services/, the default zone from firewalld.conf,
and the other zones' sources and interfaces decide which packets reach this zone. Otherwise the
distribution defaults apply (default zone public, the built-in services of rules/firewalld/).
A zone file alone that binds no interface or source is read as the default zone: its file is all
there is to know. Service, ipset and other definition files and firewalld.conf give no ruleset of
their own (their problems are still reported). A policy file is read like a zone file, with the zones
of its configuration directory; only policies ending at this host (egress-zone HOST) are modelled: a
policy's accepts are its own file's findings, a zone file keeps what its directory's policies drop.
The model follows firewalld's nftables backend (build.py); docs/firewalld.md.

This package's ``__init__`` stays light: ``detect.py`` declares the front end (linter/frontends/registry.py)
and is read on every run; ``frontend.py`` holds ``parse`` and is imported only when a file is parsed.
"""

from __future__ import annotations

import importlib

# What ``from linter.frontends.firewalld import NAME`` finds in frontend.py; any other name is a submodule.
_FROM_FRONTEND = ("parse", "read_configuration", "ROOTS", "DEFINITIONS", "SYNTAX", "REFUSED_XML")


def __getattr__(name: str):
    """``parse`` and the front end's other public names, imported from ``frontend.py`` on first use."""
    if name not in _FROM_FRONTEND:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.frontend"), name)
