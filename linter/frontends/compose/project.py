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
variable a port needs is not set), PL042 (alias bombs, nesting too deep, interpolation
past its limits, extends chains deeper than MAX_EXTENDS_DEPTH) and PL043 (an unquoted
``22:22`` that YAML 1.1 tools read as a base-60 number); PL001 for a file outside the
directories being linted, which is never read.

Interpolated values may be secrets (CI passes them as environment variables, and
reports are public): a setting that got a variable's value keeps its text as written
(``Setting.written``, ``Publication.host_ip_text``, ``Service.image_text``...), and
messages quote that, never the value. A problem in an env file names its line and
variable only, and its findings carry no source line (``Diagnostic.quote_source``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import NamedTuple

from linter.diagnostics import Diagnostic, caret_excerpt
from linter.frontends import FrontEndOptions, ParseResult
from linter.frontends.compose.env import (
    Budget, Expansion, InvalidTemplate, Interpolator, TooLarge, parse_env_file, variables,
)
from linter.readpolicy import ReadPolicy
from linter.frontends.compose.host_scope import host_address
from linter.frontends.compose.ports import PortSpec, PortSpecError, parse_expose, parse_long, parse_short
from linter.frontends.compose.yaml_reader import YNode, load
from linter.model import ComposeProject, Publication, Service, Span
from linter.numbers import shown
from linter.source import SourceFile, read_source

TOP_LEVEL_KEYS = frozenset({"version", "name", "include", "services", "networks", "volumes", "secrets",
                            "configs", "models"})
RESET, OVERRIDE = "!reset", "!override"
MAX_EXTENDS_DEPTH = 32  # services an extends chain may pass through; real ones have two or three


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
    services = tuple(_service(d) for d in merged.values())
    project = ComposeProject(path=source.path, services=services, files=tuple(reader.files_read))
    return ParseResult(project, reader.diagnostics)


def _service(draft: "_Draft") -> Service:
    profiles = draft.profiles or ()
    return Service(
        name=draft.name, publications=tuple((draft.ports or []) + (draft.expose or [])), span=draft.span,
        network_mode=draft.network_mode.value if draft.network_mode else None,
        profiles=tuple(p.value for p in profiles),
        image=draft.image.value if draft.image else None,
        network_mode_text=draft.network_mode.written if draft.network_mode else None,
        image_text=draft.image.written if draft.image else None,
        profiles_text=tuple(p.shown for p in profiles) if any(p.written is not None for p in profiles) else None,
        network_mode_span=draft.network_mode_span,
    )


# --- one file ---------------------------------------------------------------------------------


class Setting(NamedTuple):
    """A scalar setting, interpolated: its value, and its text as written when a variable's
    value went into it (None: the value is the text as written)."""

    value: str
    written: str | None = None

    @property
    def shown(self) -> str:
        """What a message may quote: the text as written, or the value when it holds no variable's."""
        return self.written if self.written is not None else self.value


@dataclass
class _Draft:
    """A service as one file (or one extends chain) defines it, before files are merged."""

    name: str
    span: Span
    ports: list[Publication] | None = None  # None: the file does not set ports
    ports_tag: str = ""
    expose: list[Publication] | None = None
    expose_tag: str = ""
    network_mode: Setting | None = None
    network_mode_span: Span | None = None
    profiles: tuple[Setting, ...] | None = None
    image: Setting | None = None
    extends: tuple[Setting, Setting | None, Span] | None = None  # (service, file or None, where)


class _Reader:
    """Reads compose files of one project, caching each file and its resolved services."""

    def __init__(self, main_path: str, options: FrontEndOptions):
        self.options = options
        self.diagnostics: list[Diagnostic] = []
        self.sources: dict[str, SourceFile] = {}
        self.files_read: list[str] = []
        # Which other files this project may make portlint read (extends, .env): the run's policy,
        # else the directories of the compose files themselves.
        self.policy = options.read_policy or ReadPolicy.for_paths(
            [p for p in (main_path, *options.compose_overrides) if p != "-"] or ["-"])
        self._raw: dict[str, dict[str, _Draft] | None] = {}
        self._resolved: dict[tuple[str, str], _Draft] = {}
        self._resolved_files: dict[str, dict[str, _Draft] | None] = {}
        self._missing: set[tuple[str, str]] = set()
        self._too_deep: set[str] = set()  # files whose too-deep extends chain was reported
        self.interpolator = Interpolator(self._variables(main_path))

    # variables ---------------------------------------------------------------------------

    def _variables(self, main_path: str) -> dict[str, str]:
        env_values: dict[str, str] = {}
        if self.options.env_files:
            files, required = list(self.options.env_files), True  # named by the user: read as asked
        else:
            folder = os.path.dirname(main_path) if main_path != "-" else "."
            files, required = [os.path.join(folder, ".env")], False
        environ = os.environ if self.options.environ is None else self.options.environ
        for path in files:
            if not os.path.lexists(path):
                if required:
                    self._env_diag(Diagnostic("PL001", "Cannot read env file: no such file", Span(path, 1, 1)))
                continue
            why = None if required else self.policy.refusal(path)
            if why is not None:
                self._env_diag(self.policy.diagnostic(os.path.basename(path), why, Span(path, 1, 1)))
                continue
            if not os.path.isfile(path):
                continue
            source = read_source(path)
            if isinstance(source, Diagnostic):
                self._env_diag(source)
                continue
            for problem in source.diagnostics:
                self._env_diag(problem)
            values, problems = parse_env_file(source.text, {**env_values, **environ})
            for problem in problems:
                self._env_diag(Diagnostic(problem.code, problem.message, Span(path, problem.line, problem.column)))
            env_values.update(values)
        return variables(env_values, environ)

    def _env_diag(self, diag: Diagnostic) -> None:
        """A finding about an env file: its lines hold secrets, so reporters show none of them."""
        self.diagnostics.append(replace(diag, quote_source=False, excerpt=None))

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
        resolved = {name: self._resolve(path, name) for name in drafts}
        self._resolved_files[path] = resolved
        return resolved

    def _resolve(self, path: str, name: str) -> _Draft:
        """A service with what its ``extends`` chain adds, followed without recursion: the chain is
        listed first (ending at a service that extends nothing, one already resolved, a problem, a
        loop or MAX_EXTENDS_DEPTH services), then merged from its far end back."""
        key = (path, name)
        chain = [key]
        on_chain = {key}
        while chain[-1] not in self._resolved:
            here = chain[-1]
            draft = self._raw[here[0]][here[1]]
            if draft.extends is None:
                break
            base = self._base(here[0], draft)
            if base is None:
                break
            if base in on_chain:
                loop = chain[chain.index(base):]
                names = " -> ".join(n for _, n in loop) + f" -> {base[1]}"
                self._diag("PL010", f"extends loops: {names}", draft.extends[2])
                break
            if len(chain) > MAX_EXTENDS_DEPTH:
                if here[0] not in self._too_deep:  # once per file: a 5,000-service chain is one problem
                    self._too_deep.add(here[0])
                    self._diag("PL042", f"extends chain of service {name!r} is more than {MAX_EXTENDS_DEPTH} "
                                        f"services long; it is cut there (services further down are not "
                                        f"merged in)", draft.extends[2])
                break
            chain.append(base)
            on_chain.add(base)
        last = chain[-1]
        result = self._resolved.get(last) or replace(self._raw[last[0]][last[1]], extends=None)
        self._resolved[last] = result
        for here in reversed(chain[:-1]):
            own = replace(self._raw[here[0]][here[1]], extends=None)
            result = _merge(replace(result, name=own.name, span=own.span), own)
            self._resolved[here] = result
        return self._resolved[key]

    def _base(self, path: str, draft: _Draft) -> tuple[str, str] | None:
        """(file, service) that ``draft`` extends, or None after saying why it cannot be read."""
        base_name, base_file, where = draft.extends
        base_path = path
        if base_file is not None and base_file.value:
            written = base_file.shown
            base_path = base_file.value if os.path.isabs(base_file.value) else os.path.normpath(
                os.path.join(os.path.dirname(path), base_file.value))
            why = self.policy.refusal(base_path)
            if why is not None:
                if (path, base_path) not in self._missing:
                    self._missing.add((path, base_path))
                    self.diagnostics.append(self.policy.diagnostic(f"extends: file {written!r}", why, where))
                return None
            if not os.path.isfile(base_path):
                if (path, base_path) not in self._missing:  # once per file and missing target, not per service
                    self._missing.add((path, base_path))
                    self._diag("PL010", f"extends: {written!r} not found; services extending it are read "
                                        f"without what it defines", where)
                return None
        base_drafts = self.raw_file(base_path)
        if base_drafts is None:
            return None
        if base_name.value not in base_drafts:
            where_text = f" in {base_file.shown}" if base_file is not None and base_file.value else ""
            self._diag("PL010", f"extends: no service {base_name.shown!r}{where_text}", where)
            return None
        return base_path, base_name.value

    def _diag(self, code: str, message: str, span: Span, hint: str | None = None, excerpt: str | None = None):
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint, excerpt=excerpt))


