"""The compose front end: compose.yaml / docker-compose.yml (and their override files)
into a model.ComposeProject.

What it reads, per service: ``ports`` (short and long syntax), ``expose``,
``network_mode``, ``profiles``, ``image`` and ``extends`` (same file or ``file:``).
Several files merge in order as ``docker compose -f a -f b`` does: ports and expose
lists are appended (an entry with the same host IP, host port, container port and
protocol is merged, not repeated), ``!reset`` empties a list and ``!override``
replaces it, scalars are replaced. Each file is interpolated (``$VAR``,
``${VAR:-default}``...) and its ``extends`` resolved before it is merged, as Compose
does.

Every problem is a Diagnostic at the line and column of the entry that caused it:
PL010 (YAML or structure), PL040 (a port entry Compose would refuse), PL041 (a
variable a port needs is not set), PL042 (alias bombs, nesting too deep) and PL043
(an unquoted ``22:22`` that YAML 1.1 tools read as a base-60 number).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from linter.diagnostics import Diagnostic, caret_excerpt
from linter.frontends import FrontEndOptions, ParseResult
from linter.frontends.compose_env import InvalidTemplate, Interpolator, parse_env_file, variables
from linter.frontends.compose_ports import PortSpec, PortSpecError, parse_expose, parse_long, parse_short
from linter.frontends.compose_yaml import YNode, load
from linter.model import ComposeProject, Publication, Service, Span
from linter.numbers import shown
from linter.source import SourceFile, read_source

TOP_LEVEL_KEYS = frozenset({"version", "name", "include", "services", "networks", "volumes", "secrets",
                            "configs", "models"})
RESET, OVERRIDE = "!reset", "!override"


def parse(source: SourceFile, options: FrontEndOptions | None = None) -> ParseResult:
    """Read ``source`` (and ``options.compose_overrides`` after it) as one compose project."""
    options = options or FrontEndOptions()
    reader = _Reader(source.path, options)
    reader.sources[source.path] = source
    paths = [source.path, *options.compose_overrides]
    merged: dict[str, _Draft] = {}
    any_read = False
    for path in paths:
        drafts = reader.resolved_file(path)
        if drafts is None:
            continue
        any_read = True
        for name, draft in drafts.items():
            merged[name] = _merge(merged[name], draft) if name in merged else draft
    if not any_read:
        return ParseResult(None, reader.diagnostics)
    services = tuple(
        Service(name=d.name, publications=tuple((d.ports or []) + (d.expose or [])), span=d.span,
                network_mode=d.network_mode, profiles=tuple(d.profiles or ()), image=d.image)
        for d in merged.values()
    )
    project = ComposeProject(path=source.path, services=services, files=tuple(reader.files_read))
    return ParseResult(project, reader.diagnostics)


# --- one file ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A service as one file (or one extends chain) defines it, before files are merged."""

    name: str
    span: Span
    ports: list[Publication] | None = None  # None: the file does not set ports
    ports_tag: str = ""
    expose: list[Publication] | None = None
    expose_tag: str = ""
    network_mode: str | None = None
    profiles: tuple[str, ...] | None = None
    image: str | None = None
    extends: tuple[str, str | None, Span] | None = None  # (service, file or None, where)


