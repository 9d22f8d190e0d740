"""The walk's results handed to their one reader, each let go as soon as it is read.

When the exposure summary is the only reader of a family's local results (a check run over a
ruleset of one family: nothing reads the walk after the summary, engine/exposure.py
``ExposureAnalysis.read_once``), each result can go as the summary's loop passes it, instead of
all of them after the summary. ufw's 100,000 user rules leave ~360,000 results (drops and
rejects, which the summary only skips, and accepts): what they freed is reused by the entries
the summary gathers, where it was all on top of them before.
"""

from __future__ import annotations

from collections.abc import Iterator


def drained(results: list) -> Iterator:
    """The items of ``results`` in order, each taken out of the list as it is given (the list is
    empty at the end; the caller's last reference is all that keeps an item)."""
    results.reverse()  # (popped from the end: each pop is O(1))
    pop = results.pop
    while results:
        yield pop()
