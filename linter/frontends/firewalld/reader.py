"""Zone, service and policy elements, rich-rule strings and firewalld.conf into config.py's data.

Every problem is a Diagnostic at the element's line: a bad value is PL011, an unknown element
is PL012 and the rest of the file is still read.
"""

from __future__ import annotations

import re
import shlex

from linter.addresses import AddressError, parse_address_range
from linter.diagnostics import Diagnostic
from linter.frontends.firewalld.config import (
    POLICY_TARGETS, TARGETS, AddressRef, Config, ForwardPort, PolicyDef, PortSpec, RichRule, ServiceDef, Zone,
)
from linter.frontends.firewalld.xml_reader import Element
from linter.model import Span
from linter.numbers import bounded_int

INVALID = "PL011"
UNKNOWN_OPTION = "PL012"
PORT_PROTOCOLS = ("tcp", "udp", "sctp", "dccp")
_PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")
# Elements of a zone portlint reads as text only (documentation) or that change nothing it models.
_ZONE_IGNORED = {"short", "description", "icmp-block-inversion", "ingress-priority", "egress-priority"}


class Reader:
    """Collects diagnostics for one file while its elements are read."""

    def __init__(self, path: str):
        self.path = path
        self.diagnostics: list[Diagnostic] = []

    def span(self, element: Element) -> Span:
        return Span(self.path, element.line, element.column)

    def problem(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint=hint))

    # -- values
    def port_range(self, text: str | None, span: Span, what: str = "port") -> tuple[int, int] | None:
        """``"22"`` or ``"1000-2000"`` as a range, or None with a PL011."""
        match = _PORT.match((text or "").strip())
        if match:
            low = bounded_int(match.group(1))
            high = bounded_int(match.group(2)) if match.group(2) else low
            if 0 <= low <= high <= 65535:
                return low, high
        self.problem(INVALID, f"Invalid {what} {text!r}: a port 0-65535 or a range LOW-HIGH", span)
        return None

    def port_spec(self, port: str | None, protocol: str | None, span: Span) -> PortSpec | None:
        if protocol not in PORT_PROTOCOLS:
            self.problem(INVALID, f"Invalid port protocol {protocol!r}: one of {', '.join(PORT_PROTOCOLS)}", span)
            return None
        found = self.port_range(port, span)
        return PortSpec(found[0], found[1], protocol, span) if found else None

    def address(self, text: str | None, span: Span) -> str | None:
        try:
            parse_address_range((text or "").strip())
        except (AddressError, ValueError):
            self.problem(INVALID, f"Invalid address {text!r}", span)
            return None
        return text.strip()

    def address_ref(self, attrs: dict[str, str], span: Span) -> AddressRef | None:
        invert = attrs.get("invert", "").lower() in ("true", "yes", "1")
        if "address" in attrs:
            address = self.address(attrs["address"], span)
            return AddressRef(address=address, invert=invert) if address else None
        if "ipset" in attrs:
            return AddressRef(ipset=attrs["ipset"], invert=invert)
        if "mac" in attrs:
            return AddressRef(mac=attrs["mac"], invert=invert)
        self.problem(INVALID, "A source or destination needs address=, mac= or ipset=", span)
        return None

    def forward_port(self, attrs: dict[str, str], span: Span) -> ForwardPort | None:
        ports = self.port_range(attrs.get("port"), span)
        protocol = attrs.get("protocol")
        if protocol not in PORT_PROTOCOLS:
            self.problem(INVALID, f"Invalid forward-port protocol {protocol!r}", span)
            return None
        to_port = self.port_range(attrs["to-port"], span, "to-port") if attrs.get("to-port") else None
        to_addr = self.address(attrs["to-addr"], span) if attrs.get("to-addr") else None
        if ports is None or (attrs.get("to-addr") and to_addr is None):
            return None
        if to_port is None and to_addr is None:
            self.problem(INVALID, "A forward-port needs to-port= or to-addr=", span)
            return None
        return ForwardPort(ports[0], ports[1], protocol, to_port, to_addr, span)

    # -- zone
    def zone(self, root: Element, name: str) -> Zone:
        """A ``<zone>`` element; ``name`` is the file's stem unless the element names itself."""
        zone = Zone(root.attrs.get("name") or name, self.span(root))
        target = root.attrs.get("target")
        if target is not None:
            if target not in TARGETS:
                self.problem(INVALID, f"Invalid zone target {target!r}: default, ACCEPT, DROP or %%REJECT%%",
                             zone.span)
            else:
                zone.target = "%%REJECT%%" if target == "REJECT" else target
                zone.target_span = zone.span
        for child in root.children:
            self.zone_child(zone, child)
        return zone

    def zone_child(self, zone: Zone, child: Element) -> None:
        span, attrs, tag = self.span(child), child.attrs, child.tag
        needs = {"interface": "name", "service": "name", "protocol": "value", "icmp-block": "name"}.get(tag)
        if needs and not attrs.get(needs):
            self.problem(INVALID, f"<{tag}> needs {needs}=", span)
        elif tag == "interface":
            zone.interfaces.append((attrs["name"], span))
        elif tag == "source":
            ref = self.address_ref(attrs, span)
            if ref is not None:
                zone.sources.append((ref, span))
        elif tag == "service":
            zone.services.append((attrs["name"], span))
        elif tag == "port":
            spec = self.port_spec(attrs.get("port"), attrs.get("protocol"), span)
            if spec:
                zone.ports.append(spec)
        elif tag == "source-port":
            spec = self.port_spec(attrs.get("port"), attrs.get("protocol"), span)
            if spec:
                zone.source_ports.append(spec)
        elif tag == "protocol":
            zone.protocols.append((attrs["value"], span))
        elif tag == "icmp-block":
            zone.icmp_blocks.append((attrs["name"], span))
        elif tag == "icmp-block-inversion":
            zone.icmp_block_inversion = True
        elif tag == "forward-port":
            forward = self.forward_port(attrs, span)
            if forward:
                zone.forward_ports.append(forward)
        elif tag == "masquerade":
            zone.masquerade = span
        elif tag == "forward":
            zone.forward = span
        elif tag == "rule":
            rule = self.rich_element(child)
            if rule:
                zone.rules.append(rule)
        elif tag not in _ZONE_IGNORED:
            self.problem(UNKNOWN_OPTION, f"Unknown zone element <{tag}>: not read", span)

    # -- rich rules, as XML
    def rich_element(self, element: Element) -> RichRule | None:
        span = self.span(element)
        family = element.attrs.get("family")
        if family not in (None, "ipv4", "ipv6"):
            self.problem(INVALID, f"Invalid rich rule family {family!r}: ipv4 or ipv6", span)
            return None
        priority = _priority(element.attrs.get("priority", "0"))
        if priority is None:
            self.problem(INVALID, f"Invalid rich rule priority {element.attrs.get('priority')!r}", span)
            return None
        fields: dict = {"family": family, "priority": priority}
        for child in element.children:
            if not self.rich_part(fields, child.tag, child.attrs, self.span(child), bool(child.find("limit"))):
                return None
        return self.finish_rich(fields, span)

    def rich_part(self, fields: dict, tag: str, attrs: dict[str, str], span: Span, limited: bool = False) -> bool:
        """Record one part of a rich rule; False (with a diagnostic) when the rule cannot be read."""
        if tag in ("source", "destination"):
            ref = self.address_ref(attrs, span)
            if ref is None:
                return False
            fields[tag] = ref
        elif tag in ("service", "protocol", "icmp-block", "icmp-type"):
            value = attrs.get("name") or attrs.get("value")
            if not value:
                self.problem(INVALID, f"A rich rule's {tag} needs a name", span)
                return False
            fields["element"] = (tag.replace("icmp-type", "icmp-block"), value)
        elif tag in ("port", "source-port"):
            spec = self.port_spec(attrs.get("port"), attrs.get("protocol"), span)
            if spec is None:
                return False
            fields["element"] = (tag, spec)
        elif tag == "masquerade":
            fields["element"] = ("masquerade", None)
        elif tag == "forward-port":
            forward = self.forward_port(attrs, span)
            if forward is None:
                return False
            fields["element"] = ("forward-port", forward)
        elif tag in ("log", "nflog"):
            fields["log"] = True
        elif tag == "audit":
            fields["audit"] = True
        elif tag in ("accept", "reject", "drop", "mark"):
            fields["action"] = tag
            fields["limited"] = limited
        elif tag == "limit":
            fields["limited"] = True
        else:
            self.problem(UNKNOWN_OPTION, f"Unknown rich rule part {tag!r}: the rule is not read", span)
            return False
        return True

    def finish_rich(self, fields: dict, span: Span, text: str = "") -> RichRule | None:
        if fields.get("action") is None and not fields.get("log") and not fields.get("audit") and not (
                fields.get("element") and fields["element"][0] in ("masquerade", "forward-port", "icmp-block")):
            self.problem(INVALID, "A rich rule needs an action (accept, reject, drop), log or audit", span)
            return None
        fields.pop("limit", None)
        return RichRule(span=span, text=text, **fields)

    # -- rich rules, as firewall-cmd strings
    def rich_text(self, text: str, span: Span) -> RichRule | None:
        """A ``rule family="ipv4" source address="..." service name="ssh" accept`` string."""
        try:
            words = shlex.split(text)
        except ValueError as exc:
            self.problem(INVALID, f"Cannot read the rich rule: {exc}", span)
            return None
        if not words or words[0] != "rule":
            self.problem(INVALID, "A rich rule starts with 'rule'", span)
            return None
        fields: dict = {"family": None, "priority": 0}
        index = 1
        last_action = None
        while index < len(words):
            word = words[index]
            if "=" in word:
                key, value = word.split("=", 1)
                if key == "family":
                    if value not in ("ipv4", "ipv6"):
                        self.problem(INVALID, f"Invalid rich rule family {value!r}", span)
                        return None
                    fields["family"] = value
                elif key == "priority":
                    priority = _priority(value)
                    if priority is None:
                        self.problem(INVALID, f"Invalid rich rule priority {value!r}", span)
                        return None
                    fields["priority"] = priority
                index += 1
                continue
            attrs: dict[str, str] = {}
            index += 1
            if index < len(words) and words[index] == "not":  # source not address="..."
                attrs["invert"] = "true"
                index += 1
            while index < len(words) and "=" in words[index] and words[index].split("=", 1)[0] not in (
                    "family", "priority"):
                key, value = words[index].split("=", 1)
                attrs[key] = value
                index += 1
            if word == "limit":
                if last_action in ("accept", "reject", "drop", "mark"):
                    fields["limited"] = True
                continue
            if not self.rich_part(fields, word, attrs, span):
                return None
            last_action = word
        return self.finish_rich(fields, span, text)


