"""The nftables front end proper: ``parse`` (see the package docstring)."""

from __future__ import annotations

import os

from linter.diagnostics import Diagnostic
from linter.frontends import FrontEndOptions, ParseResult
from linter.frontends.nftables.keywords import LOADER, RESTRICT_EXAMPLE, START_SYMBOLS
from linter.frontends.nftables.loader import Loader
from linter.frontends.nftables.state import State
from linter.model import Family, Ruleset, Span
from linter.readpolicy import ReadPolicy
from linter.source import SourceFile

__all__ = ["START_SYMBOLS", "parse"]


# --- Entry point ---------------------------------------------------------------------


def _internal_error(path: str, exc: Exception) -> Diagnostic:
    """A bug in this reader (PL009): what it read before is kept, the error is not hidden as a syntax error."""
    return Diagnostic(
        "PL009", f"The nftables reader failed: {type(exc).__name__}: {exc}", Span(path, 1, 1),
        hint="This is a bug in portlint; the rest of the run went on. Please report it with the input that caused it",
    )


def parse(source: SourceFile, options: FrontEndOptions | None = None) -> ParseResult:
    """Read an nftables ruleset (script or `nft list ruleset` output) into the model; includes
    are read as ``options.read_policy`` allows (default: inside the file's own directory)."""
    policy = options.read_policy if options is not None and options.read_policy is not None else None
    state = State(source, policy or ReadPolicy.for_file(source.path))
    diagnostics = list(source.diagnostics)
    real = os.path.realpath(source.path) if source.path != "-" else "-"
    state.include_stack.append(real)
    try:
        tree = state.parse_text(source, "start")
        if tree is not None:
            Loader(state, source).visit(tree)
        del tree  # the model is built in the memory the parse tree held (a third of a 100k-rule file's peak)
    except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop a run
        state.diagnostics.append(_internal_error(source.path, exc))
    try:
        ruleset = state.ruleset()
    except Exception as exc:  # noqa: BLE001
        state.diagnostics.append(_internal_error(source.path, exc))
        ruleset = Ruleset(source.path, "nftables", Family.INET, (), loader=LOADER, restrict_example=RESTRICT_EXAMPLE)
    diagnostics.extend(sorted(state.diagnostics, key=lambda d: (d.span.path != source.path, d.span.path,
                                                                d.span.line, d.span.column)))
    return ParseResult(ruleset, diagnostics)
