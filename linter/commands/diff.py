"""`portlint diff`: what a change opens and what it closes, computed on accepted spaces."""

from __future__ import annotations

import click

from linter import collector
from linter.reporters.safe import safe_line

FORMATS = ["text", "json", "markdown", "sarif", "github", "html"]


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--git", "rev", metavar="REV",
              help="Compare the working tree's PATHS with the same files at git revision REV "
                   "(HEAD~1, a branch, a tag, a sha): read from .git, git is never run.")
@click.option("--repo", default=".", show_default=True, type=click.Path(file_okay=False),
              help="The repository --git reads (the working tree it belongs to).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(["info", "low", "medium", "high", "critical"]), default=None,
              help="Exit 1 when something this severe or worse is opened (default: as `check`).")
@click.option("--input-format", type=click.Choice(["iptables-save", "nftables", "iptables-script"]))
@click.pass_context
def diff(ctx, paths, rev, repo, fmt, fail_on, input_format):
    """What NEW accepts that OLD did not (opened) and what it no longer accepts (closed).

    `portlint diff OLD NEW`: each side is a file or a directory, read as one host (formats
    may differ: an iptables-save dump against the nft ruleset replacing it). `portlint diff
    --git REV [PATHS]`: the files at REV against the working tree. Exit 1 when something at
    or above --fail-on is opened, 0 otherwise, 2 when an input cannot be read."""
    from linter.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
    from linter.diff.sides import read_paths
    from linter.findings import Severity
    from linter.gate import DEFAULT_FAIL_ON

    if rev is None and len(paths) != 2:
        raise click.UsageError("give OLD and NEW (two files or directories), or --git REV [PATHS]")
    from linter.config import ConfigError, load_config

    try:
        # The project's configuration, as `check` finds it: trusted networks, interface roles,
        # host addresses, assumptions, in-house services and fail-on judge both sides alike.
        config = load_config()
    except ConfigError as exc:
        click.echo(safe_line(f"portlint: {exc}"), err=True)
        ctx.exit(EXIT_ERROR)
    settings = config.settings()
    with collector.paused():
        if rev is None:
            old, new = read_paths([paths[0]], input_format), read_paths([paths[1]], input_format)
        else:
            from linter.diff.gitside import read_revision

            import os

            from linter.diff.sides import Side

            wanted = list(paths) or [repo]
            old = read_revision(repo, rev, wanted, input_format)
            # A file the change deletes is in the old side only.
            present = [path for path in wanted if os.path.lexists(path)]
            new = read_paths(present, input_format) if present else Side()
        problems = old.problems + new.problems
        for note in old.notes + new.notes:
            click.echo(safe_line(note), err=True)
        for problem in problems:
            click.echo(safe_line(problem), err=True)
        if problems:
            ctx.exit(EXIT_ERROR)
        from linter.diff.compute import compute_diff

        result = compute_diff(old.rulesets, new.rulesets, settings.network_classes(), settings.port_registry())
        if fmt == "html":
            from linter.diff.html import render_diff_html

            output = render_diff_html(result)
        else:
            from linter.diff.render import render

            output = render(result, fmt)
    click.echo(output, nl=False)
    threshold = Severity.parse(fail_on or (str(config.fail_on) if config.fail_on else DEFAULT_FAIL_ON))
    ctx.exit(EXIT_FINDINGS if any(c.severity >= threshold for c in result.opened) else EXIT_OK)
