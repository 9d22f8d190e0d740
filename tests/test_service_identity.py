"""Service identity: the file's own evidence (image, comment) before the port number."""

import pytest

from linter.ports import PortRegistry, RegistryError, default_registry, entry_from_dict, normalize_image
from linter.service_identity import Identity, identify, identify_range


@pytest.fixture(scope="module")
def registry():
    return default_registry()


def small_registry(*extra):
    """A registry without minecraft: supervisord and clickhouse by port, Tor by evidence only."""
    base = [
        {"name": "supervisord", "ports": "9001", "risk": "high", "category": "remote-admin", "plaintext": True,
         "alternative": "a unix socket"},
        {"name": "clickhouse-native", "ports": "9000", "risk": "high", "category": "database", "plaintext": True,
         "alternative": "tls", "aliases": ["clickhouse"], "images": ["clickhouse/clickhouse-server"]},
        {"name": "tor-orport", "ports": "9001", "risk": "none", "category": "proxy", "title": "Tor ORPort",
         "aliases": ["orport", "tor orport"], "evidence_only": True},
        {"name": "dnp3", "ports": "20000", "transports": ["tcp", "udp"], "risk": "critical", "category": "industrial"},
        {"name": "netbus", "ports": "12345", "risk": "critical", "category": "backdoor"},
        {"name": "memcached", "ports": "11211", "transports": ["tcp", "udp"], "risk": "critical", "category": "cache"},
        {"name": "https", "ports": "443", "risk": "none", "category": "web"},
        *extra,
    ]
    return PortRegistry([entry_from_dict(item) for item in base])


# --- the brief's examples ---------------------------------------------------------------------


def test_tor_orport_comment_beats_supervisord(registry):
    found = identify(registry, 9001, "tcp", comment="tor ORPort")
    assert (found.entry.name, found.name, found.source) == ("tor-orport", "tor ORPort", "comment")
    assert found.phrase == "tor ORPort (per the rule's comment)"
    assert found.port_entry.name == "supervisord" and not found.confirms_port
    assert found.entry.severity is None  # a relay's ORPort is meant to be public: nothing to report


def test_postgres_image_on_another_host_port(registry):
    found = identify(registry, 15432, "tcp", image="postgres:16")
    assert (found.entry.name, found.name, found.source) == ("postgresql", "PostgreSQL", "image")
    assert found.phrase == "PostgreSQL (image postgres:16)"
    assert found.port_entry is None and found.evidence == "postgres:16"


def test_nginx_container_port_9000_is_http_not_clickhouse(registry):
    found = identify(registry, 9000, "tcp", image="nginx:1.27-alpine")
    assert (found.entry.name, found.phrase) == ("http", "HTTP (image nginx:1.27-alpine)")
    assert found.port_entry.name == "clickhouse-native"


def test_port_only_names_what_the_port_commonly_is(registry):
    found = identify(registry, 9090, "tcp")
    assert (found.entry.name, found.source, found.phrase) == ("prometheus", "port", "port 9090 (commonly prometheus)")
    assert found.confirms_port and not found.from_evidence


def test_unknown_port_without_a_name(registry):
    found = identify(registry, 40123, "tcp")
    assert (found.entry, found.name, found.phrase) == (None, "40123", "port 40123")


def test_unregistered_service_named_by_comment_makes_no_finding_up():
    found = identify(small_registry(), 9000, "tcp", comment="minecraft worlds")
    assert (found.entry, found.name, found.source) == (None, "minecraft worlds", "comment")
    assert found.phrase == "minecraft worlds (per the rule's comment)"
    assert found.port_entry.name == "clickhouse-native"


def test_unregistered_name_loses_the_filler_around_it():
    found = identify(small_registry(), 9000, "tcp", comment="Allow Minecraft worlds from anywhere")
    assert (found.entry, found.name) == (None, "Minecraft worlds")


def test_registered_minecraft_is_named_by_comment_on_another_port(registry):
    found = identify(registry, 9000, "tcp", comment="minecraft worlds")
    assert (found.entry.name, found.name) == ("minecraft", "minecraft")


@pytest.mark.parametrize("comment", ["allow from office", "ACCEPT new tcp", "Allow port 9000 in", "", "   ", "foo",
                                     "10.0.0.0/8 only", "LAN -> WAN"])
def test_comment_naming_nothing_leaves_the_port(comment):
    found = identify(small_registry(), 9000, "tcp", comment=comment)
    assert (found.entry.name, found.source) == ("clickhouse-native", "port")


