"""A { } list read as one ELEMS token, and a plain body line read as one LINERUN token, give the
very atoms, model and diagnostics the parser gives without those tokens."""

from __future__ import annotations

import functools
import re

import pytest
from lark import Lark, Token, Tree

from linter.frontends.nftables import parse, START_SYMBOLS
from linter.frontends.nftables import element_runs
from linter.frontends.nftables.atoms import Group, group_of, split_commas
from linter.grammars import data_dir, load_parser
from linter.source import SourceFile


@functools.lru_cache(maxsize=1)
def _reference_parser() -> Lark:
    """The nftables grammar without the ELEMS and LINERUN alternatives: every atom goes through the parser."""
    text = (data_dir("grammars") / "nftables.lark").read_text(encoding="utf-8")
    for fast, slow in (('braced: "{" ELEMS "}"\n      | ', "braced: "), ("_body_line: line | linerun", "_body_line: line")):
        assert fast in text
        text = text.replace(fast, slow)
    return Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
                start=list(START_SYMBOLS))


def _groups(tree: Tree) -> list[Group]:
    """The tree's { } groups, those inside line runs too, in the order they are written."""
    groups = [group_of(sub) for sub in tree.iter_subtrees_topdown() if sub.data == "braced"]
    for run in _line_runs(tree):
        groups.extend(atom for atom in element_runs.atoms(run) if isinstance(atom, Group))
    return sorted(groups, key=lambda group: group.start_pos)


def _line_runs(tree: Tree) -> list[Token]:
    """The tree's LINERUN tokens, those its LINERUNS tokens stand for too, in the order they are written."""
    runs = []
    for token in tree.scan_values(lambda v: isinstance(v, Token) and v.type in ("LINERUN", "LINERUNS")):
        runs.extend(element_runs.line_runs(token) if token.type == "LINERUNS" else [token])
    return runs


def _shape(item):
    if isinstance(item, Group):
        return ("group", item.start_pos, item.end_pos, item.line, item.column, item.end_line, item.end_column,
                [_shape(inner) for inner in item.items])
    return (item.type, item.value, item.start_pos, item.line, item.column, item.end_line, item.end_column,
            item.end_pos)


def _runs(tree: Tree) -> int:
    return sum(1 for token in tree.scan_values(lambda v: isinstance(v, Token)) if token.type == "ELEMS")


SHAPES = [
    # plain addresses, one a line, with a trailing comma
    "table inet f {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t10.0.0.1,\n\t\t\t10.0.0.2,\n"
    "\t\t}\n\t}\n}\n",
    # prefixes, ranges, spaced ranges, on one line; IPv6 prefixes and ranges
    "table inet f {\n set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1-192.168.1.9,"
    " 1.2.3.4 - 1.2.3.8 } }\n"
    " set t { type ipv6_addr; flags interval; elements = { 2001:db8::/32, ::1, fe80::1-fe80::9 } }\n}\n",
    # a verdict map: spaced and unspaced colons, a range of ports, service names, a catch-all
    "table inet f {\n chain other {\n }\n chain c {\n  tcp dport vmap { 22 : accept, 80:drop,"
    " 1000-2000 : jump other,\n  ssh : accept, http-alt : drop, * : drop }\n }\n}\n",
    # lexable but not valid nft (only the tokens are compared): leading zeros, octets over 255,
    # words with dots, dashes and slashes, a star, numbers with letters, a CRLF line end
    "table ip f {\n chain c {\n  ip saddr { 010.0.0.1, 1.2.3.456,\r\n 1.2.3.4.5, a.b-c/d, eth*, 22abc, 0x1f, _x }"
    " accept\n }\n}\n",
    # a concatenation, and a nested group (the outer group is read atom by atom)
    "table ip f {\n chain c {\n  ip saddr . tcp dport { 1.2.3.4 . 22, 5.6.7.8 . 80 } accept\n"
    "  ip saddr { { 1.2.3.4, 5.6.7.8 }, 9.9.9.9 } drop\n }\n}\n",
    # empty and blank groups (not valid nft either: nft wants an element)
    "table ip f {\n set s { type ipv4_addr; elements = { } }\n set t { type ipv4_addr; elements = {\n} }\n}\n",
    # a chain binding
    "table ip f {\n chain c {\n  tcp dport 22 jump { accept; }\n }\n}\n",
    # groups that hold text the run does not: strings, comments, variables
    'define nets = { 10.0.0.0/8, 172.16.0.0/12 }\ntable ip f {\n chain c {\n  ip saddr $nets accept\n'
    '  iifname { "eth0", "eth1" } accept\n  ip saddr { 1.2.3.4, # a comment\n 5.6.7.8 } drop\n }\n}\n',
]


