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
    entries: list[_Entry] = field(default_factory=list)  # ufw status numbered: IPv4 rules, then IPv6
    first: object = None  # origin of the first ufw command
    switched: object = None  # origin of the last enable/disable
    policy_origin: dict[str, object] = field(default_factory=dict)

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
            self.entries.clear()
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
            if not 1 <= operation.number <= len(self.entries):
                return f"ufw has no rule {operation.number} at this point of the script: nothing is deleted"
            del self.entries[operation.number - 1]
            return None
        if isinstance(operation, DeleteRule):
            before = len(self.entries)
            self.entries = [e for e in self.entries if e.rule != operation.rule]
            return None if len(self.entries) < before else "no such rule at this point of the script: nothing is deleted"
        return self._add(operation, origin)

    def _add(self, operation: AddRule, origin) -> str | None:
        wanted = [v6 for v6 in families(operation.rule) if self.ipv6 or not v6]
        if not wanted:
            return "the rule mixes IPv4 and IPv6 addresses (or is IPv6 with IPV6=no): ufw refuses it"
        added = False
        for v6 in wanted:
            if any(e.rule == operation.rule and e.ipv6 == v6 for e in self.entries):
                continue  # ufw: "Skipping adding existing rule"
            entry = _Entry(operation.rule, v6, origin)
            same = [i for i, e in enumerate(self.entries) if e.ipv6 == v6]
            if operation.position is None:
                at = (same[-1] + 1) if same else (len(self.entries) if v6 else self._first_v6())
            else:
                # insert N counts ufw status numbered (IPv4 rules first); prepend puts it first of its family
                n = 0 if operation.position == 0 else operation.position - 1
                family_index = min(n if not v6 else max(0, n - self._count(False)), len(same))
                at = same[family_index] if family_index < len(same) else (
                    (same[-1] + 1) if same else (len(self.entries) if v6 else self._first_v6()))
            self.entries.insert(at, entry)
            added = True
        return None if added else "ufw skips adding an existing rule"

    def _count(self, v6: bool) -> int:
        return sum(1 for e in self.entries if e.ipv6 == v6)

    def _first_v6(self) -> int:
        return next((i for i, e in enumerate(self.entries) if e.ipv6), len(self.entries))

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
        for entry in self.entries:
            if entry.ipv6 == ipv6:
                out += [(entry.origin, line) for line in iptables_lines(entry.rule, ipv6)]
        out.append((base, "COMMIT"))
        return out
