"""The command line: `portlint PATH...` and its subcommands.

Exit codes: 0 nothing at or above --fail-on; 1 something is; 2 usage error or an
input that could not be read.
"""

from __future__ import annotations

import gc
import json
import os
import sys

import click

from linter import __version__
from linter.format_choice import FormatChoice
from linter.gate import DEFAULT_FAIL_ON, EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, gate_options  # noqa: F401  (re-exported)
from linter.reporters import FORMATS
from linter.reporters.safe import safe_line

SEVERITIES = ("info", "low", "medium", "high", "critical")


# Subcommands defined in their own modules, imported only when named (or listed by --help),
# so that `portlint check` does not pay for the engine's trace and exposure code at start-up.
LAZY_COMMANDS = {
    "trace": ("linter.commands.trace", "trace"),
    "exposure": ("linter.commands.exposure", "exposure"),
    "diff": ("linter.commands.diff", "diff"),
}


class DefaultToCheck(click.Group):
    """`portlint PATH...` means `portlint check PATH...` unless PATH is a subcommand."""

    def list_commands(self, ctx):
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx, name):
        if name in LAZY_COMMANDS and name not in self.commands:
            import importlib

            module, attribute = LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def parse_args(self, ctx, args):
        if (args and args[0] not in self.commands and args[0] not in LAZY_COMMANDS
                and args[0] not in ("--help", "-h", "--version")):
            args = ["check", *args]
        elif not args:
            args = ["check", "--help-if-empty"]
        return super().parse_args(ctx, args)


def _console(no_color: bool, file=None):
    from linter.reporters.text import console_for, wants_color

    return console_for(file or sys.stdout, wants_color(no_color))


@click.group(cls=DefaultToCheck, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portlint")
def main():
    """Lint firewall rules and container port configs for what they really expose.

    \b
    portlint firewall.rules            lint files and directories (same as `check`)
    portlint exposure rules.v4         what new connections can reach, and from where
    portlint trace rules.v4 --dport 23 the verdict and path of one flow
    portlint rule PL101                what a rule checks and why
    portlint port telnet               what portlint knows of a port
    portlint show compose.yaml         what portlint read from a file (--format json)
    """
    # A run builds large, long-lived, acyclic structures (the model, the engine's packet
    # spaces): collect cyclic garbage less often than Python's default (700, 10, 10), which
    # spends about 15% of a large lint re-scanning them (docs/performance.md).
    gc.set_threshold(100_000, 50, 1000)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "--output-format", "fmt", type=click.Choice(list(FORMATS)), default="text",
              show_default=True, help="Report format.")
@click.option("--fail-on", type=click.Choice((*SEVERITIES, "none")), default=None,
              help=f"Exit 1 when a finding has this severity or higher; none: never.  [default: fail-on in "
                   f"the configuration, else {DEFAULT_FAIL_ON}]")
@click.option("--input-format", type=FormatChoice(),
              help="Read every file as this format instead of detecting it.")
@click.option("--no-color", is_flag=True, help="No colour, even on a terminal (NO_COLOR works too).")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(),
              help="Variables for compose interpolation, instead of the .env beside the compose file (repeatable).")
@gate_options
@click.option("--help-if-empty", is_flag=True, hidden=True)
@click.pass_context
def check(ctx, paths, fmt, fail_on, input_format, no_color, env_files, help_if_empty, **gate):
    """Lint PATHS (files and directories; - for standard input; `--` ends the options);
    without PATHS, the current directory."""
    if help_if_empty:  # `portlint` alone: say how to use it
        click.echo(ctx.get_help())
        ctx.exit(EXIT_ERROR)
    paths = paths or (".",)
    from linter.gate import run

    ctx.exit(run(list(paths), fmt=fmt, fail_on=fail_on, input_format=input_format, no_color=no_color,
                 env_files=tuple(env_files), **gate))


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def list_rules(fmt):
    """List every rule: code, name, default severity, category."""
    from linter.rulebook import all_rules

    rules = all_rules().values()
    if fmt == "json":
        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": str(r.severity),
                                "category": r.category, "status": r.status} for r in rules], indent=2))
        return
    rows = [(meta.code, meta.name, str(meta.severity), meta.category) for meta in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3])


