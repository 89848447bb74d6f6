#!/usr/bin/env python3
"""Hostile echo servers for the client (tests/integ/client-hostile.sh).

    badserver.py MODE PORTFILE [UNIXPATH]

Listens on 127.0.0.1 port 0 (a stream socket, or a datagram socket for the
dgram-* modes; a unix path for "backlog"), writes the port to PORTFILE
(atomically), serves every client until killed, and exits by itself after
60 s so that a test that loses it never leaves it running.

Stream modes, each applied to every chunk received:
  corrupt   echo with byte 10 of the connection flipped
  lengthen  echo, then one byte more
  double    echo twice
  stream    echo the first chunk, then send bytes without end
  trickle   echo one byte a second, then keep trickling bytes after the echo
  silent    read and discard, never answer
  late MS   echo each chunk MS milliseconds after it came
  noeof     echo, but never close: the end of input is ignored
  slow      echo each chunk after 300 ms
  echoclose echo the first chunk, then close (input still to come)
  echoreset echo the first chunk, then reset the connection (SO_LINGER 0)
  short     echo one byte behind: the last byte received is held back
  shortclose  echo the first chunk but its last byte, then close
  backlog   a unix stream socket whose listen queue is full (never accepts)
  blackhole N  TCP listeners on 127.0.0.1 to 127.0.0.N, one port, queues
            full: a connect there is never answered (SYNs are dropped)
Unix seqpacket modes (PATH as the third argument), for each record received:
  seq-split PATH     echo it as two records, each half of it
  seq-empty PATH     send an empty record, then the echo
  seq-longer PATH    echo it with one byte more in the same record
  seq-extra PATH     echo it, then send a record of one byte
Datagram modes:
  dgram-reorder  hold each batch of 3 datagrams, answer them newest first
  dgram-other    answer every datagram from another socket (another port)
  dgram-otherfirst  the same, then 10 ms later from the socket probed
  dgram-silent   read every datagram, answer none
  dgram-late MS  answer every datagram MS milliseconds after it came
  dgram-drop N   answer every datagram but the Nth
  dgram-dupdrop N  answer every datagram but the Nth, each answer again 1 s later
  dgram-lateshort MS  answer MS ms late with the first 8 bytes only (the header)
  dgram-lateflip MS   answer MS ms late with every byte after the 8th inverted
  dgram-dupflip  answer at once, then 200 ms later again with bytes after the 8th inverted
  dgram-cap N    answer with the first N bytes only
  dgram-short    answer with every byte but the last
"""
import errno
import os
import socket
import struct
import sys
import threading
import time


def publish(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def sendall(c, data):
    try:
        c.sendall(data)
        return True
    except OSError:
        return False


def serve_stream(mode, c, portfile):
    c.settimeout(60)
    offset = 0
    first = True
    held = b""
    while True:
        try:
            d = c.recv(65536)
        except OSError:
            return
        if not d:
            if mode == "noeof":
                time.sleep(60)
            return
        if mode == "silent":
            continue
        if mode == "slow":
            time.sleep(0.3)
        if mode == "late":
            time.sleep(int(sys.argv[3]) / 1000.0)
        if mode == "corrupt":
            b = bytearray(d)
            if offset <= 10 < offset + len(b):
                b[10 - offset] ^= 0xFF
            d = bytes(b)
        offset += len(d)
        if mode == "lengthen":
            d += b"+"
        elif mode == "double":
            d += d
        if mode == "trickle":
            for i in range(len(d)):
                if not sendall(c, d[i:i + 1]):
                    return
                time.sleep(1)
            while sendall(c, b"."):
                time.sleep(1)
            return
        if mode == "short":
            d, held = (held + d)[:-1], d[-1:]
        if mode == "shortclose":
            sendall(c, d[:-1])
            c.close()
            return
        if not sendall(c, d):
            return
        if mode == "echoclose":
            c.close()
            return
        if mode == "echoreset":
            time.sleep(0.2)  # the echo is in the client's queue: the reset comes after it
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()
            return
        if mode == "stream" and first:
            time.sleep(0.2)
            while sendall(c, b"z" * 65536):
                pass
            return
        first = False


def stream_server(mode, portfile):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    publish(portfile, str(s.getsockname()[1]))
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_stream, args=(mode, c, portfile), daemon=True).start()


