"""Building the model objects of many rule lines without the frozen dataclasses' __init__.

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``, a global and an attribute lookup and a generic
setattr per field: about 1 µs for a Span or a Rule, a third of what a 100,000-line
blocklist costs per line. These functions make the same objects (equal, same hash, same
type) by calling each field's slot descriptor directly, which is what that ``__init__``
ends up doing. They take every field, in the dataclass's order, and check nothing:
callers pass what the class's constructor would be given.
"""

from __future__ import annotations

from linter.model import AddressMatch, AddressSet, Chain, PortMatch, PortSet, Rule, Span, Verdict

_new = object.__new__


def _setters(cls, names: str):
    """The slot descriptors' setters of ``cls``'s fields ``names``, checked to be all its fields."""
    fields = tuple(cls.__dataclass_fields__)
    if fields != tuple(names.split()):
        raise AssertionError(f"{cls.__name__} fields changed: {fields}")
    return tuple(cls.__dict__[name].__set__ for name in fields)


_SPAN = _setters(Span, "path line column end_line end_column")
_RULE = _setters(Rule, "matches verdict span comment statements text")
_ADDRESS_SET = _setters(AddressSet, "family ranges text")
_ADDRESS_MATCH = _setters(AddressMatch, "direction addresses negated")
_PORT_SET = _setters(PortSet, "ranges")
_PORT_MATCH = _setters(PortMatch, "direction ports negated")
_CHAIN = _setters(Chain, "name rules span hook type priority policy device role")
_VERDICT = _setters(Verdict, "kind target to_addresses to_ports options terminal_other other_outcome")


def span(path, line, column, end_line, end_column, _set=_SPAN) -> Span:
    """``Span(path, line, column, end_line, end_column)``."""
    made = _new(Span)
    _set[0](made, path)
    _set[1](made, line)
    _set[2](made, column)
    _set[3](made, end_line)
    _set[4](made, end_column)
    return made


def rule(matches, verdict, where, comment, statements, text, _set=_RULE) -> Rule:
    """``Rule(matches, verdict, where, comment, statements, text)``."""
    made = _new(Rule)
    _set[0](made, matches)
    _set[1](made, verdict)
    _set[2](made, where)
    _set[3](made, comment)
    _set[4](made, statements)
    _set[5](made, text)
    return made


def address_set(family, ranges, text, _set=_ADDRESS_SET) -> AddressSet:
    """``AddressSet(family, ranges, text)``."""
    made = _new(AddressSet)
    _set[0](made, family)
    _set[1](made, ranges)
    _set[2](made, text)
    return made


def port_set(ranges, _set=_PORT_SET) -> PortSet:
    """``PortSet(ranges)``."""
    made = _new(PortSet)
    _set[0](made, ranges)
    return made


def port_match(direction, ranges, negated, _set=_PORT_SET, _match=_PORT_MATCH) -> PortMatch:
    """``PortMatch(direction, PortSet(ranges), negated)``."""
    ports = _new(PortSet)
    _set[0](ports, ranges)
    made = _new(PortMatch)
    _match[0](made, direction)
    _match[1](made, ports)
    _match[2](made, negated)
    return made


def verdict(kind, target, to_addresses, to_ports, options, terminal_other, other_outcome,
            _set=_VERDICT) -> Verdict:
    """``Verdict(kind, target, to_addresses, to_ports, options, terminal_other, other_outcome)``."""
    made = _new(Verdict)
    _set[0](made, kind)
    _set[1](made, target)
    _set[2](made, to_addresses)
    _set[3](made, to_ports)
    _set[4](made, options)
    _set[5](made, terminal_other)
    _set[6](made, other_outcome)
    return made


def address_match(direction, family, ranges, text, negated, _set=_ADDRESS_SET,
                  _match=_ADDRESS_MATCH) -> AddressMatch:
    """``AddressMatch(direction, AddressSet(family, ranges, text), negated)``."""
    addresses = _new(AddressSet)
    _set[0](addresses, family)
    _set[1](addresses, ranges)
    _set[2](addresses, text)
    made = _new(AddressMatch)
    _match[0](made, direction)
    _match[1](made, addresses)
    _match[2](made, negated)
    return made


def chain(name, rules, where, hook, kind, priority, policy, device, role, _set=_CHAIN) -> Chain:
    """``Chain(name, rules, where, hook, kind, priority, policy, device, role)``."""
    made = _new(Chain)
    _set[0](made, name)
    _set[1](made, rules)
    _set[2](made, where)
    _set[3](made, hook)
    _set[4](made, kind)
    _set[5](made, priority)
    _set[6](made, policy)
    _set[7](made, device)
    _set[8](made, role)
    return made
