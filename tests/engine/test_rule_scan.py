"""engine/rule_scan.py: the rules it lists are all that interface roles, host addresses and
interface representatives read. Random tables: the readers given only the scan's lists answer
as they do given every rule."""

from __future__ import annotations

import random

import pytest

from linter.engine import roles, universe
from linter.engine.rule_scan import RuleScan, rule_scan
from linter.model import InterfaceMatch
from tests.engine.helpers import ruleset

IFACES = ["eth0", "eth1", "eth1.110", "wg0", "docker0", "br-lan", "ppp+", "veth+", "eno1"]
ADDRS = ["203.0.113.4/32", "198.51.100.7", "10.0.0.0/8", "192.168.1.1/32", "2.2.2.0/24", "127.0.0.1"]


def _interfaces(rng, direction_choices=("-i", "-o")):
    parts = []
    for flag in direction_choices:
        if rng.random() < 0.4:
            parts.append(f"{'! ' if rng.random() < 0.2 else ''}{flag} {rng.choice(IFACES)}")
    return parts


def _rule(rng, chain, chains, nat):
    parts = [f"-A {chain}"]
    if rng.random() < 0.3:
        parts.append(f"-s {rng.choice(ADDRS)}")
    if rng.random() < 0.3:
        parts.append(f"{'! ' if rng.random() < 0.2 else ''}-d {rng.choice(ADDRS)}")
    if chain in ("PREROUTING", "INPUT", "INPUT_ZONES", "FORWARD"):
        parts += _interfaces(rng, ("-i",))
    elif chain in ("POSTROUTING", "OUTPUT"):
        parts += _interfaces(rng, ("-o",))
    else:
        parts += _interfaces(rng)
    if rng.random() < 0.2:
        parts.append(f"-m comment --comment \"{rng.choice(['vpn nat', 'web', 'wireguard out'])}\"")
    pick = rng.random()
    if nat and pick < 0.5:
        hook_ok = {"PREROUTING": ["DNAT --to-destination 10.0.0.5", "REDIRECT --to-ports 8080"],
                   "OUTPUT": ["DNAT --to-destination 10.0.0.5"],
                   "POSTROUTING": ["MASQUERADE", "SNAT --to-source 203.0.113.9", "SNAT --to-source 10.1.1.1"]}
        targets = hook_ok.get(chain) or ["DNAT --to-destination 10.0.0.6", "MASQUERADE",
                                          "SNAT --to-source 198.51.100.2"]
        if "DNAT" in targets[0] or "REDIRECT" in targets[0]:
            parts.append("-p tcp --dport 80")
        parts.append(f"-j {rng.choice(targets)}")
    elif pick < 0.8 and chains:
        parts.append(f"-{rng.choice('jjg')} {rng.choice(chains)}")
    else:
        parts.append(f"-j {rng.choice(['ACCEPT', 'DROP', 'RETURN'] if not nat else ['ACCEPT', 'RETURN'])}")
    return " ".join(parts)


def _text(rng) -> str:
    out = ["*nat"]
    user = ["NATUSER", "NATOTHER"]
    for name in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"):
        out.append(f":{name} ACCEPT [0:0]")
    out += [f":{name} - [0:0]" for name in user]
    for name in ("PREROUTING", "OUTPUT", "POSTROUTING", *user):
        for _ in range(rng.randrange(6)):
            out.append(_rule(rng, name, user[1:] if name == "NATUSER" else [] if name == "NATOTHER" else user, True))
    for _ in range(rng.choice((0, 1, 2))):  # Docker's own rule (roles._ruleset_bridges), or one near it
        out.append(f"-A {rng.choice(('POSTROUTING', 'NATUSER'))} -s {rng.choice(('172.17.0.0/16', '172.18.0.0/16'))} "
                   f"{rng.choice(('! -o docker0', '! -o br-0123456789ab', '-o docker0', '! -o eth0'))} -j MASQUERADE")
    out += ["COMMIT", "*filter"]
    for name in ("INPUT", "FORWARD", "OUTPUT"):
        out.append(f":{name} ACCEPT [0:0]")
    user = ["INPUT_ZONES", "IN_internal", "IN_public", "NOTFROMHERE", "LOG_DROP"]
    out += [f":{name} - [0:0]" for name in user]
    out.append("-A LOG_DROP -j DROP")
    if rng.random() < 0.5:
        out += ["-A NOTFROMHERE -s 10.0.0.0/8 -j DROP", "-A NOTFROMHERE -s 192.168.0.0/16 -j LOG_DROP",
                "-A NOTFROMHERE -j RETURN"]
    for name in ("INPUT", "FORWARD", "OUTPUT", "INPUT_ZONES", "IN_public"):
        later = {"INPUT": user, "FORWARD": user[1:], "OUTPUT": ["LOG_DROP"],
                 "INPUT_ZONES": ["IN_internal", "IN_public", "NOTFROMHERE"], "IN_public": ["LOG_DROP"]}[name]
        for _ in range(rng.randrange(7)):
            out.append(_rule(rng, name, later, False))
    out.append("COMMIT")
    return "\n".join(out) + "\n"