class _Reader:
    """Reads compose files of one project, caching each file and its resolved services."""

    def __init__(self, main_path: str, options: FrontEndOptions):
        self.options = options
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, SourceFile] = {}
        self.files_read: list[str] = []
        self._raw: dict[str, dict[str, _Draft] | None] = {}
        self._resolved: dict[tuple[str, str], _Draft] = {}
        self._resolved_files: dict[str, dict[str, _Draft] | None] = {}
        self._missing: set[tuple[str, str]] = set()
        self.interpolator = Interpolator(self._variables(main_path))

    # variables ---------------------------------------------------------------------------

    def _variables(self, main_path: str) -> dict[str, str]:
        env_values: dict[str, str] = {}
        if self.options.env_files:
            files, required = list(self.options.env_files), True
        else:
            folder = os.path.dirname(main_path) if main_path != "-" else "."
            files, required = [os.path.join(folder, ".env")], False
        environ = os.environ if self.options.environ is None else self.options.environ
        for path in files:
            if not os.path.isfile(path):
                if required:
                    self.diagnostics.append(Diagnostic("PL001", "Cannot read env file: no such file",
                                                       Span(path, 1, 1)))
                continue
            source = read_source(path)
            if isinstance(source, Diagnostic):
                self.diagnostics.append(source)
                continue
            values, problems = parse_env_file(source.text, {**env_values, **environ})
            for problem in problems:
                self.diagnostics.append(Diagnostic("PL010", problem.message, Span(path, problem.line, 1)))
            env_values.update(values)
        return variables(env_values, environ)

    # files ---------------------------------------------------------------------------------

    def _source(self, path: str) -> SourceFile | None:
        if path in self.sources:
            return self.sources[path]
        source = read_source(path)
        if isinstance(source, Diagnostic):
            self.diagnostics.append(source)
            return None
        self.diagnostics.extend(source.diagnostics)
        self.sources[path] = source
        return source

    def raw_file(self, path: str) -> dict[str, _Draft] | None:
        """The services of ``path`` as written there (interpolated, extends not yet applied)."""
        if path in self._raw:
            return self._raw[path]
        self._raw[path] = None
        source = self._source(path)
        if source is None:
            return None
        self.files_read.append(path)
        root, problems = load(source.text)
        for problem in problems:
            self._diag(problem.code, problem.message, Span(path, problem.line, problem.column),
                       excerpt=caret_excerpt(source.line(problem.line), problem.column)
                       if problem.code == "PL010" and problem.line <= len(source.lines) else None)
        if root is None:
            if not problems:
                self._diag("PL010", "Empty compose file: Compose needs a services mapping", Span(path, 1, 1))
            return None
        drafts = _FileReader(self, path).services(root)
        self._raw[path] = drafts
        return drafts

    def resolved_file(self, path: str) -> dict[str, _Draft] | None:
        """The services of ``path`` with their ``extends`` applied."""
        if path in self._resolved_files:
            return self._resolved_files[path]
        drafts = self.raw_file(path)
        if drafts is None:
            self._resolved_files[path] = None
            return None
        resolved = {name: self._resolve(path, name, ()) for name in drafts}
        self._resolved_files[path] = resolved
        return resolved

    def _resolve(self, path: str, name: str, stack: tuple[tuple[str, str], ...]) -> _Draft:
        key = (path, name)
        if key in self._resolved:
            return self._resolved[key]
        draft = self._raw[path][name]
        if draft.extends is None:
            self._resolved[key] = draft
            return draft
        base_name, base_file, where = draft.extends
        own = replace(draft, extends=None)
        if key in stack:
            chain = " -> ".join(n for _, n in stack[stack.index(key):]) + f" -> {name}"
            self._diag("PL010", f"extends loops: {chain}", where)
            return own
        base_path = path
        if base_file:
            base_path = base_file if os.path.isabs(base_file) else os.path.normpath(
                os.path.join(os.path.dirname(path), base_file))
        if not os.path.isfile(base_path):
            if (path, base_path) not in self._missing:  # once per file and missing target, not per service
                self._missing.add((path, base_path))
                self._diag("PL010", f"extends: {base_file!r} not found; services extending it are read "
                                    f"without what it defines", where)
            base_drafts = None
        else:
            base_drafts = self.raw_file(base_path)
        if base_drafts is None:
            result = own
        elif base_name not in base_drafts:
            where_text = f" in {base_file}" if base_file else ""
            self._diag("PL010", f"extends: no service {base_name!r}{where_text}", where)
            result = own
        else:
            base = self._resolve(base_path, base_name, stack + (key,))
            result = _merge(replace(base, name=name, span=draft.span), own)
        self._resolved[key] = result
        return result

    def _diag(self, code: str, message: str, span: Span, hint: str | None = None, excerpt: str | None = None):
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, excerpt=excerpt))


def _span(path: str, node: YNode) -> Span:
    return Span(path, node.line, node.column, node.end_line, node.end_column)


