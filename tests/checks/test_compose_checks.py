"""Compose checks, each firing and quiet, pinned by code, line and severity."""

import pytest

from linter.checks import Settings
from linter.findings import Severity
from linter.frontends import FrontEndOptions
from linter.pipeline import lint_paths

COMPOSE_CODES = {"PL210", "PL211", "PL310", "PL411", "PL412", "PL413"}


def lint(tmp_path, text, name="compose.yaml", settings=None):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = lint_paths([str(path)], settings or Settings(), options=FrontEndOptions(environ={}))
    return result.findings


def found(tmp_path, text, codes=COMPOSE_CODES, **kwargs):
    return [(f.code, f.line, str(f.severity)) for f in lint(tmp_path, text, **kwargs) if f.code in codes]


# --- PL210 -------------------------------------------------------------------------------------


def test_pl210_severity_follows_the_container_port(tmp_path):
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
"""
    assert found(tmp_path, text, {"PL210"}) == [
        ("PL210", 4, "high"),      # postgresql
        ("PL210", 5, "critical"),  # redis behind host port 16379
        ("PL210", 6, "critical"),  # the Docker API
        ("PL210", 7, "info"),      # plain HTTP: a note
        ("PL210", 9, "low"),       # unknown service
        ("PL210", 10, "high"),     # mysql on 0.0.0.0
        ("PL210", 11, "high"),     # mongodb on [::]
        ("PL210", 12, "critical"),  # elasticsearch on ::ffff:0.0.0.0
    ]  # 8443:443 (HTTPS) is quiet


def test_pl210_messages_say_plaintext_and_where(tmp_path):
    [pg] = [f for f in lint(tmp_path, 'services:\n  db:\n    ports: ["5432:5432"]\n') if f.code == "PL210"]
    assert "postgresql" in pg.message and "plaintext" in pg.message and "all interfaces" in pg.message
    assert (pg.line, pg.column) == (3, 13)
    assert pg.ports == ((5432, 5432),) and pg.proto == "tcp"


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


def test_pl210_public_address_is_one_step_lower(tmp_path):
    text = 'services:\n  db:\n    ports: ["93.184.216.34:5432:5432"]\n'
    assert found(tmp_path, text, {"PL210"}) == [("PL210", 3, "medium")]


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
    assert found(tmp_path, text) == [("PL412", 5, "medium"), ("PL412", 9, "medium")]


def test_host_network_ports_are_not_judged_as_published(tmp_path):
    text = 'services:\n  a:\n    network_mode: host\n    ports: ["5432:5432"]\n'
    assert found(tmp_path, text) == [("PL412", 4, "medium")]


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


# --- the pipeline ------------------------------------------------------------------------------


def test_override_file_beside_its_base_is_merged(tmp_path):
    (tmp_path / "docker-compose.yml").write_text('services:\n  web:\n    ports: ["127.0.0.1:8080:80"]\n')
    (tmp_path / "docker-compose.override.yml").write_text('services:\n  web:\n    ports: ["5432:5432"]\n')
    result = lint_paths([str(tmp_path)], Settings(), options=FrontEndOptions(environ={}))
    by_name = {r.path.rsplit("/", 1)[1]: r for r in result.files}
    assert by_name["docker-compose.override.yml"].merged_into.endswith("docker-compose.yml")
    project = by_name["docker-compose.yml"].document
    assert [p.published for p in project.services[0].publications] == [(8080, 8080), (5432, 5432)]
    [finding] = [f for f in result.findings if f.code == "PL210"]
    assert finding.path.endswith("docker-compose.override.yml") and finding.line == 3
    assert finding.source_line == '    ports: ["5432:5432"]'


@pytest.mark.parametrize("name", ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                                  "web.override.yml"])
def test_compose_names_are_detected(tmp_path, name):
    assert found(tmp_path, 'services:\n  a:\n    ports: ["5432:5432"]\n', name=name) == [("PL210", 3, "high")]


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
