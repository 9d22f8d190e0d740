#!/bin/bash
# Small office gateway (same rules as ../counters.rules, without the counters).
# eth0 faces the provider, eth1 the LAN; tun0 is OpenVPN.

IPTABLES="/usr/sbin/iptables"
WAN_IF=eth0
LAN_IF=eth1
LAN_NET=192.168.50.0/24
WAN_IP=198.51.100.10
PROXY_PORT=3128

for table in filter nat mangle security; do
    $IPTABLES -t $table -F
    $IPTABLES -t $table -X
done

$IPTABLES -P INPUT DROP
$IPTABLES -P FORWARD DROP
$IPTABLES -P OUTPUT ACCEPT

# security: only root may ask the cloud metadata service
$IPTABLES -t security -A OUTPUT -d 169.254.169.254/32 -p tcp -m owner ! --uid-owner 0 -j DROP

# mangle: mark LAN web traffic, clamp MSS, prioritise the VPN
$IPTABLES -t mangle -A PREROUTING -i $LAN_IF -p tcp --dport 80 -j MARK --set-mark 0x1
$IPTABLES -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
$IPTABLES -t mangle -A POSTROUTING -o $WAN_IF -p udp --dport 1194 -j DSCP --set-dscp-class EF

# nat: transparent proxy for the LAN, source NAT to the public address
$IPTABLES -t nat -A PREROUTING -s $LAN_NET -i $LAN_IF -p tcp --dport 80 -j REDIRECT --to-ports $PROXY_PORT
$IPTABLES -t nat -A POSTROUTING -s $LAN_NET -o $WAN_IF -j SNAT --to-source $WAN_IP

# filter
$IPTABLES -A INPUT -i lo -j ACCEPT
$IPTABLES -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPTABLES -A INPUT -m conntrack --ctstate INVALID -j DROP
$IPTABLES -A INPUT -p icmp --icmp-type 8 -m limit --limit 2/sec -j ACCEPT
for port in 22 $PROXY_PORT; do
    $IPTABLES -A INPUT -s $LAN_NET -i $LAN_IF -p tcp --dport $port -j ACCEPT
done
$IPTABLES -A INPUT -i $LAN_IF -p udp -m multiport --dports 53,67 -j ACCEPT
$IPTABLES -A INPUT -i $WAN_IF -p udp --dport 1194 -j ACCEPT    # OpenVPN

$IPTABLES -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPTABLES -A FORWARD -s $LAN_NET -i $LAN_IF -o $WAN_IF -j ACCEPT
$IPTABLES -A FORWARD -i tun0 -o $LAN_IF -j ACCEPT
