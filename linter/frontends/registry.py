"""The registry of front ends: what each one is called, which files it reads, how it is recognised.

Each front-end package has a small ``detect.py`` declaring ``FRONT_ENDS``, a tuple of
``FrontEndInfo``; ``PACKAGES`` below lists those packages, one line each. Everything that needs to
know the front ends is derived from here: ``linter.frontends.FRONT_ENDS`` (name → module),
format detection (``linter.detect.detect_format``), the names a directory walk picks up and the
files it opens to sniff, and every ``--input-format`` choice.

Detection stays cheap: ``detect.py`` holds regular expressions and small functions, and a package's
``__init__`` imports nothing heavy, so recognising a file never imports Lark, PyYAML or a parser.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePath
from typing import Callable

# The shipped front-end packages, in the order formats are listed (--input-format, messages).
PACKAGES: list[str] = [
    "linter.frontends.iptables",
    "linter.frontends.nftables",
    "linter.frontends.compose",
    "linter.frontends.firewalld",
]

DETECT_BYTES = 200_000  # how much of a file detection reads
SNIFF_BYTES = 8192  # how much a directory walk reads of a file named like no known one

# A whole-line comment: a shell command quoted there ("# to restore: iptables -F; iptables-restore <
# rules.v4") says nothing about what the file is.
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*$", re.M)


class Sniff:
    """One file as detection sees it: its path and name, the first DETECT_BYTES of its text
    (``head``) and the same with whole-line comments blanked (``code``), computed once; ``cut``
    tells whether the head's last line goes on past it."""

    def __init__(self, path: str, text: str):
        self.path = path
        self.name = PurePath(path).name
        self.posix = PurePath(path).as_posix()
        self.head = text[:DETECT_BYTES]
        # Whether ``head`` ends inside a line of the text (a line detection sees only part of).
        self.cut = len(text) > DETECT_BYTES and text[DETECT_BYTES] != "\n"

    @cached_property
    def code(self) -> str:
        return _COMMENT_LINE.sub("", self.head)


@dataclass(frozen=True)
class Detector:
    """One content or name test of a front end, tried in ``priority`` order among every front end's
    detectors (lower first; the first test that holds names the format)."""

    priority: int
    test: Callable[[Sniff], bool]


@dataclass(frozen=True)
class FrontEndInfo:
    """What a front end is.

    ``name``: the format name (``--input-format``, ``input-format`` in configuration, ``Ruleset.format``).
    ``module``: the module whose ``parse(SourceFile[, FrontEndOptions]) -> ParseResult`` reads it,
    imported only when a file of this format is parsed.
    ``detect``: the tests that recognise a file of this format (``Detector``).
    ``names``: whether a directory walk picks a file up by its path alone.
    ``sniff_suffixes`` and ``sniff``: a walk reads the first SNIFF_BYTES of a file whose lowercased
    name ends with one of the suffixes and takes it when ``sniff(head)`` holds.
    ``ruleset``: whether the document is a firewall ruleset (``trace`` and ``exposure`` offer it).
    ``hook_files``: a regular expression for the end of the paths the pre-commit hook hands portlint
    (after a "/" or at the start); ``.pre-commit-hooks.yaml`` is written from it (``hook_files_pattern``).
    """

    name: str
    module: str
    detect: tuple[Detector, ...] = ()
    names: Callable[[str], bool] | None = None
    sniff_suffixes: tuple[str, ...] = ()
    sniff: Callable[[str], bool] | None = None
    ruleset: bool = True
    hook_files: str = ""


_registered: list[FrontEndInfo] = []
_loaded: list[str] = []


def front_ends() -> tuple[FrontEndInfo, ...]:
    """Every registered front end, in registration order (PACKAGES first)."""
    for package in PACKAGES:
        if package not in _loaded:
            register_package(package)
    return tuple(_registered)


def register_package(package: str) -> None:
    """Register the front ends that ``package.detect`` declares in ``FRONT_ENDS`` (once)."""
    if package in _loaded:
        return
    _loaded.append(package)
    if package not in PACKAGES:
        PACKAGES.append(package)
    for info in importlib.import_module(f"{package}.detect").FRONT_ENDS:
        register(info)


def register(info: FrontEndInfo) -> None:
    """Add one front end (replacing one of the same name) and tell ``linter.frontends.FRONT_ENDS``."""
    for index, known in enumerate(_registered):
        if known.name == info.name:
            _registered[index] = info
            break
    else:
        _registered.append(info)
    _detectors.clear()
    frontends = importlib.import_module("linter.frontends")
    modules = getattr(frontends, "FRONT_ENDS", None)
    if modules is not None:
        modules[info.name] = info.module


def input_formats(*, rulesets_only: bool = False) -> tuple[str, ...]:
    """The format names, for --input-format and configuration; ``rulesets_only``: the firewall rulesets."""
    return tuple(info.name for info in front_ends() if info.ruleset or not rulesets_only)


_detectors: list[tuple[int, int, int, Callable[[Sniff], bool], str]] = []


def detect(path: str, text: str) -> str | None:
    """The format of the file ``path`` holding ``text`` by every front end's detectors, or None."""
    if not _detectors:
        infos = front_ends()
        _detectors.extend(sorted(((d.priority, order, index, d.test, info.name) for order, info in enumerate(infos)
                                  for index, d in enumerate(info.detect)), key=lambda entry: entry[:3]))
    sniff = Sniff(path, text)
    for _, _, _, test, name in _detectors:
        if test(sniff):
            return name
    return None


def named_lintable(path: str) -> bool:
    """Whether a directory walk picks ``path`` up by its name alone."""
    return any(info.names is not None and info.names(path) for info in front_ends())


def may_sniff(name: str) -> bool:
    """Whether a directory walk should look inside a file of this name (some front end sniffs it)."""
    lowered = name.lower()
    return any(info.sniff is not None and lowered.endswith(info.sniff_suffixes) for info in front_ends())


def sniffed_format(path: str, head: str) -> str | None:
    """The front end whose ``sniff`` takes a file named ``path`` that starts with ``head``, or None."""
    lowered = PurePath(path).name.lower()
    for info in front_ends():
        if info.sniff is not None and lowered.endswith(info.sniff_suffixes) and info.sniff(head):
            return info.name
    return None


def read_head(path: str, size: int = SNIFF_BYTES) -> str | None:
    """The first ``size`` bytes of a regular file (no symbolic link, FIFO or device) as text, or None."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            head = handle.read(size)
    except OSError:
        return None
    return head.decode("utf-8", errors="replace")


def sniffs_as(path: str) -> str | None:
    """The front end whose ``sniff`` takes the file at ``path`` (found in a directory walk), or None.
    Nothing is read unless some front end sniffs files named like it."""
    if not may_sniff(PurePath(path).name):
        return None
    head = read_head(path)
    return None if head is None else sniffed_format(path, head)



def hook_files_pattern() -> str:
    """The ``files`` pattern of the pre-commit hook `portlint`: every front end's ``hook_files``
    (written into .pre-commit-hooks.yaml by ``python -m linter.frontends.hook``)."""
    return "(^|/)(" + "|".join(info.hook_files for info in front_ends() if info.hook_files) + ")$"
