"""Identity caches live as long as their file: a many-file run holds one file's objects at a time."""

import gc

from linter import pipeline
from linter.checks import Settings
from linter.engine import memo
from linter.model import Ruleset

RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:SERVICES - [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -s 10.0.0.0/8 -j SERVICES
-A INPUT -p tcp --dport 23 -j ACCEPT
-A SERVICES -p tcp --dport 22 -j ACCEPT
COMMIT
"""


class _Key:
    """An object a cache may key on (plain objects can be weakly referenced)."""


def test_forget_every_file_empties_identity_caches_and_registered_dicts():
    cache = memo.IdentityCache()
    key = _Key()
    cache.put(key, "value")
    registered = memo.per_file({"k": key})
    cleared = []
    memo.on_forget(lambda: cleared.append(True))
    try:
        memo.forget_every_file()
    finally:
        del memo._CLEARED_TOO[-2:]  # the two registered above
    assert cache.get(key) is None
    assert registered == {}
    assert cleared == [True]


def _rulesets_of(path: str) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Ruleset and o.path == path)


def test_a_linted_file_leaves_nothing_of_its_model_behind(tmp_path):
    path = tmp_path / "host.rules"
    path.write_text(RULES)
    result = pipeline.lint_file(str(path), Settings())
    assert [(f.code, f.line) for f in result.findings if f.code == "PL101"] == [("PL101", 8)]
    assert _rulesets_of(str(path)) == 1  # the result holds it
    del result
    # Before: the engine's identity caches (chains' blocks, jump graphs, marks read...) kept
    # the ruleset, and what the checks computed from it, until some later file filled them.
    assert _rulesets_of(str(path)) == 0

