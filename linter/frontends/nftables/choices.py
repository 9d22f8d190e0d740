"""nft ``numgen`` verdict and NAT maps whose keys cover every number the generator gives.

``numgen random mod 2 vmap { 0 : goto a, 1 : goto b }`` expands into one rule per key, each
with an opaque ``numgen`` match; read that way a packet could match neither and go on past
the map, which nft never does. When the keys are exactly 0..N-1 (no offset) and no verdict
comes back to the chain (goto, accept, drop, reject, a NAT), the last alternative is what
every packet the others did not take meets: its numgen match is dropped, as kube-proxy's
iptables rules leave the last endpoint without ``-m statistic``.
"""

from __future__ import annotations

import re

from linter.model import OpaqueMatch, VerdictKind

_SELECTOR = re.compile(r"numgen\s+(?:random|inc)\s+mod\s+(\d{1,6})")
_KEY = re.compile(r"numgen\s+(?:random|inc)\s+(\d{1,6})")
_NOT_COMING_BACK = frozenset({VerdictKind.GOTO, VerdictKind.ACCEPT, VerdictKind.DROP, VerdictKind.REJECT,
                              VerdictKind.DNAT, VerdictKind.SNAT, VerdictKind.MASQUERADE, VerdictKind.REDIRECT})


def exhaustive(selector_text: str, options: list) -> list:
    """``options`` (a map's alternatives: (matches, verdict spec)) with the last one's numgen
    match removed when the alternatives take every packet; unchanged otherwise."""
    found = _SELECTOR.fullmatch(selector_text.strip())
    if found is None or not options:
        return options
    modulus = int(found[1])
    keys = []
    for matches, spec in options:
        numgen = [m for m in matches if isinstance(m, OpaqueMatch) and m.module.startswith("numgen")]
        key = _KEY.fullmatch(numgen[0].text) if len(numgen) == 1 and len(matches) == 1 else None
        if key is None or spec is None or spec.kind not in _NOT_COMING_BACK:
            return options
        keys.append(int(key[1]))
    if sorted(keys) != list(range(modulus)):
        return options
    *taken, (_, last_spec) = options
    return [*taken, ([], last_spec)]