def test_comment_describing_the_ports_own_service_keeps_it(registry):
    assert identify(registry, 179, "tcp", comment="Border Gateway Protocol").entry.name == "bgp"
    assert identify(registry, 7547, "tcp", comment="CPE WAN Management Protocol").entry.name == "cwmp"


def test_host_names_and_addresses_are_where_not_what(registry):
    for comment in ("pageboard.fr", "redirect http to pageboard.io user port", "from 10.0.0.0/8", "fd00::1"):
        found = identify(registry, 80, "tcp", comment=comment)
        assert found.entry.name == "http", comment


@pytest.mark.parametrize("comment", ["compose service db", "default/web:http nodePort",
                                     "kube-system/kube-dns:dns cluster IP", "dapp_Apache%20Full"])
def test_generator_comments_make_no_name_up(registry, comment):
    found = identify(registry, 80, "tcp", comment=comment)
    assert found.entry.name == "http", comment


def test_a_descriptions_parenthesis_does_not_confirm_the_entry(registry):
    # pushgateway's description says "9091 is also the Transmission web UI": Transmission is not pushgateway
    found = identify(registry, 9091, "tcp", comment="Local Transmission")
    assert (found.entry, found.name) == (None, "Transmission")


def test_category_words_confirm_the_port(registry):
    found = identify(registry, 143, "tcp", comment="INSIDE > DMZ MAIL PROTOKOLLOK SZAMOLVA ES ENGEDVE")
    assert (found.entry.name, found.source) == ("imap", "port")


def test_web_server_names_are_http(registry):
    assert identify(registry, 80, "tcp", comment="Local Nginx-server").entry.name == "http"


def test_long_prose_comment_is_not_evidence(registry):
    comment = ("See the Oracle-Provided Images section in the Oracle Cloud Infrastructure documentation "
               "for security impact of modifying or removing this rule")
    found = identify(registry, 22, "tcp", comment=comment)
    assert (found.entry.name, found.source) == ("ssh", "port")


# --- comments: names and aliases --------------------------------------------------------------


@pytest.mark.parametrize("comment,port,transport,name,text", [
    ("postgres replica", 15432, "tcp", "postgresql", "postgres"),
    ("PGSQL", 6432, "tcp", "postgresql", "PGSQL"),
    ("Microsoft SQL", 1433, "tcp", "mssql", "Microsoft SQL"),
    ("SQL-Server reporting", 14330, "tcp", "mssql", "SQL-Server"),
    ("remote desktop gateway", 13389, "tcp", "rdp", "remote desktop"),
    ("Samba shares", 445, "tcp", "smb", "Samba"),
    ("CIFS", 4450, "tcp", "smb", "CIFS"),
    ("mongo", 37017, "tcp", "mongodb", "mongo"),
    ("elastic", 19200, "tcp", "elasticsearch", "elastic"),
    ("dockerd", 12375, "tcp", "docker", "dockerd"),
    ("cockpit", 9090, "tcp", "cockpit", "cockpit"),
    ("Proxmox VE web", 8006, "tcp", "proxmox", "Proxmox VE"),
    ("pve", 8006, "tcp", "proxmox", "pve"),
    ("UniFi controller", 8443, "tcp", "unifi", "UniFi controller"),
    ("Pi-hole admin", 8080, "tcp", "pihole", "Pi-hole admin"),
    ("webmin", 10000, "tcp", "webmin", "webmin"),
    ("Local SSH-server", 22, "tcp", "ssh", "SSH"),
    ("Portmapper", 111, "tcp", "rpcbind", "Portmapper"),
    ("named", 53, "udp", "dns", "named"),
    ("node_exporter", 9100, "tcp", "node-exporter", "node_exporter"),
    ("Asterisk RTP", 15000, "udp", "rtp", "Asterisk RTP"),
])
def test_comment_names_a_registered_service(registry, comment, port, transport, name, text):
    found = identify(registry, port, transport, comment=comment)
    assert (found.entry.name, found.name, found.source) == (name, text, "comment")


def test_names_match_whole_words_only(registry):
    # "mongo" inside "mongoose", "rdp" inside "rdpclip", "vnc" inside "vncserverx" name nothing
    for comment, port in [("mongoose app", 3000), ("rdpclip", 13389), ("vncserverx", 15900)]:
        found = identify(registry, port, "tcp", comment=comment)
        assert found.entry is None or found.entry is found.port_entry, comment


