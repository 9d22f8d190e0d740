"""`portlint exposure`: the text table formats no source or destination list (it shows
neither: formatting a ufw host's thousand public ranges per row made it quadratic), and the
JSON lists every range, each read from the per-run text of its range."""

from __future__ import annotations

import json

from click.testing import CliRunner

from linter.cli import main
from linter.commands import exposure as exposure_command

RULES = """*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s 198.51.100.7/32 -j DROP
-A INPUT -s 203.0.113.0/25 -j DROP
-A INPUT -p tcp --dport 22 -j ACCEPT
-A INPUT -p udp --dport 53 -s 203.0.113.0/24 -j ACCEPT
-A FORWARD -p tcp -d 10.1.0.0/16 --dport 443 -j ACCEPT
COMMIT
"""


def run(*args: str):
    return CliRunner().invoke(main, ["exposure", *args], catch_exceptions=False)


def test_the_text_table_formats_no_address_list(tmp_path, monkeypatch):
    path = tmp_path / "host.rules"
    path.write_text(RULES)
    table = run(str(path)).output
    exposure_command._sources_text.cache_clear()

    def refuse(*_args):
        raise AssertionError("the text table formatted an address list it does not show")

    monkeypatch.setattr(exposure_command, "_sources_text", refuse)
    again = run(str(path))
    assert again.exit_code == 0
    assert again.output == table
    assert "routed to 10.1.0.0/16" in table


def test_json_lists_every_source_range(tmp_path):
    path = tmp_path / "host.rules"
    path.write_text(RULES)
    records = json.loads(run("--format", "json", str(path)).output)["exposure"]
    by_key = {(r["protocol"], r["reach"], r["routed"]): r for r in records}
    assert by_key[("udp", "restricted", False)]["sources"] == ["203.0.113.128/25"]
    public = ["1.0.0.0-9.255.255.255", "11.0.0.0-100.63.255.255", "100.128.0.0-126.255.255.255",
              "128.0.0.0-169.253.255.255", "169.255.0.0-172.15.255.255", "172.32.0.0-192.167.255.255"]
    assert by_key[("tcp", "internet", False)]["sources"] == public + [
        "192.169.0.0-198.51.100.6", "198.51.100.8-203.0.112.255", "203.0.113.128-223.255.255.255"]
    # FORWARD has none of INPUT's drops; the same ranges' text serves both lists.
    assert by_key[("tcp", "internet", True)]["sources"] == public + ["192.169.0.0-223.255.255.255"]
    assert by_key[("tcp", "internet", True)]["destinations"] == ["10.1.0.0/16"]
    assert by_key[("tcp", "private", True)]["sources"] == [
        "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]
