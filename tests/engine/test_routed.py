"""Routed exposure: new connections to other hosts through this one (FORWARD), per destination,
kept apart from what reaches this host; `trace --forward --oiface` follows one such flow."""

from __future__ import annotations

import json

from click.testing import CliRunner

from linter.addresses import format_range
from linter.cli import main
from linter.engine.exposure import ExposureAnalysis, routed_text
from linter.model import Family
from tests.engine.helpers import ruleset

ROUTER = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -o eth0 -j MASQUERADE
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i eth1 -p tcp --dport 22 -j ACCEPT
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth1 -o eth0 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -d 10.1.0.0/16 -p tcp --dport 22 -j ACCEPT
-A FORWARD -i eth0 -o eth1 -d 10.1.2.0/24 -p tcp --dport 3389 -s 198.51.100.0/24 -j ACCEPT
-A FORWARD -i eth0 -m mac --mac-source 00:11:22:33:44:55 -j ACCEPT
COMMIT
"""


def _summary(exposures) -> list[tuple]:
    return sorted((e.reach, e.ports, sorted(e.interfaces), sorted(e.out_interfaces),
                   [format_range(Family.IPV4, lo, hi) for lo, hi in e.destinations],
                   [d.span.line for d in e.deciders], e.routed) for e in exposures if e.protocol == 6)


def test_routed_exposure_of_a_small_router():
    analysis = ExposureAnalysis([ruleset(ROUTER)], loopback=False)
    routed = [e for e in analysis.routed_exposures() if e.reach != "internal"]
    assert _summary(routed) == [
        ("internet", ((22, 22),), ["eth0"], ["eth1"], ["10.1.0.0/16"], [16], True),
        ("private", ((22, 22),), ["eth0"], ["eth1"], ["10.1.0.0/16"], [16], True),
        ("restricted", ((3389, 3389),), ["eth0"], ["eth1"], ["10.1.2.0/24"], [17], True),
    ]
    # The MAC-restricted accept (opaque) is taken as not matching: no "possibly" entries.
    assert not [e for e in analysis.routed_exposures() if e.possible]
    restricted = [e for e in routed if e.reach == "restricted"][0]
    assert [format_range(Family.IPV4, lo, hi) for lo, hi in restricted.sources] == ["198.51.100.0/24"]
    # What the LAN sends out: internal reach, to every destination, out on eth0.
    internal = [e for e in analysis.routed_exposures() if e.reach == "internal" and e.protocol == 6]
    assert [(sorted(e.interfaces), sorted(e.out_interfaces), e.ports) for e in internal] == \
        [(["eth1"], ["eth0"], ((0, 65535),))]
    # What a finding would add to its reach (for the integrator's routed check):
    assert routed_text(restricted) == "routed to 10.1.2.0/24 through FORWARD"
    assert routed_text(internal[0]) == "routed to any address through FORWARD"
    assert [routed_text(e) for e in analysis.exposures()] == [""] * len(analysis.exposures())
    # The local path is what it was: only ssh from the LAN.
    assert [(e.reach, e.ports, e.routed) for e in analysis.exposures() if e.protocol == 6] == \
        [("internal", ((22, 22),), False)]


def test_no_routed_exposure_without_forward_rules():
    text = "*filter\n:INPUT DROP [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" \
           "-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n"
    analysis = ExposureAnalysis([ruleset(text)], loopback=False)
    assert analysis.routed_exposures() == []
    assert not analysis.routes(Family.IPV4)


def test_exposure_cli_shows_routed_entries_apart(tmp_path):
    path = tmp_path / "router.rules"
    path.write_text(ROUTER)
    lines = CliRunner().invoke(main, ["exposure", str(path)]).stdout.splitlines()
    start = lines.index("New connections routed to other hosts (FORWARD)")
    routed = [line for line in lines[start:] if line.startswith("ipv4    tcp") and " eth0 " in line]
    assert [" ".join(line.split()[2:6]) for line in routed] == [
        "22 ssh internet routed", "3389 rdp restricted routed", "22 ssh private routed"]
    assert "internet routed to 10.1.0.0/16" in routed[0]
    data = json.loads(CliRunner().invoke(main, ["exposure", "--format", "json", str(path)]).stdout)
    record = [r for r in data["exposure"] if r["routed"] and r["reach"] == "restricted"][0]
    assert {k: record[k] for k in ("ports", "sources", "interfaces", "destinations", "out_interfaces")} == {
        "ports": [[3389, 3389]], "sources": ["198.51.100.0/24"], "interfaces": ["eth0"],
        "destinations": ["10.1.2.0/24"], "out_interfaces": ["eth1"]}
    local = [r for r in data["exposure"] if not r["routed"]]
    assert [(r["protocol"], r["ports"], r["reach"]) for r in local] == [("tcp", [[22, 22]], "internal")]
    assert "destinations" not in local[0] and "out_interfaces" not in local[0]


def test_trace_forward_with_an_output_interface(tmp_path):
    path = tmp_path / "router.rules"
    path.write_text(ROUTER)
    runner = CliRunner()
    base = ["trace", str(path), "--src", "203.0.113.9", "--dst", "10.1.5.5", "--dport", "22", "--iface", "eth0"]
    out = runner.invoke(main, base + ["--forward", "--oiface", "eth1"]).stdout
    assert f"{path}:16: -A FORWARD -i eth0 -o eth1 -d 10.1.0.0/16 -p tcp --dport 22 -j ACCEPT" in out
    assert out.splitlines()[-1] == "Verdict: accept (routed to another host)"
    out = runner.invoke(main, base + ["--forward", "--oiface", "eth2"]).stdout
    assert out.splitlines()[-3:] == ["Verdict: drop (routed to another host)",
                                     "Assumed not to match: --mac-source 00:11:22:33:44:55",
                                     "If those matched, the verdict could be: accept"]
    # Without --forward the same flow is for this host: INPUT drops it.
    assert runner.invoke(main, base).stdout.splitlines()[-1] == "Verdict: drop"
    refused = runner.invoke(main, base + ["--oiface", "eth1"])
    assert refused.exit_code == 2 and "needs a routed flow" in refused.stderr
    flows = (json.dumps({"src": "198.51.100.4", "dst": "10.1.2.9", "dport": 3389, "iface": "eth0", "forward": True,
                         "oiface": "eth1"}) + "\n"
             + json.dumps({"dst": "10.1.2.9", "forward": "yes"}) + "\n")
    lines = runner.invoke(main, ["trace", str(path), "--flows", "-", "--format", "json"], input=flows).stdout
    first, second = (json.loads(line) for line in lines.splitlines())
    assert first["flow"]["forward"] is True and first["flow"]["oiface"] == "eth1"
    assert first["verdict"] == "accept" and first["path"][4]["line"] == 17
    assert second == {"line": 2, "error": "forward must be true or false: 'yes'"}


def test_dnat_is_the_local_paths_forwarded_exposure_not_a_routed_one(tmp_path):
    text = ("*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
            "-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 10.1.9.9:80\nCOMMIT\n"
            "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n"
            "-A FORWARD -d 10.1.9.9/32 -p tcp --dport 80 -j ACCEPT\nCOMMIT\n")
    analysis = ExposureAnalysis([ruleset(text)], loopback=False)
    assert [(e.reach, e.ports, e.nat_targets) for e in analysis.exposures() if e.protocol == 6] == [
        ("internet", ((8080, 8080),), ("10.1.9.9 port 80",)), ("private", ((8080, 8080),), ("10.1.9.9 port 80",))]
    assert [(e.reach, e.ports, [format_range(Family.IPV4, lo, hi) for lo, hi in e.destinations])
            for e in analysis.routed_exposures() if e.protocol == 6] == [
        ("internet", ((80, 80),), ["10.1.9.9"]), ("private", ((80, 80),), ["10.1.9.9"]),
        ("internal", ((80, 80),), ["10.1.9.9"])]  # the other interfaces: eth0 faces the internet (DNAT -i)
    path = tmp_path / "dnat.rules"
    path.write_text(text)
    out = CliRunner().invoke(main, ["trace", str(path), "--dst", "198.51.100.1", "--dport", "8080", "--iface", "eth0",
                                    "--forward", "--format", "json"]).stdout
    record = json.loads(out)
    assert (record["verdict"], record["forwarded"], record["flow"]["forward"]) == ("accept", True, True)
