#!/usr/bin/env python3
"""One batch of unix-datagram requests that anyechod reads at once:
SENDERS bound sockets each send COUNT datagrams of SIZE bytes to the
stopped server (PID), and a fresh socket a small ping after them; then
the server goes on. The ping's answer, queued after every reply the server
chose to send, says it is done; only then do the senders, which never
read before, count the replies in their queues. Prints "replies N" and
"ping ok" or "ping lost". Every wait is bounded."""
import os
import signal
import socket
import sys


def bound(tmp, name):
    u = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(tmp, name)
    if os.path.exists(path):
        os.unlink(path)
    u.bind(path)
    # Non-blocking: with a timeout Python waits for POLLOUT, which a unix
    # datagram socket holding a quarter of its send buffer does not give.
    u.setblocking(False)
    return u


def main(server, tmp, pid, senders, count, size):
    pid, senders, count, size = int(pid), int(senders), int(count), int(size)
    socks = [bound(tmp, "batch%d" % i) for i in range(senders)]
    ping = bound(tmp, "batchping")
    os.kill(pid, signal.SIGSTOP)
    try:
        for u in socks:
            for _ in range(count):
                u.sendto(b"b" * size, server)
        ping.sendto(b"ping", server)
    finally:
        os.kill(pid, signal.SIGCONT)
    ping.settimeout(5.0)
    try:
        print("ping %s" % ("ok" if ping.recv(64) == b"ping" else "wrong"))
    except socket.timeout:
        print("ping lost")
    got = 0
    for u in socks:
        try:
            while True:
                u.recv(1 << 17)
                got += 1
        except BlockingIOError:
            pass
    print("replies %d" % got)


if __name__ == "__main__":
    if len(sys.argv) != 7:
        print("usage: batch.py SERVER TMPDIR PID SENDERS COUNT SIZE")
        sys.exit(2)
    main(*sys.argv[1:])
