"""Plain rule lines modelled from their shape's plan (line_plans.py) and read as LINERUNS tokens
give the very model and diagnostics of the grammar's own path, line by line."""

from __future__ import annotations

from lark import Token

from linter.frontends.nftables import element_runs, line_plans, parse, START_SYMBOLS
from linter.grammars import load_parser
from linter.source import SourceFile

from tests.frontends.test_nft_element_runs import _reference_parser


def _text() -> str:
    """Varied rule lines: shapes repeated with good values, values the reader rejects, values a
    plan cannot take (ranges, lists, NAT addresses, a ttl), a port coinciding with a service
    name's, blank lines, CR and form feed, comments, `;`, IPv6, an ip and an inet table."""
    lines = []
    for i in range(300):  # more lines than one LINERUNS token takes, blank lines among them
        lines.append(f"\t\tip saddr 10.{i // 256}.{i % 256}.0/24 tcp dport {{ {22 + i % 3} }} accept")
        if i % 97 == 0:
            lines.append("")
    lines += [
        "\t\tip saddr 10.0.0.256 drop", "\t\tip saddr 010.0.0.1 drop", "\t\tip saddr 10.0.0.1/33 drop",
        "\t\tip saddr 10.0.0.1 drop", "\t\tip saddr 0.0.0.0/0 drop", "\t\tip saddr 255.255.255.255 drop",
        "\t\ttcp dport 70000 accept", "\t\ttcp dport 022 accept", "\t\ttcp dport 0 accept", "\t\ttcp dport 65535 accept",
        "\t\ttcp dport 22 accept", "\t\ttcp dport 70000 accept", "\t\ttcp dport 99999 accept",
        "\t\tip saddr 10.9.9.0/24 tcp dport { 65536 } accept", "\t\ttcp dport != 23 accept", "\t\ttcp dport < 1024 accept", "\t\ttcp dport < 80 accept",
        # the first line notes PL013 (no plan yet); in the second, 22 is the port ssh gave, not the length
        "\t\ttcp dport ssh meta length 100 accept", "\t\ttcp dport ssh meta length 22 accept",
        "\t\ttcp dport ssh meta length 200 accept", "\t\ttcp dport ssh meta length 23 accept",
        "\t\tip saddr 1.2.3.4 ip daddr 1.2.3.4 drop", "\t\tip saddr 1.2.3.5 ip daddr 1.2.3.6 drop",
        "\t\tip saddr 1.2.3.4-1.2.3.9 drop", "\t\tip saddr { 1.2.3.4, 1.2.3.9 } drop", "\t\ttcp dport { 22, 80 } drop",
        "\t\tip saddr 1.2.3.4 tcp sport 1-22 tcp dport 22 drop", "\t\tip daddr 9.9.9.9 dnat to 10.0.0.1",
        "\t\tip daddr 9.9.9.8 dnat to 10.0.0.2", "\t\tip ttl 64 drop", "\t\tip ttl 65 drop",
        "\t\tip saddr 7.7.7.7 counter accept; ip saddr 7.7.7.8 counter accept",
        "\t\tip saddr 5.5.5.5 drop\r", "\t\tip saddr 5.5.5.6 drop \f ", "\t\tip saddr 5.5.5.7 drop # a comment",
        "\t\tip saddr 5.5.5.8 drop", "\t\tip6 saddr ::1 tcp dport 22 drop", "\t\tip6 saddr ::2 tcp dport 23 drop",
        "\t\tudp dport 53 jump other", "\t\tudp dport 54 jump other", "\t\tudp dport 55 jump nosuch",
        # prefix lengths at their ends, host bits set: the plan's addresses are the reader's
        "\t\tip saddr 1.2.3.4/0 drop", "\t\tip saddr 255.255.255.255/32 drop", "\t\tip saddr 1.2.3.5/31 drop",
        "\t\tip saddr 129.8.7.6/1 drop", "\t\tip saddr 201.1.2.3/7 drop", "\t\tip saddr 0.0.0.0 drop",
        # values of another kind than the plan's: read the usual way
        "\t\tip saddr 22 drop", "\t\tip saddr 1.2.3.0/24 drop", "\t\ttcp dport 1.2.3.4 accept",
    ]
    ip = "table ip f {\n\tchain other {\n\t}\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n" + \
        "\n".join(lines) + "\n\t}\n}\n"
    inet = "table inet g {\n\tchain c {\n\t\ttype filter hook input priority 0;\n" + \
        "\n".join(line for line in lines if "jump" not in line) + "\n\t}\n}\n"
    return ip + inet


