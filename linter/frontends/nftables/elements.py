"""The elements of a set or map group (``{ a, b }``, ``{ k : v }``), as the loader and the model builder read them."""

from __future__ import annotations

from linter.frontends.nftables import element_runs
from linter.frontends.nftables.atoms import Group, is_op, split_commas
from linter.frontends.nftables.builders import Elem


def set_elements(group: Group) -> list[Elem]:
    """The elements of a set or map group: key atoms, data atoms after ':' (maps)."""
    out = []
    pieces = element_runs.elements(group.run) if group.run is not None else split_commas(group.items)
    for element in pieces:
        if len(element) == 1:
            atom = element[0]
            if isinstance(atom, Group):
                out.extend(set_elements(atom))
            else:  # one atom: no ':' to split at
                out.append(Elem(element, None, element))
            continue
        if len(element) == 3 and element[1].type == "OP" and element[1].value == ":" and element[0].type != "OP":
            out.append(Elem(element[:1], element[2:], element))  # `key : data`, a map's usual element
            continue
        key, data = element, None
        depth = 0
        for index, atom in enumerate(element):
            if is_op(atom, "(", "["):
                depth += 1
            elif is_op(atom, ")", "]"):
                depth -= 1
            elif depth == 0 and is_op(atom, ":") and index > 0:
                key, data = element[:index], element[index + 1:]
                break
        out.append(Elem(key, data, element))
    return out
