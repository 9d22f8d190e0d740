"""The firewalld front end: zone/service XML and firewall-cmd commands become firewalld's nft-backend
ruleset; findings point at the XML element or the command line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from linter.checks import Settings
from linter.detect import detect_format, looks_lintable
from linter.engine.trace import make_flow, trace_flow
from linter.frontends.firewalld import read_configuration
from linter.frontends.firewalld.builtin import builtin_services, firewalld_version
from linter.frontends.firewalld.reader import Reader
from linter.findings import Severity
from linter.frontends import FrontEndOptions
from linter.model import Span, VerdictKind
from linter.readpolicy import ReadPolicy
from linter.pipeline import lint_file

from tests.conftest import ROOT

TELNET_SAMBA = """<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <service name="ssh"/>
  <service name="dhcpv6-client"/>
  <service name="telnet"/>
  <service name="samba"/>
</zone>
"""


def _lint(path, scanned=None):
    options = FrontEndOptions(read_policy=ReadPolicy.for_paths([str(scanned)])) if scanned else None
    return lint_file(str(path), Settings(), options=options)


def _codes(result):
    return sorted((f.code, f.line, str(f.severity)) for f in result.findings)


def _verdict(ruleset, src, port, iface="eth0", proto="tcp"):
    return trace_flow(make_flow(src=src, proto=proto, dport=port, iface=iface), [ruleset]).verdict


def test_telnet_and_samba_in_a_zone_fail_on_their_lines(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text(TELNET_SAMBA)
    result = _lint(zone)
    assert result.format == "firewalld"
    assert _codes(result) == [("PL101", 6, "critical"), ("PL201", 4, "info"), ("PL201", 7, "critical")]
    telnet = next(f for f in result.findings if f.line == 6)
    assert telnet.ports == ((23, 23),) and telnet.column == 3
    done = subprocess.run([sys.executable, "-m", "linter", "check", str(zone)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_the_zone_model_has_firewalld_chains_and_spans(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text(TELNET_SAMBA)
    ruleset = _lint(zone).document
    table = ruleset.table("firewalld")
    names = [chain.name for chain in table.chains]
    assert names[:3] == ["filter_INPUT", "filter_INPUT_ZONES", "filter_IN_public"]
    assert "filter_IN_public_allow" in names and "nat_PRE_public_allow" in names
    allow = table.chain("filter_IN_public_allow")
    assert [(rule.span.line, rule.span.column) for rule in allow.rules] == [(4, 3), (5, 3), (6, 3), (7, 3), (7, 3),
                                                                          (7, 3), (7, 3)]
    assert table.chain("filter_INPUT").hook.value == "input" and table.chain("filter_INPUT").priority == 10
    assert _verdict(ruleset, "203.0.113.9", 23) == "accept"
    assert _verdict(ruleset, "203.0.113.9", 3306) == "reject"
    assert trace_flow(make_flow(src="203.0.113.9", proto="icmp", iface="eth0"), [ruleset]).verdict == "accept"


def test_a_doctype_is_refused_without_reading_further(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<?xml version="1.0"?>\n<!DOCTYPE zone [\n<!ENTITY a "aaaaaaaaaa">\n'
                    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n<zone><service name="&b;"/></zone>\n')
    result = _lint(zone)
    assert result.format == "firewalld" and result.document is None
    assert [(f.code, f.line) for f in result.findings] == [("PL071", 2)]


def test_broken_xml_is_a_syntax_error_at_its_place(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<?xml version="1.0"?>\n<zone>\n  <service name="ssh">\n</zone>\n')
    result = _lint(zone)
    assert [(f.code, f.line, f.column) for f in result.findings] == [("PL010", 4, 3)]


def test_unknown_service_and_bad_values_are_findings_and_the_rest_is_read(tmp_path):
    zone = tmp_path / "work.xml"
    zone.write_text('<zone target="WRONG">\n  <service name="my-app"/>\n  <port port="70000" protocol="tcp"/>\n'
                    '  <port port="23" protocol="tcp"/>\n  <bogus/>\n</zone>\n')
    result = _lint(zone)
    assert sorted((f.code, f.line) for f in result.findings) == [
        ("PL011", 1), ("PL011", 3), ("PL012", 5), ("PL072", 2), ("PL101", 4)]
    assert next(f for f in result.findings if f.code == "PL072").severity == Severity.MEDIUM


def test_a_configuration_directory_reads_default_zone_services_and_other_zones(tmp_path):
    top = tmp_path / "firewalld"
    (top / "zones").mkdir(parents=True)
    (top / "services").mkdir()
    (top / "firewalld.conf").write_text("# comment\nDefaultZone=internal\n")
    (top / "services" / "app.xml").write_text(
        '<?xml version="1.0"?>\n<service>\n  <short>App</short>\n  <port port="9443" protocol="tcp"/>\n'
        '  <include service="telnet"/>\n</service>\n')
    (top / "zones" / "internal.xml").write_text(
        '<zone>\n  <service name="app"/>\n  <service name="ssh"/>\n</zone>\n')
    (top / "zones" / "trusted.xml").write_text(
        '<zone target="ACCEPT">\n  <source address="203.0.113.0/24"/>\n</zone>\n')
    internal = _lint(top / "zones" / "internal.xml", scanned=top)
    ruleset = internal.document
    assert _verdict(ruleset, "198.51.100.7", 9443) == "accept"  # the default zone, from firewalld.conf
    assert _verdict(ruleset, "198.51.100.7", 23) == "accept"  # through the service's <include>
    assert _verdict(ruleset, "203.0.113.7", 9443) == "reject"  # trusted's source: decided in its own file
    assert ("PL101", 2) in [(f.code, f.line) for f in internal.findings]
    trusted = _lint(top / "zones" / "trusted.xml", scanned=top)
    assert _verdict(trusted.document, "203.0.113.7", 5432) == "accept"
    assert _verdict(trusted.document, "198.51.100.7", 5432) == "reject"
    assert [(f.code, f.line, str(f.severity)) for f in trusted.findings] == [("PL202", 2, "high")]
    assert _lint(top / "services" / "app.xml").findings == [] and _lint(top / "firewalld.conf").findings == []
    # Named alone, the zone file may not make portlint read its parent directory: the distribution
    # defaults apply (default zone public), so the unbound internal zone sees no packet, and its
    # unknown service is reported, with a note that no packet reaches it.
    alone = _lint(top / "zones" / "internal.xml")
    assert _verdict(alone.document, "198.51.100.7", 22) == "reject"
    assert sorted((f.code, f.line) for f in alone.findings) == [("PL072", 2), ("PL073", 1)]


def test_sources_decide_before_interfaces(tmp_path):
    top = tmp_path / "zones"
    top.mkdir()
    (top / "public.xml").write_text('<zone>\n  <interface name="eth0"/>\n  <service name="http"/>\n</zone>\n')
    (top / "drop.xml").write_text('<zone target="DROP">\n  <source address="192.0.2.0/24"/>\n</zone>\n')
    ruleset = _lint(top / "public.xml").document
    assert _verdict(ruleset, "198.51.100.1", 80) == "accept"
    assert _verdict(ruleset, "192.0.2.1", 80) == "reject"  # drop.xml's zone: its own file says
    dropped = _lint(top / "drop.xml").document
    assert _verdict(dropped, "192.0.2.1", 80) == "drop"


def test_rich_rules_forward_ports_and_masquerade(tmp_path):
    zone = tmp_path / "external.xml"
    zone.write_text("""<zone>
  <service name="ssh"/>
  <masquerade/>
  <forward-port port="8080" protocol="tcp" to-port="80" to-addr="10.0.0.5"/>
  <rule family="ipv4">
    <source address="198.51.100.0/24"/>
    <service name="ssh"/>
    <drop/>
  </rule>
  <rule priority="-1">
    <port port="3306" protocol="tcp"/>
    <log prefix="mysql"/>
    <accept><limit value="5/m"/></accept>
  </rule>
