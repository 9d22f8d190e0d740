"""What service a finding is about: the file's own evidence before the port number.

A rule commented "tor ORPort" on 9001 is a Tor relay, not supervisord; a ``postgres:16``
container published on 15432 is PostgreSQL; an ``nginx`` container's 9000 is HTTP, not
ClickHouse. ``identify`` weighs, in order: the container image, the rule's comment, and
last the port number's registry entry. ``identify_range`` does the same for a deliberate
port range (RTP media, passive FTP) and ranks the registered services inside it.

Registry data in, no engine: the checks call these with what they already know.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from linter.model import ports_text
from linter.ports import PortEntry, PortRegistry

COMMENT = "comment"
IMAGE = "image"
PORT = "port"

# A comment longer than this is prose ("See the Oracle-Provided Images section ..."), not a label
# naming the service: it is not taken as evidence.
LABEL_WORDS = 8
# Longer than this, a comment is prose whatever its words: it is not searched at all (matching
# names against a 500,000-character comment took minutes).
LABEL_CHARS = 200
# Words that say what a rule does, for whom or from where, not which service it is.
FILLER = frozenset("""
    a an the and or of on in at by via to from for with without into only all any every this that these those
    allow allowed allows accept accepted accepts permit permitted open opens opened pass drop deny denied reject
    block blocked log enable enabled disable disabled add added new old keep let lets needed need required
    incoming inbound ingress outgoing outbound egress input output forward forwarding forwarded prerouting
    postrouting nat dnat snat masquerade redirect redirected redirection
    port ports tcp udp sctp ip ipv4 ipv6 v4 v6 proto protocol protocols traffic packet packets access connection
    connections conn session sessions request requests reply replies response responses established related
    state invalid rule rules chain policy default
    service services server servers daemon host hosts client clients node nodes
    local remote public private internal external lan wan dmz internet world everyone anyone anywhere
    network networks net subnet range trusted untrusted office home site sites customer customers users user
    admin admins administrator management mgmt monitoring backup
    test testing tests temp temporary tmp todo fixme foo bar baz example sample misc other others various
    main primary secondary extra custom legacy generic common standard
    compose container containers cluster nodeport nodeports kubernetes k8s kube pod pods svc endpoint endpoints
    loadbalancer system namespace ufw dapp sapp firewalld zone zones generated managed auto
""".split())  # the last line: words generators (Docker, kube-proxy, ufw, firewalld) put in their comments


@dataclass(frozen=True)
class Identity:
    """What a finding about ``port``/``transport`` should name.

    ``entry``: the registry entry the finding is about, or None when the evidence names a
    service the registry does not hold (no risky-service finding is then made up from the
    port number) or when nothing at all is known of the port. ``name``: how a message names
    the service. ``source``: "image", "comment" or "port". ``evidence``: the image as
    written, or the rule's comment. ``port_entry``: what the port number alone would say.
    """

    entry: PortEntry | None
    name: str
    source: str
    port: int
    transport: str
    evidence: str | None = None
    port_entry: PortEntry | None = None

    @property
    def phrase(self) -> str:
        """The service in a message: "Tor ORPort (per the rule's comment)", "PostgreSQL (image
        postgres:16)", "port 9090 (commonly prometheus)", or "port 40123"."""
        if self.source == COMMENT:
            return f"{self.name} (per the rule's comment)"
        if self.source == IMAGE:
            return f"{self.name} (image {self.evidence})"
        if self.name != str(self.port):
            return f"port {self.port} (commonly {self.name})"
        return f"port {self.port}"

    @property
    def confirms_port(self) -> bool:
        """Whether the evidence names the entry the port number names anyway."""
        return self.entry is not None and self.entry is self.port_entry

    @property
    def from_evidence(self) -> bool:
        return self.source != PORT


