"""Reading one side of a diff: files and directories as `check` finds them, or files from git."""

from __future__ import annotations

from dataclasses import dataclass, field

from linter.diagnostics import Diagnostic


@dataclass
class Side:
    """The rulesets of one side (read as one host) and what went wrong reading them."""

    rulesets: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "path:line:col: CODE message": unreadable input
    notes: list[str] = field(default_factory=list)  # parse diagnostics: the side was still read


def _parse_into(side: Side, source, path: str, input_format: str | None) -> None:
    from linter.detect import detect_format
    from linter.frontends import FRONT_ENDS, parse_source
    from linter.model import ComposeProject, Ruleset

    if isinstance(source, Diagnostic):
        side.problems.append(f"{source.span}: {source.code} {source.message}")
        return
    fmt = input_format or detect_format(path, source.text)
    if fmt not in FRONT_ENDS:
        side.problems.append(f"{path}:1:1: PL004 Cannot tell what kind of file this is")
        return
    parsed = parse_source(source, fmt)
    for diag in list(source.diagnostics) + list(parsed.diagnostics):
        if diag.code != "PL013":
            side.notes.append(f"{diag.span}: {diag.code} {diag.message}")
    if isinstance(parsed.document, Ruleset):
        side.rulesets.append(parsed.document)
    elif isinstance(parsed.document, ComposeProject):
        from linter.compose_nat import compose_as_ruleset

        # The rules Docker installs for its published ports: judged like firewall rules.
        side.rulesets.append(compose_as_ruleset(parsed.document))


def read_paths(paths: list[str], input_format: str | None = None) -> Side:
    """Files named and the lintable files of directories named, as `portlint check` finds them."""
    from linter.pipeline import discover
    from linter.source import read_source

    side = Side()
    files, problems = discover(list(paths))
    side.problems.extend(f"{d.span}: {d.code} {d.message}" for d in problems)
    for path in files:
        _parse_into(side, read_source(path), path, input_format)
    return side


def read_blobs(blobs: list[tuple[str, bytes]], input_format: str | None = None) -> Side:
    """Files given as (path, content), as read from a git revision."""
    from linter.source import decode

    side = Side()
    for path, data in blobs:
        _parse_into(side, decode(path, data), path, input_format)
    return side