def _diagnostics(result) -> list:
    return [(d.code, d.message, d.span, d.hint, d.excerpt) for d in result.diagnostics]


def _rules(result) -> list:
    return [rule for table in result.document.tables for chain in table.chains for rule in chain.rules]


def _count_plan_uses(monkeypatch) -> list:
    """A list that gets an item each time a plan makes a rule (from the match of its shape's pattern)."""
    applied = []
    real_take = line_plans.Plan.take
    monkeypatch.setattr(line_plans.Plan, "take", lambda plan, *args: applied.append(1) or real_take(plan, *args))
    return applied


def test_plans_and_line_runs_give_the_grammar_paths_model_and_diagnostics(monkeypatch):
    applied = _count_plan_uses(monkeypatch)
    fast = parse(SourceFile("x.nft", _text()))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", _text()))
    # most lines came from a plan (and each plan made was checked with one, when a second line of
    # its shape came: 9 shapes have one line only); values of another kind than their shape plan's
    # (18 lines) are not taken by its pattern
    assert len(applied) == 633
    assert len(_rules(fast)) == 699
    assert fast.document == slow.document
    assert _diagnostics(fast) == _diagnostics(slow)
    # Ports over 65535 on lines of a planned shape (321-323, 680-682): the reader's PL011.
    assert [(d.code, d.span.line, d.span.column) for d in fast.diagnostics] == [
        ("PL011", 310, 12), ("PL011", 311, 12), ("PL011", 312, 12), ("PL011", 316, 13), ("PL011", 321, 13),
        ("PL011", 322, 13), ("PL011", 323, 36), ("PL013", 327, 17), ("PL013", 339, 3), ("PL011", 357, 12),
        ("PL013", 359, 3), ("PL011", 669, 12), ("PL011", 670, 12), ("PL011", 671, 12), ("PL011", 675, 13),
        ("PL011", 680, 13), ("PL011", 681, 13), ("PL011", 682, 36), ("PL011", 713, 12)]


def test_a_plan_is_checked_on_a_line_with_other_values(monkeypatch):
    """Without the check, `tcp dport ssh meta length 22` would become a plan filling the port."""
    checked = parse(SourceFile("x.nft", _text()))
    monkeypatch.setattr(line_plans.LinePlans, "_holds", lambda *args: True)
    unchecked = parse(SourceFile("x.nft", _text()))
    wrong = [(a.text, a.matches[1], b.matches[1]) for a, b in zip(_rules(checked), _rules(unchecked)) if a != b]
    assert [(text, good.ports.ranges, bad.ports.ranges) for text, good, bad in wrong] == [
        ("tcp dport ssh meta length 200 accept", ((22, 22),), ((200, 200),)),
        ("tcp dport ssh meta length 23 accept", ((22, 22),), ((23, 23),)),
    ]


def test_consecutive_plain_lines_are_one_token_of_at_most_256_lines():
    text = "table ip f {\n\tchain c {\n" + "".join(f"\t\tip saddr 10.0.{i // 256}.{i % 256} drop\n"
                                                   for i in range(600)) + "\t}\n}\n"
    tree = load_parser("nftables", start=START_SYMBOLS).parse(text, start="start")
    runs = list(tree.scan_values(lambda v: isinstance(v, Token) and v.type in ("LINERUN", "LINERUNS")))
    assert [(run.type, run.line, len(element_runs.line_runs(run))) for run in runs] == [
        ("LINERUNS", 3, 256), ("LINERUNS", 259, 256), ("LINERUNS", 515, 88)]
    lines = [line for run in runs for line in element_runs.line_runs(run)]
    assert (lines[300].value, lines[300].line, lines[300].column, lines[300].end_column) == \
        ("ip saddr 10.0.1.44 drop", 303, 3, 26)


def test_a_line_of_many_values_alike_keeps_no_plan(monkeypatch):
    """Every address near each of the line's own is taken: no other line checks the plan, so none is kept."""
    lines = "".join("\t\t" + " ".join(f"ip saddr {octet}.2.3.{last}" for octet in range(20)) + " drop\n"
                    for last in range(3))
    text = "table ip f {\n\tchain c {\n" + lines + "\t}\n}\n"
    applied = _count_plan_uses(monkeypatch)
    fast = parse(SourceFile("x.nft", text))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert applied == []
    assert [len(rule.matches) for rule in _rules(fast)] == [20, 20, 20]
    assert fast.document == slow.document and _diagnostics(fast) == _diagnostics(slow) == []


