"""Front ends: the only code that knows a syntax.

Each front end module exposes ``parse(source: SourceFile) -> ParseResult``. FRONT_ENDS
maps a format name to the module path, imported lazily so a run only loads the
grammars it needs; it is derived from the registry of front ends (registry.py: each
package's ``detect.py`` declares its front ends, ``registry.PACKAGES`` lists the packages).

A front end that needs more than the file's text (the compose front end reads
`.env` files, override files and the environment) declares a second parameter,
``parse(source, options: FrontEndOptions)``; parse_source passes the options only
to front ends that take them, so the others keep the one-argument form.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from linter.frontends.registry import front_ends

if TYPE_CHECKING:  # annotations only: the registry (and so `portlint --help`) imports this package
    from linter.diagnostics import Diagnostic
    from linter.model import Document
    from linter.readpolicy import ReadPolicy
    from linter.source import SourceFile

# Format name -> the module holding its ``parse``; registry.register keeps it up to date.
FRONT_ENDS: dict[str, str] = {info.name: info.module for info in front_ends()}


@dataclass(frozen=True)
class FrontEndOptions:
    """What a run tells front ends beyond the file itself.

    ``env_files``: files of variables for compose interpolation (``--env-file``),
    read instead of the `.env` beside the compose file.
    ``environ``: the environment variables; None means the process environment.
    ``compose_overrides``: compose files merged after the one parsed, in order
    (``docker compose -f a -f b``).
    ``read_policy``: which other files the input may make portlint read (linter/readpolicy.py);
    None means the parsed file's own directory.
    """

    env_files: tuple[str, ...] = ()
    environ: Mapping[str, str] | None = None
    compose_overrides: tuple[str, ...] = field(default=())
    read_policy: ReadPolicy | None = None


@dataclass
class ParseResult:
    """What a front end read: its document and diagnostics. ``extra``: further documents of the
    same file (a shell script's docker run publications next to the ruleset it builds), checked
    like the first one and joined in the run's cross-file checks."""

    document: Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    extra: tuple[Document, ...] = ()


@functools.lru_cache(maxsize=None)
def _takes_options(fmt: str) -> bool:
    module = importlib.import_module(FRONT_ENDS[fmt])
    return len(inspect.signature(module.parse).parameters) > 1


def parse_source(source: SourceFile, fmt: str, options: FrontEndOptions | None = None) -> ParseResult:
    """Parse ``source`` with the front end registered for ``fmt``.

    The pipeline that calls it (``pipeline.read_document``'s callers) pauses the cyclic
    collector (linter/collector.py). The readers bound their own nesting (linter/budgets.py);
    ``recursion_room`` makes sure the stack holds that much.
    """
    from linter.budgets import recursion_room

    module = importlib.import_module(FRONT_ENDS[fmt])
    with recursion_room():
        if _takes_options(fmt):
            return module.parse(source, options or FrontEndOptions())
        return module.parse(source)
