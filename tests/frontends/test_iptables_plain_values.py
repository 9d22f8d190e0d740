"""The plain-digit value readers give what the general readers give (values.py); the lines the
iptables-save reader split serve as the source's lines."""

from __future__ import annotations

import random
import re
import socket

import pytest

from linter.frontends.iptables.save import parse
from linter.frontends.iptables.values import (address_range, dotted_quad, multiport_list, nat_to, plain_ipv4,
                                              plain_nat_to, plain_port_list)
from linter.model import Family, normalize_ranges
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


def test_three_port_lists_and_the_possessive_list_pattern():
    """plain_port_list's three-port shortcut gives the normalized ranges (equal, adjacent, apart,
    any order), and its possessive pattern accepts exactly what the greedy one accepted."""
    from linter.frontends.iptables import values

    rnd = random.Random(16)
    near = ["0", "1", "2", "3", "4", "80", "81", "82", "65534", "65535", "65536", "007", "99999"]
    for _ in range(20000):
        text = ",".join(rnd.choice(near) if rnd.random() < 0.8 else str(rnd.randrange(70000)) for _ in range(3))
        ports = [int(port) for port in text.split(",")]
        want = None if max(ports) > 65535 else normalize_ranges((port, port) for port in ports)
        assert plain_port_list(text) == want, text
    greedy = re.compile(values._PLAIN_PORT_LIST.__self__.pattern.replace("}+", "}")).fullmatch
    assert greedy.__self__.pattern != values._PLAIN_PORT_LIST.__self__.pattern
    pieces = ["1", "22", "123456", ",", ",,", ":", " ", "x", "65535"]
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert (values._PLAIN_PORT_LIST(text) is None) == (greedy(text) is None), text


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


# What the readers by table replace: a regular expression for the form, inet_aton for the parts.
_FORM = re.compile(r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?:/([0-9]{0,2}))?").fullmatch
_NAT_FORM = re.compile(r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})(?::([0-9]{1,5}))?").fullmatch


def _aton(addr: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_aton(addr), "big")
    except OSError:
        return None


def _by_aton(text: str):
    m = _FORM(text)
    if m is None:
        return None
    addr, bits = m.groups()
    value = _aton(addr)
    if value is None:
        return None
    if not bits:
        return value, value
    if int(bits) > 32:
        return None
    host = (1 << (32 - int(bits))) - 1
    return value & ~host, value & ~host | host


def _nat_by_aton(text: str):
    m = _NAT_FORM(text)
    if m is None or _aton(m.group(1)) is None or m.group(2) is not None and int(m.group(2)) > 65535:
        return None
    value = _aton(m.group(1))
    return value, None if m.group(2) is None else int(m.group(2))


_PARTS = [str(n) for n in range(1000)] + [f"{n:02d}" for n in range(100)] + [f"{n:03d}" for n in range(1000)]


def test_every_part_is_read_as_inet_aton_reads_it_in_each_place():
    for part in _PARTS + ["", "0x1", "1a", " 1", "1 ", "\u0661", "+1", "-1", "0000"]:
        for place in range(4):
            addr = ".".join(part if k == place else "1" for k in range(4))
            assert dotted_quad(addr) == (_aton(addr) if _FORM(addr) else None), addr


def _texts(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    pieces = _PARTS + ["", "0x10", "a", "256", "1.2", " ", "/", ":", ".", "\u0663", "\n"]
    bits = ["", "/", "/0", "/8", "/08", "/32", "/33", "/99", "/100", "/1a", "/ 8", "/8/8", "/255.0.0.0"]
    out = []
    for _ in range(count):
        size = rnd.choice([4, 4, 4, 4, 3, 5, 1])
        addr = ".".join(rnd.choice(pieces) if rnd.random() < 0.08 else str(rnd.randrange(270)) for _ in range(size))
        out.append(addr + rnd.choice(bits))
    return out


def test_plain_ipv4_reads_what_a_pattern_and_inet_aton_read():
    for text in _texts(16, 40000) + ["1.2.3.4", "1.2.3.4/", "01.02.03.04/24", "010.0.0.0/8", "08.0.0.0",
                                     "255.255.255.255/32", "256.0.0.0", "1.2.3.4/0", "1.2.3", "1.2.3.4.5"]:
        assert plain_ipv4(text) == _by_aton(text), text


def test_plain_ipv4_reads_what_the_general_reader_reads():
    for text in _texts(17, 20000):
        plain = plain_ipv4(text)
        if plain is not None:
            assert plain == address_range(text, Family.IPV4), text


def test_plain_nat_to_reads_what_a_pattern_and_inet_aton_read():
    ports = ["", ":", ":0", ":80", ":65535", ":65536", ":99999", ":123456", ":8a", ":80:81", ":80-90", ": 80"]
    texts = [addr.partition("/")[0] + random.Random(len(addr)).choice(ports) for addr in _texts(18, 20000)]
    for text in texts:
        plain = plain_nat_to(text)
        want = _nat_by_aton(text)
        if want is None:
            assert plain is None, text
            continue
        addresses, port_set = plain
        assert (addresses.ranges, addresses.text) == (((want[0], want[0]),), text.partition(":")[0]), text
        assert (port_set is None) == (want[1] is None) and (port_set is None or port_set.ranges == ((want[1],) * 2,))
        assert plain == nat_to(text, Family.IPV4, "tcp"), text
