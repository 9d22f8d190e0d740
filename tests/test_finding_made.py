"""Finding.made (what CheckContext.report makes each finding with) is Finding(...): the same
instance dictionary, key for key in field order, equal, of the same hash, repr and pickle."""

from __future__ import annotations

import pickle
import random
import sys
from dataclasses import fields

from linter.findings import Finding, Severity


def _values(rng: random.Random) -> dict:
    line = rng.randrange(1, 10_000)
    return dict(code=rng.choice(["PL402", "PL405", "PL101"]), name="n", severity=rng.choice(list(Severity)),
                category=rng.choice(["hygiene", "exposure"]), path=rng.choice(["a.rules", "-", "d/x.nft"]),
                line=line, column=rng.randrange(1, 80), message=rng.choice(["", "Rule x is shadowed"]),
                hint=rng.choice([None, "", "Delete it"]), proto=rng.choice([None, "tcp"]),
                ports=rng.choice([None, ((22, 22),), ((1, 2), (80, 90))]), key=rng.choice(["", "filter/INPUT/x"]),
                end_line=rng.choice([None, line]), end_column=rng.choice([None, 9]),
                source_line=rng.choice([None, "", "-A INPUT -j DROP"]),
                related=rng.choice([(), (("a.rules", 3, 1, "same"),)]))


def test_made_is_the_constructor():
    rng = random.Random(14)
    assert [f.name for f in fields(Finding)] == list(Finding.made(**_values(rng)).__dict__)
    for _ in range(500):
        values = _values(rng)
        made, built = Finding.made(**values), Finding(**values)
        assert list(made.__dict__.items()) == list(built.__dict__.items())
        assert made == built and hash(made) == hash(built) and repr(made) == repr(built)
        assert pickle.dumps(made) == pickle.dumps(built)
        assert made.extra is not built.extra and made.fingerprint == built.fingerprint
        assert sys.getsizeof(made.__dict__) == sys.getsizeof(built.__dict__)  # the compact, shared-key one


def test_reporters_order_findings_by_their_sort_key():
    """reporters.FINDING_ORDER (Report.reported, the JSON report) is Finding.sort_key, made in C."""
    from linter.reporters import FINDING_ORDER

    rng = random.Random(15)
    findings = [Finding.made(**_values(rng)) for _ in range(500)]
    assert all(FINDING_ORDER(f) == f.sort_key() for f in findings)
    assert [id(f) for f in sorted(findings, key=FINDING_ORDER)] == [id(f) for f in sorted(findings, key=Finding.sort_key)]
