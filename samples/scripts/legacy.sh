#!/bin/sh
# /etc/rc.d/rc.firewall of the old file and database server (same rules as ../legacy.rules).
# Policy ACCEPT: only the blacklist and the portmapper/SNMP drops stop anything.

IPTABLES=/sbin/iptables
LAN=192.168.1.0/24
BLACKLIST="203.0.113.66/32 198.51.100.0/24"

open_tcp() {
	$IPTABLES -A SERVICES -p tcp -m state --state NEW -m tcp --dport "$1" -j ACCEPT
}

$IPTABLES -F
$IPTABLES -X
$IPTABLES -P INPUT ACCEPT
$IPTABLES -P FORWARD ACCEPT
$IPTABLES -P OUTPUT ACCEPT

$IPTABLES -N BLACKLIST
$IPTABLES -N SERVICES

$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
$IPTABLES -A INPUT -j BLACKLIST
$IPTABLES -A INPUT -p icmp -j ACCEPT
$IPTABLES -A INPUT -j SERVICES

for net in $BLACKLIST; do
	$IPTABLES -A BLACKLIST -s $net -j DROP
done
$IPTABLES -A BLACKLIST -j RETURN

# ssh, telnet (the old switches), ftp
for port in 22 23 21; do
	open_tcp $port
done
open_tcp 50000:50100	# passive ftp
# samba
$IPTABLES -A SERVICES -p tcp -m multiport --dports 137:139,445 -m state --state NEW -j ACCEPT
$IPTABLES -A SERVICES -p udp -m multiport --dports 137,138 -j ACCEPT
# mysql, web
$IPTABLES -A SERVICES -p tcp -m tcp --dport 3306 -j ACCEPT
$IPTABLES -A SERVICES -p tcp -m multiport --dports 80,443 -j ACCEPT
# portmapper and snmp are for the LAN only
$IPTABLES -A SERVICES ! -s $LAN -p tcp -m tcp --dport 111 -j DROP
$IPTABLES -A SERVICES ! -s $LAN -p udp -m udp --dport 161 -j DROP
$IPTABLES -A SERVICES -j RETURN
