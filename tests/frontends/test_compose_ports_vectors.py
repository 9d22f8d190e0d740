"""Port entries as Compose reads them: our own vectors for the short syntax, the long
syntax and `expose`, read through the grammar (grammars/compose_ports.lark)."""

import pytest
from lark import Lark

from linter.frontends.compose.ports import PortSpec, PortSpecError, parse_expose, parse_long, parse_short
from linter.grammars import data_dir


def test_grammar_builds_strict():
    """Terminal collisions or conflicts in the grammar fail here, not for a user."""
    text = (data_dir("grammars") / "compose_ports.lark").read_text(encoding="utf-8")
    Lark(text, parser="lalr", lexer="contextual", strict=True, start=["start", "expose"])


# (entry, host_ip, published, target, protocol)
SHORT = [
    ("3000", None, None, (3000, 3000), "tcp"),
    ("3000-3005", None, None, (3000, 3005), "tcp"),
    ("8000:8000", None, (8000, 8000), (8000, 8000), "tcp"),
    ("9090-9091:8080-8081", None, (9090, 9091), (8080, 8081), "tcp"),
    ("49100:22", None, (49100, 49100), (22, 22), "tcp"),
    ("8000-9000:80", None, (8000, 9000), (80, 80), "tcp"),
    ("127.0.0.1:8001:8001", "127.0.0.1", (8001, 8001), (8001, 8001), "tcp"),
    ("127.0.0.1:5000-5010:5000-5010", "127.0.0.1", (5000, 5010), (5000, 5010), "tcp"),
    ("::1:6000:6000", "::1", (6000, 6000), (6000, 6000), "tcp"),
    ("[::1]:6001:6001", "::1", (6001, 6001), (6001, 6001), "tcp"),
    ("6060:6060/udp", None, (6060, 6060), (6060, 6060), "udp"),
    ("7000:7000/tcp", None, (7000, 7000), (7000, 7000), "tcp"),
    ("3868:3868/sctp", None, (3868, 3868), (3868, 3868), "sctp"),
    ("53:53/UDP", None, (53, 53), (53, 53), "udp"),
    ("10.1.2.3::8080", "10.1.2.3", None, (8080, 8080), "tcp"),
    ("[fd00::5]::9000/udp", "fd00::5", None, (9000, 9000), "udp"),
    ("fd00:1:2::7:443:8443", "fd00:1:2::7", (443, 443), (8443, 8443), "tcp"),
    ("::::8081", "::", None, (8081, 8081), "tcp"),
    (":8082:82", None, (8082, 8082), (82, 82), "tcp"),
    ("0.0.0.0:81:80", "0.0.0.0", (81, 81), (80, 80), "tcp"),
    ("0:4000", None, None, (4000, 4000), "tcp"),
    ("00443:0443", None, (443, 443), (443, 443), "tcp"),
    ("1025-1025:2000", None, (1025, 1025), (2000, 2000), "tcp"),
    ("5000/", None, None, (5000, 5000), "tcp"),
    ("localhost:8000:80", "localhost", (8000, 8000), (80, 80), "tcp"),  # PL413 judges the name
]


@pytest.mark.parametrize("entry, host_ip, published, target, protocol", SHORT)
def test_short_syntax(entry, host_ip, published, target, protocol):
    assert parse_short(entry) == PortSpec(target, published, host_ip, protocol)


BAD_SHORT = [
    ("", "no port specified"),
    ("http", "container port 'http' is not a number"),
    ("80:http", "container port 'http' is not a number"),
    ("web:80", "host port 'web' is not a number"),
    ("70000", "out of range"),
    ("8080:99999", "out of range"),
    ("0", "container port 0 cannot be published"),
    ("9001-9000", "ends before it starts"),
    ("9000-", "has no end"),
    ("-9000", "needs a start"),
    ("80/icmp", "invalid protocol 'icmp'"),
    ("80/17", "invalid protocol '17'"),
    ("8080-8081:80-82", "differ in size"),
    ("8080:80-81", "differ in size"),
    ("127.0.0.1:8080:", "no container port"),
    ("127.0.0.1:8080:/tcp", "no container port"),
    ("80 :80", "unexpected character ' '"),
    ("12.5", "container port '12.5' is not a number"),
]


