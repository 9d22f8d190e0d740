"""Checks: small functions that judge the model, each reporting under its rule codes.

A check is registered with ``@check("PL101", "PL201", on=Ruleset)`` and receives a
CheckContext; it reads the model and the engine's results (``ctx.exposure``) and
calls ``ctx.report(code, span, fields={...})``: the message is the rule's template
filled with those fields (linter/message_template.py). Checks never import a parser (lark, yaml): the layering
test keeps it so.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cached_property, partial
from collections.abc import Mapping
from typing import Callable

from linter.findings import Finding, Severity
from linter.model import Span
from linter.ports import PortRegistry, default_registry
from linter.rulebook import all_rules

# Every module of this package registers its checks when imported; a new check module needs no
# line here. Order is the modules' names, so findings come out in the same order every run.
CHECK_MODULES = tuple(f"{__name__}.{info.name}" for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name)
                      if not info.ispkg)


@dataclass
class Settings:
    """What checks may be tuned by (configuration fills these in)."""

    ephemeral_ranges: tuple[tuple[str, int, int], ...] = (("Linux default", 32768, 60999),)
    trusted_v4: tuple[tuple[int, int], ...] = ()
    trusted_v6: tuple[tuple[int, int], ...] = ()
    internet_interfaces: tuple[str, ...] = ()  # interface names/patterns that face the internet
    internal_interfaces: tuple[str, ...] = ()  # ... and an internal network
    host_addresses: tuple = ()  # (Family, lo, hi): this host's own addresses
    assumed: object = None  # engine.assumptions.Assumptions: opaque matches the configuration settles
    registry: PortRegistry | None = None
    rule_options: dict = field(default_factory=dict)  # code -> {option: value}

    def network_classes(self):
        """The engine's view of trusted networks and interface roles, from these settings."""
        from linter.engine.query import NetworkClasses

        return NetworkClasses(self.trusted_v4, self.trusted_v6, self.internet_interfaces, self.internal_interfaces,
                              self.host_addresses, self.assumed)

    def port_registry(self) -> PortRegistry:
        return self.registry or default_registry()

    def option(self, code: str, name: str):
        meta = all_rules()[code]
        return self.rule_options.get(code, {}).get(name, (meta.options or {}).get(name))


@dataclass(frozen=True)
class LintRun:
    """Every document of one run, for checks that look across files.

    Register such a check with ``@check("PL220", on=LintRun)``: the pipeline runs it
    once, after the per-document checks, with ``ctx.document`` set to the LintRun
    (compose projects and firewall rulesets read in the same run, or found in the
    same directory walk). Per-document runs never see a LintRun, so these checks do
    not fire twice. ``ctx.exposure`` is not available on a LintRun: build the
    ExposureAnalysis of the documents the check needs.
    """

    documents: tuple = ()

    def of_type(self, kind) -> list:
        """The documents of type ``kind`` (model.Ruleset, model.ComposeProject...), in run order."""
        return [d for d in self.documents if isinstance(d, kind)]


@dataclass
class Check:
    codes: tuple[str, ...]
    function: Callable
    on: tuple[type, ...]


CHECKS: list[Check] = []


def check(*codes: str, on):
    """Register a check function for ``codes`` on documents of type(s) ``on``."""
    types = on if isinstance(on, tuple) else (on,)

    def register(function):
        CHECKS.append(Check(codes, function, types))
        return function

    return register


def load_checks() -> list[Check]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS


def _render_deferred(meta, variant: str | None, fields: Mapping[str, object], later: Mapping[str, Callable]) -> str:
    return meta.render_message({**fields, **{name: word() for name, word in later.items()}}, variant)


class _RenderOne(tuple):
    """((meta, variant, fields, name, word), first, second): Finding._render of a stamped finding
    whose one later field ``name`` is ``word(first, second)``, the message _render_deferred would
    make of ``{name: partial(word, first, second)}``. One object of three items a finding (a
    partial is three objects: itself, its arguments, its keywords); what every finding of the
    stamp shares is one tuple."""

    __slots__ = ()

    def __call__(self) -> str:
        (meta, variant, fields, name, word), first, second = self
        return meta.render_message({**fields, name: word(first, second)}, variant)


_new_tuple = tuple.__new__


