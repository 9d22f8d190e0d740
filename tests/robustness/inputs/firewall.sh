#!/bin/sh
# A small host firewall script written for portlint's robustness tests.
set -e
IPT=iptables
ADMIN_NET=192.0.2.0/24

$IPT -F
$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -P OUTPUT ACCEPT
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
$IPT -A INPUT -p tcp --dport 22 -s "$ADMIN_NET" -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
iptables -A INPUT -p udp --dport 53 -j ACCEPT
iptables -A INPUT -p tcp --dport 23 -m comment --comment "legacy telnet" -j ACCEPT
iptables -N LOGDROP
iptables -A LOGDROP -j LOG --log-prefix "dropped: "
iptables -A LOGDROP -j DROP
iptables -A INPUT -j LOGDROP