def _span(path: str, node: YNode) -> Span:
    return Span(path, node.line, node.column, node.end_line, node.end_column)


class _FileReader:
    """Turns one file's YNode tree into service drafts."""

    def __init__(self, reader: _Reader, path: str):
        self.reader = reader
        self.path = path
        self.interpolator = reader.interpolator.with_budget(Budget())  # each file its own budget
        self._over_budget = False  # the file's interpolation budget ran out (said once)
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
        draft.network_mode = self.setting(node.get("network_mode"))
        if draft.network_mode is not None:
            draft.network_mode_span = _span(self.path, node.get("network_mode"))
        draft.image = self.setting(node.get("image"))
        profiles = node.get("profiles")
        if profiles is not None and profiles.kind == "seq":
            draft.profiles = tuple(t for t in (self.setting(p) for p in profiles.value) if t and t.value)
        extends = node.get("extends")
        if extends is not None:
            draft.extends = self.extends(extends)
        return draft

    def interpolate(self, text: str, node: YNode, what: str) -> Expansion | None:
        """``text`` interpolated; None after a PL042 when it passes the limits (``what`` names
        the setting, as written). Raises InvalidTemplate for the caller to word."""
        try:
            return self.interpolator.expand(text)
        except TooLarge as exc:
            if not exc.file_budget:
                self.diag("PL042", f"{what} is not read: {exc}", node,
                          hint="Compose values are short; look for variables defined from each other "
                               "(A=xx, B=${A}${A}, ...)")
            elif not self._over_budget:
                self._over_budget = True
                self.diag("PL042", f"{what} is not read: {exc}; this and every later value of the file "
                                   f"that uses variables are left out",
                          node, hint="Compose values are short; look for variables defined from each other "
                                     "(A=xx, B=${A}${A}, ...)")
            return None

    def setting(self, node: YNode | None) -> Setting | None:
        """A scalar setting, interpolated (unset variables become '', as in Compose)."""
        if node is None or node.kind != "scalar" or node.value is None:
            return None
        if not isinstance(node.value, str):
            return Setting(str(node.value))
        try:
            result = self.interpolate(node.value, node, f"The value {node.value!r}")
        except InvalidTemplate:
            return Setting(node.value)
        if result is None:
            return None
        return Setting(result.text, node.value if result.substituted else None)

    def extends(self, node: YNode) -> tuple[Setting, Setting | None, Span] | None:
        where = _span(self.path, node)
        if node.kind == "scalar" and isinstance(node.value, str):
            service = self.setting(node)
            if service is not None and service.value:
                return service, None, where
        if node.kind == "map" and node.get("service") is not None:
            service = self.setting(node.get("service"))
            file = self.setting(node.get("file"))
            if service is not None and service.value:
                return service, file if file is not None and file.value else None, where
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

    def expand(self, text: str, node: YNode, service: str) -> Expansion | None:
        """Interpolate a port value; None (after a finding) when Compose could not use it.
        Messages quote ``text``, the template as written: never what a variable holds."""
        try:
            result = self.interpolate(text, node, f"Port entry {text!r} of service {service!r}")
        except InvalidTemplate as exc:
            self.diag("PL040", f"Invalid port entry {text!r} of service {service!r}: invalid interpolation, {exc}",
                      node)
            return None
        if result is None:
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
        return result

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
            expanded = self._entry_text(value, node, service)
            if expanded is None:
                return None
            text, written = expanded
            try:
                spec = parse_short(text)
            except PortSpecError as exc:
                if not self._unset_seen:
                    self.diag("PL040", f"Invalid port entry {_quoted(shown(text), written)} of service {service!r}: "
                                       f"{_reason(exc, written)}", node)
                return None
            host_ip_text = _host_template(written, spec.host_ip) if written is not None else None
            return self.publication(spec, node, node.raw or text, host_ip_text=host_ip_text)
        if node.kind == "map":
            fields = {}
            written_fields = {}
            for key, value in node.value.items():
                if value.kind != "scalar":
                    self.diag("PL040", f"Invalid port mapping of service {service!r}: {key} must be a single "
                                       f"value, not a {_kind(value)}", node)
                    return None
                raw = value.value
                if isinstance(raw, str):
                    result = self.expand(raw, node, service)
                    if result is None:
                        return None
                    if result.substituted:
                        written_fields[key] = raw
                    raw = result.text
                fields[key] = raw
            try:
                spec = parse_long(fields)
            except PortSpecError as exc:
                if not self._unset_seen:
                    self.diag("PL040", f"Invalid port mapping of service {service!r}: "
                                       f"{_reason(exc, 'interpolated' if written_fields else None)}", node)
                return None
            text = ", ".join(f"{k}: {v.raw if v.kind == 'scalar' else '...'}" for k, v in node.value.items())
            host_ip_text = written_fields.get("host_ip")
            if host_ip_text is not None and spec.host_ip is None:
                host_ip_text = None  # the variable was empty: all interfaces
            return self.publication(spec, node, text, host_ip_text=host_ip_text)
        self.diag("PL040", f"Invalid port entry of service {service!r}: a {_kind(node)} is not a port", node)
        return None

    def _entry_text(self, value, node: YNode, service: str) -> tuple[str, str | None] | None:
        """(the entry's text after interpolation, its text as written when a variable's value went
        into it); None when interpolation failed (already reported)."""
        if isinstance(value, int):
            return str(value), None
        result = self.expand(value, node, service)
        if result is None:
            return None
        return result.text, (value if result.substituted else None)

    def expose_entry(self, node: YNode, service: str) -> Publication | None:
        self._unset_seen = False
        value = node.value if node.kind == "scalar" else None
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.diag("PL040", f"Invalid expose entry of service {service!r}: a port number or range is expected",
                      node)
            return None
        expanded = self._entry_text(value, node, service)
        if expanded is None:
            return None
        text, written = expanded
        try:
            spec = parse_expose(text)
        except PortSpecError as exc:
            if not self._unset_seen:
                self.diag("PL040", f"Invalid expose entry {_quoted(text, written)} of service {service!r}: "
                                   f"{_reason(exc, written)}", node)
            return None
        return self.publication(spec, node, node.raw or text, exposed_only=True)

    def publication(self, spec: PortSpec, node: YNode, text: str, exposed_only: bool = False,
                    host_ip_text: str | None = None) -> Publication:
        return Publication(target=spec.target, published=spec.published, host_ip=spec.host_ip,
                           protocol=spec.protocol, span=_span(self.path, node), mode=spec.mode,
                           exposed_only=exposed_only, text=text, name=spec.name, app_protocol=spec.app_protocol,
                           host_ip_text=host_ip_text, host=host_address(spec.host_ip))


