"""Findings whose message is written only when read (Finding.deferred, ctx.report(later=...)),
and the collapse, which reads the messages of only the findings it quotes."""

from __future__ import annotations

import dataclasses
import pickle

from linter.collapse import collapse_repeats
from linter.findings import Finding, Severity

PLACE = dict(code="PL201", name="risky-service", severity=Severity.INFO, category="exposure", path="fw.rules",
             column=1, hint=None, proto="tcp", ports=((22, 22),), key="tcp/ssh/networks", end_line=None,
             end_column=None, source_line=None, excerpt=None, related=())


def _deferred(line: int, message: str, asked: list) -> Finding:
    def render() -> str:
        asked.append(line)
        return message
    return Finding.deferred(render, line=line, **PLACE)


def test_a_deferred_message_is_written_once_on_first_read_and_equals_an_eager_finding():
    asked: list = []
    finding = _deferred(8, "port 22/tcp (commonly ssh) is reachable from 32.0.0.0/24 only", asked)
    assert asked == []
    eager = Finding(line=8, message="port 22/tcp (commonly ssh) is reachable from 32.0.0.0/24 only", **PLACE)
    assert finding == eager and hash(finding) == hash(eager) and finding.fingerprint == eager.fingerprint
    assert finding.as_record() == eager.as_record()
    assert asked == [8]
    assert dataclasses.replace(finding, message="other").message == "other"
    assert asked == [8]


def test_a_deferred_finding_pickles_as_its_written_form():
    asked: list = []
    copy = pickle.loads(pickle.dumps(_deferred(9, "text", asked)))
    assert asked == [9] and copy.message == "text" and copy == Finding(line=9, message="text", **PLACE)
    assert "_render" not in vars(copy)


def test_the_collapse_reads_only_the_messages_it_quotes():
    asked: list = []
    findings = [_deferred(line, f"port 22/tcp (commonly ssh) is reachable from net{line} only", asked)
                for line in range(10, 30)]
    collapsed, = collapse_repeats(findings)
    assert sorted(asked) == [10, 11, 12, 13, 14, 15]
    assert collapsed.message == ("port 22/tcp (commonly ssh) is reachable from net10 only; so are "
                                 + "; ".join(f"port 22/tcp (commonly ssh) (line {line})" for line in range(11, 16))
                                 + " and 14 more")
    assert [r[1] for r in collapsed.related] == list(range(11, 30))


def test_duplicates_are_findings_equal_in_place_and_message():
    asked: list = []
    twice = [_deferred(5, "a", asked), _deferred(5, "a", asked), _deferred(5, "b", asked), _deferred(6, "a", asked)]
    kept = collapse_repeats([dataclasses.replace(f, severity=Severity.HIGH) for f in twice])
    assert [(f.line, f.message) for f in kept] == [(5, "a"), (5, "b"), (6, "a")]


def test_the_collapse_orders_a_group_as_finding_sort_key_does():
    asked: list = []
    # Out of order, two at one place with different keys, another file's: the first kept is the
    # least by Finding.sort_key, the others follow in that order.
    findings = [dataclasses.replace(_deferred(line, f"port {line} is reachable ({key})", asked), key=key, path=path)
                for line, key, path in ((30, "b", "fw.rules"), (12, "z", "fw.rules"), (12, "a", "fw.rules"),
                                        (7, "c", "fw.rules"), (3, "a", "other.rules"), (4, "a", "other.rules"))]
    kept = collapse_repeats(findings)
    by_file = {f.path: f for f in kept}
    ordered = sorted(findings[:4], key=Finding.sort_key)
    assert [(r[1]) for r in by_file["fw.rules"].related] == [f.line for f in ordered[1:]]
    assert by_file["fw.rules"].line == ordered[0].line == 7
    assert by_file["fw.rules"].key == ordered[0].key
    assert [r[1] for r in by_file["other.rules"].related] == [4]