class _FileReader:
    """Turns one file's YNode tree into service drafts."""

    def __init__(self, reader: _Reader, path: str):
        self.reader = reader
        self.path = path
        self._unset_seen = False  # the entry being read used an unset variable (PL041 already says so)

    def diag(self, code: str, message: str, node: YNode, hint: str | None = None) -> None:
        self.reader._diag(code, message, _span(self.path, node), hint=hint)

    def services(self, root: YNode) -> dict[str, _Draft]:
        if root.kind != "map":
            self.diag("PL010", "The top level of a compose file must be a mapping (services:, networks:...)", root)
            return {}
        unknown = [key for key in root.value if key not in TOP_LEVEL_KEYS and not key.startswith("x-")]
        for key in unknown:
            self.diag("PL010", f"Unknown top-level key {key!r}; Compose refuses the file", root.keys[key],
                      hint="Services go under `services:` (docker compose no longer reads version 1 files, "
                           "which listed them at the top level); extension fields start with x-")
        services = root.get("services")
        if services is None or services.is_null:
            return {}
        if services.kind != "map":
            self.diag("PL010", "services must be a mapping of service names to definitions", services)
            return {}
        drafts: dict[str, _Draft] = {}
        for name, node in services.value.items():
            draft = self.service(name, node, services.keys[name])
            if draft is not None:
                drafts[name] = draft
        return drafts

    def service(self, name: str, node: YNode, key_node: YNode) -> _Draft | None:
        draft = _Draft(name=name, span=_span(self.path, key_node))
        if node.is_null:
            return draft
        if node.kind != "map":
            self.diag("PL010", f"Service {name!r} must be a mapping, not a {_kind(node)}", node)
            return None
        ports = node.get("ports")
        if ports is not None:
            draft.ports, draft.ports_tag = self.entries(ports, name, self.port_entry, "ports")
        expose = node.get("expose")
        if expose is not None:
            draft.expose, draft.expose_tag = self.entries(expose, name, self.expose_entry, "expose")
        draft.network_mode = self.text_value(node.get("network_mode"))
        draft.image = self.text_value(node.get("image"))
        profiles = node.get("profiles")
        if profiles is not None and profiles.kind == "seq":
            draft.profiles = tuple(t for t in (self.text_value(p) for p in profiles.value) if t)
        extends = node.get("extends")
        if extends is not None:
            draft.extends = self.extends(extends)
        return draft

    def text_value(self, node: YNode | None) -> str | None:
        """A scalar setting, interpolated (unset variables become '', as in Compose)."""
        if node is None or node.kind != "scalar" or node.value is None:
            return None
        if not isinstance(node.value, str):
            return str(node.value)
        try:
            return self.reader.interpolator.expand(node.value).text
        except InvalidTemplate:
            return node.value

    def extends(self, node: YNode) -> tuple[str, str | None, Span] | None:
        where = _span(self.path, node)
        if node.kind == "scalar" and isinstance(node.value, str):
            return self.text_value(node), None, where
        if node.kind == "map" and node.get("service") is not None:
            service = self.text_value(node.get("service"))
            file = self.text_value(node.get("file"))
            if service:
                return service, file or None, where
        self.diag("PL010", "extends needs a service name (extends: {service: NAME, file: FILE})", node)
        return None

    def entries(self, node: YNode, service: str, read, key: str) -> tuple[list[Publication], str]:
        tag = node.tag if node.tag in (RESET, OVERRIDE) else ""
        if node.is_null:
            return [], tag
        if node.kind != "seq":
            self.diag("PL040", f"{key} of service {service!r} must be a list, not a {_kind(node)}", node)
            return [], tag
        found = []
        for entry in node.value:
            publication = read(entry, service)
            if publication is not None:
                found.append(publication)
        return found, tag

    # one entry -------------------------------------------------------------------------------

    def expand(self, text: str, node: YNode, service: str) -> str | None:
        """Interpolate a port value; None (after a finding) when Compose could not use it."""
        try:
            result = self.reader.interpolator.expand(text)
        except InvalidTemplate as exc:
            self.diag("PL040", f"Invalid port entry {text!r} of service {service!r}: invalid interpolation, {exc}",
                      node)
            return None
        for name, message in result.required:
            detail = f": {message}" if message else ""
            self.diag("PL041", f"Port entry {text!r} of service {service!r} needs variable {name}, "
                               f"which is not set{detail}", node,
                      hint=f"Set {name} in the environment, in .env, or in a file given with --env-file")
        if result.required:
            return None
        for name in dict.fromkeys(result.unset):
            self.diag("PL041", f"Port entry {text!r} of service {service!r} uses variable {name}, "
                               f"which is not set and has no default: Compose reads it as an empty string",
                      node, hint=f"Set {name} (environment, .env or --env-file) or give a default: ${{{name}:-...}}")
        self._unset_seen = self._unset_seen or bool(result.unset)
        return result.text

    def port_entry(self, node: YNode, service: str) -> Publication | None:
        self._unset_seen = False
        if node.kind == "scalar":
            value = node.value
            if node.base60:
                self.diag("PL043", f"Unquoted port mapping {node.raw} is read as a string by Compose (YAML 1.2) but "
                                   f"as the base-60 number {_base60(node.raw)} by YAML 1.1 tools",
                          node, hint=f'Quote it: "{node.raw}"')
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                self.diag("PL040", f"Invalid port entry {node.raw!r} of service {service!r}: a port entry is a "
                                   f"string, a number or a mapping", node)
                return None
            text = str(value) if isinstance(value, int) else self.expand(value, node, service)
            if text is None:
                return None
            try:
                spec = parse_short(text)
            except PortSpecError as exc:
                if not self._unset_seen:
                    self.diag("PL040", f"Invalid port entry {shown(text)!r} of service {service!r}: {exc}", node)
                return None
            return self.publication(spec, node, node.raw or text)
        if node.kind == "map":
            fields = {}
            for key, value in node.value.items():
                if value.kind != "scalar":
                    self.diag("PL040", f"Invalid port mapping of service {service!r}: {key} must be a single "
                                       f"value, not a {_kind(value)}", node)
                    return None
                raw = value.value
                if isinstance(raw, str):
                    raw = self.expand(raw, node, service)
                    if raw is None:
                        return None
                fields[key] = raw
            try:
                spec = parse_long(fields)
            except PortSpecError as exc:
                if not self._unset_seen:
                    self.diag("PL040", f"Invalid port mapping of service {service!r}: {exc}", node)
                return None
            text = ", ".join(f"{k}: {v.raw if v.kind == 'scalar' else '...'}" for k, v in node.value.items())
            return self.publication(spec, node, text)
        self.diag("PL040", f"Invalid port entry of service {service!r}: a {_kind(node)} is not a port", node)
        return None

    def expose_entry(self, node: YNode, service: str) -> Publication | None:
        self._unset_seen = False
        value = node.value if node.kind == "scalar" else None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.diag("PL040", f"Invalid expose entry of service {service!r}: a port number or range is expected",
                      node)
            return None
        text = str(value) if isinstance(value, int) else self.expand(value, node, service)
        if text is None:
            return None
        try:
            spec = parse_expose(text)
        except PortSpecError as exc:
            if not self._unset_seen:
                self.diag("PL040", f"Invalid expose entry {text!r} of service {service!r}: {exc}", node)
            return None
        return self.publication(spec, node, node.raw or text, exposed_only=True)

    def publication(self, spec: PortSpec, node: YNode, text: str, exposed_only: bool = False) -> Publication:
        return Publication(target=spec.target, published=spec.published, host_ip=spec.host_ip,
                           protocol=spec.protocol, span=_span(self.path, node), mode=spec.mode,
                           exposed_only=exposed_only, text=text, name=spec.name, app_protocol=spec.app_protocol)