</zone>
""")
    ruleset = _lint(zone).document
    table = ruleset.table("firewalld")
    deny = table.chain("filter_IN_external_deny").rules
    assert [(r.span.line, r.verdict.kind) for r in deny] == [(5, VerdictKind.DROP)]
    pre = table.chain("filter_IN_external_pre").rules
    assert [(r.span.line, r.verdict.kind) for r in pre] == [(10, VerdictKind.CONTINUE), (10, VerdictKind.ACCEPT)]
    dnat = table.chain("nat_PRE_external_allow").rules[0]
    assert dnat.verdict.kind is VerdictKind.DNAT and dnat.span.line == 4 and str(dnat.verdict.to_ports) == "80"
    assert table.chain("nat_POST_external_allow").rules[0].verdict.kind is VerdictKind.MASQUERADE
    assert _verdict(ruleset, "198.51.100.9", 22) == "drop"
    assert _verdict(ruleset, "203.0.113.9", 22) == "accept"


def test_rich_rule_strings_read_like_their_xml():
    reader = Reader("x.sh")
    span = Span("x.sh", 3, 1)
    rule = reader.rich_text('rule family="ipv4" priority="5" source not address="10.0.0.0/8" port port="80" '
                            'protocol="tcp" log prefix="web" level="info" limit value="1/m" reject', span)
    assert rule.family == "ipv4" and rule.priority == 5 and rule.source.invert and rule.source.address == "10.0.0.0/8"
    assert rule.element[0] == "port" and rule.element[1].low == 80 and rule.log and rule.action == "reject"
    assert reader.rich_text('rule service name="ssh"', span) is None  # no action
    assert [d.code for d in reader.diagnostics] == ["PL011"]


SCRIPT = """#!/bin/bash
set -e
firewall-cmd --permanent --zone=public --add-service=http
firewall-cmd --permanent --add-service=telnet
firewall-cmd --permanent --zone=trusted --add-source=10.1.0.0/16
firewall-cmd --permanent --add-port=5432/tcp
firewall-cmd --permanent --remove-port=5432/tcp
firewall-cmd --permanent --add-service="$UNKNOWN_SERVICE"
firewall-cmd --permanent --add-service=nosuch
firewall-cmd --reload
"""


def test_firewall_cmd_in_a_script_fails_on_the_command_line(tmp_path):
    script = tmp_path / "provision.sh"
    script.write_text(SCRIPT)
    result = _lint(script)
    assert result.format == "iptables-script"
    assert sorted((f.code, f.line, str(f.severity)) for f in result.findings) == [
        ("PL050", 8, "info"), ("PL072", 9, "medium"), ("PL101", 3, "info"), ("PL101", 4, "critical")]
    ruleset = result.document
    assert _verdict(ruleset, "203.0.113.9", 5432) == "reject"  # added, then removed
    assert _verdict(ruleset, "10.1.2.3", 5432) == "accept"  # the trusted zone
    done = subprocess.run([sys.executable, "-m", "linter", "check", str(script)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_a_script_with_iptables_and_firewall_cmd_holds_both_tables(tmp_path):
    script = tmp_path / "fw.sh"
    script.write_text("iptables -A INPUT -p tcp --dport 23 -j DROP\nfirewall-cmd --add-service=telnet\n")
    ruleset = _lint(script).document
    assert sorted((t.name, t.family.value) for t in ruleset.tables) == [("filter", "ipv4"), ("firewalld", "inet")]
    assert _verdict(ruleset, "203.0.113.9", 23) == "drop"  # both tables see the packet; a drop in either ends it


@pytest.mark.parametrize(("path", "text", "expected"), [
    ("x/public.xml", '<?xml version="1.0" encoding="utf-8"?>\n<!-- c -->\n<zone>\n</zone>', "firewalld"),
    ("svc.xml", "<service><port port='1' protocol='tcp'/></service>", "firewalld"),
    ("p.xml", '<policy target="CONTINUE"/>', "firewalld"),
    ("etc/firewalld/firewalld.conf", "DefaultZone=public\n", "firewalld"),
    ("setup.sh", "#!/bin/sh\nfirewall-cmd --permanent --add-port=80/tcp\n", "iptables-script"),
    ("notes.sh", "#!/bin/sh\nfirewall-cmd --list-all\n", None),
    ("pom.xml", "<project/>", None),
    ("etc/firewalld/direct.xml", '<?xml version="1.0"?>\n<direct>\n</direct>\n', "firewalld"),
    ("etc/firewalld/ipsets/admins.xml", '<ipset type="hash:net"><entry>10.0.0.0/8</entry></ipset>', "firewalld"),
    ("winsw.xml", "<service><id>app</id><executable>app.exe</executable></service>", "firewalld"),
])
def test_detection(path, text, expected):
    """Named on the command line, a <service> root is read as firewalld's; a walk asks for more (below)."""
    assert detect_format(path, text) == expected


