"""Shape patterns (linter/frontends/iptables/shape_patterns.py): a pattern matches exactly the lines
of its shape, and rules read through patterns are what the option interpreter reads, diagnostics
included."""

from __future__ import annotations

import random

import pytest

from linter.frontends.iptables import plans as plans_module, shape_runs
from linter.frontends.iptables.plans import LITERAL_TARGETS, shape_key, ShapePlans
from linter.frontends.iptables.save import FileReader
from linter.frontends.iptables.shape_patterns import shape_pattern
from linter.source import SourceFile

PATH = "patterns.rules"

# Values meant to land where a shape cuts one out: readable ones, bad ones, and words that are
# not values at all (literal targets, options, "!", quotes, spaces, tabs, backslashes, non-ASCII).
VALUES = ["10.0.0.1", "10.1.0.0/16", "1.2.3.4/32", "300.1.1.1", "1.2.3.4/33", "1.2.3.4/", "1.2.3",
          "0x0a.0.0.1", "010.0.0.1", "1.2.3.4/255.255.0.0", "1.2.3.4/255.0.255.0", "host.example", "::1",
          "10.0.0.1,10.0.0.2", "10.0.0.9-10.0.0.1", "22", "80", "70000", "http", "1:1024", "5:1", "0x10",
          "10.1.2.3:80", "10.1.2.3", ":8080", "10.1.2.3-10.1.2.9:80-90", "[::1]:80", "ACCEPT", "DROP",
          "RETURN", "MARK", "BLOCK", "KUBE-SEP-AB12", "-x", "!", "!x", '"two words"', '"ACCEPT"', '"a!b"',
          '""', '"-dash"', 'a"b', "a\\b", "a\tb", "é", "x y", "ns1/svc:port80"]
OPTIONS = ["-s {v}", "! -s {v}", "-d {v}", "--source {v}", "-i eth{n}", "-p tcp -m tcp --dport {v}",
           "-p udp --sport {v}", "-m comment --comment {v}", "-m comment --comment \"c {n}\"",
           "-p tcp -m multiport --dports {v}", "-m conntrack --ctstate NEW", "-p tcp --dpo {v}",
           "-m set --match-set {v} src", "-m statistic --mode random --probability 0.{n}", "-6", "-4"]
TARGETS = ["ACCEPT", "DROP", "BLOCK", "{v}", "UNDECLARED", "LOG --log-prefix {v}", "MARK --set-mark {n}",
           "DNAT --to-destination {v}", "SNAT --to-source {v} --random", "REDIRECT --to-ports {v}",
           "MASQUERADE", "KUBE-SEP-AB12"]
CHAINS = ["INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING", "BLOCK", "KUBE-SEP-AB12", "UNDECLARED"]


def _fill(rnd: random.Random, template: str, odd: float) -> str:
    while "{v}" in template:
        value = rnd.choice(VALUES) if rnd.random() < odd else rnd.choice(VALUES[:3] + VALUES[15:17])
        template = template.replace("{v}", value, 1)
    while "{n}" in template:
        template = template.replace("{n}", str(rnd.randint(0, 3)), 1)
    return template


def _shapes(rnd: random.Random, count: int) -> list[str]:
    shapes = []
    for _ in range(count):
        options = " ".join(rnd.sample(OPTIONS, rnd.randint(0, 3)))
        shapes.append(f"-A {rnd.choice(CHAINS)} {options} -j {rnd.choice(TARGETS)}".replace("  ", " "))
    return shapes


def _lines(seed: int, count: int, odd: float) -> list[str]:
    """``count`` rule lines of a few shapes (each many times, so that patterns are made), their
    values mostly plain, a share ``odd`` of them from anything in VALUES; a few lines spaced oddly."""
    rnd = random.Random(seed)
    shapes = _shapes(rnd, 40)
    lines = []
    for _ in range(count):
        line = _fill(rnd, rnd.choice(shapes), odd)
        roll = rnd.random()
        if roll < 0.02:
            line += " "
        elif roll < 0.04:
            line = line.replace(" ", "  ", 1)
        elif roll < 0.05:
            line = line.replace(" -j", "\t-j")
        lines.append(line)
    return lines


