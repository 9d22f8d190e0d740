"""Recognising an input's format by its name and, above all, its content."""

from __future__ import annotations

import re
from pathlib import PurePath

_IPTABLES_SAVE_LINE = re.compile(r"^\s*(\*(filter|nat|mangle|raw|security)\s*$|:[^\s]+\s+(ACCEPT|DROP|RETURN|-)\s)", re.M)
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
# A whole-line comment: a shell command quoted there ("# to restore: iptables -F; iptables-restore <
# rules.v4") says nothing about what the file is.
_COMMENT_LINE = re.compile(r"^[ \t]*#[^\n]*$", re.M)
# One line of iptables-save output: a table header, a chain with its policy and counters, a rule
# (with counters from iptables-save -c), or COMMIT.
_SAVE_SHAPE = re.compile(r"\s*(\*\w+|:\S+\s+\S+(\s+\[\d+:\d+\])?|(\[\d+:\d+\]\s*)?-[AIDRN]\s.*|COMMIT)\s*")
_TABLE_HEADER = re.compile(r"^\s*\*\w+\s*$", re.M)
_COMPOSE_NAMES = re.compile(r"^((docker-)?compose([.-][\w.-]+)?|[\w.-]+\.override)\.ya?ml$", re.I)

# Every input format portlint knows (--input-format, input-format in configuration).
INPUT_FORMATS = ("iptables-save", "nftables", "iptables-script", "compose")

IPTABLES_NAMES = re.compile(r"^(rules\.v[46]|ip6?tables([.-][\w.-]*)?|.*\.rules|.*\.ipt)$", re.I)
NFT_NAMES = re.compile(r"^(nftables\.conf|.*\.nft)$", re.I)
# Firewall scripts by name: rc.firewall, rc.fw, firewall, firewall.sh, start.fw, fw-up...
SCRIPT_NAMES = re.compile(r"^(.*\.(sh|fw)|rc\.(local|fw|firewall[\w.-]*)|[\w.-]*firewall[\w-]*)$", re.I)


def detect_format(path: str, text: str) -> str | None:
    """The front end for this file ("iptables-save", "nftables", "compose", "iptables-script"), or None.

    Content wins over names: an iptables-save dump named anything is recognised.
    """
    name = PurePath(path).name
    head = text[:200_000]
    code = _COMMENT_LINE.sub("", head)
    if _is_iptables_save(code):
        return "iptables-save"
    if _IPTABLES_SAVE_LINE.search(code) and (_IPTABLES_RULE.search(code) or "COMMIT" in code):
        if not _SHELL_IPTABLES.search(code):
            return "iptables-save"
    if _COMPOSE_NAMES.match(name) or (name.endswith((".yml", ".yaml")) and re.search(r"^services\s*:", head, re.M)):
        return "compose"
    if _NFT_CONTENT.search(head) or NFT_NAMES.match(name):
        return "nftables"
    if _SHELL_IPTABLES.search(head):
        return "iptables-script"
    if _IPTABLES_SAVE_LINE.search(head) or IPTABLES_NAMES.match(name):
        return "iptables-save"
    return None


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
        or SCRIPT_NAMES.match(name)
    )