def read_policy(reader: Reader, root: Element, name: str) -> PolicyDef:
    """A ``<policy>`` element: its zones, priority and target, and its rules read as a zone's."""
    policy_name = root.attrs.get("name") or name
    rules = Zone(policy_name, reader.span(root), target="CONTINUE")
    target = root.attrs.get("target", "CONTINUE")
    if target not in POLICY_TARGETS:
        reader.problem(INVALID, f"Invalid policy target {target!r}: CONTINUE, ACCEPT, DROP or REJECT", rules.span)
    else:
        rules.target = "%%REJECT%%" if target == "REJECT" else target
        rules.target_span = rules.span
    priority = _priority(root.attrs.get("priority", "-1"))
    if priority is None or priority == 0:
        reader.problem(INVALID, f"Invalid policy priority {root.attrs.get('priority')!r}: a non-zero integer",
                       rules.span)
        priority = -1
    policy = PolicyDef(rules, priority)
    for child in root.children:
        if child.tag == "disable":
            policy.disabled = True
        elif child.tag in ("ingress-zone", "egress-zone"):
            if child.attrs.get("name"):
                (policy.ingress if child.tag == "ingress-zone" else policy.egress).append(child.attrs["name"])
            else:
                reader.problem(INVALID, f"<{child.tag}> needs name=", reader.span(child))
        else:
            reader.zone_child(rules, child)
    return policy


