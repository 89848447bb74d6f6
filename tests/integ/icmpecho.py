#!/usr/bin/env python3
"""A UDP echo on 127.0.0.1 that lies with ICMP: for the probes (1-based,
in arrival order) listed in FORGE it first sends the prober a forged ICMP
port unreachable quoting the probe (raw socket: root), then echoes it
50 ms later; probes listed in SLOW are echoed after SLOW_MS. Prints its
port, then serves until nothing comes for 10 s.
usage: icmpecho.py FORGE SLOW SLOW_MS"""
import socket
import struct
import sys
import threading


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def unreachable(raw, data, peer, port):
    """ICMP type 3 code 3 quoting the probe's IP header and datagram."""
    udp = struct.pack("!HHHH", peer[1], port, 8 + len(data), 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(peer[0]), socket.inet_aton("127.0.0.1"))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    body = ip + udp
    head = struct.pack("!BBHI", 3, 3, 0, 0)
    head = struct.pack("!BBHI", 3, 3, csum(head + body), 0)
    raw.sendto(head + body, (peer[0], 0))


def main(forge, slow, slow_ms):
    forge = {int(x) for x in forge.split(",") if x}
    slow = {int(x) for x in slow.split(",") if x}
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    port = u.getsockname()[1]
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print(port, flush=True)
    u.settimeout(10)
    n = 0
    try:
        while True:
            data, peer = u.recvfrom(65536)
            n += 1
            if n in forge:
                unreachable(raw, data, peer, port)
                delay = 0.05
            elif n in slow:
                delay = int(slow_ms) / 1000.0
            else:
                u.sendto(data, peer)
                continue
            threading.Timer(delay, u.sendto, (data, peer)).start()
    except socket.timeout:
        pass


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    main(*sys.argv[1:])
