"""Accepted results alone in their cause (engine/alone_causes.py) are summarised without the
merge: the exposures, their order included, are the ones the merge of every entry gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linter.engine import alone_causes as alone_module
from linter.engine import lone_results as lone_module
from linter.engine.exposure import Exposure, ExposureAnalysis, NetworkClasses
from linter.model import Family
from linter.pipeline import read_document

from tests.engine.helpers import ruleset
from tests.engine.test_lone_results import _case_documents, _documents


def _fields_of(exposure) -> list:
    """Every field of a (slotted) Exposure as (name, value), in order."""
    return [(name, getattr(exposure, name)) for name in Exposure.__slots__]


ROOT = Path(__file__).resolve().parents[2]

# Kube-proxy's shape: services whose endpoints DNAT (one also reached as a node port: the same
# DNAT through another jump), forwarded by a mark accept; next to them a DNAT whose FORWARD
# accept names an interface (split per interface), one reached only possibly (an opaque match on
# the way), one from public sources to a public address (internet reach), one to a port range
# (its port kept), an accept shared by two DNATs' paths and plain INPUT accepts.
KUBE = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SEP-A1 - [0:0]
:KUBE-SEP-A2 - [0:0]
:KUBE-SVC-B - [0:0]
:KUBE-SEP-B1 - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A PREROUTING -i eth1 -p tcp --dport 8443 -j DNAT --to-destination 10.2.0.9:443
-A PREROUTING -d 203.0.113.5 -p tcp --dport 80 -j DNAT --to-destination 10.2.0.10
-A PREROUTING -p udp --dport 5000:5010 -m recent --rcheck -j DNAT --to-destination 10.2.0.11
-A PREROUTING -p tcp --dport 7000 -j DNAT --to-destination 192.168.7.7
-A PREROUTING -p tcp --dport 7001 -j DNAT --to-destination 192.168.7.8
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MASQUERADE --random-fully
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 8080 -j KUBE-SVC-A
-A KUBE-SERVICES -d 10.96.0.2/32 -p udp -m udp --dport 53 -j KUBE-SVC-B
-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-NODEPORTS -p tcp -m tcp --dport 30000 -j KUBE-SVC-A
-A KUBE-SVC-A -m statistic --mode random --probability 0.5 -j KUBE-SEP-A1
-A KUBE-SVC-A -j KUBE-SEP-A2
-A KUBE-SEP-A1 -s 10.1.0.2/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-A1 -p tcp -m tcp -j DNAT --to-destination 10.1.0.2:8080
-A KUBE-SEP-A2 -s 10.1.0.3/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-A2 -p tcp -m tcp -j DNAT --to-destination 10.1.0.3:8080
-A KUBE-SVC-B -j KUBE-SEP-B1
-A KUBE-SEP-B1 -s 10.1.1.2/32 -j KUBE-MARK-MASQ
-A KUBE-SEP-B1 -p udp -m udp -j DNAT --to-destination 10.1.1.2:53
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -s 10.20.0.0/16 -j ACCEPT
-A INPUT -p tcp --dport 6443 -j ACCEPT
-A FORWARD -j KUBE-FORWARD
-A FORWARD -i eth1 -d 10.2.0.9 -p tcp --dport 443 -j ACCEPT
-A FORWARD -d 10.2.0.10 -p tcp --dport 80 -j ACCEPT
-A FORWARD -d 10.2.0.11 -j ACCEPT
-A FORWARD -d 192.168.7.0/24 -p tcp -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
"""

# Without the interface and the public address: no DNAT's boxes split, so each is alone.
PLAIN = KUBE.replace("-A PREROUTING -i eth1 -p tcp --dport 8443 -j DNAT --to-destination 10.2.0.9:443\n", "") \
    .replace("-A FORWARD -i eth1 -d 10.2.0.9 -p tcp --dport 443 -j ACCEPT\n", "") \
    .replace("-A PREROUTING -d 203.0.113.5 -p tcp", "-A PREROUTING -p tcp")

