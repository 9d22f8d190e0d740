"""Real-looking rulesets written the way their generators write them (cases/), each with the
findings a firewall engineer expects (line, code, severity) and why. Issue 12's conformance suite:
these must stay right as the engine and the checks change."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.checks import Settings
from linter.pipeline import lint_file

CASES = Path(__file__).parent / "cases"

EXPECTED = {
    'dash-s.txt': [
        (8, 'PL201', 'info', '`iptables -S` output read as the filter table: SSH, a note'),
        (9, 'PL101', 'high', 'FTP from the internet: plaintext'),
        (10, 'PL202', 'medium', 'the passive FTP range its comment names: one finding about the range'),
    ],
    'home-router.rules': [
        (18, 'PL101', 'info', 'DNS for the LAN on br-lan (internal: MASQUERADE out of ppp0), a note'),
        (24, 'PL201', 'high', 'VNC routed from ppp0 straight to a LAN host without a DNAT: FORWARD lets it through'),
        (25, 'PL101', 'low', 'the guest network reaches the printer port of one LAN host: internal, plaintext, low'),
        # The port forward (line 7, 443 on a LAN host through DNAT) is HTTPS: nothing to say;
        # the LAN and guest networks going out (lines 21, 22, 26) are what a router is for.
    ],
    'kube-proxy.rules': [
        (25, 'PL201', 'critical', 'a NodePort DNATed to redis: the mark KUBE-MARK-MASQ set decides the FORWARD accept'),
        (38, 'PL201', 'info', 'SSH, a note; the kubelet port is open to 10/8 only'),
    ],
    'kube-proxy-statistic.rules': [
        (38, 'PL101', 'medium', 'a NodePort spread over three endpoints by -m statistic: every branch DNATs and is '
                                'forwarded, so it is reachable (no "possibly"), said once at the last endpoint'),
        (42, 'PL201', 'high', 'PostgreSQL NodePort over two endpoints: the same, one finding'),
        (59, 'PL201', 'info', 'SSH, a note'),
    ],
    'nft-marks.nft': [
        (22, 'PL201', 'low', 'PostgreSQL marked in prerouting, accepted by the mark from one admin host: decided, low'),
        (25, 'PL201', 'info', 'SSH, a note; 8443 (accepted by the ct mark saved from meta mark) is https-alt, '
                              'quiet; mark 0x40 is set by nothing and accepts nothing'),
    ],
    'debian-default.rules': [
        (3, 'PL401', 'critical', "Debian's empty ruleset: every port is open, said once on the INPUT policy"),
    ],
    'docker-user.rules': [
        (11, 'PL201', 'high', 'PostgreSQL published by Docker: DOCKER-USER drops it on eth0 only (--ctorigdstport), other interfaces still reach it; INPUT does not apply'),
        (12, 'PL101', 'info', 'HTTP on 8080 to a container: plaintext web, a note'),
        (22, 'PL201', 'info', 'SSH, a note'),
    ],
    'fail2ban.rules': [
        (9, 'PL201', 'info', "SSH behind fail2ban's chain: banned addresses do not change what is open"),
        (10, 'PL101', 'info', 'HTTP and HTTPS: HTTP is the plaintext note, HTTPS stays quiet'),
    ],
    'firewalld-fedora.nft': [
        (36, 'PL201', 'info', 'SSH in the public zone; ct status dnat accepts nothing without a DNAT'),
        (38, 'PL201', 'high', '9090 on a firewalld host is the stock cockpit service (admin UI), not Prometheus'),
    ],
    'fw4.nft': [
        (7, 'PL202', 'low', "OpenWrt's LAN zone accepts everything: br-lan is internal (masquerade out of wan)"),
        (21, 'PL201', 'info', "DHCP renew on wan, OpenWrt's default"),
    ],
    'proxmox-dnat.rules': [
        (6, 'PL201', 'info', 'SSH to a VM through DNAT 2222 -> 22'),
        (7, 'PL201', 'high', "RDP to a VM through DNAT: INPUT's drop does not protect it"),
        (12, 'PL401', 'medium', 'FORWARD accepts by default on a host that routes VMs'),
        (16, 'PL201', 'info', 'SSH on the host'),
        (17, 'PL201', 'high', 'Proxmox VE admin UI on 8006 from the internet'),
        (18, 'PL202', 'low', "vmbr1 is the VMs' internal bridge (MASQUERADE out of vmbr0)"),
    ],
    'ufw.rules': [
        (17, 'PL201', 'info', "ufw's stock DHCP client rule"),
        (20, 'PL201', 'info', 'ufw limit ssh: the recent --set rule is no PL015, the limit is reach not a condition'),
        (21, 'PL201', 'medium', 'PostgreSQL from one public /24: one step below the internet'),
        (22, 'PL201', 'low', 'MySQL from one admin host: low'),
    ],
}


def test_every_case_has_expectations():
    assert sorted(p.name for p in CASES.iterdir()) == sorted(EXPECTED)


# Known gaps, pinned as strict xfails until they are fixed (none today).
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[n]))
                                  if n in KNOWN_GAPS else n for n in sorted(EXPECTED)])
def test_an_engineer_would_sign_these_findings(name):
    found = sorted((f.line, f.code, str(f.severity)) for f in lint_file(str(CASES / name), Settings()).findings)
    assert found == [(line, code, severity) for line, code, severity, _why in EXPECTED[name]]
