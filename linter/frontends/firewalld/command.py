"""``firewall-cmd`` (and ``firewall-offline-cmd``) command lines, applied to a firewalld Config.

The shell replay (linter/frontends/iptables/script.py) hands each command's words here; the Config the commands
build becomes a Ruleset with the same code as zone files (build.py). Runtime and ``--permanent``
changes are applied alike: a provisioning script makes both, or makes one and reloads.
Nothing is ever run.
"""

from __future__ import annotations

from linter.diagnostics import Diagnostic
from linter.frontends.firewalld.build import Builder
from linter.frontends.firewalld.builtin import builtin_policy, builtin_zone
from linter.frontends.firewalld.config import POLICY_TARGETS, TARGETS, Config, PolicyDef, Zone
from linter.frontends.firewalld.reader import Reader
from linter.model import Span, Table

NAMES = frozenset({"firewall-cmd", "firewall-offline-cmd"})
UNRESOLVED = "PL050"
# Options that change nothing portlint models (queries, listings, reloads, lockdown, logging...).
_IGNORED_PREFIXES = ("--list", "--query", "--get", "--info", "--reload", "--complete-reload", "--state",
                     "--runtime-to-permanent", "--check-config", "--panic", "--lockdown", "--set-log-denied",
                     "--version", "--help", "--permanent", "--quiet", "--timeout", "--set-description",
                     "--set-short", "--new-ipset", "--ipset", "--delete-ipset", "--new-service", "--service",
                     "--delete-service", "--new-icmptype", "--delete-icmptype", "--path-", "--load-",
                     "--reset-to-defaults", "--debug", "--nofork", "--nopager", "--add-entry", "--remove-entry")
_VALUED = frozenset({"--zone", "--policy", "--timeout", "--set-default-zone", "--set-target", "--new-zone",
                     "--delete-zone", "--new-policy", "--delete-policy", "--set-priority", "--service", "--ipset",
                     "--set-description", "--set-short"})


