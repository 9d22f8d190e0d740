"""Which files portlint may read: one policy for includes, symbolic links and globs.

portlint runs in CI on pull requests from people nobody vetted, and its reports land in
public logs. A file may therefore steer portlint's reads (an nft ``include``, a compose
``extends``, a committed symbolic link) only into the tree being scanned:

* the *roots* are the paths given on the command line, resolved: a directory as it is,
  a file's directory for a file, the current directory for standard input;
* ``--allow-read PATH`` and the configuration's ``allow-read`` add roots;
* a path may be read when its resolved real path lies inside a root and it is a
  regular file; anything else is refused with one PL006 finding that names the path
  as it was written, never what it holds. Devices, FIFOs and sockets are refused
  wherever they are, so ``include "/dev/stdin"`` cannot make a run wait.

Front ends ask ``ReadPolicy.refusal(path)`` before opening a file another file named;
``pipeline.discover`` asks it for every file a directory walk finds. Files named on the
command line are read as named (the command line is the trusted part of a run), except
a named symbolic link to a regular file outside the roots.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from linter.diagnostics import Diagnostic
from linter.model import Span
from linter.source import special_kind

REFUSED_CODE = "PL006"
OUTSIDE = "is outside the scanned tree"  # the refusal of a path that resolves out of every root


def _real_directory(path: str) -> str:
    return os.path.realpath(os.path.abspath(path))


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


@dataclass(frozen=True)
class ReadPolicy:
    """The directories (real paths) whose files may be read. Plain data: it travels to
    the pool's worker processes with the front-end options."""

    roots: tuple[str, ...]

    @classmethod
    def for_paths(cls, paths, allow=(), cwd: str | None = None) -> "ReadPolicy":
        """The policy of a run over ``paths`` (command-line arguments; "-" is standard input),
        widened by ``allow`` (``--allow-read`` and the configuration's ``allow-read``)."""
        cwd = cwd or os.getcwd()
        roots: list[str] = []
        for path in paths:
            if path == "-":
                roots.append(_real_directory(cwd))
            elif os.path.isdir(path):
                roots.append(_real_directory(os.path.join(cwd, path)))
            else:
                roots.append(_real_directory(os.path.dirname(os.path.join(cwd, path)) or cwd))
        roots.extend(_real_directory(os.path.join(cwd, path)) for path in allow)
        return cls(tuple(dict.fromkeys(roots)))

    @classmethod
    def for_file(cls, path: str) -> "ReadPolicy":
        """The policy when a front end is called without one: the file's own directory."""
        return cls.for_paths([path])

    def widened(self, allow) -> "ReadPolicy":
        """This policy with the directories ``allow`` added."""
        extra = tuple(_real_directory(path) for path in allow)
        return ReadPolicy(tuple(dict.fromkeys(self.roots + extra)))

    def inside(self, path: str) -> bool:
        """Whether ``path`` resolves (symbolic links and ``..`` followed) into a root."""
        real = os.path.realpath(os.path.abspath(path))
        return any(_inside(real, root) for root in self.roots)

    def may_contain(self, directory: str) -> bool:
        """Whether a glob below ``directory`` could find anything readable: the directory is
        inside a root, or a root lies inside it."""
        real = os.path.realpath(os.path.abspath(directory))
        return any(_inside(real, root) or _inside(root, real) for root in self.roots)

    def refusal(self, path: str) -> str | None:
        """Why ``path`` may not be read (a phrase: "is outside the scanned tree", "is a
        character device"), or None when it may. A path that does not exist inside the roots
        may be read (its reader reports it missing); outside, it is refused whether or not it
        exists, so a finding never tells which files exist elsewhere."""
        if not self.inside(path):
            return OUTSIDE
        try:
            mode = os.stat(path).st_mode
        except OSError:
            return None
        kind = special_kind(mode)
        return f"is {kind}" if kind else None

    def diagnostic(self, written: str, why: str, span: Span, what: str = "Not read") -> Diagnostic:
        """The PL006 finding for a refused read of ``written`` (the path as the file wrote it)."""
        return Diagnostic(
            REFUSED_CODE, f"{what}: {written} {why}", span,
            hint="portlint reads only regular files inside the paths it was given; "
                 "--allow-read DIR (or allow-read in the configuration) widens that",
        )


def named_file_refusal(path: str, policy: ReadPolicy) -> str | None:
    """Why a file named on the command line is not read: only a symbolic link to a regular
    file outside the roots is refused (process substitution, /dev/fd/N, stays readable)."""
    if path == "-" or not os.path.islink(path):
        return None
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):  # /dev/stdin, /dev/fd/63: a pipe the user made
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
    except OSError:
        return None
    return "is a symbolic link to a file outside the scanned tree" if not policy.inside(path) else None