def _value_groups(kinds: list) -> list[int]:
    """The group of each value in a shape's pattern (a prefix's is followed by its address's and length's)."""
    groups, at = [], 1
    for kind in kinds:
        groups.append(at)
        at += 3 if kind == line_plans._PREFIX else 1
    return groups


def test_a_shapes_pattern_takes_exactly_the_lines_split_gives_that_shape():
    """The shape pattern chain_rules tries first agrees with _VALUE.split on every line: lines of
    the shape with values of its kinds, values of other kinds, values the split does not cut
    (octets over 255, leading zeros, lengths over 32, five octets, numbers over five digits,
    values glued to other text) and other literals."""
    import itertools
    import random

    shapes = ["ip saddr 1.2.3.4 drop", "ip saddr 1.2.3.0/24 tcp dport { 22 } accept", "1.2.3.4 x",
              "ip saddr 1.2.3.0/24 drop", "ip saddr 1.2.3.4 ip daddr 5.6.7.0/8 tcp dport 1 drop",
              "tcp dport 22,80 y", "a {1.2.3.4,5} b", "x 7"]
    values = ["0", "1", "22", "65535", "99999", "123456", "022", "00", "1.2.3.4", "255.255.255.255",
              "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4/0", "1.2.3.4/32", "1.2.3.4/33",
              "1.2.3.4/024", "1.2.3.4/", "1a", "a1", "1.2.3.4x", "-1", "1 2", "1,2", "1}", "{1", "", " ", "\t3"]
    rng = random.Random(14)
    tried = 0
    for first in shapes:
        pieces = line_plans._VALUE.split(first)
        shape = tuple(pieces[0::2])
        kinds = [line_plans._kind(value) for value in pieces[1::2]]
        match = line_plans._shape_pattern(shape, kinds).fullmatch
        count = len(pieces) // 2
        combos = list(itertools.product(values, repeat=count))
        for combo in rng.sample(combos, min(len(combos), 400)):
            line = line_plans._join(shape, list(combo))
            split = line_plans._VALUE.split(line)
            found = match(line)
            same = tuple(split[0::2]) == shape and [line_plans._kind(value) for value in split[1::2]] == kinds
            taken = [found.group(at) for at in _value_groups(kinds)] if found is not None else None
            assert taken == (list(split[1::2]) if same else None), line
            tried += 1
        for literal_change in ("ip daddr 1.2.3.4 drop", "ip saddr 1.2.3.4 drop ", first + " 5", "5 " + first):
            split = line_plans._VALUE.split(literal_change)
            same = tuple(split[0::2]) == shape and [line_plans._kind(value) for value in split[1::2]] == kinds
            assert (match(literal_change) is not None) == same
    assert tried > 1000


def test_address_shapes_give_the_grammar_paths_model(monkeypatch):
    """Blocklist, country-list and allow-list lines (one address or prefix a line, host bits set
    or not, the lengths' ends, `!=`, a match before and after; a prefix and a port) modelled from
    their shape's pattern, and values of another kind among them, give the grammar path's model
    and diagnostics."""
    rng = __import__("random").Random(6)
    lines = []
    for i in range(400):
        a, b, c, d = rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256)
        length = rng.choice([0, 1, 7, 8, 16, 23, 24, 31, 32])
        lines.append(f"\t\tip saddr {a}.{b}.{c}.{d}/{length} drop")
        lines.append(f"\t\tip daddr != {a}.{b}.{c}.{d} counter drop")
        lines.append(f"\t\tiifname eth0 ip saddr {d}.{c}.{b}.{a} tcp flags syn accept")
        lines.append(f"\t\tip saddr {c}.{a}.{b}.{d}/{length} tcp dport {{ {rng.choice([0, 22, 443, 65535])} }} accept")
        if i % 50 == 0:
            lines += [f"\t\tip saddr {a}.{b}.{c}.{d} drop", f"\t\tip daddr != {a}.{b}.{c}.0/33 counter drop",
                      f"\t\tip saddr {a}.{b}.{c}.0/024 drop", "\t\tip saddr 1.2.3.4/32 drop"]
    body = "\n".join(lines)
    text = (f"table ip f {{\n\tchain c {{\n\t\ttype filter hook input priority 0; policy drop;\n{body}\n\t}}\n}}\n"
            f"table inet g {{\n\tchain c {{\n{body}\n\t}}\n}}\n")
    applied = _count_plan_uses(monkeypatch)
    fast = parse(SourceFile("x.nft", text))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert len(applied) > 3000
    assert len(_rules(fast)) == 2 * 1632
    assert fast.document == slow.document
    assert _diagnostics(fast) == _diagnostics(slow)
    # the /33 lines, one in 50 of each table: the reader's PL011, the line kept without the address
    assert [(d.code, d.span.line) for d in fast.diagnostics] == \
        [("PL011", 9 + 204 * i) for i in range(8)] + [("PL011", 1645 + 204 * i) for i in range(8)]


