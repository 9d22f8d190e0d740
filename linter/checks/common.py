"""What several checks share: how ports read in a message, how a registry entry rates, and the
thresholds that make a list of services short. One copy, imported by every check that needs it."""

from __future__ import annotations

from linter.findings import Severity
from linter.model import ports_text
from linter.netdb import TRANSPORT_NAMES, TRANSPORT_NUMBERS

__all__ = ["LIST_AT_MOST", "PORT_TRANSPORTS", "TRANSPORT_NUMBERS", "WIDE_PORTS", "ports_text", "registry_severity"]

PORT_TRANSPORTS = TRANSPORT_NAMES  # protocol number -> transport name, for the protocols with ports
WIDE_PORTS = 1024  # an accept wider than this is reported once, listing the services
LIST_AT_MOST = 6  # services named in one message; the rest are counted


def registry_severity(entry) -> Severity:
    """The severity a registered service's exposure gets: its registry severity, except that
    low-risk services (HTTP, SSH...) are worth a note, not a failed build (info)."""
    severity = entry.severity
    return Severity.INFO if severity is Severity.LOW else severity
