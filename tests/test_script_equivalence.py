"""Each samples/scripts/<name>.sh issues the rules of samples/<name>.rules as shell commands:
both must give the same findings and the same verdicts for the same flows (only lines differ)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from linter.checks import Settings
from linter.engine import intervals as iv
from linter.engine.trace import make_flow, trace_flow
from linter.pipeline import lint_file

from tests.conftest import SAMPLES

EXPOSURE = {"PL101", "PL201", "PL202", "PL302", "PL401"}  # one finding per causing line
NAMES = sorted(p.stem for p in SAMPLES.glob("*.rules"))

PORTS = (21, 22, 23, 25, 53, 67, 68, 80, 111, 137, 139, 161, 443, 445, 1194, 1900, 3128, 3306, 3389, 5353,
         5432, 6379, 9100, 50050)
SOURCES_V4 = ("203.0.113.7", "10.20.1.1", "192.168.1.5", "192.168.50.5", "192.168.10.5")
SOURCES_V6 = ("2001:db8:ffff::7", "2001:db8:100::5", "fe80::1")
DESTINATIONS = {4: ("192.0.2.1", "224.0.0.251", "172.17.0.3"), 6: ("2001:db8::1", "fe80::2")}
INTERFACES = ("eth0", "eth1", "lo", "docker0")


def _lint(path):
    result = lint_file(str(path), Settings())
    assert result.document is not None, result.findings
    return result


def test_every_sample_has_a_script():
    assert NAMES
    for name in NAMES:
        assert (SAMPLES / "scripts" / f"{name}.sh").is_file(), name


@pytest.mark.parametrize("name", NAMES)
def test_same_findings(name):
    saved = _lint(SAMPLES / f"{name}.rules")
    script = _lint(SAMPLES / "scripts" / f"{name}.sh")
    assert saved.format == "iptables-save" and script.format == "iptables-script"

    def records(result):
        return Counter((f.code, f.severity, f.ports, f.message) for f in result.findings if f.code not in EXPOSURE)

    def exposed(result):
        """The ports exposure findings name and their worst severity: a loop line of the script is
        one cause (one finding) where the saved file has a line per rule."""
        ports = iv.normalize(r for f in result.findings if f.code in EXPOSURE for r in f.ports or ())
        return ports, max((f.severity for f in result.findings if f.code in EXPOSURE), default=None)

    assert records(script) == records(saved)
    # Every port the saved file reports, the script reports, at the same worst severity (a loop line
    # that also opens a port the saved file reports on a quiet line of its own may name it too).
    (script_ports, script_worst), (saved_ports, saved_worst) = exposed(script), exposed(saved)
    assert iv.subtract(saved_ports, script_ports) == () and script_worst == saved_worst
    assert records(saved) or exposed(saved), "every sample has something to report"
    assert all(f.path.endswith(".sh") for f in script.findings)


@pytest.mark.parametrize("name", NAMES)
def test_same_trace_verdicts(name):
    saved = _lint(SAMPLES / f"{name}.rules").document
    script = _lint(SAMPLES / "scripts" / f"{name}.sh").document
    version = 6 if name.startswith("ipv6") else 4
    sources = SOURCES_V6 if version == 6 else SOURCES_V4
    differences = []
    verdicts = set()
    count = 0
    for proto, port, src, dst, iface in itertools.product(("tcp", "udp"), PORTS, sources, DESTINATIONS[version],
                                                        INTERFACES):
        flow = make_flow(src=src, dst=dst, proto=proto, dport=port, iface=iface)
        a, b = trace_flow(flow, [saved]), trace_flow(flow, [script])
        count += 1
        verdicts.add(a.verdict)
        if (a.verdict, a.forwarded, a.other_verdicts) != (b.verdict, b.forwarded, b.other_verdicts):
            differences.append((flow, a.verdict, b.verdict))
    assert count > 500
    assert "accept" in verdicts and verdicts - {"accept"}, verdicts  # the flows tell the rules apart
    assert differences == []
