"""Which tool wrote a ruleset, and how to change an exposure in that tool's own terms.

A finding on a ufw host that says "add -s 10.0.0.0/8 to the rule" sends the user to edit a
file ufw will overwrite; "ufw allow from 10.0.0.0/8 to any port 5432 proto tcp" is what they
can act on. Taken from ``Ruleset.generator`` when the front end knows it, else recognised
from the chain and table names each generator uses.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote

from linter.engine.memo import IdentityCache
from linter.grammars import data_dir, read_yaml
from linter.model import Ruleset

_CHAIN_SIGNS = (
    ("ufw", re.compile(r"ufw6?-(?:user|before|after)-")),
    ("firewalld", re.compile(r"(?:filter|nat|mangle)_(?:IN|FWD|OUT|PRE|POST)_|^IN_\w+_allow$")),
    ("kube-proxy", re.compile(r"KUBE-(?:SERVICES|NODEPORTS|SVC-)")),
    ("fail2ban", re.compile(r"^f2b-")),
    ("csf", re.compile(r"^(?:LOCALINPUT|ALLOWIN|DENYIN|LOGDROPIN)$")),
    ("proxmox", re.compile(r"^PVEFW-")),
    ("shorewall", re.compile(r"^(?:net2fw|fw2net|net-fw|loc-fw|net2all)$")),
    ("docker", re.compile(r"^DOCKER(?:-USER|-ISOLATION-STAGE-1)?$")),
)
_TABLE_SIGNS = (("firewalld", "firewalld"), ("fw4", "fw4"))

# The zone a firewalld chain belongs to: filter_IN_public_allow, IN_public_allow (iptables backend).
_FIREWALLD_ZONE = re.compile(r"(?:filter_)?IN_([A-Za-z0-9-]+?)_(?:allow|deny|log|pre|post)$")


_GENERATORS: IdentityCache = IdentityCache()
_NONE = ""  # remembered "no generator" (None means "not asked yet")


def generator_of(ruleset: Ruleset) -> str | None:
    """The tool that wrote ``ruleset`` ("ufw", "firewalld", "fw4", "kube-proxy", "docker", ...), or
    None; remembered per ruleset (every finding's hint asks)."""
    known = _GENERATORS.get(ruleset)
    if known is None:
        known = _GENERATORS.put(ruleset, _generator(ruleset) or _NONE)
    return known or None


def _generator(ruleset: Ruleset) -> str | None:
    if ruleset.generator is not None:
        return ruleset.generator  # the front end knows (compose: Docker's own rules)
    tables = {table.name for table in ruleset.tables if table.chains}  # (a table without chains names nothing)
    for generator, table_name in _TABLE_SIGNS:
        if table_name in tables:
            return generator
    chains = [chain.name for table in ruleset.tables for chain in table.chains]
    # One search of the names a line each, not one per name (kube-proxy 100k: 40,000 chains,
    # ~30 ms): each sign matches within a name, its ^ and $ at the name's ends (re.M), unless a
    # name holds a line break (then name by name).
    text = "\n".join(chains)
    if text.count("\n") != max(len(chains) - 1, 0):
        for generator, sign in _CHAIN_SIGNS:
            if any(sign.search(chain) for chain in chains):
                return generator
        return None
    for generator, sign, needed in _LINE_SIGNS:
        if needed in text and sign.search(text):
            return generator
    return None


# _CHAIN_SIGNS over names a line each, with a string every match holds (its search is skipped
# without it: firewalld's alternation tries each position of the text, ~18 ms at 40,000 chains).
_LINE_SIGNS = tuple((generator, re.compile(sign.pattern, re.M), "_" if generator == "firewalld" else "")
                    for generator, sign in _CHAIN_SIGNS)


# Services a generator's own defaults put on a port (evidence, like a rule's comment): firewalld's
# stock "cockpit" service on Fedora and RHEL is 9090, not Prometheus.
CONVENTIONS = {"firewalld": {(9090, "tcp"): "cockpit"}}


@functools.lru_cache(maxsize=1)
def _firewalld_services() -> frozenset[str]:
    """The names of firewalld's built-in services (rules/firewalld/services.yaml): a hint says
    --remove-service only for a name firewall-cmd knows."""
    return frozenset(read_yaml(data_dir("rules") / "firewalld" / "services.yaml")["services"])


def safety_net(generator: str | None, chain: str, rule) -> bool:
    """Whether ``rule`` is a generator's own last rule that nothing reaches by design: firewalld ends
    filter_INPUT with a reject after its zone dispatch, which always decides (every zone chain ends in
    its target). Reporting it as dead (PL402) would tell the user to edit what firewalld writes."""
    return (generator == "firewalld" and chain == "filter_INPUT" and not rule.matches
            and rule.verdict.kind.value == "reject")


def convention(generator: str | None, port: int, transport: str) -> str | None:
    """The service ``generator``'s defaults put on ``port``/``transport``, or None."""
    return CONVENTIONS.get(generator or "", {}).get((port, transport))


def restrict_hint(generator: str | None, chain: str, transport: str, ports: str, service: str | None,
                  comment: str | None = None, target: str | None = None) -> str | None:
    """How to allow a port only from the networks that need it, in the generator's terms, or None
    when the ruleset is hand-written (the generic hint then stands). ``target``: the deciding rule's
    jump target (ufw's `limit` rules accept through ufw-user-limit-accept)."""
    port = ports if "," not in ports else ports.split(",")[0]
    if generator == "ufw":
        action = "limit" if target and target.endswith("-user-limit-accept") else "allow"
        if re.match(r"ufw6?-(?:before|after)-", chain):
            file = "before" if "before" in chain else "after"
            return f"This rule comes from /etc/ufw/{file}{'6' if chain.startswith('ufw6') else ''}.rules: edit it there"
        spec = port.replace("-", ":")
        if comment and comment.startswith("dapp_"):
            # ufw writes an application profile's rules with the comment "dapp_<name>".
            app = unquote(comment[len("dapp_"):])
            return (f"ufw delete {action} '{app}', then ufw {action} from 10.0.0.0/8 to any app '{app}' "
                    f"(your own network instead of 10.0.0.0/8)")
        return (f"ufw delete {action} {spec}/{transport}, then ufw {action} from 10.0.0.0/8 to any port {spec} "
                f"proto {transport} (your own network instead of 10.0.0.0/8)")
    if generator == "firewalld":
        match = _FIREWALLD_ZONE.search(chain)
        zone = match.group(1) if match else "public"
        removal = f"--remove-service={service}" if service in _firewalld_services() else \
            f"--remove-port={port}/{transport}"
        return (f"firewall-cmd --permanent --zone={zone} {removal}; allow it from a trusted source zone instead "
                f"(firewall-cmd --permanent --zone=trusted --add-source=10.0.0.0/8)")
    if generator == "fw4":
        return f"In /etc/config/firewall, limit the rule opening {port}/{transport} to src 'lan' or a src_ip"
    if generator == "proxmox":
        return f"In the Proxmox firewall (Datacenter or node), restrict the rule for {port}/{transport} to an IP set"
    if generator == "csf":
        return f"Remove {port} from TCP_IN/UDP_IN in /etc/csf/csf.conf and allow it per address in csf.allow"
    return None
