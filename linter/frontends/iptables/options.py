"""What iptables knows: tables and their built-in chains, match modules, targets and their options.

This is data for the iptables front ends. Facts come from iptables-extensions(8) and
``iptables -m NAME --help`` / ``iptables -j NAME --help`` of iptables 1.8.9.

Option specs are written compactly, one string per module: options separated by spaces,
aliases of one option joined by ``|`` (the first spelling is the canonical name), and
``:N`` for the number of arguments when it is not 1. ``:?`` marks an optional argument
(taken when the next word does not look like an option).
"""

from __future__ import annotations

from linter.model import Hook

# --- Tables and built-in chains ------------------------------------------------

# table -> {chain: (hook, type, priority)}; the priorities are iptables' own (NF_IP_PRI_*).
BUILTIN_CHAINS: dict[str, dict[str, tuple[Hook, str, int]]] = {
    "raw": {
        "PREROUTING": (Hook.PREROUTING, "filter", -300),
        "OUTPUT": (Hook.OUTPUT, "filter", -300),
    },
    "mangle": {
        "PREROUTING": (Hook.PREROUTING, "filter", -150),
        "INPUT": (Hook.INPUT, "filter", -150),
        "FORWARD": (Hook.FORWARD, "filter", -150),
        "OUTPUT": (Hook.OUTPUT, "route", -150),
        "POSTROUTING": (Hook.POSTROUTING, "filter", -150),
    },
    "nat": {
        "PREROUTING": (Hook.PREROUTING, "nat", -100),
        "INPUT": (Hook.INPUT, "nat", 100),
        "OUTPUT": (Hook.OUTPUT, "nat", -100),
        "POSTROUTING": (Hook.POSTROUTING, "nat", 100),
    },
    "filter": {
        "INPUT": (Hook.INPUT, "filter", 0),
        "FORWARD": (Hook.FORWARD, "filter", 0),
        "OUTPUT": (Hook.OUTPUT, "filter", 0),
    },
    "security": {
        "INPUT": (Hook.INPUT, "filter", 50),
        "FORWARD": (Hook.FORWARD, "filter", 50),
        "OUTPUT": (Hook.OUTPUT, "filter", 50),
    },
}

# Built-in chains where the packet has no input (-i) or no output (-o) interface yet.
NO_IN_INTERFACE = frozenset({"OUTPUT", "POSTROUTING"})
NO_OUT_INTERFACE = frozenset({"PREROUTING", "INPUT"})


def _parse_spec(spec: str) -> dict[str, tuple[str, int]]:
    """``"--sport|--source-port --tcp-flags:2 --syn:0"`` -> {spelling: (canonical, nargs)}.

    nargs is -1 for an optional argument.
    """
    table: dict[str, tuple[str, int]] = {}
    for item in spec.split():
        names, _, count = item.partition(":")
        nargs = -1 if count == "?" else int(count or 1)
        spellings = names.split("|")
        for spelling in spellings:
            table[spelling] = (spellings[0], nargs)
    return table


# --- Top-level rule options ---------------------------------------------------

# spelling -> (canonical, nargs). Canonical names are the short options.
TOP_LEVEL: dict[str, tuple[str, int]] = _parse_spec(
    "-p|--protocol -s|--source|--src -d|--destination|--dst -i|--in-interface -o|--out-interface "
    "-j|--jump -g|--goto -m|--match -f|--fragment:0 -c|--set-counters:2 -4|--ipv4:0 -6|--ipv6:0"
)
# What a missing argument is called in messages ("missing port after --dport").
TOP_LEVEL_NOUN = {
    "-p": "protocol", "-s": "address", "-d": "address", "-i": "interface name", "-o": "interface name",
    "-j": "target", "-g": "chain name", "-m": "match module name", "-c": "packet and byte counters",
}
TOP_LEVEL_MODULE = {  # the module name of an OpaqueMatch made from a top-level option
    "-p": "protocol", "-s": "source", "-d": "destination", "-i": "in-interface", "-o": "out-interface",
    "-f": "fragment",
}

# --- Match modules ---------------------------------------------------------------

_PORTS = "--sport|--source-port --dport|--destination-port"

