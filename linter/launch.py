"""The console entry point, with a short way in for the commonest command line.

A pre-commit hook runs `portlint FILE...` (or `portlint check --isolated -q FILE...`) once a
commit; importing click and building the command tree (cli.py) is about a tenth of such a
run. A command line made only of paths and a few plain options (CHECK_FLAGS, CHECK_CHOICES,
--jobs N) is therefore read here and handed to the gate with exactly the arguments click
would give it (tests/test_launch.py compares the two on many command lines); anything else
(another command, --help, an option written `--x=y`, a path starting with `-`, no path) goes
to click as before. The exits are click's: its handling of ^C and of a closed pipe is
repeated here for the short way.
"""

from __future__ import annotations

import os
import sys

# Flags the short way reads (each sets its parameter to True), by spelling.
CHECK_FLAGS = {
    "--isolated": "isolated", "-q": "quiet", "--quiet": "quiet", "--no-color": "no_color",
    "--exit-zero": "exit_zero", "--statistics": "statistics", "--no-inline-suppressions": "no_inline_suppressions",
}
# Options taking one of a fixed set of words: spelling -> parameter. Their words are those of
# cli.py's click.Choice (FORMATS, SEVERITIES).
CHECK_CHOICES = {"--format": "fmt", "--output-format": "fmt", "--fail-on": "fail_on"}
# Every command name: a first word naming one is a command, not a path (cli.DefaultToCheck).
COMMANDS = ("check", "rules", "rule", "port", "show", "trace", "exposure", "diff")
SEVERITY_WORDS = ("info", "low", "medium", "high", "critical", "none")


def check_defaults() -> dict:
    """What click passes the gate for a check command line with no options."""
    return dict(fmt="text", fail_on=None, input_format=None, no_color=False, env_files=(), output=None,
                config_file=None, isolated=False, no_inline_suppressions=False, baseline_file=None,
                write_baseline_file=None, allow_read=(), jobs=0, stdin_filename=None, select=(), ignore=(),
                extend_select=(), exit_zero=False, quiet=False, statistics=False)


def check_arguments(argv: list[str], environ=os.environ) -> dict | None:
    """The gate.run arguments of command line ``argv`` when the short way can read it, else None."""
    if any(name.endswith("_COMPLETE") for name in environ):  # click's shell completion
        return None
    words = list(argv)
    if words and words[0] == "check":
        words = words[1:]
    elif not words or words[0] in COMMANDS:
        return None
    arguments = check_defaults()
    paths = []
    at = 0
    while at < len(words):
        word = words[at]
        if not word.startswith("-"):
            paths.append(word)
        elif word in CHECK_FLAGS:
            arguments[CHECK_FLAGS[word]] = True
        elif word in CHECK_CHOICES or word == "--jobs":
            at += 1
            if at == len(words) or not _valid(word, words[at]):
                return None  # click says what is wrong
            value = words[at]
            arguments["jobs" if word == "--jobs" else CHECK_CHOICES[word]] = int(value) if word == "--jobs" else value
        else:
            return None
        at += 1
    if not paths:
        return None
    arguments["paths"] = paths
    return arguments


def _valid(option: str, value: str) -> bool:
    if option == "--jobs":
        return value.isascii() and value.isdigit()  # click.IntRange(min=0) takes these as int(value)
    if option == "--fail-on":
        return value in SEVERITY_WORDS
    from linter.reporters import FORMATS

    return value in FORMATS


def run() -> None:
    """`portlint ...`: the short way for a plain check command line, click for any other."""
    arguments = check_arguments(sys.argv[1:])
    if arguments is None:
        from linter.cli import main

        guarded(main)
    else:
        guarded(lambda: _check(arguments))


def _check(arguments: dict) -> None:
    """The check command as click runs it (cli.main, then cli.check), without click: the group's
    collector setting, the gate, and click's standalone exits."""
    import gc

    from linter.gate import run as gate

    gc.set_threshold(100_000, 50, 1000)  # as cli.main sets it (see there)
    try:
        code = gate(arguments.pop("paths"), **arguments)
    except (EOFError, KeyboardInterrupt):
        import click

        click.echo(file=sys.stderr)  # what click's main prints for an interrupt
        click.echo("Aborted!", file=sys.stderr)
        sys.exit(1)
    except OSError as exc:
        import errno

        if exc.errno != errno.EPIPE:
            raise
        sys.exit(1)  # click's exit for a closed pipe; leave() ignores the streams' flush errors as click does
    sys.exit(code)


def guarded(body) -> None:
    """Run ``body``: a bug in portlint ends with a one-line message, not a traceback."""
    try:
        body()
    except SystemExit as done:
        leave(done.code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("PORTLINT_DEBUG"):
            raise
        import click

        from linter.reporters.safe import safe_line

        click.echo(safe_line(f"portlint: internal error: {type(exc).__name__}: {exc} "
                             f"(set PORTLINT_DEBUG=1 for the traceback; please report it)"), err=True)
        sys.exit(2)  # gate.EXIT_ERROR


def leave(code) -> None:
    """Exit with ``code`` without tearing the interpreter down: freeing a 100k-rule model and
    its packet spaces object by object took 2.4 s after the report was out. Every file
    portlint writes is closed by then (click closes them with its context); the standard
    streams are flushed here."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe (portlint ... | head): nothing more can be said there
    os._exit(status)
