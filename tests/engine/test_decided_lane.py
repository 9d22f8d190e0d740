"""The dead-rule analysis of a base chain by an index of what earlier rules decided
(engine/decided_lane.py) finds exactly the general path's dead and shadowed rules (its budget
raised so it judges every chain): compared on random chains of the random mix's rule kinds
plus negation, conntrack state, interfaces, address types (for this host or not), opaque and
path-decided matches, non-terminal
verdicts, RETURN, goto, nested jumps, IPv6 and policies."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("linter.frontends.iptables.save")

from linter.engine import decided_index, decided_lane, memo, shadow  # noqa: E402
from linter.engine.shadow import ShadowAnalysis  # noqa: E402
from linter.model import Family  # noqa: E402
from tests.engine.helpers import ruleset  # noqa: E402

INTERFACES = {"eth0", "eth1", "lo"}


def _net(pick: random.Random, v6: bool, length: int) -> str:
    """A network in a small space, so that rules overlap often."""
    if v6:
        return f"2001:db8:{pick.randint(0, 3)}:{pick.randint(0, 3)}::/{length + 40}"
    return f"10.{pick.randint(0, 3)}.{pick.randint(0, 3) if length >= 24 else 0}.0/{length}"


def _match(pick: random.Random, v6: bool, opaque: bool) -> str:
    """One or two matches of the kinds the mix uses and the ones the general path treats specially."""
    kinds = ["src24", "src24", "src16", "multiport", "multiport", "proto", "dport", "state", "iif", "dst",
             "notsrc", "notiif", "none", "both", "local", "notlocal"]
    if opaque:
        kinds += ["oif", "limit", "mark"]
    kind = pick.choice(kinds)
    proto = pick.choice(("tcp", "udp"))
    ports = ",".join(map(str, sorted(pick.sample((22, 53, 80, 443, 8080), pick.randint(1, 3)))))
    return {
        "src24": f"-s {_net(pick, v6, 24)}",
        "src16": f"-s {_net(pick, v6, 16)}",
        "multiport": f"-p {proto} -m multiport --dports {ports}",
        "proto": f"-p {proto}",
        "dport": f"-p {proto} -m {proto} --dport {pick.choice((22, 53, 80))}",
        "state": f"-m conntrack --ctstate {pick.choice(('NEW', 'RELATED,ESTABLISHED', 'INVALID'))}",
        "iif": f"-i {pick.choice(('eth0', 'lo'))}",
        "dst": f"-d {_net(pick, v6, 16)}",
        "notsrc": f"! -s {_net(pick, v6, 16)}",
        "notiif": "! -i eth0",
        "none": "",
        "both": f"-s {_net(pick, v6, 16)} -p {proto} -m multiport --dports {ports}",
        "local": f"-m addrtype --dst-type LOCAL -p {proto}",
        "notlocal": "-m addrtype ! --dst-type LOCAL",
        "oif": "-m recent --name seen --rcheck",
        "limit": "-m limit --limit 5/sec",
        "mark": "-m mark --mark 0x1",
    }[kind]


def _table(seed: int, rules: int, v6: bool = False, goto: bool = False, opaque: bool = True,
           nested: bool = True, opaque_callees: bool = True) -> str:
    """A filter table: INPUT of ``rules`` random rules jumping into a few user chains
    (``opaque``: opaque and path-decided matches among them; ``opaque_callees``: in the user
    chains too, where an opaque RETURN leaves the lane)."""
    pick = random.Random(seed)
    users = [f"U{index}" for index in range(4)]
    lines = ["*filter", f":INPUT {pick.choice(('ACCEPT', 'DROP'))} [0:0]", ":FORWARD ACCEPT [0:0]",
             ":OUTPUT ACCEPT [0:0]"] + [f":{name} - [0:0]" for name in users]

    def verdict(chain_index: int | None) -> str:
        roll = pick.random()
        deeper = users[chain_index + 1:] if chain_index is not None else users
        if chain_index is not None and roll < 0.25:
            return "RETURN"
        if deeper and roll < (0.5 if chain_index is None or nested else 0.25):
            return ("-g " if goto and pick.random() < 0.3 else "") + pick.choice(deeper)
        if roll < 0.55:
            return "LOG"
        if chain_index is None and roll < 0.6:
            return "RETURN"
        return pick.choice(("DROP", "DROP", "ACCEPT", "REJECT"))

    def line(chain: str, chain_index: int | None) -> str:
        target = verdict(chain_index)
        jump = target if target.startswith("-g ") else f"-j {target}"
        hidden = opaque and (chain_index is None or opaque_callees)
        return f"-A {chain} {_match(pick, v6, hidden)} {jump}".replace("  ", " ")

    lines += [line("INPUT", None) for _ in range(rules)]
    for index, name in enumerate(users):
        lines += [line(name, index) for _ in range(pick.randint(0, 6))]
    return "\n".join(lines) + "\nCOMMIT\n"


def _verdicts(text: str, monkeypatch, lane: bool, v6: bool = False):
    """Every chain's ChainVerdicts (dead, shadowed, judged, returned), the lane first on INPUT or
    never (then the general path with its budget raised)."""
    memo.forget_every_file()
    with monkeypatch.context() as patch:
        patch.setattr(shadow, "LANE_AT_LEAST", 0 if lane else 10 ** 9)
        if not lane:
            patch.setattr(shadow, "SHADOW_BUDGET", 10 ** 9)
        table = ruleset(text).tables[0]
        analysis = ShadowAnalysis(table, Family.IPV6 if v6 else Family.IPV4, INTERFACES)
        found = [(chain.name, sorted(v.dead), sorted(v.shadowed), v.judged) for chain in table.chains
                 for v in (analysis.chain(chain),)]
        # What each called chain returns, as a general-path caller reads it (made then when the
        # lane alone asked for the chain).
        return [verdicts + (tuple(analysis.returned(chain)) if chain.name in analysis._targets else None,)
                for verdicts, chain in zip(found, table.chains)]


def _judged_by_lane(text: str, v6: bool = False):
    """What the lane alone says of INPUT (None: it does not judge it)."""
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    analysis = ShadowAnalysis(table, Family.IPV6 if v6 else Family.IPV4, INTERFACES)
    return decided_lane.judge(analysis, table.chains[0])


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("rules", (8, 40))
def test_the_lane_finds_the_general_paths_dead_and_shadowed_rules(monkeypatch, seed, rules):
    text = _table(seed, rules)
    assert _verdicts(text, monkeypatch, lane=True) == _verdicts(text, monkeypatch, lane=False)


@pytest.mark.parametrize("seed", range(40))
def test_the_lane_judges_chains_of_plain_matches_and_jumps(monkeypatch, seed):
    """Without goto, nor opaque matches in the called chains, the lane judges INPUT itself (so
    the comparison above is not vacuous)."""
    text = _table(seed, 40, opaque_callees=False)
    judged = _judged_by_lane(text)
    assert judged is not None and judged.judged
    general = _verdicts(text, monkeypatch, lane=False)[0]
    assert ("INPUT", sorted(judged.dead), sorted(judged.shadowed), True, None) == general


@pytest.mark.parametrize("seed", range(20))
def test_ipv6_chains(monkeypatch, seed):
    text = _table(seed, 30, v6=True, opaque_callees=False)
    assert _judged_by_lane(text, v6=True) is not None
    assert _verdicts(text, monkeypatch, lane=True, v6=True) == _verdicts(text, monkeypatch, lane=False, v6=True)


@pytest.mark.parametrize("seed", range(30))
def test_goto_and_opaque_rules_in_called_chains_leave_the_lane_or_agree(monkeypatch, seed):
    text = _table(seed, 30, goto=True)
    assert _verdicts(text, monkeypatch, lane=True) == _verdicts(text, monkeypatch, lane=False)


@pytest.mark.parametrize("seed", range(10))
def test_many_dead_rules_agree(monkeypatch, seed):
    """Long chains without opaque matches: most later rules are dead."""
    text = _table(seed, 200, opaque=False, nested=False)
    lane = _verdicts(text, monkeypatch, lane=True)
    assert lane == _verdicts(text, monkeypatch, lane=False)
    assert len(lane[0][1]) > 20


def test_a_goto_in_a_called_chain_leaves_the_lane():
    text = ("*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A INPUT -p tcp -j A\n"
            "-A INPUT -s 10.0.0.0/8 -j DROP\n-A A -s 10.1.0.0/16 -g B\n-A B -j DROP\nCOMMIT\n")
    assert _judged_by_lane(text) is None


def test_the_lane_out_of_budget_gives_the_chain_to_the_general_path(monkeypatch):
    """Past its budget the lane gives up; the general path then judges (or reports PL410) as before."""
    text = _table(2, 60, opaque=False)
    monkeypatch.setattr(decided_lane, "LANE_BUDGET", 0)
    monkeypatch.setattr(decided_lane, "LANE_BUDGET_PER_RULE", 0)
    assert _judged_by_lane(text) is None
    assert _verdicts(text, monkeypatch, lane=True) == _verdicts(text, monkeypatch, lane=False)
    monkeypatch.setattr(shadow, "SHADOW_BUDGET", 0)
    monkeypatch.setattr(shadow, "SHADOW_BUDGET_PER_RULE", 0)
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    verdicts = ShadowAnalysis(table, Family.IPV4, INTERFACES).chain(table.chains[0])
    assert (verdicts.judged, verdicts.dead, verdicts.shadowed) == (False, set(), set())


def test_a_chain_over_the_general_budget_is_judged_by_the_lane(monkeypatch):
    """A small base chain the general path cannot judge within its budget is judged by the lane
    (the chains it calls judged; one that is not returns everything, in both)."""
    text = _table(4, 40, opaque=False)
    general = _verdicts(text, monkeypatch, lane=False)[0]
    monkeypatch.setattr(shadow, "chain_budget", lambda chain: 0 if chain.name == "INPUT" else 10 ** 9)
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    verdicts = ShadowAnalysis(table, Family.IPV4, INTERFACES).chain(table.chains[0])
    assert ("INPUT", sorted(verdicts.dead), sorted(verdicts.shadowed), verdicts.judged, None) == general


def test_union_adds_merges_and_answers():
    union = decided_index.Union(((10, 20),))
    union.add(((30, 40), (21, 25), (50, 50)))
    assert list(zip(union.starts, union.ends)) == [(10, 25), (30, 40), (50, 50)]
    union.add(((26, 29),))
    assert list(zip(union.starts, union.ends)) == [(10, 40), (50, 50)]
    assert union.inside(((0, 12), (45, 60))) == ((10, 12), (50, 50))
    assert union.outside(((0, 12), (45, 60))) == ((0, 9), (45, 49), (51, 60))
    assert union.meets(((41, 49),)) is False and union.meets(((41, 50),)) is True
    assert union.covers(((10, 40),)) is True and union.covers(((10, 41),)) is False
    assert union.first_outside(((10, 60),)) == 41 and union.first_outside(((50, 50),)) is None


@pytest.mark.parametrize("matches", ["-s 10.1.2.0/24", "-p tcp", "-p udp -m multiport --dports 53,123",
                                     "-p icmp", "-p tcp -m tcp --dport 22", "! -s 10.0.0.0/8", "-p tcp ! --dport 22",
                                     "-s 2001:db8::/32"])
def test_plain_matches_are_split_rules_answer(matches):
    """The lane's direct reading of the commonest rules equals split_rule's matching part."""
    from linter.engine.space import split_rule

    rule = ruleset(f"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {matches} -j DROP\nCOMMIT\n").tables[0].chains[0].rules[0]
    box = shadow.universe(Family.IPV4, INTERFACES)[0]
    direct = decided_lane.plain_match(box, rule.matches)
    expected = split_rule(box, rule.matches, rule, False, decide=False)[0]
    assert direct is False or direct == expected
    assert (direct is not False) == (matches in ("-s 10.1.2.0/24", "-p tcp", "-p udp -m multiport --dports 53,123",
                                                 "-p icmp", "-p tcp -m tcp --dport 22"))


@pytest.mark.parametrize("seed", range(10))
def test_called_chains_the_general_path_cannot_judge_decide_nothing_in_both(monkeypatch, seed):
    """A user chain over the general path's budget returns everything to its callers there; the
    lane takes it as deciding nothing, so both find the same dead rules in INPUT."""
    text = _table(seed, 40, opaque_callees=False)
    monkeypatch.setattr(shadow, "chain_budget", lambda chain: 10 ** 9 if chain.name == "INPUT" else 0)
    general = _verdicts(text, monkeypatch, lane=False)
    assert _verdicts(text, monkeypatch, lane=True) == general
    judged = _judged_by_lane(text)
    assert judged is not None and ("INPUT", sorted(judged.dead), sorted(judged.shadowed), True, None) == general[0]


@pytest.mark.parametrize("seed", range(30))
def test_a_plain_jumps_crossings_are_the_general_crossings(seed):
    """_crossed_plain (a jump whose match plain_match read) gives _crossed's boxes, equal field by
    field, for random plain matches crossed with boxes of every kind the called chains decide
    (sources, protocols, ports, states, interfaces, for this host or not), all inside the universe."""
    from tests.engine.test_decided_index import _box

    pick = random.Random(seed)
    universe = shadow.universe(Family.IPV4, INTERFACES)[0]
    whole = universe._replace(local=None)
    matches = ["-s 10.1.2.0/24", "-s 10.0.0.0/8", "-p tcp", "-p udp", "-p tcp -m multiport --dports 22,80,8080",
               "-p udp -m udp --dport 53", "-s 0.0.0.0/0", "-s 16.0.0.0/4", "-s 1.0.0.0/8"]
    for _ in range(20):
        text = pick.choice(matches)
        rule = ruleset(f"*filter\n:INPUT ACCEPT [0:0]\n-A INPUT {text} -j A\n:A - [0:0]\nCOMMIT\n").tables[0].chains[0].rules[0]
        box = decided_lane.plain_match(whole, rule.matches)
        others = [_box(pick, whole) for _ in range(pick.randint(0, 8))]
        # (the lane's boxes all lie in the universe: states named as its own)
        others = [other._replace(state=frozenset(pick.sample(sorted(whole.state), 2))) if pick.random() < 0.3
                  else other._replace(state=whole.state) for other in others]
        assert decided_lane._crossed_plain(box, others, whole) == decided_lane._crossed([box], others)


def _plain_mix(seed: int) -> str:
    """The random mix's shape in small: INPUT of source drops, port drops and jumps (by source
    or by protocol) into user chains of plain rules only (source RETURNs and drops, port drops,
    protocols, rules matching everything, LOG), which engine/plain_chain.py reads for the lane."""
    pick = random.Random(seed)
    users = [f"C{index}" for index in range(6)]
    lines = ["*filter", ":INPUT DROP [0:0]"] + [f":{name} - [0:0]" for name in users]

    def plain() -> str:
        proto = pick.choice(("tcp", "udp"))
        ports = ",".join(map(str, sorted(pick.sample((22, 53, 80, 443, 8080), pick.randint(1, 3)))))
        return pick.choice((f"-s {_net(pick, False, 24)}", f"-s {_net(pick, False, 16)}", f"-p {proto}", "",
                            f"-p {proto} -m multiport --dports {ports}", f"-p {proto} -m {proto} --dport 53"))

    for name in users:
        for _ in range(pick.randint(1, 6)):
            verdict = pick.choice(("RETURN", "RETURN", "DROP", "DROP", "ACCEPT", "LOG", "REJECT"))
            lines.append(f"-A {name} {plain()} -j {verdict}".replace("  ", " "))
    for _ in range(pick.randint(10, 60)):
        roll = pick.random()
        if roll < 0.3:
            lines.append(f"-A INPUT -s {_net(pick, False, 16)} -j {pick.choice(users)}")
        elif roll < 0.5:
            lines.append(f"-A INPUT -p {pick.choice(('tcp', 'udp'))} -j {pick.choice(users)}")
        else:
            lines.append(f"-A INPUT {plain()} -j {pick.choice(('DROP', 'DROP', 'ACCEPT', 'RETURN'))}".replace("  ", " "))
    return "\n".join(lines) + "\nCOMMIT\n"


@pytest.mark.parametrize("seed", range(60))
def test_called_chains_of_plain_rules_decide_as_read_again(monkeypatch, seed):
    """What a called chain of plain rules decides, made from engine/plain_chain.py's reading
    (_plain_decides), gives the general path's dead rules, as reading it again did."""
    text = _plain_mix(seed)
    judged = _judged_by_lane(text)
    assert judged is not None
    assert _verdicts(text, monkeypatch, lane=True) == _verdicts(text, monkeypatch, lane=False)


