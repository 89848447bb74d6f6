#!/bin/sh
# Nobody takes over a running server's port. A second anyechod on the same
# TCP+UDP port (one thread or several) exits 1 with one line saying the
# address is in use, instead of starting and splitting the traffic; a
# socket of the same user asking for SO_REUSEPORT, or (as root) another
# user's socket asking for SO_REUSEADDR, cannot bind the UDP port.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are Python"
need ipv4 "TCP and UDP on 127.0.0.1"

start_server -l 127.0.0.1:0 --threads 2
P=$(port IPv4 stream)
[ "$(port IPv4 dgram)" = "$P" ] || hard "TCP and UDP got different ports: $(cat "$T/ports")"

for n in 1 2; do
	out=$(timeout 5 "$ANYECHOD" -l "127.0.0.1:$P" --threads $n 2>&1); rc=$?
	expect_eq "second server (--threads $n) exit status" "$rc" 1
	expect_in "second server (--threads $n) message" "$out" "127.0.0.1:$P: address already in use"
	expect_eq "second server (--threads $n) lines" "$(printf '%s\n' "$out" | wc -l)" 1
done

# bind_udp REUSE: bind a UDP socket to the server's port with that option.
bind_udp() {
	python3 - "$P" "$1" <<'PY'
import errno, socket, sys
p, opt = int(sys.argv[1]), getattr(socket, sys.argv[2])
for host in ("127.0.0.1", "0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, opt, 1)
    try:
        s.bind((host, p))
    except OSError as e:
        assert e.errno == errno.EADDRINUSE, e
        continue
    sys.exit("bound %s:%d with %s beside the server" % (host, p, sys.argv[2]))
PY
}
bind_udp SO_REUSEPORT || fail "same user, SO_REUSEPORT"
bind_udp SO_REUSEADDR || fail "same user, SO_REUSEADDR"

# Every datagram and connection still reaches the first server.
python3 - "$P" <<'PY' || fail "first server lost traffic"
import socket, sys
p = int(sys.argv[1])
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(5)
for i in range(50):
    d = b"dgram %d" % i
    u.sendto(d, ("127.0.0.1", p)); assert u.recv(100) == d, i
for i in range(20):
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    s.sendall(b"conn %d" % i); assert s.recv(100) == b"conn %d" % i, i
    s.close()
print("ok: 50 datagrams and 20 connections answered")
PY

# Another user's SO_REUSEADDR socket: needs a real root to become nobody.
py=
if part "another user" setuid; then
	as_nobody="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
	# A python nobody may run (a root-only pyenv shim may come first in PATH).
	for c in /usr/bin/python3 "$(command -v python3)"; do
		$as_nobody "$c" -c pass 2>/dev/null && { py=$c; break; }
	done
	[ -n "$py" ] || skip_part "another user" "no python3 that nobody can run"
fi
[ -z "$py" ] || $as_nobody "$py" - "$P" <<'PY' || fail "user nobody bound the server's UDP port"
import errno, socket, sys
p = int(sys.argv[1])
for host in ("127.0.0.1", "0.0.0.0"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, p))
    except OSError as e:
        assert e.errno == errno.EADDRINUSE, e
        continue
    sys.exit("nobody bound %s:%d with SO_REUSEADDR" % (host, p))
print("ok: nobody cannot bind the port")
PY
stop_server || fail "exit status $?"
echo ok
