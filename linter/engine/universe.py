"""The starting points of an analysis: interface representatives and initial boxes."""

from __future__ import annotations

from linter.addresses import LOOPBACK_V4, LOOPBACK_V6, family_max
from linter.engine import intervals as iv
from linter.engine.rule_scan import rule_scan
from linter.engine.space import ALL_STATES, Box
from linter.model import Family, Ruleset

LOOPBACK_IFACE = "lo"
OTHER_IFACE = "\x00other"


def interface_representatives(rulesets: list[Ruleset]) -> frozenset[str]:
    """One interface name per region of the interface space that the rules can tell apart.

    Every exact name a rule uses stands for itself; a wildcard ``eth+`` adds
    ``eth\\x00`` (an interface that matches eth+ and no longer name or wildcard);
    ``\\x00other`` is any interface no rule names. ``lo`` is always there.
    """
    names = {LOOPBACK_IFACE, OTHER_IFACE}
    for ruleset in rulesets:
        names.update(rule_scan(ruleset).names)  # (one pass shared with roles.py: rule_scan.py)
    return frozenset(names)


def describe_interface(rep: str) -> str:
    """How a representative interface reads in output."""
    if rep == OTHER_IFACE:
        return "any"
    if rep.endswith("\x00"):
        return rep[:-1] + "+"
    return rep


def loopback_ranges(family: Family) -> iv.Ranges:
    return LOOPBACK_V6 if family is Family.IPV6 else LOOPBACK_V4


def initial_boxes(family: Family, interfaces: frozenset[str], states=frozenset({"new"})) -> list[Box]:
    """New connections of ``family`` from anywhere to this host: one box for lo, one for the rest."""
    maximum = family_max(family)
    everything = iv.full(maximum)
    boxes = []
    external = interfaces - {LOOPBACK_IFACE}
    boxes.append(Box(family, iv.full(255), iv.full(65535), iv.full(65535), everything, everything,
                     frozenset({LOOPBACK_IFACE}), states & ALL_STATES))
    if external:
        # Packets with a loopback destination never arrive from outside (martians).
        not_loopback = iv.subtract(everything, loopback_ranges(family))
        boxes.append(Box(family, iv.full(255), iv.full(65535), iv.full(65535), not_loopback, not_loopback,
                         external, states & ALL_STATES))
    return boxes


def routed_boxes(family: Family, interfaces: frozenset[str], states=frozenset({"new"})) -> list[Box]:
    """New connections of ``family`` from outside to other hosts, routed through this one:
    any destination but loopback, in on any interface but lo, out on any interface but lo."""
    external = interfaces - {LOOPBACK_IFACE}
    if not external:
        return []
    not_loopback = iv.subtract(iv.full(family_max(family)), loopback_ranges(family))
    return [Box(family, iv.full(255), iv.full(65535), iv.full(65535), not_loopback, not_loopback,
                external, states & ALL_STATES, local=False, oif=external)]
