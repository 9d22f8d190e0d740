"""Summary lines of the translate equivalence test, printed at the end of the run, and the
throwaway network namespace both equivalence tests check rulesets with."""

from __future__ import annotations

import os
import subprocess
from shutil import which

import pytest

NETNS_TIMEOUT = 30

SUMMARY: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("portlint translate equivalence")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="module")
def scratch_netns():
    """A throwaway network namespace for `nft -c` (a dry run still asks the kernel): (ip, nft, name)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("checking rulesets with `nft -c -f` needs root (a throwaway network namespace)")
    ip, nft = which("ip"), which("nft")
    if ip is None or nft is None:
        pytest.skip(f"{'ip' if ip is None else 'nft'} not found: cannot check rulesets with `nft -c -f`")
    name = f"plk-equiv-{os.getpid()}"
    made = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True, timeout=NETNS_TIMEOUT)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    try:
        yield ip, nft, name
    finally:
        subprocess.run([ip, "netns", "del", name], capture_output=True, timeout=NETNS_TIMEOUT)
