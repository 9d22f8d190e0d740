"""A short chain of plain rules (engine/plain_chain.py) gets exactly the general path's
analysis: compared on random chains of source networks, protocols and protocols with ports,
overlapping often, with RETURN, non-terminal verdicts, IPv6, and rules that match nothing."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import memo, plain_chain, shadow  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

INTERFACES = {"eth0", "lo"}


def _match(pick: random.Random, v6: bool) -> str:
    proto = pick.choice(("tcp", "udp", "sctp"))
    ports = ",".join(map(str, sorted(pick.sample((22, 53, 80, 443, 8080), pick.randint(1, 3)))))
    net = (f"2001:db8:{pick.randint(0, 1)}::/{pick.choice((40, 48, 0))}" if v6
           else f"10.{pick.randint(0, 1)}.0.0/{pick.choice((8, 16, 0))}")
    return pick.choice((f"-s {net}", f"-s {net}", f"-p {proto}", f"-p {pick.choice(('icmp', 'all', 'tcp'))}",
                        f"-p {proto} -m multiport --dports {ports}", f"-p {proto} -m {proto} --dport 1:65535",
                        f"-p {proto} -m multiport --dports {ports}"))


def _chain(seed: int, v6: bool = False, plain: bool = True) -> str:
    pick = random.Random(seed)
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":U - [0:0]"]
    for _ in range(pick.randint(1, 12)):
        match = _match(pick, v6) if plain or pick.random() < 0.8 else "! -s 10.0.0.0/8"
        lines.append(f"-A U {match} -j {pick.choice(('DROP', 'DROP', 'ACCEPT', 'RETURN', 'RETURN', 'LOG', 'REJECT'))}")
    return "\n".join(lines) + "\nCOMMIT\n"


def _both(text: str, v6: bool = False, budget: int = 10 ** 9):
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    chain = next(chain for chain in table.chains if chain.name == "U")
    analysis = ShadowAnalysis(table, Family.IPV6 if v6 else Family.IPV4, INTERFACES)
    return plain_chain.judge(analysis, chain, budget), analysis._analyse(chain, False, lanes=False)


@pytest.mark.parametrize("seed", range(300))
def test_plain_chains_get_the_general_paths_analysis(seed):
    fast, general = _both(_chain(seed))
    assert fast == general


@pytest.mark.parametrize("seed", range(100))
def test_ipv6(seed):
    fast, general = _both(_chain(seed, v6=True), v6=True)
    assert fast == general


@pytest.mark.parametrize("seed", range(60))
def test_other_rules_leave_it_to_the_general_path(seed):
    text = _chain(seed, plain=False)
    fast, general = _both(text)
    assert fast is None if "! -s" in text else fast == general


def test_dead_rules_are_found():
    text = ("*filter\n:INPUT ACCEPT [0:0]\n:U - [0:0]\n-A U -s 10.0.0.0/8 -j RETURN\n-A U -p tcp -j DROP\n"
            "-A U -s 10.1.0.0/16 -j DROP\n-A U -p tcp -m multiport --dports 22,80 -j DROP\n"
            "-A U -p udp -m udp --dport 53 -j DROP\n-A U -p udp -m multiport --dports 53 -j ACCEPT\n"
            "-A U -p icmp -m multiport --dports 53 -j ACCEPT\nCOMMIT\n")
    fast, general = _both(text)
    assert fast == general
    assert (sorted(fast.dead), sorted(fast.shadowed)) == ([2, 3, 5, 6], [2, 3, 5])


def test_a_source_and_a_port_area_together_cover_nothing_more():
    """Sources decided and protocol areas decided cover a rule only when one of them does."""
    text = ("*filter\n:INPUT ACCEPT [0:0]\n:U - [0:0]\n-A U -s 10.0.0.0/8 -j DROP\n-A U -p tcp -j DROP\n"
            "-A U -s 10.0.0.0/7 -p tcp -m tcp --dport 22 -j DROP\n-A U -s 11.0.0.0/8 -j DROP\n-A U -s 10.0.0.0/7 -j DROP\n"
            "COMMIT\n")
    fast, general = _both(text)
    assert fast is None  # (three matches: not plain)
    text = text.replace("-A U -s 10.0.0.0/7 -p tcp -m tcp --dport 22 -j DROP\n", "-A U -p udp -j ACCEPT\n")
    fast, general = _both(text)
    assert fast == general and sorted(fast.dead) == [4]


def test_jumps_long_chains_and_small_budgets_leave_it_to_the_general_path():
    base = "*filter\n:INPUT ACCEPT [0:0]\n:V - [0:0]\n:U - [0:0]\n"
    assert _both(base + "-A U -s 10.0.0.0/8 -j V\nCOMMIT\n")[0] is None
    assert _both(base + "".join(f"-A U -p tcp -m multiport --dports {port} -j DROP\n" for port in range(1, 9))
                 + "COMMIT\n")[0] is None  # (a dispatch run on ports)
    twelve = base + "".join(f"-A U {_match(random.Random(seed), False)} -j DROP\n" for seed in range(12)) + "COMMIT\n"
    fast, general = _both(twelve)
    assert fast is not None and fast == general and len(fast.dead) >= 3
    assert _both(twelve, budget=2 * (2 ** 12 - 1) - 1)[0] is None
    seven = base + "-A U -s 10.0.0.0/8 -j DROP\n" * 7 + "COMMIT\n"
    assert _both(seven, budget=253)[0] is None and _both(seven, budget=254)[0] is not None
    assert _both(base + "COMMIT\n")[0] is None


def test_the_budget_bound_holds_on_the_general_path(monkeypatch):
    """The general path spends at most 2 * (2**n - 1) splits on such a chain (seven rules each
    cutting every box in two: here it judges it with exactly the bound as its budget)."""
    rules = "".join(f"-A U -p tcp -m multiport --dports {port} -j DROP\n" for port in range(1, 8))
    text = "*filter\n:INPUT ACCEPT [0:0]\n:U - [0:0]\n" + rules + "COMMIT\n"
    monkeypatch.setattr(shadow, "chain_budget", lambda chain: 2 * (2 ** 7 - 1))
    fast, general = _both(text, budget=2 * (2 ** 7 - 1))
    assert general.judged and fast == general


def _table(seed: int) -> str:
    """Many chains of plain rules (and a few others), some jumped to from INPUT, some not."""
    pick = random.Random(seed)
    names = [f"U{index}" for index in range(12)]
    lines = ["*filter", ":INPUT ACCEPT [0:0]"] + [f":{name} - [0:0]" for name in names]
    for name in names:
        for _ in range(pick.randint(0, 9)):
            match = _match(pick, False) if pick.random() < 0.9 else "! -s 10.0.0.0/8"
            lines.append(f"-A {name} {match} -j {pick.choice(('DROP', 'RETURN', 'LOG', 'ACCEPT'))}")
    for name in pick.sample(names, 4):
        lines.append(f"-A INPUT {_match(pick, False)} -j {name}")
    return "\n".join(lines) + "\nCOMMIT\n"


def _every_chain(text: str, monkeypatch, plain: bool):
    memo.forget_every_file()
    with monkeypatch.context() as patch:
        patch.setattr(shadow, "PLAIN_CHAINS_AT_LEAST", 0 if plain else 10 ** 9)
        table = ruleset(text).tables[0]
        analysis = ShadowAnalysis(table, Family.IPV4, INTERFACES)
        found = [(chain.name, sorted(v.dead), sorted(v.shadowed), v.judged) for chain in table.chains
                 for v in (analysis.chain(chain),)]
        return [verdicts + (tuple(analysis.returned(chain)) if chain.name in analysis._targets else None,)
                for verdicts, chain in zip(found, table.chains)]


@pytest.mark.parametrize("seed", range(40))
def test_chains_nobody_jumps_to_get_the_general_paths_analysis(monkeypatch, seed):
    text = _table(seed)
    assert _every_chain(text, monkeypatch, plain=True) == _every_chain(text, monkeypatch, plain=False)


def _canonical(pick: random.Random, top: int) -> tuple:
    """Sorted, disjoint, non-adjacent ranges (iv.union's inputs)."""
    from linter.engine import intervals as iv

    return iv.normalize((lo, lo + pick.choice((0, 0, 1, 5))) for lo in pick.sample(range(top), pick.randint(0, 7)))


@pytest.mark.parametrize("seed", range(20))
def test_the_hand_merged_union_is_iv_union(seed):
    """plain_chain._union's merge of a few ranges by hand gives iv.union's ranges."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    for _ in range(300):
        top = pick.choice((8, 30, 65536))
        a, b = _canonical(pick, top), _canonical(pick, top)
        assert plain_chain._union(a, b) == iv.union(a, b)


@pytest.mark.parametrize("seed", range(20))
def test_the_walked_containment_is_subtraction(seed):
    """plain_chain._within answers as an empty iv.subtract, also where the held ranges touch or
    overlap (a rule's own ports, as written, are kept as they are)."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    for _ in range(300):
        top = pick.choice((8, 30, 65536))
        ranges = _canonical(pick, top)
        starts = [pick.randint(0, top) for _ in range(pick.randint(1, 5))]
        held = _canonical(pick, top) if pick.random() < 0.5 else tuple(sorted(
            (lo, min(top, lo + pick.randint(0, 4))) for lo in starts))
        if not ranges or not held:
            continue
        assert plain_chain._within(ranges, held) == (not iv.subtract(ranges, held)), (ranges, held)
        if pick.random() < 0.3:  # (ranges lying inside: often)
            inside = tuple(sorted({(lo, hi) for lo, hi in held if pick.random() < 0.7}))
            if inside:
                assert plain_chain._within(inside, held) == (not iv.subtract(inside, held))


@pytest.mark.parametrize("seed", range(20))
def test_one_range_united_into_a_few_is_iv_union(seed):
    """plain_chain._union of one range into a few (placed by bisection) gives iv.union's ranges,
    where the range falls before, between, inside, across or touching the others."""
    from linter.engine import intervals as iv

    pick = random.Random(seed)
    for _ in range(500):
        top = pick.choice((8, 30, 200))
        a = _canonical(pick, top)
        lo = pick.randint(0, top)
        b = ((lo, min(top, lo + pick.choice((0, 0, 1, 3, 20)))),)
        assert plain_chain._union(a, b) == iv.union(a, b), (a, b)


def _sources_and_areas(seed: int) -> str:
    """A chain of source rules among protocol and port areas decided (every protocol's, some
    protocols', all protocols' ports one by one): where a source rule's areas test is asked."""
    pick = random.Random(seed)
    lines = ["*filter", ":INPUT ACCEPT [0:0]", ":U - [0:0]"]
    for _ in range(pick.randint(1, 12)):
        roll = pick.random()
        if roll < 0.5:
            match = f"-s 10.{pick.randint(0, 2)}.0.0/{pick.choice((8, 16, 24, 0))}"
        elif roll < 0.6:
            match = f"-p {pick.choice(('all', 'tcp', 'udp', 'icmp'))}"
        elif roll < 0.7:
            match = ""
        else:
            proto = pick.choice(("tcp", "udp"))
            match = f"-p {proto} -m {proto} --dport {pick.choice(('1:65535', '0:65535', '22', '80:90'))}"
        verdict = pick.choice(("DROP", "DROP", "ACCEPT", "RETURN", "LOG"))
        lines.append(f"-A U {match} -j {verdict}".replace("  ", " "))
    return "\n".join(lines) + "\nCOMMIT\n"


@pytest.mark.parametrize("seed", range(150))
def test_source_rules_read_in_place_get_the_general_paths_analysis(seed):
    fast, general = _both(_sources_and_areas(seed))
    assert fast == general


def _unread_everywhere(text: str, direct: bool):
    """Every chain asked for unread (engine/decided_lane.py's question) in order, then read back:
    through _analysis_of (its direct plain_chain step) or _chain (the path it stands for)."""
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    analysis = ShadowAnalysis(table, Family.IPV4, INTERFACES)
    ask = analysis.unread if direct else (lambda chain: analysis._chain(chain, True))
    found = []
    for chain in table.chains:
        if chain.name in analysis._done or chain.name in analysis._unread:
            continue
        verdicts = ask(chain)
        found.append((chain.name, sorted(verdicts.dead), sorted(verdicts.shadowed), verdicts.judged))
    kept = {name: (sorted(v.dead), list(active)) for name, (v, active) in analysis._unread.items()}
    reads = dict(analysis.plain_reads)
    returned = [tuple(analysis.returned(chain)) for chain in table.chains]
    return found, kept, reads, returned


@pytest.mark.parametrize("seed", range(40))
def test_unread_chains_judged_directly_get_the_same_analysis(seed):
    text = _table(seed)
    assert _unread_everywhere(text, True) == _unread_everywhere(text, False)
