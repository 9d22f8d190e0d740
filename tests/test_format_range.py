"""format_range: the text of an address range, pinned for each form it takes."""

import ipaddress

import pytest

from linter.addresses import format_range
from linter.model import IPV4_MAX, IPV6_MAX, Family


@pytest.mark.parametrize("family, lo, hi, text", [
    (Family.IPV4, 0x0A000001, 0x0A000001, "10.0.0.1"),
    (Family.IPV4, 0xC0000200, 0xC00002FF, "192.0.2.0/24"),
    (Family.IPV4, 0, IPV4_MAX, "0.0.0.0/0"),
    (Family.IPV4, 0xC0000201, 0xC00002FF, "192.0.2.1-192.0.2.255"),  # not one prefix
    (Family.IPV4, 0xC0000200, 0xC0000301, "192.0.2.0-192.0.3.1"),
    (Family.IPV4, 0xC0000280, 0xC000037F, "192.0.2.128-192.0.3.127"),  # power-of-two size, unaligned
    (Family.IPV4, 1, IPV4_MAX, "0.0.0.1-255.255.255.255"),
    (Family.IPV4, 5, 3, "0.0.0.5-0.0.0.3"),  # reversed: said as given, never dropped
    (Family.IPV6, 1, 1, "::1"),
    (Family.IPV6, 0x20010DB8 << 96, (0x20010DB8 << 96) | (2**96 - 1), "2001:db8::/32"),
    (Family.IPV6, 1, 6, "::1-::6"),
    (Family.IPV6, 0, IPV6_MAX, "::/0"),
])
def test_format_range_forms(family, lo, hi, text):
    assert format_range(family, lo, hi) == text


@pytest.mark.parametrize("family, lo, hi", [
    (Family.IPV4, -1, 5), (Family.IPV4, 3, IPV4_MAX + 1), (Family.IPV6, 0, IPV6_MAX + 1),
])
def test_format_range_out_of_family_raises_like_ipaddress(family, lo, hi):
    with pytest.raises(ipaddress.AddressValueError):
        format_range(family, lo, hi)
