#!/usr/bin/env python3
"""A DNS server that never answers: binds a UDP port on 127.0.0.1, writes
the port to PORTFILE, and appends the query name of every datagram it gets
to LOGFILE. Exits by itself after LIFETIME seconds."""
import socket
import sys
import time

port_file, log_file, lifetime = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
import os
os.rename(port_file + ".tmp", port_file)
end = time.monotonic() + lifetime
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        data, _ = s.recvfrom(4096)
    except socket.timeout:
        break
    labels, i = [], 12
    while i < len(data) and data[i] != 0:
        n = data[i]
        labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    with open(log_file, "a") as f:
        f.write(".".join(labels) + "\n")
