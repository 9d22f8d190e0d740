"""The firewalld front end against firewalld itself: for each configuration in firewalld/<case>/
(zones/, services/, firewalld.conf), ruleset.nft is the `nft list ruleset` firewalld 1.x writes for
it, written by hand. Read by the nft front end, it must give the same `trace` verdict as the zone
files read by the firewalld front end, for every flow of a grid of protocols, ports, sources and
input interfaces (and, where the case forwards ports, for DNATed flows)."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest

from linter.engine.trace import make_flow, trace_flow
from linter.frontends import parse_source
from linter.frontends.firewalld import read_configuration
from linter.source import read_source

CASES_DIR = Path(__file__).parent / "firewalld"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "ruleset.nft").is_file())
PORTS = (22, 23, 80, 443, 546, 2222, 3306, 5353, 5432, 8080, 9090, 60500)
SOURCES = ("203.0.113.7", "10.1.2.3", "192.0.2.5", "198.51.100.9", "2001:db8:ffff::7", "fe80::1")
DESTINATIONS = {4: (None, "224.0.0.251"), 6: (None, "fe80::2", "ff02::fb")}
INTERFACES = ("eth0", "eth1", "lo", "wlan0")
TIMEOUT = 30


def _rulesets(case: str):
    firewalld = read_configuration(str(CASES_DIR / case))
    assert firewalld.diagnostics == []
    source = read_source(str(CASES_DIR / case / "ruleset.nft"))
    nft = parse_source(source, "nftables")
    assert [d for d in nft.diagnostics if d.code != "PL013"] == []
    return firewalld.document, nft.document


def _flows():
    for proto, port, src, iface in itertools.product(("tcp", "udp"), PORTS, SOURCES, INTERFACES):
        for dst in DESTINATIONS[6 if ":" in src else 4]:
            yield make_flow(src=src, dst=dst, proto=proto, dport=port, iface=iface)
    for src, iface in itertools.product(SOURCES, INTERFACES):
        yield make_flow(src=src, proto="icmp" if ":" not in src else "icmpv6", iface=iface)


def test_every_case_is_here():
    assert CASES == ["public", "richnat", "sources", "targets"]


@pytest.mark.parametrize("case", CASES)
def test_same_verdicts_as_firewalld_nft_output(case):
    ours, theirs = _rulesets(case)
    differ = []
    count = 0
    for flow in _flows():
        count += 1
        mine, real = trace_flow(flow, [ours]), trace_flow(flow, [theirs])
        if (mine.verdict, mine.forwarded) != (real.verdict, real.forwarded):
            differ.append(f"{flow}: firewalld front end {mine.verdict}, nft {real.verdict}")
    assert count > 1000
    assert not differ, f"{len(differ)} of {count} flows differ:\n" + "\n".join(differ[:20])



@pytest.mark.kernel
@pytest.mark.parametrize("case", CASES)
def test_handwritten_rulesets_are_accepted_by_nft(scratch_netns, case):
    ip, nft, name = scratch_netns
    done = subprocess.run([ip, "netns", "exec", name, nft, "-c", "-f", str(CASES_DIR / case / "ruleset.nft")],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("case", CASES)
def test_same_findings_that_fail_a_gate(case):
    """Every medium-or-worse finding has the same code, severity and ports whichever file says it
    (firewalld's unreachable last reject in filter_INPUT, which the firewalld front end leaves out, is
    no PL402 in the nft output either: firewalld writes it on purpose)."""
    from linter.checks import Settings
    from linter.findings import Severity
    from linter.frontends import FrontEndOptions
    from linter.pipeline import lint_file
    from linter.readpolicy import ReadPolicy

    top = CASES_DIR / case
    options = FrontEndOptions(read_policy=ReadPolicy.for_paths([str(top)]))
    ours = [f for zone in sorted((top / "zones").glob("*.xml"))
            for f in lint_file(str(zone), Settings(), options=options).findings]
    theirs = lint_file(str(top / "ruleset.nft"), Settings()).findings

    def gating(findings):
        return sorted((f.code, str(f.severity), f.ports) for f in findings if f.severity >= Severity.MEDIUM)

    assert gating(ours) == gating(theirs)
    assert {"public": 2, "sources": 0, "richnat": 2, "targets": 1}[case] == len(gating(ours))