def test_a_plan_is_checked_when_a_second_line_of_its_shape_comes(monkeypatch):
    """A shape of one line is never checked (no second read, no pattern); one of two lines is,
    once, before its second line; one whose check fails reads its later lines the usual way."""
    checks = []
    real_holds = line_plans.LinePlans._holds
    monkeypatch.setattr(line_plans.LinePlans, "_holds", lambda plans, plan, rule, *args:
                        checks.append(rule.text) or real_holds(plans, plan, rule, *args))
    lines = ["ip saddr 1.2.3.4 jump c1", "ip saddr 1.2.3.5 jump c2", "ip saddr 1.2.3.6 drop",
             "ip saddr 1.2.3.7 drop", "ip saddr 1.2.3.8 drop",
             "tcp dport ssh meta length 100 accept", "tcp dport ssh meta length 22 accept",
             "tcp dport ssh meta length 23 accept"]
    text = "table ip f {\n\tchain c1 {\n\t}\n\tchain c2 {\n\t}\n\tchain c {\n" + \
        "".join(f"\t\t{line}\n" for line in lines) + "\t}\n}\n"
    fast = parse(SourceFile("x.nft", text))
    # (the first `meta length` line notes PL013, so the second is the one its plan is made from)
    assert checks == ["ip saddr 1.2.3.6 drop", "tcp dport ssh meta length 22 accept"]
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert fast.document == slow.document and _diagnostics(fast) == _diagnostics(slow)
    assert [[m.ports.ranges for m in rule.matches if hasattr(m, "ports")] for rule in _rules(fast)[5:]] == \
        [[((22, 22),)]] * 3


def test_shapes_without_a_checked_plan_are_forgotten_to_make_room(monkeypatch):
    """With room for 8 shapes: a chain of one-line shapes (a chain name in each, a vmap
    expanding to two rules) fills it; those are forgotten, so the lines after them still get
    plans, and a shape forgotten after one line starts again. Once checked plans fill half of
    the room nothing is forgotten any more. Every way, the grammar path's model and diagnostics."""
    monkeypatch.setattr(line_plans, "MAX_PLANS", 8)
    lines = [f"ip daddr 10.96.0.{i} tcp dport 80 jump svc-{i}" for i in range(12)]
    lines += [f"numgen random mod 2 vmap {{ 0 : goto svc-{i}, 1 : goto svc-{i + 1} }}" for i in range(6)]
    lines += [f"ip saddr 10.1.0.{i} drop" for i in range(20)]
    lines += ["ip daddr 10.96.0.1 tcp dport 81 jump svc-1"]  # its shape was forgotten after one line
    lines += [f"{word} 10.2.{k}.{i} {verdict}" for k, (word, verdict) in
              enumerate([("ip saddr", "accept"), ("ip daddr", "accept"), ("ip saddr", "return"),
                         ("ip daddr", "return"), ("ip saddr", "counter drop")]) for i in range(3)]
    # the room is now full of checked plans: one-line shapes no longer make room, planned ones go on
    lines += [f"ip daddr 10.96.1.{i} tcp dport 80 jump svc-{i}" for i in range(12)]
    lines += [f"ip saddr 10.3.0.{i} drop" for i in range(5)]
    chains = "".join(f"\tchain svc-{i} {{\n\t}}\n" for i in range(13))
    text = "table ip f {\n" + chains + "\tchain c {\n" + "".join(f"\t\t{line}\n" for line in lines) + "\t}\n}\n"
    applied = _count_plan_uses(monkeypatch)
    fast = parse(SourceFile("x.nft", text))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert fast.document == slow.document and _diagnostics(fast) == _diagnostics(slow)
    assert len(_rules(fast)) == len(lines) + 6
    # (takes, a plan's check being one) `ip saddr 10.1.0.N drop`: 1 check + 19; each of the five
    # shapes of three lines: 1 + 2; the forgotten `jump svc-1` shape, seen anew at its line with
    # port 81 and checked at 10.96.1.1's: 1 + 1; `ip saddr 10.3.0.N drop`: 5. None of the others.
    assert len(applied) == 20 + 5 * 3 + 2 + 5
    assert [(d.code, d.span.line) for d in fast.diagnostics] == [("PL013", 41)]  # numgen, noted once


