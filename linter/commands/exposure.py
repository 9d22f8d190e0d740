"""`portlint exposure`: what new connections can reach, from where, through which rule."""

from __future__ import annotations

import functools
import json

import click

from linter import collector
from linter.engine import intervals as iv
from linter.model import ports_text
from linter.netdb import protocol_name
from linter.format_choice import FormatChoice
from linter.reporters.safe import escape_json, safe_line, safe_text


def _service_names(registry, exposure) -> str:
    transport = protocol_name(exposure.protocol)
    if transport not in ("tcp", "udp", "sctp") or not exposure.ports:
        return ""
    ports = exposure.nat_ports if exposure.forwarded and exposure.nat_ports else exposure.ports
    return _names_for(registry, ports, transport)


@functools.lru_cache(maxsize=4096)
def _names_for(registry, ports, transport: str) -> str:
    """The registry's names for ``ports`` (thousands of entries share a handful of port sets)."""
    if iv.size(ports) > 1024:
        return "(all services)" if iv.size(ports) > 60000 else "(many services)"
    names = [entry.name for entry, _ in registry.overlapping(ports, transport)]
    if not names and iv.size(ports) <= 4:
        names = [registry.describe(lo, transport) for lo, _ in ports]
    return ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")


@functools.lru_cache(maxsize=4096)
def _sources_text(family, sources) -> tuple[str, ...]:
    """Source ranges as text, every one of them (the same few lists come back for thousands
    of entries, and the lists that differ still share most of their ranges: a ufw host's
    10k entries hold 5.8M ranges but 10k distinct ones, so each is formatted once)."""
    from linter.addresses import format_range

    texts = _RANGE_TEXTS.setdefault(family, {})
    out = []
    for span in sources:
        text = texts.get(span)
        if text is None:
            text = texts[span] = format_range(family, *span)
        out.append(text)
    return tuple(out)


_RANGE_TEXTS: dict = {}  # family -> {(lo, hi): text}, for one command's run


def exposure_record(analysis, exposure, registry, addresses: bool = True) -> dict:
    """One entry as JSON data; ``addresses=False`` leaves out the source and destination
    lists (the text table shows neither, and a ufw host's public sources run to a thousand
    ranges per entry: formatting them for every row made the table quadratic)."""
    from linter.engine.exposure import interfaces_record

    record = {
        "family": exposure.family.value,
        "protocol": protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other",
        "ports": [[lo, hi] for lo, hi in exposure.ports],
        "services": _service_names(registry, exposure),
        "reach": exposure.reach,
        "sources": list(_sources_text(exposure.family, exposure.sources)) if addresses else [],
        "interfaces": interfaces_record(exposure.interfaces, analysis.interfaces),
        "possible": exposure.possible,
        "conditions": list(exposure.conditions),
        "forwarded": exposure.forwarded,
        "nat_to": list(exposure.nat_targets),
        "routed": exposure.routed,
        "decided_by": [{"path": d.span.path, "line": d.span.line, "table": d.table, "chain": d.chain,
                        "rule": d.text} for d in exposure.deciders],
    }
    if exposure.routed:
        record["destinations"] = list(_sources_text(exposure.family, exposure.destinations)) if addresses else []
        record["out_interfaces"] = interfaces_record(exposure.out_interfaces, analysis.interfaces)
    return record


