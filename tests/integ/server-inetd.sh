#!/bin/sh
# inetd mode. "stream nowait": the connection is standard input; echo it
# to the end and exit (run under socat, which hands over the accepted
# socket itself, and under openbsd-inetd when installed). "dgram wait": the
# bound socket is standard input; answer datagrams until idle, then exit.
. "$top_srcdir/tests/integ/lib.sh"
need ipv4 "the peers are on loopback"

if part "stream nowait" socat ss; then
	socat TCP-LISTEN:0,bind=127.0.0.1,reuseaddr EXEC:"$ANYECHOD --inetd",nofork 2>"$T/socat.log" &
	at_exit "kill $! 2>/dev/null"
	# socat does not print its port; find it by its pid.
	sp=$!
	wait_for 5 sh -c "ss -Htlnp 2>/dev/null | grep -q 'pid=$sp,'" ||
		hard "socat did not listen: $(cat "$T/socat.log")"
	P=$(ss -Htlnp | grep "pid=$sp," | awk '{print $4}' | sed 's/.*://')
	head -c 1048576 /dev/urandom >"$T/in"
	bounded 30 "$ANYECHO" --stdin 127.0.0.1 "$P" <"$T/in" >"$T/out" || fail "stream nowait: anyecho failed"
	cmp -s "$T/in" "$T/out" || fail "stream nowait: different bytes back"
	wait_for 5 sh -c "! kill -0 $sp 2>/dev/null" || fail "anyechod --inetd did not exit after the connection"
fi

# dgram wait: the UDP socket on stdin, exit after 500 ms without datagrams.
part "dgram wait" python3 || exit 0
bounded 60 python3 - "$ANYECHOD" <<'PY' || fail "dgram wait"
import os, socket, subprocess, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
p = subprocess.Popen([sys.argv[1], "--inetd", "--idle-timeout", "500ms"], stdin=u.fileno(),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(5)
for n in (0, 1, 1000, 60000):
    d = os.urandom(n); c.sendto(d, u.getsockname()); assert c.recv(65536) == d, n
t0 = time.monotonic(); rc = p.wait(timeout=10); el = time.monotonic() - t0
assert rc == 0, "exit status %d" % rc
assert 0.3 < el < 3, "exited %.2f s after the last datagram" % el
print("ok: dgram wait, exited %.2f s after the last datagram" % el)
PY

# stderr is the client too (inetd hands it the socket): an option's warning
# (a time rounded, an old spelling) came back inside the echo (review 7).
# It waits for syslog now; here no syslog may be there: it goes nowhere.
bounded 30 python3 - "$ANYECHOD" <<'PY' || fail "warnings under --inetd"
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.Popen([sys.argv[1], "--inetd", "--idle-timeout", "1.4ms", "--dns-timeout", "1500"],
                     stdin=a.fileno(), stdout=a.fileno(), stderr=a.fileno())
a.close()
b.settimeout(5)
b.sendall(b"hello\n")
b.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = b.recv(4096)
    if not d:
        break
    got += d
p.wait(10)
assert got == b"hello\n", "the client got %r" % got
print("ok: only the echo came back")
PY
echo ok
