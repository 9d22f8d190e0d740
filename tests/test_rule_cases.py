"""Every rule's case file (tests/cases/PLxxx.yaml) runs through the whole pipeline.

A failing case must produce exactly the findings of its code it lists (file, line, column,
severity); a passing case none of its code. The rule's documentation example is its first
failing case (`python -m linter.grammars` writes it), so every example shown runs here.
"""

from __future__ import annotations

import pytest

from linter.config import load_config
from linter.frontends import FrontEndOptions
from linter.gate import build_report
from linter.grammars import data_dir, read_yaml
from linter.pipeline import lint_paths
from linter.readpolicy import ReadPolicy
from linter.rule_cases import CASES_DIR, all_case_files, example_block
from linter.rulebook import all_rules

CASE_FILES = all_case_files()


def _cases():
    for code, cases in CASE_FILES.items():
        for case in cases.failing + cases.passing:
            kind = "fails" if case.failing else "passes"
            yield pytest.param(case, id=f"{code}-{kind}-{case.name.replace(' ', '_')}")


def _run(case, tmp_path):
    paths = case.write(tmp_path)
    config = load_config(isolated=True)
    settings = config.settings()
    names = [str(p) for p in paths]
    options = FrontEndOptions(read_policy=ReadPolicy.for_paths(names, allow=config.allow_read))
    result = lint_paths(names, settings, case.format, options=options, jobs=1)
    report = build_report(result, config, settings)
    return [(f.path, f.line, f.column, f.code, str(f.severity)) for f in report.findings + report.errors]


@pytest.mark.parametrize("case", list(_cases()))
def test_rule_case(case, tmp_path):
    found = _run(case, tmp_path)
    top = str(tmp_path) + "/"
    mine = sorted((path[len(top):] if path.startswith(top) else path, line, column, str(severity))
                  for path, line, column, code, severity in found if code == case.code)
    if case.failing:
        only = next(iter(case.files))
        expected = sorted((e.file or only, e.line, e.column, e.severity) for e in case.expect)
        assert mine == expected, f"every finding: {found}"
    else:
        assert mine == [], f"every finding: {found}"


def test_every_rule_has_a_case_file():
    assert set(CASE_FILES) == set(all_rules()), "add tests/cases/PLxxx.yaml (tests/cases/README.md)"


@pytest.mark.parametrize("code", sorted(CASE_FILES))
def test_a_rule_no_file_triggers_says_why(code):
    cases = CASE_FILES[code]
    if not cases.failing:
        assert cases.untriggerable and len(cases.untriggerable.split()) >= 5, \
            f"{cases.path}: untriggerable must say why no file can trigger {code}"
    else:
        assert cases.untriggerable is None, f"{cases.path}: has failing cases, so it is not untriggerable"


@pytest.mark.parametrize("code", sorted(CASE_FILES))
def test_the_rule_doc_example_is_the_first_failing_case(code):
    example = CASE_FILES[code].example()
    if example is None:
        return  # untriggerable: the rule file keeps its written example
    doc = read_yaml(data_dir("rules") / f"{code}.yaml")["docs"]["example"]
    assert doc == example, f"run `python -m linter.grammars` to write the example of {code} from its case file"


def test_example_block_round_trips_through_yaml():
    import yaml

    for text in ["*filter\n-A INPUT -j ACCEPT\nCOMMIT", "  indented first\n\nblank above", "a: 'quoted' # x"]:
        assert yaml.safe_load("docs:\n" + example_block(text))["docs"]["example"] == text


def test_cases_dir_is_the_tests_cases_directory():
    assert CASES_DIR.name == "cases" and CASES_DIR.parent.name == "tests" and CASES_DIR.is_dir()


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,error", [
    ("code: PL101\nformat: iptables-save\npassing: []\n", "no failing case and no untriggerable reason"),
    ("code: PL101\nfailing:\n- name: a\n  input: x\n", "lists the findings it expects"),
    ("code: PL101\nuntriggerable: because\npassing:\n- name: a\n  input: x\n  expect: [{line: 1, column: 1, severity: low}]\n",
     "a passing case expects nothing"),
    ("code: PL101\nfailing:\n- name: a\n  input: x\n  files: {a: x}\n  expect: [{line: 1, column: 1, severity: low}]\n",
     "give input or files"),
    ("code: PL101\nformat: iptables\nfailing:\n- name: a\n  input: x\n  expect: [{line: 1, column: 1, severity: low}]\n",
     "format must be one of"),
    ("code: PL101\nfailing:\n- name: a\n  input: x\n  expect: [{line: 1, severity: low}]\n", "expect entries"),
    ("code: PL101\nexample: x\n", "a mapping of"),
    ("code: PL102\nuntriggerable: x\n", "does not match code"),
])
def test_a_case_file_that_breaks_the_layout_is_refused(tmp_path, text, error):
    from linter.rule_cases import CaseFileError, load_case_file

    with pytest.raises(CaseFileError, match=error):
        load_case_file(_write(tmp_path, "PL101.yaml", text))


def test_sync_writes_the_first_failing_case_as_the_example(tmp_path):
    from linter.rule_cases import sync_examples

    cases = tmp_path / "cases"
    rules = tmp_path / "rules"
    cases.mkdir()
    rules.mkdir()
    _write(cases, "PL101.yaml", "code: PL101\nformat: iptables-save\nfailing:\n- name: a\n  input: |\n    one\n    two\n"
                                "  expect: [{line: 1, column: 1, severity: low}]\n")
    _write(rules, "PL101.yaml", "code: PL101\ndocs:\n  what_it_does: x\n  example: 'old'\n  use_instead: |-\n    y\n")
    assert sync_examples(rules, cases) == ["PL101"]
    assert (rules / "PL101.yaml").read_text() == \
        "code: PL101\ndocs:\n  what_it_does: x\n  example: |-\n    one\n    two\n  use_instead: |-\n    y\n"
    assert sync_examples(rules, cases) == []
