"""`portlint check --statistics --format json`: the counts of --statistics as a JSON list."""

from __future__ import annotations

import json

from linter.reporters.statistics import counts


def render(report) -> str:
    return json.dumps([{"code": code, "name": name, "count": n} for code, name, n in counts(report)], indent=2) + "\n"
