#!/usr/bin/env python3
"""Run the iptables-save front end over the shared corpus and report how much it reads cleanly.

Files: every iptables-restore-format file under ../shared/corpus/iptables (a ``*table``
line and a ``COMMIT`` line; .t/.txlate/.json/.md and case files skipped), plus the
generated ufw blocks and aerleon iptables outputs. A file is "clean" when the front end
reports no PL010 (syntax), PL011 (invalid value) or PL012 (unknown option) for it.
The same figures are given for the files listed in iptables/iptables-restore-accepted.txt.

    python scripts/corpus_iptables.py [--corpus DIR] [--show N] [--files]

The corpus is not part of the project; the tests never need it.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from linter.frontends.iptables_save import parse  # noqa: E402
from linter.source import read_source  # noqa: E402

PARSE_CODES = {"PL010", "PL011", "PL012"}
SKIP_SUFFIXES = {".t", ".txlate", ".json", ".md"}
_TABLE = re.compile(r"^\*\w+", re.M)
_COMMIT = re.compile(r"^COMMIT", re.M)


def default_corpus() -> Path:
    """../shared/corpus next to the project root (a git worktree may sit one level deeper)."""
    for base in PROJECT.parents:
        candidate = base / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return PROJECT.parent / "shared" / "corpus"


def is_restore_file(path: Path) -> bool:
    if path.suffix in SKIP_SUFFIXES or "cases" in path.name:
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return bool(_TABLE.search(text) and _COMMIT.search(text))


def collect(corpus: Path) -> dict[str, list[Path]]:
    groups: dict[str, list[Path]] = {}
    groups["iptables"] = sorted(p for p in (corpus / "iptables").rglob("*") if p.is_file() and is_restore_file(p))
    groups["generated/ufw/blocks"] = sorted(p for p in (corpus / "generated/ufw/blocks").glob("*.rules")
                                            if is_restore_file(p))
    groups["generated/aerleon"] = sorted(p for p in (corpus / "generated/aerleon").rglob("*")
                                         if p.is_file() and is_restore_file(p))
    return groups


def summarise(title: str, results: list[tuple[Path, list]], corpus: Path, show: int, list_files: bool) -> None:
    clean = [p for p, diags in results if not any(d.code in PARSE_CODES for d in diags)]
    total = len(results)
    share = 100.0 * len(clean) / total if total else 0.0
    print(f"\n## {title}")
    print(f"files: {total}  without a parse finding: {len(clean)}  ({share:.1f}%)")
    counts: collections.Counter = collections.Counter()
    examples: dict[str, str] = {}
    for path, diags in results:
        for d in diags:
            if d.code in PARSE_CODES:
                key = f"{d.code} {re.sub(r'[0-9]+', 'N', re.sub(chr(39) + '.*?' + chr(39), 'X', d.message))}"
                counts[key] += 1
                examples.setdefault(key, f"{path.relative_to(corpus)}:{d.span.line}:{d.span.column}")
    if counts:
        print("most common parse findings:")
        for key, count in counts.most_common(show):
            print(f"  {count:6d}  {key}   e.g. {examples[key]}")
    if list_files:
        for path, diags in results:
            bad = [d for d in diags if d.code in PARSE_CODES]
            if bad:
                print(f"  {path.relative_to(corpus)}: {len(bad)} (first: {bad[0].span.line}:{bad[0].span.column} "
                      f"{bad[0].code} {bad[0].message})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--show", type=int, default=15, help="how many kinds of finding to list")
    parser.add_argument("--files", action="store_true", help="list every file with a parse finding")
    args = parser.parse_args(argv)
    corpus: Path = args.corpus.resolve()
    if not (corpus / "iptables").is_dir():
        print(f"corpus not found at {corpus}", file=sys.stderr)
        return 2
    accepted_list = corpus / "iptables" / "iptables-restore-accepted.txt"
    accepted = {line.strip() for line in accepted_list.read_text().splitlines() if line.strip()} \
        if accepted_list.exists() else set()

    started = time.perf_counter()
    all_results: list[tuple[Path, list]] = []
    rules = 0
    for group, paths in collect(corpus).items():
        results = []
        for path in paths:
            source = read_source(str(path))
            if not hasattr(source, "text"):
                results.append((path, [source]))
                continue
            result = parse(source)
            if result.document is not None:
                rules += sum(len(c.rules) for t in result.document.tables for c in t.chains)
            results.append((path, list(source.diagnostics) + result.diagnostics))
        summarise(group, results, corpus, args.show, args.files)
        all_results.extend(results)
    listed = [(p, d) for p, d in all_results if str(p.relative_to(corpus)) in accepted]
    summarise("files listed in iptables/iptables-restore-accepted.txt", listed, corpus, args.show, args.files)
    elapsed = time.perf_counter() - started
    print(f"\n{len(all_results)} files, {rules} rules in {elapsed:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
