"""Chains of one shape walked once (engine/shapewalk.py): the same results as walking each."""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import intervals as iv  # noqa: E402
from linter.engine import shapewalk  # noqa: E402
from linter.engine.marks import marks_read  # noqa: E402
from linter.engine.paths import PathEvaluator  # noqa: E402
from linter.engine.shapewalk import SharedWalks, subtree_of  # noqa: E402
from linter.engine.space import Box  # noqa: E402
from linter.engine.walk import Outcome, Walker  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

ALL = iv.full(2**32 - 1)


def _ip(text: str) -> int:
    a, b, c, d = (int(part) for part in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _kube(services: list[tuple[str, int, list[str]]], extra: str = "") -> str:
    """A kube-proxy nat table: per service (cluster IP, port, endpoints) a KUBE-SVC chain
    choosing an endpoint at random and a KUBE-SEP chain per endpoint."""
    chains = [":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
              ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]"]
    rules = ["-A PREROUTING -j KUBE-SERVICES", "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000"]
    for number, (cluster, port, endpoints) in enumerate(services):
        svc = f"KUBE-SVC-{number}"
        chains.append(f":{svc} - [0:0]")
        rules.append(f"-A KUBE-SERVICES -d {cluster}/32 -p tcp -m tcp --dport {port} -j {svc}")
        for index, endpoint in enumerate(endpoints):
            sep = f"KUBE-SEP-{number}-{index}"
            chains.append(f":{sep} - [0:0]")
            left = len(endpoints) - index
            chance = f"-m statistic --mode random --probability {1 / left:.11f} " if left > 1 else ""
            rules.append(f"-A {svc} {chance}-j {sep}")
            rules.append(f"-A {sep} -s {endpoint}/32 -j KUBE-MARK-MASQ")
            rules.append(f"-A {sep} -p tcp -m tcp -j DNAT --to-destination {endpoint}:{port + 1000}")
    filter_table = ("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                    "-A FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT\n-A FORWARD -d 10.1.0.0/16 -j ACCEPT\nCOMMIT\n")
    return "*nat\n" + "\n".join(chains + rules) + "\n" + extra + "COMMIT\n" + filter_table


SERVICES = [
    ("10.96.0.1", 80, ["10.1.0.2", "10.1.0.3", "10.1.0.4"]),
    ("10.96.0.2", 443, ["10.1.0.5", "10.1.0.6", "10.1.0.7"]),
    ("10.96.0.3", 80, ["10.1.0.8", "10.1.0.9", "10.1.0.10"]),
    ("10.96.0.4", 53, ["10.1.0.11", "10.1.0.12", "10.1.0.13"]),
    ("10.96.0.5", 80, ["10.1.0.30", "10.1.0.20", "10.1.0.25"]),  # endpoints out of order: a template of its own
    ("10.96.0.6", 80, ["10.1.0.31", "10.1.0.20", "10.1.0.26"]),
    ("10.96.0.7", 8080, ["10.1.0.40", "10.1.0.40", "10.1.0.41"]),  # one endpoint twice: equal constants
    ("10.96.0.8", 8080, ["10.1.0.42", "10.1.0.42", "10.1.0.43"]),
    ("10.96.0.9", 8080, ["10.1.0.44", "10.1.0.45", "10.1.0.46"]),
]


def _box(**changes) -> Box:
    box = Box(Family.IPV4, ((0, 255),), ((0, 65535),), ((0, 65535),), ALL, ALL, frozenset({"eth0"}),
              frozenset({"new"}))
    return box._replace(**changes)


def _walk(document, boxes, shared: bool, walks: SharedWalks | None = None):
    table = next(t for t in document.tables if t.name == "nat")
    chain = next(c for c in table.chains if c.name == "PREROUTING")
    walker = Walker()
    walker.marks = marks_read([document])
    walker.shared = (walks or SharedWalks()) if shared else None
    return walker.walk(table, chain, boxes)


@pytest.mark.parametrize("boxes", [
    [_box()],
    [_box(src=((_ip("10.1.0.0"), _ip("10.1.0.9")),))],  # a source range cutting through the endpoints
    [_box(src=((_ip("10.1.0.3"), _ip("10.1.0.3")), (_ip("10.1.0.40"), _ip("10.1.255.255"))))],
    [_box(proto=((6, 6),), dport=((53, 443),))],
])
def test_chains_of_one_shape_give_what_walking_each_gives(boxes, monkeypatch):
    document = ruleset(_kube(SERVICES))
    replayed = []
    replay = shapewalk.Template.replay
    monkeypatch.setattr(shapewalk.Template, "replay", lambda self, *a: replayed.append(1) or replay(self, *a))
    expected = _walk(document, boxes, shared=False)
    got = _walk(document, boxes, shared=True)
    assert got == expected  # boxes, outcomes, trails and assumptions, in order
    assert replayed  # some service took the walk of another


def test_a_replayed_service_keeps_its_own_endpoints_and_rules():
    document = ruleset(_kube(SERVICES[:4]))
    table = next(t for t in document.tables if t.name == "nat")
    walks = SharedWalks()
    got = _walk(document, [_box()], shared=True, walks=walks)
    dnat = [(box.dst, box.nat_dst, box.nat_dport, box.trail[-1].rule.span.line) for box, outcome in got
            if outcome is Outcome.ACCEPT and box.nat_dst is not None and box.mark == 0]
    fourth = [row for row in dnat if row[0] == ((_ip("10.96.0.4"),) * 2,)]
    assert [(row[1], row[2]) for row in fourth] == [
        (((_ip(a),) * 2,), ((1053, 1053),)) for a in ("10.1.0.11", "10.1.0.12", "10.1.0.13")]
    sep = next(c for c in table.chains if c.name == "KUBE-SEP-3-2")
    assert fourth[-1][3] == sep.rules[1].span.line
    shape = subtree_of(table, next(c for c in table.chains if c.name == "KUBE-SVC-3")).shape
    assert [key for key in walks.templates if key[0] == shape]


def test_path_evaluation_is_the_same_with_and_without_shapes():
    document = ruleset(_kube(SERVICES))
    finals = []
    for shared in (False, True):
        evaluator = PathEvaluator([document])
        if not shared:
            evaluator.walker.shared = None
        finals.append(evaluator.evaluate([_box()]))
    assert finals[0] == finals[1]
    assert len(finals[0]) > 3 * len(SERVICES)


def test_a_loop_back_into_the_chains_walked_is_walked_as_it_is():
    # KUBE-SEP-0-0 jumps back to KUBE-SERVICES: its subtree holds a chain on the stack.
    extra = ":LOOP - [0:0]\n-A KUBE-SERVICES -d 10.97.0.0/16 -j LOOP\n-A LOOP -j KUBE-SVC-0\n"
    document = ruleset(_kube(SERVICES, extra))
    assert _walk(document, [_box()], shared=True) == _walk(document, [_box()], shared=False)


def test_a_subtree_with_an_address_type_match_has_no_shape():
    extra = ":KUBE-NODEPORTS - [0:0]\n-A KUBE-NODEPORTS -m addrtype --dst-type LOCAL -j KUBE-SVC-0\n"
    document = ruleset(_kube(SERVICES, extra))
    table = next(t for t in document.tables if t.name == "nat")
    assert subtree_of(table, next(c for c in table.chains if c.name == "KUBE-NODEPORTS")) is None
    assert subtree_of(table, next(c for c in table.chains if c.name == "KUBE-SVC-0")) is not None


def test_boxes_with_long_range_lists_are_walked_without_listing_their_bounds(monkeypatch):
    # 18 separate sources: their low bounds alone are more distinct values than a template
    # may hold, so no template fits or is recorded, and the bounds are never listed.
    sources = tuple((_ip(f"192.0.2.{2 * n}"), _ip(f"192.0.2.{2 * n}")) for n in range(shapewalk.MAX_POINTS + 1))
    boxes = [_box(src=sources)]
    document = ruleset(_kube(SERVICES))

    def listed(*args):
        raise AssertionError("bounds listed for a box too wide for any template")
    monkeypatch.setattr(shapewalk, "_values", listed)
    walks = SharedWalks()
    assert _walk(document, boxes, shared=True, walks=walks) == _walk(document, boxes, shared=False)
    assert not walks.templates
    # Each service's KUBE-SVC subtree and its three KUBE-SEP subtrees still counted as walked.
    assert sum(walks.walks.values()) == 4 * len(SERVICES)


def test_the_routed_path_without_nat_makes_no_box_a_dnat_rewrote(monkeypatch):
    # The routed path leaves out what a DNAT rewrote: a subtree whose every result is a DNAT
    # accept gives nothing when replayed there, and what is left is what walking gives.
    document = ruleset(_kube(SERVICES))
    routed = _box(oif=frozenset({"eth1"}), local=False)
    made = []
    make = shapewalk.made_all  # (engine/template_made.py: every box of a replay)

    def counted(*args):
        boxes = make(*args)
        made.extend(boxes)
        return boxes
    monkeypatch.setattr(shapewalk, "made_all", counted)
    finals = []
    for shared in (False, True):
        evaluator = PathEvaluator([document])
        if not shared:
            evaluator.walker.shared = None
        finals.append(evaluator.evaluate_routed([routed], keep_nat=False))
    walks = evaluator.walker.shared
    assert finals[0] == finals[1]
    assert finals[0] and all(result.box.nat_dst is None for result in finals[0])
    assert not made  # no replay made a box
    assert walks.drop_nat is False  # set only while the routed walk runs
    assert any(t.all_nat for templates in walks.templates.values() for t in templates)
    # Templates recorded while dropping (KUBE-SVC ones, whose KUBE-SEP replays gave nothing)
    # are kept apart: the same evaluator keeping NAT walks them again and gets every DNAT.
    kept = evaluator.evaluate_routed([routed], keep_nat=True)
    fresh = PathEvaluator([document])
    fresh.walker.shared = None
    assert kept == fresh.evaluate_routed([routed], keep_nat=True)
    # Per endpoint two parts: from its own address (marked for masquerade) and from the rest.
    assert made and sum(result.box.nat_dst is not None for result in kept) == 2 * 3 * len(SERVICES)


@pytest.mark.parametrize("verdict", ["DNAT", "REDIRECT"])
def test_a_replayed_nat_is_rewritten_as_applying_the_rule_rewrites(verdict, monkeypatch):
    # A replayed result's NAT is built with the box (shapewalk._made) from walk.nat_fields, the
    # rewrite apply_nat makes: with this host's addresses known, an endpoint that is one of
    # them stays local; a REDIRECT keeps the destination and makes the box local.
    text = _kube(SERVICES)
    if verdict == "REDIRECT":
        text = "\n".join(line.split(" -j DNAT ")[0] + f" -j REDIRECT --to-ports {1000 + n}"
                         if " -j DNAT " in line else line for n, line in enumerate(text.split("\n")))
    document = ruleset(text)
    made = []
    make = shapewalk.made_all  # (engine/template_made.py: every box of a replay)

    def counted(*args):
        boxes = make(*args)
        made.extend(boxes)
        return boxes
    monkeypatch.setattr(shapewalk, "made_all", counted)
    host = {Family.IPV4: ((_ip("10.1.0.9"), _ip("10.1.0.9")), (_ip("10.1.0.12"), _ip("10.1.0.12")))}
    finals = []
    for shared in (False, True):
        evaluator = PathEvaluator([document], host=host)
        if not shared:
            evaluator.walker.shared = None
        finals.append(evaluator.evaluate([_box(dst=ALL)]))
    assert made
    assert finals[0] == finals[1]
    rewritten = [r.box for r in finals[1] if r.box.nat_dst is not None]
    if verdict == "DNAT":
        assert {box.nat_dst for box in rewritten if box.local} == {((_ip("10.1.0.9"),) * 2,), ((_ip("10.1.0.12"),) * 2,)}
    else:
        assert rewritten and all(box.local and box.nat_dst == box.dst for box in rewritten)


@pytest.mark.parametrize("order", ["wide first", "narrow first", "mixed"])
def test_walks_too_wide_counted_late_count_as_counting_them_at_once(order, monkeypatch):
    """A walk too wide for templates is counted only when the counts are read (SharedWalks.walks):
    the results, counts and templates of walks wide and narrow in turn are those of counting
    each wide walk's subtree as it enters (the counts read after every walk into a chain)."""
    sources = tuple((_ip(f"192.0.2.{2 * n}"), _ip(f"192.0.2.{2 * n}")) for n in range(shapewalk.MAX_POINTS + 1))
    wide, narrow = [_box(src=sources)], [_box()]
    other = [_box(src=sources), _box(proto=((6, 6),), src=((_ip("10.1.0.0"), _ip("10.1.0.9")),))]
    runs = {"wide first": [wide, narrow, narrow], "narrow first": [narrow, wide, narrow, wide],
            "mixed": [other, narrow, wide, other, narrow]}[order]
    document = ruleset(_kube(SERVICES))

    def run():
        walks = SharedWalks()
        got = [_walk(document, boxes, shared=True, walks=walks) for boxes in runs]
        return got, dict(walks.walks), {key: len(found) for key, found in walks.templates.items()}
    fast = run()
    lazy = shapewalk.SharedWalks.__call__

    def counted_at_once(self, *args):
        back = lazy(self, *args)
        assert not self.walks or not self._uncounted  # (read: nothing left uncounted)
        return back
    monkeypatch.setattr(shapewalk.SharedWalks, "__call__", counted_at_once)
    general = run()
    assert fast == general
    assert sum(fast[1].values()) >= 4 * len(SERVICES) * sum(boxes is not narrow for boxes in runs)
    assert fast[0] == [_walk(document, boxes, shared=False) for boxes in runs]


def test_kind_and_values_read_every_wide_field_as_before():
    # _kind and _values unpack a box's fields at once: the same answers as reading the wide
    # fields one by one, for random boxes (None in the NAT fields, long lists, paths apart).
    import random as _random

    from linter.engine import shapewalk as sw
    from linter.engine.shapewalk import Subtree, _CLASS, _WIDE, _kind, _values
    from linter.engine.space import Box as _Box
    from linter.model import Family as _Family

    def ranges(chance):
        bounds = sorted(chance.sample(range(0, 5000), 2 * chance.randrange(1, 22)))
        return tuple(zip(bounds[::2], [b - 1 if b - 1 >= a else a for a, b in zip(bounds[::2], bounds[1::2])]))

    class _W:
        marks, certain, first_packet, routing = None, False, False, None

    chance = _random.Random(5)
    trail, other = ("t",), ("u",)
    for _ in range(300):
        boxes = []
        for _ in range(chance.randrange(1, 4)):
            nat = chance.random() < 0.5
            boxes.append(_Box(_Family.IPV4, ((6, 6),), ranges(chance), ranges(chance), ranges(chance), ranges(chance),
                              frozenset({"eth0"}), frozenset({"new"}), False, ranges(chance) if nat else None,
                              ranges(chance) if nat else None, None, 0, 0, (), trail if chance.random() < 0.9 else other))
        kind, wide = _kind(_W, "table", boxes)
        if any(box.trail is not boxes[0].trail for box in boxes):
            assert (kind, wide) == (None, False)
            continue
        lengths = [tuple(-1 if box[f] is None else len(box[f]) for f in _WIDE) for box in boxes]
        assert wide == any(max(each) > sw.MAX_POINTS for each in lengths)
        assert kind[-1] == tuple((id(box.family), box.proto, box.iif, box.state, box.local, box.oif, box.mark,
                                  box.ctmark, each) for box, each in zip(boxes, lengths))
        constants = tuple(tuple(chance.sample(range(100), chance.randrange(0, 5))) for _ in range(4))
        expected = [list(points) for points in constants]
        for box in boxes:
            for field in _WIDE:
                if box[field] is not None:
                    for lo, hi in box[field]:
                        expected[_CLASS[field]] += [lo, hi + 1]
        assert _values(Subtree(0, (), constants), boxes) == expected