def test_walks_find_firewalld_files_by_path():
    assert looks_lintable("etc/firewalld/zones/public.xml")
    assert looks_lintable("roles/x/files/firewalld/services/app.xml")
    assert looks_lintable("etc/firewalld/firewalld.conf")
    assert not looks_lintable("src/main/resources/zones.xml")


def test_built_in_services_are_data_with_their_version():
    services = builtin_services()
    assert len(services) >= 60 and firewalld_version() == "2.5.0"
    assert services["samba"].ports == ((139, 139, "tcp"), (445, 445, "tcp"))
    assert services["samba"].includes == ("samba-client",) and services["samba-client"].includes == ("netbios-ns",)
    assert services["netbios-ns"].ports == ((137, 137, "udp"),)
    assert services["dhcpv6-client"].destination == (("ipv6", "fe80::/64"),)
    assert services["upnp-client"].source_ports == ((1900, 1900, "udp"),)
    assert services["vrrp"].protocols == ("112",) and services["vrrp"].destination[0] == ("ipv4", "224.0.0.18")
    for name in ("ssh", "cockpit", "samba-client", "mysql", "postgresql", "http", "https", "telnet", "ftp", "mdns",
                 "nfs", "rpc-bind", "redis", "mongodb", "vnc-server", "rdp", "docker-registry"):
        assert name in services


