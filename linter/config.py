"""Configuration: ``[tool.portlint]`` in pyproject.toml or the top-level table of .portlint.toml.

Found from the current directory upward: in each directory .portlint.toml first, then a
pyproject.toml that has a ``[tool.portlint]`` table; the search stops at the filesystem
root or after a directory that contains ``.git``. ``--config FILE`` names the file,
``--isolated`` ignores all configuration.

Every key is checked: an unknown key or a bad value is a ConfigError whose message names
the file and the key. Glob patterns (per-file-ignores, input-format) are matched against
paths relative to the configuration file's directory; a pattern without a slash also
matches the file name alone.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from linter.frontends.registry import input_formats
from linter.findings import Severity, relative_path
from linter.numbers import bounded_int

KEYS = ("select", "ignore", "extend-select", "per-file-ignores", "fail-on", "severity", "ephemeral-ranges",
        "trusted-networks", "interfaces", "host-addresses", "assume", "registry", "input-format", "rules", "allow-read")
# Bounds of numeric rule options (inclusive); an option not named here is a count or a
# threshold and must be at least 1.
OPTION_BOUNDS = {("PL302", "min_ports"): (1, 65536)}
SEVERITIES = tuple(str(s) for s in Severity)
# Ranges the kernel and Docker hand out for outgoing connections and random host ports.
NAMED_EPHEMERAL_RANGES = {
    "linux": ("Linux default", 32768, 60999),
    "iana": ("IANA", 49152, 65535),
    "docker": ("Docker fallback", 49153, 65535),
}
REGISTRY_KEYS = {
    "name": str, "ports": (str, int), "transports": list, "category": str, "plaintext": bool,
    "alternative": str, "risk": str, "description": str, "why": str, "references": list,
}
TRANSPORTS = ("tcp", "udp", "sctp")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


def known_codes() -> tuple[str, ...]:
    from linter.rulebook import all_rules

    return tuple(all_rules())


def glob_regex(pattern: str) -> re.Pattern:
    """A glob as a regular expression: ``*`` and ``?`` stay inside a directory, ``**`` crosses them."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2:]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1:end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(char))
        i += 1
    try:
        return re.compile("".join(out) + r"\Z")
    except re.error as exc:  # e.g. a range out of order, [z-a]
        raise ValueError(exc.msg) from None


@dataclass(frozen=True)
class PathPattern:
    text: str
    regex: re.Pattern

    @classmethod
    def of(cls, text: str) -> "PathPattern":
        return cls(text, glob_regex(text.removeprefix("./")))

    def matches(self, relative: str) -> bool:
        if self.regex.match(relative):
            return True
        return "/" not in self.text and bool(self.regex.match(relative.rsplit("/", 1)[-1]))