@pytest.mark.parametrize("seed", range(30))
def test_a_plain_boxs_pieces_are_the_general_pieces(seed):
    """_minus_plain and _less_plain (a called chain's boxes as engine/plain_chain.py read them,
    less its RETURNs) give _minus's and _less's boxes, equal field by field and in order, with
    the same work charged, for random boxes of the universe narrowed in their sources,
    protocols and destination ports."""
    from tests.engine.test_decided_index import _ranges

    pick = random.Random(seed)
    whole = shadow.universe(Family.IPV4, INTERFACES)[0]._replace(local=None)

    def plain():
        changes = {}
        if pick.random() < 0.6:
            changes["src"] = _ranges(pick, 2**32 - 1, (0, 2**24, 2**24 + 255, 2**25, 2**31, 2**32 - 1))
        if pick.random() < 0.5:
            changes["proto"] = pick.choice((((6, 6),), ((17, 17),), ((6, 6), (17, 17)), ((0, 5),)))
            if pick.random() < 0.6:
                changes["dport"] = _ranges(pick, 65535, (22, 53, 80, 443, 1000, 8080, 65535))
        return whole._replace(**changes)

    for _ in range(40):
        box, holes = plain(), [plain() for _ in range(pick.randint(1, 4))]
        assert decided_lane._minus_plain(box, holes[0]) == decided_lane._minus(box, holes[0])
        general, fast = (decided_index.DecidedIndex([whole], 10**9) for _ in range(2))
        assert decided_lane._less_plain(box, holes, fast) == decided_lane._less([box], holes, general)
        assert fast.spent == general.spent