MATCH_SPECS: dict[str, str] = {
    # modelled (fully or in part)
    "tcp": f"{_PORTS} --tcp-flags:2 --syn:0 --tcp-option",
    "udp": _PORTS,
    "sctp": f"{_PORTS} --chunk-types:2",
    "dccp": f"{_PORTS} --dccp-types --dccp-option",
    "multiport": "--sports|--source-ports --dports|--destination-ports --ports",
    "state": "--state",
    "conntrack": "--ctstate --ctproto --ctorigsrc --ctorigdst --ctreplsrc --ctrepldst --ctorigsrcport "
                 "--ctorigdstport --ctreplsrcport --ctrepldstport --ctstatus --ctexpire --ctdir",
    "addrtype": "--src-type --dst-type --limit-iface-in:0 --limit-iface-out:0",
    "iprange": "--src-range --dst-range",
    "comment": "--comment",
    # kept verbatim (OpaqueMatch)
    "ah": "--ahspi --ahlen --ahres:0",
    "bpf": "--bytecode --object-pinned",
    "cgroup": "--path --cgroup",
    "cluster": "--cluster-total-nodes --cluster-local-node --cluster-local-nodemask --cluster-hash-seed",
    "connbytes": "--connbytes --connbytes-dir --connbytes-mode",
    "connlabel": "--label --set:0",
    "connlimit": "--connlimit-upto --connlimit-above --connlimit-mask --connlimit-saddr:0 --connlimit-daddr:0",
    "connmark": "--mark",
    "cpu": "--cpu",
    "devgroup": "--src-group --dst-group",
    "dscp": "--dscp --dscp-class",
    "dst": "--dst-len --dst-opts",
    "ecn": "--ecn-tcp-cwr:0 --ecn-tcp-ece:0 --ecn-ip-ect",
    "esp": "--espspi",
    "eui64": "",
    "frag": "--fragid --fraglen --fragres:0 --fragfirst:0 --fragmore:0 --fraglast:0",
    "hashlimit": "--hashlimit-upto --hashlimit-above --hashlimit-burst --hashlimit-mode --hashlimit-srcmask "
                 "--hashlimit-dstmask --hashlimit-name --hashlimit-htable-size --hashlimit-htable-max "
                 "--hashlimit-htable-expire --hashlimit-htable-gcinterval --hashlimit-rate-match:0 "
                 "--hashlimit-rate-interval --hashlimit",
    "hbh": "--hbh-len --hbh-opts",
    "helper": "--helper",
    "hl": "--hl-eq --hl-lt --hl-gt",
    "icmp": "--icmp-type",
    "icmp6": "--icmpv6-type",
    "ipcomp": "--ipcompspi --compres:0",
    "ipv6header": "--header --soft:0",
    "ipvs": "--ipvs:0 --vproto --vaddr --vport --vdir --vmethod --vportctl",
    "length": "--length",
    "limit": "--limit --limit-burst",
    "mac": "--mac-source",
    "mark": "--mark",
    "mh": "--mh-type",
    "nfacct": "--nfacct-name",
    "osf": "--genre --ttl --log",
    "owner": "--uid-owner --gid-owner --socket-exists:0 --suppl-groups:0",
    "physdev": "--physdev-in --physdev-out --physdev-is-in:0 --physdev-is-out:0 --physdev-is-bridged:0",
    "pkttype": "--pkt-type",
    "policy": "--dir --pol --strict:0 --reqid --spi --proto --mode --tunnel-src --tunnel-dst --next:0",
    "quota": "--quota",
    "rateest": "--rateest --rateest1 --rateest2 --rateest-delta:0 --rateest-lt:0 --rateest-gt:0 --rateest-eq:0 "
               "--rateest-bps:? --rateest-pps:? --rateest-bps1:? --rateest-bps2:? --rateest-pps1:? "
               "--rateest-pps2:?",
    "realm": "--realm",
    "recent": "--name --set:0 --rcheck:0 --update:0 --remove:0 --seconds --reap:0 --hitcount --rttl:0 "
              "--rsource:0 --rdest:0 --mask",
    "rpfilter": "--loose:0 --validmark:0 --accept-local:0 --invert:0",
    "rt": "--rt-type --rt-segsleft --rt-len --rt-0-res:0 --rt-0-addrs --rt-0-not-strict:0",
    "set": "--match-set|--set:2 --return-nomatch:0 --update-counters:0 --update-subcounters:0 --packets-eq "
           "--packets-lt --packets-gt --bytes-eq --bytes-lt --bytes-gt",
    "socket": "--transparent:0 --nowildcard:0 --restore-skmark:0",
    "srh": "--srh-next-hdr --srh-hdr-len-eq --srh-hdr-len-gt --srh-hdr-len-lt --srh-segs-left-eq "
           "--srh-segs-left-gt --srh-segs-left-lt --srh-last-entry-eq --srh-last-entry-gt --srh-last-entry-lt "
           "--srh-tag --srh-psid --srh-nsid --srh-lsid",
    "statistic": "--mode --probability --every --packet",
    "string": "--algo --from --to --string --hex-string --icase:0",
    "tcpmss": "--mss",
    "time": "--datestart --datestop --timestart --timestop --monthdays --weekdays --contiguous:0 --kerneltz:0 "
            "--utc:0 --localtz:0",
    "tos": "--tos",
    "ttl": "--ttl-eq --ttl-lt --ttl-gt",
    "u32": "--u32",
    # old kernels / iptables, still found in saved files
    "unclean": "",
}
MATCH_ALIASES = {"icmpv6": "icmp6", "ipv6-icmp": "icmp6", "ctstate": "conntrack"}

