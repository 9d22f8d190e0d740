"""Causes of one exposure reported without a Cause (checks/lone_causes.py) give the findings the
general path gives: every field, the message and the order, on the samples, every rule case and
allow-lists with the shapes the lane must tell apart (comments, a mark, a jump, interfaces,
private and internal sources, IPv6, an ordinary service next to a risky one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linter.checks import Settings
from linter.checks import lone_causes
from linter.engine import lone_results as lone_module
from linter.pipeline import read_document, run_checks
from linter.rule_cases import all_case_files

ROOT = Path(__file__).resolve().parents[2]


def _allowlist(rules: int, extra: str = "", ports=(22, 443), family: int = 4) -> str:
    lines = ["*filter", ":INPUT DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":ADMIN - [0:0]",
             "-A INPUT -i lo -j ACCEPT", "-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"]
    for n in range(rules):
        for port in ports:
            source = f"2001:db8:{n}::/48" if family == 6 else f"32.{n // 256}.{n % 256}.0/24"
            comment = f' -m comment --comment "backup {n % 3}"' if n % 7 == 3 else ""
            lines.append(f"-A INPUT -s {source} -p tcp -m tcp --dport {port}{comment} -j ACCEPT")
        if n % 11 == 5:
            lines.append(f"-A INPUT -s 10.{n % 256}.0.0/16 -p tcp --dport 22 -j ACCEPT")  # private
        if n % 13 == 6:
            lines.append(f"-A INPUT -i eth1 -s 33.{n % 256}.0.0/24 -p tcp --dport 22 -j ACCEPT")
        if n % 17 == 7:
            lines.append(f"-A INPUT -s 34.{n % 256}.0.0/24 -m mark --mark 0x1 -p tcp --dport 22 -j ACCEPT")
        if n % 19 == 8:
            lines.append(f"-A INPUT -s 35.{n % 256}.0.0/24 -j ADMIN")
    lines += extra.splitlines()
    lines += ["-A ADMIN -p tcp --dport 22 -j ACCEPT", "COMMIT"]
    return "\n".join(lines) + "\n"


ALLOWLISTS = {
    "ssh and https": _allowlist(300),
    "ssh, telnet and redis": _allowlist(200, ports=(22, 23, 6379)),
    "ssh and a wide range": _allowlist(200, extra="-A INPUT -p tcp --dport 1000:2000 -j ACCEPT", ports=(22, 8080)),
    "ssh with an accept-all after": _allowlist(150, extra="-A INPUT -j ACCEPT"),
    "ipv6": _allowlist(150, family=6),
    # an internal interface: most rules' causes have two exposures, the first quiet (https) or not
    "an internal interface and wider sources": _allowlist(120, extra="\n".join([
        "-A INPUT -i lan0 -p tcp --dport 80 -j ACCEPT", "-A INPUT -p tcp --dport 443 -j ACCEPT",
        "-A INPUT -s 10.0.0.0/7 -p tcp --dport 443 -j ACCEPT", "-A INPUT -p udp --dport 443 -j ACCEPT",
        "-A INPUT -s 9.0.0.0/7 -p tcp -m multiport --dports 443,8443 -j ACCEPT"])),
}


def _findings(documents, sources) -> list[tuple]:
    out = []
    for document, source in zip(documents, sources):
        for finding in run_checks(document, Settings(), source):
            out.append((finding.as_record(), finding.related, finding.sort_key(), list(vars(finding))))
    return out


def _both_ways(monkeypatch, paths, input_format=None):
    """(findings of the general path, findings with the lane) of the documents read from ``paths``."""
    return _compared(monkeypatch, [read_document(str(path), input_format=input_format) for path in paths])


def _general_only(lane, causes, general) -> None:
    """LoneCauses.report_all leaving every cause to the general path."""
    for cause in causes:
        general(cause)


def _compared(monkeypatch, read) -> tuple[list, list]:
    read = [r for r in read if r.document is not None and hasattr(r.document, "tables")]
    documents, sources = [r.document for r in read], [r.source for r in read]
    with monkeypatch.context() as patched:
        patched.setattr(lone_causes.LoneCauses, "report_all", _general_only)
        # and no cause left out by exposure_checks._causes as one that reports nothing
        patched.setattr(lone_causes, "reports_nothing", lambda *arguments: False)
        general = _findings(documents, sources)
    return general, _findings(documents, sources)


@pytest.mark.parametrize("name", sorted(ALLOWLISTS))
def test_allowlists_give_the_general_paths_findings(monkeypatch, tmp_path, name):
    path = tmp_path / "allow.rules"
    path.write_text(ALLOWLISTS[name])
    for threshold in (0, lone_module.LONE_AT_LEAST):  # lone results summarised apart, or not
        monkeypatch.setattr(lone_module, "LONE_AT_LEAST", threshold)
        general, lane = _both_ways(monkeypatch, [path])
        assert general == lane, name
        assert len(lane) > 10


def test_the_lane_is_taken_on_an_allowlist(monkeypatch, tmp_path):
    path = tmp_path / "allow.rules"
    path.write_text(ALLOWLISTS["ssh and https"])
    taken, causes_given = [], []
    real = lone_causes.LoneCauses.report_all

    def counting(lane, causes, general):
        causes_given.append(len(causes))

        def counted(cause):
            taken.append(type(cause) is tuple)
            general(cause)
        real(lane, causes, counted)
        taken.extend([None] * (len(causes) - len(taken)))  # the causes the lane reported
    monkeypatch.setattr(lone_causes.LoneCauses, "report_all", counting)
    result = read_document(str(path))
    run_checks(result.document, Settings(), result.source)
    # 300 rules on port 22 stamped, and the 300 on port 443 (nothing to say) left out by _causes
    assert taken.count(None) > 250 and len(taken) - taken.count(None) < 40
    assert causes_given[0] < 400


def test_every_sample_and_rule_case_gives_the_general_paths_findings(monkeypatch, tmp_path):
    paths = sorted(p for p in (ROOT / "samples").rglob("*") if p.is_file() and p.name != "README.md")
    compared = 0
    for path in paths:
        general, lane = _both_ways(monkeypatch, [path])
        assert general == lane, str(path)
        compared += 1
    for code, case_file in all_case_files().items():
        for number, case in enumerate(case_file.failing + case_file.passing):
            written = case.write(tmp_path / f"{code}-{number}")
            read = []
            for path in written:
                try:
                    read.append(read_document(str(path), input_format=case.format))
                except Exception:  # noqa: BLE001 (a case made to break a front end is not this test's)
                    continue
            general, lane = _compared(monkeypatch, read)
            assert general == lane, f"{code} {case.name}"
            compared += 1
    assert compared > 100