HEADS = {
    "filter": "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:BLOCK - [0:0]\n"
              ":KUBE-SEP-AB12 - [0:0]\n",
    # FORWARD is no built-in chain of nat: a pattern made for filter's FORWARD must not read it.
    "nat": "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n"
           ":BLOCK - [0:0]\n:FORWARD - [0:0]\n:KUBE-SEP-AB12 - [0:0]\n",
}


def _read(text: str, mode: str):
    """The reader and its result: ``mode`` "runs" (plans, their patterns and runs of lines read
    by alternations of them, made after two lines instead of shape_runs.STABLE and whatever is
    left to read, so that runs read most lines), "patterns" (plans and their patterns, no runs),
    "plans" (plans, no pattern ever made) or "interpreter" (every line read the usual way)."""
    reader = FileReader(SourceFile(PATH, text))
    if mode == "interpreter":
        reader.plans = None
        return reader, reader.read()
    if mode == "plans":
        saved = plans_module.COMPILE_AFTER
        plans_module.COMPILE_AFTER = 10**9
        try:
            return reader, reader.read()
        finally:
            plans_module.COMPILE_AFTER = saved
    reader.plans = counting = CountingPlans(reader.rules, reader.fast.head)
    reader.runs = CountingRuns(counting, reader.fast.chain_word) if mode == "runs" else None
    saved = shape_runs.STABLE, shape_runs.LINES_PER_COMPILE
    shape_runs.STABLE, shape_runs.LINES_PER_COMPILE = 2, 2
    try:
        result = reader.read()
    finally:
        shape_runs.STABLE, shape_runs.LINES_PER_COMPILE = saved
    reader.pattern_hits = counting.hits
    return reader, result


class CountingPlans(ShapePlans):
    """ShapePlans that lists the lines a pattern read (their own or a run's)."""

    def __init__(self, reader, head) -> None:
        super().__init__(reader, head)
        self.hits: list[str] = []
        self.run_hits: list[str] = []

    def by_pattern(self, line: str, builtin):
        planned = super().by_pattern(line, builtin)
        if planned is not None:
            self.hits.append(line)
        return planned


class CountingRuns(shape_runs.ShapeRuns):
    """ShapeRuns that lists the lines its runs read in the plans' hits."""

    def read(self, lines, index, first, lineno, table, reader) -> int:
        taken = super().read(lines, index, first, lineno, table, reader)
        if taken > 0:
            read = [first] + lines[index + 1:index + taken]
            self.plans.hits.extend(read)
            self.plans.run_hits.extend(read)
        return taken


def _facts(result):
    return result.document, [(d.code, d.message, d.span, d.hint, d.excerpt) for d in result.diagnostics]


def _same_three_ways(text: str):
    """The model and diagnostics read with runs and patterns, checked equal to the three other ways
    (patterns without runs, plans without patterns, the interpreter); the reader of the first."""
    reader, patterned = _read(text, "runs")
    expected = _facts(_read(text, "interpreter")[1])
    assert _facts(patterned) == expected
    assert _facts(_read(text, "patterns")[1]) == expected
    assert _facts(_read(text, "plans")[1]) == expected
    return reader, patterned


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_lines_read_through_patterns_are_the_interpreters(seed):
    lines = _lines(seed, 1200, odd=0.15)
    half = len(lines) // 2
    text = (HEADS["filter"] + "\n".join(lines[:half]) + "\nCOMMIT\n" + HEADS["nat"] + "\n".join(lines[half:])
            + "\nCOMMIT\n")
    reader, result = _same_three_ways(text)
    assert len(reader.pattern_hits) > 60  # the patterns did read lines of many shapes
    assert result.diagnostics  # and the odd values were reported the interpreter's way


def test_a_pattern_matches_exactly_the_lines_of_its_shape():
    lines = _lines(5, 800, odd=0.5)
    keyed = []
    for line in lines:
        _, chain, options = line.split(" ", 2)
        if not chain or "\t" in chain:
            continue  # no chain name a pattern may read (plans.py reads none of these lines)
        for part in (chain, ""):  # the chain as a built-in one (part of the shape) and as a user chain
            shaped = shape_key(options, part)
            if shaped is not None:
                keyed.append((line, chain, part, shaped[0], tuple(shaped[1])))
    patterns = {key: shape_pattern(key) for _, _, _, key, _ in keyed}
    matched = 0
    for line, chain, part, key, values in keyed:
        assert patterns[key](line) is not None, (line, key)  # a line matches the pattern of its own shape
        for other, pattern in patterns.items():
            m = pattern(line)
            if m is None or other[-1] != part:
                continue
            found = m.groups() if part else m.groups()[1:]
            if not part:
                assert m.group(1) == chain
            if not LITERAL_TARGETS.isdisjoint(found):
                continue  # plans.py does not take such a match: the value is a literal target
            assert (other, found) == (key, values), line
            matched += 1
    assert matched >= len(keyed)


