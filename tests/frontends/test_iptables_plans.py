"""Shape plans (linter/frontends/iptables/plans.py) read every line exactly as the interpreter does."""

from __future__ import annotations

import random

from linter.frontends.iptables.save import FileReader
from linter.model import AddressMatch, Direction, VerdictKind
from linter.source import SourceFile

PATH = "plans.rules"


def _read(text: str, plans: bool = True):
    reader = FileReader(SourceFile(PATH, text))
    if not plans:
        reader.plans = None
    return reader, reader.read()


def _same(text: str):
    """The model and diagnostics with plans, checked equal to the interpreter's; and the reader."""
    reader, planned = _read(text)
    _, interpreted = _read(text, plans=False)
    assert planned.document == interpreted.document
    assert [(d.code, d.message, d.span, d.hint, d.excerpt) for d in planned.diagnostics] == \
           [(d.code, d.message, d.span, d.hint, d.excerpt) for d in interpreted.diagnostics]
    return reader, planned


def _rules(document, chain="INPUT", table="filter"):
    return next(c for c in next(t for t in document.tables if t.name == table).chains if c.name == chain).rules


HEAD = "*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n:BLOCK - [0:0]\n"


def test_a_blocklist_is_read_once_and_filled_after():
    lines = [f"-A INPUT -s 10.0.{i // 256}.{i % 256}/32 -j DROP" for i in range(300)]
    reader, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    rules = _rules(result.document)
    assert len(rules) == 300
    assert rules[7].matches == (AddressMatch(Direction.SOURCE, rules[7].matches[0].addresses),)
    assert rules[7].matches[0].addresses.ranges == ((0x0A000007, 0x0A000007),)
    assert rules[7].matches[0].addresses.text == "10.0.0.7/32"
    assert rules[7].span.line == 13 and rules[7].text == lines[7]
    assert len([p for p in reader.plans.plans.values() if p]) == 1


def test_bad_values_in_a_planned_shape_are_reported_as_the_interpreter_does():
    lines = ["-A INPUT -s 10.0.0.1/32 -j DROP", "-A INPUT -s 10.0.0.300/32 -j DROP",
             "-A INPUT -s db.example.com -j DROP", "-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP",
             "-A INPUT -s 10.0.0.2/33 -j DROP", "-A INPUT -s 10.0.0.3 -j DROP"]
    _, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("PL011", 7, 13), ("PL013", 8, 13), ("PL013", 9, 13), ("PL011", 10, 22)]
    assert len(_rules(result.document)) == 6


def test_jumps_verdicts_comments_and_ports_fill_their_places():
    lines = []
    for i in range(40):
        target = ["BLOCK", "ACCEPT", "DROP", "LOG", "REJECT"][i % 5]
        lines.append(f'-A INPUT -d 192.0.2.{i}/32 -p tcp -m comment --comment "svc {i}" -m tcp --dport {1000 + i} '
                     f'-j {target}')
    lines.append('-A INPUT -p tcp -m comment --comment "a" -m comment --comment b -m tcp --dport 70000 -j BLOCK')
    lines.append('-A INPUT -p tcp -m comment --comment "c" -m comment --comment d -m tcp --dport 22 -j BLOCK')
    _, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    rules = _rules(result.document)
    assert rules[5].verdict.kind is VerdictKind.JUMP and rules[5].verdict.target == "BLOCK"
    assert rules[6].verdict.kind is VerdictKind.ACCEPT
    assert rules[5].comment == "svc 5" and rules[-1].comment == "c; d"
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("PL011", 46)]


def test_random_lines_of_a_few_shapes_read_alike():
    rnd = random.Random(14)
    options = ["-s {a}", "! -s {a}", "-d {a}", "-i eth{n}", "-p tcp -m tcp --dport {p}", "-p udp --sport {p}",
               '-m comment --comment "{w}"', "-m comment --comment {w}", "-m multiport --dports {p},{p}",
               "-m conntrack --ctstate NEW", "-p tcp --dpo {p}", "--dport {p}", "-s {a},{a}", "-m set --set x"]
    values = {"a": ["10.0.0.1", "10.1.0.0/16", "1.2.3.4/32", "300.1.1.1", "host.example", "010.0.0.1",
                    "1.2.3.4/0", "-x", "10.0.0.0/255.255.0.0"],
              "p": ["22", "80", "65535", "70000", "http", "0x10", "1-2"],
              "w": ["x", "two words", "a!b", "-dash", "ACCEPT"],
              "n": ["0", "1", "23456789012345678"]}
    shapes = []
    for _ in range(60):
        chosen = rnd.sample(options, rnd.randint(1, 3))
        chain = rnd.choice(["INPUT", "OUTPUT", "BLOCK", "UNDECLARED"])
        target = rnd.choice(["ACCEPT", "BLOCK", "NOCHAIN", "LOG --log-prefix x", "DNAT", "MARK --set-mark 1",
                             "DNAT --to-destination {a}:{p}", "DNAT --to-destination {a}", "REDIRECT --to-ports {p}",
                             "SNAT --to-source {a} --random", "DNAT --to-destination {a} --to-destination {a}"])
        shapes.append(f"-A {chain} {' '.join(chosen)} -j {target}")
    lines = []
    for _ in range(1500):  # each shape about 25 times, with random values
        line = rnd.choice(shapes)
        for key, choices in values.items():
            while "{" + key + "}" in line:
                line = line.replace("{" + key + "}", rnd.choice(choices[:2] if rnd.random() < 0.6 else choices), 1)
        lines.append(line)
    text = HEAD + "\n".join(lines) + "\nCOMMIT\n"
    _same(text)
    _same(text.replace("*filter", "*nat").replace(":INPUT DROP", ":PREROUTING ACCEPT"))


