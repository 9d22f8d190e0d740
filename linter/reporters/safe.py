"""Text that leaves portlint cannot steer the terminal or the CI log that shows it.

Findings, traces and tables quote what the input holds: file names, chain names, comments,
compose service names, interface names. Written as they are, an ESC sequence would move the
cursor, recolour or retitle a terminal, and a line starting with ``::`` (after any leading
spaces) is a GitHub Actions workflow command (``::add-mask::``, ``::warning file=...``), as is
``##[name]`` anywhere in a line (the runner's older syntax). So every text-like output passes
through ``safe_text`` (one value) or ``safe_line``/``safe_lines`` (what is printed as lines):

* C0 controls (except tab), DEL, C1 controls, the Unicode line and paragraph separators and the
  bidirectional overrides and isolates become ``?`` (one column, so carets stay aligned);
* ``##[`` becomes ``## [``;
* a printed line whose first non-blank characters are ``::`` gets its first colon written
  ``%3A`` (the runner's own escape for a colon), so it is no command.

The github reporter writes its own workflow commands and escapes their data itself.
JSON formats keep the data exact: ``escape_json`` writes these characters (and the bracket
of ``##[``) as ``\\uXXXX``; a JSON line never starts with ``::``.
"""

from __future__ import annotations

import re

# Every character a terminal or log viewer may act on: C0 but tab, DEL, C1, U+2028/2029, and
# the bidirectional embeddings, overrides and isolates ("Trojan Source").
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_UNSAFE_BUT_NEWLINES = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LEGACY_COMMAND = "##["
_COMMAND_START = re.compile(r"^(\s*):")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control character replaced by ``?`` and ``##[`` broken up
    (``keep_newlines`` keeps CR and LF, for a format that escapes them itself)."""
    pattern = _UNSAFE_BUT_NEWLINES if keep_newlines else _UNSAFE
    text = pattern.sub("?", text)
    if _LEGACY_COMMAND in text:
        text = text.replace(_LEGACY_COMMAND, "## [")
    return text


def safe_line(text: str) -> str:
    """One printed line: safe_text, and no workflow command at its start."""
    text = safe_text(text)
    if "::" in text and text.lstrip().startswith("::"):
        text = _COMMAND_START.sub(r"\g<1>%3A", text, count=1)
    return text


def printed_as_is(lines: list[str]) -> bool:
    """Whether each of ``lines`` is printed as it stands: True only when ``safe_line`` leaves it
    unchanged and it holds no tab (which a console expands) nor line break. Told in C by
    ``isprintable`` on the lines run together (False for every character ``safe_text`` replaces,
    for tab, CR and LF, and for some it keeps, such as a no-break space: the caller then guards
    line by line as before) and two searches (a ``::`` or ``##[`` across two lines is a false
    alarm, never a miss)."""
    flat = "".join(lines)
    return flat.isprintable() and "::" not in flat and _LEGACY_COMMAND not in flat


def safe_lines(text: str) -> str:
    """Text of several lines (split at LF, which the caller wrote), each made a safe_line."""
    return "\n".join(safe_line(line) for line in text.split("\n"))


def escape_json(document: str) -> str:
    """A JSON text with DEL, C1 and the Unicode separators and bidi controls written as
    ``\\uXXXX`` (json.dumps escapes C0 itself), and the bracket of ``##[`` too: the same data,
    no raw control byte, no workflow command (outside strings JSON has neither)."""
    # ASCII text holds only DEL of these: a 7 MB report is searched by two scans in C, not the regex.
    if not document.isascii() or "\x7f" in document:
        document = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
    if _LEGACY_COMMAND in document:
        document = document.replace(_LEGACY_COMMAND, "##\\u005b")
    return document
