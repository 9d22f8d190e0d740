"""Leaving out files a git repository ignores, when a directory is walked.

Asks git itself (`git check-ignore --stdin -z`), so every .gitignore, .git/info/exclude
and core.excludesFile rule counts exactly as git reads it, and tracked files are never
left out. Outside a work tree, without git, or when git fails, nothing is left out.
"""

from __future__ import annotations

import os
import subprocess

GIT_TIMEOUT = 60  # seconds


def _git(directory: str, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(
            ["git", "-C", directory, *args], input=data, capture_output=True, timeout=GIT_TIMEOUT, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def drop_ignored(directory: str, files: list[str]) -> list[str]:
    """``files`` (found under ``directory``) without those git ignores, order kept."""
    if not files:
        return files
    inside = _git(directory, "rev-parse", "--is-inside-work-tree")
    if inside is None or inside.returncode != 0 or inside.stdout.strip() != b"true":
        return files
    absolute = [os.fsencode(os.path.abspath(path)) for path in files]
    answer = _git(directory, "check-ignore", "--stdin", "-z", data=b"\0".join(absolute) + b"\0")
    # 0: some paths are ignored, 1: none is; anything else (e.g. a path in a nested repository) is a failure.
    if answer is None or answer.returncode not in (0, 1):
        return files
    ignored = set(answer.stdout.split(b"\0")) - {b""}
    return [path for path, key in zip(files, absolute) if key not in ignored]
