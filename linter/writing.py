"""Writing reports and baselines without writing through a committed symbolic link.

A scanned repository may hold ``report.sarif -> ~/.bashrc``: opening the destination
for writing would overwrite the link's target. So a file is written to a temporary file
in the destination's directory and renamed over it (a rename replaces a link, never its
target), and a destination that is a symbolic link is refused with a clear error.

A destination that exists and is not a regular file (``/dev/null``, a FIFO, a terminal)
is written into directly: there is nothing to replace there, and renaming over a device
would replace it. Links under ``/dev`` (``/dev/stdout``, ``/dev/stderr``) are written
through for the same reason; they are not something a repository can commit.
"""

from __future__ import annotations

import os
import stat
from typing import Callable, TextIO


class WriteError(OSError):
    """A file portlint could not write; the message names it and says why."""


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _write_directly(path: str, write: Callable[[TextIO], None]) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            write(handle)
    except OSError as exc:
        raise WriteError(f"{path}: {_describe(exc)}") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomically(path: str, write: Callable[[TextIO], None]) -> None:
    """Call ``write`` with a text stream whose content replaces ``path`` once it is complete.

    Raises WriteError when ``path`` is a symbolic link or anything fails (a full disk, no
    permission); the destination is then left as it was.
    """
    absolute = os.path.abspath(path)
    if os.path.islink(path):
        if absolute.startswith("/dev/"):
            _write_directly(path, write)
            return
        raise WriteError(f"{path} is a symbolic link; not written (name the file it points to, or remove the link)")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise WriteError(f"{path}: {_describe(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise WriteError(f"{path} is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_directly(path, write)
        return
    import tempfile  # here, not at the top: a run that writes no file does not pay for it (random, shutil)

    directory = os.path.dirname(absolute)
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(absolute)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"{path}: {_describe(exc)}") from None
    try:
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                os.fchmod(handle.fileno(), (mode & 0o7777) if mode is not None else 0o666 & ~_umask())
                write(handle)
            os.replace(temporary, absolute)
        except OSError as exc:
            raise WriteError(f"{path}: {_describe(exc)}") from None
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
