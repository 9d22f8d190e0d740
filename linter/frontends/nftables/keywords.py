"""nft's keyword tables and the limits of the nftables reader."""

from __future__ import annotations

import re

from linter.model import Family, Hook


START_SYMBOLS = ("start", "table_content", "lines")
LOADER = "nft"  # Ruleset.loader
RESTRICT_EXAMPLE = "ip saddr 10.0.0.0/8"  # Ruleset.restrict_example
MAX_EXPANSION = 10_000
MAX_SYNTAX_ERRORS = 200
MAX_INCLUDE_DEPTH = 16

FAMILIES = {
    "ip": Family.IPV4,
    "ip6": Family.IPV6,
    "inet": Family.INET,
    "arp": Family.ARP,
    "bridge": Family.BRIDGE,
    "netdev": Family.NETDEV,
}
PRIORITIES = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
BRIDGE_PRIORITIES = {"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}
PRIORITY_LIMIT = 1 << 31  # a chain priority is a signed 32-bit number
HOOKS = {hook.value: hook for hook in Hook}
# The first words the loader reads a chain's line for (anything else in a chain is a rule).
LINE_WORDS = frozenset({"define", "redefine", "undefine", "include", "type", "policy", "device", "devices",
                        "comment", "flags"})
LINE_WORD_STARTS = tuple(LINE_WORDS)  # a line starting with none of them has none as its first word

# --- Keyword tables ------------------------------------------------------------

VERDICTS = {"accept", "drop", "return", "continue", "jump", "goto", "queue", "reject"}
RELOPS = {"==": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">=",
          "eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
BINOPS = {"&", "|", "^", "<<", ">>"}
WORD_BINOPS = {"and": "&", "or": "|", "xor": "^", "lshift": "<<", "rshift": ">>"}
VALUE_OPS = {"-", "/", ",", ".", "&", "|", "^", "<<", ">>", ":"}

# Headers whose fields are one word: `ip saddr`, `tcp dport`, `vlan id`, `hbh nexthdr`...
PAYLOAD_HEADS = {
    "ip", "ip6", "tcp", "udp", "udplite", "sctp", "dccp", "th", "icmp", "icmpv6", "igmp", "ether",
    "vlan", "arp", "ah", "esp", "comp", "gre", "gretap", "geneve", "vxlan", "hbh", "rt0", "rt2",
    "rt4", "srh", "frag", "dst", "mh", "exthdr", "rt", "dccp", "ipcomp", "cgroupv2",
}
SPECIAL_HEADS = {"meta", "ct", "fib", "socket", "osf", "numgen", "jhash", "symhash", "ipsec"}
# Meta keys nft accepts without `meta` in front.
BARE_META = {
    "mark", "iif", "iifname", "iiftype", "oif", "oifname", "oiftype", "skuid", "skgid", "nftrace",
    "rtclassid", "ibrname", "obrname", "ibriport", "obriport", "ibridgename", "obridgename",
    "pkttype", "cpu", "iifgroup", "oifgroup", "cgroup", "iifkind", "oifkind", "time", "day",
    "hour", "l4proto", "random", "sdif", "sdifname",
}
RAW_BASES = {"@ll", "@nh", "@th", "@ih"}
FIB_FLAGS = {"saddr", "daddr", "mark", "iif", "oif"}
OPTION_FIELDS = {
    "kind", "length", "size", "count", "left", "right", "tsval", "tsecr", "subtype", "value",
    "type", "ptr", "addr", "flags", "tsn", "stream", "ssn", "ppid", "init-tag", "a-rwnd",
    "num-outbound-streams", "num-inbound-streams", "initial-tsn", "cum-tsn-ack", "num-gap-ack-blocks",
    "num-dup-tsns", "lowest-tsn", "seqno", "new-cum-tsn", "vtag",
}
STATEMENTS = {
    "counter", "log", "limit", "quota", "notrack", "dnat", "snat", "masquerade", "redirect",
    "tproxy", "dup", "fwd", "meter", "synproxy", "comment", "flow", "xt", "last", "reset",
}
NAT_FLAGS = {"random", "persistent", "fully-random", "netmap"}
RATE_WORDS = {
    "rate", "over", "until", "burst", "packets", "bytes", "kbytes", "mbytes", "gbytes",
    "second", "minute", "hour", "day", "week", "used", "inv",
}
PORT_PROTOCOLS = {"tcp": 6, "udp": 17, "udplite": 136, "sctp": 132, "dccp": 33}
IMPLIED_PROTOCOLS = dict(PORT_PROTOCOLS, icmp=1, icmpv6=58, igmp=2, ah=51, esp=50, comp=108)
CT_STATES = {"new", "established", "related", "invalid", "untracked"}
# The state bits of nft's numeric output (NF_CT_STATE_INVALID_BIT ... NF_CT_STATE_UNTRACKED_BIT).
CT_STATE_BITS = ((0x1, "invalid"), (0x2, "established"), (0x4, "related"), (0x8, "new"), (0x40, "untracked"))
CT_STATE_ALL = 0x4F
CT_STATE_NUMBER = re.compile(r"0x[0-9a-fA-F]{1,8}|[0-9]{1,3}")
ADDR_TYPES = {
    "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable",
    "prohibit", "throw", "nat", "xresolve",
}
L3_VALUES = {"ipv4": Family.IPV4, "ip": Family.IPV4, "ipv6": Family.IPV6, "ip6": Family.IPV6}
OPAQUE_CONTAINED = {"limit", "quota", "count"}


class ReadError(Exception):
    """A rule nft would reject; becomes a PL010 diagnostic at ``atom``."""

    def __init__(self, message: str, atom=None):
        super().__init__(message)
        self.atom = atom
