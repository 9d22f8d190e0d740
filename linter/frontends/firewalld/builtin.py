"""firewalld's built-in services and zones, read from rules/firewalld/services.yaml."""

from __future__ import annotations

import functools

from linter.frontends.firewalld.config import PolicyDef, ServiceDef, Zone
from linter.grammars import data_dir, read_yaml
from linter.model import Span


def _ports(items) -> tuple[tuple[int, int, str], ...]:
    found = []
    for item in items or ():
        port, protocol = str(item).split("/")
        low, _, high = port.partition("-")
        found.append((int(low), int(high or low), protocol))
    return tuple(found)


@functools.lru_cache(maxsize=1)
def _data() -> dict:
    return read_yaml(data_dir("rules") / "firewalld" / "services.yaml")


def firewalld_version() -> str:
    """The firewalld release whose service files the data follows."""
    return str(_data()["firewalld_version"])


@functools.lru_cache(maxsize=1)
def builtin_services() -> dict[str, ServiceDef]:
    """Every built-in service by name."""
    services = {}
    for name, entry in _data()["services"].items():
        destination = tuple((family, str(address)) for family, address in (entry.get("destination") or {}).items())
        protocols = tuple(str(protocol) for protocol in entry.get("protocols") or ())
        services[name] = ServiceDef(name, _ports(entry.get("ports")), protocols,
                                    _ports(entry.get("source_ports")), destination,
                                    tuple(entry.get("includes") or ()))
    return services


def builtin_zone(name: str, span: Span) -> Zone | None:
    """A fresh copy of the built-in zone ``name`` (its entries placed at ``span``), or None."""
    entry = _data()["zones"].get(name)
    if entry is None:
        return None
    zone = Zone(name, span, target=entry.get("target", "default"))
    zone.services = [(service, span) for service in entry.get("services", ())]
    zone.masquerade = span if entry.get("masquerade") else None
    zone.forward = span if entry.get("forward") else None
    return zone


def builtin_policy(name: str, span: Span) -> PolicyDef | None:
    """A fresh copy of the built-in policy ``name`` (firewall-cmd --policy=allow-host-ipv6 ...), or None."""
    entry = (_data().get("policies") or {}).get(name)
    if entry is None:
        return None
    policy = PolicyDef(Zone(name, span, target=entry.get("target", "CONTINUE")), int(entry.get("priority", -1)),
                       list(entry.get("ingress", ())), list(entry.get("egress", ())))
    return policy
