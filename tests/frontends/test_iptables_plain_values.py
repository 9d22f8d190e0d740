"""The plain-digit value readers give what the general readers give (values.py); the lines the
iptables-save reader split serve as the source's lines."""

from __future__ import annotations

import random

import pytest

from linter.frontends.iptables.save import parse
from linter.frontends.iptables.values import multiport_list, plain_port_list
from linter.model import normalize_ranges
from linter.source import SourceFile


def _lists(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    near = [0, 1, 2, 3, 5, 6, 7, 80, 81, 82, 443, 65534, 65535, 65536, 99999]
    out = []
    for _ in range(count):
        size = rnd.randrange(1, 16)
        out.append(",".join(str(rnd.choice(near) if rnd.random() < 0.6 else rnd.randrange(70000))
                            for _ in range(size)))
    return out


def test_plain_port_list_is_the_normalized_ranges_of_its_ports():
    for text in _lists(14, 20000) + ["0", "00", "01,1", "1,2,3", "3,2,1", "5,5,5", "65535,65536", "7,6,5,9,8"]:
        ports = [int(port) for port in text.split(",")]
        want = None if max(ports) > 65535 else normalize_ranges((port, port) for port in ports)
        assert plain_port_list(text) == want, text


def test_plain_port_list_reads_what_multiport_list_reads():
    for text in _lists(15, 5000):
        plain = plain_port_list(text)
        if plain is not None:
            assert plain == multiport_list(text, "tcp"), text


def test_plain_port_list_leaves_other_texts_to_the_general_reader():
    for text in ["", "22,", ",22", "22:80", "ssh", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "123456", " 22"]:
        assert plain_port_list(text) is None, text


@pytest.mark.parametrize("text", [
    "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n",
    "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT",  # no newline at the end
    "*filter\n\n-A INPUT -j DROP \nCOMMIT\n\n\n",
    "*filter\r\n-A INPUT -j DROP\r\nCOMMIT\r\n",  # CR LF: the lines are made apart
    "",
    "\n",
])
def test_the_lines_the_reader_split_are_the_source_lines(text):
    shared = SourceFile("rules.v4", text)
    parse(shared)
    assert shared.lines == SourceFile("rules.v4", text).lines
