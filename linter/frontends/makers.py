"""Building the model objects of many rule lines without the frozen dataclasses' __init__.

A frozen dataclass's generated ``__init__`` stores each field with
``object.__setattr__(self, name, value)``, a global and an attribute lookup and a generic
setattr per field: about 1 µs for a Span or a Rule, a third of what a 100,000-line
blocklist costs per line. These functions make the same objects (equal, same hash, same
type) another way: each object is made as an instance of a plain class with the same slots
(``_building``), whose fields are set by plain attribute stores (the interpreter's fastest
store), and then given its real class by ``__class__`` assignment, which Python allows
between classes of the same slots (and checks: a model class whose layout changed fails at
import). They take every field, in the dataclass's order, and check nothing: callers pass
what the class's constructor would be given.
"""

from __future__ import annotations

from linter.model import AddressMatch, AddressSet, Chain, PortMatch, PortSet, Rule, Span, Verdict


def _building(cls, names: str):
    """A plain class with ``cls``'s slots, whose instances may become ``cls`` instances; ``names``
    are ``cls``'s fields in order, checked (the functions below set them by name)."""
    fields = tuple(cls.__dataclass_fields__)
    if fields != tuple(names.split()) or tuple(cls.__slots__) != fields:
        raise AssertionError(f"{cls.__name__} fields changed: {fields}")
    building = type(f"Building{cls.__name__}", (), {"__slots__": cls.__slots__})
    probe = building()
    probe.__class__ = cls  # a TypeError here: the layouts differ
    return building


_SPAN = _building(Span, "path line column end_line end_column")
_RULE = _building(Rule, "matches verdict span comment statements text")
_ADDRESS_SET = _building(AddressSet, "family ranges text")
_ADDRESS_MATCH = _building(AddressMatch, "direction addresses negated")
_PORT_SET = _building(PortSet, "ranges")
_PORT_MATCH = _building(PortMatch, "direction ports negated")
_CHAIN = _building(Chain, "name rules span hook type priority policy device role")
_VERDICT = _building(Verdict, "kind target to_addresses to_ports options terminal_other other_outcome")
# For loops that build these in place (iptables/shape_runs.py, iptables/plans.py), as the functions below do.
SPAN_BUILDER, RULE_BUILDER, ADDRESS_SET_BUILDER, ADDRESS_MATCH_BUILDER = _SPAN, _RULE, _ADDRESS_SET, _ADDRESS_MATCH


def span(path, line, column, end_line, end_column, _new=_SPAN, _cls=Span) -> Span:
    """``Span(path, line, column, end_line, end_column)``."""
    made = _new()
    made.path = path
    made.line = line
    made.column = column
    made.end_line = end_line
    made.end_column = end_column
    made.__class__ = _cls
    return made


def rule(matches, verdict, where, comment, statements, text, _new=_RULE, _cls=Rule) -> Rule:
    """``Rule(matches, verdict, where, comment, statements, text)``."""
    made = _new()
    made.matches = matches
    made.verdict = verdict
    made.span = where
    made.comment = comment
    made.statements = statements
    made.text = text
    made.__class__ = _cls
    return made


def line_rule(matches, verdict, path, line, end, comment, statements, text, _new_span=_SPAN, _span=Span,
              _new=_RULE, _cls=Rule) -> Rule:
    """``Rule(matches, verdict, Span(path, line, 1, line, end), comment, statements, text)``: a rule
    that is its line's text from column 1 (a span and a rule in one call)."""
    where = _new_span()
    where.path = path
    where.line = line
    where.column = 1
    where.end_line = line
    where.end_column = end
    where.__class__ = _span
    made = _new()
    made.matches = matches
    made.verdict = verdict
    made.span = where
    made.comment = comment
    made.statements = statements
    made.text = text
    made.__class__ = _cls
    return made


def address_set(family, ranges, text, _new=_ADDRESS_SET, _cls=AddressSet) -> AddressSet:
    """``AddressSet(family, ranges, text)``."""
    made = _new()
    made.family = family
    made.ranges = ranges
    made.text = text
    made.__class__ = _cls
    return made


def port_set(ranges, _new=_PORT_SET, _cls=PortSet) -> PortSet:
    """``PortSet(ranges)``."""
    made = _new()
    made.ranges = ranges
    made.__class__ = _cls
    return made


def port_match(direction, ranges, negated, _new_set=_PORT_SET, _set=PortSet, _new=_PORT_MATCH,
               _cls=PortMatch) -> PortMatch:
    """``PortMatch(direction, PortSet(ranges), negated)``."""
    ports = _new_set()
    ports.ranges = ranges
    ports.__class__ = _set
    made = _new()
    made.direction = direction
    made.ports = ports
    made.negated = negated
    made.__class__ = _cls
    return made


def verdict(kind, target, to_addresses, to_ports, options, terminal_other, other_outcome,
            _new=_VERDICT, _cls=Verdict) -> Verdict:
    """``Verdict(kind, target, to_addresses, to_ports, options, terminal_other, other_outcome)``."""
    made = _new()
    made.kind = kind
    made.target = target
    made.to_addresses = to_addresses
    made.to_ports = to_ports
    made.options = options
    made.terminal_other = terminal_other
    made.other_outcome = other_outcome
    made.__class__ = _cls
    return made


def address_match(direction, family, ranges, text, negated, _new_set=_ADDRESS_SET, _set=AddressSet,
                  _new=_ADDRESS_MATCH, _cls=AddressMatch) -> AddressMatch:
    """``AddressMatch(direction, AddressSet(family, ranges, text), negated)``."""
    addresses = _new_set()
    addresses.family = family
    addresses.ranges = ranges
    addresses.text = text
    addresses.__class__ = _set
    made = _new()
    made.direction = direction
    made.addresses = addresses
    made.negated = negated
    made.__class__ = _cls
    return made


def chain(name, rules, where, hook, kind, priority, policy, device, role, _new=_CHAIN, _cls=Chain) -> Chain:
    """``Chain(name, rules, where, hook, kind, priority, policy, device, role)``."""
    made = _new()
    made.name = name
    made.rules = rules
    made.span = where
    made.hook = hook
    made.type = kind
    made.priority = priority
    made.policy = policy
    made.device = device
    made.role = role
    made.__class__ = _cls
    return made