def _kind(node: YNode) -> str:
    if node.kind == "scalar":
        return "null value" if node.value is None else type(node.value).__name__.replace("str", "string")
    return {"map": "mapping", "seq": "list"}[node.kind]


def _base60(text: str) -> str:
    """What YAML 1.1 makes of a base-60 scalar ("22:22" is 1342), as text."""
    try:
        value = 0.0
        for part in text.replace("_", "").split(":"):
            value = value * 60 + float(part)
        return str(int(value)) if value.is_integer() else str(value)
    except (ValueError, OverflowError):
        return "a base-60 number"


# --- merging ------------------------------------------------------------------------------------


def port_key(pub: Publication) -> tuple:
    """Compose's unique key for a ports entry: {ip, target, published, protocol}."""
    return (pub.host_ip, pub.target, pub.published, pub.protocol)


def _merge_list(base: list[Publication] | None, over: list[Publication] | None, tag: str, key) -> list | None:
    if over is None:
        return base
    if tag == RESET:
        return []
    if tag == OVERRIDE or base is None:
        return list(over)
    result = list(base)
    index = {key(p): i for i, p in enumerate(result)}
    for pub in over:
        k = key(pub)
        if k in index:
            result[index[k]] = pub  # same unique key: the later definition wins
        else:
            index[k] = len(result)
            result.append(pub)
    return result


def _merge(base: _Draft, over: _Draft) -> _Draft:
    """``over`` merged onto ``base`` as Compose merges a later file (or an extending service)."""
    profiles = base.profiles
    if over.profiles is not None:
        profiles = tuple(dict.fromkeys((base.profiles or ()) + over.profiles))
    return _Draft(
        name=base.name, span=base.span,
        ports=_merge_list(base.ports, over.ports, over.ports_tag, port_key),
        expose=_merge_list(base.expose, over.expose, over.expose_tag, lambda p: (p.target, p.protocol)),
        network_mode=over.network_mode if over.network_mode is not None else base.network_mode,
        profiles=profiles,
        image=over.image if over.image is not None else base.image,
        extends=None,
    )