def _priority(text: str) -> int | None:
    if re.fullmatch(r"-?\d{1,6}", text.strip()):
        value = int(text)
        return value if -32768 <= value <= 32767 else None
    return None


def read_service(reader: Reader, root: Element, name: str) -> ServiceDef:
    """A ``<service>`` element (a custom service file) as a ServiceDef."""
    ports, protocols, source_ports, destination, includes = [], [], [], [], []
    for child in root.children:
        span, attrs = reader.span(child), child.attrs
        if child.tag in ("port", "source-port"):
            if attrs.get("protocol") and not attrs.get("port"):  # <port protocol="gre"/> = a protocol
                protocols.append(attrs["protocol"])
                continue
            spec = reader.port_spec(attrs.get("port"), attrs.get("protocol"), span)
            if spec:
                (ports if child.tag == "port" else source_ports).append((spec.low, spec.high, spec.protocol))
        elif child.tag == "protocol" and attrs.get("value"):
            protocols.append(attrs["value"])
        elif child.tag == "destination":
            for family in ("ipv4", "ipv6"):
                if attrs.get(family) and reader.address(attrs[family], span):
                    destination.append((family, attrs[family].strip()))
        elif child.tag == "include" and attrs.get("service"):
            includes.append(attrs["service"])
        elif child.tag not in ("short", "description", "module", "helper"):
            reader.problem(UNKNOWN_OPTION, f"Unknown service element <{child.tag}>: not read", span)
    # What the file says the service is: its <short> name, and the <description> when that is a
    # label rather than prose (a finding names a service by a comment of a few words).
    texts = {child.tag: " ".join(child.text.split()) for child in root.children
             if child.tag in ("short", "description") and child.text.strip()}
    about = " ".join(t for t in (texts.get("short"), texts.get("description")) if t)
    if len(about.split()) > 6:
        about = texts.get("short", "")
    return ServiceDef(root.attrs.get("name") or name, tuple(ports), tuple(protocols), tuple(source_ports),
                      tuple(destination), tuple(includes), reader.span(root), about[:300])


