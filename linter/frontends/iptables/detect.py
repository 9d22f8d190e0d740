"""Recognising the iptables front ends' files: iptables-save output (and `iptables -S`/`-L` listings)
and shell scripts running iptables, ip6tables, iptables-restore, firewall-cmd, ufw or docker/podman run."""

from __future__ import annotations

import re
from pathlib import PurePath

from linter.frontends.registry import Detector, FrontEndInfo, Sniff

_IPTABLES_SAVE_LINE = re.compile(r"^\s*(\*(filter|nat|mangle|raw|security)\s*$|:[^\s]+\s+(ACCEPT|DROP|RETURN|-)\s)", re.M)
# `iptables -S` output starts with the built-in chains' policies; `iptables -L` with "Chain INPUT (policy".
_IPTABLES_LISTING = re.compile(r"\A(?:#[^\n]*\n|\s*\n)*(?:-P[ \t]+[A-Z]+[ \t]+(?:ACCEPT|DROP)[ \t]*$"
                               r"|Chain [^\s]+ \((?:policy (?:ACCEPT|DROP)|\d+ references))", re.M)
_IPTABLES_RULE = re.compile(r"^\s*(\[\d+:\d+\]\s*)?-[AI]\s+\S+", re.M)
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
# One line of iptables-save output: a table header, a chain with its policy and counters, a rule
# (with counters from iptables-save -c), or COMMIT.
_SAVE_SHAPE = re.compile(r"\s*(\*\w+|:\S+\s+\S+(\s+\[\d+:\d+\])?|(\[\d+:\d+\]\s*)?-[AIDRN]\s.*|COMMIT)\s*")
_TABLE_HEADER = re.compile(r"^\s*\*\w+\s*$", re.M)

SAVE_FILE_NAMES = re.compile(r"^(rules\.v[46]|ip6?tables([.-][\w.-]*)?|.*\.rules|.*\.ipt)$", re.I)
# Firewall scripts by name: rc.firewall, rc.fw, firewall, firewall.sh, start.fw, fw-up...
SCRIPT_NAMES = re.compile(r"^(.*\.(sh|fw)|rc\.(local|fw|firewall[\w.-]*)|[\w.-]*firewall[\w-]*)$", re.I)


def _is_iptables_save(code: str, cut: bool = False) -> bool:
    """Whether every line of ``code`` (comment lines removed) is iptables-save output, with a table header;
    ``cut``: the last line of ``code`` is the start of a longer one, which is not judged.

    Decided before any shell pattern: a rule's ``--comment "iptables -A ..."`` is not a shell command.
    """
    if not _TABLE_HEADER.search(code):
        return False
    lines = code.split("\n")
    if cut:
        lines.pop()
    return all(_SAVE_SHAPE.fullmatch(line) for line in lines if line.strip())


def _save_lines_not_shell(file: Sniff) -> bool:
    """Table headers or chain lines with rules or COMMIT, and no shell command running iptables."""
    return bool(_IPTABLES_SAVE_LINE.search(file.code) and (_IPTABLES_RULE.search(file.code) or "COMMIT" in file.code)
                and not _SHELL_IPTABLES.search(file.code))


def _listing(file: Sniff) -> bool:
    """`iptables -S` (read as the filter table) or `-L` output (told to use -S)."""
    return bool(_IPTABLES_LISTING.search(file.head) and not _SHELL_IPTABLES.search(file.code))


def _shell_firewall(file: Sniff) -> bool:
    return bool(_SHELL_IPTABLES.search(file.head) or _SHELL_FIREWALL_CMD.search(file.code))


def _shell_ufw_or_container(file: Sniff) -> bool:
    """The shell front end reads ufw and docker/podman run commands too."""
    return bool(_SHELL_UFW.search(file.code) or _SHELL_CONTAINER_RUN.search(file.code))


def _save_line_or_name(file: Sniff) -> bool:
    return bool(_IPTABLES_SAVE_LINE.search(file.head) or SAVE_FILE_NAMES.match(file.name))


FRONT_ENDS = (
    FrontEndInfo(
        name="iptables-save",
        module="linter.frontends.iptables.save",
        detect=(Detector(20, lambda file: _is_iptables_save(file.code, file.cut)),
                Detector(30, _save_lines_not_shell),
                Detector(40, _listing),
                Detector(90, _save_line_or_name)),
        names=lambda path: bool(SAVE_FILE_NAMES.match(PurePath(path).name)),
        hook_files=r"[^/]*\.rules|rules\.v[46]|ip6?tables[^/]*",
    ),
    FrontEndInfo(
        name="iptables-script",
        module="linter.frontends.iptables.script",
        detect=(Detector(70, _shell_firewall), Detector(71, _shell_ufw_or_container)),
        names=lambda path: bool(SCRIPT_NAMES.match(PurePath(path).name)),
        hook_files=r"(?i:[^/]*\.(sh|fw)|rc\.(local|fw|firewall[\w.-]*)|[\w.-]*firewall[\w-]*)",
    ),
)
