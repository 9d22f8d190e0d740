"""The chains ufw loads around the user's rules, as iptables-restore text.

What `ufw enable` loads on Ubuntu and Debian: the built-in chains handing every packet to
ufw's chains (before-logging, before, after, after-logging, reject, track), the default
before.rules (loopback, established connections, INVALID dropped, ICMP, DHCP client,
ufw-not-local, mDNS and UPnP multicast) and after.rules (NetBIOS, DHCP and broadcasts go
straight to the policy, unlogged), and the policies of /etc/default/ufw or `ufw default`.
IPv6 uses ufw6-* chains and before6.rules (ICMPv6, neighbour discovery, DHCPv6 client).
"""

from __future__ import annotations

STAGES_IN = ("before-logging", "before", "after", "after-logging", "reject", "track")
STAGES_FORWARD = ("before-logging", "before", "after", "after-logging", "reject")
CHAINS = (
    "after-forward", "after-input", "after-logging-forward", "after-logging-input", "after-logging-output",
    "after-output", "before-forward", "before-input", "before-logging-forward", "before-logging-input",
    "before-logging-output", "before-output", "logging-allow", "logging-deny", "reject-forward",
    "reject-input", "reject-output", "skip-to-policy-forward", "skip-to-policy-input", "skip-to-policy-output",
    "track-forward", "track-input", "track-output", "user-forward", "user-input", "user-limit",
    "user-limit-accept", "user-logging-forward", "user-logging-input", "user-logging-output", "user-output",
)
_LOG_LIMIT = "-m limit --limit 3/min --limit-burst 10"

_BEFORE_V4 = """\
-A {p}-before-input -i lo -j ACCEPT
-A {p}-before-output -o lo -j ACCEPT
-A {p}-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-input -m conntrack --ctstate INVALID -j {p}-logging-deny
-A {p}-before-input -m conntrack --ctstate INVALID -j DROP
-A {p}-before-input -p icmp -m icmp --icmp-type 3 -j ACCEPT
-A {p}-before-input -p icmp -m icmp --icmp-type 11 -j ACCEPT
-A {p}-before-input -p icmp -m icmp --icmp-type 12 -j ACCEPT
-A {p}-before-input -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A {p}-before-forward -p icmp -m icmp --icmp-type 3 -j ACCEPT
-A {p}-before-forward -p icmp -m icmp --icmp-type 11 -j ACCEPT
-A {p}-before-forward -p icmp -m icmp --icmp-type 12 -j ACCEPT
-A {p}-before-forward -p icmp -m icmp --icmp-type 8 -j ACCEPT
-A {p}-before-input -p udp -m udp --sport 67 --dport 68 -j ACCEPT
-A {p}-before-input -j {p}-not-local
-A {p}-not-local -m addrtype --dst-type LOCAL -j RETURN
-A {p}-not-local -m addrtype --dst-type MULTICAST -j RETURN
-A {p}-not-local -m addrtype --dst-type BROADCAST -j RETURN
-A {p}-not-local {log} -j {p}-logging-deny
-A {p}-not-local -j DROP
-A {p}-before-input -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT
-A {p}-before-input -d 239.255.255.250/32 -p udp -m udp --dport 1900 -j ACCEPT
-A {p}-after-input -p udp -m udp --dport 137 -j {p}-skip-to-policy-input
-A {p}-after-input -p udp -m udp --dport 138 -j {p}-skip-to-policy-input
-A {p}-after-input -p tcp -m tcp --dport 139 -j {p}-skip-to-policy-input
-A {p}-after-input -p tcp -m tcp --dport 445 -j {p}-skip-to-policy-input
-A {p}-after-input -p udp -m udp --dport 67 -j {p}-skip-to-policy-input
-A {p}-after-input -p udp -m udp --dport 68 -j {p}-skip-to-policy-input
-A {p}-after-input -m addrtype --dst-type BROADCAST -j {p}-skip-to-policy-input"""

