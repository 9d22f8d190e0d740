"""Check that every samples/*.rules file is accepted by the real iptables tools.

Each sample is fed to ``iptables-restore --test`` (``ip6tables-restore`` for
IPv6 rulesets, decided by content) inside a throwaway network namespace, and is
then also loaded for real into another fresh namespace, because with the
nf_tables backend ``--test`` does not consult the kernel (a jump to an
undeclared chain passes it). Nothing touches the host's firewall: each
namespace gets a unique name and is always deleted afterwards.

The tests skip (with a reason) when not running as root, when ``ip`` or the
restore tool is missing, or when a network namespace cannot be created or
entered (e.g. inside an unprivileged container).
"""

import os
import re
import shutil
import subprocess
import uuid
import warnings
from pathlib import Path

import pytest

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "samples"
SAMPLES = sorted(SAMPLES_DIR.glob("*.rules"))

# Tools usually live in /usr/sbin, which may be missing from a non-login PATH.
_SEARCH_PATH = os.pathsep.join(
    [os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"]
)
_TIMEOUT = 60

# An address given to -s/-d (optionally negated, old "-s ! addr" form included).
_ADDR_RE = re.compile(
    r"(?:^|\s)(?:-s|-d|--source|--destination|--src|--dst)\s+(?:!\s+)?(\S+)"
)


def is_ipv6_ruleset(text):
    """Decide by content whether a save file is for ip6tables."""
    if "ip6tables-save" in text or "icmpv6" in text or "ipv6-icmp" in text:
        return True
    return any(":" in addr for addr in _ADDR_RE.findall(text))


def _which(name):
    return shutil.which(name, path=_SEARCH_PATH)


def _run(argv, stdin_text=None):
    return subprocess.run(
        argv,
        input=stdin_text,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
    )


def _require_root():
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")


def _require_tool(name):
    path = _which(name)
    if path is None:
        pytest.skip(f"{name} not found")
    return path


def test_samples_exist():
    assert SAMPLES, f"no *.rules files in {SAMPLES_DIR}"


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_family_detection_matches_name(sample):
    # Convention: IPv6 samples are named ipv6*.rules; everything else is IPv4.
    text = sample.read_text(encoding="utf-8")
    assert is_ipv6_ruleset(text) == sample.name.startswith("ipv6")


class _Namespace:
    """A throwaway network namespace; ``run`` executes a command inside it."""

    def __init__(self, ip):
        self.ip = ip
        self.name = f"pltest-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    def create(self):
        try:
            add = _run([self.ip, "netns", "add", self.name])
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot create network namespace: {exc}")
        if add.returncode != 0:
            pytest.skip(f"cannot create network namespace: {add.stderr.strip()}")

    def run(self, argv, stdin_text=None):
        return _run([self.ip, "netns", "exec", self.name] + argv, stdin_text)

    def delete(self):
        # Deleting a name that was never created just fails quietly.
        try:
            _run([self.ip, "netns", "del", self.name])
        except (OSError, subprocess.SubprocessError) as exc:
            warnings.warn(f"could not delete network namespace {self.name}: {exc}")


def _check_sample(sample, extra_args):
    """Run the restore tool on sample inside a fresh namespace; return (tool, result)."""
    _require_root()
    ip = _require_tool("ip")
    text = sample.read_text(encoding="utf-8")
    tool_name = "ip6tables-restore" if is_ipv6_ruleset(text) else "iptables-restore"
    restore = _require_tool(tool_name)

    ns = _Namespace(ip)
    try:
        ns.create()
        probe = ns.run(["true"])
        if probe.returncode != 0:
            pytest.skip(f"cannot enter network namespace: {probe.stderr.strip()}")

        # If even an empty table is refused, the tool is unusable here
        # (e.g. no nf_tables / ip_tables support in the kernel): skip, don't fail.
        empty = ns.run([restore] + extra_args, "*filter\nCOMMIT\n")
        if empty.returncode != 0:
            pytest.skip(
                f"{tool_name} {' '.join(extra_args)} refuses an empty ruleset "
                f"here: {empty.stderr.strip()}"
            )

        return tool_name, ns.run([restore] + extra_args + [str(sample)])
    finally:
        ns.delete()


def _assert_ok(tool_name, extra_args, sample, result):
    assert result.returncode == 0, (
        f"{tool_name} {' '.join(extra_args)} {sample.name} exited "
        f"{result.returncode}\nstderr:\n{result.stderr}\nstdout:\n{result.stdout}"
    )


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_accepted_by_restore_test(sample):
    tool_name, result = _check_sample(sample, ["--test"])
    _assert_ok(tool_name, ["--test"], sample, result)


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_loads_into_fresh_namespace(sample):
    # With the nf_tables backend, --test does not ask the kernel, so e.g. a jump
    # to an undeclared chain passes --test. Loading for real into the throwaway
    # namespace (which starts empty and is deleted afterwards) catches that.
    tool_name, result = _check_sample(sample, [])
    _assert_ok(tool_name, [], sample, result)