def _named_everywhere(document) -> frozenset[str]:
    names = set()
    for table in document.tables:
        for chain in table.chains:
            for rule in chain.rules:
                for match in rule.matches:
                    if isinstance(match, InterfaceMatch):
                        names.update(n[:-1] + "\x00" if n.endswith(("+", "*")) else n for n in match.names)
    return frozenset(names)


def _every_rule(document) -> RuleScan:
    """A scan that lists every rule: the readers then go through all of them, as they did."""
    rules = [(table, chain, rule) for table in document.tables for chain in table.chains for rule in chain.rules]
    return RuleScan(_named_everywhere(document),
                    tuple((t, c, r, roles._ZONE_DISPATCH.match(c.name) is not None) for t, c, r in rules),
                    tuple((c, r) for _, c, r in rules))


@pytest.mark.parametrize("seed", range(300))
def test_the_scan_lists_every_rule_the_readers_use(seed, monkeypatch):
    rng = random.Random(seed)
    document = ruleset(_text(rng))
    scanned = rule_scan(document)
    assert scanned.names == _named_everywhere(document)
    got = (roles.infer_roles([document], ("eno1",) if seed % 7 == 0 else ()),
           roles.host_addresses([document]), universe.interface_representatives([document]),
           roles._ruleset_bridges(document))
    monkeypatch.setattr(roles, "rule_scan", _every_rule)
    monkeypatch.setattr(universe, "rule_scan", _every_rule)
    want = (roles.infer_roles([document], ("eno1",) if seed % 7 == 0 else ()),
            roles.host_addresses([document]), universe.interface_representatives([document]),
            roles._ruleset_bridges(document))
    assert got == want
    assert got[0].evidence == want[0].evidence


def test_the_scan_finds_evidence_and_addresses():
    document = ruleset("""*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 203.0.113.4/32 -p tcp --dport 80 -j DNAT --to-destination 10.0.0.5
-A POSTROUTING -o ppp+ -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:NOTFROMHERE - [0:0]
-A NOTFROMHERE -s 10.0.0.0/8 -j DROP
-A NOTFROMHERE -s 192.168.0.0/16 -j DROP
-A INPUT -i eth1 -j NOTFROMHERE
COMMIT
""")
    scanned = rule_scan(document)
    assert [r.verdict.kind.value for _, _, r, _ in scanned.role_rules] == ["masquerade", "jump"]
    assert len(scanned.host_rules) == 1
    found = roles.infer_roles([document])
    assert set(found.internet) == {"ppp*", "eth1"}
    assert roles.host_addresses([document])
    assert {"ppp\x00", "eth1"} <= universe.interface_representatives([document])


def _marked_text(rng) -> str:
    """_text with a few mark and connmark matches (or none) anywhere, in either table."""
    lines = _text(rng).split("\n")
    marks = ["-m mark --mark 0x1", "-m mark ! --mark 0x2/0xff", "-m connmark --mark 0x4"]
    for _ in range(rng.choice((0, 0, 1, 2))):
        places = [i for i, line in enumerate(lines) if line.startswith("-A ")]
        if places:
            i = rng.choice(places)
            head, _, rest = lines[i].partition(" -j ") if " -j " in lines[i] else lines[i].partition(" -g ")
            if rest:
                lines[i] = f"{head} {rng.choice(marks)} {'-j' if ' -j ' in lines[i] else '-g'} {rest}"
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(200))
def test_marks_read_from_the_scan_is_the_pass_of_its_own(seed):
    from linter.engine import marks
    from linter.model import MarkMatch

    document = ruleset(_marked_text(random.Random(seed)))
    every_match = any(isinstance(m, MarkMatch) for t in document.tables for c in t.chains
                      for r in c.rules for m in r.matches)
    marks._MARKS_READ._entries.clear()
    assert marks._reads_marks(document) == every_match  # no scan yet: its own pass
    assert rule_scan(document).reads_marks == every_match
    assert marks._reads_marks(document) == every_match  # read from the scan
    assert marks.marks_read([document]) == every_match


def _first_catch_alls(document) -> dict:
    """hygiene.dead_rules' loop: per chain, its first rule with no match and a final verdict
    that another rule follows."""
    found = {}
    for table in document.tables:
        for chain in table.chains:
            for index, rule in enumerate(chain.rules):
                if not rule.matches and rule.verdict.terminal and index + 1 < len(chain.rules):
                    found[id(chain)] = (chain, index)
                    break
    return found


