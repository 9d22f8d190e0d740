"""One step taken by many trails: a base chain's policy step for every box that fell off it.

``walk.step(trail, ...)`` builds the step's identity and, for each trail it extends anew, a
Step object of its own. After kube-proxy's DNATs, 32,000 boxes fall off nat POSTROUTING, each
on a path of its own: 32,000 equal Steps made one by one (a NamedTuple is built by Python
code). A stepper makes the Step and its identity once and extends each trail with that one
object through ``space.extend_path``, under step()'s identity: the same trails, whose last
step is the one shared object where step() would have made an equal one. Steps are values
(compared and read by their fields), and a replay (engine/replay.py) already shares its
template's Step objects between the trails it extends.
"""

from __future__ import annotations

from collections.abc import Callable

from linter.engine.space import extend_path
from linter.engine.walk import Step
from linter.model import Chain, Rule, Table


def stepper(event: str, table: Table, chain: Chain, rule: Rule | None = None,
            detail: str = "") -> Callable[[tuple], tuple]:
    """``trail -> walk.step(trail, event, table, chain, rule, detail)``, one Step object for all."""
    identity = (event, id(table), id(chain), id(rule), detail)
    made = Step(event, table, chain, rule, detail)

    def stepped(trail: tuple) -> tuple:
        return extend_path(trail, identity, _itself, made)
    return stepped


def _itself(item):
    return item
