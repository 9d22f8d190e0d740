"""Rule metadata: one YAML file per rule in rules/, the single source of its documentation."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from linter.findings import Severity
from linter.grammars import data_dir, read_yaml
from linter.message_template import TemplateError, render, template_fields

DOC_SECTIONS = ("what_it_does", "why_is_this_bad", "example", "use_instead", "references")
DOC_TITLES = {
    "what_it_does": "What it does",
    "why_is_this_bad": "Why is this bad?",
    "example": "Example",
    "use_instead": "Use instead",
    "references": "References",
}
STATUSES = ("preview", "stable", "deprecated", "removed")


class RuleDataError(ValueError):
    """A rule file that breaks the schema; the message names the file and key."""


@dataclass(frozen=True)
class RuleMeta:
    code: str
    name: str
    category: str
    severity: Severity
    status: str
    message: str  # the default template (the first variant)
    docs: dict
    cwe: str | None = None
    options: dict | None = None
    messages: dict | None = None  # variant name -> template, when the rule has several

    def templates(self) -> dict[str, str]:
        """Every message template of the rule by variant name; the first is the default."""
        return dict(self.messages) if self.messages else {"default": self.message}

    def render_message(self, fields, variant: str | None = None) -> str:
        """The message of a finding: the template of ``variant`` (None: the default) filled with
        ``fields``. TemplateError for a variant the rule lacks or a field not given."""
        templates = self.messages or {"default": self.message}  # read only: no copy per finding
        if variant is None:
            template = next(iter(templates.values()))
        elif variant in templates:
            template = templates[variant]
        else:
            raise TemplateError(f"{self.code} has no message variant {variant!r} (it has {', '.join(templates)})")
        return render(template, fields)

    def render_doc(self) -> str:
        """The rule's documentation as plain text, for `portlint rule CODE`."""
        lines = [f"{self.code} {self.name}", "", f"Category: {self.category}    Default severity: {self.severity}"
                 f"    Status: {self.status}" + (f"    {self.cwe}" if self.cwe else ""), ""]
        for section in DOC_SECTIONS:
            lines.append(f"## {DOC_TITLES[section]}")
            value = self.docs[section]
            if isinstance(value, list):
                lines.extend(f"- {item}" for item in value) if value else lines.append("(none)")
            else:
                lines.append(str(value).rstrip())
            lines.append("")
        if self.options:
            lines.append("## Options")
            lines.extend(f"- {key} (default {value})" for key, value in self.options.items())
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"


def _load_one(path) -> RuleMeta:
    data = read_yaml(path)
    required = ("code", "name", "category", "severity", "status", "message", "docs")
    for key in required:
        if key not in data:
            raise RuleDataError(f"{path}: missing key {key!r}")
    unknown = set(data) - set(required) - {"cwe", "options"}
    if unknown:
        raise RuleDataError(f"{path}: unknown keys {sorted(unknown)}")
    if path.stem != data["code"]:
        raise RuleDataError(f"{path}: file name does not match code {data['code']}")
    for section in DOC_SECTIONS:
        if section not in data["docs"]:
            raise RuleDataError(f"{path}: docs lack section {section!r}")
    if data["status"] not in STATUSES:
        raise RuleDataError(f"{path}: status must be one of {STATUSES}")
    messages = _templates(path, data["message"])
    return RuleMeta(
        code=data["code"], name=data["name"], category=data["category"],
        severity=Severity.parse(data["severity"]), status=data["status"], message=next(iter(messages.values())),
        docs=data["docs"], cwe=data.get("cwe"), options=data.get("options"),
        messages=messages if isinstance(data["message"], dict) else None,
    )


def _templates(path, message) -> dict[str, str]:
    """A rule's `message`: one template, or a non-empty mapping of variant name to template;
    each checked by message_template (plain named fields only)."""
    templates = message if isinstance(message, dict) else {"default": message}
    if not templates:
        raise RuleDataError(f"{path}: message has no template")
    for variant, template in templates.items():
        if not isinstance(variant, str) or not variant.isidentifier() or not isinstance(template, str):
            raise RuleDataError(f"{path}: message variant {variant!r} must be a name mapped to a string")
        try:
            template_fields(template)
        except TemplateError as exc:
            raise RuleDataError(f"{path}: {exc}") from None
    return dict(templates)


@functools.lru_cache(maxsize=1)
def all_rules() -> dict[str, RuleMeta]:
    """Every rule, by code, in code order."""
    rules = {}
    for path in sorted(data_dir("rules").glob("PL*.yaml")):
        meta = _load_one(path)
        rules[meta.code] = meta
    return rules


def get_rule(code: str) -> RuleMeta | None:
    """A rule by code ("PL101") or name ("plaintext-protocol-exposed"), case-insensitive."""
    rules = all_rules()
    wanted = code.strip()
    if wanted.upper() in rules:
        return rules[wanted.upper()]
    for meta in rules.values():
        if meta.name == wanted.lower():
            return meta
    return None
