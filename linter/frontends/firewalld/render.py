"""The nft text firewalld would write for a model rule it built, for `trace` and messages."""

from __future__ import annotations

from linter.model import (
    AddressMatch, CtStatusMatch, Direction, Family, InterfaceMatch, LimitMatch, OpaqueMatch, PortMatch, ProtocolMatch,
    StateMatch, Verdict, VerdictKind,
)


def _protocol_name(match: ProtocolMatch) -> str:
    return match.text or ", ".join(str(number) for number in sorted(match.protocols))


def render(matches, verdict: Verdict, statements=()) -> str:
    """``tcp dport 22 accept``, ``iifname "eth0" goto filter_IN_public``, ..."""
    words: list[str] = []
    pending: ProtocolMatch | None = None
    for match in matches:
        if pending is not None and not isinstance(match, PortMatch):
            words.append(f"meta l4proto {_protocol_name(pending)}")
            pending = None
        if isinstance(match, ProtocolMatch):
            pending = match
        elif isinstance(match, PortMatch):
            side = "dport" if match.direction is Direction.DESTINATION else "sport"
            words.append(f"{_protocol_name(pending) if pending else 'th'} {side} {match.ports}")
            pending = None
        elif isinstance(match, AddressMatch):
            if match.addresses.text in ("ipv4", "ipv6"):
                words.append(f"meta nfproto {match.addresses.text}")
                continue
            family = "ip" if match.addresses.family is Family.IPV4 else "ip6"
            side = "saddr" if match.direction is Direction.SOURCE else "daddr"
            words.append(f"{family} {side} {'!= ' if match.negated else ''}{match.addresses.text}")
        elif isinstance(match, InterfaceMatch):
            side = "iifname" if match.direction == "in" else "oifname"
            words.append(f'{side} {"!= " if match.negated else ""}"{match.names[0]}"')
        elif isinstance(match, StateMatch):
            states = sorted(match.states)
            words.append("ct state " + (states[0] if len(states) == 1 else "{ " + ", ".join(states) + " }"))
        elif isinstance(match, (CtStatusMatch, OpaqueMatch, LimitMatch)):
            words.append(match.text)
    if pending is not None:
        words.append(f"meta l4proto {_protocol_name(pending)}")
    words.extend(statement.text for statement in statements)
    words.append(_verdict(verdict))
    return " ".join(word for word in words if word)


def _verdict(verdict: Verdict) -> str:
    kind = verdict.kind
    if kind in (VerdictKind.JUMP, VerdictKind.GOTO):
        return f"{kind.value} {verdict.target}"
    if kind is VerdictKind.REJECT:
        return "reject with icmpx admin-prohibited"
    if kind is VerdictKind.DNAT:
        family = dict(verdict.options).get("family", "ip")
        port = f":{verdict.to_ports}" if verdict.to_ports else ""
        address = verdict.to_addresses.text if verdict.to_addresses else ""
        return f"dnat {family} to {f'[{address}]' if family == 'ip6' and port else address}{port}"
    if kind is VerdictKind.REDIRECT:
        return f"redirect to :{verdict.to_ports}" if verdict.to_ports else "redirect"
    if kind is VerdictKind.CONTINUE:
        return ""
    return kind.value
