#!/bin/sh
# Firewall of the public web server (same rules as ../hardened.rules).
# Deny by default; SSH only from the admin network; web ports open.

IPT=/sbin/iptables
ADMIN_NET="10.20.0.0/16"
WEB_PORTS="80 443"

# Start from a clean slate
$IPT -F
$IPT -X
$IPT -t raw -F

$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -P OUTPUT ACCEPT

# Loopback traffic needs no connection tracking
$IPT -t raw -A PREROUTING -i lo -j CT --notrack
$IPT -t raw -A OUTPUT -o lo -j CT --notrack

# SSH is for the admin network only
$IPT -N SSH-ADMIN
$IPT -A SSH-ADMIN -s "$ADMIN_NET" -j ACCEPT
$IPT -A SSH-ADMIN -j RETURN

$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate INVALID -j DROP

# ICMP: rate-limited ping, unreachable and time exceeded
$IPT -A INPUT -p icmp -m icmp --icmp-type 8 -m limit --limit 5/sec --limit-burst 10 -j ACCEPT
for type in 3 11; do
    $IPT -A INPUT -p icmp -m icmp --icmp-type $type -j ACCEPT
done

$IPT -A INPUT -p tcp --dport 22 -m conntrack --ctstate NEW -j SSH-ADMIN
for port in $WEB_PORTS; do
    $IPT -A INPUT -p tcp --dport "$port" -m conntrack --ctstate NEW -j ACCEPT
done

# Log what falls through (rate-limited), then refuse it politely
$IPT -A INPUT -m limit --limit 5/min --limit-burst 10 \
     -j LOG --log-prefix "INPUT denied: " --log-level 6
$IPT -A INPUT -j REJECT --reject-with icmp-port-unreachable
