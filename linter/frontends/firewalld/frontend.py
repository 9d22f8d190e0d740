"""The firewalld front end proper: ``parse`` (see the package docstring)."""

from __future__ import annotations

import os
from pathlib import PurePath

from linter.frontends import FrontEndOptions, ParseResult
from linter.frontends.firewalld.build import Builder
from linter.frontends.firewalld.config import Config
from linter.frontends.firewalld.reader import Reader, read_conf, read_ipset, read_policy, read_service
from linter.frontends.firewalld.xml_reader import XmlError, XmlRefused, read_xml
from linter.model import Span
from linter.readpolicy import ReadPolicy
from linter.source import SourceFile, read_source

SYNTAX = "PL010"
REFUSED_XML = "PL071"
ROOTS = ("zone", "service", "policy")
DEFINITIONS = ("ipset", "icmptype", "helper", "whitelist")


def parse(source: SourceFile, options: FrontEndOptions) -> ParseResult:
    """Read one firewalld file (zone/service/policy XML or firewalld.conf)."""
    reader = Reader(source.path)
    if PurePath(source.path).name == "firewalld.conf" or not source.text.lstrip("\ufeff \t\r\n").startswith("<"):
        read_conf(reader, source.text, Config())
        return ParseResult(None, reader.diagnostics)
    root = _root(reader, source.text)
    if root is None:
        return ParseResult(None, reader.diagnostics)
    stem = PurePath(source.path).stem
    if root.tag == "service":
        read_service(reader, root, stem)
        return ParseResult(None, reader.diagnostics)
    if root.tag == "direct":
        reader.problem("PL013", "firewalld direct rules (direct.xml) are not modelled: they are iptables rules "
                                "firewalld passes on; lint them as an iptables script or save", reader.span(root))
        return ParseResult(None, reader.diagnostics)
    if root.tag in DEFINITIONS:  # definitions zones and policies use; no ruleset of their own
        if root.tag == "ipset":
            read_ipset(reader, root)
        return ParseResult(None, reader.diagnostics)
    if root.tag not in ("zone", "policy"):
        reader.problem(SYNTAX, f"Not a firewalld file: the root element is <{root.tag}>, not <zone>, <service> "
                               "or <policy>", reader.span(root))
        return ParseResult(None, reader.diagnostics)
    config = Config()
    if root.tag == "policy":
        policy = read_policy(reader, root, stem)
        config.policies[policy.name] = policy
        _read_layout(source.path, options, config, policy.name, "policies")
        focus = policy.name
    else:
        zone = reader.zone(root, stem)
        config.zones[zone.name] = zone
        alone = not _read_layout(source.path, options, config, zone.name, "zones")
        if alone and not zone.interfaces and not zone.sources:
            config.default_zone = zone.name
        focus = zone.name
    builder = Builder(config, source.path, Span(source.path, root.line, root.column), focus={focus})
    ruleset = builder.build()
    return ParseResult(ruleset, reader.diagnostics + builder.diagnostics)


def _root(reader: Reader, text: str):
    try:
        return read_xml(text)
    except XmlRefused as exc:
        reader.problem(REFUSED_XML, str(exc), Span(reader.path, exc.line, exc.column))
    except XmlError as exc:
        reader.problem(SYNTAX, str(exc), Span(reader.path, exc.line, exc.column))
    return None


