#!/bin/bash
# IPv6 firewall of the web host (same rules as ../ipv6.rules).
set -e

IP6T=/usr/sbin/ip6tables
ADMIN6=2001:db8:100::/48

$IP6T -F
$IP6T -X
$IP6T -P INPUT DROP
$IP6T -P FORWARD DROP
$IP6T -P OUTPUT ACCEPT

$IP6T -A INPUT -i lo -j ACCEPT
$IP6T -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IP6T -A INPUT -m conntrack --ctstate INVALID -j DROP

# ICMPv6 errors must pass (RFC 4890): unreachable, too big, time exceeded, parameter problem
for t in 1 2 3 4; do
    $IP6T -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type $t -j ACCEPT
done
$IP6T -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -m limit --limit 10/sec -j ACCEPT
# Neighbour discovery, only from on-link hosts (hop limit 255)
for t in 133 134 135 136; do
    $IP6T -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type $t -m hl --hl-eq 255 -j ACCEPT
done

# DHCPv6 replies from the router
$IP6T -A INPUT -s fe80::/10 -d fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT

$IP6T -A INPUT -s $ADMIN6 -p tcp -m tcp --dport 22 -j ACCEPT
$IP6T -A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
$IP6T -A INPUT -p tcp -m tcp --dport 23 -m comment --comment "temporary: old switch config backup" -j ACCEPT

$IP6T -A INPUT -j REJECT --reject-with icmp6-port-unreachable