@pytest.mark.parametrize("entry, reason", BAD_SHORT)
def test_short_syntax_errors(entry, reason):
    with pytest.raises(PortSpecError) as caught:
        parse_short(entry)
    assert reason in str(caught.value)


def test_long_syntax_every_field():
    spec = parse_long({"name": "web", "target": 80, "published": "8080-8090", "host_ip": "[::1]",
                       "protocol": "UDP", "mode": "host", "app_protocol": "http", "x-note": "ignored"})
    assert spec == PortSpec((80, 80), (8080, 8090), "::1", "udp", "host", name="web", app_protocol="http")


@pytest.mark.parametrize("fields, expected", [
    ({"target": 80}, PortSpec((80, 80), None, None)),
    ({"target": "80", "published": 8080}, PortSpec((80, 80), (8080, 8080), None)),
    ({"target": 80, "published": ""}, PortSpec((80, 80), None, None)),
    ({"target": 80, "published": 0}, PortSpec((80, 80), None, None)),
    ({"target": 80, "host_ip": ""}, PortSpec((80, 80), None, "")),  # kept: Compose refuses it (PL413)
])
def test_long_syntax_defaults(fields, expected):
    assert parse_long(fields) == expected


@pytest.mark.parametrize("fields, reason", [
    ({"published": 8080}, "needs a target"),
    ({"target": 80, "publish": 8080}, "unknown key 'publish'"),
    ({"target": "80-81"}, "single container port"),
    ({"target": 0}, "container port 0"),
    ({"target": 80, "protocol": "http"}, "invalid protocol"),
    ({"target": 80, "mode": "global"}, "invalid mode"),
    ({"target": 80, "published": "abc"}, "not a number"),
    ({"target": 80, "published": -1}, "out of range"),
    ({"target": True}, "must be a number or a string"),
])
def test_long_syntax_errors(fields, reason):
    with pytest.raises(PortSpecError) as caught:
        parse_long(fields)
    assert reason in str(caught.value)


@pytest.mark.parametrize("entry, target, protocol", [
    ("3000", (3000, 3000), "tcp"),
    ("8080-8085/tcp", (8080, 8085), "tcp"),
    ("5353/udp", (5353, 5353), "udp"),
])
def test_expose(entry, target, protocol):
    assert parse_expose(entry) == PortSpec(target, None, None, protocol)


@pytest.mark.parametrize("entry, reason", [
    ("8080:80", "container ports only"),
    ("abc", "not a number"),
    ("0", "container port 0"),
])
def test_expose_errors(entry, reason):
    with pytest.raises(PortSpecError) as caught:
        parse_expose(entry)
    assert reason in str(caught.value)


def test_round_trip_property():
    """Any entry built from valid parts reads back as those parts."""
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    ports = st.integers(1, 65535)
    addresses = st.sampled_from([None, "127.0.0.1", "0.0.0.0", "10.1.2.3", "::1", "fd00::1:2", "::"])

    @hypothesis.given(addresses, ports, st.integers(0, 20), st.one_of(st.none(), ports), st.booleans(),
                      st.sampled_from(["", "/tcp", "/udp", "/sctp", "/UDP"]))
    @hypothesis.settings(max_examples=300, deadline=None)
    def check(host_ip, target, width, published, bracket, proto):
        hi = min(target + width, 65535)
        container = f"{target}" if hi == target else f"{target}-{hi}"
        parts = [container]
        pub_range = None
        if published is not None:
            p_hi = published + (hi - target)
            hypothesis.assume(p_hi <= 65535)
            pub_range = (published, p_hi)
            parts.insert(0, f"{published}" if p_hi == published else f"{published}-{p_hi}")
            if host_ip is not None:
                parts.insert(0, f"[{host_ip}]" if bracket and ":" in host_ip else host_ip)
        elif host_ip is not None:
            parts = [f"[{host_ip}]" if bracket and ":" in host_ip else host_ip, "", container]
        text = ":".join(parts) + proto
        spec = parse_short(text)
        expected_ip = host_ip if (published is not None or host_ip is not None) else None
        assert spec == PortSpec((target, hi), pub_range, expected_ip, (proto[1:] or "tcp").lower())

    check()
