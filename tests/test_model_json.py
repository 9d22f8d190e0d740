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


def test_show_json_of_the_path_decided_matches(tmp_path):
    path = tmp_path / "rules.v4"
    path.write_text("*filter\n:INPUT DROP [0:0]\n"
                    "-A INPUT -p tcp --syn -m limit --limit 3/min -m conntrack --ctstate NEW,DNAT "
                    "--ctorigdstport 8080 ! --ctstatus CONFIRMED -j ACCEPT\n"
                    "-A INPUT ! -f -m conntrack --ctorigdst 10.0.0.1 -j ACCEPT\nCOMMIT\n")
    result = CliRunner().invoke(main, ["show", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rules = json.loads(result.output)["tables"][0]["chains"][0]["rules"]
    # one -m conntrack with --ctstate: packets without an entry pass its other options (without_entry)
    assert rules[0]["matches"][1:] == [
        {"_class": "TcpFlagsMatch", "mask": 0x17, "value": 0x02, "any_of": False, "negated": False, "text": "--syn"},
        {"_class": "LimitMatch", "module": "limit", "over": False, "negated": False, "text": "--limit 3/min"},
        {"_class": "NatStateMatch", "states": ["new"], "nat": ["dnat"], "negated": False,
         "text": "--ctstate NEW,DNAT"},
        {"_class": "OriginalPortMatch", "direction": "destination",
         "ports": {"_class": "PortSet", "ranges": [[8080, 8080]]}, "negated": False, "without_entry": True,
         "text": "--ctorigdstport 8080"},
        {"_class": "CtStatusMatch", "statuses": ["confirmed"], "all_of": False, "without_entry": True,
         "negated": True, "text": "--ctstatus CONFIRMED"},
    ]
    assert rules[1]["matches"] == [
        {"_class": "FragmentMatch", "negated": True, "text": "-f"},
        {"_class": "OriginalAddressMatch", "direction": "destination",
         "addresses": {"_class": "AddressSet", "family": "ipv4", "ranges": [[167772161, 167772161]],
                       "text": "10.0.0.1"},
         "negated": False, "without_entry": False, "text": "--ctorigdst 10.0.0.1"},
    ]
