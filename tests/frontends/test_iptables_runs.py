"""Runs of lines read in one loop (linter/frontends/iptables/shape_runs.py, FileReader._declarations)
read every line exactly as the line-by-line reader and the option interpreter do."""

from __future__ import annotations

import random

import pytest

from linter.frontends.iptables import shape_runs
from linter.frontends.iptables.save import FileReader
from linter.source import read_source, SourceFile

PATH = "runs.rules"
HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:BLOCK - [0:0]\n"


class Counting(shape_runs.ShapeRuns):
    """ShapeRuns that counts the lines its runs read."""

    taken = 0

    def read(self, lines, index, first, lineno, table, reader) -> int:
        taken = super().read(lines, index, first, lineno, table, reader)
        self.taken += max(taken, 0)
        return taken


def _read(source: SourceFile, mode: str):
    reader = FileReader(source)
    if mode == "interpreter":
        reader.plans = None
    elif mode == "lines":
        reader.runs = None
    else:
        reader.runs = Counting(reader.plans, reader.fast.chain_word)
    saved = shape_runs.STABLE, shape_runs.LINES_PER_COMPILE
    if mode == "runs":  # alternations compiled at once, whatever is left to read
        shape_runs.STABLE, shape_runs.LINES_PER_COMPILE = 1, 2
    try:
        return reader, reader.read()
    finally:
        shape_runs.STABLE, shape_runs.LINES_PER_COMPILE = saved


def _facts(result):
    return result.document, [(d.code, d.message, d.span, d.hint, d.excerpt) for d in result.diagnostics]


def _same(text: str | SourceFile):
    """The model and diagnostics read with runs, checked equal to those read line by line and by
    the interpreter alone; the reader and result with runs."""
    source = text if isinstance(text, SourceFile) else SourceFile(PATH, text)
    reader, result = _read(source, "runs")
    expected = _facts(_read(source, "interpreter")[1])
    assert _facts(result) == expected
    assert _facts(_read(source, "lines")[1]) == expected
    assert _facts(_read(source, "default runs")[1]) == expected
    return reader, result


def _rules(document, chain="INPUT", table="filter"):
    return next(c for c in next(t for t in document.tables if t.name == table).chains if c.name == chain).rules


def test_a_blocklist_is_read_by_runs_with_its_odd_lines_read_the_usual_way():
    lines = [f"-A INPUT -s 10.{i // 65536}.{i // 256 % 256}.{i % 256}/32 -j DROP" for i in range(400)]
    odd = {37: "-A INPUT -s 10.0.0.300/32 -j DROP", 38: "-A INPUT -s 10.0.1.1/33 -j DROP",
           90: "-A INPUT -s 10.0.1.1/³ -j DROP", 91: "-A INPUT -s 010.0.0.1/8 -j DROP",
           120: "-A INPUT -s 10.0.0.1/32 -j DROP ", 121: "-A INPUT -s 10.0.0.1/32 -j DROP\r",
           150: "-A INPUT -s db.example.com -j DROP", 151: "-A INPUT -s 0x0a.0.0.1 -j DROP",
           180: "-A INPUT -s 10.0.0.1/32 -j ACCEPT", 181: "-A INPUT -s ACCEPT -j DROP",
           200: "-A UNDECLARED -s 10.0.0.1 -j DROP", 201: "-A INPUT -s 1.2.3.4/08 -j DROP",
           220: "-A INPUT -s 1.2.3.4/ -j DROP", 221: "-A INPUT -s 1.2.3 -j DROP", 240: "# a comment", 241: "",
           260: "-A INPUT -s 10.0.0.1\t-j DROP", 261: "-A INPUT  -s 10.0.0.1 -j DROP", 262: "[0:0] -A INPUT -s 10.0.0.1 -j DROP"}
    for at, line in odd.items():
        lines[at] = line
    reader, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    assert reader.runs.taken > 300
    assert [(d.code, d.span.line) for d in result.diagnostics] == [
        ("PL011", 43), ("PL011", 44), ("PL011", 96), ("PL005", 127), ("PL013", 156), ("PL013", 187), ("PL011", 206)]
    rules = _rules(result.document)
    assert rules[7].span.line == 13 and rules[7].text == lines[7] and rules[7].span.end_column == len(lines[7])
    assert rules[120].text == lines[120].rstrip() and rules[121].text == lines[121][:-1]


