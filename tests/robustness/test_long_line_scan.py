"""source._long_line's quick test (one newline search per window of half the limit) finds the
same first over-long line as reading line by line, at a small limit."""

from __future__ import annotations

import random

import pytest

from linter import source


def _line_by_line(text: str, limit: int):
    for number, line in enumerate(text.split("\n"), 1):
        length = len(line) - (1 if line.endswith("\r") else 0)
        if length > limit:
            return number, length
    return None


@pytest.mark.parametrize("limit", [10, 11, 16])
def test_the_first_over_long_line_is_found_as_line_by_line(monkeypatch, limit):
    monkeypatch.setattr(source, "MAX_LINE_CHARS", limit)
    rnd = random.Random(limit)
    for _ in range(3000):
        lengths = [rnd.choice([0, 1, limit // 2, limit - 1, limit, limit + 1, limit + 2, 2 * limit, 3 * limit])
                   for _ in range(rnd.randint(1, 6))]
        lines = [("x" * n)[:-1] + "\r" if n and rnd.random() < 0.2 else "x" * n for n in lengths]
        text = "\n".join(lines) + ("\n" if rnd.random() < 0.5 else "")
        assert source._long_line(text) == _line_by_line(text, limit), repr(text)
