"""The dead-rule analysis's short ways to what a jump does (engine/shadow.py, shadow_shapes.py):
whether a rule may not match at all, remembered per tuple of matches, is has_opaque's or
has_path_decided's answer; _jump_mode looks its chain up once and answers as
jump_changes_nothing and _returned_by do; and a whole analysis finds the same dead rules with
the shortcuts as without them, on random tables."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import shadow, shadow_shapes  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.engine.space import has_opaque, has_path_decided  # noqa: E402
from linter.engine.transparent import jump_changes_nothing  # noqa: E402
from linter.engine.universe import interface_representatives  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402
from tests.engine.test_shape_lane import _table  # noqa: E402


def _tables(seed: int, count: int):
    rng = random.Random(seed)
    for _ in range(count):
        text = _table(rng, Family.IPV4)
        try:
            yield ruleset(text)
        except AssertionError:
            continue  # a rule the front end warns about


def test_may_not_match_is_the_rules_own_answer():
    seen = 0
    for document in _tables(71, 80):
        for chain in document.tables[0].chains:
            for rule in chain.rules:
                expected = has_opaque(rule) or has_path_decided(rule)
                assert shadow_shapes._may_not_match(rule) is expected
                assert shadow_shapes._may_not_match(rule) is expected  # (remembered)
                seen += expected
    assert seen > 20


def test_jump_mode_answers_as_the_two_questions_it_replaces():
    from linter.engine.keyed_jumps import SAME

    asked = 0
    for document in _tables(72, 60):
        table = document.tables[0]
        analysis = ShadowAnalysis(table, Family.IPV4, interface_representatives([document]))
        names = [chain.name for chain in table.chains] + ["UNDEFINED", None]
        for active in ([], [table.chains[-1].name]):
            analysis._active = list(active)
            for name in names:
                expected = SAME if jump_changes_nothing(table, name, analysis._active) else analysis._returned_by(name)
                assert analysis._jump_mode(name) is expected
                asked += 1
    assert asked > 500


@pytest.mark.parametrize("seed", [73, 74])
def test_dead_rules_as_without_the_shortcuts(seed, monkeypatch):
    for document in _tables(seed, 60):
        table = document.tables[0]
        interfaces = interface_representatives([document])
        quick = ShadowAnalysis(table, Family.IPV4, interfaces)
        found = [(quick.chain(c).dead, quick.chain(c).shadowed, quick.chain(c).judged) for c in table.chains]
        with monkeypatch.context() as patch:
            patch.setattr(shadow_shapes, "_may_not_match", lambda rule: has_opaque(rule) or has_path_decided(rule))
            patch.setattr(shadow.ShadowAnalysis, "_jump_mode", lambda self, name: (
                __import__("linter.engine.keyed_jumps", fromlist=["SAME"]).SAME
                if jump_changes_nothing(self.table, name, self._active) else self._returned_by(name)))
            general = ShadowAnalysis(table, Family.IPV4, interfaces)
            assert found == [(general.chain(c).dead, general.chain(c).shadowed, general.chain(c).judged)
                             for c in table.chains]
