"""A diff as text, JSON, Markdown, SARIF or GitHub annotations."""

from __future__ import annotations

import json

from linter.diff.model import Change, Diff
from linter.netdb import protocol_name
from linter.reporters.safe import escape_json, safe_line, safe_text

IDENTICAL = "No change in exposure: both sides accept exactly the same new connections."


def _ports_text(ranges) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges) or "-"


def reach_text(change: Change) -> str:
    """Where the connections come from (and go to, through a DNAT or routing)."""
    from linter.addresses import format_range

    exposure = change.exposure
    text = exposure.reach
    if exposure.reach in ("restricted", "private"):
        ranges = exposure.sources
        shown = ", ".join(format_range(exposure.family, lo, hi) for lo, hi in ranges[:3])
        text += f" ({shown}{', ...' if len(ranges) > 3 else ''})"
    if exposure.possible:
        text += " (possibly)"
    if exposure.forwarded and exposure.nat_targets:
        text += " via DNAT to " + ", ".join(exposure.nat_targets)
    if exposure.routed:
        from linter.engine.exposure import destinations_text

        text += " routed to " + destinations_text(exposure)
    return text


def _where(deciders) -> list[dict]:
    return [{"path": d.span.path, "line": d.span.line, "table": d.table, "chain": d.chain, "rule": d.text}
            for d in deciders]


def _where_text(deciders) -> str:
    return "; ".join(dict.fromkeys(f"{d.span.path}:{d.span.line}" for d in deciders)) or "-"


def record(change: Change) -> dict:
    """The JSON form of one change (schema version 1)."""
    from linter.addresses import format_range
    from linter.engine.exposure import interfaces_record

    exposure = change.exposure
    return {
        "family": exposure.family.value,
        "proto": protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other",
        "ports": [[lo, hi] for lo, hi in exposure.ports],
        "reach": exposure.reach,
        "sources": [format_range(exposure.family, lo, hi) for lo, hi in exposure.sources],
        "interfaces": interfaces_record(exposure.interfaces, exposure.interfaces | {"\x00other"})
        if "\x00other" not in exposure.interfaces else "any",
        "possible": exposure.possible,
        "nat_to": list(exposure.nat_targets),
        "routed": exposure.routed,
        "services": list(change.services),
        "severity": str(change.severity),
        "code": change.code,
        "before": _where(change.before),
        "after": _where(change.after),
    }


def render_json(diff: Diff) -> str:
    return escape_json(json.dumps({"version": 1, "opened": [record(c) for c in diff.opened],
                                   "closed": [record(c) for c in diff.closed]}, indent=2)) + "\n"


HEADER = ("change", "severity", "family", "proto", "ports", "services", "reach", "before", "after")


def _cells(change: Change) -> tuple[str, ...]:
    exposure = change.exposure
    services = ", ".join(change.services[:6]) + (" ..." if len(change.services) > 6 else "")
    return (change.kind, str(change.severity), exposure.family.value,
            protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other",
            _ports_text(exposure.ports[:8]) + (",..." if len(exposure.ports) > 8 else ""),
            services or "-", reach_text(change), _where_text(change.before), _where_text(change.after))


def render_text(diff: Diff) -> str:
    """A short aligned table, opened first."""
    if diff.empty:
        return IDENTICAL + "\n"
    rows = [tuple(safe_text(cell) for cell in _cells(c)) for c in diff.opened + diff.closed]
    widths = [max([len(row[i]) for row in rows] + [len(HEADER[i])]) for i in range(len(HEADER))]

    def line(cells) -> str:
        return safe_line("  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip())

    summary = f"{len(diff.opened)} opened, {len(diff.closed)} closed"
    return "\n".join([summary, line(HEADER), line("-" * w for w in widths)] + [line(r) for r in rows]) + "\n"


def _markdown_cell(text: str) -> str:
    import html

    return html.escape(safe_text(text), quote=False).replace("|", "\\|").replace("`", "&#96;")


def render_markdown(diff: Diff) -> str:
    """A pull-request comment: a title line and one table."""
    if diff.empty:
        return "### portlint diff\n\n" + IDENTICAL + "\n"
    lines = ["### portlint diff", "", f"**{len(diff.opened)} opened, {len(diff.closed)} closed**", "",
             "| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for change in diff.opened + diff.closed:
        cells = [_markdown_cell(c) for c in _cells(change)]
        cells[0] = "🔓 opened" if change.kind == "opened" else "🔒 closed"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def findings(diff: Diff) -> list:
    """One finding per opened change, at the rule that opens it (for SARIF and GitHub)."""
    from linter.findings import Finding
    from linter.rulebook import get_rule

    found = []
    for change in diff.opened:
        exposure = change.exposure
        decider = change.after[0] if change.after else None
        if decider is None:
            continue
        meta = get_rule(change.code)
        proto = protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other"
        services = f" ({', '.join(change.services[:6])})" if change.services else ""
        message = (f"This change opens {proto} {_ports_text(exposure.ports)}{services} "
                   f"to {reach_text(change)} ({exposure.family.value})")
        found.append(Finding(change.code, meta.name if meta else change.code, change.severity,
                             meta.category if meta else "exposure", decider.span.path, decider.span.line,
                             max(decider.span.column, 1), message, proto=proto, ports=exposure.ports,
                             key=f"diff/{proto}/{_ports_text(exposure.ports)}/{exposure.reach}"))
    return found


def render_report(diff: Diff, fmt: str) -> str:
    """SARIF or GitHub annotations of the opened changes, through portlint's own reporters."""
    import importlib

    from linter.reporters import Report

    report = Report(findings=findings(diff))
    return importlib.import_module(f"linter.reporters.{fmt}").render(report)


def render(diff: Diff, fmt: str) -> str:
    if fmt == "json":
        return render_json(diff)
    if fmt == "markdown":
        return render_markdown(diff)
    if fmt in ("sarif", "github"):
        return render_report(diff, fmt)
    return render_text(diff)
