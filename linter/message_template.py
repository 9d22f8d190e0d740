"""Message templates of rules: `str.format` with named fields only, checked before use.

A rule's `message` in rules/PLxxx.yaml is one template, or a mapping of variant name to
template (the first is the default). A template may name fields as ``{name}`` or
``{name!r}`` and nothing else: no attribute or index access, no format spec, no positional
field, so rule data can never reach into the objects a check passes. Optional parts of a
message are chosen by variant (one rule, many rules) or given by the check as a phrase that
may be empty (``{notes}``: "; includes SSH (22/tcp)" or "").
"""

from __future__ import annotations

import string
from collections.abc import Mapping

_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A template that breaks the rules above, or fields that do not fill it."""


def template_fields(template: str) -> frozenset[str]:
    """The field names ``template`` uses; TemplateError when it uses anything but plain names."""
    found = _FIELDS.get(template)
    if found is None:
        found = _parse_fields(template)
        if len(_FIELDS) < 4096:
            _FIELDS[template] = found  # a few dozen templates, rendered up to 50,000 times a run
    return found


_FIELDS: dict[str, frozenset[str]] = {}


def _parse_fields(template: str) -> frozenset[str]:
    names = set()
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise TemplateError(f"malformed template {template!r}: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier():
            raise TemplateError(f"template {template!r}: field {{{name}}} must be a plain name")
        if spec:
            raise TemplateError(f"template {template!r}: field {{{name}}} may not have a format spec")
        if conversion not in (None, "r"):
            raise TemplateError(f"template {template!r}: field {{{name}}} may only use !r")
        names.add(name)
    return frozenset(names)


def render(template: str, fields: Mapping[str, object]) -> str:
    """``template`` filled with ``fields``; TemplateError when it names a field not given."""
    missing = template_fields(template) - set(fields)
    if missing:
        raise TemplateError(f"template {template!r} names fields not given: {', '.join(sorted(missing))}")
    return template.format_map(fields)