def test_longer_mention_of_another_entry_wins(registry):
    # "http" is inside "http-alt": the comment names http-alt only
    found = identify(registry, 8080, "tcp", comment="http-alt")
    assert found.entry.name == "http-alt" and found.confirms_port


def test_family_member_on_its_own_port(registry):
    # "clickhouse" names the native entry, but 8123 is ClickHouse's HTTP port
    found = identify(registry, 8123, "tcp", comment="ClickHouse")
    assert (found.entry.name, found.name) == ("clickhouse-http", "ClickHouse")
    found = identify(registry, 2222, "tcp", comment="ssh for git")
    assert found.entry.name == "ssh-alt"
    found = identify(registry, 9030, "tcp", comment="tor relay")
    assert (found.entry.name, found.name) == ("tor-dirport", "tor relay")
    found = identify(registry, 443, "tcp", comment="nginx")
    assert (found.entry.name, found.entry.severity) == ("https", None)  # nginx serves HTTPS too: still quiet
    found = identify(registry, 8472, "udp", comment="Other sites VXLAN-tunnels")
    assert (found.entry.name, found.name) == ("flannel-vxlan", "VXLAN")


def test_comment_naming_the_ports_own_service_confirms_it(registry):
    found = identify(registry, 23, "tcp", comment="telnet")
    assert found.entry.name == "telnet" and found.source == "comment" and found.confirms_port


def test_several_names_the_one_on_this_port_wins(registry):
    assert identify(registry, 443, "tcp", comment="Accept HTTP, HTTPS").entry.name == "https"
    assert identify(registry, 80, "tcp", comment="Accept HTTP, HTTPS").entry.name == "http"


def test_name_on_another_transport_prefers_an_entry_of_this_transport(registry):
    found = identify(registry, 5000, "udp", comment="syslog")
    assert found.entry.name == "syslog" and "udp" in found.entry.transports


# --- images -----------------------------------------------------------------------------------


@pytest.mark.parametrize("image,port,name", [
    ("postgres", 5432, "postgresql"),
    ("docker.io/library/postgres:16-alpine", 5432, "postgresql"),
    ("postgres@sha256:" + "a" * 64, 5432, "postgresql"),
    ("bitnami/postgresql:15", 5432, "postgresql"),
    ("mcr.microsoft.com/mssql/server:2022-latest", 1433, "mssql"),
    ("docker.elastic.co/elasticsearch/elasticsearch:8.13.0", 9200, "elasticsearch"),
    ("docker.elastic.co/elasticsearch/elasticsearch:8.13.0", 9300, "elasticsearch-transport"),
    ("elasticsearch:7.17.0", 9201, "elasticsearch"),
    ("redis:7", 6380, "redis"),
    ("mongo:7", 27017, "mongodb"),
    ("mysql:8", 33060, "mysqlx"),
    ("mariadb:11", 3307, "mysql"),
    ("memcached", 11211, "memcached"),
    ("rabbitmq:3-management", 15672, "rabbitmq-mgmt"),
    ("rabbitmq:3-management", 5672, "amqp"),
    ("clickhouse/clickhouse-server", 8123, "clickhouse-http"),
    ("grafana/grafana:10.4.0", 3000, "grafana"),
    ("prom/prometheus", 9090, "prometheus"),
    ("portainer/portainer-ce:latest", 9443, "portainer"),
    ("portainer/portainer-ce:latest", 9000, "portainer-http"),
    ("minio/minio", 9000, "minio"),
    ("quay.io/minio/minio", 9001, "minio-console"),
    ("ghcr.io/home-assistant/home-assistant:stable", 8123, "home-assistant"),
    ("nginx", 443, "https"),
    ("lscr.io/linuxserver/unifi-network-application", 8443, "unifi"),
])
def test_image_names_the_service(registry, image, port, name):
    found = identify(registry, port, "tcp", image=image)
    assert (found.entry.name, found.source, found.evidence) == (name, "image", image)


def test_unlisted_port_of_a_single_kind_image_is_still_its_service(registry):
    assert identify(registry, 5433, "tcp", image="postgres:16").entry.name == "postgresql"
    assert identify(registry, 8081, "tcp", image="nginx").entry.name == "http"
    assert identify(registry, 9002, "tcp", image="minio/minio").entry.name == "minio"  # all file-sharing