@pytest.mark.parametrize("text", SHAPES)
def test_a_run_gives_the_parsers_own_atoms(text):
    fast = load_parser("nftables", start=START_SYMBOLS).parse(text, start="start")
    slow = _reference_parser().parse(text, start="start")
    assert [_shape(g) for g in _groups(fast)] == [_shape(g) for g in _groups(slow)]


def test_runs_are_taken_where_the_group_is_plain_only():
    parser = load_parser("nftables", start=START_SYMBOLS)
    assert _runs(parser.parse(SHAPES[0], start="start")) == 1
    assert _runs(parser.parse(SHAPES[2], start="start")) == 1  # a chain body is no group
    # strings, a comment, a $variable and an inner group keep their groups on the slow path
    assert _runs(parser.parse(SHAPES[7], start="start")) == 1  # the define's plain list only


def test_a_bad_element_in_a_run_is_reported_where_it_is():
    text = "table inet f {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = {\n\t\t\t10.0.0.1,\n" \
           "\t\t\t10.0.0.256,\n\t\t\t10.0.0.3\n\t\t}\n\t}\n\tchain c {\n\t\tip saddr @s drop\n\t}\n}\n"
    result = parse(SourceFile("bad.nft", text))
    found = [(d.code, d.span.line, d.span.column, d.message) for d in result.diagnostics]
    assert found == [("PL011", 6, 4, "Invalid address: not an IP address or prefix: '10.0.0.256'")]


@pytest.mark.parametrize("text", SHAPES)
def test_elements_of_a_run_are_its_atoms_split_at_commas(text):
    tree = load_parser("nftables", start=START_SYMBOLS).parse(text, start="start")
    for run in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "ELEMS"):
        assert [[_shape(a) for a in element] for element in element_runs.elements(run)] == \
            [[_shape(a) for a in element] for element in split_commas(element_runs.atoms(run))]


def _body_lines(tree: Tree) -> list:
    out = []
    for sub in tree.iter_subtrees_topdown():
        if sub.data != "lines":
            continue
        lines = []
        for line in sub.children:
            if isinstance(line, Tree) and line.data == "linerun" and line.children[0].type == "LINERUNS":
                lines.extend(element_runs.line_tree(run) for run in element_runs.line_runs(line.children[0]))
            elif isinstance(line, Tree):
                lines.append(line)
        for line in lines:
            meta = line.meta
            if line.data == "linerun":
                atoms = element_runs.atoms(line.children[0])
            else:
                atoms = [group_of(c) if isinstance(c, Tree) else c for c in line.children]
            out.append(((meta.line, meta.column, meta.end_line, meta.end_column, meta.start_pos, meta.end_pos),
                        [_shape(a) for a in atoms]))
    return out


