"""Proof against the kernel for `portlint exposure`: flow by flow, the exposure summary says a new
connection is accepted exactly when netfilter accepts it (issue 12, Tests).

The random rulesets of generator.py are loaded into the lab's namespaces without what an
exposure projects away (it reports sources, ports and interfaces, not destinations or source
ports: tests/engine/test_exposure_exact.projectable takes out the nat table, -d, --dst-range,
--dst-type, --ctorigdst and --sport matches). Each probe (source, protocol, port, arriving on
eth0 or eth1) is then looked up in `portlint exposure --format json`: inside an entry iff the
kernel accepted it. The generator's decided matches stay (tcp flags, --ctstate DNAT, ctstatus,
marks, `-m limit` far above the probe count): a rate limit no probe reaches is reach, not a
condition, so no entry may be "possible".

Environment: PORTLINT_KERNEL_EXPOSURE_RULESETS (number of random rulesets, 40),
PORTLINT_KERNEL_TIMEOUT (seconds a probe waits before calling a flow dropped, 0.4).
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections import Counter

import pytest
from click.testing import CliRunner

from tests.engine.test_exposure_exact import _iface_class, _inside, _ranges, projectable

from .conftest import SUMMARY
from .generator import generate_flows, generate_ruleset
from .netns import ALL_SOURCES, Lab, LoadError, ProbeFlow

pytestmark = pytest.mark.kernel

N_RULESETS = int(os.environ.get("PORTLINT_KERNEL_EXPOSURE_RULESETS", "40"))
PROBE_TIMEOUT = float(os.environ.get("PORTLINT_KERNEL_TIMEOUT", "0.4"))
RETRY_TIMEOUT = 1.5
MAX_ATTEMPTS = 25
MAX_REPORTS = 8


def exposure_json(text: str, tmp_path) -> dict:
    from linter.cli import main

    path = tmp_path / "rules.v4"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["exposure", "--format", "json", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


class ExposureLookup:
    """Whether `portlint exposure` lists a probe (source, protocol, port, input interface)."""

    def __init__(self, data: dict):
        self.records = [r for r in data["exposure"] if r["family"] == "ipv4" and not r.get("routed")]
        self.possible = [r for r in self.records if r["possible"]]
        self.ranges = {id(r): _ranges(r["sources"]) for r in self.records}
        self.classes = data["interface_classes"]

    def accepts(self, flow: ProbeFlow) -> bool:
        address = int(ipaddress.ip_address(flow.src))
        iface_class = _iface_class(flow.iface, self.classes)
        return any(_inside(r, self.ranges, flow.proto, flow.dport, address, iface_class) for r in self.records)


def load_projected(lab: Lab, seed: int, stats: Counter) -> tuple[object, str]:
    """The first generated ruleset for ``seed`` whose projection the kernel loads."""
    refusals = []
    for attempt in range(MAX_ATTEMPTS):
        generated = generate_ruleset(seed, attempt)
        text = projectable(generated.text)
        if lab.restore_test(text).returncode != 0:
            stats["refused by iptables-restore --test"] += 1
            continue
        try:
            lab.load_iptables(text)
        except LoadError as exc:
            stats["refused by the kernel"] += 1
            refusals.append(str(exc))
            continue
        return generated, text
    pytest.fail(f"seed {seed}: no loadable projected ruleset in {MAX_ATTEMPTS} attempts:\n" + "\n".join(refusals[-3:]))


def test_exposure_agrees_with_kernel_flow_by_flow(lab, tmp_path):
    stats: Counter = Counter()
    wrong: list[str] = []
    for seed in range(N_RULESETS):
        generated, text = load_projected(lab, seed, stats)
        flows = [lab.flow(*spec) for spec in generate_flows(seed, generated, ALL_SOURCES)]
        outcomes = lab.probe(flows, PROBE_TIMEOUT)
        lookup = ExposureLookup(exposure_json(text, tmp_path))
        assert not lookup.possible, f"seed {seed}: the generator writes only decided matches: {lookup.possible}"
        stats["rulesets"] += 1
        stats["with a rate limit"] += "-m limit" in text
        suspects = []
        for flow, outcome in zip(flows, outcomes):
            assert outcome["outcome"] != "error", f"seed {seed}: probe error for {flow}: {outcome['detail']}"
            stats["flows"] += 1
            stats[f"kernel {outcome['outcome']}"] += 1
            if (outcome["outcome"] == "accept") == lookup.accepts(flow):
                stats["agree"] += 1
            else:
                suspects.append(flow)
        if not suspects:
            continue
        # A slow scheduler can turn an accept into a timeout: probe once more, waiting longer.
        again = lab.probe([lab.flow(f.src, f.proto, f.dport, f.dst) for f in suspects], RETRY_TIMEOUT)
        for flow, second in zip(suspects, again):
            stats["re-probed"] += 1
            if (second["outcome"] == "accept") == lookup.accepts(flow):
                stats["agree"] += 1
                continue
            stats["disagree"] += 1
            wrong.append(f"seed {seed} attempt {generated.attempt}: {flow} kernel {second['outcome']}, exposure "
                         f"{'lists' if lookup.accepts(flow) else 'does not list'} it\n"
                         + "\n".join(f"  {n:3} | {line}" for n, line in enumerate(text.splitlines(), 1)))
    SUMMARY.append(
        f"exposure vs kernel: {stats['rulesets']} random rulesets (projected; {stats['with a rate limit']} with "
        f"-m limit), {stats['flows']} flows (kernel: "
        f"{stats['kernel accept']} accept, {stats['kernel reject']} reject, {stats['kernel drop']} drop); "
        f"agree {stats['agree']}/{stats['flows']}, re-probed {stats['re-probed']}, disagree {stats['disagree']}")
    assert stats["kernel accept"] and stats["kernel drop"] + stats["kernel reject"], stats
    assert not wrong, f"{len(wrong)} flows: exposure and the kernel disagree\n\n" + "\n\n".join(wrong[:MAX_REPORTS])
