"""Reading `portlint trace --flows`: JSON Lines, one flow a line, whatever the file holds.

A bad line is reported with its number and the reason, and the lines after it are still
read: a line longer than MAX_LINE_BYTES (only its first bytes are kept, the rest skipped up
to the next newline), one that is not UTF-8, one nested deeper than MAX_NESTING (a flow is a
flat object; the JSON parser would otherwise recurse once per level), one that is not JSON.
An endless line (``/dev/zero``) ends the reading after MAX_SKIPPED_BYTES with one error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO

MAX_LINE_BYTES = 1 << 20  # a flow is well under a kilobyte
MAX_SKIPPED_BYTES = 64 << 20  # as much as portlint reads of one input file
MAX_NESTING = 16
_CHUNK = 1 << 16


def flow_lines(handle: BinaryIO) -> Iterator[tuple[int, object, str | None]]:
    """(line number, the JSON value read, None) or (line number, None, why it could not be
    read) for every non-blank line of ``handle`` (a binary stream)."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            if not _skip_rest_of_line(handle):
                yield number, None, (f"line longer than {MAX_LINE_BYTES} bytes with no end within "
                                     f"{MAX_SKIPPED_BYTES} bytes; stopped reading")
                return
            yield number, None, f"line longer than {MAX_LINE_BYTES} bytes"
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 text (byte {exc.start + 1} of the line)"
            continue
        if not text.strip():
            continue
        if _nesting(text) > MAX_NESTING:
            yield number, None, f"JSON nested deeper than {MAX_NESTING} levels"
            continue
        try:
            yield number, json.loads(text), None
        except ValueError as exc:
            yield number, None, f"not JSON: {exc}"


def _skip_rest_of_line(handle: BinaryIO) -> bool:
    """Read past the next newline; False when there is none within MAX_SKIPPED_BYTES."""
    skipped = 0
    while skipped < MAX_SKIPPED_BYTES:
        chunk = handle.readline(_CHUNK)
        if not chunk or chunk.endswith(b"\n"):
            return True
        skipped += len(chunk)
    return False


def _nesting(text: str) -> int:
    """How deep ``[`` and ``{`` nest in ``text``, strings left out (cheap when it cannot be deep)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    in_string = escaped = False
    for char in text:  # one pass: a regular expression for strings could backtrack on a hostile line
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest
