"""Every rule documents itself, and `portlint rule CODE` prints it."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from linter.cli import main
from linter.rulebook import DOC_SECTIONS, all_rules, get_rule

RULES = all_rules()


def test_codes_follow_the_scheme():
    assert RULES, "no rules loaded"
    for code, meta in RULES.items():
        assert re.fullmatch(r"PL\d{3}", code)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", meta.name), meta.name
        assert not meta.message.endswith("."), f"{code}: messages carry no trailing period"


def test_names_are_unique():
    names = [meta.name for meta in RULES.values()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("code", sorted(RULES))
def test_every_section_is_written(code):
    meta = RULES[code]
    for section in DOC_SECTIONS:
        value = meta.docs[section]
        if section != "references":
            assert isinstance(value, str) and len(value.strip()) >= 10, f"{code}: {section} is empty"


@pytest.mark.parametrize("code", sorted(RULES))
def test_rule_command_prints_the_doc(code):
    result = CliRunner().invoke(main, ["rule", code])
    assert result.exit_code == 0
    for title in ("What it does", "Why is this bad?", "Example", "Use instead", "References"):
        assert f"## {title}" in result.output
    assert result.output.startswith(f"{code} {RULES[code].name}")


def test_rule_by_name_and_unknown():
    assert get_rule("plaintext-protocol-exposed").code == "PL101"
    result = CliRunner().invoke(main, ["rule", "PL999"])
    assert result.exit_code == 2
    assert "no rule 'PL999'" in result.output


def test_rules_lists_all():
    result = CliRunner().invoke(main, ["rules"])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) == len(RULES)
