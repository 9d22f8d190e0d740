"""engine/held_sources.py: an accepted result's public sources kept as their descent Node are
the class cuts of the list built, and the exposure summary made with them is the summary made
from the lists built (the general path), entry for entry, in every lane it falls back from."""

from __future__ import annotations

import dataclasses
import random

import pytest

from linter.addresses import family_max
from linter.engine import exposure as exposure_module
from linter.engine import intervals as iv
from linter.engine.descent import ranges_of
from linter.engine.exposure import ExposureAnalysis, NetworkClasses
from linter.engine.held_sources import ClassParts, HeldSources
from linter.engine.known_sizes import LONG, KnownSizes, collecting, note_cut
from linter.engine.paths import DeferredResult
from linter.model import Family
from tests.engine.helpers import ruleset

V4_MAX = family_max(Family.IPV4)


def _address(text: str) -> int:
    a, b, c, d = (int(part) for part in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def test_class_parts_of_a_node_are_the_class_cuts_of_its_list():
    rnd = random.Random(3)
    classes = NetworkClasses(trusted_v4=((_address("44.0.0.0"), _address("44.255.255.255")),))
    public, private = (ranges for _, ranges in classes.classes(Family.IPV4))
    not_public = iv.subtract(((0, V4_MAX),), public)
    # Cuts anywhere, also across and at the edges of the private, trusted and other classes.
    edges = [lo for lo, _ in not_public] + [hi for _, hi in not_public]
    registry = KnownSizes()
    current = ((0, V4_MAX),)
    lists = []
    with collecting(registry):
        for number in range(1500):
            if number % 4 == 0:
                start = rnd.choice(edges) - rnd.randrange(0, 300)
            else:
                start = rnd.randrange(0, V4_MAX - 5000)
            cut = ((max(start, 0), max(start, 0) + rnd.randrange(0, 2000)),)
            taken = iv.intersect(current, cut)
            if not taken:
                continue
            rest = iv.subtract(current, cut)
            note_cut(current, taken, rest)
            current = rest
            lists.append(rest)
    parts = ClassParts(public, private, not_public)
    nodes = [(ranges, registry.node_of(ranges)) for ranges in lists]
    held = [(ranges, node) for ranges, node in nodes if node is not None]
    assert len(held) > 1000 and sum(node.ranges is None for _, node in held) > 900
    for ranges, node in rnd.sample(held, len(held)):  # in any order: parts are kept per Node
        public_part, private_part = parts.split(node)
        assert private_part == iv.intersect(ranges, private)
        assert type(public_part) is HeldSources
        assert public_part.ranges() == iv.intersect(ranges, public) == iv.intersect(ranges_of(node), public)
        assert public_part.size == iv.size(iv.intersect(ranges, public))


def test_a_list_with_no_public_address_holds_none():
    private = ((_address("10.0.0.0"), _address("10.255.255.255")),)
    not_public = private
    public = iv.subtract(((0, V4_MAX),), private)
    registry = KnownSizes()
    current = tuple((_address("10.0.0.0") + 4 * n, _address("10.0.0.0") + 4 * n + 1) for n in range(LONG + 10))
    with collecting(registry):
        rest = iv.subtract(current, current[:1])
        note_cut(current, current[:1], rest)
    node = registry.node_of(rest)
    assert node is not None
    assert ClassParts(public, private, not_public).split(node) == ((), rest)


def _user_rules(count: int, chain: str = "ufw-user-input", seed: int = 11) -> str:
    """ufw's user chain (or INPUT itself): `allow port Q`, `deny from NET`, `allow from NET port P`."""
    rnd = random.Random(seed)
    lines = ["*filter", ":INPUT DROP [0:0]", ":ufw-user-input - [0:0]", "-A INPUT -i lo -j ACCEPT"]
    if chain != "INPUT":
        lines.append(f"-A INPUT -j {chain}")
    for number, net in enumerate(rnd.sample(range(256, 200 * 256), count)):
        kind = number % 3
        port = 1000 + rnd.randrange(60000)
        source = f"{1 + (net >> 8)}.{net & 255}.0.0/16"
        if kind == 0:
            lines.append(f"-A {chain} -p tcp -m tcp --dport {port} -j ACCEPT")
        elif kind == 1:
            lines.append(f"-A {chain} -s {source} -j DROP")
        else:
            lines.append(f"-A {chain} -s {source} -p tcp -m tcp --dport {port} -j ACCEPT")
    return "\n".join(lines + ["COMMIT", ""])


def _internal_interface(text: str) -> str:
    """The same rules, and every port open on eth1 (an internal interface) before them."""
    return text.replace("-A INPUT -i lo -j ACCEPT", "-A INPUT -i lo -j ACCEPT\n-A INPUT -i eth1 -p udp -j ACCEPT")


CASES = {
    "user chain": (_user_rules(450), {}),
    "user chain, loopback too": (_user_rules(450), {}),
    "INPUT itself (lone results)": (_user_rules(900, "INPUT"), {}),
    "trusted networks across the denied ones": (
        _user_rules(450), dict(trusted_v4=((_address("20.0.0.0"), _address("60.255.255.255")),))),
    "an internal interface": (_internal_interface(_user_rules(450)), dict(internal_interfaces=("eth1",))),
    "this host at a private address": (
        _user_rules(450), dict(host_addresses=((Family.IPV4, _address("10.0.0.5"), _address("10.0.0.5")),))),
    "this host at a public and a private address": (
        _user_rules(450), dict(host_addresses=((Family.IPV4, _address("10.0.0.5"), _address("10.0.0.5")),
                                               (Family.IPV4, _address("8.8.8.8"), _address("8.8.8.8"))))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_summary_with_held_sources_is_the_summary_of_the_lists_built(monkeypatch, case):
    text, classes = CASES[case]
    loopback = case == "user chain, loopback too"
    held = ExposureAnalysis([ruleset(text)], NetworkClasses(**classes), loopback=loopback)
    mine = held.exposures()
    deferred = sum(type(result) is DeferredResult for result in held.results(Family.IPV4))
    assert deferred > 100 if case != "INPUT itself (lone results)" else deferred == 0  # (walked another way)
    monkeypatch.setattr(exposure_module, "node_of", lambda result: None)  # the general path
    theirs = ExposureAnalysis([ruleset(text)], NetworkClasses(**classes), loopback=loopback).exposures()
    assert len(mine) == len(theirs) > 100
    for one, other in zip(mine, theirs):
        assert type(one.sources) is tuple and one.sources == other.sources
        assert one == other
    assert mine == theirs
    if case == "user chain":
        from linter.engine.held_exposure import HeldExposure

        assert sum(type(exposure) is HeldExposure for exposure in mine) > 80


def test_an_exposure_with_held_sources_reads_as_one_with_its_list():
    analysis = ExposureAnalysis([ruleset(_user_rules(300))], loopback=False)
    from linter.engine.exposure import Exposure
    from linter.engine.held_exposure import HeldExposure

    exposure = next(e for e in analysis.exposures() if type(e) is HeldExposure)
    assert type(Exposure.__dict__["sources"].__get__(exposure)) is HeldSources  # its own slot holds them
    assert not hasattr(exposure, "__dict__")
    sources = exposure.sources
    assert type(sources) is tuple and len(sources) > LONG and exposure.reach == "internet"
    assert exposure.sources is sources  # the last few built are kept: one list for a reader's reads
    copy = dataclasses.replace(exposure, ports=((1, 1),))
    assert copy.sources == sources and type(copy) is Exposure and copy != exposure
    assert dataclasses.replace(exposure) == exposure and hash(dataclasses.replace(exposure)) == hash(exposure)
    assert repr(exposure) == repr(dataclasses.replace(exposure))
    assert getattr(exposure, "not_a_field", None) is None
    with pytest.raises(AttributeError):
        exposure.not_a_field  # noqa: B018


def test_a_held_exposure_equals_hashes_and_copies_as_the_exposure_of_its_list():
    import copy
    import pickle

    from linter.engine.exposure import Exposure
    from linter.engine.held_exposure import HeldExposure

    analysis = ExposureAnalysis([ruleset(_user_rules(300))], loopback=False)
    held = [e for e in analysis.exposures() if type(e) is HeldExposure]
    assert held and all(type(e) is HeldExposure for e in held)
    assert not hasattr(Exposure, "__getattr__")  # (with one, no read of an Exposure is specialised)
    for exposure in held[:20]:
        plain = Exposure(**{f.name: getattr(exposure, f.name) for f in dataclasses.fields(Exposure)})
        assert type(plain) is Exposure and type(plain.sources) is tuple
        # Both ways round (Exposure.__eq__ declines a subclass; HeldExposure.__eq__ is asked).
        assert plain == exposure and exposure == plain and not (plain != exposure) and not (exposure != plain)
        assert hash(plain) == hash(exposure) and repr(plain) == repr(exposure)
        other = dataclasses.replace(plain, ports=((1, 1),))
        assert other != exposure and exposure != other
        assert exposure != "not an exposure"
        assert type(dataclasses.replace(exposure)) is Exposure
        for copied in (copy.copy(exposure), pickle.loads(pickle.dumps(exposure))):
            assert type(copied) is HeldExposure and copied == exposure == plain
            assert copied.sources == plain.sources
            assert type(Exposure.__dict__["sources"].__get__(copied)) is HeldSources  # still held
