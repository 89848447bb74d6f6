#!/usr/bin/env python3
"""Unix datagram echo servers that misbehave, for client-unix-dgram.sh.
Usage: unixdgram.py MODE PATH READYFILE. Binds PATH, writes READYFILE,
then by MODE:
  rebind  echo the first probe, then close the socket and serve on a new
          one bound at the same path (a server restarted)
  stale   echo the first probe, then close the socket, leaving the file
          (nobody bound at the path: connect() is refused)
  gone    echo the first probe, then close the socket and remove the file
  huge    echo every probe with 150000 bytes more (longer than 64 KiB)
  big1    echo every probe with bytes added up to 65537 in all
  forge   echo the first probe, work the client's seed out of it, close
          the socket and remove the file; then send perfect echoes of
          the next three probes (0.5 s apart, from 0.75 s on) from an
          unnamed socket, then from one bound at PATH.x (attack round 6)
  stall   read nothing for 1 s after the first probe (the client's sends beyond the queue are
          refused with EAGAIN), then forge echoes of probes 1 to 15 from
          PATH itself, those never sent among them
  pathforge  as forge, but the forged echo of the second probe comes 1.5 s
          after the first from a socket bound at PATH again for a moment:
          from the server's own name, for a probe that was never sent
Ends by itself after 30 s."""
import os
import select
import socket
import sys
import struct
import threading
import time

M = (1 << 64) - 1
G = 0x9e3779b97f4a7c15


def unxorshift(z, k):
    x = z
    for _ in range(64 // k + 1):
        x = z ^ (x >> k)
    return x & M


def seed_of(d):
    """The client's seed from one echo: splitmix64 can be run backwards."""
    seq = struct.unpack(">I", d[4:8])[0]
    z = unxorshift(struct.unpack("<Q", d[8:16])[0], 31)
    z = unxorshift(z * pow(0x94D049BB133111EB, -1, 1 << 64) & M, 27)
    z = unxorshift(z * pow(0xBF58476D1CE4E5B9, -1, 1 << 64) & M, 30)
    return ((z - 2 * G) & M) ^ (seq * G & M)


def probe(seed, seq, n):
    """The datagram the client sends as probe seq (0-based), n bytes."""
    x, out = seed ^ (seq * G & M), b""
    while len(out) < n:
        x = (x + G) & M
        z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
        out += struct.pack("<Q", z ^ (z >> 31))
    return b"AEc1" + struct.pack(">I", seq) + out[8:n]


def forge(s, path, mode):
    d, peer = s.recvfrom(70000)
    s.sendto(d, peer)
    seed, seq = seed_of(d), struct.unpack(">I", d[4:8])[0]
    if probe(seed, seq, len(d)) != d:
        sys.exit("unixdgram.py: the seed was not recovered")
    s.close()
    os.unlink(path)
    if mode == "pathforge":
        time.sleep(1.5)
        x = bound(path)
        x.sendto(probe(seed, seq + 1, len(d)), peer)
        x.close()
        os.unlink(path)
        return
    unnamed = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    named = bound(path + ".x")
    # Each 0.25 s after the probe it echoes (sent 0.5 s apart): until the
    # client's next send finds the server gone, the kernel lets none in.
    for k in range(1, 4):
        time.sleep(0.75 if k == 1 else 0.5)
        try:
            (unnamed if k == 1 else named).sendto(probe(seed, seq + k, len(d)), peer)
        except OSError as e:
            print("unixdgram.py: forged echo %d: %s" % (k, e), file=sys.stderr)


def bound(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind(path)
    return s


def main():
    mode, path, ready = sys.argv[1], sys.argv[2], sys.argv[3]
    threading.Timer(30, lambda: os._exit(0)).start()
    s = bound(path)
    with open(ready + ".tmp", "w") as f:
        f.write("ready\n")
    os.rename(ready + ".tmp", ready)
    if mode in ("huge", "big1"):
        while True:
            d, peer = s.recvfrom(70000)
            extra = 150000 if mode == "huge" else 65537 - len(d)
            s.sendto(d + b"X" * extra, peer)
    if mode == "stall":
        select.select([s], [], [])
        time.sleep(1.0)
        d, peer = s.recvfrom(70000)
        seed = seed_of(d)
        for k in range(15):
            s.sendto(probe(seed, k, len(d)), peer)
        threading.Event().wait()
    if mode in ("forge", "pathforge"):
        forge(s, path, mode)
        threading.Event().wait()
    d, peer = s.recvfrom(70000)
    if mode == "rebind":
        # The new socket is in place before the echo goes: the client's
        # next probe can only find it (the rename is atomic).
        n = bound(path + ".new")
        os.rename(path + ".new", path)
        s.sendto(d, peer)
        s.close()
        while True:
            d, peer = n.recvfrom(70000)
            n.sendto(d, peer)
    s.sendto(d, peer)
    s.close()
    if mode == "gone":
        os.unlink(path)
    threading.Event().wait()


if __name__ == "__main__":
    main()