@pytest.mark.parametrize("seed", range(40))
def test_a_called_chains_reading_decides_what_its_rules_decide(seed):
    """_plain_decides, from engine/plain_chain.py's reads (the rules that return or end the
    chain, dead or not), gives the boxes decided_by() makes of each rule read again, in order,
    with the same work charged."""
    text = _plain_mix(seed)
    memo.forget_every_file()
    table = ruleset(text).tables[0]
    analysis = ShadowAnalysis(table, Family.IPV4, INTERFACES)
    for chain in (chain for chain in table.chains if chain.name.startswith("C")):
        assert analysis.unread(chain).judged
        reads = analysis.plain_reads[chain.name]
        fast = decided_lane._Lane(analysis, decided_index.DecidedIndex(analysis.space, 10**9))
        general = decided_lane._Lane(analysis, decided_index.DecidedIndex(analysis.space, 10**9))
        returns, decided = [], []
        for rule in chain.rules:
            decided.extend(general.decided_by(rule, general.matched(rule), returns, 1))
        assert fast._plain_decides(chain, reads) == decided
        assert fast.index.spent == general.index.spent


def _jumps_to_every_kind(seed: int) -> str:
    """_plain_mix's INPUT jumping, by source or protocol, also to chains that change nothing
    (LOG and RETURN only, or empty) and to chains asked many times over, after covering drops."""
    pick = random.Random(seed)
    lines = ["*filter", ":INPUT DROP [0:0]", ":C0 - [0:0]", ":C1 - [0:0]", ":EMPTY - [0:0]", ":SEEN - [0:0]"]
    lines += ["-A SEEN -j LOG", "-A SEEN -s 10.1.0.0/16 -j RETURN"]
    for name in ("C0", "C1"):
        for _ in range(pick.randint(1, 5)):
            match = pick.choice((f"-s 10.{pick.randint(0, 3)}.{pick.randint(0, 3)}.0/24", "-p tcp", "-p udp",
                                 "-p tcp -m multiport --dports 22,80", "-s 10.1.0.0/16"))
            lines.append(f"-A {name} {match} -j {pick.choice(('RETURN', 'DROP', 'DROP', 'ACCEPT', 'LOG'))}")
    targets = ("C0", "C1", "EMPTY", "SEEN")
    for _ in range(pick.randint(10, 50)):
        roll = pick.random()
        if roll < 0.35:
            lines.append(f"-A INPUT -s 10.{pick.randint(0, 3)}.0.0/16 -j {pick.choice(targets)}")
        elif roll < 0.6:
            lines.append(f"-A INPUT -p {pick.choice(('tcp', 'udp', 'icmp'))} -j {pick.choice(targets)}")
        elif roll < 0.8:
            lines.append(f"-A INPUT -s 10.{pick.randint(0, 3)}.0.0/{pick.choice((16, 8))} -j DROP")
        else:
            lines.append(f"-A INPUT -p {pick.choice(('tcp', 'udp'))} -m multiport --dports 22,80 -j DROP")
    return "\n".join(lines) + "\nCOMMIT\n"


@pytest.mark.parametrize("seed", range(60))
def test_plain_jumps_to_chains_that_change_nothing_or_are_asked_again_agree(monkeypatch, seed):
    """A plain jump judged in judge()'s loop, what its target decides looked up once per target
    (a chain that changes nothing, an empty one, one jumped to after covering drops), gives
    the general path's dead and shadowed rules."""
    text = _jumps_to_every_kind(seed)
    assert _judged_by_lane(text) is not None
    assert _verdicts(text, monkeypatch, lane=True) == _verdicts(text, monkeypatch, lane=False)
