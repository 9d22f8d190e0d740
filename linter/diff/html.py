"""One self-contained HTML page (inline CSS and JS, nothing fetched): a service matrix of
source classes × services, coloured by severity, opened/closed marked in a diff, and the
chain path of each cell on hover (title) and on click (a details panel). Every text that came
from input is HTML-escaped (docs/security.md); the script reads no data, it only shows and
hides elements the server-side rendering wrote."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from linter.netdb import protocol_name

ROWS = ("internet", "restricted", "private", "internal", "loopback")
COLOURS = {"critical": "#7f0000", "high": "#d32f2f", "medium": "#f57c00", "low": "#fbc02d", "info": "#90caf9"}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table.matrix{border-collapse:collapse}
.matrix th,.matrix td{border:1px solid #ccc;padding:4px 8px;text-align:center;font-size:13px}
.matrix th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap}
.matrix td.cell{cursor:pointer;color:#fff;font-weight:600}
.matrix td.opened{outline:3px solid #000;outline-offset:-3px}
.matrix td.closed{background-image:repeating-linear-gradient(45deg,transparent 0 6px,rgba(255,255,255,.6) 6px 9px)}
.legend span{display:inline-block;padding:2px 8px;margin-right:4px;color:#fff}
#details{margin-top:1em;padding:.5em 1em;border:1px solid #ccc;min-height:2em;white-space:pre-wrap;font-family:monospace}
.path{display:none}
"""
SCRIPT = """
document.querySelectorAll('td.cell').forEach(function (cell) {
  cell.addEventListener('click', function () {
    var source = document.getElementById(cell.getAttribute('data-path'));
    var panel = document.getElementById('details');
    panel.textContent = source ? source.textContent : '';
  });
});
"""


@dataclass
class Cell:
    severity: str
    mark: str = ""  # "opened", "closed" or "" (both in one cell: "opened closed")
    lines: list[str] = field(default_factory=list)  # the chain path of each entry, as plain text


def _column(family: str, proto: str, ports: str, services: tuple[str, ...]) -> str:
    name = ", ".join(services[:3]) + (" ..." if len(services) > 3 else "")
    return f"{family} {proto} {ports}" + (f" ({name})" if name else "")


def _path_lines(exposure, prefix: str = "") -> list[str]:
    steps = [f"  via {d.table}/{d.chain}: {d.text} ({d.span.path}:{d.span.line})" for d in exposure.via]
    steps += [f"  {d.table}/{d.chain}: {d.text} ({d.span.path}:{d.span.line})" for d in exposure.deciders]
    return [prefix] + steps


def page(title: str, summary: str, cells: dict[tuple[str, str], Cell]) -> str:
    """The page for ``cells`` keyed by (row, column)."""
    from linter.findings import Severity
    from linter.reporters.safe import safe_text

    def esc(text: str) -> str:
        return html.escape(safe_text(text, keep_newlines=True), quote=True)

    columns = sorted({column for _, column in cells})
    rows = [row for row in ROWS if any((row, column) in cells for column in columns)]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
           'script-src \'unsafe-inline\'">',
           f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>",
           f"<h1>{esc(title)}</h1>", f'<p id="summary">{esc(summary)}</p>', '<p class="legend">']
    out += [f'<span style="background:{colour}">{name}</span>' for name, colour in COLOURS.items()]
    out.append("</p>")
    if cells:
        out.append('<table class="matrix" id="matrix"><thead><tr><th>source</th>')
        out += [f'<th class="col">{esc(column)}</th>' for column in columns]
        out.append("</tr></thead><tbody>")
        paths = []
        for row in rows:
            out.append(f"<tr><th>{esc(row)}</th>")
            for column in columns:
                cell = cells.get((row, column))
                if cell is None:
                    out.append("<td></td>")
                    continue
                ident = f"p{len(paths)}"
                text = "\n".join(cell.lines)
                paths.append(f'<div class="path" id="{ident}">{esc(text)}</div>')
                severity = str(Severity.parse(cell.severity))
                label = {"opened": "+", "closed": "\u2212", "opened closed": "\u00b1"}.get(cell.mark, "")
                out.append(f'<td class="cell {esc(cell.mark)}" style="background:{COLOURS[severity]}" '
                           f'data-path="{ident}" title="{esc(text)}">{label}{esc(severity)}</td>')
            out.append("</tr>")
        out.append("</tbody></table>")
        out += paths
    out.append('<div id="details">Click a cell for the rules that decide it.</div>')
    out.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def _add(cells: dict, row: str, column: str, severity, mark: str, lines: list[str]) -> None:
    from linter.findings import Severity

    cell = cells.get((row, column))
    if cell is None:
        cells[(row, column)] = Cell(str(severity), mark, list(lines))
        return
    cell.severity = str(max(Severity.parse(cell.severity), severity))
    if mark and mark not in cell.mark.split():
        cell.mark = " ".join(sorted(filter(None, cell.mark.split() + [mark]), key=("opened", "closed").index))
    cell.lines.extend(lines)


def _ports_text(ranges) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges[:6]) + (",..." if len(ranges) > 6 else "") or "-"


def render_diff_html(diff) -> str:
    """The diff as a page: opened cells outlined and marked +, closed ones hatched and marked −."""
    from linter.diff.render import reach_text

    cells: dict[tuple[str, str], Cell] = {}
    for change in diff.opened + diff.closed:
        exposure = change.exposure
        proto = protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other"
        column = _column(exposure.family.value, proto, _ports_text(exposure.ports), change.services)
        where = lambda ds: "; ".join(f"{d.span.path}:{d.span.line}" for d in ds) or "-"
        lines = _path_lines(exposure, f"{change.kind}: {proto} {_ports_text(exposure.ports)} from {reach_text(change)}"
                                      f" (before: {where(change.before)}, after: {where(change.after)})")
        _add(cells, exposure.reach, column, change.severity, change.kind, lines)
    summary = (f"{len(diff.opened)} opened, {len(diff.closed)} closed" if not diff.empty
               else "No change in exposure: both sides accept exactly the same new connections.")
    return page("portlint diff", summary, cells)


def render_exposure_html(entries: list, registry) -> str:
    """`portlint exposure --format html`: every accepted entry in the matrix."""
    from linter.diff.compute import rate

    cells: dict[tuple[str, str], Cell] = {}
    for exposure in entries:
        services, severity, _ = rate(exposure, registry)
        proto = protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other"
        column = _column(exposure.family.value, proto, _ports_text(exposure.ports), services)
        lines = _path_lines(exposure, f"{proto} {_ports_text(exposure.ports)} from {exposure.reach}"
                                      + (" (possibly)" if exposure.possible else ""))
        _add(cells, exposure.reach, column, severity, "", lines)
    return page("portlint exposure", f"{len(entries)} accepted parts of the packet space", cells)
