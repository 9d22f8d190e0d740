"""The shell reader on its own: the tree it builds and the errors it reports (nothing is run)."""

from __future__ import annotations

import textwrap

from linter.frontends.shell.parser import parse_script
from linter.frontends.shell.syntax_tree import (
    AndOr, ArithCommand, Case, CommandSub, For, FunctionDef, Group, If, Lit, Param, Simple, While,
)


def tree(text: str):
    body, errors = parse_script(textwrap.dedent(text).lstrip("\n"))
    return body, [(e.line, e.column, e.message) for e in errors]


def simple(node) -> Simple:
    assert isinstance(node, AndOr)
    command = node.first.commands[0]
    assert isinstance(command, Simple)
    return command


def test_words_quotes_and_expansions():
    body, errors = tree("""
        iptables -A INPUT -m comment --comment "it's $NAME" -s ${NET:-10.0.0.0/8} 'a b'\\ c $(id -u) `date` $((1+2))
    """)
    assert errors == []
    words = simple(body[0]).words
    assert words[6].parts == (Lit("it's ", True), Param("NAME", quoted=True, raw="$NAME"))
    net = words[8].parts[0]
    assert (net.name, net.op, net.arg.parts) == ("NET", ":-", (Lit("10.0.0.0/8"),))
    assert words[9].parts == (Lit("a b ", True), Lit("c"))
    assert words[10].parts == (CommandSub("id -u"),)
    assert words[11].parts == (CommandSub("date"),)
    assert (words[12].line, words[12].column, words[12].text) == (1, 100, "$((1+2))")


def test_compound_commands():
    body, errors = tree("""
        #!/bin/bash
        f() { echo "$1"; }
        function g {
            case $1 in
                a|b) echo ab ;;
                *) echo other ;&
                c) echo c ;;
            esac
        }
        if [ -f x ]; then a; elif [[ $y == z* && -n $w ]]; then b; else c; fi
        for p in 1 2; do echo $p; done
        while read -r line; do echo "$line"; done < <(cat file)
        ( cd /tmp; ls ) | wc -l
        (( i++ ))
        A=(1 "2 3") B+=x
    """)
    assert errors == []
    kinds = [type(node.first.commands[0]).__name__ for node in body]
    assert kinds == ["FunctionDef", "FunctionDef", "If", "For", "While", "Group", "ArithCommand", "Simple"]
    case = body[1].first.commands[0].body.body[0].first.commands[0]
    assert isinstance(case, Case)
    assert [[w.text for w in item.patterns] for item in case.items] == [["a", "b"], ["*"], ["c"]]
    assert [item.terminator for item in case.items] == [";;", ";&", ";;"]
    condition = body[2].first.commands[0].clauses[1][0]
    assert [w.text for w in simple(condition[0]).words] == ["[[", "$y", "==", "z*", "&&", "-n", "$w", "]]"]
    assignments = simple(body[7]).assignments
    assert [(a.name, [w.text for w in a.array or []], a.append) for a in assignments] == [
        ("A", ["1", '"2 3"'], False), ("B", [], True)]
    assert isinstance(body[4].first.commands[0], While) and isinstance(body[3].first.commands[0], For)
    assert isinstance(body[5].first.commands[0], Group) and isinstance(body[6].first.commands[0], ArithCommand)
    assert isinstance(body[0].first.commands[0], FunctionDef) and isinstance(body[2].first.commands[0], If)


def test_here_documents():
    text = "cat <<EOF; cat <<-'END' | sort\nline $x\nEOF\n\tfirst\n\tEND\necho after\n"
    body, errors = parse_script(text)
    assert errors == []
    first = simple(body[0])
    doc = first.redirects[0].heredoc
    assert (doc.delimiter, doc.quoted, doc.body) == ("EOF", False, [(2, "line $x", 0)])
    second = body[1].first.commands[0].redirects[0].heredoc
    assert (second.delimiter, second.quoted, second.strip_tabs, second.body) == ("END", True, True, [(4, "first", 1)])
    assert simple(body[2]).words[0].text == "echo" and simple(body[2]).line == 6


def test_errors_are_located_and_reading_goes_on():
    body, errors = tree("""
        echo 'never closed
        iptables -A INPUT -j DROP
        if true; then
            echo x
        done
        while true; do echo y
    """)
    assert errors == [
        (1, 6, "Unterminated single quote"),
        (5, 1, "Expected 'fi' for the 'if' at line 3, found 'done'"),
        (6, 1, "'while' at line 6 has no matching 'done'"),
    ]
    assert simple(body[1]).words[0].text == "iptables"
