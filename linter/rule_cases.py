"""Per-rule case files (tests/cases/PLxxx.yaml): snippets that must and must not trigger a rule.

A case file is the executable half of a rule's documentation. tests/test_rule_cases.py runs
every case through the whole pipeline, and `python -m linter.grammars` writes the first
failing case into the rule's `docs.example` (tests fail when the two disagree), so the
example `portlint rule CODE` prints is one that is known to report the rule.

Layout (see tests/cases/README.md)::

    code: PL101
    format: iptables-save          # the cases' input format, unless a case names its own
    failing:                       # each case: input (or files), and every finding of the code
      - name: telnet open to everyone
        input: |
          *filter
          -A INPUT -p tcp --dport 23 -j ACCEPT
          COMMIT
        expect:
          - {line: 2, column: 1, severity: high}
    passing:
      - name: telnet from the office only
        input: ...
    untriggerable: why no file can trigger the rule (then failing may be empty)

A case gives ``input`` (one file, named ``filename`` or after its format) or ``files`` (name to
text, for the checks that look across files; an ``expect`` entry then names its ``file``).
With ``bytes: true`` the text is written as Latin-1, so YAML escapes ("\\xff", "\\0") become
those bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from linter.detect import input_formats

CASES_DIR = Path(__file__).resolve().parents[1] / "tests" / "cases"
DEFAULT_NAMES = {"iptables-save": "rules.v4", "nftables": "ruleset.nft", "iptables-script": "firewall.sh",
                 "compose": "compose.yaml", "firewalld": "public.xml"}
_FILE_KEYS = {"code", "format", "failing", "passing", "untriggerable"}
_CASE_KEYS = {"name", "input", "files", "filename", "format", "bytes", "expect"}
_EXPECT_KEYS = {"line", "column", "severity", "file"}


class CaseFileError(ValueError):
    """A case file that breaks the layout; the message names the file and the case."""


@dataclass(frozen=True)
class Expected:
    line: int
    column: int
    severity: str
    file: str | None = None


@dataclass(frozen=True)
class RuleCase:
    code: str
    name: str
    failing: bool
    format: str | None
    files: dict  # file name -> text
    binary: bool = False
    expect: tuple[Expected, ...] = ()

    def write(self, directory: Path) -> list[Path]:
        """The case's files written under ``directory``, in the order given."""
        written = []
        for name, text in self.files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("latin-1" if self.binary else "utf-8"))
            written.append(path)
        return written


@dataclass(frozen=True)
class CaseFile:
    code: str
    path: Path
    failing: tuple[RuleCase, ...] = ()
    passing: tuple[RuleCase, ...] = ()
    untriggerable: str | None = None

    def example(self) -> str | None:
        """The rule's documentation example: the first failing case's input (files shown one after
        another under a `# name` line); None when no case triggers the rule."""
        if not self.failing:
            return None
        case = self.failing[0]
        if len(case.files) == 1:
            text = next(iter(case.files.values()))
        else:
            text = "\n".join(f"# {name}\n{body.rstrip()}" for name, body in case.files.items())
        if case.binary:
            text = "".join(ch if ch == "\n" or " " <= ch <= "~" else f"\\x{ord(ch):02x}" for ch in text)
        return text.rstrip("\n")


def _case(path: Path, code: str, default_format: str | None, data, failing: bool) -> RuleCase:
    where = f"{path}: case {data.get('name', '?') if isinstance(data, dict) else data!r}"
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise CaseFileError(f"{where}: a case is a mapping with a name")
    if set(data) - _CASE_KEYS:
        raise CaseFileError(f"{where}: unknown keys {sorted(set(data) - _CASE_KEYS)}")
    fmt = data.get("format", default_format)
    if fmt is not None and fmt not in input_formats():
        raise CaseFileError(f"{where}: format must be one of {input_formats()}")
    if ("input" in data) == ("files" in data):
        raise CaseFileError(f"{where}: give input or files")
    if "input" in data:
        name = data.get("filename") or DEFAULT_NAMES.get(fmt, "input.txt")
        files = {name: data["input"]}
    else:
        files = data["files"]
        if not isinstance(files, dict) or not files:
            raise CaseFileError(f"{where}: files maps names to texts")
    if not all(isinstance(text, str) for text in files.values()):
        raise CaseFileError(f"{where}: every input is text")
    expect = data.get("expect", [])
    if failing and not expect:
        raise CaseFileError(f"{where}: a failing case lists the findings it expects")
    if not failing and expect:
        raise CaseFileError(f"{where}: a passing case expects nothing")
    expected = []
    for item in expect:
        if not isinstance(item, dict) or set(item) - _EXPECT_KEYS or not {"line", "column", "severity"} <= set(item):
            raise CaseFileError(f"{where}: expect entries have line, column, severity (and file)")
        expected.append(Expected(item["line"], item["column"], item["severity"], item.get("file")))
    return RuleCase(code=code, name=data["name"], failing=failing, format=fmt if "input" in data else None,
                    files=dict(files), binary=bool(data.get("bytes")), expect=tuple(expected))


def load_case_file(path: Path) -> CaseFile:
    """One case file, checked against the layout above."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or set(data) - _FILE_KEYS or "code" not in data:
        raise CaseFileError(f"{path}: a mapping of {sorted(_FILE_KEYS)} with a code")
    code = data["code"]
    if path.stem != code:
        raise CaseFileError(f"{path}: file name does not match code {code}")
    fmt = data.get("format")
    failing = tuple(_case(path, code, fmt, c, True) for c in data.get("failing") or [])
    passing = tuple(_case(path, code, fmt, c, False) for c in data.get("passing") or [])
    reason = data.get("untriggerable")
    if not failing and not (isinstance(reason, str) and reason.strip()):
        raise CaseFileError(f"{path}: no failing case and no untriggerable reason")
    return CaseFile(code=code, path=path, failing=failing, passing=passing, untriggerable=reason)


def all_case_files(directory: Path = CASES_DIR) -> dict[str, CaseFile]:
    """Every case file by code; empty when the tests are not there (an installed package)."""
    return {path.stem: load_case_file(path) for path in sorted(directory.glob("PL*.yaml"))}


_EXAMPLE = re.compile(r"^  example:.*\n(?:(?:    .*|[ \t]*)\n)*", re.M)


def example_block(text: str) -> str:
    """``text`` as the YAML lines of a rule file's `docs.example` (a literal block)."""
    indicator = "|2-" if text[:1] in (" ", "\t") else "|-"
    body = "".join(f"    {line}\n" if line.strip() else "\n" for line in text.split("\n"))
    return f"  example: {indicator}\n{body}"


def sync_examples(rules_dir: Path, directory: Path = CASES_DIR, out=None) -> list[str]:
    """Write each rule's first failing case into its rules/PLxxx.yaml `docs.example`; the codes
    whose file changed. Rules whose case file triggers nothing keep their written example."""
    changed = []
    for code, cases in all_case_files(directory).items():
        example = cases.example()
        path = rules_dir / f"{code}.yaml"
        if example is None or not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        match = _EXAMPLE.search(text)
        if match is None:
            raise CaseFileError(f"{path}: no docs.example to replace")
        new = text[:match.start()] + example_block(example) + text[match.end():]
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(code)
            if out is not None:
                print(f"wrote the example of {path} from {cases.path}", file=out)
    return changed

