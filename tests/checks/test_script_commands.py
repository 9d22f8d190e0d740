"""ufw and docker/podman run commands in scripts meet the same checks, codes and severities as the
firewalls and compose files they amount to, and fail the gate on the command's line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linter.checks import Settings
from linter.frontends import FrontEndOptions
from linter.pipeline import lint_paths

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "import sys; from linter.cli import run; sys.argv[0] = 'portlint'; run()"
EXPOSURE = {"PL101", "PL201", "PL202", "PL210", "PL211", "PL220", "PL401"}


def findings(*paths: Path, codes=EXPOSURE) -> list[tuple]:
    result = lint_paths([str(p) for p in paths], Settings(), options=FrontEndOptions(environ={}))
    return [(Path(f.path).name, f.code, f.line, str(f.severity)) for f in result.findings if f.code in codes]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_ufw_allow_telnet_fails_the_gate_on_its_line(tmp_path):
    path = write(tmp_path, "provision.sh", "#!/bin/bash\napt-get install -y ufw\nufw default deny incoming\n"
                                           "ufw allow OpenSSH\nufw allow 23/tcp\nufw --force enable\n")
    done = subprocess.run([sys.executable, "-c", ENTRY, "check", "--format", "concise", str(path)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert f"{path}:5:1: PL101 [critical] port 23/tcp (commonly telnet) is a plaintext protocol reachable from " \
           "the internet" in done.stdout
    # ssh by the profile; ufw's before.rules accept DHCP replies (68/udp), at the `ufw enable` that loads them
    assert findings(path) == [("provision.sh", "PL201", 4, "info"), ("provision.sh", "PL101", 5, "critical"),
                              ("provision.sh", "PL201", 6, "info")]


@pytest.mark.parametrize("ufw,port", [("23/tcp", 23), ("telnet", 23), ("5432/tcp", 5432), ("3389/tcp", 3389),
                                      ("proto tcp to any port 6379", 6379)])
def test_ufw_allow_is_the_iptables_accept(tmp_path, ufw, port):
    """ufw allow PORT and `-A INPUT -p tcp --dport PORT -j ACCEPT` with a DROP policy: one code, one severity."""
    script = write(tmp_path, "setup.sh", f"ufw default deny incoming\nufw allow {ufw}\nufw enable\n")
    save = write(tmp_path, "rules.v4", f"*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport {port} -j ACCEPT\n"
                                       "COMMIT\n")
    from_ufw = [(code, severity) for _, code, line, severity in findings(script) if line == 2]
    from_save = [(code, severity) for _, code, _, severity in findings(save)]
    assert from_ufw == from_save and len(from_save) == 1


def test_ufw_restricted_and_denied_ports_are_quiet(tmp_path):
    script = write(tmp_path, "setup.sh", "ufw allow from 10.0.0.0/8 to any port 5432 proto tcp\nufw deny 23\n"
                                         "ufw limit 22/tcp\nufw --force enable\n")
    # ssh, rate-limited but open; ufw's own DHCP client rule at `ufw enable`
    assert findings(script) == [("setup.sh", "PL201", 3, "info"), ("setup.sh", "PL201", 4, "info")]


@pytest.mark.parametrize("image,port,code,severity", [
    ("postgres", 5432, "PL201", "high"),
    ("redis:7", 6379, "PL201", "critical"),
    ("nginx", 80, "PL101", "info"),
    ("myorg/telnetd", 23, "PL101", "critical"),
    ("myorg/app", 9999, "PL210", "low"),
])
def test_docker_run_is_reported_like_the_compose_publication(tmp_path, image, port, code, severity):
    script = write(tmp_path, "deploy.sh", f"#!/bin/sh\ndocker run -d -p {port}:{port} {image}\n")
    (tmp_path / "c").mkdir()
    compose = write(tmp_path / "c", "compose.yaml", f'services:\n  s:\n    image: {image}\n'
                                                    f'    ports: ["{port}:{port}"]\n')
    assert findings(script) == [("deploy.sh", code, 2, severity)]
    assert findings(compose) == [("compose.yaml", code, 4, severity)]


def test_docker_run_on_loopback_is_quiet_and_minus_P_says_the_image_decides(tmp_path):
    script = write(tmp_path, "deploy.sh", "docker run -p 127.0.0.1:5432:5432 postgres\ndocker run -P nginx\n")
    assert findings(script) == [("deploy.sh", "PL211", 2, "low")]


def test_docker_run_bypasses_the_scripts_own_firewall(tmp_path):
    script = write(tmp_path, "host.sh", "ufw default deny incoming\nufw allow 22/tcp\nufw --force enable\n"
                                        "docker run -d --name cache -p 6379:6379 redis:7\n")
    other = write(tmp_path, "other.sh", "iptables -P INPUT DROP\n")
    found = findings(script, other, codes={"PL220"})
    assert found == [("host.sh", "PL220", 4, "critical")]
    result = lint_paths([str(script)], Settings(), options=FrontEndOptions(environ={}))
    pl220 = [f for f in result.findings if f.code == "PL220"]
    assert "the INPUT drop in" in pl220[0].message and str(script) in pl220[0].message


SAMPLES = ROOT / "samples"


def test_provision_sample_findings():
    assert findings(SAMPLES / "scripts" / "provision.sh", codes=EXPOSURE | {"PL050", "PL051"}) == [
        ("provision.sh", "PL201", 14, "info"),  # ssh (limit OpenSSH)
        ("provision.sh", "PL101", 15, "info"),  # http ('Nginx Full')
        ("provision.sh", "PL201", 16, "high"),  # rdp
        ("provision.sh", "PL201", 19, "info"),  # ufw's DHCP client rule, loaded by `ufw --force enable`
        ("provision.sh", "PL201", 25, "high"),  # docker run -p 5432:5432 postgres:16
        ("provision.sh", "PL220", 25, "high"),  # ... which ufw's INPUT drop does not protect
    ]


def test_provision_sample_traces_like_the_ufw_sample():
    """The ufw commands of samples/scripts/provision.sh leave what ufw wrote in samples/ufw.rules."""
    import itertools

    from linter.engine.trace import make_flow, trace_flow
    from linter.pipeline import lint_file

    saved = lint_file(str(SAMPLES / "ufw.rules"), Settings()).document
    script = lint_file(str(SAMPLES / "scripts" / "provision.sh"), Settings()).document
    differences, verdicts = [], set()
    for proto, port, src, dst, iface in itertools.product(
            ("tcp", "udp"), (22, 23, 53, 67, 68, 80, 137, 443, 445, 1900, 3389, 5353, 5432, 9100),
            ("203.0.113.7", "192.168.10.5"), ("192.0.2.1", "224.0.0.251", "239.255.255.250"), ("eth0", "lo")):
        flow = make_flow(src=src, dst=dst, proto=proto, dport=port, iface=iface)
        a, b = trace_flow(flow, [saved]), trace_flow(flow, [script])
        verdicts.add(a.verdict)
        if (a.verdict, a.other_verdicts) != (b.verdict, b.other_verdicts):
            differences.append((proto, port, src, dst, iface, a.verdict, b.verdict))
    assert {"accept", "drop"} <= verdicts
    assert differences == []


def test_show_prints_the_rules_then_the_run_publications(tmp_path):
    path = write(tmp_path, "host.sh", "iptables -P INPUT DROP\ndocker run -p 6379:6379 redis\n")
    done = subprocess.run([sys.executable, "-c", ENTRY, "show", str(path)], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-3:] == [f"compose project {path}", "service redis", f"  * 6379 -> 6379/tcp (ingress)    {path}:2"]
    assert any("chain INPUT" in line and "policy drop" in line for line in lines)


def test_a_dead_ufw_rule_is_one_finding_for_both_families(tmp_path):
    script = write(tmp_path, "setup.sh", "ufw allow 80/tcp\nufw allow 443/tcp\nufw allow 'Nginx Full'\nufw enable\n")
    assert findings(script, codes={"PL402", "PL403"}) == [("setup.sh", "PL402", 3, "low")]


def test_hints_speak_ufw_with_the_rules_own_action(tmp_path):
    script = write(tmp_path, "setup.sh", "ufw limit 3389/tcp\nufw allow 'Nginx Full'\nufw enable\n")
    result = lint_paths([str(script)], Settings(), options=FrontEndOptions(environ={}))
    hints = {f.line: f.hint for f in result.findings if f.code in ("PL101", "PL201")}
    assert hints[1] == ("ufw delete limit 3389/tcp, then ufw limit from 10.0.0.0/8 to any port 3389 proto tcp "
                        "(your own network instead of 10.0.0.0/8)")
    assert hints[2] == ("ufw delete allow 'Nginx Full', then ufw allow from 10.0.0.0/8 to any app 'Nginx Full' "
                        "(your own network instead of 10.0.0.0/8)")
