"""A port drop's first probe in the dead-rule analysis's index of decided boxes.

DecidedIndex._probe (engine/decided_index.py) picks one packet of a box, dimension by
dimension. A port drop (a random mix's ``-p tcp --dport N -j DROP``, 12.5k of mix 100k's rules)
is the universe but for its protocols and destination ports, and the probe's values in every
other dimension are the whole probe's, kept by the index: only those two are looked up here.
"""

from __future__ import annotations

from linter.engine.space import Box

_PROTO, _DPORT, _SRC, _SPORT, _DST, _IIF, _STATE, _LOCAL = (Box._fields.index(name) for name in (
    "proto", "dport", "src", "sport", "dst", "iif", "state", "local"))


def probe_ports(index, box: Box, proto_bit: int, dport_bit: int) -> tuple[Box, int]:
    """``index._probe(box)`` (``index`` a DecidedIndex; ``proto_bit``, ``dport_bit``: its
    dimension bits there), the same packet and free bits, and the whole probe's values and bits
    left as _probe leaves them. A box whose sources, source ports, destinations, input
    interfaces and conntrack states are not the universe's own objects, or an index whose whole
    probe's values there are not known yet, goes through _probe itself."""
    full, whole_values = index.full, index.whole_values
    if box.src is not full[_SRC] or box.sport is not full[_SPORT] or box.dst is not full[_DST] \
            or box.iif is not full[_IIF] or box.state is not full[_STATE] or whole_values[_SRC] is None \
            or whole_values[_SPORT] is None or whole_values[_DST] is None or whole_values[_IIF] is None \
            or whole_values[_STATE] is None:
        return index._probe(box)
    values = list(whole_values)
    free_bits = index.whole_bits
    values[_LOCAL] = True if box.local is None else box.local
    touched_whole = index.touched_whole
    for dim, bit in ((_PROTO, proto_bit), (_DPORT, dport_bit)):  # (_probe's loop there, _probe_value inline)
        mine, whole = box[dim], full[dim]
        if mine is not whole and mine != whole:
            value = None if dim in touched_whole else index.touched[dim].first_outside(mine)
            if value is None:
                values[dim] = ((mine[0][0], mine[0][0]),)
                free_bits &= ~bit
            else:
                values[dim] = ((value, value),)
                free_bits |= bit
        elif values[dim] is None:
            found = index._probe_value(dim, whole)
            whole_values[dim] = values[dim] = found[0]
            index.whole_bits |= found[1]
            free_bits |= found[1]
    return tuple.__new__(Box, values), free_bits
