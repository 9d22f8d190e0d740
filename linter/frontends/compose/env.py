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

Values may be secrets (in CI every secret is an environment variable, and reports land
in public logs), so nothing here puts a value into a message: an expansion says whether
a variable's value went into its text (``Expansion.substituted``) so that callers quote
the template as written instead, a ``${VAR:?message}`` keeps its message as written,
and a problem in an env file names its line, column and variable, never the value.
Expansion is bounded: a value may not grow past MAX_VALUE_CHARS, and one file may not
substitute more than MAX_FILE_CHARS in all (``Budget``), so a few hundred bytes of
doubling variables (A=xx, B=${A}${A}, ...) end in a ``TooLarge`` instead of gigabytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

_NAME_START = "_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NAME_CHARS = _NAME_START + "0123456789"
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")
MAX_NESTING = 32  # ${A:-${B:-...}} levels; Compose files need two or three
MAX_VALUE_CHARS = 1 << 20  # one interpolated value (1 MiB); real ones are a few dozen characters
MAX_FILE_CHARS = 1 << 20  # characters substituted from variables in one file, in all


class InvalidTemplate(ValueError):
    """A ``${...}`` that Compose cannot read; the message quotes the template (never a value)."""


class TooLarge(ValueError):
    """An expansion past MAX_VALUE_CHARS, or past what its file's Budget allows."""

    def __init__(self, message: str, file_budget: bool):
        super().__init__(message)
        self.file_budget = file_budget  # the file's budget ran out (not this value alone)


class Budget:
    """How many characters one file may still substitute from variables."""

    def __init__(self, limit: int = MAX_FILE_CHARS):
        self.limit = limit
        self.left = limit

    @property
    def exhausted(self) -> bool:
        return self.left < 0

    def spend(self, chars: int) -> None:
        self.left -= chars
        if self.left < 0:
            raise TooLarge(f"variables substitute more than {_size(self.limit)} in this file", True)


def _size(chars: int) -> str:
    return f"{chars >> 20} MiB" if chars >= 1 << 20 and chars % (1 << 20) == 0 else f"{chars} characters"


@dataclass
class Expansion:
    """The result of interpolating one value."""

    text: str
    unset: list[str] = field(default_factory=list)  # variables used without a value or default
    # (VAR, message as written) for each ${VAR:?message} whose VAR is missing; the message is not
    # interpolated, since ${UNSET:?${SECRET}} would print a secret
    required: list[tuple[str, str]] = field(default_factory=list)
    used: list[str] = field(default_factory=list)  # every variable looked up
    substituted: bool = False  # a variable's value is part of ``text``: quote the template, not ``text``
    spent: int = 0  # characters substituted from variables

    @property
    def failed(self) -> bool:
        return bool(self.required)


class Interpolator:
    """Interpolates strings against one set of variables."""

    def __init__(self, variables: Mapping[str, str], budget: Budget | None = None):
        self.variables = variables
        self.budget = budget if budget is not None else Budget()

    def with_budget(self, budget: Budget) -> "Interpolator":
        """The same variables, spending from ``budget`` (one per file)."""
        return Interpolator(self.variables, budget)

    def expand(self, text: str) -> Expansion:
        """``text`` with every variable replaced; raises InvalidTemplate for a broken ``${``
        and TooLarge past the value's or the file's limit."""
        if "$" not in text:
            return Expansion(text)
        if self.budget.exhausted:
            raise TooLarge(f"variables substitute more than {_size(self.budget.limit)} in this file", True)
        result = Expansion("")
        result.text = self._expand(text, result, 0)
        return result

    def _lookup(self, name: str, result: Expansion) -> str | None:
        if name not in result.used:
            result.used.append(name)
        return self.variables.get(name)

    def _substitute(self, value: str, result: Expansion) -> str:
        """``value`` (a variable's) going into the text: counted against both limits."""
        if value:
            result.substituted = True
            result.spent += len(value)
            if result.spent > MAX_VALUE_CHARS:
                self.budget.left -= len(value)  # spent on this value, which still fails alone
                raise TooLarge(f"the value would grow past {_size(MAX_VALUE_CHARS)}", False)
            self.budget.spend(len(value))
        return value

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
                out.append(self._substitute(value, result))
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
            return self._substitute(value, result)
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise InvalidTemplate(f"unsupported expression {whole!r} (Compose reads :-, -, :?, ?, :+ and +)")
        argument = rest[len(operator):]
        value = self._lookup(name, result)
        empty_counts = operator.startswith(":")
        missing = value is None or (empty_counts and value == "")
        kind = operator[-1]
        if kind == "-":
            return self._expand(argument, result, depth + 1) if missing else self._substitute(value, result)
        if kind == "?":
            if missing:
                result.required.append((name, argument))
                return ""
            return self._substitute(value, result)
        # "+": the replacement when set (and, for ":+", not empty)
        return self._expand(argument, result, depth + 1) if not missing else self._substitute(value or "", result)


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
    """A problem in an env file: where it is and what, never the value (it may be a secret).

    ``code`` is "PL010" for a line Compose cannot read, "PL042" for a value past the limits.
    """

    line: int
    message: str
    column: int = 1
    code: str = "PL010"


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "$": "$"}