def _every_jump(document) -> dict:
    return {id(table): (table, [(chain, rule) for chain in table.chains for rule in chain.rules
                                if rule.verdict.kind.value in ("jump", "goto")])
            for table in document.tables}


@pytest.mark.parametrize("seed", range(300))
def test_the_scan_notes_catch_alls_and_jumps_as_a_loop_over_every_rule(seed):
    rng = random.Random(seed)
    text = _text(rng)
    if seed % 3 == 0:  # bare rules anywhere (a catch-all, a bare jump or a bare LOG that is none)
        lines = text.split("\n")
        for _ in range(rng.randrange(1, 4)):
            places = [i for i, line in enumerate(lines) if line.startswith("-A ")]
            place = rng.choice(places)
            chain = lines[place].split()[1]
            lines.insert(place + rng.choice((0, 1)),
                         f"-A {chain} -j {rng.choice(['ACCEPT', 'DROP', 'RETURN', 'LOG', 'REJECT'])}")
        text = "\n".join(lines)
    document = ruleset(text)
    scanned = rule_scan(document)
    assert scanned.catch_alls == _first_catch_alls(document)
    assert scanned.jumps == _every_jump(document)


def test_the_match_classes_the_scan_notes_have_no_subclass():
    """rule_scan tells an interface or mark match by its type (one set look-up per match: a
    failed isinstance looks ``__class__`` up on the match); a subclass would be missed."""
    from linter.engine.rule_scan import _NOTED_MATCHES
    from linter.model import InterfaceMatch, MarkMatch

    assert _NOTED_MATCHES == {InterfaceMatch, MarkMatch}
    assert not InterfaceMatch.__subclasses__() and not MarkMatch.__subclasses__()


def _long_chains_text(rng) -> str:
    """A filter table whose INPUT and a user chain are past verdict_kinds.LARGE rules: accepts,
    drops, returns and logs with interface matches (wildcards too), marks and bare rules; some
    tables also jump, goto or (in nat) MASQUERADE, SNAT, DNAT or REDIRECT somewhere."""
    lines = ["*filter", ":INPUT DROP [0:0]", ":FORWARD DROP [0:0]", ":OUTPUT ACCEPT [0:0]", ":USER - [0:0]"]
    named, marked, bare = rng.choice((0, 0.1)), rng.choice((0, 0.002, 0.05)), rng.choice((0, 0.003, 0.1))
    for chain in ("INPUT", "USER"):
        for _ in range(rng.randrange(250, 320)):
            parts = [f"-A {chain}"]
            pick = rng.random()
            if pick < named:
                parts += _interfaces(rng, ("-i",) if chain == "INPUT" else ("-i", "-o"))
            elif pick < named + marked:
                parts.append(f"-m mark --mark 0x{rng.randrange(1, 9)}")
            elif pick < 1 - bare:
                parts.append(f"-s 10.{rng.randrange(256)}.{rng.randrange(256)}.0/24 "
                             f"-p tcp -m tcp --dport {rng.choice((22, 443))}")
            parts.append(f"-j {rng.choice(['ACCEPT', 'ACCEPT', 'DROP', 'RETURN', 'LOG', 'REJECT'])}")
            lines.append(" ".join(parts))
    if rng.random() < 0.4:
        lines.insert(rng.randrange(5, len(lines)),
                     f"-A {rng.choice(('INPUT', 'USER'))} -i eth0 -{rng.choice('jg')} USER")
    lines.append("COMMIT")
    if rng.random() < 0.5:
        lines += ["*nat", ":PREROUTING ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]"]
        out_targets = ["ACCEPT", "MASQUERADE", "SNAT --to-source 1.2.3.4"]
        in_targets = ["ACCEPT", "DNAT --to-destination 10.0.0.5", "REDIRECT --to-ports 80"]
        lines += [f"-A POSTROUTING -o eth{n} -s 10.{n % 256}.0.0/16 -j {rng.choice(out_targets)}"
                  for n in range(rng.choice((3, 300)))]
        lines += [f"-A PREROUTING -i ppp+ -p tcp --dport {n + 1} -j {rng.choice(in_targets)}"
                  for n in range(rng.choice((3, 300)))]
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_a_long_chain_without_listed_kinds_is_scanned_as_by_the_loop(seed, monkeypatch):
    """rule_scan reads a long chain none of whose rules it lists (verdict_kinds says so) by its
    matches alone (_names_and_marks): the same scan as the loop over every rule gives."""
    from linter.engine import rule_scan as module

    document = ruleset(_long_chains_text(random.Random(seed)))
    fast = module._scan(document)
    monkeypatch.setattr(module, "LARGE", 10**9)  # every chain through the loop
    assert module._scan(document) == fast
    assert fast.catch_alls == _first_catch_alls(document) and fast.jumps == _every_jump(document)
    assert fast.names | {universe.LOOPBACK_IFACE, universe.OTHER_IFACE} >= _named_everywhere(document)
