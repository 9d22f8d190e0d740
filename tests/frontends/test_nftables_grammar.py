"""The nftables grammar builds in lark's strict mode, and the parser never raises."""

from __future__ import annotations

import random

import pytest
from lark import Lark

from linter.frontends.nftables import START_SYMBOLS, parse
from linter.grammars import data_dir, load_parser
from linter.source import SourceFile


def test_grammar_builds_in_strict_mode():
    """Strict mode fails on shift/reduce conflicts and on colliding terminals."""
    pytest.importorskip("interegular")
    text = (data_dir("grammars") / "nftables.lark").read_text(encoding="utf-8")
    Lark(text, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=True,
         start=list(START_SYMBOLS), strict=True)


def test_load_parser_is_cached():
    assert load_parser("nftables", start=START_SYMBOLS) is load_parser("nftables", start=START_SYMBOLS)


def test_words_that_are_keywords_elsewhere_stay_words_in_chain_bodies():
    # `counter`, `set`, `flags`, `limit` are table-level keywords; in chains and set
    # bodies they must lex as plain words (one shared separator rule once broke this).
    text = """table ip t {
    set s { type ipv4_addr; flags interval; counter; }
    chain c {
        counter
        limit rate 1/second
        ct helper set "ftp"
        meta mark set 1; counter accept
    }
}
"""
    result = parse(SourceFile("k.nft", text))
    assert [d.code for d in result.diagnostics if d.code == "PL010"] == []
    assert len(result.document.tables[0].chains[0].rules) == 5


SNIPPETS = [
    "table", "inet", "chain", "{", "}", ";", "\n", "tcp dport", "22", "accept", "ip saddr", "10.0.0.1",
    "/", "-", ",", ".", ":", "@s", "$v", '"x"', "define v =", "include", "vmap", "map", "{ 1 : accept }",
    "type filter hook input priority", "policy", "counter", "jump", "dnat to", "[", "]", "(", ")", "::1",
    "add rule ip t c", "delete rule ip t c handle", "flush ruleset", "%", "\\\n", "# c\n", "*", "!=",
]


@pytest.mark.parametrize("seed", range(40))
def test_random_input_never_raises(seed):
    rng = random.Random(seed)
    text = " ".join(rng.choice(SNIPPETS) for _ in range(rng.randint(1, 120)))
    result = parse(SourceFile("fuzz.nft", text))
    assert result.document is not None
    for diagnostic in result.diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.span.column >= 1
        assert "internal error" not in diagnostic.message


def test_deep_nesting_and_binary_noise_do_not_raise():
    for text in ["{" * 5000, "table ip t { chain c { " + "{" * 3000 + " }", "\x01\x02\xff" * 100,
                 "table ip t {\n" * 500, '"' * 1001, "define a = $a\ntable ip t { chain c { tcp dport $a } }"]:
        result = parse(SourceFile("noise.nft", text))
        assert result.document is not None