@dataclass
class Config:
    """Validated configuration; the defaults are what portlint does without a file."""

    path: Path | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[PathPattern, tuple[str, ...]], ...] = ()
    fail_on: Severity | None = None
    severity: dict[str, Severity] = field(default_factory=dict)
    ephemeral_ranges: tuple[tuple[str, int, int], ...] | None = None
    trusted_v4: tuple[tuple[int, int], ...] = ()
    trusted_v6: tuple[tuple[int, int], ...] = ()
    internet_interfaces: tuple[str, ...] = ()
    internal_interfaces: tuple[str, ...] = ()
    host_addresses: tuple = ()  # (Family, lo, hi): this host's own addresses
    assumed: object = None  # engine.assumptions.Assumptions
    registry: tuple = ()  # PortEntry
    input_format: tuple[tuple[PathPattern, str], ...] = ()
    rules: dict[str, dict] = field(default_factory=dict)
    allow_read: tuple[str, ...] = ()  # directories (relative ones resolved from the file's) includes may read

    @property
    def root(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    # -- what runs ---------------------------------------------------------------------
    def enabled(self, code: str) -> bool:
        """Whether rule ``code`` is selected; the longest matching selector decides, ignore wins a tie."""
        best, on = -1, False
        for selector in (self.select or ("PL",)) + self.extend_select:
            if code.startswith(selector) and len(selector) > best:
                best, on = len(selector), True
        for selector in self.ignore:
            if code.startswith(selector) and len(selector) >= best:
                best, on = len(selector), False
        return on

    def relative(self, path: str) -> str:
        """``path`` relative to the configuration's directory, as globs are matched."""
        return relative_path(path, str(self.root))

    def selected(self, code: str, path: str) -> bool:
        """Whether findings of ``code`` in ``path`` are reported (select, ignore and per-file-ignores)."""
        if not self.enabled(code):
            return False
        if self.per_file_ignores:
            relative = self.relative(path)
            for pattern, codes in self.per_file_ignores:
                if pattern.matches(relative) and any(code.startswith(c) for c in codes):
                    return False
        return True

    def severity_of(self, code: str, default: Severity) -> Severity:
        """The configured severity of ``code`` (longest matching code or prefix), else ``default``."""
        matches = [prefix for prefix in self.severity if code.startswith(prefix)]
        return self.severity[max(matches, key=len)] if matches else default

    def format_for(self, path: str) -> str | None:
        """The input format configured for ``path`` (first matching glob), None to detect it."""
        relative = self.relative(path)
        for pattern, fmt in self.input_format:
            if pattern.matches(relative):
                return fmt
        return None

    def settings(self):
        """The Settings checks read."""
        from linter.checks import Settings
        from linter.ports import default_registry

        settings = Settings(trusted_v4=self.trusted_v4, trusted_v6=self.trusted_v6, rule_options=self.rules,
                            internet_interfaces=self.internet_interfaces,
                            internal_interfaces=self.internal_interfaces, host_addresses=self.host_addresses,
                            assumed=self.assumed)
        if self.ephemeral_ranges is not None:
            settings.ephemeral_ranges = self.ephemeral_ranges
        if self.registry:
            settings.registry = default_registry().with_additions(list(self.registry))
        return settings


# -- finding and reading the file --------------------------------------------------------

def _decode_config(path: Path, data: bytes) -> str:
    """The text of a configuration file; UTF-16/UTF-32 and invalid UTF-8 are ConfigErrors at file:line."""
    from linter.source import position, wide_encoding

    wide = wide_encoding(data) if data[:4].count(0) or data[:2] in (b"\xff\xfe", b"\xfe\xff") else None
    if wide is not None:
        raise ConfigError(f"{path}:1: {wide} text; TOML is read as UTF-8 (convert it: iconv -f UTF-16 -t UTF-8)")
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = position(data, exc.start)
        raise ConfigError(f"{path}:{line}:{column}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
                          "save the configuration as UTF-8") from None


def toml_reader():
    """The TOML reader (tomllib, tomli before Python 3.11), imported when a file is read: a run
    with no configuration file skips it."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib


def _read_toml(path: Path) -> dict:
    tomllib = toml_reader()
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(_decode_config(path, data))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deep") from None


def _portlint_table(path: Path, data: dict) -> dict | None:
    """The portlint table of a parsed file: [tool.portlint] of a pyproject.toml, else the whole file."""
    if path.name != "pyproject.toml":
        return data
    tool = data.get("tool")
    table = tool.get("portlint") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: tool.portlint must be a table")
    return table


def _linked_out(path: Path, directory: Path, stop: Path) -> bool:
    """Whether ``path`` is a symbolic link to a file outside the tree the search covers (up to
    the repository's top, ``stop``): a committed `.portlint.toml -> ~/.aws/credentials` is
    not read, as no other file outside the scanned tree is (docs/security.md)."""
    if not path.is_symlink():
        return False
    real = path.resolve()
    return not (real.is_relative_to(stop) or real.is_relative_to(directory))


def _search_top(directory: Path) -> Path:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return directory


def find_config(start: Path | None = None) -> Path | None:
    """The configuration file that applies in ``start`` (default: the current directory)."""
    directory = (start or Path.cwd()).resolve()
    top = _search_top(directory)
    for candidate in (directory, *directory.parents):
        dotfile = candidate / ".portlint.toml"
        for found in (dotfile, candidate / "pyproject.toml"):
            if found.is_file() and _linked_out(found, candidate, top):
                raise ConfigError(f"{found}: a symbolic link to a file outside the repository; not read "
                                  "(name the file with --config)")
        if dotfile.is_file():
            return dotfile
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _portlint_table(pyproject, _read_toml(pyproject)) is not None:
            return pyproject
        if (candidate / ".git").exists():
            return None
    return None


def load_config(path: Path | str | None = None, *, isolated: bool = False, start: Path | None = None) -> Config:
    """The configuration for this run: ``path`` when named, else the one found upward, else the defaults."""
    if isolated:
        if path is not None:
            raise ConfigError("--config and --isolated cannot be used together")
        return Config()
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such configuration file")
    else:
        path = find_config(start)
        if path is None:
            return Config()
    table = _portlint_table(path, _read_toml(path))
    if table is None:
        raise ConfigError(f"{path}: no [tool.portlint] table")
    return parse_config(table, path)


# -- validating ------------------------------------------------------------------------------

def command_line_selectors(option: str, values) -> tuple[str, ...]:
    """Rule codes or prefixes given on the command line (``--select PL1,PL402``, repeatable),
    validated as the configuration's are; ConfigError names the option."""
    codes = known_codes()
    out = []
    for value in values:
        for item in value.split(","):
            selector = item.strip().upper()
            if not selector:
                continue
            if not re.fullmatch(r"PL\d{0,3}", selector) or not any(c.startswith(selector) for c in codes):
                raise ConfigError(f"{option}: unknown rule code or prefix {item.strip()!r}" + _suggest(selector, codes))
            out.append(selector)
    return tuple(out)


def with_command_line(config: Config, select=(), ignore=(), extend_select=()) -> Config:
    """``config`` with the command line's rule selection: ``--select`` replaces the configured
    select, ``--ignore`` and ``--extend-select`` add to the configured lists (as ruff does)."""
    from dataclasses import replace

    changes = {}
    if select:
        changes["select"] = command_line_selectors("--select", select)
    if ignore:
        changes["ignore"] = config.ignore + command_line_selectors("--ignore", ignore)
    if extend_select:
        changes["extend_select"] = config.extend_select + command_line_selectors("--extend-select", extend_select)
    return replace(config, **changes) if changes else config


def _suggest(word: str, choices) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Reader:
    """Reads one file's table; every error names the file and the key."""

    def __init__(self, path: Path):
        self.path = path
        self._lines: list[str] | None = None

    def line_of(self, key: str) -> int | None:
        """The line where ``key``'s last part is written, found in the file's text; None when
        it cannot be told (tomllib keeps no positions)."""
        needle = re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1] if not key.endswith("'") else
                        key[key.rfind(".'") + 1:]).strip("'")
        if not needle:
            return None
        if self._lines is None:
            try:
                self._lines = self.path.read_bytes().decode("utf-8", errors="replace").split("\n")
            except OSError:
                self._lines = []
        for number, line in enumerate(self._lines, 1):
            text = line.strip()
            if text.startswith("#"):
                continue
            if needle in text:
                return number
        return None

    def fail(self, key: str, problem: str):
        line = self.line_of(key)
        where = f"{self.path}:{line}" if line else f"{self.path}"
        raise ConfigError(f"{where}: {key}: {problem}")

    def pattern(self, key: str, text: str) -> PathPattern:
        try:
            return PathPattern.of(text)
        except ValueError as exc:
            self.fail(key, f"bad glob pattern {text!r}: {exc}")

    def string_list(self, key: str, value) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(key, "expected a list of strings")
        return value

    def table(self, key: str, value) -> dict:
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
        return value

    def selectors(self, key: str, value) -> tuple[str, ...]:
        codes = known_codes()
        out = []
        for item in self.string_list(key, value):
            selector = item.strip().upper()
            if not re.fullmatch(r"PL\d{0,3}", selector) or not any(c.startswith(selector) for c in codes):
                self.fail(key, f"unknown rule code or prefix {item!r}" + _suggest(selector, codes))
            out.append(selector)
        return tuple(out)

    def severity(self, key: str, value) -> Severity:
        if not isinstance(value, str) or value.strip().lower() not in SEVERITIES:
            self.fail(key, f"unknown severity {value!r} (one of {', '.join(SEVERITIES)})")
        return Severity.parse(value)


