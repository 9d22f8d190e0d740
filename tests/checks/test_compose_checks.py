"""Compose checks, each firing and quiet, pinned by code, line and severity."""

import pytest

from linter.checks import Settings
from linter.findings import Severity
from linter.frontends import FrontEndOptions
from linter.pipeline import lint_paths

COMPOSE_CODES = {"PL101", "PL201", "PL210", "PL211", "PL212", "PL310", "PL411", "PL412", "PL413"}
PUBLISHED = {"PL101", "PL201", "PL210"}


def lint(tmp_path, text, name="compose.yaml", settings=None):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = lint_paths([str(path)], settings or Settings(), options=FrontEndOptions(environ={}))
    return result.findings


def found(tmp_path, text, codes=COMPOSE_CODES, **kwargs):
    return [(f.code, f.line, str(f.severity)) for f in lint(tmp_path, text, **kwargs) if f.code in codes]


# --- PL101 / PL201 / PL210: published on all interfaces -----------------------------------------


def test_published_services_get_the_firewall_codes(tmp_path):
    text = """\
services:
  db:
    ports:
      - "5432:5432"
      - "16379:6379"
      - "2375:2375"
      - "8080:80"
      - "8443:443"
      - "3999:3999"
      - "0.0.0.0:3306:3306"
      - "[::]:27017:27017"
      - "::ffff:0.0.0.0:9200:9200"
      - "23:23"
"""
    assert found(tmp_path, text, PUBLISHED) == [
        ("PL201", 4, "high"),      # postgresql
        ("PL201", 5, "critical"),  # redis behind host port 16379
        ("PL201", 6, "critical"),  # the Docker API
        ("PL101", 7, "info"),      # plain HTTP: a note
        ("PL210", 9, "low"),       # unknown service
        ("PL201", 10, "high"),     # mysql on 0.0.0.0
        ("PL201", 11, "high"),     # mongodb on [::]
        ("PL201", 12, "critical"),  # elasticsearch on ::ffff:0.0.0.0
        ("PL101", 13, "critical"),  # telnet
    ]  # 8443:443 (HTTPS) is quiet


def test_messages_say_service_host_port_and_where(tmp_path):
    [pg] = lint(tmp_path, 'services:\n  db:\n    ports: ["5432:5432"]\n')
    assert pg.message == ("postgresql (container port 5432/tcp) of service db is published on all interfaces as "
                          "host port 5432; it is also unencrypted")
    assert (pg.code, pg.line, pg.column) == ("PL201", 3, 13)
    assert pg.ports == ((5432, 5432),) and pg.proto == "tcp"
    [telnet] = lint(tmp_path, 'services:\n  tn:\n    ports: ["2323:23"]\n')
    assert telnet.message == ("telnet (container port 23/tcp) of service tn is a plaintext protocol published on all "
                              "interfaces as host port 2323")
    assert telnet.hint == "Use ssh (22/tcp), or bind it to 127.0.0.1 or a private address"
    [unknown] = lint(tmp_path, 'services:\n  app:\n    ports: ["3999:3999"]\n')
    assert unknown.message == ("Container port 3999/tcp (unknown service) of service app is published on all "
                               "interfaces as host port 3999")