_BEFORE_V6 = """\
-A {p}-before-input -i lo -j ACCEPT
-A {p}-before-output -o lo -j ACCEPT
-A {p}-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A {p}-before-input -m conntrack --ctstate INVALID -j {p}-logging-deny
-A {p}-before-input -m conntrack --ctstate INVALID -j DROP
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 1 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 3 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 4 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 133 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j ACCEPT
-A {p}-before-input -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j ACCEPT
-A {p}-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type 1 -j ACCEPT
-A {p}-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type 2 -j ACCEPT
-A {p}-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type 3 -j ACCEPT
-A {p}-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type 4 -j ACCEPT
-A {p}-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT
-A {p}-before-input -s fe80::/10 -d fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT
-A {p}-before-input -d ff02::fb/128 -p udp -m udp --dport 5353 -j ACCEPT
-A {p}-before-input -d ff02::f/128 -p udp -m udp --dport 1900 -j ACCEPT"""

_LOGGING = """\
-A {p}-logging-deny -m conntrack --ctstate INVALID {log} -j RETURN
-A {p}-logging-deny {log} -j LOG --log-prefix "[UFW BLOCK] "
-A {p}-logging-allow {log} -j LOG --log-prefix "[UFW ALLOW] "
-A {p}-user-limit -m limit --limit 3/min -j LOG --log-prefix "[UFW LIMIT BLOCK] "
-A {p}-user-limit -j REJECT
-A {p}-user-limit-accept -j ACCEPT"""


def prefix(ipv6: bool) -> str:
    """ufw's chain prefix for a family: ufw, or ufw6 for IPv6."""
    return "ufw6" if ipv6 else "ufw"


def chain_lines(ipv6: bool, policies: dict[str, str]) -> list[str]:
    """The *filter header: built-in chains with their policies, ufw's chains declared.
    ``policies`` maps incoming/outgoing/routed to ACCEPT, DROP or REJECT."""
    p = prefix(ipv6)
    builtin = {"INPUT": policies["incoming"], "FORWARD": policies["routed"], "OUTPUT": policies["outgoing"]}
    lines = ["*filter"]
    lines += [f":{chain} {'DROP' if policy == 'REJECT' else policy} [0:0]" for chain, policy in builtin.items()]
    names = CHAINS + (("not-local",) if not ipv6 else ())
    lines += [f":{p}-{name} - [0:0]" for name in sorted(names)]
    return lines


def body_lines(ipv6: bool, policies: dict[str, str]) -> list[str]:
    """Every framework rule: the jumps from the built-in chains, before/after rules, the
    policy chains and logging; the user chains are reached at the end of the before chains."""
    p = prefix(ipv6)
    lines = [f"-A INPUT -j {p}-{stage}-input" for stage in STAGES_IN]
    lines += [f"-A FORWARD -j {p}-{stage}-forward" for stage in STAGES_FORWARD]
    lines += [f"-A OUTPUT -j {p}-{stage}-output" for stage in STAGES_IN]
    lines += (_BEFORE_V6 if ipv6 else _BEFORE_V4).format(p=p, log=_LOG_LIMIT).split("\n")
    lines += [f"-A {p}-before-input -j {p}-user-input", f"-A {p}-before-output -j {p}-user-output",
              f"-A {p}-before-forward -j {p}-user-forward"]
    lines += _LOGGING.format(p=p, log=_LOG_LIMIT).split("\n")
    for hook, direction in (("input", "incoming"), ("output", "outgoing"), ("forward", "routed")):
        policy = policies[direction]
        lines.append(f"-A {p}-skip-to-policy-{hook} -j {policy}")
        if policy == "REJECT":
            lines.append(f"-A {p}-reject-{hook} -j REJECT")
        if policy == "ACCEPT" and hook != "forward":
            lines += [f"-A {p}-track-{hook} -p {proto} -m conntrack --ctstate NEW -j ACCEPT"
                      for proto in ("tcp", "udp")]
    return lines
