"""Reading input files safely: size limits, binary and encoding detection.

Every problem becomes a Diagnostic with file:line:column; nothing here raises for
bad input. Text with invalid UTF-8 is still returned (with replacement characters)
so the rest of the file can be linted.

Limits and odd files:

* a file over MAX_FILE_BYTES is not read (its size is known before reading it);
* a line over MAX_LINE_CHARS characters makes the file not linted (PL001 at that line,
  at the first column past the limit): no tool reads such a line, and every check that
  quotes it would print megabytes;
* NUL bytes make the file binary (PL002), unless the bytes are UTF-16 or UTF-32 text,
  which is named as such (PL003) and not linted: iptables-restore, nft and Compose read
  UTF-8;
* a directory, a device or a socket given as a file, a broken symbolic link and a loop
  of them are PL001;
* a FIFO is opened without waiting for a writer: with none, there is nothing to read
  (PL001); a writer that goes quiet for FIFO_IDLE_SECONDS is given up on. A pipe from
  process substitution (``portlint <(iptables-save)``) is read to its end.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from dataclasses import dataclass, field

from linter.diagnostics import Diagnostic
from linter.model import Span

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_LINE_CHARS = 1_000_000
FIFO_IDLE_SECONDS = 10.0
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
        """The lines as the front ends count them: split at "\\n" only (a CR before it dropped).
        str.splitlines would also split at form feeds, NEL, U+2028..., and findings after
        one would quote the wrong line."""
        if self._lines is None:
            lines = self.text.split("\n")
            if lines[-1] == "":
                lines.pop()
            if "\r" in self.text:
                lines = [line[:-1] if line.endswith("\r") else line for line in lines]
            self._lines = lines
        return self._lines

    def share_lines(self, split: list[str]) -> None:
        """Keep ``split``, ``self.text.split("\\n")`` as a front end made it (and read it to the end:
        the list is changed here), as ``lines`` when that would be the same list: one split and one
        string per line instead of two when findings quote lines (100,000-line files)."""
        if self._lines is None and split and "\r" not in self.text:
            if split[-1] == "":
                split.pop()
            self._lines = split

    def line(self, number: int) -> str:
        """The text of line ``number`` (1-based), or '' past the end."""
        lines = self.lines  # once: findings ask a line each (50,000 of an allow-list's)
        if 1 <= number <= len(lines):
            return lines[number - 1]
        return ""


def position(data: bytes, offset: int) -> tuple[int, int]:
    """(line, column) of byte ``offset``, both 1-based."""
    return data.count(b"\n", 0, offset) + 1, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


_WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def wide_encoding(data: bytes) -> str | None:
    """The name of the UTF-16/UTF-32 encoding ``data`` is in, by its byte order mark or, without
    one, by its NUL bytes (ASCII text in UTF-16 has a NUL in every other byte); else None."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            return name
    head = data[:512]
    if len(head) >= 4 and len(head) % 2 == 0:
        if head[1::2].count(0) == len(head) // 2 and head[0::2].count(0) == 0:
            return "UTF-16 (little-endian, no byte order mark)"
        if head[0::2].count(0) == len(head) // 2 and head[1::2].count(0) == 0:
            return "UTF-16 (big-endian, no byte order mark)"
    return None


def decode(path: str, data: bytes) -> SourceFile | Diagnostic:
    """Decode bytes to a SourceFile, or a Diagnostic when the data is not text portlint reads."""
    wide = wide_encoding(data) if data[:4].count(0) or data[:2] in (b"\xff\xfe", b"\xfe\xff") else None
    if wide is not None:
        return Diagnostic(
            "PL003", f"{wide} text, not UTF-8; not linted", Span(path, 1, 1),
            hint="iptables-restore, nft and Compose read UTF-8: convert the file (iconv -f UTF-16 -t UTF-8)",
        )
    nul = data.find(b"\x00")
    if nul != -1:
        line, column = position(data, nul)
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
        line, column = position(data, exc.start)
        diagnostics.append(
            Diagnostic(
                "PL003", f"Invalid UTF-8 (byte 0x{data[exc.start]:02x}); the bad bytes were replaced",
                Span(path, line, column), hint="save the file as UTF-8",
            )
        )
        text = data.decode("utf-8", errors="replace")
    if len(text) > MAX_LINE_CHARS:
        too_long = _long_line(text)
        if too_long is not None:
            number, length = too_long
            return Diagnostic(
                "PL001", f"Line {number} is {length:,} characters long, over the limit of {MAX_LINE_CHARS:,}; "
                         "not linted", Span(path, number, MAX_LINE_CHARS + 1),
                hint="no firewall or compose tool reads such a line: is this the right file?",
            )
    return SourceFile(path, text, diagnostics)


