"""From paths to findings: discover, read, detect, parse, check.

This is the only place that ties front ends, checks and rule metadata together;
the CLI calls it and reporters read what it returns.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, replace
from operator import attrgetter

from linter import collector
from linter.checks import CheckContext, LintRun, Settings, load_checks
from linter.detect import detect_format, looks_lintable, looks_sniffable, sniffs_as
from linter.diagnostics import Diagnostic
from linter.engine import memo
from linter.findings import Finding
from linter.frontends import FRONT_ENDS, FrontEndOptions, parse_source
from linter.frontends.compose.files import override_groups
from linter.model import Document, Span
from linter.readpolicy import OUTSIDE, ReadPolicy, named_file_refusal
from linter.rulebook import all_rules
from linter.source import SourceFile, read_source

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".mypy_cache"}

# With jobs "auto", a run of at least this many files is linted by a pool of processes, one
# per available core. Below it a pool costs more than it saves: starting a worker takes
# about as long as linting a dozen small files (docs/performance.md has the measurements).
POOL_MIN_FILES = 24


@dataclass
class FileResult:
    path: str
    format: str | None
    document: Document | None
    findings: list[Finding] = field(default_factory=list)
    source: SourceFile | None = None
    unreadable: bool = False
    merged_into: str | None = None  # a compose override file, read as part of this base file's project
    extra_documents: tuple[Document, ...] = ()  # more documents of this file (a script's docker run publications)

    @property
    def documents(self) -> tuple[Document, ...]:
        """Every document read from the file: ``document`` first, then ``extra_documents``."""
        return ((self.document,) if self.document is not None else ()) + self.extra_documents


@dataclass
class LintResult:
    files: list[FileResult]
    policy: ReadPolicy | None = None  # what the run could read; suppressions are read under it too

    @property
    def findings(self) -> list[Finding]:
        return sorted((f for r in self.files for f in r.findings), key=Finding.sort_key)

    @property
    def unreadable(self) -> list[FileResult]:
        return [r for r in self.files if r.unreadable]


def discover(paths: list[str], policy: ReadPolicy | None = None) -> tuple[list[str], list[Diagnostic]]:
    """Files to lint: named files as they are, directories walked for the names front ends claim
    and for files a front end takes by their first KBs (linter/frontends/registry.py: YAML files
    that read as compose files, a top-level ``services:`` mapping; XML files whose root element is
    firewalld's, ``<zone>``, ``<service>``, ``<policy>``).

    Symbolic links to directories are not followed (no loops); hidden and VCS
    directories are skipped, and so are files the enclosing git repository ignores
    (read from its .gitignore files, git is never run). A file the read ``policy`` refuses
    (a symbolic link out of the scanned tree) is not read: it becomes a PL006 diagnostic.
    """
    policy = policy or ReadPolicy.for_paths(paths)
    files: list[str] = []
    problems: list[Diagnostic] = []
    for path in paths:
        if path == "-" or not os.path.isdir(path):
            if path != "-" and not os.path.lexists(path):
                problems.append(Diagnostic("PL001", "No such file or directory", Span(path, 1, 1)))
            elif (why := named_file_refusal(path, policy)) is not None:
                problems.append(policy.diagnostic(path, why, Span(path, 1, 1)))
            else:
                files.append(path)
            continue
        from linter.gitignore import WalkFilter  # here: naming files needs no .gitignore reader

        ignore = WalkFilter()
        for root, dirs, names in os.walk(path, followlinks=False, onerror=lambda e: problems.append(
                Diagnostic("PL001", f"Cannot read directory: {e.strerror}", Span(e.filename or path, 1, 1)))):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                             and not ignore.ignored(os.path.join(root, d), True))
            for name in sorted(names):
                full = os.path.join(root, name)
                sniffable = looks_sniffable(full)  # read below when named like nothing: YAML, XML...
                if not (looks_lintable(full) or sniffable) or ignore.ignored(full, False):
                    continue
                why = policy.refusal(full)
                if why == OUTSIDE:
                    problems.append(policy.diagnostic(full, "is a symbolic link to a file outside the scanned tree",
                                                      Span(full, 1, 1)))
                elif why is None and os.path.isfile(full) and (looks_lintable(full)
                                                               or (sniffable and sniffs_as(full) is not None)):
                    # A file named like no front end's is read (its first KBs, by the front ends
                    # that sniff its suffix) only once neither .gitignore nor the read policy excludes it.
                    files.append(full)
    return files, problems


class SourceLines:
    """The text of the lines findings point at, for any file of the run, each file read once.

    A compose project's findings can point into override files, extended files and
    `.env` files; a cross-file check's into a ruleset and a compose file. A file the read
    policy refuses is never read, so no finding quotes it.
    """

    def __init__(self, *sources: SourceFile | None, policy: ReadPolicy | None = None):
        self._sources: dict[str, SourceFile | None] = {s.path: s for s in sources if s is not None}
        self.policy = policy

    def add(self, source: SourceFile | None) -> None:
        if source is not None:
            self._sources[source.path] = source

    def __call__(self, path: str, line: int) -> str:
        source = self._source(path)
        return source.line(line) if source is not None else ""

    def lines_of(self, path: str) -> list[str]:
        """Every line of ``path`` as this quotes them (line n is the item n - 1; none for a file
        not quoted): for a caller quoting thousands of lines of one file."""
        source = self._source(path)
        return source.lines if source is not None else []

    def _source(self, path: str) -> SourceFile | None:
        if path not in self._sources:
            readable = path != "-" and os.path.isfile(path)
            if readable and (self.policy is None or self.policy.refusal(path) is not None):
                readable = False  # no policy: only the files added are quoted
            found = read_source(path) if readable else None
            self._sources[path] = found if isinstance(found, SourceFile) else None
        return self._sources[path]


def diagnostic_finding(diag: Diagnostic, source: SourceFile | None = None, lines: SourceLines | None = None) -> Finding:
    """A front end's diagnostic as a finding, with the rule's name and severity."""
    meta = all_rules()[diag.code]
    if not diag.quote_source:
        source_line = None
    elif lines is not None:
        source_line = lines(diag.span.path, diag.span.line)
    elif source is not None and diag.span.path == source.path:
        source_line = source.line(diag.span.line)
    else:
        source_line = None
    return Finding(
        code=diag.code, name=meta.name, severity=meta.severity, category=meta.category,
        path=diag.span.path, line=diag.span.line, column=diag.span.column, message=diag.message,
        hint=diag.hint, key=f"{diag.message}", end_line=diag.span.end_line, end_column=diag.span.end_column,
        source_line=source_line, excerpt=diag.excerpt,
    )


@dataclass
class ReadResult:
    """One file read, detected and parsed: the document (None when there is none), and every
    diagnostic about it in the order found (the source's, then the front end's)."""

    path: str
    format: str | None
    document: Document | None
    source: SourceFile | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    unreadable: bool = False  # nothing of it could be checked: an error for the exit code
    extra: tuple = ()  # further documents of the same file (a script's docker run publications)

    @property
    def documents(self) -> tuple:
        """Every document the file yields: the main one, then the extra ones."""
        return ((self.document,) if self.document is not None else ()) + tuple(self.extra)


def read_document(path: str, input_format: str | None = None, options: FrontEndOptions | None = None,
                  name: str | None = None) -> ReadResult:
    """Read, detect and parse one file; ``name`` labels it instead of ``path`` (standard input).

    The one place that does, for check, show, trace and exposure: an unreadable file is its
    PL0xx diagnostic, an unknown kind of file PL004, and a front end that fails (a bug, a
    MemoryError, a RecursionError) one PL009, never a traceback. Callers pause the collector.
    """
    source = read_source(path, name)
    path = name or path
    if isinstance(source, Diagnostic):
        return ReadResult(path, None, None, None, [source], unreadable=source.code == "PL001")
    diagnostics = list(source.diagnostics)
    fmt = input_format or detect_format(path, source.text)
    if fmt is None or fmt not in FRONT_ENDS:
        why = "Cannot tell what kind of file this is" if fmt is None else f"No front end for {fmt} input yet"
        diagnostics.append(Diagnostic(
            "PL004", why, Span(path, 1, 1),
            hint="portlint reads iptables-save output, nftables rulesets, iptables scripts and compose files"))
        return ReadResult(path, fmt, None, source, diagnostics)
    try:
        parsed = parse_source(source, fmt, options)
    except Exception as exc:  # a bug in a front end must not cost the other files
        diagnostics.append(internal_error(f"The {fmt} reader failed", exc, path))
        # Nothing of the file was checked: an error for the exit code, like a file that cannot be read.
        return ReadResult(path, fmt, None, source, diagnostics, unreadable=True)
    # The source's own diagnostics are reported here once, whether or not a front end passes them on.
    own = {id(d) for d in source.diagnostics}
    diagnostics.extend(d for d in parsed.diagnostics if id(d) not in own)
    return ReadResult(path, fmt, parsed.document, source, diagnostics, extra=tuple(parsed.extra))


def read_documents(paths: list[str], input_format: str | None = None,
                   options: FrontEndOptions | None = None) -> list[ReadResult]:
    """``read_document`` for every file under ``paths`` (directories walked as ``check``
    walks them), with the collector paused; a path that cannot be had is a ReadResult with
    its diagnostic and no document."""
    options = options or FrontEndOptions()
    if options.read_policy is None:
        options = replace(options, read_policy=ReadPolicy.for_paths(paths))
    files, problems = discover(paths, options.read_policy)
    results = [ReadResult(d.span.path, None, None, None, [d], unreadable=d.code == "PL001") for d in problems]
    with collector.paused():
        results.extend(read_document(path, input_format, options) for path in files)
    return results


def lint_file(path: str, settings: Settings, input_format: str | None = None, name: str | None = None,
              options: FrontEndOptions | None = None, lines: SourceLines | None = None) -> FileResult:
    """Read, parse and check one file; ``name`` labels it instead of ``path`` (standard input);
    a compose file gets ``options.compose_overrides`` merged in."""
    if lines is None:
        lines = SourceLines(policy=options.read_policy if options is not None else None)
        if lines.policy is None:
            lines.policy = ReadPolicy.for_file(name or path)
    # What the engine remembered about the objects of the files linted before (engine/memo.py):
    # it held them and their analyses alive for the rest of a many-file run. Let go here, not
    # after the file: freeing a 100,000-rule file's analyses costs a tenth of a second that the
    # last file of a run never needs to spend (the CLI ends without freeing).
    memo.forget_every_file()
    with collector.paused():  # the one pause for parsing and checking a file (linter/collector.py)
        read = read_document(path, input_format, options, name)
        lines.add(read.source)
        quoting = lines if read.source is not None else None  # an unreadable file is not read again to quote it
        findings = [diagnostic_finding(d, read.source, quoting) for d in read.diagnostics]
        result = FileResult(read.path, read.format, read.document, findings, read.source, unreadable=read.unreadable,
                            extra_documents=read.extra)
        for document in result.documents:
            findings.extend(run_checks(document, settings, read.source, lines))
    return result


def lint_file_guarded(path: str, settings: Settings, input_format: str | None = None, name: str | None = None,
                      options: FrontEndOptions | None = None, lines: SourceLines | None = None) -> FileResult:
    """``lint_file``, and a PL009 error for the file when anything escapes it (a MemoryError while
    reading, detecting or reporting): one file never costs the run the other files' findings."""
    try:
        return lint_file(path, settings, input_format, name, options, lines)
    except Exception as exc:  # noqa: BLE001
        shown = name or path
        return FileResult(shown, input_format, None, [diagnostic_finding(internal_error("Linting failed", exc, shown))],
                          unreadable=True)


def run_checks(document, settings: Settings, source: SourceFile | None = None,
               lines: SourceLines | None = None) -> list[Finding]:
    """Every registered check that applies to ``document`` (a model document, or a LintRun)."""
    if lines is None:
        lines = SourceLines(source, policy=ReadPolicy.for_file(source.path) if source is not None else None)
    ctx = CheckContext(document, settings, lines)
    _run_registered(ctx, document)
    # In file order, whichever check found them first (checks are modules found, not listed).
    return sorted(ctx.findings, key=_FILE_ORDER)


_FILE_ORDER = attrgetter("path", "line", "column", "code")  # a finding's (path, line, column, code), made in C


def _run_registered(ctx: CheckContext, document) -> None:
    for registered in load_checks():
        if isinstance(document, registered.on):
            try:
                registered.function(ctx)
            except Exception as exc:  # one broken check must not hide what the others found
                path = _document_path(document)
                ctx.findings.append(diagnostic_finding(
                    internal_error(f"Check {'/'.join(registered.codes)} failed", exc, path)))


def internal_error(what: str, exc: Exception, path: str) -> Diagnostic:
    """A PL009 diagnostic for a bug in portlint itself, at the top of ``path``."""
    return Diagnostic("PL009", f"{what}: {type(exc).__name__}: {exc}", Span(path, 1, 1),
                      hint="This is a bug in portlint; the rest of the run went on. Please report it "
                           "with the input that caused it")


def _document_path(document) -> str:
    path = getattr(document, "path", None)
    if path:
        return path
    documents = getattr(document, "documents", ())
    return getattr(documents[0], "path", "-") if documents else "-"


def available_cores() -> int:
    """The cores this process may run on (its affinity mask where the system tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def worker_count(files: int, jobs: int | None = None) -> int:
    """How many processes lint ``files`` files: ``jobs`` when given (1: this process alone),
    else one per available core for a run of POOL_MIN_FILES files or more."""
    if jobs is not None and jobs > 0:
        wanted = jobs
    elif files >= POOL_MIN_FILES:
        wanted = available_cores()
    else:
        wanted = 1
    return max(1, min(wanted, files))


_worker_settings: Settings | None = None


def _start_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def _lint_in_worker(task) -> FileResult:
    path, fmt, options = task
    return lint_file_guarded(path, _worker_settings, fmt, None, options)


def _lint_in_pool(tasks: list, settings: Settings, workers: int) -> list[FileResult] | None:
    """FileResults of ``tasks`` (path, format, options) from a pool of ``workers`` processes, in
    task order; None when no pool can be had here (the caller lints them itself)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # fork starts a worker in milliseconds with everything this process has loaded; it is
    # safe here (no threads). Elsewhere the platform's default (spawn) is used.
    method = "fork" if sys.platform.startswith("linux") else None
    try:
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(settings,)) as pool:
            chunk = max(1, len(tasks) // (workers * 8))
            return list(pool.map(_lint_in_worker, tasks, chunksize=chunk))
    except (OSError, ImportError, NotImplementedError, BrokenProcessPool):
        return None


def _warm_up(settings: Settings, formats) -> None:
    """Load what every worker needs (checks, rules, registry, the front ends named) before the pool
    forks. Front ends of detected formats are left to the workers: importing all three here
    (Lark, PyYAML) would cost more than a worker importing the one it needs."""
    import importlib

    from linter.checks import load_checks

    load_checks()
    all_rules()
    settings.port_registry()
    for fmt in formats:
        if fmt in FRONT_ENDS:
            importlib.import_module(FRONT_ENDS[fmt])


def lint_paths(paths: list[str], settings: Settings, input_format=None, stdin_filename: str | None = None,
               options: FrontEndOptions | None = None, jobs: int | None = None) -> LintResult:
    """Lint every file under ``paths``, then run the checks that look across files (LintRun).

    ``input_format`` is a format name for every file, or a function of the file's
    name (configuration by glob) answering a name or None (detect it).
    A compose override file (docker-compose.override.yml) found next to its base file
    is read as part of the base file's project, as docker compose does; its FileResult
    says so with ``merged_into``.
    ``jobs``: processes to lint in (None: decided by ``worker_count``); the results and
    their order are the same however many there are.
    """
    options = options or FrontEndOptions()
    if options.read_policy is None:
        options = replace(options, read_policy=ReadPolicy.for_paths(paths))
    files, problems = discover(paths, options.read_policy)
    results = [FileResult(d.span.path, None, None, [diagnostic_finding(d)], unreadable=d.code == "PL001")
               for d in problems]
    groups = override_groups(files) if input_format in (None, "compose") or callable(input_format) else {}
    merged = {override: base for base, overrides in groups.items() for override in overrides}
    lines = SourceLines(policy=options.read_policy)
    planned: list = []  # per file: a FileResult already known, or a task (path, format, options)
    for path in files:
        name = stdin_filename if path == "-" else None
        fmt = input_format(name or path) if callable(input_format) else input_format
        if path in merged:
            planned.append(FileResult(path, "compose", None, merged_into=merged[path]))
            continue
        file_options = replace(options, compose_overrides=tuple(groups.get(path, ())))
        if path == "-":  # standard input is this process's to read
            planned.append(lint_file_guarded(path, settings, fmt, name, file_options, lines))
        else:
            planned.append((path, fmt, file_options))
    tasks = [p for p in planned if not isinstance(p, FileResult)]
    workers = worker_count(len(tasks), jobs)
    done = None
    if workers > 1:
        _warm_up(settings, {t[1] for t in tasks})
        done = _lint_in_pool(tasks, settings, workers)
    if done is None:
        done = [lint_file_guarded(path, settings, fmt, None, file_options, lines) for path, fmt, file_options in tasks]
    else:
        for result in done:
            lines.add(result.source)
    linted = iter(done)
    results.extend(p if isinstance(p, FileResult) else next(linted) for p in planned)
    documents = tuple(d for r in results for d in r.documents)
    if len(documents) > 1:
        by_path = {r.path: r for r in results}
        with collector.paused():  # the engine's packet spaces are acyclic (linter/collector.py)
            across = run_checks(LintRun(documents), settings, lines=lines)
        for finding in across:
            owner = by_path.get(finding.path) or next(r for r in results if r.document is not None)
            owner.findings.append(finding)
    return LintResult(results, options.read_policy)