def test_included_services_keep_their_own_destinations(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<zone>\n  <service name="minidlna"/>\n  <service name="samba"/>\n</zone>\n')
    ruleset = _lint(zone).document
    texts = [rule.text for rule in ruleset.table("firewalld").chain("filter_IN_public_allow").rules]
    assert texts == ["tcp dport 8200 accept", "ip daddr 239.255.255.250 udp dport 1900 accept",
                     "ip6 daddr ff02::c udp dport 1900 accept", "tcp dport 139 accept", "tcp dport 445 accept",
                     "udp dport 138 accept", "udp dport 137 accept"]


def test_the_sample_configuration_and_script():
    found = {}
    for path in sorted((ROOT / "samples" / "firewalld").rglob("*")):
        if path.is_file():
            result = _lint(path)
            assert result.format == "firewalld", path
            found[path.relative_to(ROOT).as_posix()] = sorted(
                (f.code, f.line, str(f.severity)) for f in result.findings)
    # Alone (the read policy of one file), internal.xml would not see services/metrics.xml: lint the directory.
    assert found == {
        "samples/firewalld/firewalld.conf": [],
        "samples/firewalld/services/metrics.xml": [],
        "samples/firewalld/zones/internal.xml": [("PL072", 9, "medium"), ("PL201", 8, "low")],
        "samples/firewalld/zones/public.xml": [("PL201", 6, "info"), ("PL201", 9, "critical"),
                                               ("PL201", 10, "medium")],
        "samples/firewalld/zones/trusted.xml": [("PL202", 5, "low")],
    }
    top = ROOT / "samples" / "firewalld"
    internal = _lint(top / "zones" / "internal.xml", scanned=top)
    assert sorted((f.code, f.line, str(f.severity)) for f in internal.findings) == [
        ("PL101", 9, "low"), ("PL201", 8, "low")]
    script = _lint(ROOT / "samples" / "scripts" / "firewalld-provision.sh")
    assert [(f.code, f.line, str(f.severity)) for f in script.findings if f.severity >= Severity.HIGH] == [
        ("PL101", 15, "critical")]


def test_inside_zones_make_their_interfaces_internal(tmp_path):
    """An interface bound to the internal zone is internal for reach, read from zone files or from
    firewalld's nft output alike."""
    from linter.engine.roles import infer_roles

    top = tmp_path / "zones"
    top.mkdir()
    (top / "internal.xml").write_text('<zone>\n  <interface name="eth1"/>\n  <service name="telnet"/>\n</zone>\n')
    (top / "public.xml").write_text('<zone>\n  <interface name="eth0"/>\n</zone>\n')
    result = _lint(top / "internal.xml")
    assert [(f.code, f.line, str(f.severity)) for f in result.findings] == [("PL101", 3, "low")]
    roles = infer_roles([result.document])
    assert roles.internal == ("eth1",) and roles.is_internal("eth1") and not roles.is_internal("eth0")
    nft = _lint(ROOT / "tests" / "equivalence" / "firewalld" / "sources" / "ruleset.nft").document
    assert infer_roles([nft]).internal == ("eth1",)


def test_xml_comments_suppress(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<zone>\n  <service name="telnet"/> <!-- portlint: ignore[PL101] legacy console -->\n'
                    '  <!-- portlint: ignore[PL201] -->\n  <service name="ssh"/>\n'
                    '  <service name="samba"/>\n  <!-- portlint: ignore[PL999] -->\n</zone>\n')
    done = subprocess.run([sys.executable, "-m", "linter", "check", "--format", "concise", str(zone)], cwd=ROOT,
                          capture_output=True, text=True)
    lines = [line.split(": ", 1)[1][:11] for line in done.stdout.splitlines() if line.startswith(str(zone))]
    assert lines == ["PL201 [crit", "PL021 [medi"] and done.returncode == 1


def test_rules_carry_the_nft_text_firewalld_writes(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<zone>\n  <interface name="eth0"/>\n  <service name="mdns"/>\n'
                    '  <forward-port port="8080" protocol="tcp" to-port="80" to-addr="10.0.0.5"/>\n'
                    '  <rule family="ipv4"><source address="192.0.2.0/24" invert="true"/>'
                    '<port port="5432" protocol="tcp"/><reject/></rule>\n</zone>\n')
    table = _lint(zone).document.table("firewalld")
    texts = {chain.name: [rule.text for rule in chain.rules] for chain in table.chains}
    assert texts["filter_INPUT_ZONES"] == ['iifname "eth0" goto filter_IN_public', "goto filter_IN_public"]
    assert texts["filter_IN_public_allow"] == ["ip daddr 224.0.0.251 udp dport 5353 accept",
                                               "ip6 daddr ff02::fb udp dport 5353 accept"]
    assert texts["filter_IN_public_deny"] == [
        "meta nfproto ipv4 ip saddr != 192.0.2.0/24 tcp dport 5432 reject with icmpx admin-prohibited"]
    assert texts["nat_PRE_public_allow"] == ["meta nfproto ipv4 tcp dport 8080 dnat ip to 10.0.0.5:80"]
    assert texts["filter_IN_public"][-2:] == ["meta l4proto { icmp, ipv6-icmp } accept",
                                              "reject with icmpx admin-prohibited"]


def test_policies_to_this_host(tmp_path):
    top = tmp_path / "firewalld"
    (top / "zones").mkdir(parents=True)
    (top / "policies").mkdir()
    (top / "zones" / "public.xml").write_text('<zone>\n  <interface name="eth0"/>\n  <service name="ssh"/>\n</zone>\n')
    (top / "policies" / "legacy.xml").write_text(
        '<?xml version="1.0"?>\n<policy target="CONTINUE" priority="-10">\n  <ingress-zone name="public"/>\n'
        '  <egress-zone name="HOST"/>\n  <service name="telnet"/>\n'
        '  <rule><source address="198.51.100.0/24"/><service name="ssh"/><reject/></rule>\n</policy>\n')
    (top / "policies" / "routed.xml").write_text(
        '<policy target="ACCEPT">\n  <ingress-zone name="internal"/>\n  <egress-zone name="external"/>\n</policy>\n')
    legacy = _lint(top / "policies" / "legacy.xml", scanned=top)
    assert [(f.code, f.line, str(f.severity)) for f in legacy.findings] == [("PL101", 5, "critical")]
    assert _verdict(legacy.document, "203.0.113.3", 23) == "accept"
    assert _verdict(legacy.document, "198.51.100.3", 22) == "reject"
    # The zone's own file: the policy's reject (priority < 0) applies before the zone's ssh, its telnet
    # accept is the policy file's finding, not this one's.
    public = _lint(top / "zones" / "public.xml", scanned=top)
    assert _verdict(public.document, "198.51.100.3", 22) == "reject"
    assert _verdict(public.document, "203.0.113.3", 22) == "accept"
    assert _verdict(public.document, "203.0.113.3", 23) == "reject"
    routed = _lint(top / "policies" / "routed.xml", scanned=top)
    assert [(f.code, f.line) for f in routed.findings] == [("PL013", 1)]
    whole = read_configuration(str(top)).document
    assert _verdict(whole, "203.0.113.3", 23) == "accept" and _verdict(whole, "198.51.100.3", 22) == "reject"


def test_firewall_cmd_policies(tmp_path):
    script = tmp_path / "policy.sh"
    script.write_text("firewall-cmd --permanent --new-policy=legacy\n"
                      "firewall-cmd --permanent --policy=legacy --add-ingress-zone=public\n"
                      "firewall-cmd --permanent --policy legacy --add-egress-zone=HOST\n"
                      "firewall-cmd --permanent --policy=legacy --set-priority=-5\n"
                      "firewall-cmd --permanent --policy=legacy --add-service=telnet\n"
                      "firewall-cmd --permanent --policy=legacy --add-rich-rule="
                      "'rule source address=\"198.51.100.0/24\" service name=\"ssh\" drop'\n"
                      "firewall-cmd --permanent --policy=nosuch --add-service=ssh\n"
                      "firewall-cmd --permanent --policy=allow-host-ipv6 --set-priority=0\n")
    result = _lint(script)
    assert sorted((f.code, f.line, str(f.severity)) for f in result.findings) == [
        ("PL011", 7, "high"), ("PL011", 8, "high"), ("PL101", 5, "critical"), ("PL201", 1, "info")]
    assert _verdict(result.document, "198.51.100.3", 22) == "drop"  # the policy runs before the zone's ssh
    assert _verdict(result.document, "203.0.113.3", 22) == "accept"


def test_directory_walks_find_firewalld_xml_by_its_root_element(tmp_path):
    from linter.pipeline import discover

    (tmp_path / "roles" / "fw" / "files").mkdir(parents=True)
    (tmp_path / "roles" / "fw" / "files" / "public.xml").write_text(TELNET_SAMBA)
    (tmp_path / "pom.xml").write_text("<project/>\n")
    (tmp_path / "winsw.xml").write_text("<service><id>app</id><executable>app.exe</executable></service>\n")
    (tmp_path / "etc" / "firewalld").mkdir(parents=True)
    (tmp_path / "etc" / "firewalld" / "firewalld.conf").write_text("DefaultZone=public\n")
    files, problems = discover([str(tmp_path)])
    assert [p[len(str(tmp_path)) + 1:] for p in files] == ["etc/firewalld/firewalld.conf",
                                                           "roles/fw/files/public.xml"] and problems == []


def test_direct_rules_and_definition_files(tmp_path):
    top = tmp_path / "firewalld"
    (top / "ipsets").mkdir(parents=True)
    (top / "direct.xml").write_text('<?xml version="1.0"?>\n<direct>\n  <rule ipv="ipv4" table="filter" '
                                    'chain="INPUT" priority="0">-p tcp --dport 23 -j ACCEPT</rule>\n</direct>\n')
    (top / "ipsets" / "admins.xml").write_text('<ipset type="hash:net">\n  <entry>10.0.0.0/8</entry>\n</ipset>\n')
    assert [(f.code, f.line) for f in _lint(top / "direct.xml").findings] == [("PL013", 2)]
    assert _lint(top / "ipsets" / "admins.xml").findings == []


def test_ipset_sources_are_read_from_the_configuration(tmp_path):
    top = tmp_path / "firewalld"
    (top / "zones").mkdir(parents=True)
    (top / "ipsets").mkdir()
    (top / "ipsets" / "admins.xml").write_text(
        '<ipset type="hash:net">\n  <entry>198.51.100.0/24</entry>\n  <entry>nonsense</entry>\n</ipset>\n')
    (top / "ipsets" / "macs.xml").write_text('<ipset type="hash:mac">\n  <entry>00:11:22:33:44:55</entry>\n</ipset>\n')
    (top / "zones" / "trusted.xml").write_text(
        '<zone target="ACCEPT">\n  <source ipset="admins"/>\n  <source ipset="macs"/>\n</zone>\n')
    (top / "zones" / "public.xml").write_text('<zone>\n  <service name="ssh"/>\n</zone>\n')
    trusted = _lint(top / "zones" / "trusted.xml", scanned=top).document
    assert _verdict(trusted, "198.51.100.7", 5432) == "accept"
    assert _verdict(trusted, "203.0.113.7", 5432) == "reject"
    assert _lint(top / "ipsets" / "admins.xml").findings[0].code == "PL011"
    alone = _lint(top / "zones" / "trusted.xml").document  # ipsets/ not readable: the set stays opaque
    assert trace_flow(make_flow(src="203.0.113.7", dport=5432, iface="eth0"), [alone]).other_verdicts


def test_an_unknown_zone_leaves_the_command_out_and_continuations_are_read(tmp_path):
    script = tmp_path / "setup"
    script.write_text('#!/bin/sh\nfirewall-cmd --permanent --zone="$1" --add-service=postgresql\n'
                      "firewall-cmd --permanent \\\n    --add-service=telnet\n")
    result = _lint(script)
    assert result.format == "iptables-script"
    assert sorted((f.code, f.line) for f in result.findings if f.code != "PL201") == [("PL050", 2), ("PL101", 3)]
    assert _verdict(result.document, "203.0.113.9", 5432) == "reject"


def test_hints_name_only_services_firewall_cmd_knows(tmp_path):
    zone = tmp_path / "public.xml"
    zone.write_text('<zone>\n  <service name="telnet"/>\n  <port port="9100" protocol="tcp"/>\n'
                    '  <service name="samba"/>\n</zone>\n')
    hints = {f.line: f.hint.split(";")[0] for f in _lint(zone).findings}
    assert hints == {2: "firewall-cmd --permanent --zone=public --remove-service=telnet",
                     3: "firewall-cmd --permanent --zone=public --remove-port=9100/tcp",
                     4: "firewall-cmd --permanent --zone=public --remove-port=137-139/tcp"}