@dataclass(frozen=True)
class RangeIdentity:
    """A deliberate port range: its size, what the comment says it is for, and the registered
    services whose ports lie inside, most important first (``PortEntry.rank_key``)."""

    ranges: tuple[tuple[int, int], ...]
    transport: str
    size: int
    purpose: Identity | None
    notable: tuple[tuple[PortEntry, tuple[tuple[int, int], ...]], ...]

    def includes_text(self, limit: int = 6) -> str:
        """ "postgresql 5432, smb 445 and 3 more" (empty when nothing notable is inside)."""
        names = [f"{entry.name} {ports_text(ports)}" for entry, ports in self.notable]
        if len(names) <= limit:
            return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def identify(registry: PortRegistry, port: int, transport: str, *, comment: str | None = None,
             image: str | None = None) -> Identity:
    """The service behind ``port``/``transport``, from the image, the comment, then the port.

    - An image the registry lists names its entry; among several entries of one image the one
      whose ports hold ``port`` (a ``mysql`` container's 33060 is the X Protocol), else the first
      when the image's entries are all of one category (``nginx`` on 9000 is HTTP).
    - A comment that names a registered service (name, alias or title, whole words, any case)
      selects it, even on another port; one that names a service the registry does not hold
      gives ``entry`` None and the comment's words as the name; one that names nothing (only
      words such as "allow", "office", "tcp") leaves the port's entry.
    - Otherwise the port's registry entry, or None.
    """
    transport = transport.lower()
    port_entry = registry.lookup(port, transport)
    if image and image.strip() and len(image) <= LABEL_CHARS * 4:  # an image reference is short
        found = _from_image(registry, port, transport, image.strip(), port_entry)
        if found is not None:
            return found
    if comment and comment.strip() and len(comment) <= LABEL_CHARS:
        found = _from_comment(registry, port, transport, comment, port_entry)
        if found is not None:
            return found
    return _from_port(registry, port, transport, port_entry)


def identify_range(registry: PortRegistry, ranges, transport: str, comment: str | None = None) -> RangeIdentity:
    """A deliberate range (``((10000, 20000),)``): its size, the purpose its comment names (RTP
    media, passive FTP, or a service the registry does not hold), and the registered services
    with a risk whose ports lie inside, ranked by ``PortEntry.rank_key``."""
    transport = transport.lower()
    ranges = tuple(sorted((int(lo), int(hi)) for lo, hi in ranges))
    size = sum(hi - lo + 1 for lo, hi in ranges)
    purpose = None
    if comment and comment.strip() and len(comment) <= LABEL_CHARS:
        purpose = _from_comment(registry, ranges[0][0] if ranges else 0, transport, comment, None, ranges=ranges)
    inside = [(entry, ports) for entry, ports in registry.overlapping(ranges, transport) if entry.severity is not None]
    inside.sort(key=lambda item: item[0].rank_key)
    return RangeIdentity(ranges, transport, size, purpose, tuple(inside))


# --- evidence ---------------------------------------------------------------------------------


def _from_port(registry: PortRegistry, port: int, transport: str, port_entry: PortEntry | None) -> Identity:
    name = port_entry.name if port_entry else registry.describe(port, transport)
    return Identity(port_entry, name, PORT, port, transport, None, port_entry)


def _from_image(registry, port, transport, image, port_entry) -> Identity | None:
    """The image's entry for this port. A port none of its entries lists is still the image's
    service when all its entries are of one kind (nginx serves HTTP on any port it is told to,
    postgres with PGPORT=5433 is PostgreSQL), but not for an image of several kinds of service
    (Pi-hole's 67/udp is DHCP, not its DNS or its web admin): there the image says nothing."""
    every = registry.by_image(image, lookalike=False)
    lookalike = not every
    if lookalike:
        every = registry.by_image(image)
    entries = [e for e in every if transport in e.transports]
    if not entries:
        return None
    chosen = next((e for e in entries if e.covers(port, transport)), None)
    if chosen is None:
        # A lookalike ("mailu/nginx" is a mail proxy) only confirms the ports its namesake lists.
        if lookalike or len({e.category for e in every}) > 1:
            return None
        chosen = entries[0]
    return Identity(chosen, chosen.display_name, IMAGE, port, transport, image, port_entry)