def _quoted(text: str, written: str | None) -> str:
    """An entry for a message: as written when a variable's value is in it, else as read."""
    return repr(written if written is not None else text)


def _reason(exc: PortSpecError, written: str | None) -> str:
    """Why an entry is refused; without quoting any of it when a variable's value is in it."""
    if written is None:
        return str(exc)
    return f"after interpolation, {exc.safe}"


def _host_template(written: str, host_ip: str | None) -> str | None:
    """The host IP part of a short-syntax entry as written ("${IP}" of "${IP}:80:80"), or the
    whole entry when the variables make the parts impossible to tell apart."""
    if host_ip is None:
        return None
    parts = _top_level_split(written.rpartition("/")[0] if "/" in written.rpartition("}")[2] else written)
    if len(parts) >= 3:
        host = ":".join(parts[:-2])
        return host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return written


def _top_level_split(text: str) -> list[str]:
    """``text`` split at ':' outside ${...}."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{" and (depth or (index and text[index - 1] == "$")):
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        elif char == ":" and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


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
        merged: dict[str, Setting] = {}
        for profile in (base.profiles or ()) + over.profiles:
            merged.setdefault(profile.value, profile)  # each profile once, first come first
        profiles = tuple(merged.values())
    return _Draft(
        name=base.name, span=base.span,
        ports=_merge_list(base.ports, over.ports, over.ports_tag, port_key),
        expose=_merge_list(base.expose, over.expose, over.expose_tag, lambda p: (p.target, p.protocol)),
        network_mode=over.network_mode if over.network_mode is not None else base.network_mode,
        network_mode_span=over.network_mode_span if over.network_mode is not None else base.network_mode_span,
        profiles=profiles,
        image=over.image if over.image is not None else base.image,
        extends=None,
    )
