#!/bin/bash
# Docker host firewall reload (same rules as ../docker-host.rules).
# The host's own rules come first; Docker's chains are put back as dockerd left them,
# so published containers keep working after a reload.
set -euo pipefail

IPT="iptables -w"
ADMIN_NET=10.20.0.0/16
BRIDGE=docker0

$IPT -F
$IPT -X
$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -P OUTPUT ACCEPT

# nat: Docker's DNAT for the published ports (one restore, so it is atomic)
iptables-restore --noflush <<'EOF_NAT'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 443 -j MASQUERADE
-A POSTROUTING -s 172.17.0.3/32 -d 172.17.0.3/32 -p tcp -m tcp --dport 5432 -j MASQUERADE
-A POSTROUTING -s 172.17.0.4/32 -d 172.17.0.4/32 -p tcp -m tcp --dport 6379 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 443 -j DNAT --to-destination 172.17.0.2:443
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 6379 -j DNAT --to-destination 172.17.0.4:6379
COMMIT
EOF_NAT

# the host
$IPT -A INPUT -i lo -j ACCEPT
$IPT -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A INPUT -p icmp --icmp-type 8 -j ACCEPT
$IPT -A INPUT -s $ADMIN_NET -p tcp --dport 22 -j ACCEPT
$IPT -A INPUT -p tcp --dport 5432 -j DROP      # postgres stays private (or so we thought)
$IPT -A INPUT -p tcp --dport 443 -j ACCEPT

# Docker's filter chains
for chain in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
    $IPT -N "$chain"
done
$IPT -A FORWARD -j DOCKER-USER
$IPT -A FORWARD -j DOCKER-ISOLATION-STAGE-1
$IPT -A FORWARD -o $BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A FORWARD -o $BRIDGE -j DOCKER
$IPT -A FORWARD -i $BRIDGE ! -o $BRIDGE -j ACCEPT
$IPT -A FORWARD -i $BRIDGE -o $BRIDGE -j ACCEPT

publish() {  # container address, port
    $IPT -A DOCKER -d "$1/32" ! -i $BRIDGE -o $BRIDGE -p tcp -m tcp --dport "$2" -j ACCEPT
}
publish 172.17.0.2 443
publish 172.17.0.3 5432
publish 172.17.0.4 6379

$IPT -A DOCKER-ISOLATION-STAGE-1 -i $BRIDGE ! -o $BRIDGE -j DOCKER-ISOLATION-STAGE-2
$IPT -A DOCKER-ISOLATION-STAGE-1 -j RETURN
$IPT -A DOCKER-ISOLATION-STAGE-2 -o $BRIDGE -j DROP
$IPT -A DOCKER-ISOLATION-STAGE-2 -j RETURN
$IPT -A DOCKER-USER -j RETURN
