"""Findings: the one record every reporter reads."""

from __future__ import annotations

import enum
import os
import posixpath
from dataclasses import dataclass, field


def stable_path(path: str) -> str:
    """``path`` with forward slashes and no ``.`` or redundant separators."""
    return posixpath.normpath(path.replace(os.sep, "/")) if path else path


def relative_path(path: str, cwd: str | None = None) -> str:
    """``path`` relative to ``cwd`` (default: the working directory, a checkout's root in CI) when
    inside it, else absolute; forward slashes, no "./". How reports and configuration globs name a file.
    """
    if path == "-":
        return path
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, cwd or os.getcwd())
    except ValueError:  # another drive on Windows
        return stable_path(absolute)
    return stable_path(absolute if relative == ".." or relative.startswith(".." + os.sep) else relative)


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (info, low, medium, high, critical)") from None

    def lowered(self, steps: int = 1) -> "Severity":
        return Severity(max(Severity.INFO, self - steps))

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One problem at one place. ``key`` says what the finding is about, independent of
    line numbers (e.g. "tcp/23/telnet"), so fingerprints survive edits elsewhere."""

    code: str
    name: str
    severity: Severity
    category: str
    path: str
    line: int
    column: int
    message: str
    hint: str | None = None
    proto: str | None = None
    ports: tuple[tuple[int, int], ...] | None = None
    key: str = ""
    end_line: int | None = None
    end_column: int | None = None
    source_line: str | None = None
    excerpt: str | None = None
    related: tuple[tuple[str, int, int, str], ...] = ()  # (path, line, column, note)
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def fingerprint(self) -> str:
        """A stable identity: rule, file and what it is about, never the line.

        The path is normalised lexically ("./fw/rules.v4" and "fw/rules.v4" are one file),
        so `portlint .` and `portlint fw` agree.
        """
        import hashlib  # here: the text format never asks, and hashlib loads OpenSSL

        basis = "\x1f".join((self.code, stable_path(self.path), self.key or self.message))
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]

    def sort_key(self):
        return (self.path, self.line, self.column, self.code, self.key)

    def __getstate__(self) -> dict:
        # A deferred message is written before pickling (--jobs): its renderer is a closure.
        self.message  # noqa: B018 (renders it)
        state = dict(self.__dict__)
        state.pop("_render", None)
        return state

    @classmethod
    def deferred(cls, render, **fields) -> "Finding":
        """A finding whose message is ``render()``, called the first time the message is read.
        Repeats collapsed into one (collapse.py) are read for their place only: 50,000 rules of an
        allow-list make one finding, and only the few messages it quotes are ever written.
        ``fields``: every other field of Finding."""
        finding = cls(message="", **fields)  # the constructor's instance dict is the compact one
        state = finding.__dict__
        del state["message"]
        state["_render"] = render
        return finding

    @classmethod
    def made(cls, code: str, name: str, severity: Severity, category: str, path: str, line: int, column: int,
             message: str, hint: str | None, proto: str | None, ports, key: str, end_line: int | None,
             end_column: int | None, source_line: str | None, related: tuple) -> "Finding":
        """``Finding(...)`` of these fields (``excerpt`` None, ``extra`` a new dict): the same
        instance dictionary, key for key in field order, made without the constructor's 18 frozen
        assignments (``object.__setattr__`` each: ~5 -> ~2 us a finding; a random mix has 7,400).
        Set key by key, in field order, the dictionary stays the compact one that shares its keys
        with the class's other instances (``update`` would copy a table of its own: +180 bytes)."""
        finding = _new(cls)
        own = finding.__dict__
        own["code"], own["name"], own["severity"], own["category"] = code, name, severity, category
        own["path"], own["line"], own["column"], own["message"] = path, line, column, message
        own["hint"], own["proto"], own["ports"], own["key"] = hint, proto, ports, key
        own["end_line"], own["end_column"], own["source_line"] = end_line, end_column, source_line
        own["excerpt"], own["related"], own["extra"] = None, related, {}
        return finding

    @classmethod
    def stamped(cls, state: dict, render, path: str, line: int, column: int, end_line: int | None,
                end_column: int | None, source_line: str | None) -> "Finding":
        """A deferred finding that is ``state`` (the instance dictionary of another deferred finding,
        not yet read) but for its place and its ``render``: an allow-list's 50,000 findings of one
        shape, made without the constructor's 18 frozen assignments each."""
        finding = _new(cls)
        own = finding.__dict__
        own.update(state)
        own["path"], own["line"], own["column"] = path, line, column
        own["end_line"], own["end_column"], own["source_line"] = end_line, end_column, source_line
        own["extra"] = {}
        own["_render"] = render
        return finding

    def as_record(self) -> dict:
        """The JSON form (schema version 1)."""
        record = {
            "code": self.code,
            "name": self.name,
            "severity": str(self.severity),
            "category": self.category,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "hint": self.hint,
            "fingerprint": self.fingerprint,
        }
        if self.ports is not None:
            record["proto"] = self.proto
            record["ports"] = [[lo, hi] for lo, hi in self.ports]
        elif self.proto is not None:
            record["proto"] = self.proto
        if self.related:
            record["related"] = [
                {"path": p, "line": line, "column": col, "note": note} for p, line, col, note in self.related
            ]
        return record


_new = object.__new__


class _DeferredMessage:
    """Finding.message of a deferred finding: rendered on first read and kept in the instance
    (a non-data descriptor: a message given to the constructor is an instance attribute and wins)."""

    def __get__(self, finding, owner=None):
        if finding is None:
            return self
        message = finding.__dict__["message"] = finding.__dict__.pop("_render")()
        return message


Finding.message = _DeferredMessage()  # after @dataclass: the field itself has no default


@dataclass(frozen=True)
class Suppressed:
    """A finding kept out of the exit code: by an inline comment or by the baseline."""

    finding: Finding
    kind: str  # "inline" or "baseline"
    justification: str | None = None
    scope: str | None = None  # inline: "line" or "file"
    line: int | None = None  # inline: the line of the suppression comment
    until: str | None = None  # inline: the ISO date after which it no longer applies

    def as_record(self) -> dict:
        """The finding's JSON form with a "suppression" object."""
        record = self.finding.as_record()
        record["suppression"] = {
            "kind": self.kind, "justification": self.justification, "scope": self.scope,
            "line": self.line, "until": self.until,
        }
        return record
