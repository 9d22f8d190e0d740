"""SARIF related locations: each path's artifact location is worked out once per finding and
copied; the result is what working it out for each location gives."""

from __future__ import annotations

import random

from linter.findings import Finding, Severity
from linter.reporters import sarif


def test_related_locations_are_each_their_own_artifact_location(tmp_path):
    rng = random.Random(14)
    paths = ["fw/rules.v4", "./fw/../fw/rules.v4", "a dir/x#1.rules", str(tmp_path / "out.rules"), "-"]
    related = tuple((rng.choice(paths), rng.randrange(1, 500), rng.randrange(0, 9), rng.choice(["same finding", "x"]))
                    for _ in range(300))
    finding = Finding(code="PL201", name="n", severity=Severity.INFO, category="exposure", path="fw/rules.v4",
                      line=3, column=1, message="m", related=related)
    got = sarif.result(finding, 0)["relatedLocations"]
    assert got == [{"id": number, "message": {"text": note}, "physicalLocation": {
                        "artifactLocation": sarif.artifact_location(path),
                        "region": {"startLine": line, "startColumn": max(column, 1)}}}
                   for number, (path, line, column, note) in enumerate(related, start=1)]
    locations = [entry["physicalLocation"]["artifactLocation"] for entry in got]
    assert len({id(location) for location in locations}) == len(locations)  # none shared
