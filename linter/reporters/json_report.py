"""The JSON report (schema version 1; later versions only add fields).

    {"version": 1, "tool": {...}, "files": 3,
     "findings": [record...],      what counts for the exit code
     "errors": [record...],        inputs that could not be read
     "suppressed": [record + "suppression": {kind, justification, scope, line, until}...],
     "baselined": 2}

A record is Finding.as_record(). "suppressed" holds findings silenced inline
(kind "inline") and those recorded in the baseline (kind "baseline").
"""

from __future__ import annotations

from linter.reporters import FINDING_ORDER
from linter.reporters.json_text import indented, item_text
from linter.reporters.safe import escape_json

SCHEMA_VERSION = 1


def render(report) -> str:
    from linter import __version__

    document = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "portlint", "version": __version__},
        "files": len(report.files),
        "findings": [f.as_record() for f in sorted(report.findings, key=FINDING_ORDER)],
        "errors": [f.as_record() for f in sorted(report.errors, key=FINDING_ORDER)],
        "suppressed": [s.as_record() for s in sorted(report.suppressed, key=lambda s: s.finding.sort_key())],
        "baselined": report.baselined,
    }
    return escape_json(indented(document)) + "\n"


_CHUNK = 1 << 20  # characters gathered before each write


def write(report, stream, color: bool = False) -> None:
    """``render(report)`` written to ``stream``, without the whole document or every record at
    once: each record is made, turned into its text and let go in turn, and the text is written
    in chunks (ufw 100k's 40,000 findings: their records and the 22 MB document, joined,
    with its newline and encoded, were the JSON run's top of memory). A record's text is what
    ``indented`` writes for it in its list, and escape_json changes single characters and
    ``##[``, which no chunk boundary splits (each chunk ends with a record, a bracket or a
    member): the same bytes. A record ``indented`` would leave to json.dumps: ``render``."""
    from linter import __version__

    members = []  # (key, text) in the document's order; a list's text as (its items' texts,)
    for key, value in (("version", SCHEMA_VERSION), ("tool", {"name": "portlint", "version": __version__}),
                       ("files", len(report.files))):
        members.append((key, item_text(value, "\n  ")))
    for key, items in (("findings", sorted(report.findings, key=FINDING_ORDER)),
                       ("errors", sorted(report.errors, key=FINDING_ORDER)),
                       ("suppressed", sorted(report.suppressed, key=lambda s: s.finding.sort_key()))):
        texts = []
        for item in items:
            text = item_text(item.as_record(), "\n    ")
            if text is None:
                stream.write(render(report))
                return
            texts.append(text)
        members.append((key, (texts,)))
    members.append(("baselined", item_text(report.baselined, "\n  ")))
    if any(text is None for _, text in members):
        stream.write(render(report))
        return
    chunk: list[str] = []
    size = 0
    opened = "{"
    for key, text in members:
        head = opened + "\n  " + item_text(key, "") + ": "
        opened = ","
        if type(text) is str:
            chunk.append(head + text)
            continue
        texts, = text
        if not texts:
            chunk.append(head + "[]")
            continue
        chunk.append(head + "[")
        separator = "\n    "
        for index, item in enumerate(texts):
            chunk.append(separator + item)
            separator = ",\n    "
            size += len(item)
            if size >= _CHUNK:
                stream.write(escape_json("".join(chunk)))
                chunk.clear()
                size = 0
            texts[index] = None  # (written: let go)
        chunk.append("\n  ]")
    chunk.append("\n}\n")
    stream.write(escape_json("".join(chunk)))