# A script's loop: DNAT rules with one span, one cause (merged as before), next to one alone.
LOOP = """#!/bin/sh
for port in 8001 8002 8003; do
  iptables -t nat -A PREROUTING -p tcp --dport "$port" -j DNAT --to-destination 10.5.0.1
done
iptables -t nat -A PREROUTING -p tcp --dport 8004 -j DNAT --to-destination 10.5.0.2
iptables -P FORWARD DROP
iptables -A FORWARD -d 10.5.0.0/24 -j ACCEPT
"""


def _both_ways(monkeypatch, rulesets, lone: bool = False, **options):
    """(exposures with every result alone in its cause summarised apart, exposures with none)
    of fresh analyses; ``lone``: with the lone single-rule lane taking its results too."""
    monkeypatch.setattr(lone_module, "LONE_AT_LEAST", 0 if lone else 10**9)
    monkeypatch.setattr(alone_module, "ALONE_AT_LEAST", 0)
    forced = ExposureAnalysis(rulesets, **options).exposures()
    monkeypatch.setattr(alone_module, "ALONE_AT_LEAST", 10**9)
    plain = ExposureAnalysis(rulesets, **options).exposures()
    return forced, plain


def _alone_lines(monkeypatch, document) -> list[int]:
    """The lines of the first deciders of the results the lane takes."""
    taken = []
    real = alone_module.add_alone
    monkeypatch.setattr(alone_module, "ALONE_AT_LEAST", 0)

    def spy(*args, **kwargs):
        taken.append(args[5][0].span.line)  # the result's deciders
        return real(*args, **kwargs)
    monkeypatch.setattr(alone_module, "add_alone", spy)
    ExposureAnalysis([document], loopback=False).exposures()
    return sorted(set(taken))


@pytest.mark.parametrize("lone", [True, False])
@pytest.mark.parametrize("loopback", [True, False])
@pytest.mark.parametrize("internal", [(), ("eth1",)])
@pytest.mark.parametrize("text", [KUBE, PLAIN])
def test_kube_shape_gives_the_merged_exposures_in_the_merged_order(monkeypatch, lone, loopback, internal, text):
    classes = NetworkClasses(internal_interfaces=internal)
    forced, plain = _both_ways(monkeypatch, [ruleset(text)], lone=lone, loopback=loopback, classes=classes)
    assert forced == plain
    assert [_fields_of(e) for e in forced] == [_fields_of(e) for e in plain]
    assert len(forced) > 5 and any(e.forwarded and e.possible for e in forced)


def test_the_lane_takes_the_dnat_results_alone_in_their_cause(monkeypatch):
    # KUBE: eth1's DNAT (16) is alone; the DNATs after it are reached on eth1 and on other
    # interfaces, two results of one cause each (merged as before); the endpoints' DNATs (32,
    # 34) are reached through the node port (the host's address, 203.0.113.5, is what the
    # PREROUTING DNATs match), each once; service B's (37) not at all.
    assert _alone_lines(monkeypatch, ruleset(KUBE)) == [16, 32, 34]
    # PLAIN: every DNAT is alone, the two to 192.168.7.0/24 (lines 18, 19) too: they share
    # their FORWARD accept, not their DNATs; service B's (36) through its cluster IP.
    assert _alone_lines(monkeypatch, ruleset(PLAIN)) == [16, 17, 18, 19, 31, 33, 36]


def test_rules_of_one_span_stay_one_cause(monkeypatch, tmp_path):
    path = tmp_path / "fw.sh"
    path.write_text(LOOP)
    document = read_document(str(path)).document
    forced, plain = _both_ways(monkeypatch, [document], loopback=False)
    assert forced == plain
    looped = [e for e in forced if e.forwarded and e.deciders[0].span.line == 3]
    assert sorted(e.reach for e in looped) == ["internet", "private"]
    assert all(e.ports == ((8001, 8003),) for e in looped)  # the loop's three rules merged
    assert _alone_lines(monkeypatch, document) == [5]


