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


