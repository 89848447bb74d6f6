#!/usr/bin/env python3
"""Start a program the way systemd's socket activation does: the sockets
given as FAMILY:TYPE:ADDRESS become fds 3, 4, ... with LISTEN_FDS and
LISTEN_PID (our own pid, which exec keeps). Writes the bound addresses to
PORTFILE first. ACTIVATE_BROADCAST=1 sets SO_BROADCAST on datagram sockets
(systemd's Broadcast=yes).  usage: activate.py PORTFILE SOCK... -- PROGRAM ARGS..."""
import os
import socket
import sys

sep = sys.argv.index("--")
portfile, specs, prog = sys.argv[1], sys.argv[2:sep], sys.argv[sep + 1:]
fams = {"IPv4": socket.AF_INET, "IPv6": socket.AF_INET6, "unix": socket.AF_UNIX}
types = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}
socks, lines = [], []
for spec in specs:
    fam, typ, addr = spec.split(":", 2)
    s = socket.socket(fams[fam], types[typ])
    if fam == "unix":
        s.bind(addr)
    else:
        s.bind((addr, 0))
    if typ == "stream":
        s.listen(64)
    elif os.environ.get("ACTIVATE_BROADCAST") == "1":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    socks.append(s)
    port = "-" if fam == "unix" else str(s.getsockname()[1])
    lines.append("%s %s %s %s\n" % (fam, typ, addr, port))
# Park them above the target range first: a socket may already sit on the
# fd another one must move to, and dup2 onto itself keeps close-on-exec.
high = [200 + i for i in range(len(socks))]
for s, h in zip(socks, high):
    os.dup2(s.fileno(), h)
for s in socks:
    s.close()
for i, h in enumerate(high):
    os.dup2(h, 3 + i, inheritable=True)
    os.close(h)
with open(portfile, "w") as f:
    f.writelines(lines)
os.environ["LISTEN_FDS"] = str(len(socks))
os.environ["LISTEN_PID"] = str(os.getpid())
os.execvp(prog[0], prog)
