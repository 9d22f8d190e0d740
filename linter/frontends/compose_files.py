"""Which compose files belong together, by name alone (no YAML, no parser imports).

docker compose reads ``docker-compose.override.yml`` after ``docker-compose.yml``
(and ``compose.override.yaml`` after ``compose.yaml``) without being asked; portlint
does the same when both files are in one run: named together on the command line or
found in the same directory walk. ``x.override.yml`` likewise belongs to ``x.yml``.

It also says which other files a compose file may make portlint read (``extends:
file:``, the ``.env`` beside it): only those inside the directories being linted.
portlint runs on untrusted pull requests, so ``extends: {file: /etc/shadow}`` must
not print a line of /etc/shadow.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePath
from typing import Iterable

_OVERRIDE_NAME = re.compile(r"^(?P<stem>.+)\.override\.(?P<ext>ya?ml)$", re.I)


def override_groups(paths: list[str]) -> dict[str, list[str]]:
    """Base compose files among ``paths``, each with the override files beside it that are also there."""
    present = {os.path.normpath(p): p for p in paths}
    groups: dict[str, list[str]] = {}
    for path in paths:
        match = _OVERRIDE_NAME.match(PurePath(path).name)
        if not match:
            continue
        folder = os.path.dirname(path)
        for ext in ("yml", "yaml"):
            base = os.path.normpath(os.path.join(folder, f"{match['stem']}.{ext}"))
            if base in present and base != os.path.normpath(path):
                groups.setdefault(present[base], []).append(path)
                break
    return groups


def scan_roots(given: Iterable[str], compose_paths: Iterable[str]) -> tuple[str, ...]:
    """The directories a compose project may read files in: ``given`` (the paths being linted,
    a file standing for its directory), or else the directories of its compose files."""
    roots = [p if os.path.isdir(p) else os.path.dirname(p) or "." for p in given if p != "-"]
    if not roots:
        roots = [os.path.dirname(p) or "." for p in compose_paths if p != "-"] or [os.getcwd()]
    return tuple(dict.fromkeys(os.path.realpath(r) for r in roots))


def readable_by_compose(path: str, roots: Iterable[str]) -> bool:
    """Whether a compose file may make portlint read ``path``: its real path (every symbolic
    link resolved) lies inside one of ``roots`` (real paths, from scan_roots).

    The one place this rule lives, so that a shared read policy can take its place.
    """
    real = os.path.realpath(path)
    for root in roots:
        prefix = root if root.endswith(os.sep) else root + os.sep
        if real == root or real.startswith(prefix):
            return True
    return False
