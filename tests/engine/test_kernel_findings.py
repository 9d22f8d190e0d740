"""Engine behaviour that the kernel agreement test (tests/kernel) found wrong, pinned down.

Each case is the minimal ruleset and flow of a disagreement, with the verdict
the kernel gives (checked in a network namespace with real connections).
"""

from __future__ import annotations

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from tests.engine.helpers import ruleset, verdict  # noqa: E402

FLOW = {"src": "192.168.77.2", "dst": "10.99.0.1", "dport": 2000, "iface": "eth0"}


def _filter(*rules: str, policy: str = "ACCEPT") -> str:
    body = "".join(f"-A INPUT {r}\n" for r in rules)
    return f"*filter\n:INPUT {policy} [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n"


def test_destination_of_this_host_is_local_not_unicast():
    # Kernel: connects (addrtype of an address of this host is LOCAL only).
    assert verdict(ruleset(_filter("-m addrtype --dst-type UNICAST -j DROP")), **FLOW) == "accept"
    assert verdict(ruleset(_filter("-m addrtype ! --dst-type UNICAST -j DROP")), **FLOW) == "drop"
    assert verdict(ruleset(_filter("-m addrtype --dst-type LOCAL -j DROP")), **FLOW) == "drop"


def test_source_addresses_are_unicast_but_loopback_sources_are_local():
    assert verdict(ruleset(_filter("-m addrtype --src-type UNICAST -j DROP")), **FLOW) == "drop"
    lo = {**FLOW, "src": "127.0.0.1", "dst": "127.0.0.1", "iface": "lo"}
    assert verdict(ruleset(_filter("-m addrtype --src-type UNICAST -j DROP")), **lo) == "accept"
    assert verdict(ruleset(_filter("-m addrtype --src-type LOCAL -j DROP")), **lo) == "drop"


DNAT_TO_SAME_ADDRESS = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.99.0.1/32 -p tcp -m tcp --dport 2000 -j DNAT --to-destination 10.99.0.1:8080
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 8080 -j ACCEPT
COMMIT
"""


def test_dnat_to_the_address_the_packet_was_sent_to_stays_local():
    # Kernel: the packet goes through INPUT with port 8080 (accepted), not through FORWARD (DROP).
    rules = ruleset(DNAT_TO_SAME_ADDRESS)
    assert verdict(rules, **FLOW) == "accept"


def _raw(*rules: str) -> str:
    body = "".join(f"-A PREROUTING {r}\n" for r in rules)
    return f"*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n{body}COMMIT\n"


NEW_ONLY = _filter("-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                   "-m conntrack --ctstate NEW -j ACCEPT", policy="DROP")


def test_raw_chains_see_every_packet_as_invalid():
    # The raw table runs before conntrack: no packet has a state there yet.
    # Kernel: NEW in raw matches nothing (connects), INVALID matches the first SYN (times out).
    assert verdict(ruleset(_raw("-p tcp -m conntrack --ctstate NEW -j DROP") + NEW_ONLY), **FLOW) == "accept"
    assert verdict(ruleset(_raw("-p tcp -m conntrack --ctstate INVALID -j DROP") + NEW_ONLY), **FLOW) == "drop"


def test_notrack_makes_the_packet_untracked():
    # Kernel: the SYN is UNTRACKED, "--ctstate NEW -j ACCEPT" does not match, INPUT's policy drops it.
    rules = ruleset(_raw("-p tcp -m tcp --dport 2000 -j CT --notrack") + NEW_ONLY)
    assert verdict(rules, **FLOW) == "drop"
    assert verdict(rules, **{**FLOW, "dport": 2001}) == "accept"
    untracked = _filter("-m conntrack --ctstate UNTRACKED -j ACCEPT", policy="DROP")
    assert verdict(ruleset(_raw("-p tcp -j NOTRACK") + untracked), **FLOW) == "accept"
    # After notrack, raw's own state matches see UNTRACKED.
    rules = ruleset(_raw("-p tcp -j CT --notrack", "-m conntrack --ctstate UNTRACKED -j DROP") + NEW_ONLY)
    assert verdict(rules, **FLOW) == "drop"


def test_packets_looped_back_through_lo_are_tracked_before_raw_prerouting():
    # Kernel: a connection from the host to itself got its conntrack entry in OUTPUT, so raw
    # PREROUTING sees it NEW (dropped) and notrack there does nothing (NEW accepts it).
    lo = {"src": "10.99.0.1", "dst": "10.99.0.1", "iface": "lo"}
    rules = ruleset(_raw("-i lo -p tcp -m tcp --dport 2000 -m conntrack --ctstate NEW -j DROP",
                         "-i lo -p tcp -m tcp --dport 1024 -j CT --notrack") + NEW_ONLY)
    assert verdict(rules, **lo, dport=2000) == "drop"
    assert verdict(rules, **lo, dport=1024) == "accept"


def test_connections_to_self_take_their_nat_in_output_not_prerouting():
    # Kernel (kernel test, repro A): a REDIRECT in nat PREROUTING does not apply to a connection
    # from the host to itself (its NAT is decided in nat OUTPUT), so INPUT sees port 2000.
    text = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 2000 -j REDIRECT --to-ports 22
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A INPUT -p tcp --dport 2000 -j ACCEPT
COMMIT
"""
    rules = ruleset(text)
    assert verdict(rules, src="10.99.0.1", dst="10.99.0.1", iface="lo", dport=2000) == "accept"
    assert verdict(rules, src="10.99.0.2", dst="10.99.0.1", iface="eth0", dport=2000) == "drop"
    output = text.replace("-A PREROUTING -p tcp --dport 2000", "-A OUTPUT -p tcp --dport 2000")
    assert verdict(ruleset(output), src="10.99.0.1", dst="10.99.0.1", iface="lo", dport=2000) == "drop"
