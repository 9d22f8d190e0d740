"""`portlint trace`: the verdict and path of one flow, or of many (JSON Lines)."""

from __future__ import annotations

import json
import sys

import click

from linter.engine.universe import describe_interface
from linter.format_choice import FormatChoice
from linter.reporters.safe import escape_json, safe_line


def _step_record(step) -> dict:
    record = {"event": step.event, "table": step.table.name, "family": step.table.family.value,
              "chain": step.chain.name}
    if step.rule is not None:
        record.update(path=step.rule.span.path, line=step.rule.span.line, rule=step.rule.text,
                      verdict=step.rule.verdict.kind.value)
        if step.rule.verdict.target:
            record["target"] = step.rule.verdict.target
    elif step.event == "policy":
        record.update(path=step.chain.span.path, line=step.chain.span.line, policy=step.detail)
    elif step.event == "leave":
        record["outcome"] = step.detail
    return record


def result_record(result) -> dict:
    flow = result.flow
    return {
        "flow": {"src": flow.src, "dst": flow.dst, "proto": flow.proto, "dport": flow.dport, "sport": flow.sport,
                 "iface": flow.iface, "state": flow.state, "forward": flow.forward, "oiface": flow.oiface},
        "verdict": result.verdict,
        "forwarded": result.forwarded,
        "path": [_step_record(s) for s in result.path],
        "assumed_not_matching": list(result.assumed),
        "other_possible_verdicts": list(result.other_verdicts),
        "analysis_simplified": list(result.cuts),
    }


def print_text(result) -> None:
    """The trace for people; every line through safe_line (reporters/safe.py): names come from the input."""
    from linter.addresses import endpoint

    def echo(text: str) -> None:
        click.echo(safe_line(text))

    flow = result.flow
    iface = flow.iface or "an interface no rule names"
    routed = ""
    if flow.forward:
        routed = f", routed out on {flow.oiface or 'an interface no rule names'}"
    echo(f"Flow: {flow.proto} {endpoint(flow.src, flow.sport)} -> {endpoint(flow.dst, flow.dport)} in on {iface}"
         f"{routed} ({flow.state})")
    depth = 0
    for step in result.path:
        if step.event == "enter":
            echo(f"{'  ' * depth}enter {step.table.name} {step.chain.name}")
            depth += 1
        elif step.event == "leave":
            depth = max(depth - 1, 0)
            echo(f"{'  ' * depth}leave {step.chain.name}: {step.detail}")
        elif step.event == "rule":
            span = step.rule.span
            echo(f"{'  ' * depth}{span.path}:{span.line}: {step.rule.text}")
        elif step.event == "policy":
            echo(f"{'  ' * depth}policy of {step.table.name} {step.chain.name}: {step.detail}")
    if result.flow.forward:
        echo(f"Verdict: {result.verdict} (routed to another host)")
    else:
        echo(f"Verdict: {result.verdict}" + (" (forwarded after DNAT)" if result.forwarded else ""))
    if result.assumed:
        echo(f"Assumed not to match: {'; '.join(result.assumed)}")
    if result.other_verdicts:
        echo(f"If those matched, the verdict could be: {', '.join(result.other_verdicts)}")
    for cut in result.cuts:
        echo(f"Note: {cut}")


@click.command()
@click.argument("rulesets", nargs=-1, required=True, type=click.Path())
@click.option("--src", help="Source address (default 203.0.113.7 or 2001:db8:ffff::7).")
@click.option("--dst", help="Destination address, one of this host's (default 192.0.2.1 or 2001:db8::1).")
@click.option("--proto", default="tcp", show_default=True, help="Protocol name or number.")
@click.option("--dport", help="Destination port or service name.")
@click.option("--sport", help="Source port (default 40000).")
@click.option("--iface", help="Input interface (default: one no rule names).")
@click.option("--state", default="new", show_default=True, help="Conntrack state.")
@click.option("--forward", is_flag=True, help="The destination is another host: the flow is routed through "
                                              "prerouting, forward and postrouting.")
@click.option("--oiface", help="Output interface of a --forward flow (default: one no rule names).")
@click.option("--assume", "assume", multiple=True, metavar="KEY=VALUE",
              help="Settle an opaque match: set:NAME=empty|all, match:TEXT=yes|no (repeatable).")
@click.option("--flows", "flows_file", type=click.Path(), help="JSON Lines of flows ('-' for stdin).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--input-format", type=FormatChoice(rulesets_only=True))
@click.pass_context
def trace(ctx, rulesets, src, dst, proto, dport, sport, iface, state, forward, oiface, assume, flows_file, fmt,
          input_format):
    """Trace flows through RULESETS (files of one host) and print verdict and path."""
    from linter.cli import EXIT_ERROR, load_rulesets
    from linter.engine.assumptions import AssumptionError, parse_assumptions
    from linter.engine.trace import FlowError, make_flow, trace_flow

    try:
        assumed = parse_assumptions(assume)
    except AssumptionError as exc:
        click.echo(safe_line(f"portlint: --assume {exc}"), err=True)
        ctx.exit(EXIT_ERROR)
    loaded = load_rulesets(ctx, rulesets, input_format)
    if flows_file:
        from linter.commands.flow_lines import flow_lines

        handle = sys.stdin.buffer if flows_file == "-" else _open(ctx, flows_file)
        status = 0
        for number, data, problem in flow_lines(handle):
            try:
                if problem is not None:
                    raise FlowError(problem)
                if not isinstance(data, dict):
                    raise FlowError("each line must be a JSON object")
                unknown = set(data) - {"src", "dst", "proto", "dport", "sport", "iface", "state", "forward", "oiface"}
                if unknown:
                    raise FlowError(f"unknown field(s) {', '.join(sorted(unknown))}")
                flow = make_flow(data.get("src"), data.get("dst"), data.get("proto", "tcp"), data.get("dport"),
                                 data.get("sport"), data.get("iface"), data.get("state", "new"),
                                 forward=data.get("forward", False), oiface=data.get("oiface"))
                result = trace_flow(flow, loaded, assumed)
            except (ValueError, FlowError) as exc:
                message = f"{flows_file}:{number}: {exc}"
                status = EXIT_ERROR
                if fmt == "json":
                    click.echo(escape_json(json.dumps({"line": number, "error": str(exc)})))
                else:
                    click.echo(safe_line(f"portlint: {message}"), err=True)
                continue
            if fmt == "json":
                click.echo(escape_json(json.dumps(result_record(result))))
            else:
                print_text(result)
                click.echo()
        ctx.exit(status)
    try:
        flow = make_flow(src, dst, proto, dport, sport, iface, state, forward=forward, oiface=oiface)
    except FlowError as exc:
        click.echo(safe_line(f"portlint: {exc}"), err=True)
        ctx.exit(EXIT_ERROR)
    result = trace_flow(flow, loaded, assumed)
    if fmt == "json":
        click.echo(escape_json(json.dumps(result_record(result), indent=2)))
    else:
        print_text(result)


def _open(ctx, path):
    try:
        return open(path, "rb")
    except OSError as exc:
        from linter.cli import EXIT_ERROR

        click.echo(safe_line(f"portlint: cannot read {path}: {exc.strerror}"), err=True)
        ctx.exit(EXIT_ERROR)


__all__ = ["trace", "describe_interface"]