def read_conf(reader: Reader, text: str, config: Config) -> None:
    """firewalld.conf: only DefaultZone changes what portlint models."""
    for number, line in enumerate(text.split("\n"), 1):
        match = re.match(r"^\s*DefaultZone\s*=\s*(\S*)\s*$", line)
        if match:
            if re.fullmatch(r"[\w.+-]{1,17}", match.group(1) or ""):
                config.default_zone = match.group(1)
                config.default_zone_span = Span(reader.path, number, 1)
            else:
                reader.problem(INVALID, f"Invalid DefaultZone {match.group(1)!r}", Span(reader.path, number, 1))


def read_ipset(reader: Reader, root: Element) -> tuple[str, ...] | None:
    """The address entries of an ``<ipset type="hash:ip|hash:net">`` (None for other types, which
    stay opaque where a zone names them; a bad entry is PL011 and left out)."""
    if root.attrs.get("type", "") not in ("hash:ip", "hash:net"):
        return None
    family = "ipv6" if any(option.attrs.get("name") == "family" and option.attrs.get("value") == "inet6"
                           for option in root.find_all("option")) else "ipv4"
    entries = []
    for entry in root.find_all("entry"):
        text = entry.text.strip()
        address = reader.address(text, reader.span(entry))
        if address is not None and (":" in address) == (family == "ipv6"):
            entries.append(address)
    return tuple(entries)
