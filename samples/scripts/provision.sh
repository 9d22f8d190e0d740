#!/bin/bash
# Provisioning script for an Ubuntu web host: ufw for the host's own ports, Docker for the
# database. The ufw commands leave the same rules as ../ufw.rules (what `ufw` wrote there).
set -euo pipefail

ADMIN_NET=192.168.10.0/24

apt-get update -q
apt-get install -y -q ufw docker.io

ufw --force reset
ufw default deny incoming
ufw default allow outgoing
ufw limit OpenSSH
ufw allow 'Nginx Full'
ufw allow 3389/tcp                                   # remote desktop for the vendor, "temporary"
ufw allow from "$ADMIN_NET" to any port 9100 proto tcp   # node_exporter for the admin network
ufw deny 23/tcp
ufw --force enable
ufw status verbose

# The database and cache run in containers. Docker's DNAT sends published ports through FORWARD,
# so the ufw rules above never see them: 5432 is open to the internet whatever ufw says.
docker run -d --name db --restart unless-stopped -e POSTGRES_PASSWORD_FILE=/run/secrets/pg \
    -p 5432:5432 -v pgdata:/var/lib/postgresql/data postgres:16
docker run -d --name cache -p 127.0.0.1:6379:6379 redis:7