def test_image_names_the_service(tmp_path):
    text = """\
services:
  db:
    image: postgres:16
    ports: ["15432:5432", "16000:16000"]
  web:
    image: nginx:1.27
    ports: ["9000:9000", "8443:443"]
  store:
    image: quay.io/minio/minio:latest
    ports: ["9000:9000"]
  app:
    image: ghcr.io/acme/backend:1
    ports: ["19000:9000"]
"""
    findings = [f for f in lint(tmp_path, text) if f.code in PUBLISHED]
    assert [(f.code, f.line, str(f.severity)) for f in findings] == [
        ("PL201", 4, "high"), ("PL201", 4, "high"),  # PostgreSQL, on whichever container port
        ("PL101", 7, "info"),                        # nginx serves HTTP on 9000, not ClickHouse; 443 is quiet
        ("PL201", 10, "high"),                       # MinIO
        ("PL201", 13, "high"),                       # an unknown image: the port's clickhouse-native
    ]
    assert findings[0].message == ("PostgreSQL (image postgres:16, container port 5432/tcp) of service db is "
                                   "published on all interfaces as host port 15432; it is also unencrypted")
    assert findings[2].message.startswith("HTTP (image nginx:1.27, container port 9000/tcp) of service web is a "
                                          "plaintext protocol")
    assert findings[3].message.startswith("MinIO (image quay.io/minio/minio:latest, container port 9000/tcp)")
    assert findings[4].message.startswith("clickhouse-native (container port 9000/tcp) of service app")


def test_container_port_ranges(tmp_path):
    text = """\
services:
  db:
    image: postgres:16
    ports: ["15432-15433:5432-5433"]
  mixed:
    ports: ["6378-6380:6378-6380"]
  dns:
    image: pihole/pihole
    ports: ["66-68:66-68/udp"]
"""
    findings = [f for f in lint(tmp_path, text) if f.code in PUBLISHED]
    assert [(f.code, f.line, str(f.severity)) for f in findings] == [
        ("PL201", 4, "high"), ("PL201", 6, "critical"), ("PL201", 9, "medium")]
    assert findings[0].message.startswith("PostgreSQL (image postgres:16, container port 5432-5433/tcp)")
    assert findings[1].message.startswith("redis (container port 6379/tcp)")  # the worst inside the range
    assert findings[2].message.startswith("dhcp (container port 67/udp)")  # the image says nothing of 66


SAME_EXPOSURE = [
    (23, "PL101", "critical"),
    (5432, "PL201", "high"),
]


@pytest.mark.parametrize("port,code,severity", SAME_EXPOSURE)
def test_same_exposure_same_code_in_every_format(tmp_path, port, code, severity):
    """Telnet or PostgreSQL published by compose, opened by iptables or by nft: one code, one severity."""
    compose = tmp_path / "compose.yaml"
    compose.write_text(f'services:\n  s:\n    ports: ["{port}:{port}"]\n')
    save = tmp_path / "rules.v4"
    save.write_text(f"*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport {port} -j ACCEPT\nCOMMIT\n")
    nft = tmp_path / "ruleset.nft"
    nft.write_text("table inet f {\n  chain input {\n    type filter hook input priority 0; policy drop;\n"
                   f"    tcp dport {port} accept\n  }}\n}}\n")
    for path in (compose, save, nft):
        result = lint_paths([str(path)], Settings(), options=FrontEndOptions(environ={}))
        assert [(f.code, str(f.severity)) for f in result.findings if f.code in PUBLISHED] == [(code, severity)], path


def test_pl210_quiet_for_loopback_private_and_unpublished(tmp_path):
    text = """\
services:
  db:
    ports:
      - "127.0.0.1:5432:5432"
      - "[::1]:5433:5432"
      - "10.0.0.5:5434:5432"
      - target: 5432
        published: 5435
        host_ip: 192.168.1.10
    expose:
      - "5432"
"""
    assert found(tmp_path, text) == []


def test_public_address_is_one_step_lower(tmp_path):
    text = 'services:\n  db:\n    ports: ["93.184.216.34:5432:5432", "93.184.216.34:3999:3999"]\n'
    assert found(tmp_path, text, PUBLISHED) == [("PL201", 3, "medium"), ("PL210", 3, "info")]
    [pg, _] = [f for f in lint(tmp_path, text) if f.code in PUBLISHED]
    assert "is published on the public address 93.184.216.34 as host port 5432" in pg.message


# --- PL211 -------------------------------------------------------------------------------------


