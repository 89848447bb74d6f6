#!/bin/sh
# Limits with several workers sharing one listener: --max-conns is never
# exceeded, however the connections race; out of file descriptors, the
# workers neither spin nor hang clients, and serve again once fds are back.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are Python"
need ipv4 "TCP and UDP on 127.0.0.1"

# held PORT N MAX: open N connections at once from 8 threads; at most MAX
# may echo, every other one is closed by the server.
held() {
	python3 - "$@" <<'PY'
import socket, sys, threading, time
p, n, mx = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks, lock = [], threading.Lock()
def opener(k):
    for _ in range(k):
        try:
            s = socket.create_connection(("127.0.0.1", p), timeout=5)
        except OSError:
            continue
        with lock: socks.append(s)
ts = [threading.Thread(target=opener, args=(n // 8,)) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
ok = 0
for s in socks:
    s.settimeout(3)
    try:
        s.sendall(b"x"); ok += s.recv(1) == b"x"
    except OSError:
        pass
assert ok <= mx, "%d connections echo with --max-conns %d" % (ok, mx)
assert ok > 0, "no connection echoes"
for s in socks: s.close()
print("ok: %d of %d echo (max %d)" % (ok, len(socks), mx))
PY
}

# The shim slows each new connection's setup by 30 ms, so that workers
# accepting at once all meet the limit check while it is still open.
build_shim
rm -f "$T/ports"
env $SHIM_ENV AE_SHIM_SLOW_NODELAY=30 "$ANYECHOD" -l 127.0.0.1:0 -t --threads 4 --max-conns 2 \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
P=$(port IPv4 stream)
for round in 1 2 3 4 5; do
	held "$P" 32 2 || fail "--max-conns exceeded (round $round)"
	# The server sees the closes and counts down.
	wait_for 10 sh -c "kill -USR1 $SRV_PID; sleep 0.1; tail -1 '$T/server.log' | grep -q 'open 0,'" ||
		fail "connections still counted open: $(tail -1 "$T/server.log")"
done
stop_server || fail "exit status $?"

# File descriptors: a limit of 64 for 4 workers, connections to 150.
rm -f "$T/ports"
(ulimit -n 64; exec "$ANYECHOD" -l 127.0.0.1:0 -t --threads 4 --max-conns 1000 \
	--port-file "$T/ports" 2>"$T/server.log") &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
python3 - "$(port IPv4 stream)" $SRV_PID <<'PY' || fail "fd exhaustion"
import socket, sys, time
p, pid = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])  # utime + stime, in clock ticks
for rnd in range(3):
    conns, closed = [], 0
    for i in range(150):
        try:
            conns.append(socket.create_connection(("127.0.0.1", p), timeout=5))
        except (ConnectionRefusedError, TimeoutError, socket.timeout):
            closed += 1
    for s in conns:
        s.settimeout(3)
        try:
            s.sendall(b"x"); b = s.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            b = b""
        except socket.timeout:
            sys.exit("round %d: a connection hangs neither served nor closed" % rnd)
        closed += b == b""
    assert closed > 0, "no connection was refused with 64 fds"
    c0 = cpu(); time.sleep(1.0); used = cpu() - c0
    assert used < 30, "server used %d ticks of CPU in 1 s while out of fds" % used
    for s in conns: s.close()
    time.sleep(0.3)  # let the workers see the closes
    for i in range(10):
        s = socket.create_connection(("127.0.0.1", p), timeout=5)
        s.sendall(b"after"); assert s.recv(10) == b"after", "no echo after fds came back"
        s.close()
    print("round %d ok: %d of 150 refused, %d CPU ticks in 1 s, serving again" % (rnd, closed, used))
PY
stop_server || fail "exit status $?"
grep -q 'out of file descriptors' "$T/server.log" || fail "no log line about fds"
echo ok