def test_a_literal_target_in_a_value_place_is_another_shape():
    lines = [f"-A INPUT -s 10.0.0.{i} -j BLOCK" for i in range(10)]
    lines += ["-A INPUT -s 10.0.1.1 -j DROP", "-A INPUT -s 10.0.1.2 -j ACCEPT", "-A INPUT -s 10.0.1.3 -j BLOCK"]
    lines += [f'-A INPUT -m comment --comment {c} -j BLOCK' for c in ["a", "b", "c", "d", "ACCEPT", '"DROP"', "e"]]
    reader, result = _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")
    rules = next(c for c in result.document.tables[0].chains if c.name == "INPUT").rules
    assert [r.verdict.kind.value for r in rules[9:13]] == ["jump", "drop", "accept", "jump"]
    assert [r.comment for r in rules[13:]] == ["a", "b", "c", "d", "ACCEPT", "DROP", "e"]
    assert "-A INPUT -s 10.0.1.3 -j BLOCK" in reader.pattern_hits
    assert "-A INPUT -s 10.0.1.1 -j DROP" not in reader.pattern_hits


def test_a_built_in_chain_pattern_is_no_user_chain_of_another_table():
    forward = [f"-A FORWARD -s 10.0.0.{i} -j DROP" for i in range(8)]
    text = (HEADS["filter"] + "\n".join(forward) + "\nCOMMIT\n" + HEADS["nat"] + "\n".join(forward)
            + "\n-A INPUT -s 10.0.0.1 -j DROP\nCOMMIT\n")
    reader, result = _same_three_ways(text)
    nat = next(t for t in result.document.tables if t.name == "nat")
    assert len(next(c for c in nat.chains if c.name == "FORWARD").rules) == 8
    # Each table's FORWARD rules have their own shape: a plan, three lines the long way, then its pattern.
    assert [line for line in reader.pattern_hits if line.startswith("-A FORWARD")] == forward[4:] + forward[4:]


def test_user_chains_a_pattern_reads_are_chain_names_the_grammar_reads_whole():
    lines = [f"-A BLOCK -s 10.0.0.{i} -j DROP" for i in range(6)]
    lines += ['-A BL"OCK -s 10.0.0.9 -j DROP', "-A BL!OCK -s 10.0.0.9 -j DROP", "-A INPUT -s 10.0.0.9 -j DROP",
              "-A KUBE-SEP-AB12 -s 10.0.0.9 -j DROP", "-A NEW-ONE -s 10.0.0.9 -j DROP", "-A #X -s 10.0.0.9 -j DROP"]
    _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")


def test_a_new_chain_drops_the_patterns():
    lines = [f"-A INPUT -s 10.0.0.{i} -j LATER" for i in range(6)] + ["-N LATER"]
    lines += [f"-A INPUT -s 10.0.1.{i} -j LATER" for i in range(6)]
    _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")


def test_values_a_plan_cannot_read_go_the_usual_way_after_patterns_were_made():
    lines = [f"-A INPUT -s 10.0.0.{i}/32 -p tcp --dport {1000 + i} -j DROP" for i in range(8)]
    lines += ["-A INPUT -s 10.0.0.300/32 -p tcp --dport 22 -j DROP", "-A INPUT -s 10.0.0.1/32 -p tcp --dport 99999 -j DROP",
              "-A INPUT -s db.example.com -p tcp --dport ssh -j DROP", "-A INPUT -s 10.0.0.1/ -p tcp --dport 1:2 -j DROP",
              "-A INPUT -s 10.0.0.0/255.0.255.0 -p tcp --dport 22 -j DROP", "-A INPUT -s 10.0.0.2 -p tcp --dport 2 -j DROP"]
    reader, result = _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("PL011", 15, 13), ("PL011", 16, 40), ("PL013", 17, 13), ("PL013", 19, 13)]
    assert "-A INPUT -s 10.0.0.2 -p tcp --dport 2 -j DROP" in reader.pattern_hits


