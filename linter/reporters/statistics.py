"""`portlint check --statistics`: how many findings each rule has, most first, instead of the
findings (``  3  PL101  plaintext-protocol-exposed``)."""

from __future__ import annotations

from collections import Counter

from linter.reporters.safe import safe_line


def counts(report) -> list[tuple[str, str, int]]:
    """(code, name, count) of every rule with findings (unreadable inputs included), most first."""
    names = {f.code: f.name for f in report.reported}
    counted = Counter(f.code for f in report.reported)
    return [(code, names[code], n) for code, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]


def render(report) -> str:
    rows = counts(report)
    if not rows:
        return "" if report.quiet else "No findings.\n"
    width = max(len(str(n)) for _, _, n in rows)
    return "".join(safe_line(f"{n:>{width}}  {code}  {name}") + "\n" for code, name, n in rows)