def test_pl211_container_only_ports(tmp_path):
    text = """\
services:
  app:
    ports:
      - "3999"
      - "5432"
      - "127.0.0.1::3001"
      - target: 3998
"""
    assert found(tmp_path, text) == [("PL211", 4, "low"), ("PL211", 5, "high"), ("PL211", 7, "low")]
    [first] = [f for f in lint(tmp_path, text) if f.code == "PL211" and f.line == 4]
    assert "32768-60999" in first.message and "all interfaces" in first.message


# --- PL310 -------------------------------------------------------------------------------------


def test_pl310_host_port_in_ephemeral_range(tmp_path):
    text = """\
services:
  vpn:
    ports:
      - "127.0.0.1:51820:51820/udp"
      - "127.0.0.1:30000-32768:30000-32768"
      - "127.0.0.1:18080:8080"
      - "127.0.0.1::8081"
"""
    findings = [f for f in lint(tmp_path, text) if f.code == "PL310"]
    assert [(f.line, f.ports) for f in findings] == [(4, ((51820, 51820),)), (5, ((32768, 32768),))]


def test_pl310_uses_configured_ranges(tmp_path):
    settings = Settings(ephemeral_ranges=(("IANA", 49152, 65535),))
    text = 'services:\n  a:\n    ports: ["127.0.0.1:40000:80", "127.0.0.1:50000:80"]\n'
    assert found(tmp_path, text, {"PL310"}, settings=settings) == [("PL310", 3, "low")]
    assert "49152-65535 (IANA)" in [f for f in lint(tmp_path, text, settings=settings) if f.code == "PL310"][0].message


# --- PL411 -------------------------------------------------------------------------------------


def test_pl411_duplicates_and_overlaps(tmp_path):
    text = """\
services:
  a:
    ports:
      - "127.0.0.1:8080:80"
      - "127.0.0.1:9000-9010:9000-9010"
  b:
    ports:
      - "8080:8080"
      - "127.0.0.1:9005:9005"
      - "127.0.0.1:7000:7000/udp"
      - "127.0.0.1:7000:7000/tcp"
  c:
    ports:
      - "10.0.0.1:8081:80"
      - "10.0.0.2:8081:80"
      - "127.0.0.1:7000:7000/udp"
"""
    findings = [f for f in lint(tmp_path, text) if f.code == "PL411"]
    assert [(f.line, f.related[0][1]) for f in findings] == [(8, 4), (9, 5), (16, 10)]
    assert "service a" in findings[0].message


def test_pl411_quiet_across_families_and_exclusive_profiles(tmp_path):
    text = """\
services:
  a:
    ports: ["0.0.0.0:8080:80"]
  b:
    ports: ["[::]:8080:80"]
  dev:
    profiles: [dev]
    ports: ["127.0.0.1:9000:80"]
  prod:
    profiles: [prod]
    ports: ["127.0.0.1:9000:80"]
"""
    assert found(tmp_path, text, {"PL411"}) == []


def test_pl411_a_host_range_for_one_container_port_picks_a_free_port(tmp_path):
    text = """\
services:
  a:
    ports:
      - "127.0.0.1:8000-8002:80"
      - "127.0.0.1:8000:8000"
  b:
    ports:
      - "127.0.0.1:8001:8001"
      - "127.0.0.1:8000-8002:81"
  c:
    ports:
      - "127.0.0.1:8000-8002:82"
      - "127.0.0.1:8002:8002"
"""
    findings = [f for f in lint(tmp_path, text) if f.code == "PL411"]
    # lines 5, 8 and 13 hold 8000, 8001 and 8002 whatever the start order: no port is left for the three
    # ranges (a range does not clash with a fixed port while it has another one free)
    assert [(f.line, f.ports) for f in findings] == [(4, ((8000, 8002),)), (9, ((8000, 8002),)),
                                                     (12, ((8000, 8002),))]
    assert findings[0].message == ("Host ports 8000-8002/tcp of service a are all taken by services b, c and other "
                                   "entries of the same service: Docker cannot pick a free one, and the service "
                                   "fails to start")
    assert [r[1] for r in findings[0].related] == [5, 8, 13]