def backlog_server(portfile, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(0)
    held = []
    # Fill the queue: connect until a non-blocking connect would block.
    while len(held) < 64:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(path)
        except BlockingIOError:
            c.close()
            break
        held.append(c)
    publish(portfile, "%d" % len(held))
    time.sleep(60)


def listen_all(n):
    """Listeners on 127.0.0.1 to 127.0.0.n at one port (the first one's:
    another test may hold it on another address, then take a new one)."""
    for attempt in range(50):
        held, port = [], 0
        try:
            for i in range(1, n + 1):
                s = socket.socket()
                held.append(s)
                s.bind(("127.0.0.%d" % i, port))
                port = s.getsockname()[1]
                s.listen(0)
            return held, port
        except OSError as e:
            for s in held:
                s.close()
            if e.errno != errno.EADDRINUSE or attempt == 49:
                raise


def blackhole_server(portfile, n):
    listeners, port = listen_all(int(n))
    held = list(listeners)
    for i, s in enumerate(listeners, 1):
        for _ in range(3):  # fill the accept queue, then a little more
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.%d" % i, port))
            except BlockingIOError:
                pass
            held.append(c)
    time.sleep(0.5)  # let the handshakes settle into the full queues
    publish(portfile, str(port))
    time.sleep(60)


def flipped(d):
    return d[:8] + bytes(b ^ 0xFF for b in d[8:])


def serve_records(mode, c):
    c.settimeout(60)
    while True:
        try:
            d = c.recv(1 << 20)
            if not d:
                return
            if mode == "seq-split":
                c.send(d[:len(d) // 2])
                c.send(d[len(d) // 2:])
            elif mode == "seq-empty":
                c.send(b"")
                c.send(d)
            elif mode == "seq-longer":
                c.send(d + b"+")
            elif mode == "seq-extra":
                c.send(d)
                c.send(b"+")
        except OSError:
            return


def seqpacket_server(mode, portfile, path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.listen(16)
    publish(portfile, "ready")
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_records, args=(mode, c), daemon=True).start()


def dgram_server(mode, portfile):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    publish(portfile, str(u.getsockname()[1]))
    batch = []
    n = 0
    while True:
        d, peer = u.recvfrom(65536)
        n += 1
        if mode == "dgram-silent":
            continue
        if mode in ("dgram-late", "dgram-lateshort", "dgram-lateflip"):
            if mode == "dgram-lateshort":
                d = d[:8]
            elif mode == "dgram-lateflip":
                d = flipped(d)
            threading.Timer(int(sys.argv[3]) / 1000.0, u.sendto, (d, peer)).start()
            continue
        if mode == "dgram-dupflip":
            u.sendto(d, peer)
            threading.Timer(0.2, u.sendto, (flipped(d), peer)).start()
            continue
        if mode == "dgram-drop":
            if n != int(sys.argv[3]):
                u.sendto(d, peer)
            continue
        if mode == "dgram-dupdrop":
            if n != int(sys.argv[3]):
                u.sendto(d, peer)
                threading.Timer(1.0, u.sendto, (d, peer)).start()
            continue
        if mode == "dgram-other":
            other.sendto(d, peer)
            continue
        if mode in ("dgram-cap", "dgram-short"):
            u.sendto(d[:int(sys.argv[3])] if mode == "dgram-cap" else d[:-1], peer)
            continue
        if mode == "dgram-otherfirst":
            other.sendto(d, peer)
            threading.Timer(0.01, u.sendto, (d, peer)).start()
            continue
        batch.append((d, peer))
        if len(batch) == 3:
            for d, peer in reversed(batch):
                u.sendto(d, peer)
            batch = []


def main():
    mode, portfile = sys.argv[1], sys.argv[2]
    threading.Timer(60, lambda: os._exit(0)).start()
    if mode.startswith("dgram-"):
        dgram_server(mode, portfile)
    elif mode.startswith("seq-"):
        seqpacket_server(mode, portfile, sys.argv[3])
    elif mode == "blackhole":
        blackhole_server(portfile, sys.argv[3])
    elif mode == "backlog":
        backlog_server(portfile, sys.argv[3])
    else:
        stream_server(mode, portfile)


if __name__ == "__main__":
    main()
