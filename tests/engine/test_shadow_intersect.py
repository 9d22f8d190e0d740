"""engine/shadow.intersect keeps an operand's interface and state set where the crossing holds all of
it: the same box, field by field, as crossing every set anew."""

from __future__ import annotations

import random

from linter.engine import intervals as iv
from linter.engine.shadow import intersect, universe
from linter.engine.space import replace
from linter.model import Family

_IFACES = ("eth0", "eth1", "lo", "wg0")
_STATES = ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED")


def _crossed_anew(a, b):
    """intersect() as it was: every field crossed, each set a new one."""
    if a.family is not b.family or a.local is not b.local:
        return None
    values = list(a)
    for name in ("proto", "src", "dst", "sport", "dport"):
        ranges = iv.intersect(getattr(a, name), getattr(b, name))
        if not ranges:
            return None
        values[a._fields.index(name)] = ranges
    for name in ("iif", "state"):
        common = getattr(a, name) & getattr(b, name)
        if not common:
            return None
        values[a._fields.index(name)] = common
    return type(a)(*values)


def _box(rnd: random.Random, whole):
    def ranges(top):
        lo = rnd.randrange(0, top)
        return ((lo, min(top, lo + rnd.randrange(0, top))),)

    def subset(values, full):
        if rnd.random() < 0.4:
            return full
        return frozenset(rnd.sample(values, rnd.randrange(1, len(values) + 1)))

    return replace(whole, proto=ranges(255), src=ranges(1 << 32 - 1), dport=ranges(65535),
                   iif=subset(_IFACES, whole.iif), state=subset(_STATES, whole.state),
                   local=rnd.choice((whole.local, not whole.local)))


def test_intersect_equals_crossing_every_set_anew():
    rnd = random.Random(7)
    whole = universe(Family.IPV4, frozenset(_IFACES))[0]
    whole = replace(whole, state=frozenset(_STATES))
    met = 0
    for _ in range(3000):
        a, b = _box(rnd, whole), _box(rnd, whole)
        found, expected = intersect(a, b), _crossed_anew(a, b)
        assert found == expected
        if found is not None:
            met += 1
            assert type(found) is type(a)
            for name in ("iif", "state"):  # a set equal to ``a``'s is ``a``'s own
                if getattr(found, name) == getattr(a, name):
                    assert getattr(found, name) is getattr(a, name)
    assert met > 100
