#!/usr/bin/env python3
"""Echo servers whose later echoes prove wrong, for client-rtt-stats.sh.
Usage: rttserver.py MODE PORTFILE. Listens on 127.0.0.1, port 0, and
writes the port to PORTFILE. By MODE:
  udp  the first probe's echo at once, and 700 ms later a copy a byte
       short (a wrong duplicate: the probe counts as mismatched after
       all); the second's echo held 300 ms, the third's 1200 ms (so the
       wrong copy comes between them)
  tcp  the first probe's echo held 300 ms; the second's at once, then,
       once the client has half-closed, one byte more (that echo was too
       long after all)
Ends by itself after 30 s."""
import os
import socket
import sys
import threading
import time


def publish(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def udp(portfile):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    publish(portfile, str(u.getsockname()[1]))
    n = 0
    while True:
        d, peer = u.recvfrom(65536)
        n += 1
        if n == 1:
            u.sendto(d, peer)
            threading.Timer(0.7, u.sendto, (d[:-1], peer)).start()
        elif n <= 3:
            threading.Timer(0.3 if n == 2 else 1.2, u.sendto, (d, peer)).start()


def recv_exactly(c, n):
    d = b""
    while len(d) < n:
        more = c.recv(n - len(d))
        if not more:
            return None
        d += more
    return d


def tcp(portfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    publish(portfile, str(s.getsockname()[1]))
    c, _ = s.accept()
    d = recv_exactly(c, 64)
    time.sleep(0.3)
    c.sendall(d)
    d = recv_exactly(c, 64)
    c.sendall(d)
    while c.recv(4096):  # until the client's half-close
        pass
    c.sendall(b"Z")
    time.sleep(5)


def main():
    threading.Timer(30, lambda: os._exit(0)).start()
    {"udp": udp, "tcp": tcp}[sys.argv[1]](sys.argv[2])


if __name__ == "__main__":
    main()
