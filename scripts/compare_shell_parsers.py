#!/usr/bin/env python3
"""Compare portlint's shell parser (linter/frontends/shell/parser.py) with tree-sitter-bash.

The numbers in docs/shell-parser.md come from
this script. tree-sitter is not a dependency of portlint: install ``tree-sitter`` and
``tree-sitter-bash`` into a scratch venv and name its python:

    python -m venv /tmp/ts-venv && /tmp/ts-venv/bin/pip install tree-sitter tree-sitter-bash
    python scripts/compare_shell_parsers.py --ts-python /tmp/ts-venv/bin/python [--scripts DIR]

``--scripts DIR``: more shell scripts to read (e.g. the ones ../shared/corpus/MANIFEST.tsv lists,
taken from their repositories; they are never copied into the project). For each input: errors
on each side, the commands each finds and whether the iptables commands start at the same
line and column, and the time to parse.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
IPTABLES_NAMES = ("iptables", "ip6tables", "iptables-restore")
RULE = "iptables -A INPUT -p tcp --dport 23 -j ACCEPT\n"
HOSTILE = {
    "heredoc restore": "#!/bin/sh\niptables-restore <<EOF\n*filter\n:INPUT DROP [0:0]\n"
                       "-A INPUT -p tcp --dport 23 -j ACCEPT\nCOMMIT\nEOF\n" + RULE,
    "heredoc quoted, <<- tabs, two on a line": "cat <<'A' <<-B\n$x\nA\n\tb\n\tB\n" + RULE,
    "heredoc unterminated": "iptables-restore <<EOF\n*filter\nCOMMIT\n" + RULE,
    "heredoc in $(...)": "X=$(cat <<EOF\nhello\nEOF\n)\n" + RULE,
    "unterminated double quote": 'iptables -A INPUT -p tcp --dport "22 -j ACCEPT\n' + RULE,
    "unterminated single quote": "echo 'oops\n" + RULE,
    "unterminated $(": "X=$(echo a\n" + RULE,
    "missing fi": "if true; then\n" + RULE,
    "stray done then rule": "done\n" + RULE,
    "5000 nested if": "if true; then\n" * 5000 + "echo\n" + "fi\n" * 5000 + RULE,
    "5000 nested { }": "{ " * 5000 + "echo; " + "}; " * 5000 + "\n" + RULE,
    "5000 nested while": "while true; do " * 5000 + "echo; " + "done; " * 5000 + "\n" + RULE,
    "5000 nested functions": "f() { " * 5000 + "echo; " + "}; " * 5000 + "\n" + RULE,
    "5000 nested ${X:-": "echo " + "${X:-" * 5000 + "a" + "}" * 5000 + "\n" + RULE,
    "5000 nested \"$(": "echo " + '"$(' * 5000 + "\n" + RULE,
    "5000 nested $(echo": "echo " + "$(echo " * 5000 + "\n" + RULE,
    "[[ a < b ]] and (( ))": "[[ a < b ]] && echo yes\n(( i = 1 << 2 ))\n" + RULE,
    "case with ;; and patterns": "case $1 in\n start|restart) " + RULE + " ;;\n *) exit 1;;\nesac\n",
}


def tree_sitter_side(cases_path: str) -> None:
    """Run inside the venv that has tree-sitter: parse every case, print JSON."""
    import tree_sitter
    import tree_sitter_bash

    lang = tree_sitter.Language(tree_sitter_bash.language())
    parser = tree_sitter.Parser(lang)
    cases = json.load(open(cases_path))
    out = {}
    for case in cases:
        data = case["text"].encode()
        r = {}
        try:
            t0 = time.perf_counter()
            for _ in range(case.get("repeat", 1)):
                tree = parser.parse(data)
            r["seconds"] = (time.perf_counter() - t0) / case.get("repeat", 1)
            root = tree.root_node
            r["has_error"] = root.has_error
            errors, commands, depth = [], [], 0
            stack = [(root, 0)]
            while stack:
                node, d = stack.pop()
                depth = max(depth, d)
                if node.type == "ERROR" or node.is_missing:
                    errors.append((node.start_point[0] + 1, node.start_point[1] + 1, "missing " + node.type if node.is_missing else "ERROR"))
                if node.type == "command":
                    name = node.child_by_field_name("name")
                    commands.append((node.start_point[0] + 1, node.start_point[1] + 1, name.text.decode(errors="replace") if name else None))
                stack.extend((c, d + 1) for c in node.children)
            r["errors"] = sorted(errors)[:50]
            r["error_count"] = len(errors)
            r["commands"] = sorted(commands)
            r["depth"] = depth
        except Exception as exc:
            r["crash"] = f"{type(exc).__name__}: {exc}"[:300]
        out[case["name"]] = r
    json.dump(out, sys.stdout)


def ours(text: str, repeat: int) -> dict:
    from linter.frontends.shell.parser import parse_script
    from linter.frontends.shell.syntax_tree import Lit, Simple

    def walk(obj, out):
        if isinstance(obj, Simple) and obj.words:
            first = obj.words[0]
            name = "".join(p.text for p in first.parts) if all(isinstance(p, Lit) for p in first.parts) else None
            out.append((obj.line, obj.column, name))
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                walk(getattr(obj, f.name), out)
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                walk(item, out)

    start = time.perf_counter()
    for _ in range(repeat):
        body, errors = parse_script(text)
    seconds = (time.perf_counter() - start) / repeat
    commands: list = []
    walk(body, commands)
    return {"seconds": seconds, "errors": [(e.line, e.column, e.message[:60]) for e in errors],
            "commands": sorted(commands)}


def iptables_positions(commands) -> list:
    return sorted((line, column) for line, column, name in commands
                  if name and name.rsplit("/", 1)[-1] in IPTABLES_NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ts-python", required=False, help="python of a venv with tree-sitter-bash")
    parser.add_argument("--scripts", help="a directory of more shell scripts")
    parser.add_argument("--ts-side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ts_side:
        tree_sitter_side(args.ts_side)
        return
    if not args.ts_python:
        parser.error("--ts-python is required")
    sys.path.insert(0, str(PROJECT))
    sys.setrecursionlimit(20000)
    cases = [{"name": str(p.relative_to(PROJECT)), "text": p.read_text(encoding="utf-8"), "kind": "script",
              "repeat": 20} for p in sorted((PROJECT / "samples" / "scripts").iterdir())
             + [PROJECT / "tests" / "robustness" / "inputs" / "firewall.sh"]]
    if args.scripts:
        cases += [{"name": path, "text": Path(path).read_text(encoding="utf-8", errors="replace"), "kind": "corpus",
                   "repeat": 5} for path in sorted(glob.glob(str(Path(args.scripts) / "*")))]
    cases.append({"name": "rc.firewall x50", "kind": "speed", "repeat": 3,
                  "text": (PROJECT / "samples" / "scripts" / "rc.firewall").read_text(encoding="utf-8") * 50})
    cases += [{"name": name, "text": text, "kind": "hostile", "repeat": 1} for name, text in HOSTILE.items()]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(cases, handle)
        handle.flush()
        theirs = json.loads(subprocess.run([args.ts_python, __file__, "--ts-side", handle.name], capture_output=True,
                                           text=True, check=True).stdout)
    rows = []
    for case in cases:
        mine = ours(case["text"], case["repeat"])
        other = theirs[case["name"]]
        other_commands = [tuple(c) for c in other.get("commands", [])]
        rows.append((case, mine, other, iptables_positions(mine["commands"]) == iptables_positions(other_commands)))
        print(f"{case['name'][-40:]:40} ours {mine['seconds'] * 1000:9.3f} ms, {len(mine['errors'])} errors | "
              f"tree-sitter {other.get('seconds', 0) * 1000:9.3f} ms, {other.get('error_count')} error nodes"
              f"{', CRASH ' + other['crash'] if 'crash' in other else ''} | iptables at the same places: {rows[-1][3]}")
    for kind in ("script", "corpus"):
        chosen = [row for row in rows if row[0]["kind"] == kind]
        if chosen:
            print(f"{kind}: {len(chosen)} files; read without error: ours {sum(not m['errors'] for _, m, _, _ in chosen)},"
                  f" tree-sitter {sum(o.get('error_count') == 0 for _, _, o, _ in chosen)}; iptables commands at the"
                  f" same places in {sum(same for *_, same in chosen)}; time ours"
                  f" {sum(m['seconds'] for _, m, _, _ in chosen) * 1000:.1f} ms, tree-sitter"
                  f" {sum(o.get('seconds', 0) for _, _, o, _ in chosen) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
