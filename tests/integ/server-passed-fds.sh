#!/bin/sh
# Descriptors a unix datagram client attaches (SCM_RIGHTS) are never taken
# in: the kernel installs into the receiver whatever the control buffer has
# room for, so a server that offered one there and never closed what came
# was out of descriptors after 30 datagrams of 14 fds each, and then
# refused every client of every protocol. The bytes are still echoed; on a
# unix stream too.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is Python"

"$ANYECHOD" -q --threads 1 -l "unix-dgram:$T/s" -l "unix-stream:$T/st" --port-file "$T/ports" \
	2>"$T/server.log" &
SRV_PID=$!
at_exit "kill $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
before=$(ls /proc/$SRV_PID/fd | wc -l)
bounded 30 python3 - "$T" <<'PY' || fail "datagrams carrying descriptors not echoed"
import array, os, socket, sys
d = sys.argv[1]
c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
c.bind(d + "/c")
c.settimeout(5)
fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(14)]
for i in range(30):
    msg = b"with fds %d" % i
    c.sendmsg([msg], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))], 0,
              d + "/s")
    got = c.recv(100)
    if got != msg:
        print("FAIL: sent %r, got %r" % (msg, got))
        sys.exit(1)
print("ok: 30 datagrams carrying 14 descriptors each echoed")
PY
# On a stream a read stops after the bytes that carried descriptors, with
# the rest still queued: they must be echoed without the client sending
# more (an edge-triggered loop that took the short read for an empty queue
# would strand them).
bounded 30 python3 - "$T" <<'PY' || fail "stream bytes behind passed descriptors not echoed"
import array, os, socket, sys
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.connect(sys.argv[1] + "/st")
fds = array.array("i", [os.open("/dev/null", os.O_RDONLY) for _ in range(14)])
for i in range(30):
    c.sendmsg([b"abc"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
    c.sendall(b"def")
c.settimeout(5)
want, got = b"abcdef" * 30, b""
try:
    while len(got) < len(want):
        d = c.recv(4096)
        if not d:
            break
        got += d
except socket.timeout:
    pass
if got != want:
    print("FAIL: %d of %d bytes echoed" % (len(got), len(want)))
    sys.exit(1)
print("ok: stream bytes behind descriptors echoed")
PY
after=$(ls /proc/$SRV_PID/fd | wc -l)
echo "server descriptors: $before before, $after after"
[ "$after" -le $((before + 1)) ] || fail "the server kept passed descriptors: $before -> $after"
echo ok
