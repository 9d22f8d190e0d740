"""Recognising an input's format by its name and, above all, its content."""

from __future__ import annotations

import os
import re
import stat
from pathlib import PurePath

_IPTABLES_SAVE_LINE = re.compile(r"^\s*(\*(filter|nat|mangle|raw|security)\s*$|:[^\s]+\s+(ACCEPT|DROP|RETURN|-)\s)", re.M)
# `iptables -S` output starts with the built-in chains' policies; `iptables -L` with "Chain INPUT (policy".
_IPTABLES_LISTING = re.compile(r"\A(?:#[^\n]*\n|\s*\n)*(?:-P[ \t]+[A-Z]+[ \t]+(?:ACCEPT|DROP)[ \t]*$"
                               r"|Chain [^\s]+ \((?:policy (?:ACCEPT|DROP)|\d+ references))", re.M)
_IPTABLES_RULE = re.compile(r"^\s*(\[\d+:\d+\]\s*)?-[AI]\s+\S+", re.M)
_NFT_CONTENT = re.compile(r"^\s*(table\s+(ip|ip6|inet|arp|bridge|netdev)\s+\S+|flush\s+ruleset|(add|insert)\s+(rule|table|chain)\s)|^#!.*\bnft\b", re.M)
# A shell command running iptables/ip6tables (by name, path, sudo or a $IPT-like variable) with a command
# option, or iptables-restore fed a here-document.
_SHELL_IPTABLES = re.compile(
    r"(^|[\s;|&/$({`])(ip6?tables(-legacy|-nft)?|\$\{?[Ii][Pp]6?[Tt]\w*\}?)[ \t]+"
    r"(-[tAIDRPNXFZwWCE]|--(append|insert|delete|replace|policy|new-chain|delete-chain|flush|zero|table|wait)\b)"
    r"|(^|[\s;|&/({`])ip6?tables(-legacy|-nft)?-restore\b[^\n]*<<",
    re.M,
)
# A shell command changing ufw's rules (ufw allow/deny/reject/limit, route, insert, delete, default, enable),
# or starting a container with published ports (docker/podman [container] run|create ... -p/--publish/-P).
_SHELL_UFW = re.compile(
    r"(^|[\s;|&({`/])ufw[ \t]+(--force[ \t]+|--dry-run[ \t]+)?"
    r"(allow|deny|reject|limit|route|insert|prepend|delete|default|enable)\b",
    re.M,
)
_SHELL_CONTAINER_RUN = re.compile(
    r"(^|[\s;|&({`/])(docker|podman)[ \t]+(container[ \t]+)?(run|create)\b"
    r"(?:[^\n]|\\\n)*?[ \t](-p|--publish|-P|--publish-all|-[a-zA-Z]*[pP])(?=[\s=0-9\[\"'$])",
    re.M,
)
# A shell command running firewall-cmd with an option that changes the configuration.
_SHELL_FIREWALL_CMD = re.compile(r"(^|[\s;|&/({`])firewall-(offline-)?cmd\b(?:[^\n]|\\\n)*?--(add|remove|change"
                                 r"|set-default-zone|set-target|new-zone|new-policy)", re.M)
# A whole-line comment: a shell command quoted there ("# to restore: iptables -F; iptables-restore <
# rules.v4") says nothing about what the file is.
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*$", re.M)
# One line of iptables-save output: a table header, a chain with its policy and counters, a rule
# (with counters from iptables-save -c), or COMMIT.
_SAVE_SHAPE = re.compile(r"\s*(\*\w+|:\S+\s+\S+(\s+\[\d+:\d+\])?|(\[\d+:\d+\]\s*)?-[AIDRN]\s.*|COMMIT)\s*")
_TABLE_HEADER = re.compile(r"^\s*\*\w+\s*$", re.M)
_COMPOSE_NAMES = re.compile(r"^((docker-)?compose([.-][\w.-]+)?|[\w.-]+\.override)\.ya?ml$", re.I)

# Every input format portlint knows (--input-format, input-format in configuration).
INPUT_FORMATS = ("iptables-save", "nftables", "iptables-script", "compose", "firewalld")

IPTABLES_NAMES = re.compile(r"^(rules\.v[46]|ip6?tables([.-][\w.-]*)?|.*\.rules|.*\.ipt)$", re.I)
NFT_NAMES = re.compile(r"^(nftables\.conf|.*\.nft)$", re.I)
# firewalld's files: a root element <zone>, <service>, <policy> (or its definition files': <ipset>,
# <icmptype>, <helper>) after the XML declaration, comments and a DOCTYPE (which the front end refuses),
# and firewalld.conf; by path, any XML file in a firewalld/zones|services|policies|ipsets directory and
# firewalld/direct.xml.
_FIREWALLD_ROOT = re.compile(r"\A\ufeff?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
                             r"<(zone|service|policy|ipset|icmptype|helper)[\s>/]", re.S)