def test_a_generated_kube_proxy_ruleset_gives_the_same_exposures(monkeypatch, tmp_path):
    path = tmp_path / "kube.rules"
    path.write_text(subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "iptables", "600"],
                                   capture_output=True, text=True, check=True).stdout)
    document = read_document(str(path)).document
    for lone in (True, False):
        forced, plain = _both_ways(monkeypatch, [document], lone=lone, loopback=False)
        assert forced == plain
        assert [_fields_of(e) for e in forced] == [_fields_of(e) for e in plain]
    assert len(_alone_lines(monkeypatch, document)) >= 60  # every endpoint's DNAT


def test_fewer_than_the_threshold_take_the_general_path(monkeypatch):
    taken = []
    monkeypatch.setattr(alone_module, "add_alone", lambda *args: taken.append(args))
    ExposureAnalysis([ruleset(PLAIN)], loopback=False).exposures()
    assert taken == [] and alone_module.ALONE_AT_LEAST == 256


def test_every_sample_and_rule_case_gives_the_same_exposures(monkeypatch, tmp_path_factory):
    compared = 0
    for name, documents in list(_documents()) + list(_case_documents(tmp_path_factory)):
        documents = [d for d in documents if d is not None and hasattr(d, "tables")]
        if not documents:
            continue
        for loopback in (True, False):
            forced, plain = _both_ways(monkeypatch, documents, classes=NetworkClasses(), loopback=loopback)
            assert forced == plain, name
        compared += 1
    assert compared > 100


def test_the_alone_maker_makes_what_the_constructor_makes():
    from linter.engine.exposure import Decider, Exposure, alone_exposure
    from linter.model import Hook, Span

    decider = Decider(Span("fw.rules", 3, 1, 3, 20), None, "PREROUTING", "nat", Hook.PREROUTING)
    values = (Family.IPV6, 17, ((53, 53),), "private", ((1, 2),), frozenset({"eth0", "eth1"}), True, ("the recent match",),
              (decider,), True, ("fd00::5 port 5353",), ((5353, 5353),), (decider,))
    made = alone_exposure(*values)
    built = Exposure(*values)
    assert type(made) is Exposure and made == built and hash(made) == hash(built)
    assert not hasattr(made, "__dict__")  # (slotted)
    assert all(getattr(made, name) is getattr(built, name) for name in Exposure.__slots__)  # the same objects


def test_the_private_destination_lane_cuts_what_the_general_path_cuts():
    # _summarise's lane for a result alone in its cause to a private destination: the sources of
    # either class in one cut, where the general path cuts the public ones first, then both
    # (some public) or the private ones (none public). The same tuples, for random sources and
    # configured trusted networks (the classes then differ), in both families.
    import random

    from linter.engine import intervals as iv
    from linter.engine.class_cut import ClassCut

    rng = random.Random(17)
    checked = 0
    for family, top in ((Family.IPV4, 2**32 - 1), (Family.IPV6, 2**128 - 1)):
        for _ in range(300):
            trusted = iv.normalize((lo, lo + rng.choice([0, 255, 2**16])) for lo in
                                   (rng.randrange(0, top - 2**16) for _ in range(rng.randint(0, 3))))
            classes = NetworkClasses(trusted_v4=trusted if family is Family.IPV4 else (),
                                     trusted_v6=trusted if family is Family.IPV6 else ()).classes(family)
            cut_public, cut_private = ClassCut(classes[0][1]), ClassCut(classes[1][1])
            cut_either = ClassCut(iv.union(classes[0][1], classes[1][1]))
            anchors = [lo for _, ranges in classes for lo, hi in ranges] + \
                [hi for _, ranges in classes for lo, hi in ranges]
            for _ in range(20):
                points = sorted(rng.choice(anchors) + rng.randint(-3, 3) if rng.random() < 0.7 else rng.randint(0, top)
                                for _ in range(2 * rng.randint(0, 4)))
                points = [min(max(p, 0), top) for p in points]
                src = iv.normalize(zip(points[::2], points[1::2]))
                public = cut_public(src)
                if public:
                    general = public if public is src else cut_either(src)
                else:
                    general = () if public is src else cut_private(src)
                assert cut_either(src) == general
                checked += bool(general)
    assert checked > 1000
