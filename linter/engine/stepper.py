"""One step taken by many trails: a base chain's policy step for every box that fell off it.

``walk.step(trail, ...)`` builds the step's identity and, for each trail it extends anew, a
Step object of its own. After kube-proxy's DNATs, 32,000 boxes fall off nat POSTROUTING, each
on a path of its own: 32,000 equal Steps made one by one (a NamedTuple is built by Python
code). A stepper makes the Step and its identity once and extends each trail with that one
object, through the path cache exactly as ``space.extend_path`` does (the same key, the same
hit test, the same emptying of a full cache): the same trails, whose last step is the one
shared object where step() would have made an equal one. Steps are values (compared and read
by their fields), and a replay (engine/replay.py) already shares its template's Step objects
between the trails it extends.
"""

from __future__ import annotations

from collections.abc import Callable

from linter.engine import space
from linter.engine.walk import Step
from linter.model import Chain, Rule, Table


def stepper(event: str, table: Table, chain: Chain, rule: Rule | None = None,
            detail: str = "") -> Callable[[tuple], tuple]:
    """``trail -> walk.step(trail, event, table, chain, rule, detail)``, one Step object for all."""
    identity = (event, id(table), id(chain), id(rule), detail)
    made = Step(event, table, chain, rule, detail)
    paths = space._PATHS  # (the cache's one dict: emptied in place, never replaced)
    holding = space._HOLDING

    def stepped(trail: tuple) -> tuple:
        key = (id(trail), identity)
        hit = paths.get(key)
        if hit is not None and hit[0] is trail:
            return hit[1]
        if len(paths) > space.PATH_CACHE_SIZE and not holding[0]:
            paths.clear()
        extended = trail + (made,)
        paths[key] = (trail, extended)
        return extended
    return stepped
