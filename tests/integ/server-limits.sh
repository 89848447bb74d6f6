#!/bin/sh
# Idle timeout closes quiet connections on time (0.5ms too: it is 1 ms,
# not 0 = never); --max-conns closes the
# connection over the limit at once while the others keep working; running
# out of file descriptors neither hangs clients nor spins the CPU.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are python3 scripts"
need ipv4

start_server -l 127.0.0.1:0 -t --idle-timeout 400ms --max-conns 3 --threads 1
P=$(port IPv4 stream)
$PEER closed_within IPv4 127.0.0.1 $P 300 1500 || fail "idle timeout"

# Activity keeps a connection: A talks every 100 ms, B is silent; B is
# closed after the 400 ms idle timeout while A, older, stays open.
bounded 120 python3 - "$P" <<'PY' || fail "idle timeout with an active neighbour"
import socket, sys, time
p = int(sys.argv[1])
a = socket.create_connection(("127.0.0.1", p), timeout=5)
b = socket.create_connection(("127.0.0.1", p), timeout=5)
b.setblocking(False)
t0, closed_at = time.monotonic(), None
while time.monotonic() - t0 < 1.2:
    a.sendall(b"ping"); assert a.recv(10) == b"ping", "A lost its echo"
    if closed_at is None:
        try:
            if b.recv(1) == b"":
                closed_at = time.monotonic() - t0
        except BlockingIOError:
            pass
    time.sleep(0.1)  # the pace of A's activity, not a wait for a result
assert closed_at is not None, "silent B was never closed"
assert 0.3 <= closed_at <= 1.0, "B closed after %.0f ms" % (closed_at * 1000)
# End A and see the server end it, so it no longer counts for --max-conns.
a.shutdown(socket.SHUT_WR); assert a.recv(10) == b""
print("ok: B closed after %.0f ms, A still echoes after 1200 ms" % (closed_at * 1000))
PY

# Three held open (each still echoes), the fourth is closed at once.
bounded 120 python3 - "$P" <<'PY' || fail "max-conns"
import socket, sys, time
p = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", p), timeout=5) for _ in range(3)]
extra = socket.create_connection(("127.0.0.1", p), timeout=5)
t0 = time.monotonic()
try:
    b = extra.recv(1)
except ConnectionResetError:
    b = b""
assert b == b"", "over-limit connection got data"
el = (time.monotonic() - t0) * 1000
assert el < 300, "over-limit connection closed after %d ms" % el
for s in held:
    s.sendall(b"still here"); assert s.recv(100) == b"still here"
print("ok: fourth closed in %d ms, three still echo" % el)
PY
stop_server || fail "exit status $?"

# A time under 1 ms is 1 ms, not 0 (which --idle-timeout reads as never):
# a quiet connection is closed at once, not left open.
start_server -l 127.0.0.1:0 -t --idle-timeout 0.5ms --threads 1
$PEER closed_within IPv4 127.0.0.1 "$(port IPv4 stream)" 0 1500 || fail "--idle-timeout 0.5ms"
stop_server || fail "exit status $?"

# File descriptors: a limit of 48, connections to 100.
rm -f "$T/ports"
(ulimit -n 48; exec "$ANYECHOD" -l 127.0.0.1:0 -t --threads 1 --max-conns 1000 \
	--port-file "$T/ports" 2>"$T/server.log") &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start"
bounded 120 python3 - "$(port IPv4 stream)" $SRV_PID <<'PY' || fail "fd exhaustion"
import socket, sys, time
p, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime, in clock ticks
conns, closed = [], 0
for i in range(100):
    try:
        conns.append(socket.create_connection(("127.0.0.1", p), timeout=5))
    except ConnectionRefusedError:
        closed += 1  # a full accept queue answered at once: no hang either
# The ones past the limit are closed by the server, not left to hang.
for s in conns:
    s.settimeout(2)
    try:
        s.sendall(b"x")
        b = s.recv(1)
    except (ConnectionResetError, BrokenPipeError):
        b = b""
    closed += b == b""
assert closed > 0, "no connection was refused with 48 fds"
c0 = cpu(); time.sleep(1.0); used = cpu() - c0
assert used < 30, "server used %d ticks of CPU in 1 s while out of fds" % used
for s in conns: s.close()
# No wait needed: a connect made during an accept pause waits in the backlog.
s = socket.create_connection(("127.0.0.1", p), timeout=5)
s.sendall(b"after"); assert s.recv(10) == b"after", "no echo after fds came back"
print("ok: %d of 100 refused, %d CPU ticks in 1 s, serving again" % (closed, used))
PY
stop_server || fail "exit status $?"
grep -q 'out of file descriptors' "$T/server.log" || fail "no log line about fds"
echo ok
