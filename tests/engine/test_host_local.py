"""This host's addresses, where known (an SNAT's --to-source, a DNAT's -d, ``host-addresses``),
decide ``-m addrtype --dst-type LOCAL`` / nft ``fib daddr type local`` and whether a DNAT to one
of them stays on this host (INPUT applies) instead of being forwarded."""

from __future__ import annotations

from dataclasses import replace

from linter.checks import Settings
from linter.engine import intervals as iv
from linter.engine.space import Box, Routing, split_match
from linter.model import AddrTypeMatch, Direction, Family
from linter.pipeline import run_checks
from tests.engine.helpers import ruleset

PUBLIC = 0xCB007104  # 203.0.113.4
SECOND = 0xCB007105  # 203.0.113.5
LOCAL = AddrTypeMatch(Direction.DESTINATION, frozenset({"LOCAL"}))


def box(dst, local=True):
    return Box(Family.IPV4, ((6, 6),), ((1, 65535),), ((22, 22),), ((1, 1),), dst, frozenset({"eth0"}),
               frozenset({"new"}), local=local)


def test_local_destination_is_the_known_host_addresses():
    routing = Routing((), host=((Family.IPV4, ((PUBLIC, SECOND),)),))
    inside, outside = split_match(box(((0, 2**32 - 1),)), LOCAL, None, decide=routing)
    assert inside.dst == ((0x7F000000, 0x7FFFFFFF), (PUBLIC, SECOND))  # loopback and this host's
    assert [part.dst for part in outside] == [((0, 0x7EFFFFFF), (0x80000000, PUBLIC - 1), (SECOND + 1, 2**32 - 1))]
    # a routed box whose destination is one of them is still this host's
    inside, outside = split_match(box(((SECOND, SECOND),), local=False), LOCAL, None, decide=routing)
    assert (inside is not None, outside) == (True, [])


def test_without_known_addresses_every_local_box_is_local():
    inside, outside = split_match(box(((0, 2**32 - 1),)), LOCAL, None, decide=True)
    assert outside == [] or all(not iv.intersect(p.dst, ((PUBLIC, PUBLIC),)) for p in outside)
    assert iv.covers(inside.dst, ((PUBLIC, SECOND),))


RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 203.0.113.4/32 -p tcp -m tcp --dport 2222 -j DNAT --to-destination 203.0.113.5:23
-A POSTROUTING -o eth0 -j SNAT --to-source 203.0.113.5
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 23 -m addrtype --dst-type LOCAL -j ACCEPT
-A INPUT -p tcp -m tcp --dport 3306 -m addrtype ! --dst-type LOCAL -j ACCEPT
COMMIT
"""


def test_a_dnat_to_another_address_of_this_host_meets_input():
    found = sorted((f.line, f.code, str(f.severity), f.message) for f in run_checks(ruleset(RULES), Settings()))
    # 2222 -> 203.0.113.5:23 (the SNAT address: this host's) is accepted by INPUT's LOCAL rule;
    # the `! --dst-type LOCAL` rule accepts nothing: every address left is this host's.
    assert found == [(14, "PL101", "critical", "port 23,2222/tcp (commonly telnet) is a plaintext protocol "
                                           "reachable from the internet on eth0")]


def test_a_configured_address_decides_local_too():
    text = RULES.replace("-A POSTROUTING -o eth0 -j SNAT --to-source 203.0.113.5\n", "")
    before = [(f.line, f.code, f.message) for f in run_checks(ruleset(text), Settings())]
    settings = replace(Settings(), host_addresses=((Family.IPV4, PUBLIC, SECOND),))
    after = [(f.line, f.code, f.message) for f in run_checks(ruleset(text), settings)]
    # Unknown, 203.0.113.5 is another host: the DNAT is forwarded and FORWARD drops it.
    assert before == [(13, "PL101", "port 23/tcp (commonly telnet) is a plaintext protocol reachable from the internet")]
    assert after == [(13, "PL101", "port 23,2222/tcp (commonly telnet) is a plaintext protocol reachable "
                                   "from the internet")]



def test_host_addresses_are_read_from_prerouting_dnat_and_redirect_and_any_snat():
    """roles.host_addresses: a DNAT or REDIRECT written for one public address in nat
    PREROUTING, and an SNAT to one public address, reveal this host's; a DNAT elsewhere, a
    network, a private address, MASQUERADE, jumps and accepts do not."""
    from linter.engine.roles import host_addresses
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:X - [0:0]\n"
            "-A PREROUTING -d 203.0.113.4/32 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.2\n"
            "-A PREROUTING -d 203.0.113.7 -p tcp --dport 81 -j REDIRECT --to-ports 8080\n"
            "-A PREROUTING -d 203.0.113.0/24 -p tcp --dport 82 -j DNAT --to-destination 10.0.0.3\n"
            "-A PREROUTING -d 10.9.9.9 -p tcp --dport 83 -j DNAT --to-destination 10.0.0.4\n"
            "-A PREROUTING -d 198.51.100.1 -j X\n"
            "-A OUTPUT -d 198.51.100.2 -p tcp --dport 84 -j DNAT --to-destination 10.0.0.5\n"
            "-A POSTROUTING -o eth0 -j SNAT --to-source 198.51.100.9\n"
            "-A POSTROUTING -o eth1 -j MASQUERADE\n"
            "-A POSTROUTING -o eth2 -j SNAT --to-source 192.168.0.1\n"
            "-A X -j ACCEPT\nCOMMIT\n")
    found = host_addresses([ruleset(text)], ((Family.IPV4, SECOND, SECOND),))
    assert found == {Family.IPV4: iv.normalize(((PUBLIC, PUBLIC), (SECOND, SECOND), (0xCB007107, 0xCB007107),
                                                (0xC6336409, 0xC6336409)))}
    assert host_addresses([ruleset("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n")]) == {}