def test_pl411_ranges_with_room_do_not_clash(tmp_path):
    text = """\
services:
  a:
    ports:
      - "127.0.0.1:8000-8010:80"
      - "127.0.0.1:8000:8000"
  b:
    ports:
      - "127.0.0.1:8000-8010:80"
      - "127.0.0.1:8005-8006:8005-8006"
"""
    assert found(tmp_path, text, {"PL411"}) == []


def test_pl411_ranges_exhausted_by_each_other(tmp_path):
    text = """\
services:
  a:
    ports: ["127.0.0.1:8000-8001:80", "127.0.0.1:8000-8001:81"]
  b:
    ports: ["127.0.0.1:8000-8001:80"]
"""
    findings = [f for f in lint(tmp_path, text) if f.code == "PL411"]
    assert [(f.line, f.column) for f in findings] == [(5, 13)]
    assert "taken by service a:" in findings[0].message


def test_pl411_same_service_twice(tmp_path):
    text = 'services:\n  a:\n    ports:\n      - "127.0.0.1:8080:80"\n      - "127.0.0.1:8080:81"\n'
    [finding] = [f for f in lint(tmp_path, text) if f.code == "PL411"]
    assert finding.line == 5 and "another entry of the same service" in finding.message


# --- PL412 -------------------------------------------------------------------------------------


def test_pl412_ports_with_host_network(tmp_path):
    text = """\
services:
  a:
    network_mode: host
    ports:
      - "127.0.0.1:8080:80"
    expose: ["80"]
  b:
    network_mode: "service:a"
    ports: ["127.0.0.1:9000:9000"]
  c:
    network_mode: bridge
    ports: ["127.0.0.1:9001:9001"]
"""
    assert found(tmp_path, text, COMPOSE_CODES - {"PL212"}) == [("PL412", 5, "medium"), ("PL412", 9, "medium")]


def test_host_network_ports_are_not_judged_as_published(tmp_path):
    text = 'services:\n  a:\n    network_mode: host\n    ports: ["5432:5432"]\n'
    assert found(tmp_path, text) == [("PL212", 3, "low"), ("PL412", 4, "medium")]


# --- PL212 -------------------------------------------------------------------------------------


def test_pl212_host_network_names_the_images_usual_ports(tmp_path):
    text = """\
services:
  db:
    image: postgres:16
    network_mode: host
  web:
    image: nginx
    network_mode: "HOST"
  app:
    image: ghcr.io/acme/app:2
    network_mode: host
  es:
    image: docker.elastic.co/elasticsearch/elasticsearch:8.13.0
    network_mode: host
  bridged:
    image: postgres:16
    network_mode: bridge
  shared:
    image: redis
    network_mode: "service:db"
"""
    findings = [f for f in lint(tmp_path, text) if f.code == "PL212"]
    assert [(f.line, f.column, str(f.severity)) for f in findings] == [
        (4, 19, "high"), (7, 19, "info"), (10, 19, "low"), (13, 19, "critical")]
    assert findings[0].message == (
        "Service db uses network_mode: host: every port it listens on is open on the host's interfaces, with only "
        "the host firewall in front; image postgres:16 usually listens on 5432/tcp (PostgreSQL)")
    assert findings[1].message.endswith("image nginx usually listens on 80/tcp (HTTP), 443/tcp, 443/udp (HTTPS)")
    assert findings[2].message.endswith("with only the host firewall in front")
    assert "9200/tcp (Elasticsearch), 9300/tcp (Elasticsearch transport)" in findings[3].message


