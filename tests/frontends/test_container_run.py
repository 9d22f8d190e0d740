"""docker run / podman run in shell scripts: publications read as compose's."""

from __future__ import annotations

import textwrap

import pytest

from linter.frontends.container_run import FORMAT
from linter.frontends.iptables.script import parse
from linter.model import ComposeProject, Publication, Ruleset, Span
from linter.source import SourceFile

PATH = "deploy.sh"


def script(text: str):
    return parse(SourceFile(PATH, textwrap.dedent(text).lstrip("\n")))


def publications(result) -> list[tuple]:
    project = result.document if isinstance(result.document, ComposeProject) else result.extra[0]
    return [(s.name, s.image, p.host_ip, p.published, p.target, p.protocol, p.exposed_only, p.span.line, p.span.column)
            for s in project.services for p in s.publications]


@pytest.mark.parametrize("command,expected", [
    ("docker run -p 5432:5432 postgres",
     [("postgres", "postgres", None, (5432, 5432), (5432, 5432), "tcp", False, 1, 15)]),
    ("docker run -d --name db -p 127.0.0.1:5432:5432 postgres:16",
     [("db", "postgres:16", "127.0.0.1", (5432, 5432), (5432, 5432), "tcp", False, 1, 28)]),
    ("docker run --publish=8080:80/udp nginx", [("nginx", "nginx", None, (8080, 8080), (80, 80), "udp", False, 1, 12)]),
    ("docker run --publish 8080:80 nginx", [("nginx", "nginx", None, (8080, 8080), (80, 80), "tcp", False, 1, 22)]),
    ("docker run -dp 8080:80 nginx", [("nginx", "nginx", None, (8080, 8080), (80, 80), "tcp", False, 1, 16)]),
    ("docker run -p8080:80 nginx", [("nginx", "nginx", None, (8080, 8080), (80, 80), "tcp", False, 1, 12)]),
    ("docker run -p [::1]:53:53/udp coredns/coredns",
     [("coredns", "coredns/coredns", "::1", (53, 53), (53, 53), "udp", False, 1, 15)]),
    ("docker run -p 3000 node", [("node", "node", None, None, (3000, 3000), "tcp", False, 1, 15)]),
    ("docker run -p 7000-7002:7000-7002 app", [("app", "app", None, (7000, 7002), (7000, 7002), "tcp", False, 1, 15)]),
    ("docker container run -e A=1 -v /d:/d -p 80:80 registry.example.com/team/web:1.2 serve -p 9",
     [("web", "registry.example.com/team/web:1.2", None, (80, 80), (80, 80), "tcp", False, 1, 41)]),
    ("sudo podman run --rm -it -p 9090:9090 --expose 9100 prom/prometheus",
     [("prometheus", "prom/prometheus", None, (9090, 9090), (9090, 9090), "tcp", False, 1, 29),
      ("prometheus", "prom/prometheus", None, None, (9100, 9100), "tcp", True, 1, 48)]),
    ("podman create -p 6379:6379 redis", [("redis", "redis", None, (6379, 6379), (6379, 6379), "tcp", False, 1, 18)]),
    ("docker -H tcp://h:2375 run -p 1:1 x", [("x", "x", None, (1, 1), (1, 1), "tcp", False, 1, 31)]),
])
def test_publication_forms(command, expected):
    result = script(command + "\n")
    assert result.diagnostics == []
    assert isinstance(result.document, ComposeProject) and result.document.format == FORMAT
    assert publications(result) == expected


def test_not_run_commands_are_ignored():
    result = script("docker ps -p 1\ndocker pull postgres\ndocker compose up -d\n")
    assert isinstance(result.document, Ruleset) and result.document.tables == ()
    assert result.extra == ()


def test_service_fields_and_span():
    result = script("X=5432\ndocker run -d \\\n  --network=host --name pg -p \"$X:5432\" postgres\n")
    service = result.document.services[0]
    assert (service.name, service.image, service.network_mode) == ("pg", "postgres", "host")
    assert service.span == Span(PATH, 2, 1, 3, 48)
    assert service.publications[0] == Publication((5432, 5432), (5432, 5432), None, "tcp", Span(PATH, 3, 31, 3, 39),
                                                  text="5432:5432")


def test_publish_all_unknown_and_invalid_values():
    result = script("""
        docker run -P nginx
        docker run --publish-all --name web myorg/web
        docker run -p "$PORT:80" nginx
        docker run -p 99999:80 nginx
        docker run -p
    """)
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("PL211", 1, 12), ("PL211", 2, 12), ("PL050", 3, 15), ("PL040", 4, 15), ("PL011", 5, 12)]
    assert "every port nginx EXPOSEs" in result.diagnostics[0].message
    assert result.diagnostics[3].message == ("Invalid -p '99999:80' of docker run: host port 99999 is out of range "
                                             "(0-65535)")
    assert [s.name for s in result.document.services] == ["nginx", "web", "nginx", "nginx"]
    assert [len(s.publications) for s in result.document.services] == [0, 0, 0, 0]


def test_script_with_a_firewall_yields_two_documents():
    result = script("iptables -P INPUT DROP\ndocker run -p 6379:6379 redis\n")
    assert isinstance(result.document, Ruleset) and result.document.format == "iptables-script"
    assert [type(d) for d in result.extra] == [ComposeProject]
    assert publications(result) == [("redis", "redis", None, (6379, 6379), (6379, 6379), "tcp", False, 2, 15)]


def test_publication_from_a_functions_argument_points_at_the_call():
    result = script("""
        run_db() {
          docker run -d --name "$2" -p "$1":5432 postgres
        }
        run_db 5432 main
        run_db 127.0.0.1:5433 replica
    """)
    assert [(s.name, p.host_ip, p.published, p.span.line, p.span.column) for s in result.document.services
            for p in s.publications] == [("main", None, (5432, 5432), 4, 1),
                                         ("replica", "127.0.0.1", (5433, 5433), 5, 1)]


def test_network_modes():
    result = script("docker run --net=container:db -p 80:80 a\ndocker run --network backend -p 81:81 b\n"
                    "docker run --network none c\n")
    assert [s.network_mode for s in result.document.services] == ["container:db", None, "none"]
