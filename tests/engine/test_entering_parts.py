"""paths.entering_parts against the loop _run_chain ran before: the same parts, in order."""

from __future__ import annotations

import random
from types import SimpleNamespace

from linter.engine.paths import NEW, entering_parts
from linter.engine.space import Box, replace
from linter.model import Family, Hook

STATES = (NEW, frozenset({"new"}), frozenset({"established"}), frozenset({"new", "established"}),
          frozenset({"new", "invalid", "untracked"}), frozenset())
IFACES = (frozenset({"eth0"}), frozenset({"eth0", "eth1"}), frozenset({"lo", "eth1"}), frozenset({"wg0"}))


def _reference(chain, boxes):
    skipped, entering = [], []
    nat = chain.type == "nat"
    bound = chain.hook is Hook.INGRESS and chain.device
    for box in boxes:
        part, rest = box, []
        if nat and box.state != NEW:
            inside_states = box.state & {"new"}
            if box.state - inside_states:
                rest.append(replace(box, state=box.state - inside_states))
            part = replace(box, state=inside_states) if inside_states else None
        if part is not None and bound:
            devices = {d.strip() for d in chain.device.split(",")}
            hit = frozenset(i for i in part.iif if i in devices)
            if part.iif - hit:
                rest.append(replace(part, iif=part.iif - hit))
            part = replace(part, iif=hit) if hit else None
        skipped.extend(rest)
        if part is not None:
            entering.append(part)
    return entering, skipped


def test_entering_parts_is_the_loop_it_replaced():
    rng = random.Random(5)
    for _ in range(400):
        chain = SimpleNamespace(type=rng.choice(("nat", "filter", None)),
                                hook=rng.choice((Hook.INGRESS, Hook.FORWARD, Hook.POSTROUTING)),
                                device=rng.choice(("", "eth0", "eth0, wg0")))
        boxes = [Box(Family.IPV4, ((6, 6),), ((0, 65535),), ((80, 80),), ((0, 5),), ((7, 9),),
                     rng.choice(IFACES), rng.choice(STATES)) for _ in range(rng.randrange(0, 12))]
        entering, skipped = entering_parts(chain, boxes)
        assert (entering, skipped) == _reference(chain, boxes)
        assert type(entering) is list and entering is not boxes