def test_lookalike_image_only_confirms_its_namesakes_ports(registry):
    assert identify(registry, 5432, "tcp", image="myorg/postgres:16").entry.name == "postgresql"
    found = identify(registry, 25, "tcp", image="ghcr.io/mailu/nginx:2024.06")  # a mail proxy, not HTTP
    assert (found.entry.name, found.source) == ("smtp", "port")
    assert identify(registry, 80, "tcp", image="ghcr.io/mailu/nginx:2024.06").source == "image"


def test_unlisted_port_of_a_mixed_image_says_nothing(registry):
    # Pi-hole is DNS and a web admin: its 67/udp is DHCP, by the port
    found = identify(registry, 67, "udp", image="pihole/pihole:latest")
    assert (found.entry.name, found.source) == ("dhcp", "port")
    assert identify(registry, 3000, "tcp", image="adguard/adguardhome").entry.name == "adguard-home"
    found = identify(registry, 6789, "tcp", image="lscr.io/linuxserver/unifi-network-application:8")
    assert (found.entry.name, found.source) == ("ceph-mon", "port")
    assert identify(registry, 8080, "tcp", image="jacobalberty/unifi").entry.name == "unifi-inform"


def test_image_per_transport(registry):
    assert identify(registry, 53, "udp", image="pihole/pihole:latest").entry.name == "dns"
    assert identify(registry, 80, "tcp", image="pihole/pihole:latest").entry.name == "pihole"


def test_unknown_image_leaves_the_comment_and_the_port(registry):
    found = identify(registry, 9000, "tcp", image="ghcr.io/acme/backend:1.2")
    assert (found.entry.name, found.source) == ("clickhouse-native", "port")
    found = identify(registry, 9001, "tcp", image="acme/relay", comment="tor ORPort")
    assert (found.entry.name, found.source) == ("tor-orport", "comment")


def test_image_beats_the_comment(registry):
    found = identify(registry, 5432, "tcp", image="postgres:16", comment="tor ORPort")
    assert found.entry.name == "postgresql" and found.source == "image"


def test_https_image_stays_quiet(registry):
    assert identify(registry, 443, "tcp", image="caddy:2").entry.severity is None


@pytest.mark.parametrize("image,normal", [
    ("postgres", "postgres"), ("Postgres:16", "postgres"), ("docker.io/library/postgres:16", "postgres"),
    ("localhost:5000/team/app:1", "team/app"), ("registry.example.com:5000/team/app@sha256:00", "team/app"),
    ("library/redis", "redis"), ("mcr.microsoft.com/mssql/server:2022-latest", "mssql/server"),
])
def test_normalize_image(image, normal):
    assert normalize_image(image) == normal


# --- ranges -----------------------------------------------------------------------------------


def test_range_with_purpose_and_notable_services(registry):
    found = identify_range(registry, ((10000, 20000),), "udp", comment="Asterisk RTP")
    assert found.size == 10001 and found.ranges == ((10000, 20000),) and found.transport == "udp"
    assert (found.purpose.entry.name, found.purpose.name) == ("rtp", "Asterisk RTP")
    assert [e.name for e, _ in found.notable][:2] == ["memcached", "dnp3"]


def test_range_ranking_puts_trojans_last():
    found = identify_range(small_registry(), ((1, 65535),), "tcp")
    assert [e.name for e, _ in found.notable] == ["memcached", "clickhouse-native", "supervisord", "dnp3", "netbus"]
    assert found.includes_text(limit=2) == "memcached 11211, clickhouse-native 9000 and 3 more"
    assert found.includes_text() == ("memcached 11211, clickhouse-native 9000, supervisord 9001, dnp3 20000 "
                                     "and netbus 12345")
    assert found.purpose is None


def test_range_includes_text_short_lists():
    found = identify_range(small_registry(), ((9000, 9000),), "tcp")
    assert found.includes_text() == "clickhouse-native 9000"
    assert identify_range(small_registry(), ((40000, 40010),), "tcp").includes_text() == ""


def test_passive_ftp_range(registry):
    found = identify_range(registry, ((30000, 31000),), "tcp", comment="vsftpd passive ports")
    assert found.purpose.entry.name in ("ftp-passive", "ftp")
    found = identify_range(registry, ((30000, 31000),), "tcp", comment="passive FTP")
    assert (found.purpose.entry.name, found.purpose.phrase) == ("ftp-passive", "passive FTP (per the rule's comment)")


def test_range_comment_naming_an_unregistered_service():
    found = identify_range(small_registry(), ((25565, 25575),), "tcp", comment="minecraft worlds")
    assert (found.purpose.entry, found.purpose.name, found.size) == (None, "minecraft worlds", 11)


