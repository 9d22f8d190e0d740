#!/usr/bin/env python3
"""How portlint's compose reading compares with the shared corpus.

1. Port-spec vectors (port-spec-cases/port_spec_cases.json, extracted from compose-go,
   go-connections and docker/cli tests): each vector is read through the compose
   front end as a real `ports:` entry, and the result (publications, or a rejection
   by a parse finding or PL413) is compared with the vector's expectation.
   Vectors that test a helper rather than a whole entry are placed where a Compose
   user writes that part: a port range (go-connections ParsePortRange) as a
   container port entry ("8000-9000"), a single host port (ParsePort) as the host
   port of "<port>:80", a docker/cli CSV publish option ("target=80,published=8080")
   as the equivalent long-syntax mapping.
   Where the vector encodes behaviour the Compose specification does not have
   (swarm-only rules, helpers that do not validate, Docker before Engine 29), the
   decision and its reason are listed in DECISIONS, and portlint must behave as the
   decision says.
2. Corpus files (files/, linter-fixtures/, dclint-rule-fixtures/): every file is read by
   the compose front end and checked; the script counts files read without an
   uncaught exception (must be all) and files without a parse finding
   (PL010/PL040/PL041/PL042). The environment is empty, so results do not depend on
   the machine.

Usage: PYTHONPATH=. python scripts/corpus_compose.py [--corpus DIR] [--list-decided] [--list-files]
Exit status 1 when a vector mismatches without a decision or a file raises.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import os
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from linter.checks import Settings  # noqa: E402
from linter.frontends import FrontEndOptions  # noqa: E402
from linter.frontends.compose.project import parse  # noqa: E402
from linter.pipeline import run_checks  # noqa: E402
from linter.source import SourceFile, read_source  # noqa: E402

PARSE_CODES = {"PL010", "PL040", "PL041", "PL042"}
REJECT_CODES = PARSE_CODES | {"PL413"}
DEFAULT_CORPUS = "/work/shared/corpus/compose"

SPLIT_INVALID = ("go-connections SplitProtoPort only splits '/' and validates nothing; as a Compose "
                 "ports entry the text is invalid ({why}), so portlint rejects it")
DECISIONS = {
    "cli-TestPortOptInvalidSimpleSyntax-06": (
        "accept", "docker/cli refuses a host IP for swarm services only; the Compose specification allows "
                  "[IP:] before the host port and compose-go accepts it (cg-TestParsePortConfig-15)"),
    "cli-TestPortOptValidSimpleSyntax-07": (
        "accept", "docker/cli (swarm) turns 80-82:8080 into three mappings to 8080; Compose keeps one "
                  "mapping whose published port is the range 80-82 (Docker takes one free port of it), as "
                  "compose-go does (cg-TestParsePortConfig-08)"),
    "gc-TestParsePortRange-06": (
        "reject", "the range parser accepts 0, but container port 0 cannot be published: Docker Engine 29 "
                  "refuses it (moby/moby#51684); read as a container port, portlint rejects it"),
    "gc-TestParsePortRange-07": (
        "reject", "as gc-TestParsePortRange-06, for the range 0-0"),
    "gc-TestSplitProtoPort-01": ("reject", SPLIT_INVALID.format(why="no port")),
    "gc-TestSplitProtoPort-02": ("reject", SPLIT_INVALID.format(why="container port 0")),
    "gc-TestSplitProtoPort-03": ("reject", SPLIT_INVALID.format(why="no port before /udp")),
    "gc-TestSplitProtoPort-10": ("reject", SPLIT_INVALID.format(why="-1 is not a port")),
    "gc-TestSplitProtoPort-12": ("reject", SPLIT_INVALID.format(why="not a number")),
    "gc-TestSplitProtoPort-13": ("reject", SPLIT_INVALID.format(why="not a number, unknown protocol")),
    "cg-Test_transformPorts-04": (
        "reject", "the vector runs compose-go's port transform on text that was never interpolated; Compose "
                  "interpolates first, and with HOST_IP and HOST_PORT unset portlint reports PL041 for both "
                  "(the vector expects no output to compare)"),
}


# --- reading one entry --------------------------------------------------------------------------


def read_entry(entry):
    """Publications and finding codes (with messages) for one ports entry (str, int or mapping)."""
    text = "services:\n  s:\n    ports:\n      - " + json.dumps(entry) + "\n"
    source = SourceFile("<vector>.yml", text)
    result = parse(source, FrontEndOptions(environ={}))
    codes = [(d.code, d.message) for d in result.diagnostics]
    pubs = []
    if result.document is not None:
        codes += [(f.code, f.message) for f in run_checks(result.document, Settings(), source)]
        pubs = [p for s in result.document.services for p in s.publications]
    return pubs, codes


def rejected(codes) -> bool:
    return any(code in REJECT_CODES for code, _ in codes)


def _range_text(r) -> str:
    return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]}"


def expand(pub) -> list[dict]:
    """A publication as the per-port mappings compose-go and go-connections list."""
    host_ip = pub.host_ip or ""
    base = {"host_ip": host_ip, "protocol": pub.protocol, "mode": pub.mode,
            "name": pub.name, "app_protocol": pub.app_protocol}
    t_lo, t_hi = pub.target
    if pub.published is None:
        return [dict(base, published="", target=t) for t in range(t_lo, t_hi + 1)]
    p_lo, p_hi = pub.published
    if t_lo == t_hi:
        return [dict(base, published=_range_text(pub.published), target=t_lo)]
    return [dict(base, published=str(p_lo + i), target=t_lo + i) for i in range(t_hi - t_lo + 1)]


def _normal(expected: dict) -> dict:
    out = dict(expected)
    if "published" in out:
        out["published"] = "" if out["published"] in (None, 0, "0") else str(out["published"])
    if "protocol" in out:
        out["protocol"] = str(out["protocol"]).lower()
    return out


def same_mappings(pubs, expected: list[dict]) -> bool:
    mine = [m for p in pubs for m in expand(p)]
    if len(mine) != len(expected):
        return False
    remaining = list(mine)
    for want in (_normal(e) for e in expected):
        for index, have in enumerate(remaining):
            if all(have.get(key) == value for key, value in want.items()):
                del remaining[index]
                break
        else:
            return False
    return True


def join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def stringer(pub) -> str:
    published = "" if pub.published is None else _range_text(pub.published)
    return join_host_port(pub.host_ip or "", f"{published}:{_range_text(pub.target)}/{pub.protocol}")


def csv_mapping(text: str) -> dict | None:
    """A docker/cli CSV publish option as the long-syntax mapping it stands for; None if it has no such form."""
    try:
        row = next(csv.reader(io.StringIO(text)))
    except (csv.Error, StopIteration):
        return None
    mapping = {}
    for field in row:
        key, equals, value = field.partition("=")
        if not equals:
            return None
        value = value.strip()
        mapping[key.strip()] = int(value) if key.strip() in ("target", "published") and value.isdigit() else value
    return mapping


def judge(case) -> tuple[str, str]:
    """(verdict, detail): verdict is 'match', 'decided' or 'mismatch'."""
    kind = case["assertion"]
    raw = case["input"]
    if "CSV long syntax" in case["parser"]:
        entry = csv_mapping(raw)
        if entry is None:
            return ("match", "no long-syntax form") if not case["ok"] else ("mismatch", "CSV not readable")
    elif kind == "port-number":
        entry = f"{raw}:80"
    else:
        entry = raw
    pubs, codes = read_entry(entry)
    refused = rejected(codes) or not pubs
    detail = "; ".join(f"{c} {m}" for c, m in codes if c in REJECT_CODES) or \
        ", ".join(stringer(p) for p in pubs)
    if case["id"] in DECISIONS:
        behaviour, _ = DECISIONS[case["id"]]
        if (behaviour == "reject") == refused:
            if case["id"] == "cg-Test_transformPorts-04" and \
                    not all(any(name in m for c, m in codes if c == "PL041") for name in ("HOST_IP", "HOST_PORT")):
                return "mismatch", "expected PL041 for HOST_IP and HOST_PORT: " + detail
            return "decided", detail
        return "mismatch", f"decided to {behaviour}, but portlint did not: {detail}"
    if not case["ok"]:
        return ("match", detail) if refused else ("mismatch", f"accepted: {detail}")
    if refused:
        return "mismatch", f"rejected: {detail}"
    if kind == "stringer":
        want = case["expected_raw"]["string"]
        got = stringer(pubs[0]) if len(pubs) == 1 else detail
        return ("match", got) if got == want else ("mismatch", f"{got} != {want}")
    if kind == "range":
        want = case["expected"][0]
        got = pubs[0].target if len(pubs) == 1 else None
        return ("match", detail) if got == (want["begin"], want["end"]) else ("mismatch", f"{got} != {want}")
    if kind == "port-number":
        want = case["expected"][0]["port"]
        got = 0 if pubs[0].published is None else pubs[0].published[0]
        same = len(pubs) == 1 and (pubs[0].published is None or pubs[0].published[0] == pubs[0].published[1])
        return ("match", detail) if same and got == want else ("mismatch", f"{got} != {want}")
    if kind == "split":
        want = case["expected"][0]
        got_port, got_proto = _range_text(pubs[0].target), pubs[0].protocol
        ok = len(pubs) == 1 and got_port == want["port"] and got_proto == want["proto"].lower()
        return ("match", detail) if ok else ("mismatch", f"{got_port}/{got_proto} != {want}")
    expected = case["expected"]
    if expected is None:
        return "match", detail
    return ("match", detail) if same_mappings(pubs, expected) else ("mismatch", f"{detail} != {expected}")


def run_vectors(corpus: str, show_decided: bool) -> tuple[int, int, list]:
    path = os.path.join(corpus, "port-spec-cases", "port_spec_cases.json")
    with open(path, encoding="utf-8") as handle:
        cases = json.load(handle)["cases"]
    verdicts = collections.Counter()
    mismatches = []
    decided = []
    for case in cases:
        verdict, detail = judge(case)
        verdicts[verdict] += 1
        if verdict == "mismatch":
            mismatches.append((case["id"], case["input"], detail))
        elif verdict == "decided":
            decided.append((case["id"], case["input"], DECISIONS[case["id"]][1]))
    total = len(cases)
    print(f"Port-spec vectors: {total}")
    print(f"  matched:  {verdicts['match']}/{total}")
    print(f"  decided:  {verdicts['decided']} (portlint follows the Compose specification; see below)")
    print(f"  mismatch: {verdicts['mismatch']}")
    for case_id, raw, detail in mismatches:
        print(f"    MISMATCH {case_id} {raw!r}: {detail}")
    if show_decided:
        for case_id, raw, reason in decided:
            print(f"    decided {case_id} {raw!r}: {reason}")
    return verdicts["match"], total, mismatches


# --- corpus files ---------------------------------------------------------------------------------


def run_files(corpus: str, show_files: bool) -> list:
    roots = ["files", "linter-fixtures", "dclint-rule-fixtures"]
    paths = []
    for root in roots:
        for folder, _, names in os.walk(os.path.join(corpus, root)):
            paths.extend(os.path.join(folder, name) for name in sorted(names))
    paths.sort()
    crashed = []
    with_parse = collections.Counter()
    flagged = []
    for path in paths:
        try:
            source = read_source(path)
            if not isinstance(source, SourceFile):
                raise RuntimeError(f"unreadable: {source.message}")
            result = parse(source, FrontEndOptions(environ={}))
            if result.document is not None:
                run_checks(result.document, Settings(), source)
        except Exception:  # noqa: BLE001 - the point is to count them
            crashed.append((path, traceback.format_exc(limit=3)))
            continue
        codes = sorted({d.code for d in result.diagnostics if d.code in PARSE_CODES})
        if codes:
            flagged.append((path, codes, [d.message for d in result.diagnostics if d.code in PARSE_CODES][:2]))
            for code in codes:
                with_parse[code] += 1
    total = len(paths)
    clean = total - len(crashed) - len(flagged)
    print(f"Corpus files: {total}")
    print(f"  read without an uncaught exception: {total - len(crashed)}/{total}")
    print(f"  read without a parse finding:       {clean}/{total} ({100 * clean / total:.1f}%)")
    print("  files with a parse finding, by code: " + ", ".join(f"{c} {n}" for c, n in sorted(with_parse.items())))
    for path, trace in crashed:
        print(f"    CRASH {os.path.relpath(path, corpus)}\n{trace}")
    if show_files:
        for path, codes, messages in flagged:
            print(f"    {os.path.relpath(path, corpus)}: {' '.join(codes)}: {' | '.join(messages)}")
    return crashed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--list-decided", action="store_true", help="list the vectors decided by the specification")
    parser.add_argument("--list-files", action="store_true", help="list the corpus files with parse findings")
    args = parser.parse_args()
    _, _, mismatches = run_vectors(args.corpus, args.list_decided)
    print()
    crashed = run_files(args.corpus, args.list_files)
    return 1 if mismatches or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
