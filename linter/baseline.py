"""The baseline: today's findings recorded by fingerprint, so a gate can be adopted on a
repository that already has some and still fail on every new one.

    {"version": 1, "created": "2026-01-31T12:00:00Z",
     "entries": [{"fingerprint": "...", "code": "PL101", "path": "fw/rules.v4", "message": "..."}]}

Fingerprints name the rule, the file and what the finding is about, never its line, so
edits elsewhere in a file keep a baselined finding baselined. Two findings can share a
fingerprint (the same service opened twice in one file); each entry then covers one.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from linter.findings import Finding, stable_path

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be read or written; the message names the file."""


def baseline_document(findings: list[Finding], now: dt.datetime | None = None) -> dict:
    from linter import __version__

    now = now or dt.datetime.now(dt.timezone.utc)
    entries = [{"fingerprint": f.fingerprint, "code": f.code, "path": stable_path(f.path), "message": f.message}
               for f in findings]
    entries.sort(key=lambda e: (e["path"], e["code"], e["fingerprint"], e["message"]))
    return {
        "version": BASELINE_VERSION,
        "created": now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool": {"name": "portlint", "version": __version__},
        "entries": entries,
    }


def write_baseline(path: str | Path, findings: list[Finding]) -> int:
    """Record ``findings`` in ``path``; the number of entries written."""
    from linter.writing import WriteError, write_atomically

    document = baseline_document(findings)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        write_atomically(str(path), lambda handle: handle.write(text))
    except WriteError as exc:
        raise BaselineError(f"cannot write baseline: {exc}") from None
    return len(document["entries"])


class Baseline:
    """Fingerprints recorded in a baseline file, with how often each was recorded."""

    def __init__(self, path: str, fingerprints: Counter):
        self.path = path
        self.fingerprints = fingerprints

    def split(self, findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
        """(new, baselined): each baseline entry covers one finding, the earliest in file order."""
        left = Counter(self.fingerprints)
        new, known = [], []
        for finding in sorted(findings, key=Finding.sort_key):
            if left[finding.fingerprint] > 0:
                left[finding.fingerprint] -= 1
                known.append(finding)
            else:
                new.append(finding)
        return new, known


def load_baseline(path: str | Path) -> Baseline:
    """Read a baseline written by ``--write-baseline``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or "entries" not in data:
        raise BaselineError(f"{path}: not a baseline (no \"entries\")")
    if data.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{path}: baseline version {data.get('version')!r} is not supported "
                            f"(this portlint reads version {BASELINE_VERSION})")
    entries = data["entries"]
    if not isinstance(entries, list):
        raise BaselineError(f"{path}: \"entries\" must be a list")
    fingerprints: Counter = Counter()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("fingerprint"), str):
            raise BaselineError(f"{path}: entries[{index}] has no \"fingerprint\" string")
        fingerprints[entry["fingerprint"]] += 1
    return Baseline(str(path), fingerprints)
