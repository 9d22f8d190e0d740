"""The engine: evaluates packets and whole packet spaces through rulesets, as netfilter does.

- intervals: integer range sets (ports, protocols, addresses)
- space: boxes of packet space and how a match splits them
- walk: rule order within chains (jump, goto, return, non-terminal targets)
- paths: base chains on each hook, priorities, policies, DNAT to FORWARD
- universe: interface representatives and the starting boxes
- exposure: accepted space summarised per protocol, reach and deciding rule
- trace: one concrete flow and its path
"""
