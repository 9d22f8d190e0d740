"""Reading input files safely: size limits, binary and encoding detection.

Every problem becomes a Diagnostic with file:line:column; nothing here raises for
bad input. Text with invalid UTF-8 is still returned (with replacement characters)
so the rest of the file can be linted.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from linter.diagnostics import Diagnostic
from linter.model import Span

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 1_000_000
STDIN_PATH = "-"


@dataclass
class SourceFile:
    """A decoded input file. ``lines`` keeps line endings stripped, 1-based via ``line()``."""

    path: str
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def line(self, number: int) -> str:
        """The text of line ``number`` (1-based), or '' past the end."""
        if 1 <= number <= len(self.lines):
            return self.lines[number - 1]
        return ""


def decode(path: str, data: bytes) -> SourceFile | Diagnostic:
    """Decode bytes to a SourceFile, or a Diagnostic when the data is not text at all."""
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        column = nul - (data.rfind(b"\n", 0, nul) + 1) + 1
        return Diagnostic(
            "PL002", "Binary file (NUL byte); not linted", Span(path, line, column),
            hint="portlint reads text: iptables-save output, nft rulesets, shell scripts, compose files",
        )
    diagnostics: list[Diagnostic] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        diagnostics.append(
            Diagnostic(
                "PL003", f"Invalid UTF-8 (byte 0x{data[exc.start]:02x}); the bad bytes were replaced",
                Span(path, line, column), hint="save the file as UTF-8",
            )
        )
        text = data.decode("utf-8", errors="replace")
    return SourceFile(path, text, diagnostics)


def read_source(path: str, name: str | None = None) -> SourceFile | Diagnostic:
    """Read and decode ``path`` ("-" is standard input); a Diagnostic when it cannot be read.

    ``name`` labels the result instead of ``path`` (``--stdin-filename``).
    """
    label = name or path
    try:
        if path == STDIN_PATH:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            if os.path.isdir(path):
                return Diagnostic("PL001", "Is a directory", Span(label, 1, 1))
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return Diagnostic("PL001", f"Cannot read file: {exc.strerror or exc}", Span(label, 1, 1))
    if len(data) > MAX_FILE_BYTES:
        return Diagnostic(
            "PL001", f"File larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not linted", Span(label, 1, 1)
        )
    return decode(label, data)
