"""Random choices (``-m statistic``, nft ``numgen``): when every branch admits the same
connections the accept is decided, not "possibly"; when a branch refuses them, the choice
stays an assumption the finding names."""

from __future__ import annotations

from linter.checks import Settings
from linter.frontends.nftables import parse as parse_nft
from linter.model import OpaqueMatch, VerdictKind
from linter.pipeline import run_checks
from linter.source import SourceFile
from tests.engine.helpers import findings_full


def messages(found):
    return [(f.line, f.code, str(f.severity), f.message) for f in found]


def test_statistic_branches_that_all_accept_are_decided():
    text = """*filter
:INPUT DROP [0:0]
:WEB - [0:0]
:A - [0:0]
:B - [0:0]
-A INPUT -p tcp -m tcp --dport 5432 -j WEB
-A WEB -m statistic --mode random --probability 0.5 -j A
-A WEB -j B
-A A -j ACCEPT
-A B -j ACCEPT
COMMIT
"""
    assert messages(findings_full(text)) == [
        (6, "PL201", "high", "port 5432/tcp (commonly postgresql) is reachable from the internet; "
                              "it is also unencrypted"),
    ]


def test_statistic_branches_that_differ_stay_an_assumption():
    # A schedule-like condition (how often, not who): the severity stays the service's.
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m tcp --dport 5432 -m statistic --mode random --probability 0.5 -j ACCEPT
COMMIT
"""
    assert messages(findings_full(text)) == [
        (3, "PL201", "high", "port 5432/tcp (commonly postgresql) is reachable from the internet "
                               "(possibly: if --mode random --probability 0.5 matches); it is also unencrypted"),
    ]


def test_statistic_nth_drop_branch_keeps_the_accept_certain():
    # The branch that drops takes every 10th connection; the others fall through to the accept:
    # reachable for certain (and the drop branch is no accept to report).
    text = """*filter
:INPUT DROP [0:0]
-A INPUT -p tcp -m tcp --dport 5432 -m statistic --mode nth --every 10 --packet 0 -j DROP
-A INPUT -p tcp -m tcp --dport 5432 -j ACCEPT
COMMIT
"""
    assert [(f.line, f.code, "possibly" in f.message) for f in findings_full(text)] == [(4, "PL201", False)]


NUMGEN = """\
table ip nat {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        tcp dport 30080 numgen random mod 2 vmap { 0 : goto ep-a, 1 : goto ep-b }
    }
    chain ep-a { meta l4proto tcp dnat to 10.244.1.5:8080 }
    chain ep-b { meta l4proto tcp dnat to 10.244.2.7:8080 }
}
table ip filter {
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct status dnat accept
    }
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
    }
}
"""


def nft(text: str):
    result = parse_nft(SourceFile("lb.nft", text))
    return result.document, result.diagnostics


def test_a_numgen_vmap_over_every_key_leaves_the_last_branch_unconditional():
    document, _ = nft(NUMGEN)
    rules = document.tables[0].chains[0].rules
    assert [(r.matches[-1:], r.verdict.kind, r.verdict.target) for r in rules] == [
        ((OpaqueMatch("numgen random", "numgen random 0"),), VerdictKind.GOTO, "ep-a"),
        ((rules[1].matches[-1],), VerdictKind.GOTO, "ep-b"),
    ]
    assert not any(isinstance(m, OpaqueMatch) for m in rules[1].matches)


def test_numgen_load_balancing_to_endpoints_that_all_accept_is_decided():
    document, _ = nft(NUMGEN)
    found = messages(run_checks(document, Settings()))
    assert found == [
        (7, "PL101", "medium", "port 30080/tcp (commonly http-alt) is a plaintext protocol reachable from the "
                               "internet through DNAT to 10.244.2.7 port 8080 (INPUT rules do not apply)"),
    ]


def test_a_numgen_vmap_with_jumps_or_missing_keys_stays_opaque():
    for variant in (NUMGEN.replace("goto ep-a", "jump ep-a"), NUMGEN.replace("mod 2", "mod 3")):
        document, _ = nft(variant)
        rules = document.tables[0].chains[0].rules
        assert all(isinstance(r.matches[-1], OpaqueMatch) for r in rules)


def _service_box(base, address: int, port: int):
    from linter.engine.space import replace
    return replace(base, dst=((address, address),), dport=((port, port),), proto=((6, 6),))


def test_boxes_found_by_port_then_address_are_exactly_those_that_overlap():
    # The index a choice's settlement searches (thousands of kube-proxy services): a box meets
    # the services of its own cluster IP and port, a node port (any destination) by its port,
    # and nothing else, whatever their number.
    from linter.engine.choices import _ByPorts
    from linter.engine.universe import initial_boxes
    from linter.model import Family

    base = initial_boxes(Family.IPV4, frozenset())[0]
    services = [_service_box(base, 0x0A600000 + n, 80 + n % 3) for n in range(500)]
    node_port = replace_dport(base, 30080)
    index = _ByPorts(services + [node_port])
    assert index.overlapping(_service_box(base, 0x0A600000 + 7, 81))       # the service itself
    assert not index.overlapping(_service_box(base, 0x0A600000 + 7, 80))   # its address, not its port
    assert not index.overlapping(_service_box(base, 0x0A700000, 81))       # no service there
    assert index.overlapping(_service_box(base, 0x0B000000, 30080))        # the node port, any address
    assert index.overlapping(replace_dport(base, 81))                      # every address: services of 81
    assert not index.overlapping(replace_dport(base, 9999))


def replace_dport(base, port: int):
    from linter.engine.space import replace
    return replace(base, dport=((port, port),), proto=((6, 6),))
