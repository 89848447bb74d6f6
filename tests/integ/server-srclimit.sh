#!/bin/sh
# --max-conns-per-source: the connection over the limit from one source
# address is closed at once, while another source (127.0.0.2, and ::1
# where there is IPv6) still connects and echoes; a closed connection gives
# its place back; SIGUSR1 counts the refusals. Two workers: the count is
# shared between them.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are Python"
need ipv4 "TCP and UDP on 127.0.0.1"

v6=
have_ipv6 && v6="-l [::1]:0"
start_server -l 127.0.0.1:0 $v6 -t --threads 2 --max-conns-per-source 4
P6=$(port IPv6 stream)
python3 - "$(port IPv4 stream)" "${P6:-0}" <<'PY' || fail "per-source limit"
import socket, sys, time
p, p6 = int(sys.argv[1]), int(sys.argv[2])

def conn(src, dst=("127.0.0.1", p), fam=socket.AF_INET):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(dst)
    return s

def echoes(s, what):
    s.sendall(what)
    return s.recv(100) == what

def refused(s):
    t0 = time.monotonic()
    try:
        s.sendall(b"x")
        b = s.recv(1)
    except (ConnectionResetError, BrokenPipeError):
        b = b""
    return b == b"" and time.monotonic() - t0 < 2

held = [conn("127.0.0.1") for _ in range(4)]
for s in held:
    assert echoes(s, b"held"), "a connection under the limit did not echo"
assert refused(conn("127.0.0.1")), "fifth connection from 127.0.0.1 not closed at once"
other = [conn("127.0.0.2") for _ in range(4)]
for s in other:
    assert echoes(s, b"other source"), "127.0.0.2 refused for 127.0.0.1's count"
if p6:
    s6 = [conn("::1", ("::1", p6), socket.AF_INET6) for _ in range(4)]
    for s in s6:
        assert echoes(s, b"v6"), "::1 refused for the IPv4 sources' count"
# A closed connection gives its place back once the server has seen it go.
held.pop().close()
deadline = time.monotonic() + 5
while True:
    s = conn("127.0.0.1")
    try:
        if echoes(s, b"again"):
            break
    except (ConnectionResetError, BrokenPipeError):
        pass
    assert time.monotonic() < deadline, "place not given back after a close"
    time.sleep(0.05)
print("ok: fifth refused, other sources served, place given back")
PY
kill -USR1 $SRV_PID
wait_for 5 grep -q 'source-refused [1-9]' "$T/server.log" ||
	fail "no per-source refusal counted: $(grep connections "$T/server.log")"
grep -q 'per-source limit (4)' "$T/server.log" || fail "no log line about the per-source limit"
stop_server || fail "exit status $?"
echo ok