def test_ports_comments_jumps_and_nat_targets_in_runs():
    lines = []
    for k in range(300):
        lines.append(f'-A INPUT -s 10.0.{k % 256}.0/24 -p tcp -m tcp --dport {k % 7 * 10000 + k} -j BLOCK')
        lines.append(f'-A INPUT -p udp -m multiport --dports {k},{k + 1},{k * 300} -m comment --comment "c {k}" '
                     f'-j {"DROP" if k % 3 else "BLOCK"}')
    nat = []
    for k in range(200):
        nat.append(f'-A KUBE-SEP-{k:04X} -s 10.1.{k % 256}.{k % 7}/32 -m comment --comment "ns/svc{k}" -j KUBE-MARK-MASQ')
        nat.append(f'-A KUBE-SEP-{k:04X} -p tcp -m comment --comment "ns/svc{k}" -m tcp -j DNAT '
                   f'--to-destination 10.1.{k % 300}.{k % 9}:{k * 400}')
    declarations = "".join(f":KUBE-SEP-{k:04X} - [0:0]\n" for k in range(200))
    text = (HEAD + "\n".join(lines) + "\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:KUBE-MARK-MASQ - [0:0]\n"
            + declarations + "\n".join(nat) + "\nCOMMIT\n")
    reader, result = _same(text)
    assert reader.runs.taken > 700
    assert result.diagnostics  # ports over 65535, octets over 255: read the usual way, reported


def test_declarations_read_in_one_piece_are_what_the_chain_lines_give():
    names = [f"KUBE-SVC-{k:04X}" for k in range(50)]
    declarations = [f":{name} - [0:0]" for name in names]
    declarations[10] = ":KUBE-SVC-0001 - [0:0]"  # declared twice
    declarations[11] = ":INPUT - [0:0]"  # a built-in chain
    declarations[20] = ":KUBE-X - [0:0] "
    declarations[21] = ":KUBE-Y  - [0:0]"
    declarations[22] = ":KUBE-Z ACCEPT [0:0]"
    declarations[23] = ":KUBE-W - [0:0]\r"
    declarations[24] = ':KU"BE - [0:0]'
    declarations[30] = "-A KUBE-SVC-0001 -j DROP"
    text = "\n".join(declarations[:5]) + "\n" + HEAD + "\n".join(declarations) + "\nCOMMIT\n"
    _, result = _same(text)
    chains = {c.name: c for c in result.document.tables[0].chains}
    assert chains["KUBE-SVC-001F"].span.line == 42 and chains["KUBE-SVC-001F"].policy is None  # k = 31


def test_a_new_chain_and_a_new_table_in_a_run():
    lines = [f"-A INPUT -s 10.0.0.{i} -j LATER" for i in range(60)] + [":LATER - [0:0]", "-N LATER2"]
    lines += [f"-A INPUT -s 10.0.1.{i} -j LATER" for i in range(60)]
    nat = "*nat\n:PREROUTING ACCEPT [0:0]\n:FORWARD - [0:0]\n" + "\n".join(
        f"-A {'FORWARD' if i % 2 else 'PREROUTING'} -s 10.0.2.{i} -j DROP" for i in range(60)) + "\nCOMMIT\n"
    filter_forward = "\n".join(f"-A FORWARD -s 10.0.3.{i} -j DROP" for i in range(60))
    _same(HEAD + filter_forward + "\n" + "\n".join(lines) + "\nCOMMIT\n" + nat)


