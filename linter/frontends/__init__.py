"""Front ends: the only code that knows a syntax.

Each front end module exposes ``parse(source: SourceFile) -> ParseResult``. FRONT_ENDS
maps a format name to the module path, imported lazily so a run only loads the
grammars it needs.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from linter.diagnostics import Diagnostic
from linter.model import Document
from linter.source import SourceFile

FRONT_ENDS: dict[str, str] = {
    "iptables-save": "linter.frontends.iptables_save",
    "nftables": "linter.frontends.nftables",
}


@dataclass
class ParseResult:
    document: Document | None
    diagnostics: list[Diagnostic] = field(default_factory=list)


def parse_source(source: SourceFile, fmt: str) -> ParseResult:
    """Parse ``source`` with the front end registered for ``fmt``."""
    module = importlib.import_module(FRONT_ENDS[fmt])
    return module.parse(source)
