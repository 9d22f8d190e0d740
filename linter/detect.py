"""Recognising an input's format by its name and, above all, its content.

The tests themselves belong to the front ends (each package's ``detect.py``) and are combined by
``linter/frontends/registry.py``; this module is the façade the rest of portlint asks.
"""

from __future__ import annotations

from pathlib import PurePath

from linter.frontends.compose.detect import COMPOSE_SNIFF_BYTES, COMPOSE_TOP_LEVEL, looks_like_compose_head
from linter.frontends.registry import front_ends, input_formats, may_sniff, named_lintable, read_head, sniffs_as
from linter.frontends.registry import detect as _detect

__all__ = ["COMPOSE_SNIFF_BYTES", "COMPOSE_TOP_LEVEL", "INPUT_FORMATS", "detect_format", "input_formats",
           "looks_like_compose", "looks_like_compose_head", "looks_like_firewalld", "looks_lintable",
           "looks_sniffable", "sniffs_as"]


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


def looks_like_compose(path: str) -> bool:
    """Whether a YAML file found in a directory walk, named like no compose file, is one
    anyway (``app.yml`` holding ``services:``): only the first COMPOSE_SNIFF_BYTES are read,
    and only from a regular file (no symbolic link, FIFO or device)."""
    return _sniffed_as(path, "compose")


def looks_like_firewalld(path: str) -> bool:
    """Whether an XML file found in a directory walk, outside a firewalld/ directory, is a firewalld zone,
    service or policy file by its root element: only its first KBs are read, only from a regular file."""
    return _sniffed_as(path, "firewalld")


def _sniffed_as(path: str, fmt: str) -> bool:
    """Whether the front end ``fmt`` sniffs the file at ``path`` as its own."""
    info = next(i for i in front_ends() if i.name == fmt)
    if info.sniff is None or not PurePath(path).name.lower().endswith(info.sniff_suffixes):
        return False
    head = read_head(path)
    return head is not None and info.sniff(head)