# What a walk asks of an XML file outside a firewalld/ directory besides its root: an element only
# firewalld's files have (a Windows service wrapper's <service> has none of them).
_FIREWALLD_CHILD = re.compile(r"<(short|port|interface|source|ingress-zone|egress-zone|entry|rule|masquerade|forward"
                              r"|forward-port|include)\b")
FIREWALLD_PATH = re.compile(r"(^|/)(firewalld/(zones|services|policies|ipsets)/[^/]+\.xml|firewalld/direct\.xml"
                            r"|firewalld\.conf)$")
# Firewall scripts by name: rc.firewall, rc.fw, firewall, firewall.sh, start.fw, fw-up...
SCRIPT_NAMES = re.compile(r"^(.*\.(sh|fw)|rc\.(local|fw|firewall[\w.-]*)|[\w.-]*firewall[\w-]*)$", re.I)


def detect_format(path: str, text: str) -> str | None:
    """The front end for this file ("iptables-save", "nftables", "compose", "iptables-script", "firewalld"),
    or None.

    Content wins over names: an iptables-save dump named anything is recognised.
    """
    name = PurePath(path).name
    head = text[:200_000]
    if _FIREWALLD_ROOT.match(head) or (name == "firewalld.conf" and re.search(r"^\s*DefaultZone\s*=", head, re.M)) \
            or (FIREWALLD_PATH.search(PurePath(path).as_posix()) and head.lstrip().startswith("<")):
        return "firewalld"
    code = _COMMENT_LINE.sub("", head)
    if _is_iptables_save(code):
        return "iptables-save"
    if _IPTABLES_SAVE_LINE.search(code) and (_IPTABLES_RULE.search(code) or "COMMIT" in code):
        if not _SHELL_IPTABLES.search(code):
            return "iptables-save"
    if _IPTABLES_LISTING.search(head) and not _SHELL_IPTABLES.search(code):
        return "iptables-save"  # `iptables -S` (read as the filter table) or `-L` output (told to use -S)
    if _COMPOSE_NAMES.match(name) or (name.endswith((".yml", ".yaml")) and (
            re.search(r"^services\s*:", head, re.M) or looks_like_compose_head(head[:COMPOSE_SNIFF_BYTES]))):
        return "compose"
    if _NFT_CONTENT.search(head) or NFT_NAMES.match(name):
        return "nftables"
    if _SHELL_IPTABLES.search(head) or _SHELL_FIREWALL_CMD.search(code):
        return "iptables-script"
    if _SHELL_UFW.search(code) or _SHELL_CONTAINER_RUN.search(code):
        return "iptables-script"  # the shell front end reads ufw and docker/podman run commands too
    if _IPTABLES_SAVE_LINE.search(head) or IPTABLES_NAMES.match(name):
        return "iptables-save"
    return None


COMPOSE_TOP_LEVEL = frozenset({"version", "name", "include", "services", "networks", "volumes", "secrets",
                               "configs", "models"})
COMPOSE_SNIFF_BYTES = 8192
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


def looks_like_compose(path: str) -> bool:
    """Whether a YAML file found in a directory walk, named like no compose file, is one
    anyway (``app.yml`` holding ``services:``): only the first COMPOSE_SNIFF_BYTES are read,
    and only from a regular file (no symbolic link, FIFO or device)."""
    if not PurePath(path).name.lower().endswith((".yml", ".yaml")):
        return False
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            head = handle.read(COMPOSE_SNIFF_BYTES)
    except OSError:
        return False
    return looks_like_compose_head(head.decode("utf-8", errors="replace").lstrip("\ufeff"))


def looks_like_firewalld(path: str) -> bool:
    """Whether an XML file found in a directory walk, outside a firewalld/ directory, is a firewalld zone,
    service or policy file by its root element: only its first KBs are read, only from a regular file."""
    if not PurePath(path).name.lower().endswith(".xml"):
        return False
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as handle:
            head = handle.read(COMPOSE_SNIFF_BYTES)
    except OSError:
        return False
    text = head.decode("utf-8", errors="replace")
    root = _FIREWALLD_ROOT.match(text)
    return bool(root and (root.group(1) == "zone" or _FIREWALLD_CHILD.search(text)))


def _is_iptables_save(code: str) -> bool:
    """Whether every line of ``code`` (comment lines removed) is iptables-save output, with a table header.

    Decided before any shell pattern: a rule's ``--comment "iptables -A ..."`` is not a shell command.
    """
    if not _TABLE_HEADER.search(code):
        return False
    return all(_SAVE_SHAPE.fullmatch(line) for line in code.split("\n") if line.strip())


def looks_lintable(path: str) -> bool:
    """Whether a file found in a directory walk is worth reading (by name alone)."""
    name = PurePath(path).name
    return bool(
        IPTABLES_NAMES.match(name) or NFT_NAMES.match(name) or _COMPOSE_NAMES.match(name)
        or SCRIPT_NAMES.match(name) or FIREWALLD_PATH.search(PurePath(path).as_posix())
    )