def test_invalid_utf8_and_no_final_newline(tmp_path):
    lines = [f"-A INPUT -s 10.0.0.{i} -j DROP" for i in range(100)]
    data = (HEAD + "\n".join(lines[:50]) + "\n-A INPUT -s 10.0.0.\xff -j DROP\n").encode("latin-1")
    data += "\n".join(lines[50:]).encode()
    path = tmp_path / "bad.rules"
    path.write_bytes(data)
    source = read_source(str(path))
    _same(source)
    _same(SourceFile(PATH, HEAD + "\n".join(lines)))  # the last run ends at the text's end


@pytest.mark.parametrize("seed", [1, 2])
def test_random_lines_of_many_shapes_read_alike(seed):
    rnd = random.Random(seed)
    options = ["-s {a}", "! -s {a}", "-d {a}", "-p tcp -m tcp --dport {p}", "-p udp --sport {p}",
               '-m comment --comment "{w}"', "-m comment --comment {w}", "-p tcp -m multiport --dports {p},{p}",
               "-i eth0"]
    values = {"a": ["10.0.0.1", "10.1.0.0/16", "1.2.3.4/32", "300.1.1.1", "1.2.3.4/33", "1.2.3.4/³", "010.0.0.1"],
              "p": ["22", "80", "65535", "65536", "70000", "http"], "w": ["x", "two words", "ACCEPT", "-dash"]}
    targets = ["ACCEPT", "DROP", "BLOCK", "{w}", "DNAT --to-destination {a}:{p}", "LOG --log-prefix {w}"]
    chains = ["INPUT", "OUTPUT", "BLOCK", "PREROUTING", "UNDECLARED", "KUBE-SEP-1"]
    shapes = [f"-A {rnd.choice(chains)} {' '.join(rnd.sample(options, rnd.randint(1, 3)))} -j {rnd.choice(targets)}"
              for _ in range(14)]
    lines = []
    for _ in range(1500):
        line = rnd.choice(shapes[:rnd.choice([3, 6, 14])])
        for key, choices in values.items():
            while "{" + key + "}" in line:
                line = line.replace("{" + key + "}", rnd.choice(choices[:2] if rnd.random() < 0.9 else choices), 1)
        lines.append(line)
    half = len(lines) // 2
    text = (HEAD + ":KUBE-SEP-1 - [0:0]\n" + "\n".join(lines[:half]) + "\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n"
            ":BLOCK - [0:0]\n:KUBE-SEP-1 - [0:0]\n" + "\n".join(lines[half:]) + "\nCOMMIT\n")
    reader, _ = _same(text)
    assert reader.runs.taken > 300


def test_runs_of_lines_with_blanks_after_them_keep_the_rule_text_without():
    lines = [f"-A INPUT -s 10.0.0.{i} -j DROP " for i in range(60)]
    lines += [f"-A INPUT -s 10.0.1.{i} -p tcp --dport {i} -j DROP   " for i in range(60)]
    reader, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    assert reader.runs.taken > 100
    rules = _rules(result.document)
    assert rules[70].text == lines[70].rstrip() and rules[70].span.end_column == len(lines[70].rstrip())


def test_every_ipv6_address_the_family_test_finds_has_the_two_colons_searched_first():
    from linter.frontends.iptables import tables

    rnd = random.Random(6)
    pieces = ["-s ", "-d ", "--to-destination ", "--src ", "! ", "[", "]", ":", "::", "1", "a", "f", "g", ".", " ",
              "\t", "fe80", "10.0.0.1", "/64", "\n", "-A X ", "x"]
    found = 0
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
        if tables._IPV6_ADDRESS.search(text):
            found += 1
            assert tables._TWO_COLONS.search(text), text
    assert found > 500
    assert tables.detect_family("-A INPUT -s fe80::1 -j DROP").value != tables.detect_family("-A INPUT -s 10.0.0.1").value


