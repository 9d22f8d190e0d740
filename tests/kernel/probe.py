"""Client probe for the kernel agreement tests; runs inside the client namespace.

Each flow is {"src", "dst", "proto" ("tcp"/"udp"), "dport", "sport"}. All flows
of a batch are probed at once (non-blocking sockets, one selector) and each
gets an outcome:

- tcp: connect completes -> "accept"; refused (RST) or an ICMP error ->
  "reject"; nothing before the timeout -> "drop".
- udp: a connected socket sends one datagram; the echo comes back -> "accept";
  an ICMP error (ECONNREFUSED, EHOSTUNREACH...; IP_RECVERR makes the kernel
  report the non-fatal ones too) -> "reject"; nothing -> "drop".

Usage:
  python3 probe.py [--timeout S] < flows.json      one batch: a JSON list of flows
  python3 probe.py --serve                          JSON Lines requests
                                                    {"timeout": S, "flows": [...]}
Output: one JSON list per batch of {"outcome", "detail", "ms"}, in flow order.
Standard library only.
"""

from __future__ import annotations

import errno
import json
import selectors
import socket
import struct
import sys
import time

IP_RECVERR = getattr(socket, "IP_RECVERR", 11)
REJECT_ERRNOS = {
    errno.ECONNREFUSED: "ECONNREFUSED",
    errno.EHOSTUNREACH: "EHOSTUNREACH",
    errno.ENETUNREACH: "ENETUNREACH",
    errno.EACCES: "EACCES",
    errno.ENOPROTOOPT: "ENOPROTOOPT",
    errno.EHOSTDOWN: "EHOSTDOWN",
    errno.ENONET: "ENONET",
    errno.ECONNRESET: "ECONNRESET",
    errno.EPROTO: "EPROTO",
}
PAYLOAD = b"portlint-probe"


def _error_outcome(code: int) -> tuple[str, str]:
    if code in REJECT_ERRNOS:
        return "reject", REJECT_ERRNOS[code]
    return "error", errno.errorcode.get(code, str(code))


def _close(sock: socket.socket, proto: str) -> None:
    try:
        if proto == "tcp":
            # Reset instead of FIN: no TIME_WAIT, nothing left to flow later.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def probe(flows: list[dict], timeout: float) -> list[dict]:
    results: list[dict | None] = [None] * len(flows)
    selector = selectors.DefaultSelector()
    start = time.monotonic()
    sockets: dict[int, tuple[socket.socket, str]] = {}

    def finish(index: int, outcome: str, detail: str) -> None:
        if results[index] is None:
            results[index] = {"outcome": outcome, "detail": detail,
                              "ms": round((time.monotonic() - start) * 1000, 2)}
        sock, proto = sockets.pop(index, (None, None))
        if sock is not None:
            try:
                selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            _close(sock, proto)

    for index, flow in enumerate(flows):
        proto = flow["proto"]
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        sock = socket.socket(socket.AF_INET, kind)
        sockets[index] = (sock, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((flow["src"], int(flow.get("sport") or 0)))
            sock.setblocking(False)
            if proto == "tcp":
                code = sock.connect_ex((flow["dst"], int(flow["dport"])))
                if code == 0:
                    finish(index, "accept", "connected")
                elif code in (errno.EINPROGRESS, errno.EAGAIN):
                    selector.register(sock, selectors.EVENT_WRITE, index)
                else:
                    finish(index, *_error_outcome(code))
            else:
                sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
                sock.connect((flow["dst"], int(flow["dport"])))
                sock.send(PAYLOAD)
                selector.register(sock, selectors.EVENT_READ, index)
        except OSError as exc:
            finish(index, "error", f"setup: {exc}")

    while sockets:
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            break
        for key, _ in selector.select(remaining):
            index = key.data
            sock, proto = sockets[index]
            if proto == "tcp":
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code == 0:
                    finish(index, "accept", "connected")
                else:
                    finish(index, *_error_outcome(code))
            else:
                try:
                    data = sock.recv(2048)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    finish(index, *_error_outcome(exc.errno or 0))
                    continue
                if data == PAYLOAD:
                    finish(index, "accept", "echo")
                else:
                    finish(index, "error", f"unexpected reply {data[:20]!r}")
    for index in list(sockets):
        finish(index, "drop", "timeout")
    selector.close()
    return [r for r in results if r is not None]


def main(argv: list[str]) -> int:
    timeout = 0.4
    if "--timeout" in argv:
        timeout = float(argv[argv.index("--timeout") + 1])
    if "--serve" in argv:
        for line in sys.stdin:
            if not line.strip():
                continue
            request = json.loads(line)
            outcomes = probe(request["flows"], float(request.get("timeout", timeout)))
            sys.stdout.write(json.dumps(outcomes) + "\n")
            sys.stdout.flush()
        return 0
    outcomes = probe(json.load(sys.stdin), timeout)
    json.dump(outcomes, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