def _read_layout(path: str, options: FrontEndOptions, config: Config, own: str, folder: str) -> bool:
    """Complete ``config`` from the configuration directory around a zone file, when the file
    lies in ``zones/``; whether a firewalld.conf or another zone was found. Files the read policy
    refuses are left out."""
    own_dir = os.path.dirname(os.path.abspath(path))
    if os.path.basename(own_dir) != folder:
        return False
    found_any = False
    top = os.path.dirname(own_dir)
    zones_dir = os.path.join(top, "zones")
    policy = options.read_policy or ReadPolicy.for_file(path)
    conf = os.path.join(top, "firewalld.conf")
    if policy.refusal(conf) is None and os.path.isfile(conf):
        found = read_source(conf)
        if isinstance(found, SourceFile):
            read_conf(Reader(conf), found.text, config)
            found_any = True
    for directory, kind in ((os.path.join(top, "services"), "service"), (zones_dir, "zone"),
                            (os.path.join(top, "policies"), "policy"), (os.path.join(top, "ipsets"), "ipset")):
        for name in _xml_files(directory, policy):
            full = os.path.join(directory, name)
            if os.path.abspath(full) == os.path.abspath(path):
                continue
            found = read_source(full)
            if not isinstance(found, SourceFile):
                continue
            sibling = Reader(full)  # its own problems are reported when it is linted itself
            root = _root(sibling, found.text)
            if root is None or root.tag != kind:
                continue
            if kind == "service":
                service = read_service(sibling, root, PurePath(name).stem)
                config.services[service.name] = service
            elif kind == "ipset":
                entries = read_ipset(sibling, root)
                if entries is not None:
                    config.ipsets[PurePath(name).stem] = entries
            elif kind == "policy":
                found_policy = read_policy(sibling, root, PurePath(name).stem)
                config.policies.setdefault(found_policy.name, found_policy)
            else:
                zone = sibling.zone(root, PurePath(name).stem)
                if zone.name != own:
                    config.zones.setdefault(zone.name, zone)
                    found_any = True
    return found_any


def _xml_files(directory: str, policy: ReadPolicy) -> list[str]:
    if not os.path.isdir(directory) or not policy.may_contain(directory):
        return []
    try:
        names = sorted(os.listdir(directory))[:1000]
    except OSError:
        return []
    return [name for name in names if name.endswith(".xml") and policy.refusal(os.path.join(directory, name)) is None
            and os.path.isfile(os.path.join(directory, name))]


def read_configuration(directory: str, policy: ReadPolicy | None = None) -> ParseResult:
    """A whole configuration directory (zones/, services/, firewalld.conf) as one Ruleset in which
    every zone's rules are built: what firewalld loads from it (tests compare it with the nft ruleset
    firewalld writes). Linting goes file by file instead, each zone file's findings its own."""
    policy = policy or ReadPolicy.for_paths([directory])
    config = Config()
    diagnostics = []
    conf = os.path.join(directory, "firewalld.conf")
    if policy.refusal(conf) is None and os.path.isfile(conf):
        found = read_source(conf)
        if isinstance(found, SourceFile):
            reader = Reader(conf)
            read_conf(reader, found.text, config)
            diagnostics += reader.diagnostics
    for sub, kind in (("services", "service"), ("zones", "zone"), ("policies", "policy"), ("ipsets", "ipset")):
        folder = os.path.join(directory, sub)
        for name in _xml_files(folder, policy):
            full = os.path.join(folder, name)
            found = read_source(full)
            if not isinstance(found, SourceFile):
                continue
            reader = Reader(full)
            root = _root(reader, found.text)
            if root is not None and root.tag == kind == "service":
                service = read_service(reader, root, PurePath(name).stem)
                config.services[service.name] = service
            elif root is not None and root.tag == kind == "zone":
                zone = reader.zone(root, PurePath(name).stem)
                config.zones[zone.name] = zone
            elif root is not None and root.tag == kind == "ipset":
                entries = read_ipset(reader, root)
                if entries is not None:
                    config.ipsets[PurePath(name).stem] = entries
            elif root is not None and root.tag == kind == "policy":
                policy = read_policy(reader, root, PurePath(name).stem)
                config.policies[policy.name] = policy
            diagnostics += reader.diagnostics
    builder = Builder(config, directory, Span(conf, 1, 1))
    ruleset = builder.build()
    return ParseResult(ruleset, diagnostics + builder.diagnostics)
