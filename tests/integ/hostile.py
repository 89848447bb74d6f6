#!/usr/bin/env python3
"""Hostile unix-datagram clients for anyechod: NHOSTILE bound sockets each
send COUNT datagrams of SIZE bytes to the server and never read a reply.
Then five well-behaved bound clients ping (PING_SIZE bytes, 64 unless set)
in rounds while the
hostile ones keep sending: every ping must be answered, and the server's
CPU time (utime + stime from /proc/PID/stat) over the pinging must stay
below MAX_CPU percent of one core. Every wait is bounded; a starved server
fails a round after 2 s and the test stops after two such rounds."""
import os
import socket
import sys
import time

ROUNDS = 12
CLIENTS = 5
PING = int(os.environ.get("PING_SIZE", "64"))  # the well-behaved clients' size


def die(msg):
    print("FAIL:", msg)
    sys.exit(1)


def cpu_ticks(pid):
    with open("/proc/%s/stat" % pid) as f:
        s = f.read()
    # fields after "(comm)": state is field 3, utime 14 and stime 15
    rest = s[s.rindex(")") + 2:].split()
    return int(rest[11]) + int(rest[12])


def bound(tmp, name, timeout=None):
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(tmp, name)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    u.bind(path)
    if timeout is None:
        u.setblocking(False)
    else:
        u.settimeout(timeout)
    return u


def try_send(u, data, server):
    try:
        u.sendto(data, server)
        return True
    except (BlockingIOError, ConnectionRefusedError, socket.timeout):
        return False


def ping_round(good, server, rnd):
    """One ping per client; returns how many came back within 2 s."""
    for i, g in enumerate(good):
        g.settimeout(0.2)
        try_send(g, b"%02d%02d" % (rnd, i) + b"p" * (PING - 4), server)
    got, end = 0, time.monotonic() + 2.0
    for i, g in enumerate(good):
        want = b"%02d%02d" % (rnd, i) + b"p" * (PING - 4)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                break
            g.settimeout(left)
            try:
                if g.recv(1 << 17) == want:
                    got += 1
                    break
            except socket.timeout:
                break
    return got


def main(server, tmp, pid, size, count, nhostile, max_cpu):
    size, count, nhostile, max_cpu = int(size), int(count), int(nhostile), int(max_cpu)
    hz = os.sysconf("SC_CLK_TCK")
    hostile = [bound(tmp, "hostile%d" % h) for h in range(nhostile)]
    junk = b"h" * size
    for h in hostile:
        sent = 0
        for _ in range(count * 10):  # bounded: the server may be slow to read
            if sent == count:
                break
            if try_send(h, junk, server):
                sent += 1
            else:
                time.sleep(0.01)
    time.sleep(0.3)  # the server settles: spinning, stalled, or idle
    good = [bound(tmp, "good%d" % i, 2.0) for i in range(CLIENTS)]
    t0, c0 = time.monotonic(), cpu_ticks(pid)
    answered, failed_rounds = 0, 0
    for rnd in range(ROUNDS):
        for h in hostile:
            try_send(h, junk, server)  # the attack goes on
        got = ping_round(good, server, rnd)
        answered += got
        if got < CLIENTS:
            failed_rounds += 1
            if failed_rounds == 2:
                break
        time.sleep(0.1)
    wall, cpu = time.monotonic() - t0, (cpu_ticks(pid) - c0) / hz
    pct = 100.0 * cpu / wall
    total = (rnd + 1) * CLIENTS
    print("%d hostile x %d x %d bytes: %d of %d pings of %d bytes answered, server CPU "
          "%.1f%% (%.2f s in %.2f s)" % (nhostile, count, size, answered, total, PING, pct, cpu,
                                          wall))
    if answered < total:
        die("other clients went unanswered")
    if pct > max_cpu:
        die("server CPU %.1f%% over %d%%: it spins" % (pct, max_cpu))
    print("ok")


if __name__ == "__main__":
    if len(sys.argv) != 8:
        die("usage: hostile.py SERVER TMPDIR PID SIZE COUNT NHOSTILE MAX_CPU%")
    main(*sys.argv[1:])
