"""Recognising compose files: by name (compose.yaml, docker-compose.yml and their overrides), or a YAML
file whose first KBs read as a compose file (a top-level ``services:`` mapping), without a YAML parser."""

from __future__ import annotations

import re
from pathlib import PurePath

from linter.frontends.registry import SNIFF_BYTES, Detector, FrontEndInfo, Sniff

COMPOSE_NAMES = re.compile(r"^((docker-)?compose([.-][\w.-]+)?|[\w.-]+\.override)\.ya?ml$", re.I)
COMPOSE_TOP_LEVEL = frozenset({"version", "name", "include", "services", "networks", "volumes", "secrets",
                               "configs", "models"})
COMPOSE_SNIFF_BYTES = SNIFF_BYTES
_TOP_LEVEL_KEY = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([^\s:#'"][^:#]*?))\s*:(?:\s|$)""")


def looks_like_compose_head(head: str) -> bool:
    """Whether the start of a YAML file reads as a compose file: a top-level ``services:``
    holding a mapping, and no top-level key Compose does not know (so a Kubernetes manifest's
    ``apiVersion:``/``kind:``, a GitHub workflow's ``on:``/``jobs:`` or a GitLab CI file, whose
    ``services:`` is a list, are not taken). Read line by line, without a YAML parser."""
    keys: list[str] = []
    services_at = None
    lines = head.split("\n")
    if len(head) >= COMPOSE_SNIFF_BYTES and len(lines) > 1:
        lines.pop()  # the last line may be cut anywhere
    for number, line in enumerate(lines):
        line = line.rstrip("\r")
        if not line.strip() or line.lstrip().startswith("#") or line[0] in " \t":
            continue
        if line.startswith(("---", "...", "%")):
            if keys:
                break  # a second document: the first decides
            continue
        match = _TOP_LEVEL_KEY.match(line)
        if not match:
            return False  # a top-level list or scalar
        key = next(group for group in match.groups() if group is not None)
        if key not in COMPOSE_TOP_LEVEL and not key.startswith("x-"):
            return False
        keys.append(key)
        if key == "services":
            services_at = number
    if services_at is None:
        return False
    rest = lines[services_at].split(":", 1)[1].split(" #", 1)[0].strip()
    if rest:
        return rest.startswith("{")
    for line in lines[services_at + 1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        return line[0] in " \t" and not stripped.startswith("-")
    return False


def _compose(file: Sniff) -> bool:
    """Named like a compose file, or a YAML file with a top-level ``services:``."""
    return bool(COMPOSE_NAMES.match(file.name) or (file.name.endswith((".yml", ".yaml")) and (
        re.search(r"^services\s*:", file.head, re.M) or looks_like_compose_head(file.head[:COMPOSE_SNIFF_BYTES]))))


FRONT_ENDS = (
    FrontEndInfo(
        name="compose",
        module="linter.frontends.compose.project",
        detect=(Detector(50, _compose),),
        names=lambda path: bool(COMPOSE_NAMES.match(PurePath(path).name)),
        hook_files=r"(docker-)?compose([.-][^/]*)?\.ya?ml",
        sniff_suffixes=(".yml", ".yaml"),
        sniff=lambda head: looks_like_compose_head(head.lstrip("\ufeff")),
        ruleset=False,
    ),
)