@main.command("rule")
@click.argument("code")
@click.option("--no-color", is_flag=True, help="Plain text, even on a terminal (NO_COLOR works too).")
@click.pass_context
def explain_rule(ctx, code, no_color):
    """Explain a rule: what it does, why, an example and the fix (rendered Markdown on a terminal)."""
    from linter.rulebook import get_rule
    from linter.reporters.text import wants_color

    meta = get_rule(code)
    if meta is None:
        click.echo(f"portlint: no rule {code!r}; `portlint rules` lists them", err=True)
        ctx.exit(EXIT_ERROR)
    text = meta.render_doc()
    if wants_color(no_color) and on_terminal(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        # The rule's documentation is portlint's own text (rules/*.yaml), not input.
        Console(file=sys.stdout, highlight=False, emoji=False).print(Markdown("# " + text))
        return
    click.echo(text, nl=False)


def on_terminal(stream) -> bool:
    """Whether ``stream`` is a terminal a person reads (FORCE_COLOR counts as one)."""
    return "FORCE_COLOR" in os.environ or (hasattr(stream, "isatty") and stream.isatty())


@main.command("port")
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_context
def port(ctx, query, fmt):
    """What portlint knows of a port: `portlint port 23`, `portlint port telnet`, `53/udp`."""
    from linter.netdb import service_name
    from linter.ports import default_registry

    registry = default_registry()
    hits = registry.resolve_query(query)
    valid = [(p, t) for p, t in hits if 0 <= p <= 65535]
    if not valid:
        click.echo(f"portlint: {query!r} is not a port number (0-65535) or a known service name", err=True)
        ctx.exit(EXIT_ERROR)
    named = None if query.strip().partition("/")[0].isdigit() else registry.by_name(query.partition("/")[0])
    rows = []
    for number, transport in valid:
        # A name picks its own entry, even one that only evidence names (tor-orport shares 9001).
        entry = named if named is not None and named.covers(number, transport) else registry.lookup(number, transport)
        row = {"port": number, "transport": transport, "system_name": service_name(number, transport)}
        if entry:
            row.update(name=entry.name, ports=entry.ports_text(), description=entry.description,
                       category=entry.category, plaintext=entry.plaintext, alternative=entry.alternative,
                       risk=entry.risk, why=entry.why, references=list(entry.references),
                       aliases=list(entry.aliases), images=list(entry.images), evidence_only=entry.evidence_only,
                       also=[e.name for e in registry.entries if e is not entry and e.evidence_only
                             and e.covers(number, transport) and e.ranges[-1][1] - e.ranges[0][0] < 1024])
        if entry or row["system_name"]:
            rows.append(row)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"{valid[0][0]}: nothing known (not in portlint's registry or the system's services)")
        return
    for row in rows:
        click.echo(f"{row['port']}/{row['transport']}: {row.get('name') or row['system_name']}")
        if "name" in row:
            click.echo(f"  {row['description']}")
            click.echo(f"  category: {row['category']}   risk if exposed: {row['risk']}   "
                       f"plaintext: {'yes' if row['plaintext'] else 'no'}")
            if row["alternative"]:
                click.echo(f"  use instead: {row['alternative']}")
            if row["why"]:
                click.echo(f"  why: {row['why']}")
            if row["references"]:
                click.echo(f"  references: {', '.join(row['references'])}")
            if row["aliases"]:
                click.echo(f"  also written: {', '.join(row['aliases'])}")
            if row["images"]:
                click.echo(f"  images: {', '.join(row['images'])}")
            if row["evidence_only"]:
                click.echo("  named only by a rule's comment or a container image, never by the port alone")
            if row["also"]:
                click.echo(f"  a comment or image may name instead: {', '.join(row['also'])}")
        else:
            click.echo("  (name from the system's services database; not in portlint's registry)")


