"""The model as JSON (`portlint show`)."""

import json

from click.testing import CliRunner

from linter.cli import main
from linter.model import (
    Chain, Direction, Family, Hook, Policy, PortMatch, PortSet, ProtocolMatch, Rule, Ruleset, Span, Table, Verdict,
    VerdictKind,
)
from linter.reporters.model_json import ruleset_document, to_json


def test_show_compose_json(tmp_path):
    (tmp_path / "compose.yaml").write_text("""\
services:
  web:
    image: nginx
    ports:
      - "127.0.0.1:8080:80"
      - "3000-3001/udp"
    expose: ["9000"]
""")
    (tmp_path / "compose.override.yaml").write_text('services:\n  web:\n    ports: ["8443:443"]\n')
    result = CliRunner().invoke(main, ["show", str(tmp_path / "compose.yaml"), str(tmp_path / "compose.override.yaml"),
                                       "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["version"], data["format"]) == (1, "compose")
    assert data["services"] == [{"name": "web", "image": "nginx", "network_mode": None, "profiles": [],
                                 "path": str(tmp_path / "compose.yaml"), "line": 2}]
    rows = [{k: p[k] for k in ("service", "host_ip", "published", "target", "protocol", "mode", "line")}
            for p in data["publications"]]
    assert rows == [
        {"service": "web", "host_ip": "127.0.0.1", "published": [8080, 8080], "target": [80, 80],
         "protocol": "tcp", "mode": "ingress", "line": 5},
        {"service": "web", "host_ip": None, "published": None, "target": [3000, 3001], "protocol": "udp",
         "mode": "ingress", "line": 6},
        {"service": "web", "host_ip": None, "published": [8443, 8443], "target": [443, 443], "protocol": "tcp",
         "mode": "ingress", "line": 3},
        {"service": "web", "host_ip": None, "published": None, "target": [9000, 9000], "protocol": "tcp",
         "mode": "ingress", "line": 7},
    ]
    assert [p["exposed_only"] for p in data["publications"]] == [False, False, False, True]
    assert data["publications"][2]["path"] == str(tmp_path / "compose.override.yaml")


def test_show_text_and_errors(tmp_path):
    (tmp_path / "compose.yaml").write_text('services:\n  web:\n    ports: ["8080:80", "x"]\n')
    result = CliRunner().invoke(main, ["show", str(tmp_path / "compose.yaml")])
    assert result.exit_code == 0
    assert "* 8080 -> 80/tcp (ingress)" in result.output
    assert "PL040" in result.output  # diagnostics go to stderr, which CliRunner mixes in
    missing = CliRunner().invoke(main, ["show", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2


def test_ruleset_json_is_generic():
    span = Span("r.v4", 3, 1)
    rule = Rule((ProtocolMatch(frozenset({6}), text="tcp"), PortMatch(Direction.DESTINATION, PortSet.of(22))),
                Verdict(VerdictKind.ACCEPT), span, text="-A INPUT -p tcp --dport 22 -j ACCEPT")
    chain = Chain("INPUT", (rule,), Span("r.v4", 2, 1), hook=Hook.INPUT, type="filter", priority=0,
                  policy=Policy.DROP)
    ruleset = Ruleset("r.v4", "iptables-save", Family.IPV4, (Table("filter", Family.IPV4, (chain,), Span("r.v4", 1, 1)),))
    data = ruleset_document(ruleset)
    assert (data["version"], data["format"], data["family"]) == (1, "iptables-save", "ipv4")
    chain_data = data["tables"][0]["chains"][0]
    assert (chain_data["hook"], chain_data["policy"], chain_data["span"]["line"]) == ("input", "drop", 2)
    rule_data = chain_data["rules"][0]
    assert [m["_class"] for m in rule_data["matches"]] == ["ProtocolMatch", "PortMatch"]
    assert rule_data["matches"][0]["protocols"] == [6]
    assert rule_data["matches"][1]["ports"] == {"_class": "PortSet", "ranges": [[22, 22]]}
    assert rule_data["verdict"]["kind"] == "accept"
    assert rule_data["span"] == {"_class": "Span", "path": "r.v4", "line": 3, "column": 1, "end_line": None,
                                 "end_column": None}
    json.dumps(data)


def test_to_json_plain_values():
    assert to_json({"a": (1, 2), "b": frozenset({"y", "x"}), "c": None}) == {"a": [1, 2], "b": ["x", "y"], "c": None}
