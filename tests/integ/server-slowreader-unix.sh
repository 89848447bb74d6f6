#!/bin/sh
# A unix stream peer that reads slowly but steadily is neither stalled nor
# idle. Before closing a quiet connection the server asked the kernel
# whether its send queue had shrunk (SIOCOUTQ), which on a unix socket
# happens only when the peer has read a whole buffer of the kernel's (one
# send, up to 64 KiB): a peer reading 512 bytes every 50 ms (10 KB/s,
# seconds per buffer) was closed as stalled (--stall-timeout 1s) or idle
# (--idle-timeout 1s) while it read. The server now asks sock_diag what
# the peer has yet to read, to the byte. A peer that reads nothing is
# still closed, within a few timeouts, next to the slow one. And a slow
# reader owed nothing (the echo all in the kernel's queue) had no look to
# compare with at all: it was closed as idle at the first. Where sock_diag
# cannot see the peer (another network namespace), the fallback (SIOCOUTQ)
# still keeps a 4 KiB-per-50-ms reader and closes one that reads nothing.
# With both a budget and an idle timeout, the two checks share one look.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are Python"

# slow PATH SECONDS [BYTES]: send without pause, read BYTES (512) every 50 ms
# for SECONDS; 0 if the connection lived (sending never failed: a closed unix
# socket's queue can still be read for seconds) and data came on every read.
slow() {
	bounded 60 ${NS:-} python3 - "$@" <<'PY'
import socket, sys, threading, time
path, dur = sys.argv[1], float(sys.argv[2])
size = int(sys.argv[3]) if len(sys.argv) > 3 else 512
s = socket.socket(socket.AF_UNIX)
s.connect(path)
closed = []
def pump():
    try:
        while True:
            s.send(b"x" * 65536)
    except OSError as e:
        closed.append("%s at %.2f s" % (e, time.time() - t0))
t0 = time.time()
threading.Thread(target=pump, daemon=True).start()
got = 0
while time.time() - t0 < dur:
    time.sleep(0.05)
    if closed:  # what was queued could still be read for seconds
        print("FAIL: slow reader closed (send: %s), %d bytes read" % (closed[0], got))
        sys.exit(1)
    try:
        c = s.recv(size)
    except OSError as e:
        print("FAIL: slow reader: %s at %.2f s, %d bytes read" % (e, time.time() - t0, got))
        sys.exit(1)
    if not c:
        print("FAIL: slow reader closed at %.2f s, %d bytes read" % (time.time() - t0, got))
        sys.exit(1)
    got += len(c)
print("ok: slow reader alive after %.1f s, %d bytes read" % (dur, got))
PY
}

# never PATH SECONDS: send, never read; 0 if the server closed it in time.
never() {
	bounded 60 ${NS:-} python3 - "$@" <<'PY'
import socket, sys, time
path, dur = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.setblocking(False)
t0 = time.time()
while time.time() - t0 < dur:
    try:
        s.send(b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        print("ok: a peer that never reads closed at %.1f s" % (time.time() - t0))
        sys.exit(0)
print("FAIL: a peer that never reads still open after %.1f s" % dur)
sys.exit(1)
PY
}

# both SECONDS WHAT [BYTES]: a slow reader for SECONDS and, beside it, a peer
# that never reads (given 15 s: it is expected within about two timeouts).
both() {
	slow "$T/s" "$1" ${3:-} >"$T/slow.out" 2>&1 &
	_slow=$!
	at_exit "kill $_slow 2>/dev/null"
	sleep 0.5 # the slow reader first: it spends the budget
	never "$T/s" 15 || fail "$2: a peer that never reads was not closed"
	wait $_slow || { cat "$T/slow.out"; fail "$2: a slow reader was closed"; }
	cat "$T/slow.out"
}

part "budget"
start_server -l "unix-stream:$T/s" -t --threads 1 --max-owed 64K --stall-timeout 1s \
	--idle-timeout 0
both 5 "budget"
kill -USR1 "$SRV_PID"
wait_for 10 grep -q "stall-closed" "$T/server.log" || hard "no counters on SIGUSR1"
grep -q "stall-closed 1)" "$T/server.log" ||
	fail "budget: only the peer that never read is stalled: $(grep stall-closed "$T/server.log")"
stop_server

part "idle"
start_server -l "unix-stream:$T/s" -t --threads 1 --idle-timeout 1s
both 4 "idle"
stop_server

# Both at once: the stall check and the idle sweep looked at one reader in
# turn, milliseconds apart, and the second saw no progress since the first:
# closed as idle at 1 s while it read (outside review).
part "budget and idle"
start_server -l "unix-stream:$T/s" -t --threads 1 --max-owed 64K --stall-timeout 1s \
	--idle-timeout 1s
both 5 "budget and idle"
stop_server
start_server -l "unix-stream:$T/s" -t --threads 1 --idle-timeout 1s

# Owing nothing (everything echoed fits the kernel's queue), sending nothing:
# only the peer's reading says it is there. It was closed as idle at 1 s,
# with a third of the echo unread; once it has read it all, it is idle.
bounded 60 python3 - "$T/s" <<'PY' || fail "idle: a slow reader owed nothing was closed"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"x" * 30000)
t0 = time.time()
got = 0
def gone():  # a closed unix socket's queue can still be read: ask send
    try:
        s.send(b"")
        return False
    except OSError:
        return True
while got < 30000:
    time.sleep(0.05)
    if gone():
        print("FAIL: closed at %.2f s, %d of 30000 bytes read" % (time.time() - t0, got))
        sys.exit(1)
    got += len(s.recv(512))
t1 = time.time()
while not gone():
    if time.time() - t1 > 10:
        print("FAIL: still open 10 s after it stopped reading")
        sys.exit(1)
    time.sleep(0.05)
print("ok: read 30000 bytes in %.1f s, then closed as idle after %.1f s" %
      (t1 - t0, time.time() - t1))
PY
stop_server

# With the peer in another network namespace, sock_diag cannot find it:
# the server falls back to its own send queue shrinking, which a peer
# reading 4 KiB every 50 ms (a kernel buffer every half second) shows.
if part "fallback: the peers in another network namespace" netns; then
	ip netns add "aeslow$$" || hard "ip netns add failed"
	at_exit "ip netns del aeslow$$ 2>/dev/null"
	start_server -l "unix-stream:$T/s" -t --threads 1 --max-owed 64K --stall-timeout 2s \
		--idle-timeout 0
	NS="ip netns exec aeslow$$"
	both 5 "fallback" 4096
	NS=
	stop_server
fi
echo ok
