#!/usr/bin/env python3
"""Run the iptables-script front end over real firewall shell scripts and report what it reads.

Scripts: ../shared/corpus/iptables/net-network/shell, ../shared/corpus/iptables/real-world-shell
and ../shared/corpus/generated/fwbuilder/**/*.fw.orig, when present. The shared corpus leaves
shell scripts out (they are programs written by others) but lists them in MANIFEST.tsv;
with ``--mirror DIR`` the scripts the manifest lists are read from local git mirrors
(``DIR/<owner>+<repo>/repo``, as fetched snapshots of those repositories) at the
manifest's commit, and are never copied anywhere.

For each script: whether the shell was read without a PL010, and how many iptables
commands (by position in the script; iptables-restore with a here-document counts as
one) were understood (every value known, no PL010/PL011/PL012), left opaque (a value
portlint could not know: PL050) or read with an error. Also reported: PL050/PL051
counts, crashes (there should be none) and time.

    python scripts/corpus_shell.py [--corpus DIR] [--mirror DIR] [--files] [--show N]

The corpus is not part of the project; the tests never need it.
"""

from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import time
import traceback
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from linter.frontends.iptables.script import read_script  # noqa: E402
from linter.source import SourceFile, decode  # noqa: E402

GROUPS = {
    "net-network/shell": "iptables/net-network/shell/",
    "real-world-shell": "iptables/real-world-shell/",
    "generated/fwbuilder": "generated/fwbuilder/",
}


def default_corpus() -> Path:
    for base in PROJECT.parents:
        candidate = base / "shared" / "corpus"
        if candidate.is_dir():
            return candidate
    return PROJECT.parent / "shared" / "corpus"


def _from_mirror(mirror: Path, repo: str, commit: str, path: str) -> bytes | None:
    folder = mirror / repo.replace("/", "+") / "repo"
    git_dir = folder / ".git" if (folder / ".git").is_dir() else folder
    if not git_dir.is_dir():
        return None
    for rev in (commit, "HEAD"):
        done = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{rev}:{path}"], capture_output=True,
                              timeout=60)
        if done.returncode == 0:
            return done.stdout
    return None


def collect(corpus: Path, mirror: Path | None) -> dict[str, list[tuple[str, bytes]]]:
    """(label, bytes) of every script, by group."""
    groups: dict[str, list[tuple[str, bytes]]] = {name: [] for name in GROUPS}
    for name, prefix in GROUPS.items():
        folder = corpus / prefix
        if folder.is_dir():
            pattern = "*.fw.orig" if name == "generated/fwbuilder" else "*"
            for path in sorted(folder.rglob(pattern)):
                if path.is_file():
                    groups[name].append((str(path.relative_to(corpus)), path.read_bytes()))
    manifest = corpus / "MANIFEST.tsv"
    if mirror is None or not manifest.is_file():
        return groups
    for line in manifest.read_text(encoding="utf-8").splitlines():
        cells = line.split("\t")
        if len(cells) < 4:
            continue
        label, repo, commit, source_path = cells[:4]
        for name, prefix in GROUPS.items():
            if not label.startswith(prefix) or any(existing == label for existing, _ in groups[name]):
                continue
            if name == "generated/fwbuilder" and not label.endswith(".fw.orig"):
                continue
            data = _from_mirror(mirror, repo, commit, source_path)
            if data is not None:
                groups[name].append((label, data))
    return groups


def run(label: str, data: bytes):
    source = decode(label, data)
    if not isinstance(source, SourceFile):
        return None
    started = time.perf_counter()
    result, stats = read_script(source)
    return result, stats, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--mirror", type=Path, help="folder of git mirrors to read the scripts MANIFEST.tsv lists")
    parser.add_argument("--files", action="store_true", help="one line per script")
    parser.add_argument("--show", type=int, default=0, help="print the first N PL010 diagnostics")
    args = parser.parse_args()
    groups = collect(args.corpus, args.mirror)
    totals = collections.Counter()
    shown = 0
    for name, scripts in groups.items():
        counts = collections.Counter()
        codes = collections.Counter()
        for label, data in scripts:
            try:
                outcome = run(label, data)
            except Exception:  # a crash is a bug: report it and go on
                counts["crashes"] += 1
                print(f"CRASH {label}\n{traceback.format_exc()}", file=sys.stderr)
                continue
            if outcome is None:
                counts["not text"] += 1
                continue
            result, stats, seconds = outcome
            syntax = [d for d in result.diagnostics if d.code == "PL010" and "shell script" in d.message]
            counts["scripts"] += 1
            counts["without shell PL010"] += not syntax
            counts["with iptables commands"] += stats.commands > 0
            counts["commands"] += stats.commands
            counts["understood"] += stats.understood
            counts["opaque"] += stats.opaque
            counts["errors"] += stats.errors
            counts["ms"] += int(seconds * 1000)
            for diag in result.diagnostics:
                codes[diag.code] += 1
            if args.files:
                rules = sum(len(c.rules) for t in result.document.tables for c in t.chains) if result.document else 0
                print(f"{label}: shell {'ok' if not syntax else f'{len(syntax)} PL010'}, {stats.commands} commands "
                      f"({stats.understood} understood, {stats.opaque} opaque, {stats.errors} with errors), "
                      f"{rules} rules, families {result.document.family.value if result.document else '-'}")
            for diag in syntax:
                if shown < args.show:
                    shown += 1
                    print(f"  {diag.span}: {diag.message}\n    {diag.excerpt.splitlines()[0] if diag.excerpt else ''}")
        totals.update(counts)
        print(f"\n## {name}: {len(scripts)} scripts")
        if not scripts:
            print("  (none here: the corpus leaves shell scripts out; pass --mirror to read them from git mirrors)")
            continue
        _print(counts, codes)
    print("\n## all")
    _print(totals, collections.Counter())
    return 1 if totals["crashes"] else 0


def _print(counts, codes) -> None:
    scripts = counts["scripts"] or 1
    commands = counts["commands"] or 1
    print(f"  read without a shell PL010: {counts['without shell PL010']}/{counts['scripts']} "
          f"({100.0 * counts['without shell PL010'] / scripts:.1f}%)"
          + (f", crashes: {counts['crashes']}" if counts["crashes"] else ""))
    print(f"  iptables commands: {counts['commands']} in {counts['with iptables commands']} scripts; understood "
          f"{counts['understood']} ({100.0 * counts['understood'] / commands:.1f}%), opaque {counts['opaque']} "
          f"({100.0 * counts['opaque'] / commands:.1f}%), with errors {counts['errors']} "
          f"({100.0 * counts['errors'] / commands:.1f}%)")
    print(f"  time: {counts['ms']} ms")
    if codes:
        print("  diagnostics: " + ", ".join(f"{code} {count}" for code, count in sorted(codes.items())))


if __name__ == "__main__":
    sys.exit(main())
