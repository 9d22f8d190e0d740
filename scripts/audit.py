"""Audit portlint's findings on the real-world configurations of ../shared/corpus.

For each configuration (one project directory, linted as one run, the way a user lints a
repository), prints the findings by severity and the fan-out (findings per distinct causing
line), then every high and critical finding, for a reviewer to judge one by one. The totals
at the end are the figures issue 13 asks for: share of info findings, fan-out, count of
high/critical findings.

    python scripts/audit.py                  # the three real-world sets
    python scripts/audit.py --json out.json  # also write every finding, for before/after diffs
    python scripts/audit.py DIR [DIR...]     # other configurations (each DIR is one run)

Reads ../shared/corpus beside the project root; nothing in the test suite depends on it.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
SETS = ("iptables/real-world", "iptables/net-network/save", "nft/real-world")
SEVERITIES = ("critical", "high", "medium", "low", "info")
TIMEOUT = 300


def configurations(sets=SETS) -> list[Path]:
    """Every project directory of the given corpus sets, sorted."""
    found = []
    for name in sets:
        base = CORPUS / name
        if base.is_dir():
            found.extend(sorted(p for p in base.iterdir() if p.is_dir()))
    return found


def lint(directory: Path) -> dict:
    """portlint's JSON report for one directory, run as a user would run it."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "linter", "check", str(directory), "--format", "json", "--fail-on", "critical"],
            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return {"findings": [], "errors": [f"timed out after {TIMEOUT} s"]}
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"findings": [], "errors": [done.stderr.strip()[-500:] or f"exit {done.returncode}"]}


def summarise(findings: list[dict]) -> dict:
    """Counts by severity, and the fan-out: findings per distinct (path, line) that caused them."""
    by_severity = collections.Counter(f["severity"] for f in findings)
    causes = {(f["path"], f["line"]) for f in findings}
    serious = [f for f in findings if f["severity"] in ("critical", "high")]
    serious_causes = {(f["path"], f["line"]) for f in serious}
    return {
        "findings": len(findings),
        "by_severity": {s: by_severity.get(s, 0) for s in SEVERITIES},
        "causes": len(causes),
        "fan_out": len(findings) / len(causes) if causes else 0.0,
        "serious": len(serious),
        "serious_causes": len(serious_causes),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path, help="configurations to lint (default: the corpus sets)")
    parser.add_argument("--json", type=Path, help="write every finding per configuration to this file")
    parser.add_argument("--quiet", action="store_true", help="totals only, no list of high/critical findings")
    args = parser.parse_args(argv)
    dirs = args.dirs or configurations()
    if not dirs:
        print(f"no configurations found under {CORPUS}", file=sys.stderr)
        return 2
    everything: dict[str, list[dict]] = {}
    print(f"{'configuration':58} {'crit':>4} {'high':>4} {'med':>4} {'low':>4} {'info':>4} {'fan-out':>7}")
    for directory in dirs:
        report = lint(directory)
        findings = report.get("findings", [])
        label = str(directory.relative_to(CORPUS)) if CORPUS in directory.parents else str(directory)
        everything[label] = findings
        s = summarise(findings)
        counts = " ".join(f"{s['by_severity'][sev]:>4}" for sev in SEVERITIES)
        errors = f"  errors: {len(report.get('errors', []))}" if report.get("errors") else ""
        print(f"{label[:58]:58} {counts} {s['fan_out']:7.2f}{errors}")
    all_findings = [f for fs in everything.values() for f in fs]
    total = summarise(all_findings)
    print()
    print(f"configurations: {len(dirs)}; findings: {total['findings']}; "
          + ", ".join(f"{sev} {total['by_severity'][sev]}" for sev in SEVERITIES))
    info_share = total["by_severity"]["info"] / total["findings"] if total["findings"] else 0.0
    print(f"info share: {info_share:.0%}; fan-out: {total['fan_out']:.2f} findings per causing line; "
          f"high/critical: {total['serious']} findings from {total['serious_causes']} lines")
    if not args.quiet:
        print("\nHigh and critical findings, for review:")
        for label, findings in everything.items():
            for f in findings:
                if f["severity"] in ("critical", "high"):
                    path = Path(f["path"]).name
                    print(f"  {label}/{path}:{f['line']}: {f['code']} [{f['severity']}] {f['message'][:220]}")
    if args.json:
        args.json.write_text(json.dumps(everything, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