class CheckContext:
    """What a check sees: one document, the settings, and the engine's answers."""

    def __init__(self, document, settings: Settings, source_line: Callable[[str, int], str] | None = None):
        self.document = document
        self.settings = settings
        self.registry = settings.port_registry()
        self.findings: list[Finding] = []
        self._source_line = source_line
        self._memos: dict[str, dict] = {}

    def memo(self, name: str) -> dict:
        """A dictionary where a check keeps answers about this document (``name`` keeps checks
        apart); it lives as long as the context, so nothing of one file outlives its lint."""
        return self._memos.setdefault(name, {})

    @cached_property
    def exposure(self):
        from linter.engine import query
        from linter.netdb import TRANSPORT_NAMES

        # Checks read the routed path for port protocols only (routed_checks).
        return query.exposure_of([self.document], self.settings.network_classes(),
                                 routed_protocols=tuple((number, number) for number in sorted(TRANSPORT_NAMES)))

    def walk_read(self) -> None:
        """Say that the checks reading the walk's own results have run (checks run in module
        order: engine_limits summarises, family_consistency's dropped_by is the last reader; later
        ones read only the summary and the routed path): the results are let go before the
        dead-rule analysis, which would hold its own on top of them (ufw 100k: 766 -> 640 MB).
        engine_limits says so right after the summary when family_consistency will not read
        them (family_consistency.reads_walk): a ruleset of one family, most of them.
        The engine's memo caches stay: emptying them here cost kube-proxy 100k ~10% CPU."""
        analysis = self.__dict__.get("exposure")
        if analysis is not None:
            analysis.let_go_results()

    def deferred_stamp(self, code: str, *, fields: Mapping[str, object] | None = None, variant: str | None = None,
                       severity: Severity | None = None, hint: str | None = None, proto: str | None = None,
                       ports=None, key: str = "", related=()) -> tuple:
        """What ``report(code, span, ..., later=...)`` makes of everything but the span and the
        ``later`` fields: findings alike but for those are made from it by report_stamped."""
        meta = all_rules()[code]
        if variant is not None and variant not in (meta.messages or {"default": None}):
            meta.render_message({}, variant)  # an unknown variant fails here, not when read
        template = Finding.deferred(
            None, code=code, name=meta.name, severity=meta.severity if severity is None else severity,
            category=meta.category, path="", line=0, column=0, hint=hint, proto=proto,
            ports=tuple(ports) if ports is not None else None, key=key, end_line=None, end_column=None,
            source_line=None, related=tuple(related))
        return meta, variant, fields or {}, template.__dict__

    def report_stamped(self, stamp: tuple, span: Span, later: Mapping[str, Callable[[], object]]) -> Finding:
        """Record a finding made from ``stamp`` (deferred_stamp) at ``span``, with its own ``later``
        fields (worded only when the message is read)."""
        meta, variant, fields, state = stamp
        finding = Finding.stamped(
            state, partial(_render_deferred, meta, variant, fields, later), span.path, span.line, span.column,
            span.end_line, span.end_column, self._source_line(span.path, span.line) if self._source_line else None)
        self.findings.append(finding)
        return finding

    def stamper(self, stamp: tuple, name: str | None = None,
                word: Callable | None = None) -> Callable[..., None]:
        """report_stamped with ``stamp`` given once: a function (span, later) recording the same
        finding, with what does not change between findings looked up once (an allow-list
        stamps 50,000 findings of one shape).

        With ``name`` and ``word``: a function (span, first, second) recording the finding whose
        one ``later`` field is ``{name: partial(word, first, second)}``, the message the same; a
        finding then holds one _RenderOne for it, not two partials, their arguments and a
        dictionary."""
        meta, variant, fields, state = stamp
        source_line, append, stamped = self._source_line, self.findings.append, Finding.stamped
        # pipeline.SourceLines: the lines of the file last quoted kept (the same line they would give).
        lines_of = getattr(source_line, "lines_of", None)
        last: list = [None, None]  # path, its lines

        def quoted_line(path: str, number: int) -> str | None:
            if not source_line:
                return None
            if lines_of is None:
                return source_line(path, number)
            if path != last[0]:
                last[0], last[1] = path, lines_of(path)
            lines = last[1]
            return lines[number - 1] if 1 <= number <= len(lines) else ""

        def report(span: Span, later: Mapping[str, Callable[[], object]]) -> None:
            path, number = span.path, span.line
            append(stamped(state, partial(_render_deferred, meta, variant, fields, later), path, number,
                           span.column, span.end_line, span.end_column, quoted_line(path, number)))

        if name is None:
            return report
        head = (meta, variant, fields, name, word)

        def report_one(span: Span, first, second) -> None:
            path, number = span.path, span.line
            append(stamped(state, _new_tuple(_RenderOne, (head, first, second)), path, number, span.column,
                           span.end_line, span.end_column, quoted_line(path, number)))

        def report_one_quoted(span: Span, first, second) -> None:
            # report_one, quoted_line written out: pipeline.SourceLines (a run's, or a file's)
            path, number = span.path, span.line
            if path != last[0]:
                last[0], last[1] = path, lines_of(path)
            lines = last[1]
            append(stamped(state, _new_tuple(_RenderOne, (head, first, second)), path, number, span.column,
                           span.end_line, span.end_column, lines[number - 1] if 1 <= number <= len(lines) else ""))
        return report_one_quoted if source_line and lines_of is not None else report_one

    def report(self, code: str, span: Span, *, fields: Mapping[str, object] | None = None, variant: str | None = None,
               severity: Severity | None = None, hint: str | None = None, proto: str | None = None, ports=None,
               key: str = "", related=(), later: Mapping[str, Callable[[], object]] | None = None) -> Finding:
        """Record a finding of rule ``code`` at ``span``. Its message is the rule's template (the
        ``variant`` one when the rule has several) filled with ``fields``; a check never writes
        the message itself, so the text a user sees lives in rules/PLxxx.yaml.

        ``later``: fields worded only when something reads the message, each by calling its
        value (Finding.deferred): most of an allow-list's 50,000 findings are collapsed into
        one and only their places are read."""
        if later:
            return self.report_stamped(self.deferred_stamp(
                code, fields=fields, variant=variant, severity=severity, hint=hint, proto=proto, ports=ports,
                key=key, related=related), span, later)
        meta = all_rules()[code]
        message = meta.render_message(fields or {}, variant)
        finding = Finding.made(
            code=code, name=meta.name, severity=meta.severity if severity is None else severity,
            category=meta.category, path=span.path, line=span.line, column=span.column, message=message,
            hint=hint, proto=proto, ports=tuple(ports) if ports is not None else None, key=key,
            end_line=span.end_line, end_column=span.end_column,
            source_line=self._source_line(span.path, span.line) if self._source_line else None,
            related=tuple(related),
        )
        self.findings.append(finding)
        return finding
