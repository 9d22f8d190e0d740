"""What a script's ufw commands leave: the user's rules in order, the default policies, and
whether ufw is enabled; turned into iptables-restore text per family at the end.

Each rule remembers the ``origin`` of the command that added it (the script front end passes
the command's Span), and so does every generated line, so findings point at the ufw command.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from linter.frontends.ufw import framework
from linter.frontends.ufw.commands import (
    AddRule, DeleteNumber, DeleteRule, Ignored, Operation, Reset, SetDefault, SetEnabled, UfwRule,
)
from linter.frontends.ufw.rules import families, iptables_lines

DEFAULT_POLICIES = {"incoming": "DROP", "outgoing": "ACCEPT", "routed": "DROP"}


@dataclass
class _Entry:
    rule: UfwRule
    ipv6: bool
    origin: object


@dataclass
class UfwState:
    """ufw's state as a script changes it. ``policies`` start as /etc/default/ufw's (or ufw's
    defaults); ``ipv6`` is its IPV6 setting (yes unless the file says no)."""

    policies: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_POLICIES))
    ipv6: bool = True
    enabled: bool | None = None  # None: the script never enables or disables ufw
    rules4: list[_Entry] = field(default_factory=list)  # ufw status numbered lists these first,
    rules6: list[_Entry] = field(default_factory=list)  # then these
    present: set = field(default_factory=set)  # (rule, ipv6) of every entry: ufw skips adding them again
    first: object = None  # origin of the first ufw command
    switched: object = None  # origin of the last enable/disable
    policy_origin: dict[str, object] = field(default_factory=dict)

    @property
    def entries(self) -> list[_Entry]:
        """The rules in `ufw status numbered` order: IPv4 rules, then IPv6 rules."""
        return self.rules4 + self.rules6

    @property
    def used(self) -> bool:
        return self.first is not None

    def apply(self, operation: Operation, origin) -> str | None:
        """Apply one command; a message when ufw would do nothing with it (a note, not an error)."""
        if self.first is None:
            self.first = origin
        if isinstance(operation, Ignored):
            return None
        if isinstance(operation, SetEnabled):
            self.enabled = operation.enabled
            self.switched = origin
            return None
        if isinstance(operation, Reset):
            self.rules4.clear()
            self.rules6.clear()
            self.present.clear()
            self.policies = dict(DEFAULT_POLICIES)
            self.policy_origin.clear()
            self.enabled = False
            self.switched = origin
            return None
        if isinstance(operation, SetDefault):
            self.policies[operation.direction] = operation.policy
            self.policy_origin[operation.direction] = origin
            return None
        if isinstance(operation, DeleteNumber):
            number = operation.number
            if not 1 <= number <= len(self.rules4) + len(self.rules6):
                return f"ufw has no rule {number} at this point of the script: nothing is deleted"
            rules, index = (self.rules4, number - 1) if number <= len(self.rules4) else \
                (self.rules6, number - 1 - len(self.rules4))
            entry = rules.pop(index)
            self.present.discard((entry.rule, entry.ipv6))
            return None
        if isinstance(operation, DeleteRule):
            found = [(operation.rule, v6) for v6 in (False, True) if (operation.rule, v6) in self.present]
            if not found:
                return "no such rule at this point of the script: nothing is deleted"
            for key in found:
                self.present.discard(key)
                rules = self.rules6 if key[1] else self.rules4
                rules[:] = [e for e in rules if e.rule != operation.rule]
            return None
        return self._add(operation, origin)

    def _add(self, operation: AddRule, origin) -> str | None:
        wanted = [v6 for v6 in families(operation.rule) if self.ipv6 or not v6]
        if not wanted:
            return "the rule mixes IPv4 and IPv6 addresses (or is IPv6 with IPV6=no): ufw refuses it"
        added = False
        for v6 in wanted:
            key = (operation.rule, v6)
            if key in self.present:
                continue  # ufw: "Skipping adding existing rule"
            self.present.add(key)
            rules = self.rules6 if v6 else self.rules4
            entry = _Entry(operation.rule, v6, origin)
            if operation.position is None:
                rules.append(entry)
            else:
                # insert N counts `ufw status numbered` (IPv4 rules first); prepend puts it first of its family
                n = 0 if operation.position == 0 else operation.position - 1
                at = max(0, n - len(self.rules4)) if v6 and operation.position else n
                rules.insert(min(at, len(rules)), entry)
            added = True
        return None if added else "ufw skips adding an existing rule"

    def restore_lines(self, ipv6: bool) -> list[tuple[object, str]]:
        """(origin, line) of the iptables-restore input ufw loads for one family: its framework
        (at the command that enabled ufw, the chain headers at `ufw default` where set) and the
        user's rules at the commands that added them. Empty while ufw is disabled."""
        if self.enabled is False or (ipv6 and not self.ipv6):
            return []
        base = self.switched or self.first
        out: list[tuple[object, str]] = []
        header = framework.chain_lines(ipv6, self.policies)
        directions = {"INPUT": "incoming", "FORWARD": "routed", "OUTPUT": "outgoing"}
        for line in header:
            builtin = line[1:].split(" ", 1)[0] if line.startswith(":") else ""
            out.append((self.policy_origin.get(directions.get(builtin, ""), base), line))
        out += [(base, line) for line in framework.body_lines(ipv6, self.policies)]
        for entry in self.rules6 if ipv6 else self.rules4:
            out += [(entry.origin, line) for line in iptables_lines(entry.rule, ipv6)]
        out.append((base, "COMMIT"))
        return out
