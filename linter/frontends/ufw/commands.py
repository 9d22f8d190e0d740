"""One ``ufw`` command line (its words after the shell expanded them) as an operation.

Follows ufw(8)'s syntax:

    ufw [--force] [--dry-run] enable | disable | reload | reset | status | logging ... | app ...
    ufw default allow|deny|reject [incoming|outgoing|routed]
    ufw [route] [delete] [insert N | prepend] allow|deny|reject|limit
        [in|out [on IF]] [log|log-all] PORT[/PROTO] | SERVICE[/PROTO] | APP   [comment C]
    ufw [route] [delete] [insert N | prepend] allow|deny|reject|limit
        [in|out [on IF]] [log|log-all] [proto P] [from A [port P | app APP]] [to B [port P | app APP]]
        [comment C]
    ufw delete N

A command ufw itself would refuse is a ``UfwError`` whose message says why, in words.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

ACTIONS = ("allow", "deny", "reject", "limit")
POLICIES = {"allow": "ACCEPT", "deny": "DROP", "reject": "REJECT"}
DIRECTIONS = {"incoming": "incoming", "input": "incoming", "outgoing": "outgoing", "output": "outgoing",
              "routed": "routed", "forward": "routed"}
PROTOCOLS = ("tcp", "udp", "ah", "esp", "gre", "ipv6", "igmp", "vrrp", "any")
# Commands that leave the firewall as it is.
IGNORED = frozenset({"status", "show", "version", "help", "--help", "--version", "logging", "app", "reload"})
_PORT = re.compile(r"^\d{1,5}(?::\d{1,5})?(?:,\d{1,5}(?::\d{1,5})?)*$")


class UfwError(ValueError):
    """A ufw command ufw would refuse; ``index`` is the word at fault (None: the command)."""

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Endpoint:
    """One side of a rule: an address ("any" or an address/network) and a port spec or app name."""

    address: str = "any"
    port: str | None = None  # "22", "80,443", "6000:6007"
    app: str | None = None


@dataclass(frozen=True)
class UfwRule:
    """A rule as ufw keeps it (user.rules): everything but its position."""

    action: str  # allow, deny, reject, limit
    direction: str = "in"  # in, out, or route (ufw route ...)
    interface_in: str | None = None
    interface_out: str | None = None
    protocol: str | None = None  # None: any (with a port: tcp and udp)
    source: Endpoint = field(default_factory=Endpoint)
    destination: Endpoint = field(default_factory=Endpoint)


@dataclass(frozen=True)
class AddRule:
    rule: UfwRule
    position: int | None = None  # ufw insert N (1-based); 0 is prepend; None appends


@dataclass(frozen=True)
class DeleteRule:
    rule: UfwRule


@dataclass(frozen=True)
class DeleteNumber:
    number: int


@dataclass(frozen=True)
class SetDefault:
    direction: str  # incoming, outgoing, routed
    policy: str  # ACCEPT, DROP, REJECT


@dataclass(frozen=True)
class SetEnabled:
    enabled: bool


@dataclass(frozen=True)
class Reset:
    pass


@dataclass(frozen=True)
class Ignored:
    pass


Operation = AddRule | DeleteRule | DeleteNumber | SetDefault | SetEnabled | Reset | Ignored


def parse_command(words: list[str]) -> Operation:
    """The operation of ``ufw WORDS...`` (``words`` without the leading ``ufw``)."""
    k = 0
    while k < len(words) and words[k] in ("--force", "--dry-run", "-f"):
        if words[k] == "--dry-run":
            return Ignored()
        k += 1
    if k == len(words):
        raise UfwError("ufw without a command")
    verb = words[k]
    if verb in IGNORED:
        return Ignored()
    if verb in ("enable", "disable"):
        return SetEnabled(verb == "enable")
    if verb == "reset":
        return Reset()
    if verb == "default":
        return _default(words, k + 1)
    return _rule_command(words, k)


def _default(words: list[str], k: int) -> SetDefault:
    if k >= len(words) or words[k] not in POLICIES:
        raise UfwError("ufw default needs allow, deny or reject", k if k < len(words) else None)
    policy = POLICIES[words[k]]
    direction = "incoming"
    if k + 1 < len(words):
        direction = DIRECTIONS.get(words[k + 1], "")
        if not direction:
            raise UfwError(f"unknown direction {words[k + 1]!r} (incoming, outgoing or routed)", k + 1)
    return SetDefault(direction, policy)


def _rule_command(words: list[str], k: int) -> Operation:
    route = False
    delete = False
    position = None
    if words[k] == "rule":
        k += 1
    if k < len(words) and words[k] == "route":
        route = True
        k += 1
    if k < len(words) and words[k] == "delete":
        delete = True
        k += 1
        if k < len(words) and words[k].isdigit():
            if k + 1 != len(words):
                raise UfwError("ufw delete NUM takes nothing after the number", k + 1)
            return DeleteNumber(int(words[k][:6]))
    if k < len(words) and words[k] == "insert":
        if k + 1 >= len(words) or not words[k + 1].isdigit() or int(words[k + 1][:6]) < 1:
            raise UfwError("ufw insert needs a rule number (1 or more)", k + 1 if k + 1 < len(words) else k)
        position = int(words[k + 1][:6])
        k += 2
    elif k < len(words) and words[k] == "prepend":
        position = 0
        k += 1
    if k >= len(words) or words[k] not in ACTIONS:
        at = k if k < len(words) else None
        raise UfwError(f"unknown ufw command {words[k]!r}" if at is not None else "the rule has no action "
                       "(allow, deny, reject or limit)", at)
    rule = _rule(words, k + 1, words[k], "route" if route else "in")
    return DeleteRule(rule) if delete else AddRule(rule, position)


def _rule(words: list[str], k: int, action: str, direction: str) -> UfwRule:
    interface_in = interface_out = None
    route = direction == "route"
    while k < len(words) and words[k] in ("in", "out"):
        which = words[k]
        if not route:
            direction = which
        if k + 1 < len(words) and words[k + 1] == "on":
            if k + 2 >= len(words):
                raise UfwError(f"'{which} on' needs an interface", k + 1)
            if which == "in":
                interface_in = words[k + 2]
            else:
                interface_out = words[k + 2]
            k += 3
        else:
            k += 1
    while k < len(words) and words[k] in ("log", "log-all"):
        k += 1
    rest = words[k:]
    comment_at = _find(rest, "comment")
    if comment_at is not None:
        if comment_at + 2 < len(rest):
            raise UfwError("nothing may follow the comment", k + comment_at + 2)
        rest = rest[:comment_at]
    base = dict(action=action, direction=direction, interface_in=interface_in, interface_out=interface_out)
    if len(rest) == 1 and rest[0] not in ("proto", "from", "to"):
        return _simple(rest[0], k, base)
    if not rest and not (interface_in or interface_out):
        raise UfwError("the rule names no port, service, application or address", None)
    return _full(rest, k, base)


def _find(words: list[str], word: str) -> int | None:
    return words.index(word) if word in words else None


def _simple(spec: str, k: int, base: dict) -> UfwRule:
    """``ufw allow 22/tcp``, ``ufw allow ssh``, ``ufw allow 'Nginx Full'``."""
    from linter.frontends.ufw.profiles import application, service

    port, slash, proto = spec.partition("/")
    if slash:
        _check_protocol(proto, k)
        if proto not in ("tcp", "udp"):
            raise UfwError(f"a port needs protocol tcp or udp, not {proto!r}", k)
    if _PORT.match(port):
        _check_ports(port, proto or None, k)
        return UfwRule(**base, protocol=proto or None, destination=Endpoint(port=sorted_ports(port)))
    found = service(port)
    if found is not None:
        number, protocols = found
        if slash and proto not in protocols:
            raise UfwError(f"service {port!r} has no {proto} port in /etc/services", k)
        chosen = proto or (protocols[0] if len(protocols) == 1 else None)
        return UfwRule(**base, protocol=chosen, destination=Endpoint(port=str(number)))
    if not slash and application(spec) is not None:
        return UfwRule(**base, destination=Endpoint(app=application(spec)[0]))
    raise UfwError(f"{spec!r} is no port, /etc/services name or application profile portlint knows", k)


def _full(rest: list[str], k: int, base: dict) -> UfwRule:
    protocol = None
    ends = {"from": Endpoint(), "to": Endpoint()}
    named: list[tuple[str, ...] | None] = []  # the protocols of each port given by service name
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "proto":
            if i + 1 >= len(rest):
                raise UfwError("'proto' needs a protocol", k + i)
            protocol = rest[i + 1]
            _check_protocol(protocol, k + i + 1)
            protocol = None if protocol == "any" else protocol
            i += 2
        elif word in ("from", "to"):
            if i + 1 >= len(rest):
                raise UfwError(f"'{word}' needs an address (or any)", k + i)
            address = _address(rest[i + 1], k + i + 1)
            i += 2
            port = app = None
            if i < len(rest) and rest[i] in ("port", "app"):
                if i + 1 >= len(rest):
                    raise UfwError(f"'{rest[i]}' needs a value", k + i)
                if rest[i] == "port":
                    port, protocols = _named_port(rest[i + 1], k + i + 1)
                    named.append(protocols)
                else:
                    from linter.frontends.ufw.profiles import application

                    found = application(rest[i + 1])
                    if found is None:
                        raise UfwError(f"no application profile {rest[i + 1]!r} that portlint knows", k + i + 1)
                    app = found[0]
                i += 2
            ends[word] = Endpoint(address, port, app)
        else:
            raise UfwError(f"unexpected {word!r} in the rule", k + i)
    known = [set(p) for p in named if p is not None]
    if protocol is None and known:
        # a service name decides the protocol when it has one (`to any port smtp`: tcp only)
        common = set.intersection(*known)
        if not common:
            raise UfwError("the services named have no protocol in common", None)
        if len(common) == 1:
            protocol = common.pop()
    elif protocol is not None and any(protocol not in p for p in known):
        raise UfwError(f"a service named has no {protocol} port", None)
    ports = [e.port for e in ends.values() if e.port]
    for port in ports:
        _check_ports(port, protocol, k)
    if any(e.app for e in ends.values()) and protocol is not None:
        raise UfwError("'proto' cannot be used with an application profile", None)
    if (ports or any(e.app for e in ends.values())) and protocol not in (None, "tcp", "udp"):
        raise UfwError(f"ports need protocol tcp or udp, not {protocol!r}", None)
    return UfwRule(**base, protocol=protocol, source=ends["from"], destination=ends["to"])


def _named_port(text: str, index: int) -> tuple[str, tuple[str, ...] | None]:
    """A port spec, and the protocols of the service when it is given by name."""
    if _PORT.match(text):
        return sorted_ports(text), None
    from linter.frontends.ufw.profiles import service

    found = service(text)
    if found is None:
        raise UfwError(f"port {text!r} is no number or /etc/services name that portlint knows", index)
    return str(found[0]), found[1]


def _check_protocol(proto: str, index: int) -> None:
    if proto not in PROTOCOLS:
        raise UfwError(f"unknown protocol {proto!r} ({', '.join(PROTOCOLS)})", index)


def _check_ports(spec: str, proto: str | None, index: int) -> None:
    for part in spec.split(","):
        lo, _, hi = part.partition(":")
        if not 1 <= int(lo) <= 65535 or (hi and not int(lo) <= int(hi) <= 65535):
            raise UfwError(f"bad port {part!r}", index)
        if (hi or "," in spec) and proto is None:
            raise UfwError("a port range or list needs a protocol (tcp or udp)", index)
    if spec.count(",") + spec.count(":") > 15:
        raise UfwError("more than 15 ports in one rule", index)


def _address(text: str, index: int) -> str:
    if text == "any":
        return text
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UfwError(f"{text!r} is no address or network", index) from None
    return "any" if network.prefixlen == 0 else str(network)  # ufw reads x/0 as any


def sorted_ports(spec: str) -> str:
    """A port list as ufw writes it: parts sorted by their first port ("23,21,15:19" -> "15:19,21,23")."""
    parts = spec.split(",")
    return ",".join(sorted(parts, key=lambda part: int(part.partition(":")[0])))
