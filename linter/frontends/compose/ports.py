"""What a Compose port entry means: the short syntax (through grammars/compose_ports.lark),
the long syntax's fields and `expose:` entries, all read after interpolation.

Nothing here knows YAML: the compose front end hands over plain text and values and
gets back a PortSpec or a PortSpecError whose message says what is wrong, in words.

The rules follow the Compose specification (05-services.md, ports) and what
docker compose v2 does with it:

- parts are split at ':' from the right: container port, host port, host IP;
- a host IP may be bracketed ("[::1]") or bare ("::1"); "" means all interfaces;
- a missing or zero host port means an ephemeral one (Docker picks it);
- ranges must be the same size on both sides, except that a host range may map to
  one container port (Docker takes one free port of the range);
- container port 0 is refused (Docker Engine 29 refuses it too);
- protocols are tcp, udp and sctp, in any case; a bare trailing '/' means tcp.
"""

from __future__ import annotations

from dataclasses import dataclass

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from linter.grammars import load_parser
from linter.numbers import bounded_int, shown

PROTOCOLS = ("tcp", "udp", "sctp")
MODES = ("ingress", "host")
LONG_KEYS = ("target", "published", "host_ip", "protocol", "mode", "app_protocol", "name")

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One port entry, read. ``host_ip`` None: all interfaces; ``published`` None: ephemeral."""

    target: Range
    published: Range | None
    host_ip: str | None
    protocol: str = "tcp"
    mode: str = "ingress"
    name: str | None = None
    app_protocol: str | None = None


class PortSpecError(ValueError):
    """A port entry Compose would refuse; the message is the reason.

    ``safe`` says the same without quoting any part of the entry: the compose front end
    words its finding with it when a variable's value (perhaps a secret) is in the entry.
    A message that quotes the entry must therefore come with its ``safe`` form.
    """

    def __init__(self, message: str, safe: str | None = None):
        super().__init__(message)
        self.safe = message if safe is None else safe


def _parser(start: str):
    return load_parser("compose_ports", start=start)


def _number(text: str, what: str) -> int:
    if not text.isdigit():
        raise PortSpecError(f"{what} {text!r} is not a number", f"{what} is not a number")
    if len(text.lstrip("0")) > 5:
        raise PortSpecError(f"{what} {text[:12]}{'...' if len(text) > 12 else ''} is out of range (0-65535)",
                            f"{what} is out of range (0-65535)")
    value = bounded_int(text)
    if value > 65535:
        raise PortSpecError(f"{what} {shown(text)} is out of range (0-65535)", f"{what} is out of range (0-65535)")
    return value


def parse_range(text: str, what: str) -> Range:
    """ "8000" or "8000-8010" as (lo, hi); an error names ``what`` ("container port")."""
    if text == "":
        raise PortSpecError(f"no {what} given")
    lo_text, dash, hi_text = text.partition("-")
    if dash and hi_text == "":
        raise PortSpecError(f"{what} range {text!r} has no end", f"{what} range has no end")
    if dash and lo_text == "":
        raise PortSpecError(f"{what} range {text!r} has no start", f"{what} range has no start")
    lo = _number(lo_text, what)
    hi = _number(hi_text, what) if dash else lo
    if hi < lo:
        raise PortSpecError(f"{what} range {text} ends before it starts", f"{what} range ends before it starts")
    return lo, hi


def _container(text: str) -> Range:
    lo, hi = parse_range(text, "container port")
    if lo == 0:
        raise PortSpecError("container port 0 cannot be published")
    return lo, hi


def _published(text: str) -> Range | None:
    if text == "":
        return None
    lo, hi = parse_range(text, "host port")
    if (lo, hi) == (0, 0):
        return None  # Docker reads host port 0 as "any free port"
    if lo == 0:
        raise PortSpecError(f"host port range {text} starts at 0", "host port range starts at 0")
    return lo, hi


def protocol_of(text: str | None) -> str:
    """The protocol, lower case; '' or None is tcp."""
    proto = (text or "tcp").lower()
    if proto not in PROTOCOLS:
        raise PortSpecError(f"invalid protocol {text!r} (tcp, udp or sctp)", "invalid protocol (tcp, udp or sctp)")
    return proto


def _check_sizes(published: Range | None, target: Range) -> None:
    if published is None:
        return
    host_size = published[1] - published[0]
    container_size = target[1] - target[0]
    if host_size != container_size and container_size != 0:
        raise PortSpecError(
            f"host and container port ranges differ in size ({_text(published)} and {_text(target)})",
            "host and container port ranges differ in size")


def _text(r: Range) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def normalize_host_ip(text: str | None) -> str | None:
    """Strip the brackets of "[::1]"; '' and None are all interfaces (None)."""
    if not text:
        return None
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        return text[1:-1] or None
    return text


def _syntax_error(exc: UnexpectedInput, text: str) -> PortSpecError:
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else ""
        return PortSpecError(f"unexpected character {char!r} at position {exc.column}",
                             "an unexpected character")
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        token = getattr(exc, "token", None)
        if token is None or token.type == "$END":
            if text == "":
                return PortSpecError("no port specified")
            if text.endswith(":"):
                return PortSpecError("no container port after the last ':'")
            return PortSpecError(f"{text!r} ends too early", "it ends too early")
        if token.value == "/" and text[: token.start_pos].endswith(":"):
            return PortSpecError("no container port before the '/'")
        if token.type == "RANGE_DASH":
            return PortSpecError(f"unexpected '-' at position {token.column} (a port range needs a start)")
        if token.type in ("WORD", "BRACKETED") and "/" not in text[: token.start_pos]:
            return PortSpecError(f"container port {token.value!r} is not a number", "container port is not a number")
        if token.type == "NUMBER" and text[: token.start_pos].endswith("/"):
            return PortSpecError(f"invalid protocol {token.value!r} (tcp, udp or sctp)",
                                 "invalid protocol (tcp, udp or sctp)")
        return PortSpecError(f"unexpected {token.value!r} at position {token.column}", "an unexpected part")
    return PortSpecError(str(exc).splitlines()[0], "it is not a valid port entry")


def _part_text(part) -> str:
    """The source text of a part (port_range or address subtree, or None for an empty one)."""
    if part is None:
        return ""
    return "".join(str(tok) for tok in part.scan_values(lambda v: isinstance(v, Token)))


def _protocol(tree: Tree | None) -> str:
    if tree is None:
        return "tcp"
    words = [str(t) for t in tree.children if isinstance(t, Token)]
    return protocol_of(words[0] if words else "")


def parse_short(text: str) -> PortSpec:
    """A short-syntax entry ("127.0.0.1:8080:80/tcp") as a PortSpec, or PortSpecError."""
    try:
        tree = _parser("start").parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    children = list(tree.children)
    protocol_tree = None
    if children and isinstance(children[-1], Tree) and children[-1].data == "protocol":
        protocol_tree = children.pop()
    container_part = children.pop()
    parts = [field.children[0] if field.children else None for field in children]
    texts = [_part_text(p) for p in parts]
    container_text = _part_text(container_part)
    protocol = _protocol(protocol_tree)
    if isinstance(container_part, Tree) and container_part.data == "address":
        raise PortSpecError(f"container port {container_text!r} is not a number", "container port is not a number")
    target = _container(container_text)
    published = None
    host_ip = None
    if texts:
        host_text = texts[-1]
        if parts[-1] is not None and parts[-1].data == "address":
            raise PortSpecError(f"host port {host_text!r} is not a number", "host port is not a number")
        published = _published(host_text)
        host_ip = normalize_host_ip(":".join(texts[:-1]))
    _check_sizes(published, target)
    return PortSpec(target, published, host_ip, protocol)


def parse_expose(text: str) -> PortSpec:
    """An `expose:` entry ("3000", "8080-8085/tcp"): a container port or range only."""
    try:
        tree = _parser("expose").parse(text)
    except UnexpectedInput as exc:
        if ":" in text:
            raise PortSpecError("expose takes container ports only (no host port or address)") from None
        raise _syntax_error(exc, text) from None
    port_tree = tree.children[0]
    protocol_tree = tree.children[1] if len(tree.children) > 1 else None
    return PortSpec(_container(_part_text(port_tree)), None, None, _protocol(protocol_tree))


def parse_long(fields: dict) -> PortSpec:
    """The long syntax, from its interpolated values (str, int, or None for absent)."""
    unknown = [key for key in fields if key not in LONG_KEYS and not str(key).startswith("x-")]
    if unknown:
        raise PortSpecError(f"unknown key {unknown[0]!r} in a port mapping "
                            f"(target, published, host_ip, protocol, mode, app_protocol, name)")
    target_value = fields.get("target")
    if target_value is None or target_value == "":
        raise PortSpecError("a port mapping needs a target (the container port)")
    target_text = _scalar_text(target_value, "target")
    if "-" in target_text:
        raise PortSpecError(f"target {target_text!r} must be a single container port",
                            "target must be a single container port")
    target = _container(target_text)
    published_value = fields.get("published")
    published = None
    if published_value is not None:
        published = _published(_scalar_text(published_value, "published"))
    _check_sizes(published, target)
    protocol = protocol_of(_optional_text(fields.get("protocol"), "protocol"))
    mode = (_optional_text(fields.get("mode"), "mode") or "ingress")
    if mode not in MODES:
        raise PortSpecError(f"invalid mode {mode!r} (ingress or host)", "invalid mode (ingress or host)")
    host_ip_text = _optional_text(fields.get("host_ip"), "host_ip")
    # `host_ip: ""` is kept as written: Compose refuses it (the checks report it), it does not mean "all".
    host_ip = "" if host_ip_text is not None and not host_ip_text.strip() else normalize_host_ip(host_ip_text)
    return PortSpec(target, published, host_ip, protocol, mode,
                    name=_optional_text(fields.get("name"), "name") or None,
                    app_protocol=_optional_text(fields.get("app_protocol"), "app_protocol") or None)


def _scalar_text(value, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PortSpecError(f"{key} must be a number or a string, not {type(value).__name__}")
    if isinstance(value, int) and value < 0:
        raise PortSpecError(f"{key} {value} is out of range (0-65535)")
    return str(value)


def _optional_text(value, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PortSpecError(f"{key} must be a string, not {type(value).__name__}")
    return value