def test_a_chain_created_later_drops_the_plans():
    text = HEAD + "-A INPUT -s 10.0.0.1 -j LATER\n-N LATER\n-A INPUT -s 10.0.0.2 -j LATER\nCOMMIT\n"
    reader, result = _same(text)
    assert [r.verdict.kind for r in _rules(result.document)] == [VerdictKind.JUMP, VerdictKind.JUMP]


def test_an_allow_list_of_two_values_a_line_reads_as_the_interpreter_does():
    """Lines with two values filled in (a source and a port: plans._two_matches), among them a
    bad address, a bad port, a negated source and a quoted value, read as the interpreter reads them."""
    lines = []
    for i in range(300):
        lines.append(f"-A INPUT -s 10.0.{i // 2}.0/24 -p tcp -m tcp --dport {(22, 443)[i % 2]} -j ACCEPT")
    lines[120] = "-A INPUT -s 10.0.300.0/24 -p tcp -m tcp --dport 22 -j ACCEPT"
    lines[121] = "-A INPUT -s 10.0.60.0/24 -p tcp -m tcp --dport 70000 -j ACCEPT"
    lines[122] = "-A INPUT ! -s 10.0.61.0/24 -p tcp -m tcp --dport 22 -j ACCEPT"
    lines[123] = '-A INPUT -s "10.0.61.0/24" -p tcp -m tcp --dport "443" -j ACCEPT'
    lines[124] = "-A INPUT -s 10.0.62.0/24 -p tcp -m tcp --dport http -j ACCEPT"
    reader, result = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    rules = _rules(result.document)
    assert len(rules) == 300
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics][:2] == [("PL011", 126, 13),
                                                                                      ("PL011", 127, 48)]
    assert rules[201].matches[0].addresses.ranges == ((0x0A006400, 0x0A0064FF),)
    assert rules[201].matches[2].ports.ranges == ((443, 443),)
    assert any(plan and plan.filler.__name__ == "two_matches" for plan in reader.plans.plans.values())


def test_equal_addresses_share_one_match_whichever_way_their_lines_are_read():
    # Lines of other shapes (read the usual way) and of one shape (planned, then in runs) name
    # the same addresses: each (option, negation, value) is one AddressMatch, as the interpreter
    # alone makes it.
    rnd = random.Random(21)
    addresses = [f"10.1.{rnd.randrange(4)}.{rnd.randrange(8)}/32" for _ in range(40)]
    shapes = ["-A INPUT -s {a} -j DROP", "-A INPUT ! -s {a} -p tcp -j ACCEPT", "-A BLOCK -d {a} -j RETURN",
              "-A INPUT -i eth{n} -d {a} -j DROP", "-A INPUT ! -d {a} -o eth{n} -j ACCEPT"]
    lines = [rnd.choice(shapes).format(a=rnd.choice(addresses), n=rnd.randrange(3)) for _ in range(3000)]
    lines += [f"-A INPUT -s {a} -j DROP" for a in addresses * 60]
    for planned in (True, False):
        _, result = _read(HEAD + "\n".join(lines) + "\nCOMMIT\n", plans=planned)
        seen: dict = {}
        for chain in ("INPUT", "BLOCK"):
            for rule in _rules(result.document, chain):
                for match in rule.matches:
                    if isinstance(match, AddressMatch):
                        key = (match.direction, match.negated, match.addresses.text)
                        assert seen.setdefault(key, match) is match, key
        assert len(seen) > 40
    _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")


