#!/bin/sh
# A peer that reads slowly but steadily is neither idle nor stalled. The
# server hears about its progress only when the socket turns writable, and
# a send queue of megabytes drains for seconds before it does: it closed
# such a peer as idle (--idle-timeout 1s: after 1.2 s) and, once the budget
# was spent, as "read nothing for 3000 ms" while it read every 50 ms (both
# by reset: most of what was already written lost). It now asks the kernel
# (TCP_INFO: when it last sent new data, when the peer last acknowledged)
# before calling a connection quiet. A peer that reads nothing is still
# closed, and so is a truly quiet one. And a connection paused for the
# budget still hears its peer's reset.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is Python"
need ipv4 "TCP on 127.0.0.1"

# slow PORT SECONDS: send without pause, read 4 KiB every 50 ms for SECONDS;
# 0 if the connection lived and data came on every read.
slow() {
	bounded 60 python3 - "$@" <<'PY'
import socket, sys, threading, time
port, dur = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
def pump():
    try:
        while True:
            s.send(b"x" * 65536)
    except OSError:
        pass
threading.Thread(target=pump, daemon=True).start()
t0 = time.time()
got = 0
while time.time() - t0 < dur:
    time.sleep(0.05)
    try:
        c = s.recv(4096)
    except OSError as e:
        print("FAIL: %s at %.2f s, %d bytes read" % (e, time.time() - t0, got))
        sys.exit(1)
    if not c:
        print("FAIL: closed at %.2f s, %d bytes read" % (time.time() - t0, got))
        sys.exit(1)
    got += len(c)
print("ok: alive after %.1f s, %d bytes read" % (dur, got))
PY
}

# never PORT SECONDS: send, never read; 0 if the server closed it in time.
never() {
	bounded 60 python3 - "$@" <<'PY'
import socket, sys, time
port, dur = int(sys.argv[1]), float(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.setblocking(False)
t0 = time.time()
while time.time() - t0 < dur:
    try:
        s.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        print("ok: closed at %.1f s" % (time.time() - t0))
        sys.exit(0)
print("FAIL: a peer that never reads still open after %.1f s" % dur)
sys.exit(1)
PY
}

part "idle"
start_server -l 127.0.0.1:0 -t --threads 1 --idle-timeout 1s
P=$(port IPv4 stream)
slow "$P" 4 || fail "a slow reader was closed as idle"
stop_server

part "budget"
start_server -l 127.0.0.1:0 -t --threads 1 --max-owed 64K --stall-timeout 2s --idle-timeout 0
P=$(port IPv4 stream)
slow "$P" 6 || fail "a slow reader was closed as stalled"
# the budget is spent by the slow reader's queue; one that reads nothing
# goes within a few stall timeouts
never "$P" 20 || fail "a peer that never reads was not closed"
stop_server

# Paused connections (the budget spent) watch for their peer's reset: six
# that reset while paused must not hold the source's places (limit 10,
# four live) until the budget frees; they did, and three new connections
# from the source were refused (they are paused now, as the budget says).
part "paused, then reset"
start_server -l 127.0.0.1:0 -t --threads 1 --max-owed 64K --stall-timeout 60s \
	--max-conns-per-source 10 --idle-timeout 0
P=$(port IPv4 stream)
bounded 60 python3 - "$P" <<'PY' || fail "connections reset while paused kept their places"
import socket, struct, sys, threading, time
port = int(sys.argv[1])
hogs = []
for i in range(4):  # never read: the budget is spent
    h = socket.socket()
    h.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    h.connect(("127.0.0.1", port))
    def pump(h=h):
        try:
            while True:
                h.send(b"x" * 65536)
        except OSError:
            pass
    threading.Thread(target=pump, daemon=True).start()
    hogs.append(h)
time.sleep(1.5)
for i in range(6):  # paused, then reset
    c = socket.socket()
    c.connect(("127.0.0.1", port))
    c.send(b"y" * 60000)
    time.sleep(0.1)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
time.sleep(1.0)
# New ones are paused too (the budget is still spent: an echo would wait),
# but never refused: the server closing them at once is the refusal.
refused = 0
news = []
for i in range(3):
    c = socket.create_connection(("127.0.0.1", port))
    c.send(b"ping")
    news.append(c)
for c in news:
    c.settimeout(1)
    try:
        refused += c.recv(10) == b""
    except socket.timeout:
        pass
    except OSError:
        refused += 1
print("%s: %d of 3 new connections refused (4 live, limit 10)" %
      ("ok" if refused == 0 else "FAIL", refused))
sys.exit(0 if refused == 0 else 1)
PY
stop_server
echo ok
