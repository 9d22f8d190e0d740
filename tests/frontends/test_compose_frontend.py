"""The compose front end: model objects, positions, interpolation, .env, merging, extends, bad input."""

import time

import pytest

from linter.frontends import FrontEndOptions
from linter.frontends.compose.project import parse
from linter.model import ComposeProject, Family, HostAddress, Publication, Service, Span
from linter.source import read_source


def read(tmp_path, text, name="compose.yaml", environ=None, **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse(read_source(str(path)), FrontEndOptions(environ={} if environ is None else environ, **options))


def codes(result):
    return [(d.code, d.span.line, d.span.column) for d in result.diagnostics]


REPRESENTATIVE = """\
services:
  web:
    image: nginx:1.27
    ports:
      - "127.0.0.1:8080:80"
      - target: 443
        published: "8443"
        protocol: tcp
        mode: host
        name: https
        app_protocol: https
      - 3000
    expose:
      - "9000/udp"
  db:
    image: postgres:16
    profiles: ["debug"]
    network_mode: "service:web"
"""


def test_representative_file_exact_model(tmp_path):
    result = read(tmp_path, REPRESENTATIVE)
    path = str(tmp_path / "compose.yaml")
    assert result.diagnostics == []
    assert result.document == ComposeProject(
        path=path,
        services=(
            Service(
                name="web",
                publications=(
                    Publication(target=(80, 80), published=(8080, 8080), host_ip="127.0.0.1", protocol="tcp",
                                span=Span(path, 5, 9, 5, 28), text="127.0.0.1:8080:80",
                                host=HostAddress("127.0.0.1", "loopback", Family.IPV4, 0x7F000001)),
                    Publication(target=(443, 443), published=(8443, 8443), host_ip=None, protocol="tcp",
                                span=Span(path, 6, 9, 12, 7), mode="host",
                                text="target: 443, published: 8443, protocol: tcp, mode: host, name: https, "
                                     "app_protocol: https",
                                name="https", app_protocol="https"),
                    Publication(target=(3000, 3000), published=None, host_ip=None, protocol="tcp",
                                span=Span(path, 12, 9, 12, 13), text="3000"),
                    Publication(target=(9000, 9000), published=None, host_ip=None, protocol="udp",
                                span=Span(path, 14, 9, 14, 19), exposed_only=True, text="9000/udp"),
                ),
                span=Span(path, 2, 3, 2, 6),
                image="nginx:1.27",
            ),
            Service(name="db", publications=(), span=Span(path, 15, 3, 15, 5), network_mode="service:web",
                    profiles=("debug",), image="postgres:16", network_mode_span=Span(path, 18, 19, 18, 32)),
        ),
        files=(path,),
    )


def test_every_short_form_in_one_file(tmp_path):
    result = read(tmp_path, """\
services:
  s:
    ports:
      - "3000"
      - "3000-3005"
      - "8000:8000"
      - "9090-9091:8080-8081"
      - "49100:22"
      - "8000-9000:80"
      - "127.0.0.1:8001:8001"
      - "127.0.0.1:5000-5010:5000-5010"
      - "::1:6000:6000"
      - "[::1]:6001:6001"
      - "6060:6060/udp"
      - "6061:6061/TCP"
      - "6062:6062/sctp"
      - "127.0.0.1::3001"
      - 8125
""")
    assert result.diagnostics == []
    got = [(p.host_ip, p.published, p.target, p.protocol, p.span.line)
           for p in result.document.services[0].publications]
    assert got == [
        (None, None, (3000, 3000), "tcp", 4),
        (None, None, (3000, 3005), "tcp", 5),
        (None, (8000, 8000), (8000, 8000), "tcp", 6),
        (None, (9090, 9091), (8080, 8081), "tcp", 7),
        (None, (49100, 49100), (22, 22), "tcp", 8),
        (None, (8000, 9000), (80, 80), "tcp", 9),
        ("127.0.0.1", (8001, 8001), (8001, 8001), "tcp", 10),
        ("127.0.0.1", (5000, 5010), (5000, 5010), "tcp", 11),
        ("::1", (6000, 6000), (6000, 6000), "tcp", 12),
        ("::1", (6001, 6001), (6001, 6001), "tcp", 13),
        (None, (6060, 6060), (6060, 6060), "udp", 14),
        (None, (6061, 6061), (6061, 6061), "tcp", 15),
        (None, (6062, 6062), (6062, 6062), "sctp", 16),
        ("127.0.0.1", None, (3001, 3001), "tcp", 17),
        (None, None, (8125, 8125), "tcp", 18),
    ]


def test_base60_trap_is_read_as_compose_does(tmp_path):
    result = read(tmp_path, "services:\n  ssh:\n    ports:\n      - 22:22\n      - 2222:22\n")
    assert codes(result) == [("PL043", 4, 9), ("PL043", 5, 9)]
    assert "1342" in result.diagnostics[0].message and "133342" in result.diagnostics[1].message
    pubs = result.document.services[0].publications
    assert [(p.published, p.target) for p in pubs] == [((22, 22), (22, 22)), ((2222, 2222), (22, 22))]


def test_quoted_mapping_has_no_note(tmp_path):
    assert read(tmp_path, 'services:\n  ssh:\n    ports: ["22:22"]\n').diagnostics == []


def test_invalid_port_entries_point_at_the_entry(tmp_path):
    result = read(tmp_path, """\
services:
  web:
    ports:
      - "8080:80"
      - "8080:http"
      - "80-81:90-92"
      - target: 80
        publish: 8080
      - [80, 81]
      - 80.5
      - true
  other:
    ports: "8080:80"
""")
    assert codes(result) == [("PL040", 5, 9), ("PL040", 6, 9), ("PL040", 7, 9), ("PL040", 9, 9),
                             ("PL040", 10, 9), ("PL040", 11, 9), ("PL040", 13, 12)]
    messages = [d.message for d in result.diagnostics]
    assert "container port 'http' is not a number" in messages[0]
    assert "differ in size" in messages[1]
    assert "unknown key 'publish'" in messages[2]
    assert "must be a list" in messages[6]
    assert [p.target for p in result.document.services[0].publications] == [(80, 80)]


def test_interpolation_environment_and_defaults(tmp_path):
    result = read(tmp_path, """\
services:
  web:
    ports:
      - "${BIND:-127.0.0.1}:${WEB_PORT:-8080}:80"
      - "$$HOME:1"
      - "${API_PORT-9000}:9000"
      - target: 5432
        published: "${DB_PORT}"
        host_ip: "${DB_HOST:-10.0.0.2}"
""", environ={"WEB_PORT": "18080", "DB_PORT": "15432", "API_PORT": ""})
    pubs = result.document.services[0].publications
    assert [(p.host_ip, p.published) for p in pubs] == [
        ("127.0.0.1", (18080, 18080)), (None, None), ("10.0.0.2", (15432, 15432))]
    # "$$HOME:1" is the literal "$HOME:1": not a port, and not a variable
    assert codes(result) == [("PL040", 5, 9)]
    assert "'$HOME:1'" in result.diagnostics[0].message


def test_unset_variable_is_pl041_naming_it(tmp_path):
    result = read(tmp_path, """\
services:
  web:
    ports:
      - "${WEB_PORT}:80"
      - "${DB_PORT:?set DB_PORT in .env}:5432"
      - "${BAD:3}:80"
""")
    assert codes(result) == [("PL041", 4, 9), ("PL041", 5, 9), ("PL040", 6, 9)]
    assert "WEB_PORT" in result.diagnostics[0].message
    assert "DB_PORT" in result.diagnostics[1].message and "set DB_PORT in .env" in result.diagnostics[1].message
    assert "invalid interpolation" in result.diagnostics[2].message
    # Compose reads the unset variable as "": ":80" publishes 80 on an ephemeral port
    pubs = result.document.services[0].publications
    assert [(p.published, p.target) for p in pubs] == [(None, (80, 80))]


def test_dotenv_beside_the_file_and_environment_precedence(tmp_path):
    (tmp_path / ".env").write_text("# ports\nexport WEB_PORT=8081\nDB_PORT='5433'\nHOST=\"127.0.0.1\" # loopback\n")
    text = 'services:\n  s:\n    ports: ["${HOST}:${WEB_PORT}:80", "${DB_PORT}:5432"]\n'
    result = read(tmp_path, text)
    assert result.diagnostics == []
    assert [(p.host_ip, p.published) for p in result.document.services[0].publications] == [
        ("127.0.0.1", (8081, 8081)), (None, (5433, 5433))]
    result = read(tmp_path, text, environ={"WEB_PORT": "9999"})
    assert result.document.services[0].publications[0].published == (9999, 9999)


def test_env_file_option_replaces_dotenv(tmp_path):
    (tmp_path / ".env").write_text("WEB_PORT=8081\n")
    (tmp_path / "prod.env").write_text("WEB_PORT=443\n")
    text = 'services:\n  s:\n    ports: ["${WEB_PORT}:80"]\n'
    result = read(tmp_path, text, env_files=(str(tmp_path / "prod.env"),))
    assert result.document.services[0].publications[0].published == (443, 443)
    missing = read(tmp_path, text, env_files=(str(tmp_path / "nope.env"),))
    assert ("PL001", 1, 1) in codes(missing)
    assert ("PL041", 3, 13) in codes(missing)


def test_invalid_yaml_is_pl010_at_the_error_mark(tmp_path):
    result = read(tmp_path, "services:\n  web:\n    image: nginx: latest\n")
    assert result.document is None
    [diag] = result.diagnostics
    assert diag.code == "PL010" and (diag.span.line, diag.span.column) == (3, 17)
    assert "mapping values are not allowed here" in diag.message
    assert diag.excerpt == "    image: nginx: latest\n                ^"


@pytest.mark.parametrize("text, message", [
    ("- web\n- db\n", "top level of a compose file must be a mapping"),
    ("services:\n  - web\n", "services must be a mapping"),
    ("services:\n  web: nginx\n", "Service 'web' must be a mapping"),
    ("web:\n  image: nginx\n", "Unknown top-level key 'web'"),
    ("", "Empty compose file"),
    ("services:\n  web:\n    image: a\n  web:\n    image: b\n", "Duplicate key 'web'"),
    ("services:\n  ? [a, b]\n  : x\n", "mapping key must be a plain value"),
])
def test_structure_errors(tmp_path, text, message):
    result = read(tmp_path, text)
    assert [d.code for d in result.diagnostics] == ["PL010"]
    assert message in result.diagnostics[0].message


def test_alias_bomb_is_refused_quickly(tmp_path):
    lines = ['x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"x-{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    lines.append("services:\n  web:\n    image: nginx\n    labels: *i\n")
    start = time.perf_counter()
    result = read(tmp_path, "\n".join(lines))
    # A guard against exponential work (a bomb runs for minutes), not a speed target: those live in benchmarks/.
    assert time.perf_counter() - start < 10.0
    assert result.document is None
    assert [d.code for d in result.diagnostics] == ["PL042"]


def test_recursive_alias_is_refused(tmp_path):
    result = read(tmp_path, "x-loop: &loop [*loop]\nservices: {}\n")
    assert [d.code for d in result.diagnostics] == ["PL042"]


def test_deep_nesting_is_refused_quickly(tmp_path):
    start = time.perf_counter()
    result = read(tmp_path, "services:\n  web:\n    labels: " + "[" * 50_000 + "]" * 50_000 + "\n")
    # A guard against exponential work (a bomb runs for minutes), not a speed target: those live in benchmarks/.
    assert time.perf_counter() - start < 10.0
    assert [d.code for d in result.diagnostics] == ["PL042"]
    assert result.document is None


def test_anchors_and_merge_keys_are_followed(tmp_path):
    result = read(tmp_path, """\
x-ports: &ports
  - "127.0.0.1:9000:9000"
x-base: &base
  image: app
  ports: *ports
services:
  one:
    <<: *base
  two:
    <<: *base
    image: other
""")
    assert result.diagnostics == []
    one, two = result.document.services
    assert one.image == "app" and two.image == "other"
    assert one.publications == two.publications
    assert one.publications[0].span.line == 2


def test_extends_same_file_and_other_file(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "base.yml").write_text(
        "services:\n  db:\n    image: postgres\n    ports: [\"5432:5432\"]\n    network_mode: bridge\n")
    result = read(tmp_path, """\
services:
  web:
    image: nginx
    ports: ["80:80"]
  web2:
    extends: web
    ports: ["81:80"]
  db:
    extends:
      file: common/base.yml
      service: db
    ports: ["127.0.0.1:5433:5432"]
""")
    assert result.diagnostics == []
    web, web2, db = result.document.services
    assert [p.published for p in web2.publications] == [(80, 80), (81, 81)]
    assert web2.image == "nginx"
    assert [(p.host_ip, p.published, p.span.path.endswith("base.yml")) for p in db.publications] == [
        (None, (5432, 5432), True), ("127.0.0.1", (5433, 5433), False)]
    assert db.network_mode == "bridge" and db.image == "postgres"
    assert str(tmp_path / "common" / "base.yml") in result.document.files


def test_extends_problems(tmp_path):
    result = read(tmp_path, """\
services:
  a:
    extends: b
  b:
    extends: a
  c:
    extends: {service: nope}
  d:
    extends: {file: missing.yml, service: x}
  e:
    extends: {file: missing.yml, service: y}
""")
    found = codes(result)
    assert ("PL010", 7, 14) in found  # no service nope
    assert ("PL010", 9, 14) in found and ("PL010", 11, 14) not in found  # missing file reported once
    assert any("extends loops" in d.message for d in result.diagnostics)
    assert len(result.document.services) == 5


def test_override_files_merge_in_order(tmp_path):
    (tmp_path / "compose.override.yaml").write_text("""\
services:
  web:
    ports:
      - "8080:80"
      - "9090:90"
  db:
    ports: !reset []
  cache:
    ports: !override
      - "127.0.0.1:6379:6379"
""")
    result = read(tmp_path, """\
services:
  web:
    ports: ["8080:80"]
  db:
    ports: ["5432:5432"]
  cache:
    ports: ["6379:6379"]
""", compose_overrides=(str(tmp_path / "compose.override.yaml"),))
    web, db, cache = result.document.services
    assert [(p.published, p.span.path.endswith("override.yaml")) for p in web.publications] == [
        ((8080, 8080), True), ((9090, 9090), True)]
    assert db.publications == ()
    assert [p.host_ip for p in cache.publications] == ["127.0.0.1"]
    assert len(result.document.files) == 2
