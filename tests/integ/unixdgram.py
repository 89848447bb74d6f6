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
Ends by itself after 30 s."""
import os
import socket
import sys
import threading


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
