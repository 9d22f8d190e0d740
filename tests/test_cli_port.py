"""`portlint port`: what portlint knows of a port, by number or name."""

from __future__ import annotations

import json

from click.testing import CliRunner

from linter.cli import main
from linter.ports import PortRegistry, default_registry, entry_from_dict


def run(*args):
    return CliRunner().invoke(main, list(args))


def test_port_by_number():
    result = run("port", "23")
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == "23/tcp: telnet"
    assert "use instead: ssh (22/tcp)" in result.output
    assert "risk if exposed: critical" in result.output


def test_port_by_name_matches_number():
    assert run("port", "telnet").output == run("port", "23/tcp").output


def test_port_json():
    rows = json.loads(run("port", "445", "--format", "json").output)
    tcp = [r for r in rows if r["transport"] == "tcp"][0]
    assert tcp["category"] == "file-sharing" and tcp["risk"] == "critical" and tcp["name"] == "smb"


def test_port_out_of_range_is_a_usage_error():
    result = run("port", "70000")
    assert result.exit_code == 2
    assert "not a port number" in result.output


def test_unknown_name():
    result = run("port", "no-such-service-xyz")
    assert result.exit_code == 2


def test_registry_overlapping_and_additions():
    registry = default_registry()
    found = registry.overlapping(((20, 25),), "tcp")
    names = [entry.name for entry, _ in found]
    assert "telnet" in names and "ssh" in names
    telnet = dict((e.name, p) for e, p in found)["telnet"]
    assert telnet == ((23, 23),)
    extra = entry_from_dict({"name": "inhouse-admin", "ports": "23", "transports": ["tcp"], "risk": "low",
                             "category": "remote-admin"})
    changed = registry.with_additions([extra])
    assert isinstance(changed, PortRegistry)
    assert changed.lookup(23, "tcp").name == "inhouse-admin"


def test_port_by_alias_and_evidence_only_name():
    assert run("port", "postgres").output == run("port", "5432/tcp").output
    result = run("port", "tor-orport")
    assert result.exit_code == 0 and result.output.splitlines()[0] == "9001/tcp: tor-orport"
    assert "named only by a rule's comment or a container image" in result.output


def test_port_lists_what_evidence_may_name_instead():
    result = run("port", "9001")
    assert result.output.splitlines()[0] == "9001/tcp: supervisord"
    assert "a comment or image may name instead: tor-orport, minio-console" in result.output
    rows = json.loads(run("port", "5432", "--format", "json").output)
    assert rows[0]["aliases"] == ["postgres", "pgsql", "psql"] and "postgres" in rows[0]["images"]