def _long_line(text: str) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than MAX_LINE_CHARS, or None."""
    # Such a line covers a whole window of MAX_LINE_CHARS // 2 characters starting at a multiple
    # of that: when every such window has a newline, no line is too long (a few finds, not one a line).
    window = MAX_LINE_CHARS // 2
    size = len(text)
    if all(text.find("\n", at, at + window) >= 0 for at in range(0, size, window)):
        return None
    start = 0
    number = 1
    while start < size:
        end = text.find("\n", start)
        if end == -1:
            end = size
        if end - start > MAX_LINE_CHARS:
            length = end - start - (1 if text[end - 1:end] == "\r" else 0)
            if length > MAX_LINE_CHARS:
                return number, length
        start = end + 1
        number += 1
    return None


def _too_large(label: str) -> Diagnostic:
    return Diagnostic(
        "PL001", f"File larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; not linted", Span(label, 1, 1)
    )


def special_kind(mode: int) -> str | None:
    """What a file that is neither regular nor a directory is ("a FIFO", "a character
    device"...); None for a regular file or a directory."""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_fifo(path: str, label: str) -> bytes | Diagnostic:
    """The bytes a FIFO's writer sends, read without ever waiting for a writer to appear."""
    import select

    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock)
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_FILE_BYTES:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:  # a writer is there and has not written yet
                ready, _, _ = select.select([fd], [], [], FIFO_IDLE_SECONDS)
                if not ready:
                    return Diagnostic("PL001", f"No data from the FIFO for {FIFO_IDLE_SECONDS:g} s; not read",
                                      Span(label, 1, 1))
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if not chunks:
        return Diagnostic("PL001", "FIFO with nothing to read (no process is writing to it); not read",
                          Span(label, 1, 1))
    return b"".join(chunks)


def _read_file(path: str, label: str) -> bytes | Diagnostic:
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Diagnostic("PL001", "Cannot read file: a loop of symbolic links", Span(label, 1, 1))
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return Diagnostic("PL001", f"Cannot read file: broken symbolic link (to {os.readlink(path)})",
                              Span(label, 1, 1))
        return Diagnostic("PL001", f"Cannot read file: {exc.strerror or exc}", Span(label, 1, 1))
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return Diagnostic("PL001", "Is a directory", Span(label, 1, 1))
    if stat.S_ISFIFO(mode):
        return _read_fifo(path, label)
    if not stat.S_ISREG(mode):
        return Diagnostic("PL001", f"Cannot read file: {special_kind(mode)}, not a regular file; not read",
                          Span(label, 1, 1))
    if info.st_size > MAX_FILE_BYTES:
        return _too_large(label)
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def read_source(path: str, name: str | None = None) -> SourceFile | Diagnostic:
    """Read and decode ``path`` ("-" is standard input); a Diagnostic when it cannot be read.

    ``name`` labels the result instead of ``path`` (``--stdin-filename``).
    """
    label = name or path
    try:
        if path == STDIN_PATH:
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            data = _read_file(path, label)
            if isinstance(data, Diagnostic):
                return data
    except OSError as exc:
        return Diagnostic("PL001", f"Cannot read file: {exc.strerror or exc}", Span(label, 1, 1))
    if len(data) > MAX_FILE_BYTES:
        return _too_large(label)
    return decode(label, data)
