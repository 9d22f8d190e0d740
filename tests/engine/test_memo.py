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


def test_a_linted_file_leaves_nothing_of_its_model_behind_once_the_next_is_linted(tmp_path):
    first, second = tmp_path / "first.rules", tmp_path / "second.rules"
    first.write_text(RULES)
    second.write_text(RULES.replace("--dport 23", "--dport 21"))
    result = pipeline.lint_file(str(first), Settings())
    assert [(f.code, f.line) for f in result.findings if f.code == "PL101"] == [("PL101", 8)]
    del result
    assert _rulesets_of(str(first)) == 1  # the caches hold it until the next file
    pipeline.lint_file(str(second), Settings())
    # Before: the engine's identity caches (chains' blocks, jump graphs, marks read...) kept
    # every file's ruleset, and what the checks computed from it, until some later file
    # filled them.
    assert _rulesets_of(str(first)) == 0
