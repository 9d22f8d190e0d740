"""`portlint check` as a CI gate: configuration, lint, suppressions, baseline, report, exit code.

After the checks, findings pass three filters in order:

1. configuration: select / ignore / extend-select / per-file-ignores drop findings of rules
   that are off, and ``severity`` overrides a rule's severity;
2. inline suppressions (linter.suppressions), which add their own findings for unknown
   codes, unused, expired and malformed suppressions (PL021-PL024; those pass step 1 too,
   and an inline suppression that names them silences them);
3. the baseline, which sets aside findings recorded earlier.

What steps 2 and 3 set aside is reported as suppressed, never counted for the exit code.
Inputs that could not be read are errors: exit 2 whatever the configuration says.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import replace

from linter.findings import Finding, Severity, Suppressed

DEFAULT_FAIL_ON = "low"
EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2  # nothing at or above --fail-on; something is; usage or input error
DEFAULT_BASELINE = ".portlint-baseline.json"


def gate_options(function):
    """The check command's CI options (kept here so cli.py stays small)."""
    import click  # here: a plain check run (linter.launch) never imports click

    options = [
        click.option("--output", "output", type=click.Path(dir_okay=False),
                     help="Write the report to FILE; the terminal gets a one-line summary."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False),
                     help="Read configuration from FILE instead of the .portlint.toml or pyproject.toml found "
                          "from the current directory upward."),
        click.option("--isolated", is_flag=True, help="Ignore all configuration files."),
        click.option("--no-inline-suppressions", is_flag=True,
                     help="Ignore `portlint: ignore[...]` comments (for audits)."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
                     help="Report only findings that are not recorded in this baseline file."),
        click.option("--write-baseline", "write_baseline_file", type=click.Path(dir_okay=False),
                     help=f"Record today's findings in FILE (e.g. {DEFAULT_BASELINE}) and exit 0."),
        click.option("--allow-read", "allow_read", multiple=True, type=click.Path(file_okay=False),
                     metavar="DIR",
                     help="Let includes and symbolic links read files under DIR too (repeatable); by default "
                          "only files inside the PATHS given are read."),
        click.option("--jobs", "jobs", type=click.IntRange(min=0), default=0, show_default=False,
                     help="Lint in N processes; 1 for none. [default: 0, one per core when there are many files]"),
        click.option("--stdin-filename", metavar="NAME",
                     help="The name of the file read from standard input (-), for format detection, "
                          "suppressions and per-file-ignores."),
        click.option("--select", "select", multiple=True, metavar="CODES",
                     help="Rule codes or prefixes to run, comma-separated (repeatable); replaces the configured select."),
        click.option("--ignore", "ignore", multiple=True, metavar="CODES",
                     help="Rule codes or prefixes to leave out, added to the configured ignore."),
        click.option("--extend-select", "extend_select", multiple=True, metavar="CODES",
                     help="Rule codes or prefixes to run on top of select."),
        click.option("--exit-zero", is_flag=True,
                     help="Exit 0 even when findings are at or above --fail-on (2 still means an input error)."),
        click.option("-q", "--quiet", is_flag=True, help="Print the findings and nothing else (no summary line)."),
        click.option("--statistics", is_flag=True,
                     help="Print how many findings each rule has instead of the findings."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


class _Suppressions:
    """The inline suppressions of every file a finding names, scanned once.

    A finding may sit in a file other than the one linted (an included file): its
    text is read when first needed.
    """

    def __init__(self, results, require_reason: bool, policy=None):
        self.require_reason = require_reason
        self.policy = policy
        self.sources = {r.path: r.source for r in results if r.source is not None}
        self.scanned: dict = {}

    def source(self, path: str):
        if path not in self.sources:
            from linter.source import SourceFile, read_source

            allowed = path != "-" and self.policy is not None and self.policy.refusal(path) is None
            source = read_source(path) if allowed else None
            self.sources[path] = source if isinstance(source, SourceFile) else None
        return self.sources[path]

    def of(self, path: str):
        """The FileSuppressions of ``path``, None when its text cannot be had."""
        from linter.suppressions import scan

        if path not in self.scanned:
            source = self.source(path)
            self.scanned[path] = scan(source, self.require_reason) if source is not None else None
        return self.scanned[path]


def _configured(findings, config, paths: set[str] | None = None) -> list[Finding]:
    """Findings of selected rules, with the configured severity; ``paths``, when given, gets the
    path of each finding kept."""
    kept = []
    # Asked once per code, path and severity: an allow-list's 50,000 findings are a few of those.
    asked: dict[tuple, Severity | None] = {}
    unasked = object()
    last = (unasked, unasked, unasked)  # the question asked last (findings of a file come in runs)
    severity = None  # its answer
    for finding in findings:
        code, path, given = finding.code, finding.path, finding.severity
        if code is not last[0] or path is not last[1] or given is not last[2]:  # (the same objects: the same answer)
            question = last = (code, path, given)
            severity = asked.get(question, False)
            if severity is False:
                severity = asked[question] = config.severity_of(code, given) if config.selected(code, path) else None
        if severity is not None:
            # A copy only when the severity changes: 50,000 copies of an allow-list's findings took 0.3 s.
            kept.append(finding if severity is given else replace(finding, severity=severity))
    if paths is not None:
        # Every finding's question is in ``asked``: the kept ones' paths are those of the questions
        # answered with a severity (not read again from 50,000 findings).
        paths.update(question[1] for question, severity in asked.items() if severity is not None)
    return kept


def _apply_inline(results, config, settings, today: dt.date, policy=None) -> tuple[list[Finding], list[Suppressed]]:
    """(kept, suppressed): every file's findings sifted through the inline suppressions, then the
    suppressions' own findings (PL021-PL024) once every finding has had its chance to use them."""
    from linter.pipeline import diagnostic_finding

    suppressions = _Suppressions(results, bool(settings.option("PL024", "require_reason")), policy)
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []

    def sift(finding: Finding, record: bool) -> None:
        found = suppressions.of(finding.path)
        directive = found.match(finding, today, record) if found else None
        if directive is None:
            kept.append(finding)
        else:
            suppressed.append(Suppressed(finding, "inline", directive.reason, directive.scope, directive.line,
                                         directive.until.isoformat() if directive.until else None))

    for result in results:
        paths: set[str] = set()
        configured = _configured(result.findings, config, paths)
        if len(paths) == 1 and not getattr(suppressions.of(paths.pop()), "directives", None):
            kept.extend(configured)  # one file without a directive: nothing to match (an allow-list's 50,000)
            continue
        for finding in configured:
            sift(finding, record=True)
    for result in results:
        own = suppressions.of(result.path)
        if own is None:
            continue
        problems = own.problems + own.leftovers(today, lambda code, path=result.path: config.selected(code, path),
                                                checked=result.document is not None)
        source = suppressions.source(result.path)
        for finding in _configured([diagnostic_finding(d, source) for d in problems], config):
            sift(finding, record=False)
    return kept, suppressed


def build_report(result, config, settings, *, inline: bool = True, baseline=None, today: dt.date | None = None):
    """The Report of a lint run after configuration, inline suppressions and the baseline."""
    from linter.collapse import collapse_repeats
    from linter.reporters import Report
    from linter.rulebook import all_rules

    errors = [f for r in result.unreadable for f in r.findings]
    readable = [r for r in result.files if not r.unreadable]
    if inline:
        kept, suppressed = _apply_inline(readable, config, settings, today or dt.date.today(),
                                         getattr(result, "policy", None))
    else:
        kept, suppressed = _configured([f for r in readable for f in r.findings], config), []
    kept = collapse_repeats(kept)
    if baseline is not None:
        kept, known = baseline.split(kept)
        suppressed += [Suppressed(f, "baseline", f"Recorded in the baseline {baseline.path}") for f in known]
    rules = {code: config.severity_of(code, meta.severity) for code, meta in all_rules().items()
             if config.enabled(code)}
    paths = [r.path for r in result.files]
    file_rules = {}
    if config.per_file_ignores:
        file_rules = {path: tuple(code for code in rules if config.selected(code, path)) for path in paths}
    return Report(findings=sorted(kept, key=Finding.sort_key), errors=errors,
                  suppressed=sorted(suppressed, key=lambda s: s.finding.sort_key()),
                  files=paths, rules=rules, file_rules=file_rules)


def exit_code(report, fail_on: Severity | None) -> int:
    """2 when an input could not be read, else 1 when a finding is at or above ``fail_on``
    (None: never), else 0."""
    if report.errors:
        return EXIT_ERROR
    if fail_on is None:
        return EXIT_OK
    return EXIT_FINDINGS if any(f.severity >= fail_on for f in report.findings) else EXIT_OK


def fail_on_threshold(given: str | None, configured: Severity | None) -> Severity | None:
    """The severity that fails the run: --fail-on (``none``: no severity does), else the
    configuration's fail-on, else DEFAULT_FAIL_ON."""
    if given == "none":
        return None
    return Severity.parse(given or (str(configured) if configured else DEFAULT_FAIL_ON))


def run(paths: list[str], *, fmt: str = "text", fail_on: str | None = None, input_format: str | None = None,
        no_color: bool = False, output: str | None = None, config_file: str | None = None, isolated: bool = False,
        no_inline_suppressions: bool = False, baseline_file: str | None = None,
        write_baseline_file: str | None = None, stdin_filename: str | None = None,
        env_files: tuple[str, ...] = (), jobs: int = 0, allow_read: tuple[str, ...] = (),
        select: tuple[str, ...] = (), ignore: tuple[str, ...] = (), extend_select: tuple[str, ...] = (),
        exit_zero: bool = False, quiet: bool = False, statistics: bool = False) -> int:
    """Run the check command; the exit code."""
    from linter.baseline import BaselineError, load_baseline, write_baseline
    from linter.config import ConfigError, load_config, with_command_line
    from linter.frontends import FrontEndOptions
    from linter.pipeline import lint_paths
    from linter.readpolicy import ReadPolicy
    from linter.reporters import write_report
    from linter.reporters.safe import safe_line, safe_lines
    from linter.reporters.text import print_line, summary, wants_color
    from linter.writing import WriteError, write_atomically

    def fail(message: str) -> int:
        import click

        click.echo(safe_line(f"portlint: {message}"), err=True)
        return EXIT_ERROR

    try:
        config = with_command_line(load_config(config_file, isolated=isolated), select, ignore, extend_select)
        baseline = load_baseline(baseline_file) if baseline_file else None
    except (ConfigError, BaselineError) as exc:
        return fail(str(exc))
    settings = config.settings()
    policy = ReadPolicy.for_paths(paths, allow=tuple(allow_read) + config.allow_read)
    result = lint_paths(paths, settings, input_format or config.format_for, stdin_filename=stdin_filename,
                        options=FrontEndOptions(env_files=tuple(env_files), read_policy=policy), jobs=jobs or None)
    report = build_report(result, config, settings, inline=not no_inline_suppressions, baseline=baseline)
    code = exit_code(report, fail_on_threshold(fail_on, config.fail_on))
    if exit_zero and code == EXIT_FINDINGS:
        code = EXIT_OK
    report.quiet = quiet
    if statistics:
        fmt = "statistics-json" if fmt == "json" else "statistics"

    note = ""
    if write_baseline_file:
        try:
            known = [s.finding for s in report.suppressed if s.kind == "baseline"]
            count = write_baseline(write_baseline_file, report.findings + known)
        except BaselineError as exc:
            return fail(str(exc))
        note = f" Wrote {count} finding{'s' if count != 1 else ''} to the baseline {write_baseline_file}."
        code = EXIT_ERROR if report.errors else EXIT_OK
    if output:
        try:
            write_atomically(output, lambda handle: write_report(fmt, report, handle, color=False))
        except WriteError as exc:
            return fail(f"cannot write the report: {exc}")
        note += f" Wrote the {fmt} report to {output}."
        line = summary(report.reported, len(report.files), report.inline_suppressed, report.baselined) + note
        try:
            if not quiet:
                print_line(sys.stdout, wants_color(no_color), line)
            sys.stdout.flush()
        except BrokenPipeError:
            pass
        except OSError as exc:
            return fail(f"cannot write to standard output: {exc.strerror or exc}")
    else:
        try:
            write_report(fmt, report, sys.stdout, color=wants_color(no_color))
            sys.stdout.flush()
        except BrokenPipeError:
            pass  # `portlint ... | head`: the reader has what it wanted
        except OSError as exc:  # a full disk behind a redirection
            return fail(f"cannot write the report to standard output: {exc.strerror or exc}")
        if note:
            import click

            click.echo(safe_lines(note.strip()), err=True)
    return code
