"""The model as JSON, for `portlint show`: what portlint read from an input.

``to_json`` turns any model object (frozen dataclasses, enums, tuples, frozensets)
into JSON-ready data, generically: a dataclass becomes an object of its fields plus
``"_class"`` (its type name, so the union members of a rule's matches can be told
apart); enums become their values; frozensets become sorted lists. Nothing here
knows a model class by name except the compose summary, whose shape is documented
in docs/compose.md.
"""

from __future__ import annotations

import dataclasses
import enum
import json

from linter.model import ComposeProject, Ruleset
from linter.reporters.safe import escape_json

SCHEMA_VERSION = 1


def to_json(value):
    """``value`` as JSON-ready data (dicts, lists, strings, numbers, booleans, None)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {"_class": type(value).__name__}
        for item in dataclasses.fields(value):
            data[item.name] = to_json(getattr(value, item.name))
        return data
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_json(item) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def _range(value):
    return None if value is None else [value[0], value[1]]


def compose_document(project: ComposeProject) -> dict:
    """A compose project: its services and every publication, one object each."""
    # Settings that came from variables are shown as written ("${TAG}"): a value may be a secret.
    services = [{"name": s.name, "image": s.shown_image, "network_mode": s.shown_network_mode,
                 "profiles": list(s.shown_profiles), "path": s.span.path, "line": s.span.line}
                for s in project.services]
    publications = [
        {"service": s.name, "host_ip": p.shown_host_ip, "published": _range(p.published), "target": _range(p.target),
         "protocol": p.protocol, "mode": p.mode, "line": p.span.line, "column": p.span.column, "path": p.span.path,
         "exposed_only": p.exposed_only}
        for s in project.services for p in s.publications
    ]
    return {"version": SCHEMA_VERSION, "format": "compose", "path": project.path, "files": list(project.files),
            "services": services, "publications": publications}


def ruleset_document(ruleset: Ruleset) -> dict:
    """A ruleset: tables, chains and rules with their spans, through ``to_json``."""
    data = to_json(ruleset)
    data.pop("_class", None)
    return {"version": SCHEMA_VERSION, **data}


def render(document) -> str:
    if isinstance(document, ComposeProject):
        data = compose_document(document)
    elif isinstance(document, Ruleset):
        data = ruleset_document(document)
    else:
        data = {"version": SCHEMA_VERSION, "document": to_json(document)}
    return escape_json(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"


def _ports(value) -> str:
    if value is None:
        return "-"
    return str(value[0]) if value[0] == value[1] else f"{value[0]}-{value[1]}"


def text_lines(document) -> list[str]:
    """A short human summary of ``document`` for `portlint show` without --format json."""
    if isinstance(document, ComposeProject):
        lines = [f"compose project {document.path}" + (f" (+ {', '.join(document.files[1:])})"
                                                        if len(document.files) > 1 else "")]
        for service in document.services:
            extra = [f"network_mode {service.shown_network_mode}"] if service.network_mode else []
            if service.profiles:
                extra.append(f"profiles {','.join(service.shown_profiles)}")
            lines.append(f"service {service.name}" + (f" ({'; '.join(extra)})" if extra else ""))
            for pub in service.publications:
                where = pub.shown_host_ip or "*"
                if pub.exposed_only:
                    lines.append(f"  expose {_ports(pub.target)}/{pub.protocol}"
                                 f"    {pub.span.path}:{pub.span.line}")
                else:
                    lines.append(f"  {where} {_ports(pub.published) if pub.published else 'ephemeral'} -> "
                                 f"{_ports(pub.target)}/{pub.protocol} ({pub.mode})    {pub.span.path}:{pub.span.line}")
        return lines
    if isinstance(document, Ruleset):
        lines = [f"{document.format} ruleset {document.path} ({document.family.value})"]
        for table in document.tables:
            lines.append(f"table {table.name} ({table.family.value})")
            for chain in table.chains:
                head = [f"hook {chain.hook.value}"] if chain.hook else []
                if chain.policy:
                    head.append(f"policy {chain.policy.value}")
                lines.append(f"  chain {chain.name}" + (f" ({', '.join(head)})" if head else ""))
                for rule in chain.rules:
                    lines.append(f"    {rule.span.line}: {rule.text or rule.verdict.kind.value}")
        return lines
    return [repr(document)]
