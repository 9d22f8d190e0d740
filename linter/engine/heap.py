"""Handing the C heap's free pages back to the system once a large walk has ended.

CPython keeps objects of up to 512 bytes in its own arenas, which it returns when they empty;
larger ones (long range lists, the lists and dicts of a walk over hundreds of thousands of
boxes) come from the C library's heap, which keeps what is freed in the middle of it. After
ufw's 100,000 user rules the walk's garbage left ~30 MB of free heap pages resident through
the exposure summary, whose own peak came on top. glibc's ``malloc_trim`` gives such pages
back; elsewhere (no such function) nothing is done. Nothing the engine computes changes.
"""

from __future__ import annotations

TRIM_AT_LEAST = 10_000  # results of a walk below which there is little to give back

_TRIM: list = []  # [malloc_trim or None], looked up on first use (ctypes is imported only then)


def give_back(results: int) -> None:
    """After a walk that decided ``results`` results: free heap pages go back to the system
    (glibc), when the walk was large enough for that to matter."""
    if results < TRIM_AT_LEAST:
        return
    if not _TRIM:
        try:
            import ctypes

            _TRIM.append(getattr(ctypes.CDLL(None), "malloc_trim", None))
        except (ImportError, OSError):
            _TRIM.append(None)
    trim = _TRIM[0]
    if trim is not None:
        trim(0)