RULES = [
    # kube-proxy style chains: plain rules, a vmap, comments, a handle comment, `;`-separated rules
    "table ip kube {\n\tchain svc-0-a {\n\t\tip saddr 10.1.0.2 jump masq # handle 7\n"
    "\t\tmeta l4proto tcp dnat to 10.1.0.2:8080   \n\t}\n\tchain masq {\n"
    "\t\tmeta mark set meta mark or 0x4000; counter\n\t\tmeta mark & 0x4000 == 0x4000 masquerade;  }\n"
    "\tchain services {\n\t\tip daddr 10.96.0.1 tcp dport 443 jump svc-0-a # a comment\n"
    "\t\tnumgen random mod 2 vmap { 0 : goto svc-0-a, 1 : goto masq }\n\t}\n}\n",
    # chain attributes, defines, flags and comments in chain and set bodies; strings and $variables
    'define port = 22\ntable inet f {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n'
    '\t\telements = { 10.0.0.0/8 }\n\t}\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n'
    '\t\tdefine web = 443\n\t\tct state established,related accept\n\t\tiifname "lo" accept\n'
    '\t\ttcp dport $port accept\n\t\ttcp dport $web accept\n\t\tip saddr @s drop\n'
    '\t\tip6 saddr ::1 tcp dport != 22-25 counter drop\n\t\tcomment "the input"\n\t}\n}\n',
    # one-line groups inside rule lines (runs), and groups that keep a line off the fast path
    "table ip f {\n\tchain c {\n\t\tct state { related,established } accept\n"
    "\t\tip saddr 32.0.1.0/24 tcp dport { 22 } accept\n\t\ttcp dport {22,443} ip daddr { 10.0.0.1, 10.0.0.2 } drop\n"
    "\t\tip saddr . tcp dport { 1.2.3.4 . 22, 5.6.7.8 . 80 } accept\n"
    '\t\tiifname { "eth0", "eth1" } accept\n\t\ttcp dport { 80,\n 443 } accept\n'
    "\t\ttcp dport vmap { 25 : drop, 26 : accept }\n\t}\n}\n",
    # rules nft rejects (the diagnostics must be the same, at the same places); a run ended by '}'.
    "table ip f {\n\tchain c {\n\t\ttype filter hook input priority 0; policy drop;\n"
    "\t\tip saddr 10.0.0.256 accept\n\t\ttcp dport 70000 accept\n\t\tip saddr 1.2.3.4 -\n"
    "\t\ttcp dport nosuchservice drop\n\t\tfrobnicate 12 accept\n\t\taccept junk ] [\n"
    "\t\ttcp dport 22 accept ' x\n\t\ttcp dport { } accept\n\t\ttcp dport { 1, 2 accept\n\t\ttcp dport 23 accept }\n} junk\n",
    # text a run would take where the parser expects none: the error names its first token
    "table ip f {\n\tnonsense here\n\tnonsense here { x }\n\tchain c {\n\t\taccept\n\t}\n}\n"
    "table ip g {junk, x,\n y }\ntable ip h {\n\tchain d {\n\t\tdrop\n\t}\n}\n",
]


@pytest.mark.parametrize("text", SHAPES + RULES[:3])  # the fourth has syntax errors: no tree without recovery
def test_a_line_run_gives_the_parsers_own_line(text):
    fast = load_parser("nftables", start=START_SYMBOLS).parse(text, start="start")
    slow = _reference_parser().parse(text, start="start")
    assert _body_lines(fast) == _body_lines(slow)


@pytest.mark.parametrize("text", SHAPES + RULES)
def test_the_model_and_diagnostics_do_not_depend_on_runs(text, monkeypatch):
    fast = parse(SourceFile("x.nft", text))
    from linter.frontends.nftables import state
    monkeypatch.setattr(state, "load_parser", lambda *args, **kwargs: _reference_parser())
    slow = parse(SourceFile("x.nft", text))
    assert fast.document == slow.document
    assert [(d.code, d.message, d.span, d.hint, d.excerpt) for d in fast.diagnostics] == \
        [(d.code, d.message, d.span, d.hint, d.excerpt) for d in slow.diagnostics]


