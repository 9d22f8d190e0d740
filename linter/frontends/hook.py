"""``python -m linter.frontends.hook``: write the pre-commit hook's ``files`` pattern from the registry
of front ends into .pre-commit-hooks.yaml (tests/frontends/test_frontend_registry.py checks it is current)."""

from __future__ import annotations

import re
import sys

from linter.frontends.registry import hook_files_pattern

HOOK_FILE = ".pre-commit-hooks.yaml"
# The first hook's `files:` line: the `portlint` hook (portlint-diff reads rulesets only and keeps its own).
_FILES_LINE = re.compile(r"^  files: .*$", re.M)


def files_line() -> str:
    """The `files:` line of the `portlint` hook, quoted for YAML."""
    return "  files: '" + hook_files_pattern().replace("'", "''") + "'"


def write_hook_files(path: str = HOOK_FILE) -> bool:
    """Write ``files_line`` over the first hook's `files:` line of ``path``; whether it changed."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    updated = _FILES_LINE.sub(lambda _: files_line(), text, count=1)
    if updated == text:
        return False
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(updated)
    return True


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else HOOK_FILE
    print(f"{target}: {'updated' if write_hook_files(target) else 'up to date'}")