@click.command()
@click.argument("rulesets", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list loopback-only reach.")
@click.option("--input-format", type=FormatChoice(rulesets_only=True))
@click.pass_context
def exposure(ctx, rulesets, fmt, show_all, input_format):
    """For each protocol, the ports new connections can reach: from the internet, from
    private networks only, from loopback only; and, when a filter FORWARD chain has rules,
    what they can reach on the hosts this one routes to ("routed to" prefixes)."""
    from linter.cli import load_rulesets
    from linter.engine.budget import describe_cut
    from linter.engine.exposure import ExposureAnalysis
    from linter.ports import default_registry

    with collector.paused():  # one pause for reading, analysing and writing (linter/collector.py)
        loaded = load_rulesets(ctx, rulesets, input_format)
        analysis = ExposureAnalysis(loaded, loopback=show_all)
        registry = default_registry()
        entries = [e for e in analysis.exposures() if show_all or e.reach != "loopback"]
        if loaded and all(r.format == "compose" for r in loaded):
            # Compose files alone: what Docker publishes (its DNATs), not the host's own ports,
            # which no firewall file here describes.
            entries = [e for e in entries if e.forwarded]
        entries += analysis.routed_exposures()
        if fmt == "html":  # one self-contained page: the service matrix (linter/diff/html.py)
            from linter.diff.html import render_exposure_html

            click.echo(render_exposure_html(entries, registry), nl=False)
            return
        if fmt != "json":
            entries = table_entries(analysis, entries)
        records = [exposure_record(analysis, e, registry, addresses=fmt == "json") for e in entries]
        cuts = list(dict.fromkeys(describe_cut(cut) for cut in analysis.cuts))
    from linter.engine.roles import describe_roles

    roles = [{"interface": name, "role": role, "why": why}
             for name, role, why in describe_roles(analysis.roles, analysis.interfaces)]
    if fmt == "json":
        from linter.engine.universe import describe_interface

        classes = sorted(describe_interface(i) for i in analysis.interfaces)
        click.echo(escape_json(json.dumps({"version": 1, "exposure": records, "interfaces": roles,
                                           "interface_classes": classes, "analysis_simplified": cuts},
                                          indent=2)))
        return
    header = ("family", "proto", "ports", "services", "reach", "interfaces", "decided by")
    from linter.engine.exposure import destinations_text

    rows = [_row(dict(record, interfaces=_interfaces_cell(entry.interfaces, analysis.interfaces),
                      _destinations_text=destinations_text(entry) if entry.routed else ""))
            for entry, record in zip(entries, records)]
    local = [row for row, entry in zip(rows, entries) if not entry.routed]
    click.echo(_table(header, local, "New connections accepted"))
    routed = [row for row, entry in zip(rows, entries) if entry.routed]
    if routed:
        click.echo("\n" + _table(header, routed, "New connections routed to other hosts (FORWARD)"))
    if roles:
        # "internal" reach above is what arrives on an internal interface; how each role was read:
        table = _table(("interface", "role", "why"), [tuple(r[k] for k in ("interface", "role", "why")) for r in roles],
                       "Interface roles")
        click.echo("")
        for line in table.split("\n"):
            click.echo(safe_line(line))
    for cut in cuts:
        click.echo(safe_line(f"Note: {cut}"))


def table_entries(analysis, entries: list) -> list:
    """The rows of the text table: entries that read the same but for their ports (the
    table shows no sources) become one row with the ports of all of them, still exact for
    what the table shows: which ports, on which interfaces, from which kind of source."""
    import dataclasses

    rows: dict[tuple, object] = {}
    for entry in entries:
        key = (entry.family, entry.protocol, entry.reach, entry.possible, entry.forwarded, entry.nat_targets,
               entry.interfaces, tuple(id(d.span) for d in entry.deciders), entry.routed, entry.destinations,
               entry.out_interfaces)
        row = rows.get(key)
        if row is None:
            rows[key] = entry
        else:
            nat_ports = row.nat_ports
            if entry.nat_ports is not None:
                nat_ports = iv.union(nat_ports or (), entry.nat_ports)
            rows[key] = dataclasses.replace(row, ports=iv.union(row.ports, entry.ports), nat_ports=nat_ports,
                                            sources=iv.union(row.sources, entry.sources))
    return list(rows.values())


def _interfaces_cell(interfaces: frozenset[str], all_interfaces: frozenset[str]) -> str:
    """'any', the names, or 'any but NAMES' when the interfaces no rule names are in and
    some named ones are not (never 'any' for two things)."""
    from linter.engine.exposure import interfaces_record

    record = interfaces_record(interfaces, all_interfaces)
    if isinstance(record, list):
        return ",".join(record)
    left_out = [name for name in record["all_but"] if name != "lo"]
    return "any but " + ",".join(left_out) if left_out else "any"


SHOWN_PORT_RANGES = 8  # a longer port list is cut in the table (JSON has all of it)


def _row(record: dict) -> tuple[str, ...]:
    reach = record["reach"] + (" (possibly)" if record["possible"] else "")
    if record["forwarded"]:
        reach += f" via DNAT to {', '.join(record['nat_to'])}"
    if record["routed"]:
        reach += f" routed to {record['_destinations_text']}"
    deciders = "; ".join(f"{d['path']}:{d['line']}" for d in record["decided_by"])
    ranges = [tuple(p) for p in record["ports"]]
    ports = ports_text(ranges[:SHOWN_PORT_RANGES]) or "-"
    if len(ranges) > SHOWN_PORT_RANGES:
        ports += f",... ({iv.size(tuple(ranges))} ports in {len(ranges)} ranges)"
    cells = (record["family"], record["protocol"], ports, record["services"], reach, record["interfaces"], deciders)
    return tuple(safe_text(cell) for cell in cells)  # file names would break the columns or the terminal


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], title: str) -> str:
    """A plain aligned table: readable in a terminal, greppable in a pipe, and quick to write
    for the tens of thousands of rows a Kubernetes node has."""
    widths = [max([len(row[i]) for row in rows] + [len(header[i])]) for i in range(len(header))]

    def line(cells) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()

    return "\n".join(safe_line(text) for text in
                     [title, line(header), line("-" * width for width in widths)] + [line(row) for row in rows])
