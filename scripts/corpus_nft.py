"""Conformance of the nftables front end on the shared corpus.

Reads ../shared/corpus/nft/nft-c-accepted.txt (files that `nft -c -f` accepts),
parses each with linter.frontends.nftables and reports the share read without a
PL010/PL011/PL031/PL032 diagnostic, the most common remaining first errors, and
whether any bogon (fuzzer-found malformed input) makes parse() raise.

Usage: python scripts/corpus_nft.py [-v]
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linter.frontends import nftables  # noqa: E402
from linter.source import read_source  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1].parent / "shared/corpus"
if not CORPUS.is_dir():  # a git worktree one level deeper (wt/<name>) shares the same corpus
    for parent in Path(__file__).resolve().parents:
        if (parent / "shared/corpus").is_dir():
            CORPUS = parent / "shared/corpus"
            break
FAILING = {"PL010", "PL011", "PL031", "PL032"}


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    nft_dir = CORPUS / "nft"
    listing = nft_dir / "nft-c-accepted.txt"
    if not listing.is_file():
        print(f"corpus not found at {CORPUS}")
        return 2
    files = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    clean = 0
    first_errors: Counter[str] = Counter()
    crashed = []
    rules = 0
    started = time.perf_counter()
    for name in files:
        source = read_source(str(nft_dir / name))
        if not hasattr(source, "text"):
            first_errors[f"unreadable: {source.message}"] += 1
            continue
        try:
            result = nftables.parse(source)
        except Exception:  # noqa: BLE001 - the point is to find them
            crashed.append((name, traceback.format_exc()))
            continue
        rules += sum(len(c.rules) for t in result.document.tables for c in t.chains)
        bad = [d for d in result.diagnostics if d.code in FAILING]
        if not bad:
            clean += 1
        else:
            first = bad[0]
            first_errors[f"{first.code} {first.message[:70]}"] += 1
            if verbose:
                print(f"{name}: {first.span.line}:{first.span.column} {first.code} {first.message}")
                if first.excerpt:
                    print("    " + first.excerpt.replace("\n", "\n    "))
    elapsed = time.perf_counter() - started
    share = 100.0 * clean / len(files) if files else 0.0
    print(f"accepted by nft -c: {len(files)} files; read cleanly: {clean} ({share:.1f}%); "
          f"{rules} model rules in {elapsed:.2f}s")
    if first_errors:
        print("most common first errors:")
        for message, count in first_errors.most_common(15):
            print(f"  {count:4d}  {message}")

    bogons = sorted((nft_dir / "nftables-tests" / "bogons").glob("*"))
    for path in bogons:
        source = read_source(str(path))
        if not hasattr(source, "text"):
            continue
        try:
            nftables.parse(source)
        except Exception:  # noqa: BLE001
            crashed.append((str(path.relative_to(nft_dir)), traceback.format_exc()))
    print(f"bogons: {len(bogons)} files read; exceptions: {len(crashed)}")
    for name, trace in crashed:
        print(f"--- {name}\n{trace}")
    return 1 if crashed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
