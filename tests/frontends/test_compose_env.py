"""Compose interpolation and the env-file format."""

import pytest

from linter.frontends.compose.env import InvalidTemplate, Interpolator, parse_env_file, variables

VARS = {"PORT": "8080", "EMPTY": "", "HOST": "127.0.0.1", "INNER": "9000"}


@pytest.mark.parametrize("text, expected", [
    ("$PORT:80", "8080:80"),
    ("${PORT}:80", "8080:80"),
    ("${HOST}:${PORT}:80", "127.0.0.1:8080:80"),
    ("${NOPE:-3000}", "3000"),
    ("${EMPTY:-3000}", "3000"),
    ("${NOPE-3000}", "3000"),
    ("${EMPTY-3000}", ""),
    ("${PORT:-3000}", "8080"),
    ("${PORT:+9999}", "9999"),
    ("${EMPTY:+9999}", ""),
    ("${EMPTY+9999}", "9999"),
    ("${NOPE+9999}", ""),
    ("${NOPE:-${INNER}}", "9000"),
    ("${NOPE:-${ALSO_NOPE:-7000}}", "7000"),
    ("$$PORT", "$PORT"),
    ("$${PORT}", "${PORT}"),
    ("cost: 5$", "cost: 5$"),
    ("$1 and $ alone", "$1 and $ alone"),
    ("${PORT}${PORT}", "80808080"),
    ("$PORT_2", ""),
])
def test_expand(text, expected):
    assert Interpolator(VARS).expand(text).text == expected


def test_unset_variables_are_named():
    result = Interpolator(VARS).expand("${A}:$B:${C:-1}")
    assert result.text == "::1"
    assert result.unset == ["A", "B"]
    assert not result.failed


def test_unused_default_branch_is_not_evaluated():
    result = Interpolator(VARS).expand("${PORT:-${NEVER}}")
    assert result.text == "8080" and result.unset == []


@pytest.mark.parametrize("text, name, message", [
    ("${DB_PORT:?set DB_PORT}", "DB_PORT", "set DB_PORT"),
    ("${EMPTY:?empty is not enough}", "EMPTY", "empty is not enough"),
    ("${NOPE?}", "NOPE", ""),
    ("${NOPE?port for $HOST}", "NOPE", "port for $HOST"),  # as written: it may name a secret
])
def test_required(text, name, message):
    result = Interpolator(VARS).expand(text)
    assert result.failed and result.required == [(name, message)]


def test_required_set_even_when_empty_without_colon():
    assert not Interpolator(VARS).expand("${EMPTY?x}").failed


@pytest.mark.parametrize("text", ["${PORT", "${}", "${1ABC}", "${PORT/80/90}", "${PORT:3}"])
def test_invalid_templates(text):
    with pytest.raises(InvalidTemplate):
        Interpolator(VARS).expand(text)


def test_env_file_format():
    text = "\n".join([
        "# a comment",
        "",
        "PLAIN=8080",
        "export EXPORTED=1",
        "SPACED = value with spaces   ",
        "COMMENTED=80 # trailing comment",
        "HASH=80#not-a-comment",
        "DOUBLE=\"a\\tb # kept\" # dropped",
        "SINGLE='$PLAIN ${PLAIN}'",
        "ESCAPED='it\\'s'",
        "REF=${PLAIN}0",
        "DREF=\"${PLAIN:-x}\"",
        "FROMENV=$OUTSIDE",
        "EMPTY=",
        "ONLYKEY",
        "MULTI=\"line one",
        "line two\"",
        "AFTER=ok",
    ])
    values, problems = parse_env_file(text, {"OUTSIDE": "out"})
    assert problems == []
    assert values == {
        "PLAIN": "8080", "EXPORTED": "1", "SPACED": "value with spaces", "COMMENTED": "80",
        "HASH": "80#not-a-comment", "DOUBLE": "a\tb # kept", "SINGLE": "$PLAIN ${PLAIN}", "ESCAPED": "it's",
        "REF": "80800", "DREF": "8080", "FROMENV": "out", "EMPTY": "", "MULTI": "line one\nline two",
        "AFTER": "ok",
    }


def test_env_file_problems_have_lines():
    values, problems = parse_env_file("GOOD=1\nBAD LINE\nOPEN=\"never closed\n")
    assert values == {"GOOD": "1"}
    assert [p.line for p in problems] == [2, 3]


def test_environment_wins_over_env_file():
    assert variables({"PORT": "1", "ONLY_FILE": "2"}, {"PORT": "3"}) == {"PORT": "3", "ONLY_FILE": "2"}