def test_equal_jumps_share_one_verdict_whichever_way_their_lines_are_read():
    rnd = random.Random(22)
    chains = [f"C{k}" for k in range(12)]
    head = HEAD + "".join(f":{name} - [0:0]\n" for name in chains)
    shapes = ["-A INPUT -s 10.0.0.{n}/32 -j {c}", "-A INPUT -p tcp --dport {n} -j {c}", "-A BLOCK -i eth{n} -j {c}",
              "-A INPUT -m comment --comment \"x{n}\" -j {c}"]
    lines = [rnd.choice(shapes).format(c=rnd.choice(chains), n=rnd.randrange(9)) for _ in range(4000)]
    for planned in (True, False):
        _, result = _read(head + "\n".join(lines) + "\nCOMMIT\n", plans=planned)
        seen: dict = {}
        for chain in ("INPUT", "BLOCK"):
            for rule in _rules(result.document, chain):
                assert rule.verdict.kind is VerdictKind.JUMP
                assert seen.setdefault(rule.verdict.target, rule.verdict) is rule.verdict
        assert len(seen) == len(chains)
    _same(head + "\n".join(lines) + "\nCOMMIT\n")


def _address_texts(rnd: random.Random, count: int) -> list[str]:
    """Random -s/-d texts, most of them plain addresses, the rest near misses of every kind."""
    parts = ["0", "1", "7", "10", "99", "255", "256", "00", "07", "010", "077", "08", "0377", "0x1f", "", "1a", "٣"]
    bits = ["", "/", "/0", "/8", "/08", "/24", "/32", "/33", "/100", "/255.255.0.0", "/x", "/ 1"]
    texts = []
    for _ in range(count):
        n = 4 if rnd.random() < 0.85 else rnd.choice([1, 2, 3, 5])
        chosen = [str(rnd.randrange(256)) if rnd.random() < 0.7 else rnd.choice(parts) for _ in range(n)]
        texts.append(".".join(chosen) + rnd.choice(bits))
    return texts


def test_the_ipv4_address_reader_makes_what_the_general_reader_makes():
    """plans._ipv4_address (plain_ipv4 and the match made in place) against RuleReader.address_match,
    on random plain texts and near misses; and lines of one shape with them read as the interpreter does."""
    from linter.frontends.iptables import plans
    from linter.frontends.iptables.values import BadValue

    rnd = random.Random(31)
    reader, _ = _read(HEAD + "COMMIT\n")
    rules = reader.rules
    for option, negated in (("-s", False), ("-d", True)):
        direction = Direction.SOURCE if option == "-s" else Direction.DESTINATION
        read = plans._value_reader(rules, "addr", (option, negated))
        assert read.__name__ == "ipv4_address"
        for text in _address_texts(rnd, 3000):
            try:
                expected = rules.address_match(direction, text, negated)
            except BadValue as exc:
                expected = (type(exc), str(exc))
            try:
                made = read(text)
            except BadValue as exc:
                made = (type(exc), str(exc))
            assert made == expected, text
            if isinstance(made, AddressMatch):
                assert type(made.addresses) is type(expected.addresses) and read(text) is made
    texts = [t for t in _address_texts(rnd, 600) if " " not in t]
    lines = [f"-A INPUT -s {text} -j DROP" for text in texts]
    reader, _ = _same(HEAD + "\n".join(lines) + "\nCOMMIT\n")
    # The shape's one value fills its one match: shape_runs.py reads it through the plan's lone.
    assert any(plan and plan.lone is not None for plan in reader.plans.plans.values())


def test_the_ipv4_address_reader_reads_each_last_part_as_plain_ipv4_does():
    """The text after an address's third dot is read once and remembered (values.address_tail):
    every such text, read first or again, slashes and dots after it included, gives the general
    reader's match (or its error)."""
    from linter.frontends.iptables import plans
    from linter.frontends.iptables.values import BadValue, TAILS, plain_ipv4

    reader, _ = _read(HEAD + "COMMIT\n")
    rules = reader.rules
    read = plans._value_reader(rules, "addr", ("-s", False))
    lasts = ["0", "4", "255", "256", "07", "010", "08", "", "4/", "4/0", "4/08", "4/24", "4/32", "4/33", "4/1/2",
             "4/2.4", "4//24", "0x4", "4/٣"]
    TAILS.clear()
    for round_ in range(2):
        for last in lasts:
            for head in ("10.1.2", "1.2.3", "300.1.2", "1.2"):
                text = f"{head}.{last}"
                try:
                    expected = rules.address_match(Direction.SOURCE, text, False)
                except BadValue as exc:
                    expected = (type(exc), str(exc))
                try:
                    made = read(text)
                except BadValue as exc:
                    made = (type(exc), str(exc))
                assert made == expected, (round_, text)
                if plain_ipv4(text) is not None:
                    assert made.addresses.ranges == (plain_ipv4(text),)
    assert all(plain_ipv4(f"1.2.3.{last}") is not None for last in TAILS)