def _from_comment(registry, port, transport, comment, port_entry, ranges=None) -> Identity | None:
    comment = _HOST_OR_ADDRESS.sub(" ", comment)  # "pageboard.fr", "10.0.0.0/8": where, not what
    words = _WORD.findall(comment)
    if not words or len(words) > LABEL_WORDS:
        return None
    named = _named_in(registry, comment)
    if named:
        def covers(entry):
            if ranges is not None:
                return transport in entry.transports and any(
                    lo <= r_hi and r_lo <= hi for lo, hi in entry.ranges for r_lo, r_hi in ranges)
            return entry.covers(port, transport)

        for entry, text in named:
            if covers(entry):
                return Identity(entry, text, COMMENT, port, transport, comment, port_entry)
        if port_entry is not None:
            for entry, text in named:
                if _same_family(port_entry, entry, text):
                    return Identity(port_entry, text, COMMENT, port, transport, comment, port_entry)
        entry, text = next(((e, t) for e, t in named if transport in e.transports), named[0])
        return Identity(entry, text, COMMENT, port, transport, comment, port_entry)
    significant = [w for w in words if _significant(w)]
    if not significant:
        return None
    if port_entry is not None and _describes(port_entry, significant):
        return None  # "Border Gateway Protocol" on 179: the comment describes the port's own service
    return Identity(None, _label(words, comment), COMMENT, port, transport, comment, port_entry)


def _same_family(port_entry: PortEntry, named: PortEntry, text: str) -> bool:
    """ "clickhouse" on 8123 is ClickHouse's HTTP port, "ssh" on 2222 the alternate SSH port, "tor
    relay" on 9030 the relay's DirPort, "nginx" on 443 HTTPS (one image serves both)."""
    stem = "-".join(_norm(text).split())
    return (port_entry.name.split("-")[0] == named.name.split("-")[0] or port_entry.name.startswith(stem + "-")
            or port_entry.name.endswith("-" + named.name) or port_entry.name.endswith("-" + stem)
            or bool(set(port_entry.images) & set(named.images)))


def _describes(entry: PortEntry, significant: list[str]) -> bool:
    """Whether the comment's words describe the entry ("Border Gateway Protocol" on 179, "mail" on
    143). A description's parenthesis names other services on the port ("9091 is also the
    Transmission web UI"): those words do not confirm the entry."""
    description = _PARENTHESIS.sub(" ", entry.description)
    known = set(_norm(" ".join([entry.name, entry.display_name, description, entry.category, *entry.aliases])).split())
    return any(_norm(w) in known for w in significant)


def _significant(word: str) -> bool:
    low = word.lower()
    return len(low) >= 3 and not any(c.isdigit() for c in low) and low not in FILLER


def _label(words: list[str], comment: str) -> str:
    """The comment's words without leading and trailing filler: "Allow minecraft worlds" → "minecraft worlds"."""
    start = next(i for i, w in enumerate(words) if _significant(w))
    end = max(i for i, w in enumerate(words) if _significant(w))
    return " ".join(words[start:end + 1])


_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# Host names, addresses, prefixes and kube-proxy's "namespace/service:port" labels.
_HOST_OR_ADDRESS = re.compile(r"[\w-]+(?:[.:/][\w-]+)+")
_PARENTHESIS = re.compile(r"\([^)]*\)")


def _norm(text: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


_MATCHERS: "weakref.WeakKeyDictionary[PortRegistry, tuple]" = weakref.WeakKeyDictionary()


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _matcher(registry: PortRegistry) -> tuple[re.Pattern | None, dict[str, list[PortEntry]]]:
    """One regular expression for every name, alias and title (whole words, any case, any
    separator between a term's words), longest first so that a longer mention wins where two
    start together ("http-alt" over "http"); and each term's entries by its squashed form."""
    found = _MATCHERS.get(registry)
    if found is None:
        entries: dict[str, list[PortEntry]] = {}
        bodies: dict[str, str] = {}
        for entry in registry.entries:
            for term in (entry.name, *entry.aliases, *([entry.title] if entry.title else [])):
                words = _norm(term).split()
                if not words:
                    continue
                key = "".join(words)
                if entry not in entries.setdefault(key, []):
                    entries[key].append(entry)
                bodies.setdefault(" ".join(words), r"[\W_]*".join(re.escape(w) for w in words))
        ordered = sorted(bodies.items(), key=lambda item: (-len(item[0]), item[0]))
        pattern = re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(body for _, body in ordered) + r")(?![A-Za-z0-9])",
                             re.IGNORECASE) if ordered else None
        found = (pattern, entries)
        _MATCHERS[registry] = found
    return found


