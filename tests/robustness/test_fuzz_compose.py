"""Property tests of the compose front end on mutated and random compose files.

* ``parse()`` and ``lint_file()`` never raise, whatever the text or bytes.
* A port entry corrupted on purpose gets a PL0xx finding at its line.
* Random projects of valid port entries read without a PL040.
"""

from __future__ import annotations

import re

from fuzz_support import (
    COMPOSE_INPUTS, apply_edits, assert_located, assert_no_internal_error, byte_edit, edits, fuzz_settings,
    huge_number, lint_mutated, with_huge_number,
)
from hypothesis import given
from hypothesis import strategies as st

from linter.checks import Settings
from linter.frontends import FrontEndOptions, parse_source
from linter.pipeline import lint_file
from linter.source import SourceFile

NAMES = sorted(COMPOSE_INPUTS)
OPTIONS = FrontEndOptions(environ={})


def parse(name: str, text: str):
    # The path is made up, so no .env or override file beside it is read: only the text counts.
    return parse_source(SourceFile(f"/nonexistent/portlint-fuzz/{name}", text), "compose", OPTIONS)


@fuzz_settings(700)
@given(st.sampled_from(NAMES), edits)
def test_parse_never_raises_on_mutated_projects(name, changes):
    assert_located(parse(name, apply_edits(COMPOSE_INPUTS[name], changes)).diagnostics)


@fuzz_settings(80)
@given(st.sampled_from(NAMES), edits, st.lists(byte_edit, max_size=2))
def test_lint_file_never_raises_on_mutated_projects(tmp_path, name, changes, byte_changes):
    lint_mutated(tmp_path, name, COMPOSE_INPUTS[name], changes, byte_changes, "compose", options=OPTIONS)


_SHORT_ENTRY = re.compile(r'^(\s+- )"([^"]*)"$')
BAD_ENTRIES = ["99999:80", "80:99999", "abc:80", "80:80/xtp", "8080-8079:80", ":", "80-90:80-85",
               "-1:80", "127.0.0.1:80:"]


@fuzz_settings(200)
@given(st.sampled_from(NAMES), st.integers(0, 10_000), st.sampled_from(BAD_ENTRIES))
def test_a_corrupted_port_entry_gets_a_finding_at_its_line(name, choice, bad):
    lines = COMPOSE_INPUTS[name].split("\n")
    candidates = [i for i, line in enumerate(lines) if _SHORT_ENTRY.match(line) and "ports" in "".join(
        lines[max(0, i - 4):i])]
    k = candidates[choice % len(candidates)]
    lines[k] = _SHORT_ENTRY.sub(lambda m: f'{m[1]}"{bad}"', lines[k])
    result = parse(name, "\n".join(lines))
    assert any(d.span.line == k + 1 and d.code.startswith("PL0") for d in result.diagnostics), (
        lines[k], [(d.code, d.span.line, d.message) for d in result.diagnostics])


# --- Random projects ----------------------------------------------------------------

port = st.integers(1, 65535)
span = st.tuples(port, st.integers(0, 3)).filter(lambda p: p[0] + p[1] <= 65535)


@st.composite
def entry(draw) -> str:
    container, width = draw(span)
    target = str(container) if not width else f"{container}-{container + width}"
    kind = draw(st.sampled_from(["container", "host", "ip", "ipv6"]))
    proto = draw(st.sampled_from(["", "/tcp", "/udp"]))
    if kind == "container":
        return f'"{target}{proto}"'
    host = draw(port.filter(lambda p: p + width <= 65535))
    published = str(host) if not width else f"{host}-{host + width}"
    if kind == "host":
        return f'"{published}:{target}{proto}"'
    address = draw(st.sampled_from(["127.0.0.1", "0.0.0.0", "192.0.2.10"])) if kind == "ip" else "[::1]"
    return f'"{address}:{published}:{target}{proto}"'


@st.composite
def projects(draw) -> str:
    out = ["services:"]
    for index in range(draw(st.integers(1, 6))):
        out += [f"  svc{index}:", f"    image: {draw(st.sampled_from(['nginx', 'postgres:16', 'redis']))}",
                "    ports:"]
        out += [f"      - {draw(entry())}" for _ in range(draw(st.integers(1, 4)))]
    return "\n".join(out) + "\n"


@fuzz_settings(250)
@given(projects())
def test_random_projects_read_without_port_findings(text):
    result = parse("compose.yaml", text)
    assert result.document is not None
    assert [(d.code, d.span.line, d.message) for d in result.diagnostics if d.code in ("PL010", "PL040")] == []


@fuzz_settings(40)
@given(projects())
def test_random_projects_lint(tmp_path, text):
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    result = lint_file(str(path), Settings(), options=OPTIONS)
    assert result.document is not None
    assert_no_internal_error(result.findings)


@fuzz_settings(60)
@given(st.sampled_from(sorted(COMPOSE_INPUTS)), huge_number)
def test_a_huge_number_anywhere_is_a_finding_not_a_crash(name, change):
    assert_located(parse(name, with_huge_number(COMPOSE_INPUTS[name], change)).diagnostics)
