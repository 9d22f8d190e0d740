"""``policy $name`` in nft: a define's value (quoted or not) is the policy; an undefined one
(a fragment whose defines live in another file) is unknown: PL031 names the variable, and no
default accept is reported on a policy nothing says is accept."""

from __future__ import annotations

from linter.checks import Settings
from linter.frontends.nftables import parse
from linter.model import Policy
from linter.pipeline import run_checks
from linter.source import SourceFile

FRAGMENT = """\
table ip filter {
    chain INPUT {
        type filter hook input priority filter; policy $filter_in_policy;
        ct state established,related accept
        tcp dport 22 accept
    }
}
"""


def lint(text: str):
    result = parse(SourceFile("in.nft", text))
    chain = result.document.tables[0].chains[0]
    found = sorted((f.line, f.code, str(f.severity)) for f in run_checks(result.document, Settings()))
    return chain.policy, [(d.span.line, d.code, d.message) for d in result.diagnostics], found


def test_an_undefined_policy_variable_is_unknown_not_accept():
    policy, diagnostics, found = lint(FRAGMENT)
    assert policy is Policy.UNKNOWN
    assert diagnostics == [(3, "PL031", "Undefined variable $filter_in_policy")]
    assert found == [(5, "PL201", "info")]  # ssh as written; no PL401 on the policy


def test_a_quoted_define_is_the_policy_nft_reads():
    policy, diagnostics, found = lint('define filter_in_policy = "accept"\n' + FRAGMENT)
    assert policy is Policy.ACCEPT
    assert diagnostics == []
    assert found == [(3, "PL401", "critical"), (6, "PL201", "info")]  # on the chain, line 2 + the define


def test_a_define_of_drop_is_drop():
    policy, diagnostics, found = lint("define filter_in_policy = drop\n" + FRAGMENT)
    assert (policy, diagnostics) == (Policy.DROP, [])
    assert found == [(6, "PL201", "info")]


def test_a_policy_that_is_neither_stays_an_error():
    policy, diagnostics, _ = lint(FRAGMENT.replace("$filter_in_policy", "maybe"))
    assert policy is None
    assert [(line, code) for line, code, _ in diagnostics] == [(3, "PL011")]
