"""engine/descent.py: a list kept as how it was cut is built back exactly; the results of a
ufw chain keep their long port lists (drops) and source lists (accepts) that way and read back
as the walk decided them, and the exposure summary of them is the same."""

from __future__ import annotations

import random

from linter.engine import intervals as iv
from linter.engine.descent import CHECKPOINT_AT_LEAST, Deferred, ranges_of, root
from linter.engine.exposure import ExposureAnalysis
from linter.engine.known_sizes import LONG, KnownSizes, collecting, note_cut
from linter.engine.paths import DeferredResult, Result
from linter.engine.space import Box
from linter.model import Family
from tests.engine.helpers import ruleset


def test_every_list_of_a_line_of_cuts_is_built_back_exactly():
    rnd = random.Random(5)
    registry = KnownSizes()
    current = ((0, 65535),)
    lists = []
    with collecting(registry):
        for port in rnd.sample(range(1, 65535), 600):
            taken = iv.intersect(current, ((port, port),))
            rest = iv.subtract(current, ((port, port),))
            note_cut(current, taken, rest)
            current = rest
            lists.append(rest)
    nodes = [(ranges, registry.node_of(ranges)) for ranges in lists]
    held = [(ranges, node) for ranges, node in nodes if node is not None]
    assert len(held) == sum(len(ranges) > LONG for ranges in lists) > 500
    assert sum(node.ranges is not None for _, node in held) < len(held) // (CHECKPOINT_AT_LEAST - 1) + 2
    for ranges, node in held:
        assert ranges_of(node) == ranges


def test_without_is_subtract_for_what_cuts_took():
    rnd = random.Random(8)
    checked = 0
    for _ in range(1500):
        current = ((0, rnd.choice([60, 1000, 65535])),)
        lines = [(None, current)]
        for _ in range(rnd.randrange(1, 50)):
            if not current:
                break
            start = rnd.randrange(0, current[-1][1] + 1)
            cut = ((start, start + rnd.randrange(0, 3)),)
            taken = iv.intersect(current, cut)
            if taken:
                current = iv.subtract(current, cut)
                lines.append((taken, current))
        if len(lines) < 2:
            continue
        first = rnd.randrange(0, len(lines) - 1)
        taken = iv.normalize([piece for part, _ in lines[first + 1:] for piece in part])
        assert iv.without_inside(lines[first][1], taken) == current == iv.subtract(lines[first][1], taken)
        checked += 1
    assert checked > 1000


def test_a_deferred_box_reads_as_the_box():
    registry = KnownSizes()
    ports = tuple((p, p) for p in range(0, 2 * (LONG + 5), 2))
    rest = ports[:-1]
    with collecting(registry):
        note_cut(ports, ports[-1:], rest)
    box = Box(Family.IPV4, ((6, 6),), ((0, 65535),), rest, ((5, 5),), ((0, 9),), frozenset({"eth0"}),
              frozenset({"new"}))
    deferred, = registry.defer([box])
    assert type(deferred) is Deferred and deferred.bare.dport == ()
    assert deferred.box() == box and deferred.dport == rest and deferred.src == ((5, 5),)
    assert deferred.cur_dport == rest and deferred._replace(trail=(1,)) == box._replace(trail=(1,))
    assert tuple(deferred) == box and deferred[3] == rest and len(deferred) == len(box)
    short = box._replace(dport=((1, 1),))
    assert registry.defer([short]) == [short]
    assert ranges_of(root(rest, 7)) is rest


def _user_rules(count: int) -> str:
    """ufw's user chain: `allow port Q`, `deny from NET` and `allow from NET port P` mixed."""
    rnd = random.Random(11)
    lines = ["*filter", ":INPUT DROP [0:0]", ":ufw-user-input - [0:0]", "-A INPUT -i lo -j ACCEPT",
             "-A INPUT -j ufw-user-input"]
    for number, net in enumerate(rnd.sample(range(256, 200 * 256), count)):
        kind = number % 3
        port = 1000 + rnd.randrange(60000)
        source = f"{11 + (net >> 8)}.{net & 255}.0.0/16"
        if kind == 0:
            lines.append(f"-A ufw-user-input -p tcp -m tcp --dport {port} -j ACCEPT")
        elif kind == 1:
            lines.append(f"-A ufw-user-input -s {source} -j DROP")
        else:
            lines.append(f"-A ufw-user-input -s {source} -p tcp -m tcp --dport {port} -j ACCEPT")
    return "\n".join(lines + ["COMMIT", ""])


def _results(text: str) -> list[Result]:
    return ExposureAnalysis([ruleset(text)]).results(Family.IPV4)


def test_drop_results_of_a_ufw_chain_are_deferred_and_read_back_as_walked(monkeypatch):
    text = _user_rules(600)
    deferred = _results(text)
    monkeypatch.setattr(KnownSizes, "defer", lambda self, boxes, ports=True: boxes)
    plain = _results(text)
    assert len(deferred) == len(plain)
    kept = [result for result in deferred if type(result) is DeferredResult]
    drops = [result for result in kept if result.verdict.value in ("drop", "reject")]
    accepts = [result for result in kept if result.verdict.value == "accept"]
    assert len(drops) > 100 and len(accepts) > 100 and len(drops) + len(accepts) == len(kept)
    assert all(result.deferred.dport_node is None for result in accepts)
    for mine, theirs in zip(deferred, plain):
        assert (mine.box, mine.verdict, mine.forwarded) == (theirs.box, theirs.verdict, theirs.forwarded)


def test_the_exposure_summary_of_deferred_results_is_the_same(monkeypatch):
    text = _user_rules(300)
    deferred = ExposureAnalysis([ruleset(text)])
    mine = deferred.exposures()
    assert any(type(result) is DeferredResult for result in deferred.results(Family.IPV4))
    monkeypatch.setattr(KnownSizes, "defer", lambda self, boxes, ports=True: boxes)
    theirs = ExposureAnalysis([ruleset(text)]).exposures()
    assert len(mine) == len(theirs) > 100
    assert mine == theirs