def test_pl212_network_mode_from_an_override_points_at_the_override(tmp_path):
    (tmp_path / "compose.yaml").write_text('services:\n  db:\n    image: redis:7\n')
    (tmp_path / "compose.override.yaml").write_text('services:\n  db:\n    network_mode: host\n')
    result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    [finding] = [f for f in result.findings if f.code == "PL212"]
    assert finding.path.endswith("compose.override.yaml") and (finding.line, finding.column) == (3, 19)
    assert str(finding.severity) == "critical" and "6379/tcp (Redis)" in finding.message


# --- PL413 -------------------------------------------------------------------------------------


def test_pl413_host_ip_not_an_address(tmp_path):
    text = """\
services:
  a:
    ports:
      - "localhost:8080:80"
      - "127.0.1:8081:80"
      - target: 80
        published: 8082
        host_ip: my-host.example
      - "127.0.0.1:8083:80"
"""
    findings = [f for f in lint(tmp_path, text) if f.code in COMPOSE_CODES]
    assert [(f.code, f.line) for f in findings] == [("PL413", 4), ("PL413", 5), ("PL413", 6)]
    assert "a host name" in findings[0].message and "not an IP address" in findings[1].message


def test_pl413_empty_host_ip_is_an_error_not_all_interfaces(tmp_path):
    text = """\
services:
  a:
    ports:
      - target: 5432
        published: 5432
        host_ip: ""
      - target: 80
        published: 8080
        host_ip: "${BIND_ADDRESS}"
      - ":8081:80"
"""
    findings = [f for f in lint(tmp_path, text) if f.code in COMPOSE_CODES]
    # the empty ones are refused (no PL201 for them); the short syntax's empty address is every interface
    assert [(f.code, f.line) for f in findings] == [("PL413", 4), ("PL413", 7), ("PL101", 10)]
    assert findings[0].message == "Host IP '' of service a is empty, not an IP address: Compose refuses it"
    assert findings[0].hint.startswith("Remove host_ip to publish on every interface")


# --- the pipeline ------------------------------------------------------------------------------


def test_override_file_beside_its_base_is_merged(tmp_path):
    (tmp_path / "docker-compose.yml").write_text('services:\n  web:\n    ports: ["127.0.0.1:8080:80"]\n')
    (tmp_path / "docker-compose.override.yml").write_text('services:\n  web:\n    ports: ["5432:5432"]\n')
    result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    by_name = {r.path.rsplit("/", 1)[1]: r for r in result.files}
    assert by_name["docker-compose.override.yml"].merged_into.endswith("docker-compose.yml")
    project = by_name["docker-compose.yml"].document
    assert [p.published for p in project.services[0].publications] == [(8080, 8080), (5432, 5432)]
    [finding] = [f for f in result.findings if f.code == "PL201"]
    assert finding.path.endswith("docker-compose.override.yml") and finding.line == 3
    assert finding.source_line == '    ports: ["5432:5432"]'


@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                                  "web.override.yml"])
def test_compose_names_are_detected(tmp_path, name):
    assert found(tmp_path, 'services:\n  a:\n    ports: ["5432:5432"]\n', name=name) == [("PL201", 3, "high")]


def test_check_cli_env_file(tmp_path):
    from click.testing import CliRunner

    from linter.cli import main

    (tmp_path / "compose.yaml").write_text('services:\n  a:\n    ports: ["${BIND}:5432:5432"]\n')
    (tmp_path / "local.env").write_text("BIND=127.0.0.1\n")
    runner = CliRunner()
    quiet = runner.invoke(main, ["check", str(tmp_path / "compose.yaml"), "--env-file", str(tmp_path / "local.env"),
                                 "--format", "json"], env={"BIND": None})
    assert quiet.exit_code == 0, quiet.output
    loud = runner.invoke(main, ["check", str(tmp_path / "compose.yaml"), "--format", "json"], env={"BIND": None})
    assert loud.exit_code == 1
    assert '"PL041"' in loud.output


def test_severity_order_sanity():
    assert Severity.CRITICAL > Severity.HIGH > Severity.LOW > Severity.INFO
