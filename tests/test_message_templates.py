"""Messages come from the rules' YAML templates: checks pass fields, never a message."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from linter.message_template import TemplateError, render, template_fields
from linter.rulebook import all_rules

CHECKS_DIR = Path(__file__).resolve().parents[1] / "linter" / "checks"
REPORT_KEYWORDS = {"fields", "variant", "severity", "hint", "proto", "ports", "key", "related", "later"}


def _report_calls():
    """(file, function node, call node) for every ``ctx.report(...)`` in linter/checks."""
    for path in sorted(CHECKS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for function in ast.walk(tree):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr == "report" and isinstance(node.func.value, ast.Name) \
                        and node.func.value.id == "ctx":
                    yield path.name, function, node


def _constants(node, function) -> set:
    """The string constants (or None) an expression can be: a literal, a conditional of
    literals, or a local name assigned only such values in ``function``."""
    if isinstance(node, ast.Constant):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body, function) | _constants(node.orelse, function)
    if isinstance(node, ast.Name):
        values = set()
        for assign in ast.walk(function):
            if not isinstance(assign, ast.Assign):
                continue
            for target in assign.targets:
                if isinstance(target, ast.Name) and target.id == node.id:
                    values |= _constants(assign.value, function)
                elif isinstance(target, ast.Tuple) and isinstance(assign.value, ast.Tuple):
                    for element, value in zip(target.elts, assign.value.elts):
                        if isinstance(element, ast.Name) and element.id == node.id:
                            values |= _constants(value, function)
        return values
    raise AssertionError(f"cannot tell the values of {ast.unparse(node)}")


def _field_names(node, function) -> set[str]:
    """The keys a ``fields=`` argument can hold: a dict literal, or a local name assigned dict
    literals (and ``.update(...)``d) in ``function``."""
    if isinstance(node, ast.Dict):
        return {key.value for key in node.keys if isinstance(key, ast.Constant)}
    assert isinstance(node, ast.Name), f"fields= must be a dict literal or a local name: {ast.unparse(node)}"
    names = set()
    for sub in ast.walk(function):
        if isinstance(sub, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in sub.targets):
            names |= _field_names(sub.value, function)
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr == "update" \
                and isinstance(sub.func.value, ast.Name) and sub.func.value.id == node.id:
            names |= {keyword.arg for keyword in sub.keywords}
    return names


def test_checks_report_calls_were_found():
    assert len(list(_report_calls())) >= 25


@pytest.mark.parametrize("where,function,call", [
    pytest.param(name, function, call, id=f"{name}:{call.lineno}") for name, function, call in _report_calls()])
def test_a_check_never_passes_its_own_message(where, function, call):
    assert len(call.args) == 2, "ctx.report(code, span, ...): a message string is not accepted"
    assert {k.arg for k in call.keywords} <= REPORT_KEYWORDS, "no message= and no **fields: use fields={...}"


@pytest.mark.parametrize("where,function,call", [
    pytest.param(name, function, call, id=f"{name}:{call.lineno}") for name, function, call in _report_calls()])
def test_every_template_a_check_uses_gets_its_fields(where, function, call):
    rules = all_rules()
    keywords = {k.arg: k.value for k in call.keywords}
    codes = _constants(call.args[0], function)
    variants = _constants(keywords["variant"], function) if "variant" in keywords else {None}
    given = _field_names(keywords["fields"], function) if "fields" in keywords else set()
    if "later" in keywords:  # fields worded when the message is read: a dict literal too
        given |= _field_names(keywords["later"], function)
    for code in codes:
        templates = rules[code].templates()
        for variant in variants:
            template = next(iter(templates.values())) if variant is None else templates[variant]
            missing = template_fields(template) - given
            assert not missing, f"{code} {variant or 'default'} names {sorted(missing)}, not given at {where}"


def test_every_rule_template_is_plain_named_fields():
    for meta in all_rules().values():
        for template in meta.templates().values():
            template_fields(template)  # raises on anything else


@pytest.mark.parametrize("template", ["{a.b}", "{a[0]}", "{0}", "{}", "{a:>5}", "{a!s}", "{a", "}"])
def test_templates_refuse_anything_but_named_fields(template):
    with pytest.raises(TemplateError):
        render(template, {"a": "x"})


def test_render_fills_fields_and_refuses_a_missing_one():
    assert render("{service} ({ports}/{proto}){notes}", {"service": "Telnet", "ports": "23", "proto": "tcp",
                                                         "notes": ""}) == "Telnet (23/tcp)"
    assert render("Host IP {ip!r}", {"ip": "a'b"}) == "Host IP \"a'b\""
    with pytest.raises(TemplateError, match="reach"):
        render("{service} is reachable {reach}", {"service": "SSH"})


def test_a_variant_is_chosen_by_name_and_an_unknown_one_is_an_error():
    meta = all_rules()["PL403"]
    assert meta.render_message({"count": 1, "verdict": "drop", "chain": "INPUT"}) == \
        "1 rule follows an unconditional drop in INPUT and is never reached"
    assert meta.render_message({"count": 2, "verdict": "drop", "chain": "INPUT"}, "many") == \
        "2 rules follow an unconditional drop in INPUT and are never reached"
    with pytest.raises(TemplateError, match="no message variant"):
        meta.render_message({}, "plural")
