"""Compose interpolation (``$VAR``, ``${VAR:-default}``...) and `.env` files.

The rules are the Compose specification's (12-interpolation.md, and 05-services.md
for the env-file format):

- ``$VAR`` and ``${VAR}``; names are ``[_A-Za-z][_A-Za-z0-9]*``;
- ``${VAR:-default}`` (unset or empty), ``${VAR-default}`` (unset only),
  ``${VAR:?message}`` / ``${VAR?message}`` (required), ``${VAR:+alt}`` / ``${VAR+alt}``
  (replacement when set); the default, message or replacement is itself interpolated,
  so defaults nest: ``${A:-${B:-80}}``;
- ``$$`` is a literal ``$``; a ``$`` not followed by a name or ``{`` stays as it is;
- ``${`` without a valid name and operator, or without its closing brace, is an
  invalid template (Compose refuses the file);
- an unset variable without a default becomes the empty string (Compose warns).

Values come from the process environment first and then the env files (the `.env`
beside the compose file, or the files given with ``--env-file``), as in Compose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

_NAME_START = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NAME_CHARS = _NAME_START + "0123456789"
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
MAX_NESTING = 32  # ${A:-${B:-...}} levels; Compose files need two or three


class InvalidTemplate(ValueError):
    """A ``${...}`` that Compose cannot read; the message quotes it."""


@dataclass
class Expansion:
    """The result of interpolating one value."""

    text: str
    unset: list[str] = field(default_factory=list)  # variables used without a value or default
    required: list[tuple[str, str]] = field(default_factory=list)  # (${VAR:?message} unset, message)
    used: list[str] = field(default_factory=list)  # every variable looked up

    @property
    def failed(self) -> bool:
        return bool(self.required)


class Interpolator:
    """Interpolates strings against one set of variables."""

    def __init__(self, variables: Mapping[str, str]):
        self.variables = variables

    def expand(self, text: str) -> Expansion:
        """``text`` with every variable replaced; raises InvalidTemplate for a broken ``${``."""
        result = Expansion("")
        result.text = self._expand(text, result, 0)
        return result

    def _lookup(self, name: str, result: Expansion) -> str | None:
        if name not in result.used:
            result.used.append(name)
        return self.variables.get(name)

    def _expand(self, text: str, result: Expansion, depth: int) -> str:
        if depth > MAX_NESTING:
            raise InvalidTemplate(f"variables nested more than {MAX_NESTING} levels deep")
        out: list[str] = []
        i = 0
        length = len(text)
        while i < length:
            char = text[i]
            if char != "$" or i + 1 >= length:
                out.append(char)
                i += 1
                continue
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt in _NAME_START:
                end = i + 2
                while end < length and text[end] in _NAME_CHARS:
                    end += 1
                name = text[i + 1:end]
                value = self._lookup(name, result)
                if value is None:
                    result.unset.append(name)
                    value = ""
                out.append(value)
                i = end
            elif nxt == "{":
                close = _closing_brace(text, i + 1)
                if close < 0:
                    raise InvalidTemplate(f"no closing brace in {text[i:]!r}")
                out.append(self._braced(text[i + 2:close], text[i:close + 1], result, depth))
                i = close + 1
            else:
                out.append(char)
                i += 1
        return "".join(out)

    def _braced(self, body: str, whole: str, result: Expansion, depth: int) -> str:
        if not body or body[0] not in _NAME_START:
            raise InvalidTemplate(f"invalid variable in {whole!r}")
        end = 1
        while end < len(body) and body[end] in _NAME_CHARS:
            end += 1
        name, rest = body[:end], body[end:]
        if not rest:
            value = self._lookup(name, result)
            if value is None:
                result.unset.append(name)
                return ""
            return value
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise InvalidTemplate(f"unsupported expression {whole!r} (Compose reads :-, -, :?, ?, :+ and +)")
        argument = rest[len(operator):]
        value = self._lookup(name, result)
        empty_counts = operator.startswith(":")
        missing = value is None or (empty_counts and value == "")
        kind = operator[-1]
        if kind == "-":
            return self._expand(argument, result, depth + 1) if missing else value
        if kind == "?":
            if missing:
                result.required.append((name, self._expand(argument, result, depth + 1)))
                return ""
            return value
        # "+": the replacement when set (and, for ":+", not empty)
        return self._expand(argument, result, depth + 1) if not missing else (value or "")


def _closing_brace(text: str, start: int) -> int:
    """The index of the '}' that closes the '{' at ``start``, counting nested braces."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


# --- .env files -----------------------------------------------------------------------


@dataclass
class EnvProblem:
    line: int
    message: str


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "$"}