def _named_in(registry: PortRegistry, comment: str) -> list[tuple[PortEntry, str]]:
    """Entries the comment names, in the order it names them, each with its first longest mention
    as written; a mention inside a longer one does not count ("http" in "http-alt")."""
    pattern, entries = _matcher(registry)
    if pattern is None:
        return []
    best: dict[str, tuple[int, str, PortEntry]] = {}
    for match in pattern.finditer(comment):
        text = match.group(0)
        for entry in entries.get(_squash(text), ()):
            prev = best.get(entry.name)
            if prev is None or len(text) > len(prev[1]):
                best[entry.name] = (prev[0] if prev else match.start(), text, entry)
    ordered = sorted(best.values(), key=lambda m: m[0])
    return [(entry, text) for _, text, entry in ordered]


# --- a port number shared by services of different risk ---------------------------------------


SHARED_AT_MOST = 16  # a wider entry (passive FTP data 1024-65535) is a range, not another service of the port


@dataclass(frozen=True)
class Hedge:
    """What a port number alone can say when other well-known services use it too: the
    registry's entry is only the usual one ("often supervisord; also Tor ORPort"), and a
    finding on the number alone is no worse than ``cap`` (a Tor relay's ORPort is harmless)."""

    others: tuple[PortEntry, ...]
    cap: object  # findings.Severity

    def phrase(self, port_text: str, name: str) -> str:
        """ "port 9001/tcp (often supervisord; also Tor ORPort, MinIO console)"."""
        return f"port {port_text} (often {name}; also {', '.join(e.display_name for e in self.others)})"


def hedge(registry: PortRegistry, entry: PortEntry, ports, transport: str) -> Hedge | None:
    """The other services a finding named by port number alone could be about, when one of them
    is less risky than ``entry``: entries found only by evidence (``evidence_only``) on the same
    ports and transport. The number alone then justifies at most medium: an engineer does not
    call a port high for a service nothing in the file names. None otherwise."""
    ports = tuple(ports)
    known = _HEDGES.setdefault(registry, {})
    key = (id(entry), ports, transport)
    found = known.get(key)
    if found is None or found[0] is not entry:
        found = known[key] = (entry, _hedge(registry, entry, ports, transport))
    return found[1]


# registry -> (id(entry), ports, transport) -> (entry, Hedge or None): an allow-list of 100k
# `from NET port 22` rules asks the same question of every registry entry 100k times.
_HEDGES: "weakref.WeakKeyDictionary[PortRegistry, dict]" = weakref.WeakKeyDictionary()


def _hedge(registry: PortRegistry, entry: PortEntry, ports: tuple, transport: str) -> Hedge | None:
    from linter.findings import Severity

    # Only an entry with a narrow range holding the first port can hold them all: look those up
    # (a Docker host's 25,000 published ports each asked every registry entry).
    candidates = _narrow_entries(registry, transport).get(ports[0][0], ()) if ports else registry.entries
    others = tuple(other for other in candidates
                   if other.evidence_only and other is not entry and transport in other.transports
                   and all(any(lo <= p_lo and p_hi <= hi and hi - lo < SHARED_AT_MOST for lo, hi in other.ranges)
                           for p_lo, p_hi in ports))
    own = entry.severity or Severity.INFO
    if not others or min((other.severity or Severity.INFO) for other in others) >= own:
        return None  # the usual service is the worst the number can be: "commonly X" says enough
    return Hedge(others, min(own, Severity.MEDIUM))


def _narrow_entries(registry: PortRegistry, transport: str) -> dict[int, list[PortEntry]]:
    """port -> the evidence-only entries of ``transport`` with a range narrower than
    SHARED_AT_MOST that holds the port, in registry order (built once per registry)."""
    by_transport = _NARROW.setdefault(registry, {})
    index = by_transport.get(transport)
    if index is None:
        index = by_transport[transport] = {}
        for other in registry.entries:
            if not other.evidence_only or transport not in other.transports:
                continue
            for lo, hi in other.ranges:
                if hi - lo < SHARED_AT_MOST:
                    for port in range(lo, hi + 1):
                        holders = index.setdefault(port, [])
                        if not holders or holders[-1] is not other:
                            holders.append(other)
    return index


_NARROW: "weakref.WeakKeyDictionary[PortRegistry, dict]" = weakref.WeakKeyDictionary()
