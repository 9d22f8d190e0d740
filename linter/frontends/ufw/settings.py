"""/etc/default/ufw beside a script: the default policies and IPV6 setting ufw starts from.

Looked for as ``etc/default/ufw`` or ``default/ufw`` in the script's directory and the
directories above it that the run may read (a configuration repository keeps the host's
/etc tree next to its provisioning scripts). Without one, ufw's shipped defaults apply:
incoming DROP, outgoing ACCEPT, routed DROP, IPv6 on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from linter.readpolicy import ReadPolicy

_SETTING = re.compile(r"""^\s*(DEFAULT_(?:INPUT|OUTPUT|FORWARD)_POLICY|IPV6)\s*=\s*["']?([A-Za-z]+)["']?\s*(?:#.*)?$""",
                      re.M)
_DIRECTIONS = {"DEFAULT_INPUT_POLICY": "incoming", "DEFAULT_OUTPUT_POLICY": "outgoing",
               "DEFAULT_FORWARD_POLICY": "routed"}
_MAX_LEVELS = 6
_MAX_BYTES = 65536


@dataclass(frozen=True)
class Defaults:
    """What /etc/default/ufw sets: policies by direction (ACCEPT/DROP/REJECT), IPv6 on or off."""

    path: str
    policies: dict
    ipv6: bool | None


def find_defaults(script_path: str, policy: ReadPolicy | None) -> Defaults | None:
    """The /etc/default/ufw of the tree a script lies in, read, or None when there is none."""
    if script_path in ("-", ""):
        return None
    policy = policy or ReadPolicy.for_file(script_path)
    directory = os.path.dirname(os.path.abspath(script_path))
    for _ in range(_MAX_LEVELS):
        if not policy.may_contain(directory):
            break
        for candidate in (os.path.join(directory, "etc", "default", "ufw"), os.path.join(directory, "default", "ufw")):
            if os.path.isfile(candidate) and policy.refusal(candidate) is None:
                return read_defaults(candidate)
        parent = os.path.dirname(directory)
        if parent == directory:
            break
        directory = parent
    return None


def read_defaults(path: str) -> Defaults | None:
    """The settings of one /etc/default/ufw file (unreadable: None)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(_MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    policies = {}
    ipv6 = None
    for name, value in _SETTING.findall(text):
        if name == "IPV6":
            ipv6 = value.lower() == "yes"
        elif value.upper() in ("ACCEPT", "DROP", "REJECT"):
            policies[_DIRECTIONS[name]] = value.upper()
    return Defaults(path, policies, ipv6)


def new_state(script_path: str, policy: ReadPolicy | None):
    """A UfwState starting from the /etc/default/ufw found for ``script_path`` (else ufw's defaults)."""
    from linter.frontends.ufw.state import UfwState

    state = UfwState()
    defaults = find_defaults(script_path, policy)
    if defaults is not None:
        state.policies.update(defaults.policies)
        if defaults.ipv6 is not None:
            state.ipv6 = defaults.ipv6
    return state