def parse_env_file(text: str, environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[EnvProblem]]:
    """``KEY=VALUE`` lines as a dict, in the Compose env-file format.

    Comments (#), blank lines and ``export`` are skipped; single quotes are literal;
    double quotes read escapes (\\n, \\t, \\\\, \\") and, like unquoted values, are
    interpolated with the variables defined so far and ``environ``; a quoted value may
    span lines; `` #`` starts a comment after an unquoted value. ``KEY`` alone sets nothing.
    """
    values: dict[str, str] = {}
    problems: list[EnvProblem] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].lstrip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[7:].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            problems.append(EnvProblem(number, f"Cannot read {lines[index - 1]!r} (expected KEY=VALUE)"))
            continue
        if not equals:
            continue  # "KEY" alone: Compose takes it from the environment, sets nothing here
        value = value.lstrip()
        lookup = _Layered(values, environ or {})
        if value[:1] in ("'", '"'):
            quote = value[0]
            body, rest, consumed = _quoted(value[1:], quote, lines, index)
            if body is None:
                problems.append(EnvProblem(number, f"Unclosed {quote} quote in the value of {key}"))
                continue
            index += consumed
            if quote == '"':
                body = _interpolate_env(body, lookup, problems, number)
            values[key] = body
            continue
        comment = value.find(" #")
        if comment >= 0:
            value = value[:comment]
        if value.startswith("#"):
            value = ""
        values[key] = _interpolate_env(value.rstrip(), lookup, problems, number)
    return values, problems


def _quoted(first: str, quote: str, lines: list[str], index: int) -> tuple[str | None, str, int]:
    """Read a quoted value that may continue on the next lines: (text, after, lines used)."""
    text = first
    consumed = 0
    while True:
        out: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                nxt = text[i + 1]
                if quote == '"' and nxt in _ESCAPES:
                    out.append(_ESCAPES[nxt])
                    i += 2
                    continue
                if quote == "'" and nxt == "'":
                    out.append("'")
                    i += 2
                    continue
            if char == quote:
                return "".join(out), text[i + 1:], consumed
            out.append(char)
            i += 1
        if index + consumed >= len(lines):
            return None, "", consumed
        text = text + "\n" + lines[index + consumed]
        consumed += 1


class _Layered(dict):
    """Look-ups in the values read so far, then the environment."""

    def __init__(self, first: Mapping[str, str], second: Mapping[str, str]):
        super().__init__()
        self._first, self._second = first, second

    def get(self, key, default=None):
        if key in self._first:
            return self._first[key]
        return self._second.get(key, default)


def _interpolate_env(value: str, lookup, problems: list[EnvProblem], number: int) -> str:
    try:
        return Interpolator(lookup).expand(value).text
    except InvalidTemplate as exc:
        problems.append(EnvProblem(number, f"Invalid interpolation: {exc}"))
        return value


def variables(env_values: Mapping[str, str], environ: Mapping[str, str] | None) -> dict[str, str]:
    """The variables Compose interpolates with: the env files, overridden by the environment."""
    merged = dict(env_values)
    merged.update(os.environ if environ is None else environ)
    return merged
