"""Recognising an input's format by its name and, above all, its content.

The tests themselves belong to the front ends (each package's ``detect.py``) and are combined by
``linter/frontends/registry.py``; this module is the façade the rest of portlint asks.
"""

from __future__ import annotations

from pathlib import PurePath

from linter.frontends.compose.detect import COMPOSE_SNIFF_BYTES, COMPOSE_TOP_LEVEL, looks_like_compose_head
from linter.frontends.registry import input_formats, may_sniff, named_lintable, sniffs_as
from linter.frontends.registry import detect as _detect

__all__ = ["COMPOSE_SNIFF_BYTES", "COMPOSE_TOP_LEVEL", "INPUT_FORMATS", "detect_format", "input_formats",
           "looks_like_compose_head", "looks_lintable", "looks_sniffable", "sniffs_as"]


def __getattr__(name: str):
    """``INPUT_FORMATS``: every input format portlint knows, read from the registry when asked."""
    if name == "INPUT_FORMATS":
        return input_formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def detect_format(path: str, text: str) -> str | None:
    """The front end for this file ("iptables-save", "nftables", "compose", "iptables-script", "firewalld",
    or any other registered), or None.

    Content wins over names: an iptables-save dump named anything is recognised.
    """
    return _detect(path, text)


def looks_lintable(path: str) -> bool:
    """Whether a file found in a directory walk is worth reading (by name alone)."""
    return named_lintable(path)


def looks_sniffable(path: str) -> bool:
    """Whether a directory walk should read the start of a file named like no front end's file (some
    front end sniffs files of its suffix: YAML for compose, XML for firewalld)."""
    return may_sniff(PurePath(path).name)
