"""`portlint exposure`: what new connections can reach, from where, through which rule."""

from __future__ import annotations

import json

import click

from linter.engine import intervals as iv
from linter.netdb import protocol_name


def _ports(ranges) -> str:
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ranges)


def _service_names(registry, exposure) -> str:
    transport = protocol_name(exposure.protocol)
    if transport not in ("tcp", "udp", "sctp") or not exposure.ports:
        return ""
    ports = exposure.nat_ports if exposure.forwarded and exposure.nat_ports else exposure.ports
    if iv.size(ports) > 1024:
        return "(all services)" if iv.size(ports) > 60000 else "(many services)"
    names = [entry.name for entry, _ in registry.overlapping(ports, transport)]
    if not names and iv.size(ports) <= 4:
        names = [registry.describe(lo, transport) for lo, _ in ports]
    return ", ".join(names[:8]) + (" ..." if len(names) > 8 else "")


def exposure_record(analysis, exposure, registry) -> dict:
    from linter.addresses import format_range
    from linter.engine.exposure import interface_text

    return {
        "family": exposure.family.value,
        "protocol": protocol_name(exposure.protocol) if exposure.protocol >= 0 else "other",
        "ports": [[lo, hi] for lo, hi in exposure.ports],
        "services": _service_names(registry, exposure),
        "reach": exposure.reach,
        "sources": [format_range(exposure.family, lo, hi) for lo, hi in exposure.sources[:16]]
                   + (["..."] if len(exposure.sources) > 16 else []),
        "interfaces": interface_text(exposure.interfaces, analysis.interfaces),
        "possible": exposure.possible,
        "conditions": list(exposure.conditions),
        "forwarded": exposure.forwarded,
        "nat_to": list(exposure.nat_targets),
        "decided_by": [{"path": d.span.path, "line": d.span.line, "table": d.table, "chain": d.chain,
                        "rule": d.text} for d in exposure.deciders],
    }


@click.command()
@click.argument("rulesets", nargs=-1, required=True, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--all", "show_all", is_flag=True, help="Also list loopback-only reach.")
@click.option("--input-format", type=click.Choice(["iptables-save", "nftables", "iptables-script"]))
@click.pass_context
def exposure(ctx, rulesets, fmt, show_all, input_format):
    """For each protocol, the ports new connections can reach: from the internet, from
    private networks only, from loopback only."""
    from linter.cli import _console, load_rulesets
    from linter.engine.exposure import ExposureAnalysis
    from linter.ports import default_registry

    loaded = load_rulesets(ctx, rulesets, input_format)
    analysis = ExposureAnalysis(loaded)
    registry = default_registry()
    entries = [e for e in analysis.exposures() if show_all or e.reach != "loopback"]
    records = [exposure_record(analysis, e, registry) for e in entries]
    if fmt == "json":
        click.echo(json.dumps({"version": 1, "exposure": records}, indent=2))
        return
    from rich.table import Table

    table = Table(title="New connections accepted", show_lines=False)
    for column in ("family", "proto", "ports", "services", "reach", "interfaces", "decided by"):
        table.add_column(column)
    for record in records:
        reach = record["reach"] + (" (possibly)" if record["possible"] else "")
        if record["forwarded"]:
            reach += f" via DNAT to {', '.join(record['nat_to'])}"
        deciders = "; ".join(f"{d['path']}:{d['line']}" for d in record["decided_by"])
        ports = _ports([tuple(p) for p in record["ports"]]) or "-"
        table.add_row(record["family"], record["protocol"], ports, record["services"], reach,
                      record["interfaces"], deciders)
    _console(False).print(table)