@main.command("show")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--input-format", type=FormatChoice(),
              help="Read the input as this format instead of detecting it.")
@click.option("--env-file", "env_files", multiple=True, type=click.Path(),
              help="Variables for compose interpolation, instead of the .env beside the compose file (repeatable).")
@click.pass_context
def show(ctx, paths, fmt, input_format, env_files):
    """The model portlint read from an input: a compose project's services and publications, or
    a ruleset's tables, chains and rules. Several compose files merge in order, as with
    `docker compose -f a.yml -f b.yml`."""
    from linter import collector
    from linter.frontends import FrontEndOptions
    from linter.pipeline import read_document
    from linter.readpolicy import ReadPolicy
    from linter.reporters import model_json

    if len(paths) > 1 and (input_format or "compose") != "compose":
        click.echo("portlint: only compose files merge; show one ruleset at a time", err=True)
        ctx.exit(EXIT_ERROR)
    options = FrontEndOptions(env_files=tuple(env_files), compose_overrides=tuple(paths[1:]),
                              read_policy=ReadPolicy.for_paths(list(paths)))
    with collector.paused():
        parsed = read_document(paths[0], input_format, options)
    if len(paths) > 1 and parsed.format != "compose" and parsed.source is not None:
        click.echo("portlint: only compose files merge; show one ruleset at a time", err=True)
        ctx.exit(EXIT_ERROR)
    for diag in parsed.diagnostics:
        click.echo(safe_line(f"{diag.span}: {diag.code} {diag.message}"), err=True)
    if parsed.document is None:
        if not parsed.diagnostics and parsed.format == "firewalld":  # firewalld.conf, a service file
            click.echo(f"portlint: {paths[0]} holds no ruleset of its own; show a zone or policy file", err=True)
        ctx.exit(EXIT_ERROR)
    if fmt == "json":
        sys.stdout.write(model_json.render(parsed.document))
        return
    for document in (parsed.document, *parsed.extra):  # a script's docker run publications follow its rules
        for line in model_json.text_lines(document):
            click.echo(line)


def load_rulesets(ctx, paths, input_format=None):
    """The rulesets of ``paths`` (files and directories; a compose project as the rules Docker
    installs for it) for trace and exposure: what could not be read or parsed goes to stderr; a
    path that cannot be read, or no ruleset at all, exits 2."""
    from linter.compose_nat import compose_as_ruleset
    from linter.frontends import FRONT_ENDS
    from linter.model import ComposeProject, Ruleset
    from linter.pipeline import read_documents

    rulesets = []
    failed = False
    for read in read_documents(list(paths), input_format):
        for diag in read.diagnostics:
            if diag.code != "PL013":
                click.echo(safe_line(f"{diag.span}: {diag.code} {diag.message}"), err=True)
        failed |= read.unreadable or read.source is None or read.format not in FRONT_ENDS
        for document in read.documents:  # a script's docker run publications come after its rules
            if isinstance(document, Ruleset):
                rulesets.append(document)
            elif isinstance(document, ComposeProject):
                rulesets.append(compose_as_ruleset(document))  # the rules Docker installs for it
    if not failed and not rulesets:
        click.echo(safe_line(f"portlint: no ruleset or compose file found in {', '.join(paths)}"), err=True)
    if failed or not rulesets:
        ctx.exit(EXIT_ERROR)
    return rulesets


def run() -> None:
    """The click command line (linter.launch.run, the console entry point, takes a short way
    for a plain check command line): a bug in portlint ends with a one-line message, not a
    traceback; the process leaves without tearing the interpreter down (launch.leave)."""
    from linter.launch import guarded

    guarded(main)
