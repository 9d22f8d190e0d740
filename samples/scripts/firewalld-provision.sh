#!/bin/bash
# Provisioning for a RHEL 9 web host: firewalld is already running with the default public zone.
set -euo pipefail

ZONE=public
ADMIN_NET=10.20.0.0/16

dnf -y install firewalld
systemctl enable --now firewalld

for service in http https; do
    firewall-cmd --permanent --zone="$ZONE" --add-service="$service"
done
# legacy monitoring console still logs in over telnet (TODO: remove)
firewall-cmd --permanent --zone="$ZONE" --add-service=telnet
firewall-cmd --permanent --zone=trusted --add-source="$ADMIN_NET"
firewall-cmd --permanent --zone="$ZONE" --remove-service=dhcpv6-client
firewall-cmd --permanent --zone="$ZONE" --add-rich-rule='rule family="ipv4" source address="10.20.0.0/16" port port="5432" protocol="tcp" accept'
firewall-cmd --reload
