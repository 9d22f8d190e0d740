#!/bin/bash
# ufw's chain layout, rebuilt by hand with plain iptables (same rules as ../ufw.rules).
# The user rules at the end are what `ufw allow` / `ufw limit` / `ufw deny` produced.

IPT="iptables"
LOG_LIMIT="-m limit --limit 3/min --limit-burst 10"

$IPT -F
$IPT -X
$IPT -P INPUT DROP
$IPT -P FORWARD DROP
$IPT -P OUTPUT ACCEPT

for chain in after-forward after-input after-logging-forward after-logging-input after-logging-output \
             after-output before-forward before-input before-logging-forward before-logging-input \
             before-logging-output before-output logging-allow logging-deny not-local reject-forward \
             reject-input reject-output skip-to-policy-forward skip-to-policy-input skip-to-policy-output \
             track-input track-output user-forward user-input user-limit user-limit-accept \
             user-logging-forward user-logging-input user-logging-output user-output
do
    $IPT -N "ufw-$chain"
done

# The built-in chains hand everything to ufw's chains, in this order.
for stage in before-logging before after after-logging reject track; do
    $IPT -A INPUT -j ufw-$stage-input
done
for stage in before-logging before after after-logging reject; do
    $IPT -A FORWARD -j ufw-$stage-forward
done
for stage in before-logging before after after-logging reject track; do
    $IPT -A OUTPUT -j ufw-$stage-output
done

# after-input: NetBIOS and DHCP noise goes to the policy without logging
for spec in udp:137 udp:138 tcp:139 tcp:445 udp:67 udp:68; do
    proto=${spec%%:*}
    port=${spec#*:}
    $IPT -A ufw-after-input -p $proto -m $proto --dport $port -j ufw-skip-to-policy-input
done
$IPT -A ufw-after-input -m addrtype --dst-type BROADCAST -j ufw-skip-to-policy-input

$IPT -A ufw-after-logging-forward $LOG_LIMIT -j LOG --log-prefix "[UFW BLOCK] "
$IPT -A ufw-after-logging-input $LOG_LIMIT -j LOG --log-prefix "[UFW BLOCK] "

# before-forward and before-input: established traffic and the useful ICMP types
$IPT -A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
for type in 3 11 12 8; do
    $IPT -A ufw-before-forward -p icmp -m icmp --icmp-type $type -j ACCEPT
done
$IPT -A ufw-before-forward -j ufw-user-forward

$IPT -A ufw-before-input -i lo -j ACCEPT
$IPT -A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny
$IPT -A ufw-before-input -m conntrack --ctstate INVALID -j DROP
for type in 3 11 12 8; do
    $IPT -A ufw-before-input -p icmp -m icmp --icmp-type $type -j ACCEPT
done
$IPT -A ufw-before-input -p udp -m udp --sport 67 --dport 68 -j ACCEPT
$IPT -A ufw-before-input -j ufw-not-local
$IPT -A ufw-before-input -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT      # mDNS
$IPT -A ufw-before-input -d 239.255.255.250/32 -p udp -m udp --dport 1900 -j ACCEPT  # SSDP
$IPT -A ufw-before-input -j ufw-user-input

$IPT -A ufw-before-output -o lo -j ACCEPT
$IPT -A ufw-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
$IPT -A ufw-before-output -j ufw-user-output

$IPT -A ufw-logging-allow $LOG_LIMIT -j LOG --log-prefix "[UFW ALLOW] "
$IPT -A ufw-logging-deny -m conntrack --ctstate INVALID $LOG_LIMIT -j RETURN
$IPT -A ufw-logging-deny $LOG_LIMIT -j LOG --log-prefix "[UFW BLOCK] "

for type in LOCAL MULTICAST BROADCAST; do
    $IPT -A ufw-not-local -m addrtype --dst-type $type -j RETURN
done
$IPT -A ufw-not-local $LOG_LIMIT -j ufw-logging-deny
$IPT -A ufw-not-local -j DROP

$IPT -A ufw-skip-to-policy-forward -j DROP
$IPT -A ufw-skip-to-policy-input -j DROP
$IPT -A ufw-skip-to-policy-output -j ACCEPT
$IPT -A ufw-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT
$IPT -A ufw-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT

# ufw limit OpenSSH
$IPT -A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW \
    -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource -m comment --comment dapp_OpenSSH
$IPT -A ufw-user-input -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW \
    -m recent --update --seconds 30 --hitcount 6 --name DEFAULT --mask 255.255.255.255 --rsource \
    -m comment --comment dapp_OpenSSH -j ufw-user-limit
$IPT -A ufw-user-input -p tcp -m tcp --dport 22 -m comment --comment dapp_OpenSSH -j ufw-user-limit-accept
# ufw allow 'Nginx Full'; ufw allow 3389/tcp; ufw allow from 192.168.10.0/24 to any port 9100; ufw deny 23/tcp
$IPT -A ufw-user-input -p tcp -m multiport --dports 80,443 -m comment --comment 'dapp_Nginx%20Full' -j ACCEPT
$IPT -A ufw-user-input -p tcp -m tcp --dport 3389 -j ACCEPT
$IPT -A ufw-user-input -s 192.168.10.0/24 -p tcp -m tcp --dport 9100 -j ACCEPT
$IPT -A ufw-user-input -p tcp -m tcp --dport 23 -j DROP

$IPT -A ufw-user-limit -m limit --limit 3/min -j LOG --log-prefix "[UFW LIMIT BLOCK] "
$IPT -A ufw-user-limit -j REJECT --reject-with icmp-port-unreachable
$IPT -A ufw-user-limit-accept -j ACCEPT
