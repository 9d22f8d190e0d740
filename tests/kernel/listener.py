"""Listener for the kernel agreement tests; runs inside the server namespace.

Usage: python3 listener.py PORT...

Listens on 0.0.0.0 for TCP (accepts and closes at once) and UDP (echoes every
datagram back to its sender) on every PORT. A UDP echo leaves from the address
the datagram was addressed to (IP_PKTINFO), not from whatever address routing
would pick, so that connected client sockets and conntrack's un-NAT accept it. Prints "ready" on standard output
once every socket is bound, and exits when standard input is closed, so the
test that started it cannot leave it behind. Standard library only.
"""

from __future__ import annotations

import selectors
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python does not always export it


def main(argv: list[str]) -> int:
    ports = sorted({int(p) for p in argv})
    selector = selectors.DefaultSelector()
    for port in ports:
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(("0.0.0.0", port))
        tcp.listen(512)
        tcp.setblocking(False)
        selector.register(tcp, selectors.EVENT_READ, "tcp")
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        udp.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        udp.bind(("0.0.0.0", port))
        udp.setblocking(False)
        selector.register(udp, selectors.EVENT_READ, "udp")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        for key, _ in selector.select():
            sock = key.fileobj
            if key.data == "stdin":
                if not sys.stdin.buffer.read1(4096):
                    return 0
            elif key.data == "tcp":
                while True:
                    try:
                        conn, _ = sock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    conn.close()
            else:
                while True:
                    try:
                        data, ancillary, _, peer = sock.recvmsg(2048, socket.CMSG_SPACE(12))
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        # e.g. an ICMP error queued on the socket: nothing to echo.
                        continue
                    reply_ancillary = []
                    for level, kind, payload in ancillary:
                        if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(payload) >= 12:
                            # struct in_pktinfo {ifindex; spec_dst; addr}: answer from addr.
                            header_dst = payload[8:12]
                            reply_ancillary = [(socket.IPPROTO_IP, IP_PKTINFO,
                                                struct.pack("i4s4s", 0, header_dst, bytes(4)))]
                    try:
                        sock.sendmsg([data], reply_ancillary, 0, peer)
                    except OSError:
                        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