def test_alternations_are_compiled_within_their_budget_when_shapes_keep_changing():
    # Twelve shapes in blocks of 60 lines: the eight recent shapes change with every block.
    lines = []
    for block in range(60):
        shape = block % 12
        lines += [f"-A INPUT -s 10.{shape}.{block}.{i} -p tcp --dport {1000 + shape} -m comment --comment s{shape} "
                  f"-j {'ACCEPT' if shape % 2 else 'DROP'}" + " -m mark --mark 1" * (shape // 2) for i in range(60)]
    reader = FileReader(SourceFile(PATH, HEAD + "\n".join(lines) + "\nCOMMIT\n"))
    result = reader.read()
    assert reader.runs.compiled <= shape_runs.FREE_COMPILES + len(lines) // shape_runs.LINES_PER_COMPILE
    assert reader.runs.lines >= len(lines)
    assert _facts(result) == _facts(_read(SourceFile(PATH, HEAD + "\n".join(lines) + "\nCOMMIT\n"), "interpreter")[1])


def test_no_alternation_is_compiled_for_the_last_lines_of_a_text():
    lines = [f"-A INPUT -s 10.0.{i // 256}.{i % 256} -j DROP" for i in range(1500)]
    reader = FileReader(SourceFile(PATH, HEAD + "\n".join(lines) + "\nCOMMIT\n"))
    reader.read()
    assert reader.runs.compiled == 0 and reader.runs.match is None
    reader = FileReader(SourceFile(PATH, HEAD + "\n".join(lines * 3) + "\nCOMMIT\n"))
    reader.read()
    assert reader.runs.compiled == 1


@pytest.mark.parametrize("seed", [3, 4])
def test_random_lines_of_the_two_match_and_jump_shapes_read_alike(seed):
    """The fill functions of plans.py's _one_of_two and _match_and_verdict (a random mix's
    multiport and ``-s NET -j CHAIN`` lines), with bad values among them, give the general read's model."""
    rnd = random.Random(seed)
    shapes = ["-A {c} -p {p} -m multiport --dports {l} -j DROP", "-A {c} -s {a} -p {p} -j DROP",
              "-A {c} -s {a} -j {j}", "-A {c} -p {p} -s {a} -j {j}", "-A {c} -s {a} -j {j} -m comment --comment x",
              "-A {c} -p {p} -j {j}"]
    values = {"c": ["INPUT", "BLOCK", "CHAIN-1", "CHAIN-2"], "p": ["tcp", "udp"], "j": ["CHAIN-1", "CHAIN-2", "BLOCK"],
              "a": ["10.0.0.1", "10.1.0.0/16", "1.2.3.0/24", "300.1.1.1", "1.2.3.4/33", "db.example.com"],
              "l": ["22", "80,443", "1,2,3", "7,5,6,5", "65536,1", "http,22", "9,8,7,6,5,4,3,2,1,10,11,12,13,14,15,16"]}
    lines = []
    for _ in range(2000):
        line = rnd.choice(shapes[:rnd.choice([2, 4, 6])])
        for key, choices in values.items():
            line = line.replace("{" + key + "}", rnd.choice(choices[:3] if rnd.random() < 0.9 else choices))
        lines.append(line)
    text = HEAD.replace(":BLOCK", ":CHAIN-1 - [0:0]\n:CHAIN-2 - [0:0]\n:BLOCK") + "\n".join(lines) + "\nCOMMIT\n"
    reader, _ = _same(text)
    assert reader.runs.taken > 600
    fillers = {plan.filler.__name__ for plan in reader.plans.plans.values() if plan}
    assert {"second_of_two", "first_of_two", "match_and_verdict", "match_of_several_and_verdict"} <= fillers


def test_the_possessive_value_pattern_reads_what_the_greedy_one_did():
    """shape_patterns.VALUE's repeats are possessive: in a shape's pattern (a value followed by a
    space, the end or the next literal text) and in plans.py's split, it matches what the greedy
    pattern matched, with the same groups, on random lines."""
    import re

    from linter.frontends.iptables import shape_patterns

    greedy = shape_patterns.VALUE.replace("*+", "*")
    assert greedy != shape_patterns.VALUE
    rnd = random.Random(9)
    pieces = ["-s ", "-j ", "--dports ", " ", '"', "a b", "!", "\\", "1", "10.0.0.1", "/24", ",", "-x", "DROP", "é", "\t"]
    keys = [("", "-s", " -j DROP", "INPUT"), ("-p tcp ", "--dports", " -j ", "-j", "", ""),
            ("", "-s", " ", "-d", "", "")]
    for key in keys:
        fast = re.compile(shape_patterns.shape_source(key, True)).fullmatch
        slow = re.compile(shape_patterns.shape_source(key, True).replace(shape_patterns.VALUE, greedy)).fullmatch
        prefix = f"-A {key[-1] or 'X'} "
        for _ in range(4000):
            text = prefix + "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 9)))
            m, n = fast(text), slow(text)
            assert (m and m.groups()) == (n and n.groups()), text
    split_fast = re.compile(rf'(?:^|(?<= ))(-s|--dports) {shape_patterns.VALUE}(?= |\Z)').split
    split_slow = re.compile(rf'(?:^|(?<= ))(-s|--dports) {greedy}(?= |\Z)').split
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
        assert split_fast(text) == split_slow(text), text


@pytest.mark.parametrize("seed", [5, 6])
def test_random_lines_of_several_built_in_chains_and_user_chains_read_alike(seed):
    """An alternation gathers the shapes of each built-in chain (shape_runs._alternation): lines of
    INPUT, OUTPUT and FORWARD shapes mixed with user chains (one named like a built-in chain of
    another table, one a literal target's name), and odd values, give the general read's model."""
    rnd = random.Random(seed)
    shapes = ["-A {b} -s {a} -j DROP", "-A {b} -s {a} -j {j}", "-A {b} -p {p} -m multiport --dports {l} -j DROP",
              "-A {c} -s {a} -j RETURN", "-A {c} -s {a} -j DROP", "-A {c} -p {p} -m multiport --dports {l} -j DROP",
              "-A {b} -p {p} -j {j}", '-A {c} -s {a} -m comment --comment {w} -j DROP']
    values = {"b": ["INPUT", "OUTPUT", "FORWARD"], "c": ["CHAIN-1", "CHAIN-2", "PREROUTING", "LOG", "INPUTX"],
              "p": ["tcp", "udp"], "j": ["CHAIN-1", "CHAIN-2", "ACCEPT", "LOG"],
              "a": ["10.0.0.1", "1.2.3.0/24", "9.8.0.0/16", '"1.2.3.4"', '"1.2.3.4 x"', "1.2!3.4", "1.2.3.4\\",
                    "300.1.1.1", "-1.2.3.4"],
              "l": ["22", "80,443", "1,2,3", "65536,1"], "w": ["x", '"two words"', "ACCEPT", '"a"b']}
    lines = []
    for _ in range(3000):
        line = rnd.choice(shapes[:rnd.choice([3, 6, 8])])
        for key, choices in values.items():
            line = line.replace("{" + key + "}", rnd.choice(choices[:3] if rnd.random() < 0.9 else choices))
        lines.append(line)
    head = HEAD.replace(":BLOCK", ":CHAIN-1 - [0:0]\n:CHAIN-2 - [0:0]\n:PREROUTING - [0:0]\n:LOG - [0:0]\n"
                                  ":INPUTX - [0:0]\n:BLOCK")
    reader, _ = _same(head + "\n".join(lines) + "\nCOMMIT\n")
    assert reader.runs.taken > 1000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shared_openings_pick_the_shape_and_values_each_pattern_reads(seed):
    """shape_runs._alternation reads the shared opening of several shapes once (their first literal
    text and values): on random lines, a line the alternation reads is one whose own shape's
    pattern reads it, with the same values (the branch's groups), and a line it does not read is
    one no shape's pattern reads without a literal target after -j (the guard, a tree of words)."""
    import re

    from linter.frontends.iptables import shape_patterns

    rnd = random.Random(seed)
    keys = [("", "-s", " -j DROP", ""), ("", "-s", " -j RETURN", ""), ("", "-s", " ", "-j", "", ""),
            ("", "-s", " ", "-d", " -j DROP", ""), ("", "-s", " ", "-d", " ", "-j", "", ""),
            ("-p tcp -m multiport ", "--dports", " -j DROP", ""), ("-p tcp ", "-j", "", ""),
            ("", "-s", " -p tcp -m multiport ", "--dports", " -j ACCEPT", ""), ("", "-d", " -j DROP", "")]
    words = ["DROP", "RETURN", "ACCEPT", "DRO", "DROPS", "CONN", "CONNMARK", "CT", "CTX", "X", "1.2.3.4",
             '"a b"', "-x", "", "LOG", "LOGX"]

    class Plan:
        def __init__(self, key):
            self.key, self.builtin_chain, self.filler, self.lone, self.pair, self.two = key, None, key, None, None, None

    read = 0
    for trial in range(30):
        chosen = rnd.sample(keys, rnd.randint(2, len(keys)))
        match, branches, chain_at = shape_runs._alternation([Plan(key) for key in chosen], "[^ ]+")
        own = [(key, re.compile(shape_patterns.shape_source(key, True)).fullmatch) for key in chosen]
        for _ in range(300):
            key = rnd.choice(keys)
            parts = [key[0]]
            for k in range(1, len(key) - 1, 2):
                parts += [key[k], " ", rnd.choice(words), key[k + 1]]
            line = "-A C " + "".join(parts)
            m = match(line)
            found = [(k, f(line)) for k, f in own if f(line)]
            if m is None:
                assert not found, line
                continue
            _, numbers, one, filler, _, _, _ = branches[m.lastindex]
            read += 1
            values = (m[numbers],) if one else m.group(*numbers)
            assert m[chain_at] == "C"
            assert [(k, f.groups()[1:]) for k, f in found] == [(filler, values)], line
    assert read > 2000  # most lines are of a chosen shape


@pytest.mark.parametrize("seed", [7, 8])
def test_port_lines_read_in_the_runs_loop_read_alike(seed):
    """A plan of a protocol and one port option filled in (``Plan.pair``) is read in shape_runs'
    loop itself, through the reader's memo: random port lines (multiport and single ports, source
    and destination, quoted, odd and repeated values, both protocols, in built-in and user chains)
    give the general read's model, and equal port lists share one match object (the memo's)."""
    rnd = random.Random(seed)
    shapes = ["-A {b} -p {p} -m multiport --dports {l} -j DROP", "-A {c} -p {p} -m multiport --sports {l} -j DROP",
              "-A {b} -p {p} -m {p} --dport {o} -j ACCEPT", "-A {c} -p {p} -m multiport --dports {l} -j RETURN",
              "-A {b} -p {p} -m multiport ! --dports {l} -j DROP", "-A {b} -s {a} -j DROP"]
    values = {"b": ["INPUT", "OUTPUT"], "c": ["CHAIN-1", "CHAIN-2"], "p": ["tcp", "udp"],
              "l": ["22", "80,443", "1,2,3", "1:1024,8080", '"22"', "65536,1", "0", "x", "22,", "1:2:3", "ssh,80"],
              "o": ["22", "443", '"80"', "1:1024", "65536", "ssh"], "a": ["10.0.0.1", "1.2.3.0/24"]}
    lines = []
    for _ in range(3000):
        line = rnd.choice(shapes[:rnd.choice([2, 4, 6])])
        for key, choices in values.items():
            line = line.replace("{" + key + "}", rnd.choice(choices[:4] if rnd.random() < 0.9 else choices))
        lines.append(line)
    head = HEAD.replace(":BLOCK", ":CHAIN-1 - [0:0]\n:CHAIN-2 - [0:0]\n:BLOCK")
    reader, result = _same(head + "\n".join(lines) + "\nCOMMIT\n")
    assert reader.runs.taken > 1000
    assert any(plan and plan.pair for plan in reader.plans.plans.values())
    by_text: dict = {}
    for table in result.document.tables:
        for chain in table.chains:
            for rule in chain.rules:
                for match in rule.matches[1:]:
                    if type(match).__name__ != "PortMatch":
                        continue  # an odd value: read the usual way, which makes its own (diagnostics)
                    assert by_text.setdefault((rule.text.split(" -j ")[0].split(" ", 2)[2], repr(match)), match) is match


def _sharing(document) -> list:
    """Per match of every rule, the position of the first match that is the same object: which
    matches the read shares (the memos' objects)."""
    first: dict = {}
    shared = []
    for table in document.tables:
        for chain in table.chains:
            for rule in chain.rules:
                for match in rule.matches:
                    shared.append(first.setdefault(id(match), len(first)))
    return shared


@pytest.mark.parametrize("seed,family", [(11, "ipv4"), (12, "ipv4"), (13, "ipv6")])
def test_address_and_port_lines_read_in_the_runs_loop_read_alike(seed, family):
    """A plan of an address, a kept match and a port option filled in (``Plan.two``, an allow-list's
    ``-s NET -p tcp -m tcp --dport N``) is read in shape_runs' loop itself, through the reader's
    address and option memos: random lines of such shapes (source and destination, negated,
    quoted, odd and repeated values, single ports and lists, built-in and user chains) among
    others give the general read's model, with the same matches shared as the general read shares."""
    rnd = random.Random(seed)
    shapes = ["-A {b} -s {a} -p {p} -m {p} --dport {o} -j ACCEPT", "-A {c} -d {a} -p {p} -m multiport --dports {l} -j DROP",
              "-A {b} ! -s {a} -p {p} -m {p} --sport {o} -j DROP", "-A {b} -s {a} -p {p} -m {p} ! --dport {o} -j ACCEPT",
              "-A {b} -p {p} -m {p} --dport {o} -j ACCEPT", "-A {b} -s {a} -j DROP", "-A {c} -s {a} -d {a} -j ACCEPT"]
    addresses = (["10.0.0.1", "1.2.3.0/24", "10.9.0.0/16", '"1.2.3.4"', "300.1.1.1", "1.2.3.4/33", "db.example.com",
                  "ACCEPT", "1.2.3", "0x0a.0.0.1", "1.2.3.4/", "1.2.3.4/08"] if family == "ipv4" else
                 ["fe80::1", "2001:db8::/32", "::1", '"fe80::2"', "2001:db8::/129", "db.example.com", "ACCEPT", "1.2.3.4"])
    values = {"b": ["INPUT", "OUTPUT"], "c": ["CHAIN-1", "CHAIN-2"], "p": ["tcp", "udp"],
              "l": ["22", "80,443", "1:1024,8080", '"22"', "65536,1", "x"],
              "o": ["22", "443", '"80"', "1:1024", "65536", "ssh", "DROP", "0"], "a": addresses}
    lines = []
    for _ in range(3000):
        line = rnd.choice(shapes[:rnd.choice([1, 2, 4, 7])])
        for key, choices in values.items():
            while "{" + key + "}" in line:
                line = line.replace("{" + key + "}", rnd.choice(choices[:3] if rnd.random() < 0.93 else choices), 1)
        lines.append(line)
    head = HEAD.replace(":BLOCK", ":CHAIN-1 - [0:0]\n:CHAIN-2 - [0:0]\n:BLOCK")
    reader, result = _same(head + "\n".join(lines) + "\nCOMMIT\n")
    assert reader.runs.taken > 1000
    assert any(plan and plan.two for plan in reader.plans.plans.values())
    assert _sharing(result.document) == _sharing(_read(SourceFile(PATH, head + "\n".join(lines) + "\nCOMMIT\n"),
                                                       "interpreter")[1].document)