def test_rank_key_orders_categories(registry):
    names = sorted(["netbus", "postgresql", "rdp", "smb", "http"], key=lambda n: registry.by_name(n).rank_key)
    assert names == ["postgresql", "rdp", "smb", "http", "netbus"]


# --- the registry's new fields ----------------------------------------------------------------


def test_evidence_only_entries_are_not_found_by_port(registry):
    assert registry.lookup(9001, "tcp").name == "supervisord"
    assert registry.lookup(8443, "tcp").name == "https-alt"
    assert "tor-orport" not in [e.name for e, _ in registry.overlapping(((9001, 9001),), "tcp")]
    assert registry.by_name("tor-orport").evidence_only and registry.by_name("orport").name == "tor-orport"


def test_aliases_resolve_port_queries(registry):
    assert registry.resolve_query("postgres") == [(5432, "tcp")]


def test_additions_do_not_remove_evidence_only_entries(registry):
    extra = entry_from_dict({"name": "inhouse", "ports": "9001", "risk": "low"})
    changed = registry.with_additions([extra])
    assert changed.lookup(9001, "tcp").name == "inhouse" and changed.by_name("tor-orport") is not None


@pytest.mark.parametrize("bad,message", [
    ({"aliases": "postgres"}, "aliases must be a list"),
    ({"aliases": [""]}, "aliases must be a list"),
    ({"images": [3]}, "images must be a list"),
    ({"title": ""}, "title must be"),
    ({"evidence_only": "yes"}, "evidence_only must be"),
])
def test_loader_refuses_bad_optional_fields(bad, message):
    with pytest.raises(RegistryError, match=message):
        entry_from_dict({"name": "x", "ports": "1", "risk": "low", **bad})


def test_loader_normalises_aliases_and_images():
    entry = entry_from_dict({"name": "x", "ports": "1", "risk": "low", "aliases": ["PgSQL"],
                             "images": ["Docker.io/Library/Postgres:16"]})
    assert entry.aliases == ("pgsql",) and entry.images == ("postgres",) and entry.display_name == "x"


def test_identity_is_frozen(registry):
    found = identify(registry, 23, "tcp")
    assert isinstance(found, Identity)
    with pytest.raises(AttributeError):
        found.name = "x"


# --- a port number several services share (9001: supervisord, Tor ORPort, MinIO console) -----


def test_9001_by_number_alone_is_hedged_and_capped_at_medium():
    from linter.findings import Severity
    from linter.service_identity import hedge

    registry = default_registry()
    supervisord = registry.lookup(9001, "tcp")
    found = hedge(registry, supervisord, ((9001, 9001),), "tcp")
    assert [e.name for e in found.others] == ["tor-orport", "minio-console"]
    assert found.cap is Severity.MEDIUM
    assert found.phrase("9001/tcp", "supervisord") == \
        "port 9001/tcp (often supervisord; also Tor ORPort, MinIO console)"


def test_a_port_whose_other_services_are_no_less_risky_is_not_hedged():
    from linter.service_identity import hedge

    registry = default_registry()
    assert hedge(registry, registry.lookup(5432, "tcp"), ((5432, 5432),), "tcp") is None
    # passive FTP's 1024-65535 is a range, not another service of port 3306
    assert hedge(registry, registry.lookup(3306, "tcp"), ((3306, 3306),), "tcp") is None


def test_a_relay_rules_9001_without_a_comment_names_no_supervisord_as_known():
    from linter.checks import Settings
    from linter.frontends.iptables.save import parse
    from linter.pipeline import run_checks
    from linter.source import SourceFile

    text = ("*filter\n:INPUT DROP [0:0]\n## allow Tor ORPort, DirPort\n-A INPUT -p tcp --dport 9001 -j ACCEPT\n"
            "-A INPUT -p tcp --dport 9030 -j ACCEPT\nCOMMIT\n")
    found = [(f.line, f.code, str(f.severity), f.message)
             for f in run_checks(parse(SourceFile("rules.v4", text)).document, Settings())]
    assert found == [(4, "PL101", "medium", "port 9001/tcp (often supervisord; also Tor ORPort, MinIO console) "
                                            "is reachable from the internet; supervisord would be unencrypted")]
    commented = text.replace("--dport 9001 -j", '--dport 9001 -m comment --comment "tor ORPort" -j')
    assert [f.code for f in run_checks(parse(SourceFile("rules.v4", commented)).document, Settings())] == []