def test_one_line_shapes_do_not_keep_later_lines_from_their_plans(monkeypatch):
    """Without forgetting, the room filled by the one-line shapes would leave the later lines
    of one shape to the usual read: the test above would see no plan used after them."""
    monkeypatch.setattr(line_plans, "MAX_PLANS", 8)
    monkeypatch.setattr(line_plans.LinePlans, "_forget_unplanned", lambda plans: False)
    applied = _count_plan_uses(monkeypatch)
    lines = [f"ip daddr 10.96.0.{i} tcp dport 80 jump svc-{i}" for i in range(12)]
    lines += [f"ip saddr 10.1.0.{i} drop" for i in range(20)]
    text = "table ip f {\n\tchain c {\n" + "".join(f"\t\t{line}\n" for line in lines) + "\t}\n}\n"
    parse(SourceFile("x.nft", text))
    assert applied == []


def test_port_lists_give_the_grammar_paths_model(monkeypatch):
    """Lines with a { } list of port numbers alone (the random mix's `tcp dport { a,b,c } drop`)
    are taken by one plan filling one PortMatch with the list: lists with neighbours and repeats
    (merged as the reader's PortSet), `!=`, udp, a source port, ports over 65535, 0, another
    match after, a list with a range or a service name or a ct mark in it, two lists a line, a
    mark list beside a port range: every way, the grammar path's model and diagnostics."""
    rng = __import__("random").Random(14)

    def ports(count: int) -> str:
        base = rng.choice([0, 22, 1000, 65530])
        return ",".join(str(min(base + rng.choice([0, 1, 2, 5, 70000 if rng.random() < 0.02 else 3]), 99999))
                        for _ in range(count))

    templates = [
        lambda: f"tcp dport {{ {ports(3)} }} drop", lambda: f"udp dport {{ {ports(3)} }} drop",
        lambda: f"tcp dport {{ {ports(2).replace(',', ', ')} }} accept", lambda: f"tcp dport != {{ {ports(4)} }} drop",
        lambda: f"tcp sport {{ {ports(2)} }} ip saddr 10.0.0.{rng.randrange(256)} drop",
        lambda: f"tcp dport {{ {ports(2)}, 80-90 }} drop", lambda: f"tcp dport {{ {ports(2)}, ssh }} drop",
        lambda: f"tcp dport {{ {ports(2)} }} tcp sport {{ {ports(2)} }} drop",
        lambda: f"meta mark {{ {ports(2)} }} tcp dport 1-2 drop", lambda: f"tcp dport {{ {ports(1)} }} drop",
    ]
    lines = [rng.choice(templates)() for _ in range(1500)]
    lines += ["tcp dport { 22,22,23 } drop", "tcp dport { 22,23,24 } drop", "tcp dport { 5,4,3 } drop",
              "tcp dport { 22,70000,23 } drop", "tcp dport { 022,23,24 } drop"]
    body = "".join(f"\t\t{line}\n" for line in lines)
    text = f"table inet f {{\n\tchain c {{\n\t\ttype filter hook input priority 0; policy drop;\n{body}\t}}\n}}\n"
    applied = _count_plan_uses(monkeypatch)
    fast = parse(SourceFile("x.nft", text))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert fast.document == slow.document
    assert _diagnostics(fast) == _diagnostics(slow)
    assert len(applied) > 900
    listed = [rule for rule in _rules(fast) if rule.text == "tcp dport { 22,22,23 } drop" or
              rule.text == "tcp dport { 5,4,3 } drop"]
    assert [rule.matches[-1].ports.ranges for rule in listed] == [((22, 23),), ((3, 5),)]