class FirewallCmdState:
    """The configuration a script's firewall-cmd commands build, and where they were."""

    def __init__(self, path: str):
        self.path = path
        self.config = Config()
        self.anchor: Span | None = None
        self.created: set[str] = set()
        self.diagnostics: list[Diagnostic] = []

    def apply(self, words: list[str | None], span: Span) -> None:
        """Apply one command (its words after the command name; None for a value not known)."""
        self.anchor = self.anchor or span
        reader = Reader(self.path)
        options: list[tuple[str, str | None]] = []
        index = 0
        if any(word is None for word in words):  # an unknown --zone= would move the rest to another zone
            self._note(span, "a word of this firewall-cmd command is not known; the command is left out")
            return
        while index < len(words):
            word = words[index]
            index += 1
            if not word.startswith("--"):
                continue
            key, equals, value = word.partition("=")
            if not equals and key in _VALUED and index < len(words):
                value = words[index]
                index += 1
            options.append((key, value if (equals or key in _VALUED) else None))
        zone_name = next((value for key, value in options if key == "--zone"), None)
        policy_name = next((value for key, value in options if key == "--policy"), None)
        if any(key == "--direct" for key, _ in options):
            self.diagnostics.append(Diagnostic("PL013", "firewall-cmd --direct rules are not modelled: this "
                                                        "command is left out", span))
            return
        for key, value in options:
            if key in ("--zone", "--policy"):
                continue
            if policy_name is not None and key.startswith(("--add-", "--remove-", "--set-")):
                self._policy_option(reader, key, value, policy_name, span)
            elif key in ("--new-policy", "--delete-policy"):
                self._policy_option(reader, key, value, value, span)
            elif key in ("--set-default-zone", "--new-zone", "--delete-zone") or zone_name is not None or \
                    key.startswith(("--add-", "--remove-", "--change-", "--set-target")):
                self._one(reader, key, value, zone_name, span)
            elif not key.startswith(_IGNORED_PREFIXES):
                self.diagnostics.append(Diagnostic("PL012", f"Unknown firewall-cmd option {key}: left out", span))
        self.diagnostics.extend(reader.diagnostics)

    def _note(self, span: Span, why: str) -> None:
        self.diagnostics.append(Diagnostic(UNRESOLVED, f"firewall-cmd: {why}", span))

    def _zone(self, name: str | None, span: Span) -> Zone | None:
        name = name or self.config.default_zone
        zone = self.config.zones.get(name)
        if zone is None:
            zone = builtin_zone(name, span)
            if zone is None and name not in self.created:
                self.diagnostics.append(Diagnostic("PL011", f"Unknown firewalld zone {name!r} (not built in, and "
                                                            "no --new-zone made it)", span))
                return None
            self.config.zones[name] = zone or Zone(name, span)
        return self.config.zones[name]

    def _policy_option(self, reader: Reader, key: str, value: str | None, name: str | None, span: Span) -> None:
        """One option of a ``--policy=P`` (or ``--new-policy``/``--delete-policy``) command."""
        if not name:
            reader.problem("PL011", f"firewall-cmd {key} needs a policy name", span)
            return
        if key == "--delete-policy":
            self.config.policies.pop(name, None)
            return
        if key == "--new-policy":
            self.config.policies.setdefault(name, PolicyDef(Zone(name, span, target="CONTINUE")))
            return
        policy = self.config.policies.get(name)
        if policy is None:
            policy = builtin_policy(name, span)
            if policy is None:
                reader.problem("PL011", f"Unknown firewalld policy {name!r} (no --new-policy made it)", span)
                return
            self.config.policies[name] = policy
        if key in ("--add-ingress-zone", "--add-egress-zone", "--remove-ingress-zone", "--remove-egress-zone"):
            zones = policy.ingress if "ingress" in key else policy.egress
            zones[:] = [zone for zone in zones if zone != value] + ([value] if key.startswith("--add") and value
                                                                      else [])
        elif key == "--set-priority":
            try:
                priority = int(value or "")
            except ValueError:
                priority = 0
            if priority == 0 or not -32768 <= priority <= 32767:
                reader.problem("PL011", f"Invalid policy priority {value!r}: a non-zero integer", span)
            else:
                policy.priority = priority
        elif key == "--set-target":
            if value not in POLICY_TARGETS:
                reader.problem("PL011", f"Invalid policy target {value!r}: CONTINUE, ACCEPT, DROP or REJECT", span)
            else:
                policy.rules.target = "%%REJECT%%" if value == "REJECT" else value
                policy.rules.target_span = span
        elif key.startswith(("--add-", "--remove-")):
            what = key.split("-", 3)[-1]
            if what in ("masquerade", "forward"):
                setattr(policy.rules, what, span if key.startswith("--add-") else None)
            elif value is None:
                reader.problem("PL011", f"firewall-cmd {key} needs a value", span)
            else:
                self._entry(reader, policy.rules, what, value, key.startswith("--add-"), span)

    def _one(self, reader: Reader, key: str, value: str | None, zone_name: str | None, span: Span) -> None:
        if key.startswith(_IGNORED_PREFIXES) and not key.startswith(("--add-", "--remove-")):
            return
        if key == "--set-default-zone":
            if value:
                self.config.default_zone, self.config.default_zone_span = value, span
            return
        if key == "--new-zone":
            if value:
                self.created.add(value)
                self.config.zones.setdefault(value, Zone(value, span))
            return
        if key == "--delete-zone":
            self.config.zones.pop(value or "", None)
            return
        zone = self._zone(zone_name, span)
        if zone is None:
            return
        if key == "--set-target":
            if value not in TARGETS:
                reader.problem("PL011", f"Invalid zone target {value!r}", span)
            else:
                zone.target = "%%REJECT%%" if value == "REJECT" else value
                zone.target_span = span
            return
        adding = key.startswith(("--add-", "--change-"))
        what = key.split("-", 3)[-1] if not key.startswith("--change-") else key[len("--change-"):]
        if what in ("masquerade", "forward", "icmp-block-inversion"):
            flag = span if adding else None
            if what == "icmp-block-inversion":
                zone.icmp_block_inversion = adding
            else:
                setattr(zone, what, flag)
            return
        if value is None:
            reader.problem("PL011", f"firewall-cmd {key} needs a value", span)
            return
        self._entry(reader, zone, what, value, adding, span)

    def _entry(self, reader: Reader, zone: Zone, what: str, value: str, adding: bool, span: Span) -> None:
        if what == "service":
            self._list(zone.services, (value, span), adding, lambda item: item[0] == value)
        elif what in ("interface", "source"):
            for other in self.config.zones.values():  # an interface or source belongs to one zone
                if what == "interface":
                    other.interfaces = [item for item in other.interfaces if item[0] != value]
                else:
                    other.sources = [item for item in other.sources if item[0].address != value]
            if adding and what == "interface":
                zone.interfaces.append((value, span))
            elif adding:
                ref = reader.address_ref({"ipset": value[6:]} if value.startswith("ipset:") else {"address": value},
                                         span)
                if ref is not None:
                    zone.sources.append((ref, span))
        elif what in ("port", "source-port"):
            port, _, protocol = value.partition("/")
            spec = reader.port_spec(port, protocol, span)
            target = zone.ports if what == "port" else zone.source_ports
            if spec is not None:
                self._list(target, spec, adding,
                           lambda item: (item.low, item.high, item.protocol) == (spec.low, spec.high, spec.protocol))
        elif what == "protocol":
            self._list(zone.protocols, (value, span), adding, lambda item: item[0] == value)
        elif what == "icmp-block":
            self._list(zone.icmp_blocks, (value, span), adding, lambda item: item[0] == value)
        elif what == "rich-rule":
            rule = reader.rich_text(value, span)
            if rule is not None:
                self._list(zone.rules, rule, adding, lambda item: item.text == value)
        elif what == "forward-port":
            fields = dict(part.partition("=")[::2] for part in value.split(":"))
            attrs = {"port": fields.get("port"), "protocol": fields.get("proto"),
                     "to-port": fields.get("toport"), "to-addr": fields.get("toaddr")}
            forward = reader.forward_port({k: v for k, v in attrs.items() if v}, span)
            if forward is not None:
                self._list(zone.forward_ports, forward, adding,
                           lambda item: (item.low, item.high, item.protocol, item.to_port, item.to_addr)
                           == (forward.low, forward.high, forward.protocol, forward.to_port, forward.to_addr))
        else:
            self.diagnostics.append(Diagnostic("PL012", f"Unknown firewall-cmd option --{'add' if adding else 'remove'}"
                                                        f"-{what}: left out", span))

    @staticmethod
    def _list(items: list, item, adding: bool, same) -> None:
        kept = [old for old in items if not same(old)]
        if adding:
            kept.append(item)
        items[:] = kept

    def table(self) -> tuple[Table, list[Diagnostic]]:
        """The table inet firewalld these commands give, and the problems found building it."""
        anchor = self.anchor or Span(self.path, 1, 1)
        builder = Builder(self.config, self.path, anchor)
        ruleset = builder.build()
        return ruleset.tables[0], builder.diagnostics
