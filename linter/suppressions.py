"""Inline suppressions, read from the source text so they work in every input format.

    -A INPUT -p tcp --dport 23 -j ACCEPT  # portlint: ignore[PL101] lab only
    # portlint: ignore[PL101] until=2027-03-31 lab only     (on its own line: the next non-comment line)
    # portlint: ignore-file[PL2]                             (anywhere: the whole file; prefixes allowed)
    -A INPUT -p tcp --dport 23 -m comment --comment "portlint: ignore[PL101] lab only" -j ACCEPT
    tcp dport 23 accept comment "portlint: ignore[PL101] lab only"

A code may name ports (``ignore[PL101:23]``, ``ignore[PL2:8000-8100]``): it then covers only
findings whose every port is among them, so accepting one loop line's Telnet does not hide its
FTP.

A directive starts at ``#`` or inside a quoted string (the iptables and nft comment forms,
which survive a save/restore round trip) and ends at the end of the line or the closing
quote; in XML (firewalld's files) it is an ``<!-- portlint: ignore[PL101] reason -->`` comment. Codes are rule codes or prefixes ("PL1"); ``until=YYYY-MM-DD`` right after them
makes it lapse after that day; the rest is the reason, reported as the justification.

Directives that name an unknown code (PL021), match nothing (PL022), have expired
(PL023) or cannot be read (PL024) come back as diagnostics.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from linter.diagnostics import Diagnostic
from linter.findings import Finding
from linter.model import Span
from linter.source import SourceFile

META_CODES = frozenset({"PL021", "PL022", "PL023", "PL024"})
_MARKER = re.compile(r"""(?P<lead>#|(?P<xml><!--)|(?P<quote>["'])\s*#?)\s*portlint\s*:\s*""", re.I)
_KIND = re.compile(r"[\w-]*")
_CODES = re.compile(r"\s*\[(?P<codes>[^\]]*)\](?P<after>.*)", re.S)
_AFTER = re.compile(r"\s*(?:until\s*=\s*(?P<until>\S+))?\s*(?P<reason>.*)", re.S)
_CODE = re.compile(r"PL\d{1,3}")
_PORTS = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")


def _code_of(selector: str) -> str:
    """The rule code or prefix of a selector (``PL101:23`` -> ``PL101``)."""
    return selector.partition(":")[0]


def _ports_of(selector: str) -> tuple[int, int] | None:
    """The port range a selector names (``PL101:20-23`` -> (20, 23)), None when it names none."""
    _, colon, ports = selector.partition(":")
    if not colon:
        return None
    found = _PORTS.fullmatch(ports)
    return int(found[1]), int(found[2] or found[1])


@dataclass(eq=False)
class Directive:
    """One ``portlint: ignore[...]`` comment."""

    scope: str  # "line" or "file"
    line: int
    column: int
    end_column: int
    target: int | None  # the line a "line" directive applies to
    codes: tuple[str, ...]  # valid codes and prefixes, upper case
    until: dt.date | None
    reason: str | None
    used: set[str] = field(default_factory=set)

    def expired(self, today: dt.date) -> bool:
        return self.until is not None and self.until < today

    def covers(self, finding: Finding) -> str | None:
        """The code or prefix of this directive that names ``finding``, if its place fits."""
        if self.scope == "line":
            last = max(finding.end_line or finding.line, finding.line)
            if self.target is None or not finding.line <= self.target <= last:
                return None
        for code in self.codes:
            if not finding.code.startswith(_code_of(code)):
                continue
            named = _ports_of(code)
            if named is not None and not (finding.ports and all(
                    named[0] <= lo and hi <= named[1] for lo, hi in finding.ports)):
                continue
            return code
        return None

    def span(self, path: str) -> Span:
        return Span(path, self.line, self.column, self.line, self.end_column)


def _is_comment(text: str) -> bool:
    return text.lstrip().startswith(("#", "<!--"))


def _body_end(text: str, start: int, quote: str | None) -> int:
    """Where a directive's text ends: the closing quote (not a backslash-escaped one) or the line end."""
    if not quote:
        return len(text)
    index = start
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return len(text)


class FileSuppressions:
    """The directives of one file, and the problems found reading them."""

    def __init__(self, path: str, directives: list[Directive], problems: list[Diagnostic]):
        self.path = path
        self.directives = directives
        self.problems = problems

    def match(self, finding: Finding, today: dt.date, record: bool = True) -> Directive | None:
        """The live directive that suppresses ``finding`` (line directives first), marking it used."""
        for scope in ("line", "file"):
            for directive in self.directives:
                if directive.scope != scope or directive.expired(today):
                    continue
                code = directive.covers(finding)
                if code is not None:
                    if record:
                        directive.used.add(code)
                    return directive
        return None

    def leftovers(self, today: dt.date, enabled, checked: bool = True) -> list[Diagnostic]:
        """Expired directives (PL023) and, when the file's checks ran, unused ones (PL022).

        A code counts as unused only when it names a rule that ran (``enabled(code)``)
        other than the suppression rules themselves.
        """
        from linter.rulebook import all_rules

        out = []
        for directive in self.directives:
            what = ", ".join(directive.codes)
            if directive.expired(today):
                out.append(Diagnostic(
                    "PL023", f"Suppression of {what} expired on {directive.until.isoformat()}",
                    directive.span(self.path),
                    hint="Fix what it hides, or renew the date if the exception still stands"))
                continue
            if not checked:
                continue
            unused = [code for code in directive.codes if code not in directive.used and any(
                rule.startswith(_code_of(code)) and rule not in META_CODES and enabled(rule) for rule in all_rules())]
            if unused:
                where = "file-level suppression" if directive.scope == "file" else "suppression"
                out.append(Diagnostic(
                    "PL022", f"Unused {where} of {', '.join(unused)}", directive.span(self.path),
                    hint="Remove the suppression (or the codes that no longer match anything)"))
        return out


def _lines_naming_portlint(text: str, count: int):
    """The numbers of the lines of ``text`` (split at "\\n" into ``count`` lines, as SourceFile.lines)
    that may name portlint: those whose lower case holds "portlint", in order, each once. One
    search of the lower-cased text instead of a lower-cased copy of each line (a 100,000-line file
    names portlint in its first comment at most); exact for ASCII text, whose lower case is one
    character per character, so a line's is its part of the text's. Other text: every line."""
    if not text.isascii():
        return range(1, count + 1)
    lowered = text.lower()
    numbers: list[int] = []
    number = 1
    counted = 0  # the newlines before ``counted`` are counted in ``number``
    at = lowered.find("portlint")
    while at >= 0:
        number += lowered.count("\n", counted, at)
        counted = at
        if not numbers or numbers[-1] != number:
            numbers.append(number)
        at = lowered.find("portlint", at + 8)
    return numbers


def scan(source: SourceFile, require_reason: bool = False) -> FileSuppressions:
    """Every directive in ``source``, with PL021 and PL024 for the ones that are wrong."""
    from linter.rulebook import all_rules

    codes_known = tuple(all_rules())
    directives: list[Directive] = []
    problems: list[Diagnostic] = []
    lines = source.lines
    for number in _lines_naming_portlint(source.text, len(lines)):
        text = lines[number - 1]
        if "portlint" not in text.lower():
            continue
        for marker in _MARKER.finditer(text):
            start = marker.end()
            end = _body_end(text, start, marker["quote"])
            if marker["xml"] and "-->" in text[start:end]:  # an XML comment (firewalld's files) ends at -->
                end = text.index("-->", start)
            body = text[start:end].rstrip()
            column = marker.start() + 1 + (1 if marker["quote"] else 0)
            span = Span(source.path, number, column, number, end + 1)

            def bad(message: str, hint: str = "Write it as: portlint: ignore[PL101] reason") -> None:
                problems.append(Diagnostic("PL024", message, span, hint=hint))

            kind = _KIND.match(body)[0].lower()
            if kind not in ("ignore", "ignore-file"):
                bad(f"Unknown portlint directive {kind or body!r}; expected ignore[...] or ignore-file[...]")
                continue
            parsed = _CODES.fullmatch(body, len(kind))
            if parsed is None:
                bad(f"Suppression names no rule codes in brackets: {body!r}")
                continue
            tokens = [token.strip() for token in parsed["codes"].split(",")]
            if not any(tokens):
                bad(f"Suppression names no rule codes in brackets: {body!r}")
                continue
            after = _AFTER.fullmatch(parsed["after"])
            until = None
            if after["until"] is not None:
                try:
                    until = dt.date.fromisoformat(after["until"])
                except ValueError:
                    bad(f"Bad expiry date {after['until']!r}", hint="Write the date as until=YYYY-MM-DD")
                    continue
            reason = after["reason"].strip() or None
            if reason and marker["quote"]:
                reason = reason.replace("\\" + marker["quote"], marker["quote"])
            if reason is None and require_reason:
                bad("Suppression without a reason", hint="Say why after the codes: portlint: ignore[PL101] reason")
                continue
            valid = []
            for token in tokens:
                selector = token.upper().replace(" ", "")
                code, colon, ports = selector.partition(":")
                if colon:
                    found = _PORTS.fullmatch(ports)
                    if found is None or int(found[1]) > 65535 or int(found[2] or found[1]) > 65535 \
                            or int(found[1]) > int(found[2] or found[1]):
                        bad(f"Bad port {ports!r} in suppression of {code}",
                            hint="Name a port or range after the code: portlint: ignore[PL101:23] reason")
                        continue
                if _CODE.fullmatch(code) and any(known.startswith(code) for known in codes_known):
                    valid.append(selector)
                else:
                    problems.append(Diagnostic(
                        "PL021", f"Unknown rule code {token!r} in suppression", span,
                        hint="`portlint rules` lists the codes; prefixes such as PL1 work too"))
            if not valid:
                continue
            scope = "file" if kind == "ignore-file" else "line"
            target = None
            if scope == "line":
                if _is_comment(text):
                    target = next((n for n in range(number + 1, len(lines) + 1) if not _is_comment(lines[n - 1])),
                                  None)
                else:
                    target = number
            directives.append(Directive(scope, number, column, end + 1, target, tuple(valid), until, reason))
    return FileSuppressions(source.path, directives, problems)
