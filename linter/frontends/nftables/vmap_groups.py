"""Verdict maps on one selector lowered into one rule per distinct verdict.

``tcp dport vmap { 22 : accept, 23 : drop, 80 : accept }`` reads as two rules, ``tcp dport
{ 22, 80 } accept`` and ``tcp dport 23 drop``, each key set matched the way an anonymous set
``tcp dport { 22, 80 }`` is. This is exact because a packet meets at most one key of a verdict
map: nft refuses duplicate keys and overlapping intervals, so the order of the per-verdict
rules cannot change what a packet meets. The lowering checks that instead of trusting it
(the keys' sizes must add up to the size of their union) and gives up, leaving the map to
the per-element expansion, whenever a key is not plainly a port, an address, a conntrack
state, a protocol or an interface name, or when reading the grouped keys says anything
(an error, an opaque match).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linter.frontends.nftables.atoms import Val
from linter.frontends.nftables.matches import extend
from linter.frontends.nftables.keywords import CT_STATES, PORT_PROTOCOLS, VERDICTS
from linter.model import AddressMatch, InterfaceMatch, normalize_ranges, PortMatch, ProtocolMatch, StateMatch

if TYPE_CHECKING:
    from linter.frontends.nftables.atoms import Sel, Term, VerdictSpec
    from linter.frontends.nftables.to_model import TableBuilder

_NAME_SELECTORS = frozenset({
    ("ct", "state"), ("ip", "protocol"), ("ip6", "nexthdr"), ("meta", "l4proto"),
    ("meta", "iifname"), ("meta", "iif"), ("meta", "oifname"), ("meta", "oif"),
})


def _selector_kind(words: tuple) -> str | None:
    """"ports", "addresses" or "names" for the selectors whose keys group, else None."""
    if words in _NAME_SELECTORS:
        return "names"
    if len(words) == 2 and words[1] in ("sport", "dport") and (words[0] in PORT_PROTOCOLS or words[0] == "th"):
        return "ports"
    if len(words) == 2 and words[0] in ("ip", "ip6") and words[1] in ("saddr", "daddr"):
        return "addresses"
    return None


def grouped_options(builder: TableBuilder, words: tuple, term: Term,
                    entries: list[tuple[list[Val], VerdictSpec]]) -> list[tuple[list, VerdictSpec]] | None:
    """The map's options (matches, verdict spec) one per distinct verdict in order of first
    appearance, or None when grouping is not exact (then nothing was reported)."""
    kind = _selector_kind(words)
    if kind is None or not entries:
        return None
    groups: dict[tuple, tuple[VerdictSpec, list[Val]]] = {}
    for keys, spec in entries:
        if spec.binding is not None:
            return None
        signature = (spec.kind, spec.target, tuple(spec.options), spec.terminal_other)
        group = groups.get(signature)
        if group is None:
            groups[signature] = (spec, list(keys))
        else:
            group[1].extend(keys)
    state = builder.state
    saved = (len(state.diagnostics), state.errors_reported, set(state.opaque_seen))
    options = []
    for spec, keys in groups.values():
        value = Val("list", keys, first=keys[0].first, last=keys[-1].last)
        matches = builder.matches_for(words, "==", value, term)
        options.append((matches, spec))
    mains = [matches[-1] if matches else None for matches, _ in options]
    exact = _disjoint(builder, words[0], kind, mains, entries)
    if not exact or (len(state.diagnostics), state.errors_reported) != saved[:2]:
        del state.diagnostics[saved[0]:]
        state.errors_reported = saved[1]
        state.opaque_seen = saved[2]
        return None
    return options


def element_options(builder: TableBuilder, sel: Sel, term: Term, entries: list) -> list:
    """A map's options one per key (where grouping by verdict would not be exact)."""
    options = []
    for keys, spec in entries:
        for one in keys:
            parts = one.a if one.kind == "concat" else [one]
            conj: list = []
            for words, component in zip(sel.parts, parts):
                extend(conj, builder.matches_for(words, "==", component, term))
            options.append((conj, spec))
    return options


def _disjoint(builder: TableBuilder, proto: str, kind: str, mains: list, entries: list) -> bool:
    """Whether the keys are pairwise disjoint: their sizes add up to the size of their union."""
    if kind == "ports":
        if not all(isinstance(m, PortMatch) and not m.negated for m in mains):
            return False
        union = _size(normalize_ranges([r for m in mains for r in m.ports.ranges]))
        total = 0
        for keys, _ in entries:
            for key in keys:
                size = _port_key_size(builder, key, proto)
                if size is None:
                    return False
                total += size
        return total == union
    if kind == "addresses":
        if not all(isinstance(m, AddressMatch) and not m.negated for m in mains):
            return False
        family = mains[0].addresses.family
        if any(m.addresses.family is not family for m in mains):
            return False
        union = _size(normalize_ranges([r for m in mains for r in m.addresses.ranges]))
        total = 0
        for keys, _ in entries:
            for key in keys:
                span = builder.address_range(key, family)
                if span is None:
                    return False
                total += span[1] - span[0] + 1
        return total == union
    if any(isinstance(m, StateMatch) for m in mains) and not all(
            key.kind == "tok" and key.a.value in CT_STATES for keys, _ in entries for key in keys):
        return False  # `0x6` is two states (nft -n writes states as bits)
    names: set = set()
    for match in mains:
        if isinstance(match, StateMatch) and not match.negated:
            names.update(match.states)
        elif isinstance(match, ProtocolMatch) and not match.negated:
            names.update(match.protocols)
        elif isinstance(match, InterfaceMatch) and not match.negated:
            if any(name.endswith(("+", "*")) for name in match.names):
                return False  # a wildcard overlaps the names it covers
            names.update(match.names)
        else:
            return False
    count = 0
    for keys, _ in entries:
        for key in keys:
            if key.kind != "tok":
                return False
            count += 1
    return count == len(names)


def _port_key_size(builder: TableBuilder, key: Val, proto: str) -> int | None:
    if key.kind == "tok":
        return None if key.a.value == "*" else 1
    if key.kind == "range":
        low, high = builder.port_number(key.a, proto), builder.port_number(key.b, proto)
        if low is None or high is None or low > high:
            return None
        return high - low + 1
    return None


def _size(ranges) -> int:
    return sum(high - low + 1 for low, high in ranges)


_VERDICT_WORDS = frozenset({"accept", "drop", "return", "continue"})


def plain_verdict_key(data: list) -> tuple | None:
    """What decides the spec of a map element's data when it is a plain verdict (``drop``,
    ``jump chain``, ...), else None: equal keys read as equal specs."""
    if len(data) == 1:
        atom = data[0]
        return (atom.value,) if atom.type == "WORD" and atom.value in _VERDICT_WORDS else None
    if len(data) == 2:
        word, target = data
        if word.type == "WORD" and word.value in ("jump", "goto") and target.type in ("WORD", "STRING") \
                and target.value not in VERDICTS:
            return word.value, target.type, target.value
    return None
