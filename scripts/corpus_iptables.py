#!/usr/bin/env python3
"""Run the iptables-save front end over the shared corpus and report how much it reads cleanly.

Files: every iptables-restore-format file under ../shared/corpus/iptables (a ``*table``
line and a ``COMMIT`` line; .t/.txlate/.json/.md and case files skipped), plus the
generated ufw blocks and aerleon iptables outputs. A file is "clean" when the front end
reports no PL010 (syntax), PL011 (invalid value) or PL012 (unknown option) for it.
The same figures are given for the files listed in iptables/iptables-restore-accepted.txt.

    python scripts/corpus_iptables.py [--corpus DIR] [--show N] [--files] [--verify]

--verify (root, ip(8), iptables-restore) also runs ``iptables-restore --test`` (then
``ip6tables-restore --test``) on every file inside a throwaway network namespace and
reports the figures for the files it accepts, and how many files with a parse finding
it rejects too. (The accepted list shipped with the corpus also names files that
iptables-restore 1.8.9 rejects, such as logs that contain a dump.)

The corpus is not part of the project; the tests never need it.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from linter.frontends.iptables.save import parse  # noqa: E402
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


_RESTORE_LINE = re.compile(r"^(\*|:|-[AINPFXZRD]\b|\[\d+:\d+\]|COMMIT)")


def is_pure_dump(path: Path) -> bool:
    """A file that *is* an iptables-save dump: at least 90% of its non-blank, non-comment
    lines are restore-format lines (logs, prose and scripts that contain a dump are not)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not lines:
        return False
    restore = sum(1 for line in lines if _RESTORE_LINE.match(line))
    return restore >= 0.9 * len(lines)


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


def restore_accepts(paths: list[Path]) -> dict[Path, bool] | None:
    """Whether iptables-restore --test (or ip6tables-restore --test) accepts each file, in a throwaway netns."""
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("iptables-restore"):
        return None
    namespace = f"portlint-corpus-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", namespace], check=True)
    verdicts = {}
    try:
        for path in paths:
            ok = False
            for tool in ("iptables-restore", "ip6tables-restore"):
                done = subprocess.run(["ip", "netns", "exec", namespace, tool, "--test", str(path)],
                                      capture_output=True, timeout=120)
                if done.returncode == 0:
                    ok = True
                    break
            verdicts[path] = ok
    finally:
        subprocess.run(["ip", "netns", "delete", namespace], check=False)
    return verdicts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--show", type=int, default=15, help="how many kinds of finding to list")
    parser.add_argument("--files", action="store_true", help="list every file with a parse finding")
    parser.add_argument("--verify", action="store_true",
                        help="also check every file with iptables-restore --test in a throwaway netns (root)")
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
        if group == "iptables":
            dumps = [(p, d) for p, d in results if is_pure_dump(p)]
            others = sorted(str(p.relative_to(corpus)) for p, _ in results if not is_pure_dump(p))
            summarise("iptables: dumps only (logs and scripts that contain a dump left out)", dumps, corpus,
                      args.show, args.files)
            print(f"left out as not a dump ({len(others)}): " + ", ".join(others))
    listed = [(p, d) for p, d in all_results if str(p.relative_to(corpus)) in accepted]
    summarise("files listed in iptables/iptables-restore-accepted.txt", listed, corpus, args.show, args.files)
    elapsed = time.perf_counter() - started
    print(f"\n{len(all_results)} files, {rules} rules in {elapsed:.1f}s")
    if args.verify:
        verdicts = restore_accepts([p for p, _ in all_results])
        if verdicts is None:
            print("--verify needs root, ip and iptables-restore", file=sys.stderr)
            return 2
        accepted_here = [(p, d) for p, d in all_results if verdicts[p]]
        summarise("files iptables-restore --test accepts on this machine", accepted_here, corpus, args.show,
                  args.files)
        flagged = [p for p, d in all_results if any(x.code in PARSE_CODES for x in d)]
        rejected = [p for p in flagged if not verdicts[p]]
        print(f"files with a parse finding: {len(flagged)}, of which iptables-restore --test rejects "
              f"{len(rejected)}")
        for group in ("iptables/",):
            in_group = [p for p, _ in all_results if str(p.relative_to(corpus)).startswith(group)]
            print(f"{group}: iptables-restore --test accepts {sum(verdicts[p] for p in in_group)} of "
                  f"{len(in_group)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
