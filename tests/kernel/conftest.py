"""Fixtures for the tests that compare portlint with the real kernel.

``lab`` (session scope) builds the namespaces of ``netns.Lab`` once and always
deletes them again, even when a test fails. Tests that use it skip, with the
reason, when this machine cannot run it: not root, no ``ip`` or
``iptables-restore``, or network namespaces cannot be created.

Tests add lines to ``SUMMARY`` (rulesets, flows, agreement, time); they are
printed at the end of the run in a "portlint kernel agreement" section.
"""

from __future__ import annotations

import atexit

import pytest

from .netns import Lab, LabError

SUMMARY: list[str] = []


@pytest.fixture(scope="session")
def lab():
    try:
        Lab.check_prerequisites()
    except LabError as exc:
        pytest.skip(f"kernel agreement tests need a network namespace lab: {exc}")
    the_lab = Lab()
    atexit.register(the_lab.close)  # also on an interrupted run; close() is idempotent
    try:
        the_lab.setup()
    except LabError as exc:
        the_lab.close()
        pytest.skip(f"cannot build the network namespace lab: {exc}")
    except BaseException:
        the_lab.close()
        raise
    try:
        yield the_lab
    finally:
        the_lab.close()


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("portlint kernel agreement")
        for line in SUMMARY:
            terminalreporter.write_line(line)
