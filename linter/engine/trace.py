"""Tracing one concrete flow through rulesets, step by step."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from linter.addresses import AddressError, parse_address_range
from linter.engine.budget import describe_cut
from linter.engine.paths import PathEvaluator, Result
from linter.engine.space import ALL_STATES, Box
from linter.engine.universe import OTHER_IFACE, interface_representatives
from linter.engine.walk import Outcome, Step
from linter.model import Family, Ruleset
from linter.netdb import protocol_number, service_port
from linter.numbers import bounded_int

DEFAULT_SRC = {Family.IPV4: "203.0.113.7", Family.IPV6: "2001:db8:ffff::7"}
DEFAULT_DST = {Family.IPV4: "192.0.2.1", Family.IPV6: "2001:db8::1"}


class FlowError(ValueError):
    """A flow description that cannot be read; the message names the field."""


@dataclass(frozen=True)
class Flow:
    src: str
    dst: str
    proto: str
    dport: int | None
    sport: int
    iface: str | None
    state: str = "new"
    forward: bool = False  # the destination is another host: routed through prerouting, forward, postrouting
    oiface: str | None = None  # the output interface of a routed flow (default: one no rule names)


@dataclass(frozen=True)
class TraceResult:
    flow: Flow
    verdict: str  # accept, drop, reject
    path: tuple[Step, ...]
    forwarded: bool
    assumed: tuple[str, ...]  # opaque matches taken as not matching on this path
    other_verdicts: tuple[str, ...]  # verdicts reachable if opaque matches matched
    cuts: tuple[str, ...] = ()  # where the evaluation was simplified (engine/budget.py), described


def make_flow(src=None, dst=None, proto="tcp", dport=None, sport=None, iface=None, state="new",
              family: Family | None = None, forward=False, oiface=None) -> Flow:
    """Validate and complete a flow description (``forward``: to another host, routed out
    through ``oiface``)."""
    if not isinstance(forward, bool):
        raise FlowError(f"forward must be true or false: {forward!r}")
    if oiface is not None and not forward:
        raise FlowError("an output interface (oiface) needs a routed flow (forward)")
    for name, value in (("iface", iface), ("oiface", oiface)):
        if value is not None and (not isinstance(value, str) or not value):
            raise FlowError(f"{name} must be an interface name: {value!r}")
    if proto is None:
        proto = "tcp"
    if protocol_number(str(proto)) is None:
        raise FlowError(f"unknown protocol {proto!r}")
    fam = family
    for value in (src, dst):
        if value:
            try:
                fam = Family.IPV6 if ipaddress.ip_address(str(value)).version == 6 else Family.IPV4
            except ValueError:
                raise FlowError(f"not an IP address: {value!r}") from None
    fam = fam or Family.IPV4
    src = src or DEFAULT_SRC[fam]
    dst = dst or DEFAULT_DST[fam]
    port = _port(dport, proto, "dport") if dport is not None else None
    sport_value = _port(sport, proto, "sport") if sport is not None else 40000
    states = {s.strip().lower() for s in str(state or "new").split(",")}
    if len(states) != 1 or not states <= ALL_STATES:
        raise FlowError(f"state must be one of {', '.join(sorted(ALL_STATES))}: {state!r}")
    return Flow(str(src), str(dst), str(proto).lower(), port, sport_value, iface, states.pop(), forward, oiface)


def _port(value, proto: str, field: str) -> int:
    text = str(value).strip()
    if text.isdigit():
        port = bounded_int(text)
    else:
        port = service_port(text, proto) or -1
    if not 0 <= port <= 65535:
        raise FlowError(f"{field} must be a port number 0-65535 or a service name: {value!r}")
    return port


def flow_box(flow: Flow, rulesets: list[Ruleset]) -> Box:
    """The single point of packet space that is this flow."""
    try:
        family, src, _ = parse_address_range(flow.src)
        dfamily, dst, _ = parse_address_range(flow.dst)
    except AddressError as exc:
        raise FlowError(str(exc)) from None
    if family is not dfamily:
        raise FlowError("source and destination are of different address families")
    proto = protocol_number(flow.proto)
    reps = interface_representatives(rulesets)
    dport = flow.dport if flow.dport is not None else 0
    box = Box(family, ((proto, proto),), ((flow.sport, flow.sport),), ((dport, dport),), ((src, src),),
              ((dst, dst),), frozenset({representative(flow.iface, reps)}), frozenset({flow.state}))
    if flow.forward:
        box = box._replace(local=False, oif=frozenset({representative(flow.oiface, reps)}))
    return box


def representative(iface: str | None, reps: frozenset[str]) -> str:
    """The interface representative ``iface`` falls in: itself when a rule names it, else the
    longest wildcard region that matches it, else the interfaces no rule names."""
    if iface is None:
        return OTHER_IFACE
    if iface in reps:
        return iface
    candidates = [r for r in reps if r.endswith("\x00") and iface.startswith(r[:-1])]
    return max(candidates, key=len) if candidates else OTHER_IFACE


def trace_flow(flow: Flow, rulesets: list[Ruleset], assumed=None) -> TraceResult:
    """The verdict and path of ``flow``; opaque matches are taken as not matching (unless
    ``assumed`` settles them), and the verdicts they could lead to are listed in ``other_verdicts``."""
    box = flow_box(flow, rulesets)
    evaluator = PathEvaluator(rulesets, record=True, assumed=assumed)
    results = evaluator.evaluate_routed([box]) if flow.forward else evaluator.evaluate([box])
    if not results:
        # A routed flow that a REDIRECT turned into one for this host: trace it as one.
        results = evaluator.evaluate([box._replace(local=True, oif=None)])
    certain = [r for r in results if not r.box.possible]
    chosen: Result = certain[0] if certain else results[0]
    others = tuple(sorted({_verdict(r) for r in results if r is not chosen} - {_verdict(chosen)}))
    assumed = tuple(dict.fromkeys(
        getattr(a.match, "text", "") or getattr(a.match, "module", "") for a in chosen.box.assumptions))
    cuts = tuple(describe_cut(cut) for cut in evaluator.cuts)
    return TraceResult(flow, _verdict(chosen), chosen.box.trail, chosen.forwarded, assumed, others, cuts)


def _verdict(result: Result) -> str:
    if result.verdict is Outcome.QUEUE:
        return "accept"
    return result.verdict.value