def parse_env_file(text: str, environ: Mapping[str, str] | None = None,
                   budget: Budget | None = None) -> tuple[dict[str, str], list[EnvProblem]]:
    """``KEY=VALUE`` lines as a dict, in the Compose env-file format.

    Comments (#), blank lines and ``export`` are skipped; single quotes are literal;
    double quotes read escapes (\\n, \\t, \\\\, \\") and, like unquoted values, are
    interpolated with the variables defined so far and ``environ``; a quoted value may
    span lines; `` #`` starts a comment after an unquoted value. ``KEY`` alone sets nothing.
    Interpolation spends from ``budget`` (a fresh one per file when not given); a value
    that would pass the limits is left unset, with one PL042 problem for the file.
    """
    values: dict[str, str] = {}
    problems: list[EnvProblem] = []
    reader = _EnvInterpolation(budget if budget is not None else Budget(), problems)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        raw_line = lines[index]
        line = raw_line.lstrip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[7:].lstrip()
        key, equals, value = line.partition("=")
        key = key.strip()
        if not key or any(c.isspace() for c in key):
            problems.append(EnvProblem(number, "Not a KEY=VALUE line (the line is not quoted here: env files "
                                               "hold secrets)", len(raw_line) - len(raw_line.lstrip()) + 1))
            continue
        if not equals:
            continue  # "KEY" alone: Compose takes it from the environment, sets nothing here
        value_column = len(raw_line) - len(value.lstrip()) + 1
        value = value.lstrip()
        lookup = _Layered(values, environ or {})
        if value[:1] in ("'", '"'):
            quote = value[0]
            body, rest, consumed = _quoted(value[1:], quote, lines, index)
            if body is None:
                problems.append(EnvProblem(number, f"Unclosed {quote} quote in the value of {key}", value_column))
                continue
            index += consumed
            if quote == '"':
                body = reader.expand(body, lookup, key, number, value_column)
            if body is not None:
                values[key] = body
            continue
        comment = value.find(" #")
        if comment >= 0:
            value = value[:comment]
        if value.startswith("#"):
            value = ""
        expanded = reader.expand(value.rstrip(), lookup, key, number, value_column)
        if expanded is not None:
            values[key] = expanded
    return values, problems


class _EnvInterpolation:
    """Interpolates one env file's values against one budget; problems name the variable only."""

    def __init__(self, budget: Budget, problems: list[EnvProblem]):
        self.budget = budget
        self.problems = problems
        self._over = False  # the file's budget ran out: said once

    def expand(self, value: str, lookup, key: str, line: int, column: int) -> str | None:
        """The interpolated value, ``value`` itself when its template is broken (as before), or
        None when it would pass the limits (the variable is then left unset)."""
        if "$" not in value:
            return value
        try:
            return Interpolator(lookup, self.budget).expand(value).text
        except InvalidTemplate:
            self.problems.append(EnvProblem(line, f"Invalid interpolation in the value of {key}", column))
            return value
        except TooLarge as exc:
            if exc.file_budget:
                if not self._over:
                    self._over = True
                    self.problems.append(EnvProblem(
                        line, f"Interpolation stops at {key}: {exc}; it and every later value that uses "
                              f"variables are left unset", column, "PL042"))
            else:
                self.problems.append(EnvProblem(line, f"The value of {key} is left unset: {exc}", column, "PL042"))
            return None


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


def variables(env_values: Mapping[str, str], environ: Mapping[str, str] | None) -> dict[str, str]:
    """The variables Compose interpolates with: the env files, overridden by the environment."""
    merged = dict(env_values)
    merged.update(os.environ if environ is None else environ)
    return merged
