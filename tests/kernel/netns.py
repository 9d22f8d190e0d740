"""A two-namespace network lab for comparing portlint with the kernel.

Topology (names carry the test process id, so parallel runs do not collide)::

    plk-cli-<pid>                              plk-srv-<pid>                     plk-ctr-<pid>
    plk0 10.99.0.2/24  <---- veth ---->  eth0 10.99.0.1/24
    plk1 10.98.0.2/24  <---- veth ---->  eth1 10.98.0.1/24
                                         docker0 172.17.0.1/16 <-- veth --> eth0 172.17.0.2-4/16

The third namespace stands in for Docker containers (CONTAINER_ADDRS), so that
a DNAT to a container (samples/docker-host.rules) is really forwarded and
answered; the server forwards (ip_forward=1) and the containers route back
through it.

The server namespace holds the firewall under test and a listener
(``listener.py``) on LISTEN_PORTS, TCP and UDP. The client namespace holds
extra source addresses (SOURCES); each one sits on one client veth and the
server routes it back through the peer (/32 routes), so a flow's source address
decides its input interface (``iface_of``). A flow goes to the server address
of that interface (SERVER_ADDRS: 10.99.0.1 on eth0, 10.98.0.1 on eth1), the way
a client on that network would connect; REDIRECT then leaves the address as it
is (it rewrites to the input interface's primary address). rp_filter is off and ICMP rate limits are lifted so that
REJECT answers every probe.

A long-running probe process (``probe.py --serve``) in the client namespace
makes the connections; ``Lab.probe`` sends it a batch of flows and returns the
outcome of each ("accept", "reject", "drop", or "error").

Rulesets are loaded with ``load_iptables`` (iptables-restore, after emptying
the tables the previous ruleset used) or ``load_nft`` (``nft -f`` of
"flush ruleset" plus the text, one transaction).

Everything here uses only the standard library and the ip, iptables-restore
and nft commands; ``Lab.close`` deletes both namespaces and stops both
processes, and is safe to call after a failed or partial ``setup``.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
COMMAND_TIMEOUT = 30

SERVER_ADDR = "10.99.0.1"
SERVER_IFACES = {"eth0": ("10.99.0.1/24", "plk0", "10.99.0.2/24"), "eth1": ("10.98.0.1/24", "plk1", "10.98.0.2/24")}
SERVER_ADDRS = {iface: spec[0].split("/")[0] for iface, spec in SERVER_IFACES.items()}

# Client source addresses, by the server interface their packets arrive on.
SOURCES: dict[str, tuple[str, ...]] = {
    "eth0": ("10.99.0.2", "192.168.77.2", "172.16.5.2", "203.0.113.50", "198.51.100.9", "100.64.1.1",
             "10.20.3.4", "192.168.1.20"),
    "eth1": ("10.98.0.2", "192.168.50.2", "192.168.10.5", "203.0.113.66", "10.20.200.1"),
}
ALL_SOURCES = tuple(s for group in SOURCES.values() for s in group)
CONTAINER_GATEWAY = "172.17.0.1/16"
CONTAINER_ADDRS = ("172.17.0.2", "172.17.0.3", "172.17.0.4")

# Ports the listener serves, TCP and UDP. The random rulesets use these; the
# samples' ports are here too so that their flows have someone to answer.
LISTEN_PORTS = tuple(sorted({
    21, 22, 23, 25, 53, 80, 443, 445, 3306, 3389, 5432, 6379, 8080, 1024, 2000, 30000, 40000, 50000, 60000,
    67, 68, 111, 137, 138, 139, 161, 1194, 1900, 3128, 5353, 9100, 50050, 50100,
}))

BUILTIN_CHAINS = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}
_TABLE_RE = re.compile(r"^\*(\w+)\s*$", re.MULTILINE)


class LabError(RuntimeError):
    """The lab cannot be built here (not root, tools missing, no namespaces...)."""


class LoadError(RuntimeError):
    """A ruleset the kernel (or the restore tool) refused."""


def which(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def empty_table(table: str) -> str:
    """An iptables-restore section that empties ``table`` (rules, user chains, policies)."""
    chains = "".join(f":{chain} ACCEPT [0:0]\n" for chain in BUILTIN_CHAINS[table])
    return f"*{table}\n{chains}COMMIT\n"


def tables_in(text: str) -> set[str]:
    return set(_TABLE_RE.findall(text))


@dataclass(frozen=True)
class ProbeFlow:
    """A concrete flow the client can make: everything the probe and portlint need."""

    src: str
    dst: str
    proto: str
    dport: int
    sport: int
    iface: str

    def wire(self) -> dict:
        return {"src": self.src, "dst": self.dst, "proto": self.proto, "dport": self.dport, "sport": self.sport}

    def portlint(self) -> dict:
        """The flow as `portlint trace --flows` reads it."""
        return {**self.wire(), "iface": self.iface, "state": "new"}

    def __str__(self) -> str:
        return f"{self.proto} {self.src}:{self.sport} -> {self.dst}:{self.dport} in on {self.iface}"


class Lab:
    def __init__(self, tag: str | None = None):
        tag = tag or str(os.getpid())
        self.srv = f"plk-srv-{tag}"
        self.cli = f"plk-cli-{tag}"
        self.ctr = f"plk-ctr-{tag}"
        self.ip = which("ip")
        self.iptables_restore = which("iptables-restore")
        self.nft = which("nft")
        self._created: list[str] = []
        self._listeners: list[subprocess.Popen] = []
        self._prober: subprocess.Popen | None = None
        self._tables: set[str] = set()
        self._nft_loaded = False
        self._sport_counter = 0
        self.probe_batches = 0
        self.probed_flows = 0

    # --- building and tearing down -------------------------------------------------

    @staticmethod
    def check_prerequisites() -> None:
        """Raise LabError with the reason when this machine cannot run the lab."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            raise LabError("needs root to create network namespaces")
        for tool in ("ip", "iptables-restore"):
            if which(tool) is None:
                raise LabError(f"{tool} not found")

    def _run(self, argv: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        try:
            result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=COMMAND_TIMEOUT)
        except (OSError, subprocess.SubprocessError) as exc:
            raise LabError(f"{' '.join(argv)}: {exc}") from None
        if check and result.returncode != 0:
            raise LabError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
        return result

    def in_srv(self, argv: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([self.ip, "netns", "exec", self.srv, *argv], stdin, check)

    def in_cli(self, argv: list[str], stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        return self._run([self.ip, "netns", "exec", self.cli, *argv], stdin, check)

    def setup(self) -> None:
        """Build both namespaces, the veths, addresses and routes; start listener and prober."""
        self.check_prerequisites()
        ip = self.ip
        for ns in (self.srv, self.cli, self.ctr):
            self._run([ip, "netns", "add", ns])
            self._created.append(ns)
        self.in_srv(["true"])  # can we enter it at all?
        for server_if, (server_addr, client_if, client_addr) in SERVER_IFACES.items():
            self._run([ip, "-n", self.srv, "link", "add", server_if, "type", "veth", "peer", "name", client_if,
                       "netns", self.cli])
            self._run([ip, "-n", self.srv, "addr", "add", server_addr, "dev", server_if])
            self._run([ip, "-n", self.cli, "addr", "add", client_addr, "dev", client_if])
        self._run([ip, "-n", self.srv, "link", "add", "docker0", "type", "veth", "peer", "name", "eth0",
                   "netns", self.ctr])
        self._run([ip, "-n", self.srv, "addr", "add", CONTAINER_GATEWAY, "dev", "docker0"])
        for address in CONTAINER_ADDRS:
            self._run([ip, "-n", self.ctr, "addr", "add", f"{address}/16", "dev", "eth0"])
        sysctls = ["net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0"]
        self._sysctl(self.srv, sysctls + ["net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.eth1.rp_filter=0",
                                          "net.ipv4.conf.docker0.rp_filter=0", "net.ipv4.ip_forward=1"],
                     optional=["net.ipv4.icmp_ratelimit=0", "net.ipv4.icmp_msgs_per_sec=1000000",
                               "net.ipv4.icmp_msgs_burst=1000000"])
        self._sysctl(self.cli, sysctls + ["net.ipv4.conf.plk0.rp_filter=0", "net.ipv4.conf.plk1.rp_filter=0"])
        for ns, links in ((self.srv, ("lo", *SERVER_IFACES, "docker0")), (self.cli, ("lo", "plk0", "plk1")),
                          (self.ctr, ("lo", "eth0"))):
            for link in links:
                self._run([ip, "-n", ns, "link", "set", link, "up"])
        self._run([ip, "-n", self.ctr, "route", "add", "default", "via", CONTAINER_GATEWAY.split("/")[0]])
        for server_if, sources in SOURCES.items():
            client_if = SERVER_IFACES[server_if][1]
            connected = SERVER_IFACES[server_if][2].split("/")[0]
            for source in sources:
                if source != connected:
                    self._run([ip, "-n", self.cli, "addr", "add", f"{source}/32", "dev", client_if])
                    self._run([ip, "-n", self.srv, "route", "add", f"{source}/32", "dev", server_if])
        empty = self.in_srv([self.iptables_restore], empty_table("filter"), check=False)
        if empty.returncode != 0:
            raise LabError(f"iptables-restore refuses an empty filter table here: {empty.stderr.strip()}")
        self._tables = {"filter"}
        self._start_listener(self.srv)
        self._start_listener(self.ctr)
        self._start_prober()

    def _sysctl(self, ns: str, settings: list[str], optional: list[str] = ()) -> None:
        lines = []
        for setting, required in [(s, True) for s in settings] + [(s, False) for s in optional]:
            key, value = setting.split("=")
            path = "/proc/sys/" + key.replace(".", "/")
            redirect = "" if required else " 2>/dev/null || true"
            lines.append(f"echo {value} > {path}{redirect}")
        self._run([self.ip, "netns", "exec", ns, "sh", "-ec", "\n".join(lines)])

    def _start_listener(self, ns: str) -> None:
        argv = [self.ip, "netns", "exec", ns, sys.executable, str(HERE / "listener.py"), *map(str, LISTEN_PORTS)]
        listener = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
        self._listeners.append(listener)
        ready, _, _ = select.select([listener.stdout], [], [], 15)
        line = listener.stdout.readline() if ready else ""
        if line.strip() != "ready":
            err = listener.stderr.read() if listener.poll() is not None else ""
            raise LabError(f"listener in {ns} did not start: {line.strip() or 'no output'} {err.strip()}")

    def _start_prober(self) -> None:
        argv = [self.ip, "netns", "exec", self.cli, sys.executable, str(HERE / "probe.py"), "--serve"]
        self._prober = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)

    def close(self) -> None:
        """Stop the processes and delete the namespaces; never raises."""
        for proc in (self._prober, *self._listeners):
            if proc is None:
                continue
            try:
                proc.stdin.close()
                proc.wait(timeout=3)
            except Exception:  # noqa: BLE001 - teardown must go on
                try:
                    proc.kill()
                    proc.wait(timeout=3)
                except Exception:  # noqa: BLE001
                    pass
        self._prober = None
        self._listeners = []
        for ns in reversed(self._created):
            try:
                subprocess.run([self.ip, "netns", "del", ns], capture_output=True, timeout=COMMAND_TIMEOUT)
            except (OSError, subprocess.SubprocessError):
                pass
        self._created = []

    def __enter__(self) -> "Lab":
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- rulesets --------------------------------------------------------------------

    def restore_test(self, text: str) -> subprocess.CompletedProcess:
        """``iptables-restore --test`` of ``text`` in the server namespace (loads nothing)."""
        return self.in_srv([self.iptables_restore, "--test"], text, check=False)

    def reset(self) -> None:
        """Empty every table: the iptables tables used so far, and the whole nft ruleset."""
        if self._tables:
            text = "".join(empty_table(t) for t in sorted(self._tables))
            self.in_srv([self.iptables_restore], text)
        if self.nft is not None:
            self.in_srv([self.nft, "flush", "ruleset"])
        self._tables = set()
        self._nft_loaded = False

    def load_iptables(self, text: str) -> None:
        """Make ``text`` (iptables-save format) the whole IPv4 ruleset of the server.

        Tables the previous ruleset used and this one does not are emptied in the
        same restore (one transaction); raises LoadError when the text is refused.
        With the nf_tables backend this catches rules that ``restore_test`` lets
        through (the kernel refuses e.g. ``! -s 0.0.0.0/0``).
        """
        if self._nft_loaded:
            self.reset()
        tables = tables_in(text)
        unknown = tables - set(BUILTIN_CHAINS)
        if unknown:
            raise LoadError(f"unknown table(s) {', '.join(sorted(unknown))}")
        # The emptied tables go after the text, so error messages keep the text's line numbers.
        suffix = "".join(empty_table(t) for t in sorted(self._tables - tables))
        if suffix and not text.endswith("\n"):
            suffix = "\n" + suffix
        result = self.in_srv([self.iptables_restore], text + suffix, check=False)
        if result.returncode != 0:
            raise LoadError(result.stderr.strip() or f"iptables-restore exited {result.returncode}")
        self._tables |= tables

    def load_nft(self, text: str) -> None:
        """Make ``text`` (an nft script) the whole ruleset: ``flush ruleset`` and the text, atomically."""
        if self.nft is None:
            raise LabError("nft not found")
        if self._tables:
            self.reset()
        result = self.in_srv([self.nft, "-f", "-"], "flush ruleset\n" + text, check=False)
        self._nft_loaded = True
        if result.returncode != 0:
            raise LoadError(result.stderr.strip() or f"nft exited {result.returncode}")

    def save_iptables(self) -> str:
        return self.in_srv([which("iptables-save") or "iptables-save"]).stdout

    # --- flows -----------------------------------------------------------------------

    @staticmethod
    def iface_of(source: str) -> str:
        for iface, sources in SOURCES.items():
            if source in sources:
                return iface
        raise ValueError(f"{source} is not a client source address of the lab")

    def next_sport(self) -> int:
        """A source port no earlier flow of this lab used (a permutation of 10000-59999).

        Unique ports keep every flow a fresh conntrack entry, so no flow is
        judged by what an earlier ruleset did to an earlier connection.
        """
        n = self._sport_counter
        self._sport_counter += 1
        if n >= 50000:
            raise LabError("out of unique source ports")
        return 10000 + (n * 7919) % 50000

    def flow(self, src: str, proto: str, dport: int, dst: str | None = None) -> ProbeFlow:
        """A flow from client address ``src``, by default to the server address of its interface."""
        iface = self.iface_of(src)
        return ProbeFlow(src, dst or SERVER_ADDRS[iface], proto, int(dport), self.next_sport(), iface)

    def probe(self, flows: list[ProbeFlow], timeout: float = 0.4) -> list[dict]:
        """Probe every flow at once from the client namespace; one outcome dict per flow."""
        if not flows:
            return []
        proc = self._prober
        if proc is None or proc.poll() is not None:
            err = proc.stderr.read() if proc is not None else ""
            raise LabError(f"probe process is not running {err.strip()}")
        proc.stdin.write(json.dumps({"timeout": timeout, "flows": [f.wire() for f in flows]}) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], timeout + 30)
        line = proc.stdout.readline() if ready else ""
        if not line:
            raise LabError("probe process did not answer")
        outcomes = json.loads(line)
        self.probe_batches += 1
        self.probed_flows += len(flows)
        return outcomes
