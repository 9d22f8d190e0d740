"""scan reads only the lines that may name portlint: the same lines as asking each line."""

from __future__ import annotations

import random

from linter.source import SourceFile
from linter.suppressions import _lines_naming_portlint, scan

PIECES = ["portlint", "PortLint", "PORTLINT", "port lint", "portlin", "ortlint", "# portlint: ignore[PL101] why",
          '"portlint: ignore-file[PL2] lab"', "# portlint: frob", "# portlint: ignore[PL999] x", "-A INPUT -j DROP",
          "\r", "", "x", "PORTLİNT", "portlınt", "é"]


def _texts(seed: int, count: int):
    rnd = random.Random(seed)
    for _ in range(count):
        lines = ["".join(rnd.choice(PIECES) for _ in range(rnd.randrange(0, 4))) for _ in range(rnd.randrange(0, 12))]
        if rnd.random() < 0.5:
            lines = [line.encode("ascii", "replace").decode() for line in lines]
        yield "\n".join(lines) + rnd.choice(["", "\n", "\r\n"])


def test_the_lines_found_are_those_whose_lower_case_names_portlint():
    for text in _texts(21, 3000):
        lines = SourceFile("f", text).lines
        asked = [n for n, line in enumerate(lines, 1) if "portlint" in line.lower()]
        found = [n for n in _lines_naming_portlint(text, len(lines)) if "portlint" in lines[n - 1].lower()]
        assert found == asked, text


def _read(found):
    return ([(d.scope, d.line, d.column, d.end_column, d.target, d.codes, d.until, d.reason) for d in found.directives],
            [(p.code, p.span, p.message, p.hint) for p in found.problems])


def test_scan_finds_what_a_scan_of_every_line_finds(monkeypatch):
    texts = list(_texts(22, 600))
    fast = [_read(scan(SourceFile("f", text))) for text in texts]
    monkeypatch.setattr("linter.suppressions._lines_naming_portlint", lambda text, count: range(1, count + 1))
    assert fast == [_read(scan(SourceFile("f", text))) for text in texts]
    assert any(directives for directives, _ in fast) and any(problems for _, problems in fast)
