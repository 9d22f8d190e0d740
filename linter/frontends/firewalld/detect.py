"""Recognising firewalld's files: a root element <zone>, <service>, <policy> (or its definition files':
<ipset>, <icmptype>, <helper>) after the XML declaration, comments and a DOCTYPE (which the front end
refuses), and firewalld.conf; by path, any XML file in a firewalld/zones|services|policies|ipsets
directory and firewalld/direct.xml."""

from __future__ import annotations

import re
from pathlib import PurePath

from linter.frontends.registry import Detector, FrontEndInfo, Sniff

FIREWALLD_ROOT = re.compile(r"\A\ufeff?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
                            r"<(zone|service|policy|ipset|icmptype|helper)[\s>/]", re.S)
# What a walk asks of an XML file outside a firewalld/ directory besides its root: an element only
# firewalld's files have (a Windows service wrapper's <service> has none of them).
_FIREWALLD_CHILD = re.compile(r"<(short|port|interface|source|ingress-zone|egress-zone|entry|rule|masquerade|forward"
                              r"|forward-port|include)\b")
FIREWALLD_PATH = re.compile(r"(^|/)(firewalld/(zones|services|policies|ipsets)/[^/]+\.xml|firewalld/direct\.xml"
                            r"|firewalld\.conf)$")


def _firewalld(file: Sniff) -> bool:
    return bool(FIREWALLD_ROOT.match(file.head)
                or (file.name == "firewalld.conf" and re.search(r"^\s*DefaultZone\s*=", file.head, re.M))
                or (FIREWALLD_PATH.search(file.posix) and file.head.lstrip().startswith("<")))


def looks_like_firewalld_head(head: str) -> bool:
    """Whether an XML file's first KBs are a firewalld zone file, or a service or policy file with an
    element only firewalld's files have."""
    root = FIREWALLD_ROOT.match(head)
    return bool(root and (root.group(1) == "zone" or _FIREWALLD_CHILD.search(head)))


FRONT_ENDS = (
    FrontEndInfo(
        name="firewalld",
        module="linter.frontends.firewalld",
        detect=(Detector(10, _firewalld),),
        names=lambda path: bool(FIREWALLD_PATH.search(PurePath(path).as_posix())),
        hook_files=r"firewalld/(zones|services|policies)/[^/]*\.xml|firewalld\.conf",
        sniff_suffixes=(".xml",),
        sniff=looks_like_firewalld_head,
    ),
)