MATCH_OPTIONS: dict[str, dict[str, tuple[str, int]]] = {name: _parse_spec(spec) for name, spec in MATCH_SPECS.items()}

# The module iptables loads by itself for "-p NAME" when an option is not otherwise known.
PROTOCOL_MODULE = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp", 1: "icmp", 58: "icmp6",
                   135: "mh", 50: "esp", 51: "ah", 108: "ipcomp"}
# Protocols with ports: the names used for service lookups (multiport works with all of them;
# udplite has no module of its own).
PORT_PROTOCOLS = {6: "tcp", 17: "udp", 136: "udplite", 132: "sctp", 33: "dccp"}

# Modules whose options portlint turns into model matches; an option of theirs not listed
# in MODELLED_OPTIONS becomes an OpaqueMatch. Every other known module is an OpaqueMatch.
MODELLED_MODULES = frozenset({"tcp", "udp", "sctp", "dccp", "multiport", "state", "conntrack",
                              "addrtype", "iprange", "comment", "mark", "connmark"})
MODELLED_OPTIONS: dict[tuple[str, str], str] = {}
for _module in ("tcp", "udp", "sctp", "dccp"):
    MODELLED_OPTIONS[(_module, "--sport")] = "port-source"
    MODELLED_OPTIONS[(_module, "--dport")] = "port-destination"
MODELLED_OPTIONS.update({
    ("multiport", "--sports"): "multiport-source",
    ("multiport", "--dports"): "multiport-destination",
    ("state", "--state"): "state",
    ("conntrack", "--ctstate"): "state",
    ("addrtype", "--src-type"): "addrtype-source",
    ("addrtype", "--dst-type"): "addrtype-destination",
    ("iprange", "--src-range"): "range-source",
    ("iprange", "--dst-range"): "range-destination",
    ("comment", "--comment"): "comment",
    ("tcp", "--syn"): "syn",
    ("tcp", "--tcp-flags"): "tcp-flags",
    ("conntrack", "--ctstatus"): "ctstatus",
    ("conntrack", "--ctorigsrc"): "ctorig-source",
    ("conntrack", "--ctorigdst"): "ctorig-destination",
    ("conntrack", "--ctorigsrcport"): "ctorigport-source",
    ("conntrack", "--ctorigdstport"): "ctorigport-destination",
    ("mark", "--mark"): "mark",
    ("connmark", "--mark"): "connmark",
})
# Options of these handlers become conntrack matches a packet without a conntrack entry
# (invalid, untracked) passes when the same -m conntrack also has --ctstate.
CONNTRACK_ENTRY_HANDLERS = frozenset({"ctstatus", "ctorig-source", "ctorig-destination", "ctorigport-source",
                                      "ctorigport-destination"})

# Modules that only exist in ip6tables; their presence makes a file IPv6.
IPV6_ONLY_MODULES = frozenset({"icmp6", "hl", "rt", "frag", "ipv6header", "mh", "hbh", "dst", "eui64", "srh"})

STATES = frozenset({"INVALID", "ESTABLISHED", "NEW", "RELATED", "UNTRACKED"})
CT_STATES = STATES | {"SNAT", "DNAT"}
CT_STATUSES = {"NONE": None, "EXPECTED": "expected", "SEEN_REPLY": "seen-reply", "ASSURED": "assured",
               "CONFIRMED": "confirmed"}
TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20, "ALL": 0x3F, "NONE": 0}
# Modules that limit a rate or a count, or act for their side effect: with these options
# (and any of LIMIT_PLAIN_OPTIONS) a module becomes a LimitMatch (``over`` for the
# second set); anything else keeps it opaque.
LIMIT_OPTIONS = {
    "limit": ({"--limit"}, set()),
    "hashlimit": ({"--hashlimit-upto", "--hashlimit"}, {"--hashlimit-above"}),
    "connlimit": ({"--connlimit-upto"}, {"--connlimit-above"}),
    "recent": ({"--set"}, set()),
}
LIMIT_PLAIN_OPTIONS = {
    "limit": {"--limit-burst"},
    "hashlimit": {"--hashlimit-burst", "--hashlimit-mode", "--hashlimit-srcmask", "--hashlimit-dstmask",
                  "--hashlimit-name", "--hashlimit-htable-size", "--hashlimit-htable-max",
                  "--hashlimit-htable-expire", "--hashlimit-htable-gcinterval", "--hashlimit-rate-interval"},
    "connlimit": {"--connlimit-mask", "--connlimit-saddr", "--connlimit-daddr"},
    "recent": {"--name", "--rsource", "--rdest", "--mask"},
}
ADDRESS_TYPES = frozenset({"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST", "BLACKHOLE",
                           "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"})

