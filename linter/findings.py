"""Findings: the one record every reporter reads."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


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
        """A stable identity: rule, file and what it is about, never the line."""
        basis = "\x1f".join((self.code, self.path, self.key or self.message))
        return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]

    def sort_key(self):
        return (self.path, self.line, self.column, self.code, self.key)

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
