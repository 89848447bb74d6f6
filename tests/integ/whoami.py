#!/usr/bin/env python3
"""A TCP and UDP peer that logs who reached it, for the source-address and
connect-only tests: one line per connection or datagram, "tcp HOST BYTES"
(at close) or "udp HOST BYTES", in LOG. Mode "echo" echoes everything (an
RFC 862 server); "silent" accepts and reads but never answers, like a
service that is not an echo server. Listens on each ADDR at one port (0:
any free one), written to PORTFILE once every socket is bound. Runs at
most LIFETIME seconds.

usage: whoami.py MODE LOG PORTFILE LIFETIME PORT ADDR..."""
import errno
import os
import select
import socket
import sys
import time


def bind_all(addrs, port):
    """A TCP listener and a UDP socket on each address, all at one port:
    the first TCP socket's when port is 0."""
    listeners, udps = [], []
    try:
        for a in addrs:
            fam = socket.AF_INET6 if ":" in a else socket.AF_INET
            where = (a, port)
            if "%" in a:  # a 2-tuple loses the scope
                host, ifname = a.split("%")
                where = (host, port, 0, socket.if_nametoindex(ifname))
            t = socket.socket(fam, socket.SOCK_STREAM)
            listeners.append(t)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            t.bind(where)
            port = t.getsockname()[1]
            where = (where[0], port) + where[2:]
            t.listen(64)
            u = socket.socket(fam, socket.SOCK_DGRAM)
            udps.append(u)
            if fam == socket.AF_INET6:
                u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            u.bind(where)
    except OSError:
        for s in listeners + udps:
            s.close()
        raise
    return listeners, udps, port


def main():
    mode, log, portfile, lifetime, port = sys.argv[1:6]
    addrs = sys.argv[6:]
    asked = int(port)
    end = time.monotonic() + float(lifetime)
    # A port free for the first TCP socket may be another test's for UDP
    # or on another address: with port 0, take a new one and try again.
    for attempt in range(50):
        try:
            listeners, udps, port = bind_all(addrs, asked)
            break
        except OSError as e:
            if asked != 0 or e.errno != errno.EADDRINUSE or attempt == 49:
                raise
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, portfile)
    conns = {}
    out = open(log, "a", buffering=1)
    while time.monotonic() < end:
        r, _, _ = select.select(listeners + udps + list(conns), [], [], 0.2)
        for s in r:
            if s in listeners:
                c, peer = s.accept()
                conns[c] = [peer[0], 0]
            elif s in udps:
                data, peer = s.recvfrom(65536)
                out.write("udp %s %d\n" % (peer[0], len(data)))
                if mode == "echo":
                    s.sendto(data, peer)
            else:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    out.write("tcp %s %d\n" % tuple(conns.pop(s)))
                    s.close()
                    continue
                conns[s][1] += len(data)
                if mode == "echo":
                    s.sendall(data)


main()