# --- Targets ---------------------------------------------------------------------

STANDARD_TARGETS = frozenset({"ACCEPT", "DROP", "RETURN", "QUEUE"})

TARGET_SPECS: dict[str, str] = {
    "REJECT": "--reject-with",
    "LOG": "--log-level --log-prefix --log-tcp-sequence:0 --log-tcp-options:0 --log-ip-options:0 --log-uid:0 "
           "--log-macdecode:0",
    "NFLOG": "--nflog-group --nflog-prefix --nflog-range --nflog-size --nflog-threshold",
    "ULOG": "--ulog-nlgroup --ulog-prefix --ulog-cprange --ulog-qthreshold",
    "DNAT": "--to-destination --random:0 --persistent:0",
    "SNAT": "--to-source --random:0 --random-fully:0 --persistent:0",
    "MASQUERADE": "--to-ports --random:0 --random-fully:0",
    "REDIRECT": "--to-ports --random:0",
    "NETMAP": "--to",
    "MARK": "--set-xmark --set-mark --and-mark --or-mark --xor-mark",
    "CONNMARK": "--set-xmark --set-mark --save-mark:0 --restore-mark:0 --nfmask --ctmask --mask --and-mark "
                "--or-mark --xor-mark",
    "CONNSECMARK": "--save:0 --restore:0",
    "SECMARK": "--selctx",
    "CT": "--notrack:0 --helper --ctevents --expevents --zone-orig --zone-reply --zone --timeout",
    "NOTRACK": "",
    "TCPMSS": "--set-mss --clamp-mss-to-pmtu:0",
    "TCPOPTSTRIP": "--strip-options",
    "TPROXY": "--on-port --on-ip --tproxy-mark",
    "TOS": "--set-tos --and-tos --or-tos --xor-tos",
    "DSCP": "--set-dscp --set-dscp-class",
    "ECN": "--ecn-tcp-remove:0",
    "TTL": "--ttl-set --ttl-dec --ttl-inc",
    "HL": "--hl-set --hl-dec --hl-inc",
    "CLASSIFY": "--set-class",
    "SET": "--add-set:2 --del-set:2 --map-set:2 --timeout --exist:0 --map-mark:0 --map-prio:0 --map-queue:0",
    "AUDIT": "--type",
    "CHECKSUM": "--checksum-fill:0",
    "TRACE": "",
    "NFQUEUE": "--queue-num --queue-balance --queue-bypass:0 --fail-open:0 --queue-cpu-fanout:0",
    "SYNPROXY": "--mss --wscale --sack-perm:0 --timestamp:0 --ecn:0",
    "TEE": "--gateway --oif",
    "HMARK": "--hmark-tuple --hmark-mod --hmark-offset --hmark-rnd --hmark-src-prefix --hmark-dst-prefix "
             "--hmark-sport-mask --hmark-dport-mask --hmark-spi-mask --hmark-sport --hmark-dport --hmark-spi "
             "--hmark-proto-mask",
    "IDLETIMER": "--timeout --label --alarm:0",
    "LED": "--led-trigger-id --led-delay --led-always-blink:0",
    "RATEEST": "--rateest-name --rateest-interval --rateest-ewmalog",
    "CLUSTERIP": "--new:0 --hashmode --clustermac --total-nodes --local-node --hash-init",
    "DNPT": "--src-pfx --dst-pfx",
    "SNPT": "--src-pfx --dst-pfx",
    # removed from the kernel, still found in old saved files
    "MIRROR": "",
    "SAME": "--to --nodst:0 --random:0",
}
TARGET_OPTIONS: dict[str, dict[str, tuple[str, int]]] = {name: _parse_spec(spec) for name, spec in TARGET_SPECS.items()}

# Extension targets that end the packet's walk through the chain (the others continue):
# TPROXY diverts to a local socket, NFQUEUE hands the packet to user space, SYNPROXY
# answers or drops the handshake packets it is given, NETMAP/SAME are NAT mappings
# (which end evaluation like SNAT/DNAT), MIRROR sent the packet back.
TERMINAL_TARGETS = frozenset({"TPROXY", "NFQUEUE", "SYNPROXY", "NETMAP", "SAME", "MIRROR"})
LOG_TARGETS = frozenset({"LOG", "NFLOG", "ULOG"})
IPV6_ONLY_TARGETS = frozenset({"HL", "DNPT", "SNPT"})
