"""The nft reader's plain IPv4 reading (matches._ipv4_span) against the octet-by-octet reading
it replaced and against linter.addresses: the same spans, and None for every other form."""

from __future__ import annotations

import random

from linter.addresses import parse_address_range
from linter.frontends.nftables.matches import _ipv4_span
from linter.model import Family


def _by_hand(text: str) -> tuple[int, int] | None:
    """Four decimal octets up to 255 without leading zeros, then an optional length of one or
    two ASCII digits up to 32: the span, else None."""
    address_text, slash, length_text = text.partition("/")
    parts = address_text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 3 or len(part) > 1 and part[0] == "0":
            return None
        if int(part) > 255:
            return None
        value = value << 8 | int(part)
    if not slash:
        return value, value
    if not (length_text.isascii() and length_text.isdigit()) or len(length_text) > 2 or int(length_text) > 32:
        return None
    host = (1 << (32 - int(length_text))) - 1
    return value & ~host, (value & ~host) | host


def test_plain_ipv4_spans_are_read_as_by_hand_and_as_the_address_reader_reads_them():
    rng = random.Random(3)
    octets = ["0", "1", "9", "10", "99", "100", "199", "200", "249", "250", "255", "256", "300", "999", "00", "01",
              "001", "010", "1000", "", "a", "\u0663", " 1", "1 ", "+1", "-1", "0x1"]
    lengths = [None, "", "0", "00", "01", "9", "09", "10", "29", "30", "32", "33", "40", "99", "100", "032", "3 ",
               "\u0663", "a", "/1"]
    read = 0
    for _ in range(30000):
        text = ".".join(rng.choice(octets) for _ in range(rng.choice([3, 4, 4, 4, 5])))
        length = rng.choice(lengths)
        if length is not None:
            text += "/" + length
        if rng.random() < 0.02:
            text += rng.choice(["\n", " ", "/", "."])
        span = _ipv4_span(text)
        assert span == _by_hand(text), repr(text)
        if span is not None:
            assert span == parse_address_range(text, Family.IPV4)[1:], repr(text)
            read += 1
    assert read > 200  # 252 of the 30,000 with this seed
    for first in range(256):
        for length in range(33):
            text = f"{first}.{255 - first}.{first // 2}.{first % 7}/{length}"
            assert _ipv4_span(text) == _by_hand(text) == parse_address_range(text, Family.IPV4)[1:]
