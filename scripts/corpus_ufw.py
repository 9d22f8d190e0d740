#!/usr/bin/env python3
"""Compare the iptables rules portlint writes for ufw commands with those ufw itself wrote.

ufw's own test suite records, for each ``ufw --dry-run allow|deny|reject|limit|route ...``
command, the user.rules text ufw would load (../shared/corpus/generated/ufw/tests/*/*/result).
For each such command this script parses it with linter/frontends/ufw and compares the
``-A ufw[6]-user-*`` lines, option by option (order and ``-m tcp``/``-m udp`` ignored), and
counts the commands ufw refused (ERROR) that portlint refuses too.

    python scripts/corpus_ufw.py [--corpus DIR] [--show N]

The corpus is not part of the project; the tests never need it.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from linter.frontends.ufw import UfwError, parse_command  # noqa: E402
from linter.frontends.ufw.commands import AddRule  # noqa: E402
from linter.frontends.ufw.profiles import application  # noqa: E402
from linter.frontends.ufw.rules import families, iptables_lines  # noqa: E402

_BLOCK = re.compile(r"^(\d+): (.*)$", re.M)
_ADD = re.compile(r"^--dry-run (route )?(allow|deny|reject|limit)\b")


# Application profiles ufw's test suite installs for itself.
_TEST_PROFILES = {"OpenNTPD", "Multi TCP", "Multi UDP", "Custom Web App", "Custom Web App2", "WWW", "WWW Full",
                  "WWW Secure", "WWW Cache", "Bind9", "Samba"}


def _app_words(words: list[str]) -> list[str]:
    """The test records commands without the shell's quotes: join the words of a profile name
    ("allow Apache Full", "to any app Apache Secure") back into one."""
    out: list[str] = []
    for word in words:
        if out and application(f"{out[-1]} {word}") is not None and " " not in out[-1] + word \
                or out and out[-1] in _JOIN and application(f"{out[-1]} {word}") is not None:
            out[-1] = f"{out[-1]} {word}"
        elif out and f"{out[-1]} {word}" in _TEST_PROFILES | {"Multi", "Custom Web"}:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    return out


_JOIN = {"Nginx", "Apache", "Postfix", "Dovecot", "OpenLDAP", "Dovecot Secure", "WWW", "Nginx Full"}


def normalized(line: str) -> tuple:
    """A rule line as a sorted tuple of (option, values...) groups, without -m tcp/udp."""
    words = shlex.split(line)
    groups, current = [], None
    for word in words:
        if word.startswith("-") and not re.match(r"^-\d", word):
            current = [word]
            groups.append(current)
        elif current is not None:
            current.append(word)
    dropped = (["-m", "tcp"], ["-m", "udp"], ["--name", "DEFAULT"], ["--rsource"], ["--mask", "255.255.255.255"],
               ["--mask", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"])  # iptables-save's defaults of -m recent
    kept = {tuple(g) for g in groups if g not in dropped}  # a set: ufw repeats -m multiport for --sports
    kept = {(o, v.removesuffix("/32").removesuffix("/128")) if o in ("-s", "-d") else (o, v, *rest)
            for o, v, *rest in (g + ("",) if len(g) == 1 else g for g in kept)}
    return tuple(sorted(kept))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(PROJECT.parent / "shared" / "corpus"))
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()
    results = sorted(Path(args.corpus, "generated", "ufw", "tests").glob("*/*/result"))
    same = different = refused_both = refused_ours = refused_theirs = test_profiles = 0
    shown = 0
    for path in results:
        text = path.read_text(errors="replace")
        heads = list(_BLOCK.finditer(text))
        for index, head in enumerate(heads):
            command = head.group(2)
            if not _ADD.match(command) or " app " in f" {command} " and "/" in command:
                continue
            body = text[head.end():heads[index + 1].start() if index + 1 < len(heads) else len(text)]
            theirs = sorted(normalized(line) for line in body.splitlines()
                            if re.match(r"^-A ufw6?-user-(input|output|forward) ", line))
            ufw_error = "ERROR:" in body
            words = _app_words(shlex.split(command)[1:])  # without --dry-run
            if any(w in _TEST_PROFILES for w in words):
                test_profiles += 1
                continue
            try:
                operation = parse_command(words)
            except (UfwError, ValueError) as exc:
                if ufw_error:
                    refused_both += 1
                else:
                    refused_ours += 1
                    if shown < args.show:
                        shown += 1
                        print(f"refused by portlint only: {command}: {exc}")
                continue
            if ufw_error:
                refused_theirs += 1
                continue
            if not isinstance(operation, AddRule):
                continue
            shown_families = {False: ":ufw-user-input " in body, True: ":ufw6-user-input " in body}
            wanted = [v6 for v6 in families(operation.rule) if shown_families[v6]]
            ours = sorted(normalized(line) for v6 in wanted for line in iptables_lines(operation.rule, v6))
            if ours == theirs:
                same += 1
            else:
                different += 1
                if shown < args.show:
                    shown += 1
                    print(f"differs: {command}\n  ufw:      {theirs}\n  portlint: {ours}")
    total = same + different
    print(f"dry-run rule commands compared: {total}; same rules: {same}; different: {different}")
    print(f"skipped: {test_profiles} commands naming profiles of ufw's own tests (not installed by packages)")
    print(f"refused by ufw: {refused_both + refused_theirs} ({refused_both} by portlint too); "
          f"refused by portlint only: {refused_ours}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
