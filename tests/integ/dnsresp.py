#!/usr/bin/env python3
"""A DNS server on a UDP port of 127.0.0.1 that misbehaves per name, for
the cases dnsmasq cannot play. The first label of the query name decides:
  noaaaa      A -> 127.0.0.1; AAAA never answered (dropped)
  servfail    SERVFAIL for every type
  refused     REFUSED for every type
  v6servfail  AAAA -> SERVFAIL; A -> 127.0.0.1
  v6refused   AAAA -> REFUSED; A -> 127.0.0.1
  slow6       A -> 127.0.0.1 at once; AAAA -> ::1 after 300 ms
  mapped      A -> 127.0.0.1; AAAA -> ::ffff:127.0.0.1 (v4-mapped)
  blocked     A -> 0.0.0.0; AAAA -> :: (what DNS blockers answer)
  cross       A query -> an AAAA record ::1; AAAA query -> an A record
              127.0.0.1 (each answer carries the other family)
  anything else: NXDOMAIN
Writes its port to PORTFILE, appends "TYPE name" per query to LOGFILE,
and exits by itself after LIFETIME seconds. It listens on 127.0.0.1, or
on ADDRESS (fe80::1%eth0 takes its scope) and PORT when given.
usage: dnsresp.py PORTFILE LOGFILE LIFETIME [ADDRESS [PORT]]"""
import os
import socket
import struct
import sys
import time

T_A, T_AAAA = 1, 28
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5
DROP = None


def question(data):
    """(name, qtype, end of the question) of a query."""
    labels, i = [], 12
    while i < len(data) and data[i] != 0:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype = struct.unpack("!H", data[i + 1:i + 3])[0]
    return ".".join(labels), qtype, i + 5


def v6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def decide(name, qtype):
    """(rcode, answers) or DROP; an answer is rdata (of the type asked) or
    (type, rdata)."""
    first = name.split(".")[0].lower()
    a = [socket.inet_aton("127.0.0.1")] if qtype == T_A else []
    if first == "mapped":
        return NOERROR, [v6("::ffff:127.0.0.1")] if qtype == T_AAAA else a
    if first == "blocked":
        return NOERROR, [v6("::")] if qtype == T_AAAA else [socket.inet_aton("0.0.0.0")]
    if first == "cross":
        if qtype == T_AAAA:
            return NOERROR, [(T_A, socket.inet_aton("127.0.0.1"))]
        return NOERROR, [(T_AAAA, v6("::1"))]
    if first == "noaaaa":
        return DROP if qtype == T_AAAA else (NOERROR, a)
    if first == "servfail":
        return SERVFAIL, []
    if first == "refused":
        return REFUSED, []
    if first == "slow6":
        if qtype == T_AAAA:
            return NOERROR, [socket.inet_pton(socket.AF_INET6, "::1")]
        return NOERROR, a
    if first in ("v6servfail", "v6refused"):
        if qtype == T_AAAA:
            return (SERVFAIL if first == "v6servfail" else REFUSED), []
        return NOERROR, a
    return NXDOMAIN, []


def answer(data, qtype, qend, rcode, rdatas):
    ident, flags = struct.unpack("!HH", data[:4])
    # QR, the query's opcode and RD, RA, and our rcode
    flags = 0x8000 | (flags & 0x7900) | 0x0080 | rcode
    out = struct.pack("!HHHHHH", ident, flags, 1, len(rdatas), 0, 0) + data[12:qend]
    for rd in rdatas:
        rtype, rd = rd if isinstance(rd, tuple) else (qtype, rd)
        out += struct.pack("!HHHIH", 0xC00C, rtype, 1, 60, len(rd)) + rd
    return out


def main():
    port_file, log_file, lifetime = sys.argv[1], sys.argv[2], float(sys.argv[3])
    host = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
    port = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    ai = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM,
                            flags=socket.AI_NUMERICHOST)[0]
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.bind(ai[4])
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    end = time.monotonic() + lifetime
    later = []  # (when, reply, peer): answers held back (slow6's AAAA)
    while True:
        now = time.monotonic()
        for item in [x for x in later if x[0] <= now]:
            s.sendto(item[1], item[2])
            later.remove(item)
        left = end - now
        if left <= 0:
            break
        s.settimeout(min([left] + [x[0] - now for x in later]))
        try:
            data, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        if len(data) < 17:
            continue
        name, qtype, qend = question(data)
        with open(log_file, "a") as f:
            f.write("%s %s\n" % ({T_A: "A", T_AAAA: "AAAA"}.get(qtype, str(qtype)), name))
        d = decide(name, qtype)
        if d is DROP:
            continue
        reply = answer(data, qtype, qend, d[0], d[1])
        if qtype == T_AAAA and name.split(".")[0].lower() == "slow6":
            later.append((time.monotonic() + 0.3, reply, peer))
        else:
            s.sendto(reply, peer)


main()