def test_plain_rule_lines_are_runs():
    tree = load_parser("nftables", start=START_SYMBOLS).parse(RULES[0], start="start")
    runs = [t.value for t in _line_runs(tree)]
    assert runs == ["ip saddr 10.1.0.2 jump masq", "meta l4proto tcp dnat to 10.1.0.2:8080",
                    "meta mark set meta mark or 0x4000", "counter", "meta mark & 0x4000 == 0x4000 masquerade",
                    "ip daddr 10.96.0.1 tcp dport 443 jump svc-0-a",
                    "numgen random mod 2 vmap { 0 : goto svc-0-a, 1 : goto masq }"]


def test_one_line_groups_are_inside_line_runs():
    tree = load_parser("nftables", start=START_SYMBOLS).parse(RULES[2], start="start")
    runs = [t.value for t in _line_runs(tree)]
    assert runs == ["ct state { related,established } accept", "ip saddr 32.0.1.0/24 tcp dport { 22 } accept",
                    "tcp dport {22,443} ip daddr { 10.0.0.1, 10.0.0.2 } drop",
                    "ip saddr . tcp dport { 1.2.3.4 . 22, 5.6.7.8 . 80 } accept",
                    "tcp dport vmap { 25 : drop, 26 : accept }"]


def _per_character_line() -> str:
    """A rule line as LINERUN once wrote it, one alternation a character: the reference the
    grammar's run-at-a-time form must agree with."""
    atom = r"[0-9a-zA-Z_.:*\/\-,!=<>&|^~()\[\]+]"
    group = r"\{[0-9a-zA-Z_.:*\/\-, \t\r]+\}"
    inner = r"[0-9a-zA-Z_.:*\/\-,!=<>&|^~()\[\]+ \t\f\r]"
    return rf"(?:{atom}|{group})(?:(?:{inner}|{group})*(?:{atom}|{group}))?"


def test_line_terminals_take_what_the_per_character_form_takes():
    """LINERUN and LINERUNS match, from every position of random text made of the characters
    that matter (names, operators, blanks, braces, newlines, `;`, `#`, quotes, `$`, `@`), exactly
    what the per-character form of the same terminal matches."""
    import random

    line = _per_character_line()
    end = r"(?=[ \t\f\r]*(?:[\n;}#]|$))"
    reference = {"LINERUN": re.compile(rf"{line}{end}"),
                 "LINERUNS": re.compile(rf"{line}(?:(?:[ \t\f\r]*\n)+[ \t\f\r]*{line}){{1,255}}{end}")}
    terminals = {t.name: re.compile(t.pattern.to_regexp())
                 for t in load_parser("nftables", start=START_SYMBOLS).terminals if t.name in reference}
    assert set(terminals) == set(reference)
    pieces = ["ip", "saddr", "1.2.3.4/24", " ", "  ", "\t", "\f", "\r", "\n", "\n\n", "{ 22, 80 }", "{a}", "{",
              "}", "{ }", "{\n}", ";", "#c", '"s"', "$v", "@s", "!=", "-", "(", ")", "[", "]", "{ 1\t2\r }", "\f{x}"]
    rng = random.Random(8)
    tried = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 14)))
        for name, pattern in terminals.items():
            for pos in range(len(text)):
                found, expected = pattern.match(text, pos), reference[name].match(text, pos)
                assert (found and found.span()) == (expected and expected.span()), (name, text, pos)
                tried += 1
    assert tried > 50000


def test_a_made_token_is_larks_token_slot_for_slot():
    made = element_runs.token("WORD", "accept", 10, 2, 3, 2, 9, 16)
    lark_made = Token("WORD", "accept", 10, 2, 3, 2, 9, 16)
    assert type(made) is Token and made == lark_made == "accept"
    assert [getattr(made, name) for name in Token.__slots__] == [getattr(lark_made, name) for name in Token.__slots__]
    assert not hasattr(made, "__dict__")
