"""Names ufw accepts in place of a port: application profiles and /etc/services names.

Both come from rules/ufw/applications.yaml (data written for portlint), never from the
machine portlint runs on, so a script means the same everywhere.
"""

from __future__ import annotations

import functools

from linter.grammars import data_dir, read_yaml

# One protocol's ports of a profile: ("tcp", "80,443"); protocol None means tcp and udp.
PortGroup = tuple[str | None, str]


@functools.lru_cache(maxsize=1)
def _data() -> dict:
    data = read_yaml(data_dir("rules") / "ufw" / "applications.yaml")
    return data if isinstance(data, dict) else {}


def application(name: str) -> tuple[str, tuple[PortGroup, ...]] | None:
    """The profile called ``name`` (ufw matches names case-insensitively when no exact one
    exists) as (its own spelling, its port groups), or None when no profile has that name."""
    profiles = _data().get("applications", {})
    found = name if name in profiles else next((n for n in profiles if n.lower() == name.lower()), None)
    if found is None:
        return None
    groups = []
    for part in str(profiles[found]).split("|"):
        ports, _, proto = part.partition("/")
        groups.append((proto or None, ports))
    return found, tuple(groups)


def service(name: str) -> tuple[int, tuple[str, ...]] | None:
    """The port and protocols of an /etc/services name ufw accepts ("ssh" -> (22, ("tcp",)))."""
    entry = _data().get("services", {}).get(name)
    if entry is None:
        return None
    port, protocols = entry
    return int(port), tuple(str(protocols).split())