def _port(reader: _Reader, key: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        reader.fail(key, f"expected a port number 1-65535, got {value!r}")
    return value


def _ephemeral_ranges(reader: _Reader, key: str, value) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(value, list):
        reader.fail(key, 'expected a list of "lo-hi" strings or tables {name, start, end}')
    out = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if isinstance(item, str):
            named = NAMED_EPHEMERAL_RANGES.get(item.strip().lower())
            if named:
                out.append(named)
                continue
            match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", item)
            if not match:
                reader.fail(where, f'expected "lo-hi" or one of {", ".join(NAMED_EPHEMERAL_RANGES)}, got {item!r}')
            lo, hi = bounded_int(match[1]), bounded_int(match[2])
            name = "configured"
        elif isinstance(item, dict):
            unknown = set(item) - {"name", "start", "end"}
            if unknown:
                reader.fail(where, f"unknown key {sorted(unknown)[0]!r} (keys: name, start, end)")
            for required in ("start", "end"):
                if required not in item:
                    reader.fail(where, f"missing {required!r}")
            lo, hi = _port(reader, f"{where}.start", item["start"]), _port(reader, f"{where}.end", item["end"])
            name = item.get("name", f"{lo}-{hi}")
            if not isinstance(name, str):
                reader.fail(f"{where}.name", "expected a string")
        else:
            reader.fail(where, 'expected a "lo-hi" string or a table {name, start, end}')
        if not 1 <= lo <= hi <= 65535:
            reader.fail(where, f"{lo}-{hi} is not a port range within 1-65535 (low end first)")
        out.append((name, lo, hi))
    return tuple(out)


def _trusted_networks(reader: _Reader, key: str, value):
    from linter.model import Family, normalize_ranges

    v4, v6 = [], []
    for family, lo, hi in _address_list(reader, key, value):
        (v6 if family is Family.IPV6 else v4).append((lo, hi))
    return normalize_ranges(v4), normalize_ranges(v6)


def _assumptions(reader: _Reader, key: str, value):
    """``assume = { "set:blocklist" = "empty", "match:-m owner" = "no" }``."""
    from linter.engine.assumptions import AssumptionError, parse_assumptions

    table = reader.table(key, value)
    for name, item in table.items():
        if not isinstance(item, str):
            reader.fail(f"{key}.{name}", "expected a string (empty, all, yes or no)")
    try:
        return parse_assumptions(table)
    except AssumptionError as exc:
        reader.fail(key, str(exc))


def _host_addresses(reader: _Reader, key: str, value) -> tuple:
    """``host-addresses = ["203.0.113.4", "2001:db8::4"]``: (family, lo, hi) per address or prefix."""
    return _address_list(reader, key, value)


def _address_list(reader: _Reader, key: str, value) -> tuple:
    """A list of addresses or prefixes as (family, lo, hi); a bad one fails at ``key[index]``."""
    from linter.addresses import AddressError, parse_address_range

    out = []
    for index, item in enumerate(reader.string_list(key, value)):
        try:
            out.append(parse_address_range(item))
        except AddressError as exc:
            reader.fail(f"{key}[{index}]", str(exc))
    return tuple(out)


INTERFACE_ROLES = ("internet", "internal")


def _interfaces(reader: _Reader, key: str, value) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``interfaces = { internet = ["eth0", "ppp+"], internal = ["eth1"] }``."""
    table = reader.table(key, value)
    roles: dict[str, tuple[str, ...]] = {}
    for role, names in table.items():
        if role not in INTERFACE_ROLES:
            reader.fail(f"{key}.{role}", "unknown key" + _suggest(role, INTERFACE_ROLES)
                        + f" (keys: {', '.join(INTERFACE_ROLES)})")
        names = tuple(reader.string_list(f"{key}.{role}", names))
        for index, name in enumerate(names):
            if not name or len(name) > 15 or any(c.isspace() or c == "/" for c in name):
                reader.fail(f"{key}.{role}[{index}]", f"{name!r} is not an interface name (at most 15 characters, "
                            "no spaces or '/'; a trailing * or + matches a prefix)")
        roles[role] = names
    both = set(roles.get("internet", ())) & set(roles.get("internal", ()))
    if both:
        reader.fail(key, f"{sorted(both)[0]!r} is both internet and internal")
    return roles.get("internet", ()), roles.get("internal", ())


def _registry(reader: _Reader, key: str, value) -> tuple:
    from linter.ports import RISKS, RegistryError, entry_from_dict

    if not isinstance(value, list):
        reader.fail(key, "expected a list of tables {name, ports, transports, ...}")
    entries = []
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        item = reader.table(where, item)
        for name, item_value in item.items():
            if name not in REGISTRY_KEYS:
                reader.fail(f"{where}.{name}", "unknown key" + _suggest(name, REGISTRY_KEYS)
                            + f" (keys: {', '.join(REGISTRY_KEYS)})")
            expected = REGISTRY_KEYS[name]
            if not isinstance(item_value, expected) or (expected is not bool and isinstance(item_value, bool)):
                kind = {str: "a string", bool: "true or false", list: "a list"}.get(expected, "a string or a number")
                reader.fail(f"{where}.{name}", f"expected {kind}, got {item_value!r}")
        for required in ("name", "ports", "risk"):
            if required not in item:
                reader.fail(where, f"missing {required!r}")
        for transport in item.get("transports", []):
            if str(transport).lower() not in TRANSPORTS:
                reader.fail(f"{where}.transports", f"unknown transport {transport!r} (one of {', '.join(TRANSPORTS)})")
        if str(item["risk"]).lower() not in RISKS:
            reader.fail(f"{where}.risk", f"unknown risk {item['risk']!r} (one of {', '.join(RISKS)})")
        data = dict(item, name=item["name"].strip().lower(), ports=str(item["ports"]))
        try:
            entries.append(entry_from_dict(data))
        except RegistryError as exc:
            reader.fail(where, str(exc))
    return tuple(entries)


def _per_file_ignores(reader: _Reader, key: str, value):
    out = []
    for pattern, codes in reader.table(key, value).items():
        where = f"{key}.{pattern!r}"
        out.append((reader.pattern(where, pattern), reader.selectors(where, codes)))
    return tuple(out)


def _severity_table(reader: _Reader, key: str, value) -> dict[str, Severity]:
    out = {}
    for code, severity in reader.table(key, value).items():
        (selector,) = reader.selectors(key, [code])
        out[selector] = reader.severity(f"{key}.{code}", severity)
    return out


def _input_format(reader: _Reader, key: str, value):
    out = []
    for pattern, fmt in reader.table(key, value).items():
        if fmt not in input_formats():
            reader.fail(f"{key}.{pattern!r}", f"unknown input format {fmt!r} (one of {', '.join(input_formats())})")
        out.append((reader.pattern(f"{key}.{pattern!r}", pattern), fmt))
    return tuple(out)


def _option_value_ok(default, value) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if default is None:
        return True
    return isinstance(value, type(default))


def _rule_options(reader: _Reader, key: str, value) -> dict[str, dict]:
    from linter.rulebook import all_rules

    rules = all_rules()
    out = {}
    for code, options in reader.table(key, value).items():
        meta = rules.get(code.upper())
        if meta is None:
            reader.fail(f"{key}.{code}", "unknown rule code" + _suggest(code.upper(), rules))
        declared = meta.options or {}
        options = reader.table(f"{key}.{code}", options)
        for name, option in options.items():
            if name not in declared:
                known = f"options: {', '.join(declared)}" if declared else "the rule has no options"
                reader.fail(f"{key}.{code}.{name}", f"unknown option{_suggest(name, declared)} ({known})")
            if not _option_value_ok(declared[name], option):
                reader.fail(f"{key}.{code}.{name}",
                            f"expected a value like the default {declared[name]!r}, got {option!r}")
            if isinstance(option, (int, float)) and not isinstance(option, bool):
                low, high = OPTION_BOUNDS.get((meta.code, name), (1, None))
                if option < low or (high is not None and option > high):
                    bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
                    reader.fail(f"{key}.{code}.{name}", f"must be {bounds}, got {option!r}")
        out[meta.code] = dict(options)
    return out


def parse_config(table: dict, path: Path) -> Config:
    """A Config from the portlint table of the file at ``path``."""
    reader = _Reader(path)
    config = Config(path=path)
    for key, value in table.items():
        if key in ("select", "ignore", "extend-select"):
            setattr(config, key.replace("-", "_"), reader.selectors(key, value))
        elif key == "per-file-ignores":
            config.per_file_ignores = _per_file_ignores(reader, key, value)
        elif key == "fail-on":
            config.fail_on = reader.severity(key, value)
        elif key == "severity":
            config.severity = _severity_table(reader, key, value)
        elif key == "ephemeral-ranges":
            config.ephemeral_ranges = _ephemeral_ranges(reader, key, value)
        elif key == "trusted-networks":
            config.trusted_v4, config.trusted_v6 = _trusted_networks(reader, key, value)
        elif key == "assume":
            config.assumed = _assumptions(reader, key, value)
        elif key == "host-addresses":
            config.host_addresses = _host_addresses(reader, key, value)
        elif key == "interfaces":
            config.internet_interfaces, config.internal_interfaces = _interfaces(reader, key, value)
        elif key == "registry":
            config.registry = _registry(reader, key, value)
        elif key == "input-format":
            config.input_format = _input_format(reader, key, value)
        elif key == "rules":
            config.rules = _rule_options(reader, key, value)
        elif key == "allow-read":
            config.allow_read = tuple(str(path.parent / item) for item in reader.string_list(key, value))
        elif key == "tool" and path.name != "pyproject.toml" and isinstance(value, dict) and "portlint" in value:
            reader.fail("tool.portlint", f"{path.name} is portlint's own file: drop the [tool.portlint] header "
                                         "and write the keys at the top level ([tool.portlint] is for pyproject.toml)")
        else:
            reader.fail(key, "unknown key" + _suggest(key, KEYS) + f" (keys: {', '.join(KEYS)})")
    return config
