#!/bin/sh
# Connections the --max-owed budget pauses (review 8, F5 and F9). In a
# network namespace of the test's own with small TCP buffers, so that the
# server, not the kernel, holds what peers do not read.
# - paused-not-idle: slow readers hold the budget; a client that sends
#   steadily is paused by it. The server is the one not reading: the idle
#   sweep must not close that client, and once the budget frees, every
#   byte it sent comes back.
# - small-records: with --buffer-size 512, one TCP peer owing 512 bytes
#   must not stop the echo of small seqpacket records (each asked the
#   budget for 64 KiB, the largest record, and paused).
# - big-records: a record larger than --buffer-size paused for the budget
#   while it still has room for a full buffer: the stall closer must free
#   the budget for it (it acted only without room for --buffer-size).
. "$top_srcdir/tests/integ/lib.sh"
need netns
need ip "Debian package iproute2"
need python3
need sysctl "Debian package procps"

NS=aebp$$
ip netns add $NS 2>/dev/null || skip "cannot create network namespaces here"
at_exit "ip netns del $NS 2>/dev/null"
ip -n $NS link set lo up || hard "loopback in the namespace"
ip netns exec $NS sysctl -q -w net.ipv4.tcp_wmem="4096 16384 65536" \
	net.ipv4.tcp_rmem="4096 65536 65536" || hard "TCP buffer sizes in the namespace"
nsx() { ip netns exec $NS "$@"; }

# nsserver ARGS...: anyechod in the namespace (ip netns exec execs: $! is
# the server itself). Sets SRV_PID, P (its TCP port).
nsserver() {
	rm -f "$T/ports"
	ip netns exec $NS "$ANYECHOD" -t -l 127.0.0.1:0 --threads 1 --port-file "$T/ports" "$@" \
		2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
	P=$(port IPv4 stream)
}
# usr1: the server's counts, from a stats line newer than the signal
# (waited for, 10 s at most: a loaded machine may take a while).
stats_n() { grep -c '^anyechod: connections' "$T/server.log"; }
stats_after() { [ "$(stats_n)" -gt "$1" ]; }
usr1() {
	_n=$(stats_n)
	kill -USR1 $SRV_PID
	wait_for 10 stats_after "$_n"
	grep '^anyechod: connections' "$T/server.log" | tail -1
}
owed_is() { usr1 | grep -q "owed $1 of"; }

echo "== part paused-not-idle"
cat >"$T/pause.py" <<'PY'
# PORT N SECS: N slow readers send 1 MiB each and read 2 KiB every 200 ms
# (neither stalled nor idle); then B sends 100 bytes every 100 ms for SECS,
# reading what comes back. B must stay open; once the slow readers are
# gone, B must get everything back within 20 s.
import socket, sys, threading, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
stop = threading.Event()
def slow():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    blob = b"s" * (1 << 20)
    while not stop.is_set():
        for op in (lambda: s.send(blob), lambda: s.recv(2048)):
            try:
                op()
            except BlockingIOError:
                pass
            except OSError:
                return
        time.sleep(0.2)
    s.close()
ts = [threading.Thread(target=slow, daemon=True) for _ in range(n)]
for t in ts:
    t.start()
time.sleep(1.5)
b = socket.create_connection(("127.0.0.1", port), timeout=10)
b.setblocking(False)
sent = got = 0
def take():
    global got
    while True:
        try:
            d = b.recv(65536)
        except BlockingIOError:
            return
        if not d:
            raise ConnectionError("closed by the server")
        got += len(d)
t0 = time.monotonic()
try:
    while time.monotonic() - t0 < secs:
        b.send(b"B" * 100)
        sent += 100
        take()
        time.sleep(0.1)
except OSError as e:
    sys.exit("B: %r after %.1f s, %d sent, %d echoed" % (e, time.monotonic() - t0, sent, got))
print("B: %d sent, %d echoed while the budget was held" % (sent, got))
stop.set()
for t in ts:
    t.join(10)
b.settimeout(20)
try:
    while got < sent:
        d = b.recv(65536)
        if not d:
            break
        got += len(d)
except OSError as e:
    sys.exit("B after the slow readers left: %r, %d sent, %d echoed" % (e, sent, got))
if got != sent:
    sys.exit("B: %d sent, %d echoed" % (sent, got))
print("ok: B got all %d bytes back" % got)
PY
nsserver --max-owed 64K --buffer-size 16K --idle-timeout 2s --stall-timeout 60s
nsx timeout 60 python3 "$T/pause.py" $P 8 6 >"$T/pause.out" 2>&1 ||
	fail "a client paused by the budget: $(cat "$T/pause.out"); $(usr1)"
cat "$T/pause.out"
c=$(usr1)
expect_in "the client was paused (else this part proves nothing)" "$c" "budget-paused "
case $c in *"budget-paused 0,"*) fail "nobody was paused: $c" ;; esac
stop_server || fail "exit status $?"

# From here on the server's send buffers are fixed small: what a peer
# that does not read leaves the server holding settles at once, not as the
# kernel's buffers grow (a loaded machine saw 51200 bytes owed by 100 hogs
# drop to 0). Not above: there, the slow readers' bigger kernel buffers are
# what keeps the budget spent for seconds.
nsx sysctl -q -w net.ipv4.tcp_wmem="4096 4096 4096" || hard "TCP send buffer size in the namespace"

# hogs N: N TCP peers that write and never read; $HOG_PID.
hogs() {
	rm -f "$T/hog.stop"
	nsx timeout 120 python3 "$PEER_PY" hog 127.0.0.1 $P "$1" 1048576 127.0.0.1 "$T/hog" \
		>"$T/hog.out" 2>&1 &
	HOG_PID=$!
	at_exit "touch $T/hog.stop"
}

echo "== part small-records"
nsserver -l "unix-seqpacket:$T/sp" --buffer-size 512 --max-owed 64K --stall-timeout 60s
$PEER records unix "$T/sp" 56,1000 >/dev/null || fail "records before any hog"
hogs 1
wait_for 20 owed_is 512 || fail "the hog owes nothing: $(usr1)"
# The reply's own time bound (10 s) is well within the stall timeout: the
# stall closer does not come into it.
$PEER records unix "$T/sp" 56,512,0,56 || fail "small records while one peer owes 512 bytes: $(usr1)"
touch "$T/hog.stop"
wait $HOG_PID || fail "hog: $(cat "$T/hog.out")"
stop_server || fail "exit status $?"

echo "== part big-records"
nsserver -l "unix-seqpacket:$T/sp" --buffer-size 512 --max-owed 64K --stall-timeout 1s
# 100 x 512 owed: room for a full buffer (512), not for a 16 KiB record.
hogs 100
wait_for 30 owed_is 51200 || fail "the hogs do not owe 51200 bytes: $(usr1); $(cat "$T/hog")"
sleep 1
wait_for 10 owed_is 51200 || fail "the hogs' debt did not settle at 51200 bytes: $(usr1); $(cat "$T/hog")"
$PEER records unix "$T/sp" 16384 || fail "a 16 KiB record while 100 stalled peers owe 51200 bytes: $(usr1)"
c=$(usr1)
case $c in *"stall-closed 0)"*) fail "no stalled peer closed: $c" ;; esac
touch "$T/hog.stop"
wait $HOG_PID || fail "hog: $(cat "$T/hog.out")"
stop_server || fail "exit status $?"
echo "ok"
