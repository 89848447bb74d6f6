#!/usr/bin/env python3
"""An honest echo server on a long path, for client-interrupt.sh.
Usage: delayserver.py udp|tcp PORTFILE DELAY. Listens on 127.0.0.1,
port 0, writes the port to PORTFILE, and sends every echo back intact
DELAY seconds after its data came. Ends by itself after 30 s."""
import os
import socket
import sys
import threading
import time


def publish(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text + "\n")
    os.rename(path + ".tmp", path)


def udp(portfile, delay):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    publish(portfile, str(u.getsockname()[1]))
    while True:
        data, peer = u.recvfrom(70000)
        t = threading.Timer(delay, u.sendto, (data, peer))
        t.daemon = True
        t.start()


def serve(c, delay):
    while True:
        data = c.recv(65536)
        if not data:
            break
        time.sleep(delay)
        c.sendall(data)
    c.close()


def tcp(portfile, delay):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    publish(portfile, str(s.getsockname()[1]))
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c, delay), daemon=True).start()


def main():
    mode, portfile, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    threading.Timer(30, os._exit, (0,)).start()
    (udp if mode == "udp" else tcp)(portfile, delay)


main()