def test_a_user_chain_pattern_does_not_read_a_built_in_chains_line():
    # "-i" in OUTPUT is an error the interpreter reports; in a user chain it is not.
    lines = [f"-A BLOCK -i eth0 -s 10.0.0.{i} -j DROP" for i in range(6)] + ["-A OUTPUT -i eth0 -s 10.0.0.9 -j DROP"]
    reader, result = _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("PL011", 13, 11)]
    assert reader.pattern_hits == lines[4:6]


def test_nat_rewrites_a_plan_reads_plainly_are_the_interpreters():
    values = ["10.1.2.3:80", "10.1.2.4", "010.1.2.3:80", "10.1.2.3:080", "10.1.2.3:65535", "10.1.2.3:65536",
              "10.1.2.3:0", "10.1.2.3:99999", "10.1.2.300:80", "10.1.2.3/24:80", "10.1.2.3-10.1.2.9:80-90",
              "10.1.2.3:http", ":8080", "1.2.3:80", "0x0a.1.2.3:80"]
    lines = []
    for k, value in enumerate(values * 2):
        lines.append(f'-A KUBE-SEP-AB12 -p tcp -m comment --comment "svc {k}" -m tcp -j DNAT --to-destination {value}')
        lines.append(f"-A POSTROUTING -s 10.0.{k}.0/24 -j SNAT --to-source {value}")
        lines.append(f"-A PREROUTING -p udp -j REDIRECT --to-ports {value.rsplit(':', 1)[-1]}")
    reader, result = _same_three_ways(HEADS["nat"] + "\n".join(lines) + "\nCOMMIT\n")
    assert len(reader.pattern_hits) > 40
    chain = next(c for c in result.document.tables[0].chains if c.name == "KUBE-SEP-AB12")
    verdict = chain.rules[len(values)].verdict
    assert (verdict.kind.value, verdict.to_addresses.ranges, verdict.to_ports.ranges, verdict.options) == (
        "dnat", ((0x0A010203, 0x0A010203),), ((80, 80),), (("--to-destination", "10.1.2.3:80"),))


def test_ports_a_plan_reads_plainly_are_the_interpreters():
    fifteen = ",".join(str(p) for p in range(1, 16))
    values = ["22", "080", "65535", "65536", "0", "99999", "1:2", "http", "22,80", "80,22,23,24", fifteen,
              fifteen + ",16", "22,", ",22", "22,,23", "00022"]
    lines = []
    for k, value in enumerate(values * 2):
        lines.append(f"-A INPUT -s 10.0.{k}.1 -p tcp -m tcp --dport {value} -j DROP")
        lines.append(f"-A INPUT -s 10.0.{k}.2 -p udp -m udp ! --sport {value} -j DROP")
        lines.append(f"-A INPUT -s 10.0.{k}.3 -p tcp -m multiport --dports {value} -j DROP")
        lines.append(f"-A INPUT -s 10.0.{k}.4 -p udp -m multiport ! --sports {value} -j DROP")
    reader, result = _same_three_ways(HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n")
    assert len(reader.pattern_hits) > 40
    rules = next(c for c in result.document.tables[0].chains if c.name == "INPUT").rules
    assert rules[len(values) * 4 + 4 * 9 + 2].matches[-1].ports.ranges == ((22, 24), (80, 80))


def test_a_reader_and_its_plans_are_freed_without_the_collector():
    # The run pauses (and then freezes) the cycle collector around the parse: a cycle through the
    # plans (a plan following itself) would keep the reader and its memo of every value.
    import gc
    import weakref

    lines = [f"-A INPUT -s 10.0.0.{i} -j DROP" for i in range(20)] + [f"-A BLOCK -s 10.0.1.{i} -j DROP" for i in range(5)]
    enabled = gc.isenabled()
    gc.disable()
    try:
        reader = FileReader(SourceFile(PATH, HEADS["filter"] + "\n".join(lines) + "\nCOMMIT\n"))
        reader.read()
        assert reader.plans.recent.entries
        alive = [weakref.ref(reader.plans), weakref.ref(reader.rules)]  # the plans' value readers hold the latter
        del reader
        assert [ref() for ref in alive] == [None, None]
    finally:
        if enabled:
            gc.enable()
