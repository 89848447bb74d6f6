#!/bin/sh
# Process-level behaviour: --inetd on a datagram socket with --idle-timeout 0
# serves on (0 means never); a failed event loop makes the exit status 1;
# a connection refused for want of memory is logged as such;
# running out of fds while starting many workers never closes fd 0 (under
# --inetd the client's socket); under systemd (JOURNAL_STREAM naming our
# stderr) each log line carries its sd-daemon <priority> prefix; DNS that
# does not answer at start is a temporary failure (75), not a usage error;
# the default --threads is one loop per CPU the process may run on.
. "$top_srcdir/tests/integ/lib.sh"
need python3

if part "DNS timeout at start" ipv4; then
	python3 "$top_srcdir/tests/integ/silentdns.py" "$T/dnsport" "$T/queries" 60 &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/dnsport" || hard "silent DNS server did not start"
	out=$(timeout 20 "$ANYECHOD" -l slow.test:0 --dns-server "127.0.0.1:$(cat "$T/dnsport")" \
		--dns-timeout 500 2>&1); rc=$?
	expect_eq "DNS timeout: exit status" "$rc" 75
	expect_in "DNS timeout: message" "$out" "did not answer within"
fi

part "start-up refusals, fd 0, journal priorities"
out=$(timeout 20 "$ANYECHOD" -l 'host:70000' 2>&1); rc=$?
expect_eq "bad endpoint: exit status" "$rc" 2

if part "inetd datagram, --idle-timeout 0" ipv4; then
	python3 - "$ANYECHOD" <<'PY' || fail "inetd dgram with --idle-timeout 0"
import socket, subprocess, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0))
p = subprocess.Popen([sys.argv[1], "--inetd", "--idle-timeout", "0"], stdin=u.fileno(),
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(5)
    c.sendto(b"one", u.getsockname()); assert c.recv(100) == b"one"
    time.sleep(0.5)
    assert p.poll() is None, "exited (status %s) after the first datagram" % p.returncode
    c.sendto(b"two", u.getsockname()); assert c.recv(100) == b"two"
    print("ok: still serving after 500 ms")
finally:
    p.kill(); p.wait(timeout=10)
PY
fi

build_shim

if part "loop failure" ipv4; then
	# The loop fails (the shim makes epoll_wait and poll fail once the flag file
	# exists; a datagram wakes the loop up to see it): exit status 1.
	for n in 1 2; do
		rm -f "$T/ports" "$T/failnow"
		env $SHIM_ENV AE_SHIM_FAIL_WAIT="$T/failnow" "$ANYECHOD" -l 127.0.0.1:0 -u --threads $n \
			--port-file "$T/ports" 2>"$T/server.log" &
		SRV_PID=$!
		at_exit "kill -9 $SRV_PID 2>/dev/null"
		wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
		touch "$T/failnow"
		python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20): s.sendto(b'wake', ('127.0.0.1', $(port IPv4 dgram)))"
		wait_for 10 sh -c "! kill -0 $SRV_PID 2>/dev/null" || fail "--threads $n: still running after its loop failed"
		wait "$SRV_PID"; rc=$?
		expect_eq "--threads $n: exit status after a loop failure" "$rc" 1
		grep -q 'event loop failed' "$T/server.log" || fail "no log line: $(cat "$T/server.log")"
	done
fi

if part "out of memory" ipv4; then
	# No memory for a new connection (the shim fails epoll_ctl's ADD): it is
	# closed, and the log says why, not "connection limit".
	rm -f "$T/ports" "$T/nomem"
	env $SHIM_ENV AE_SHIM_NOMEM_ADD="$T/nomem" "$ANYECHOD" -l 127.0.0.1:0 -t --threads 1 \
		--port-file "$T/ports" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
	touch "$T/nomem"
	python3 - "$(port IPv4 stream)" <<'PY' || fail "connection without memory"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
try:
    s.sendall(b"x"); b = s.recv(1)
except ConnectionResetError:
    b = b""
assert b == b"", "served without memory"
PY
	rm -f "$T/nomem"
	stop_server || fail "exit status $?"
	errtext ENOMEM
	grep -qF "cannot serve a new connection: $ERRTEXT" "$T/server.log" ||
		fail "no out-of-memory line: $(cat "$T/server.log")"
	grep -q 'connection limit' "$T/server.log" && fail "out of memory logged as the connection limit"
fi

# Pinned to one CPU (taskset), one loop by default: the CPUs counted are
# those the process may run on, as nproc counts them. It started one loop
# per CPU online when built with glibc (sysconf), one when built with musl.
cpus=$(nproc 2>/dev/null || echo 1)
if ! can taskset || [ "$cpus" -lt 2 ]; then
	skip_part "default --threads pinned to one CPU" "needs taskset and 2 usable CPUs (nproc: $cpus)"
elif part "default --threads pinned to one CPU"; then
	cpu=$(taskset -cp $$ | sed 's/.*: *//; s/[-,].*//')
	rm -f "$T/ports"
	taskset -c "$cpu" "$ANYECHOD" -v -v -l 127.0.0.1:0 -t --port-file "$T/ports" 2>"$T/server.log" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 grep -q 'thread(s)' "$T/server.log" || hard "anyechod did not start: $(cat "$T/server.log")"
	stop_server || fail "exit status $?"
	expect_in "default --threads on one CPU" "$(cat "$T/server.log")" "anyechod: 1 thread(s),"
fi

# Eight workers, fds for a few: the start fails, and fd 0 is never closed.
rm -f "$T/shim.log"
out=$( (ulimit -n 20; exec env $SHIM_ENV "$ANYECHOD" -l 127.0.0.1:0 --threads 8 </dev/null) 2>&1); rc=$?
expect_eq "too few fds: exit status" "$rc" 1
! grep -q close0 "$T/shim.log" 2>/dev/null || fail "fd 0 closed while cleaning up: $out"

# JOURNAL_STREAM naming our stderr: <N> prefixes; naming something else: none.
: >"$T/j.log"
js=$(stat -c %d:%i "$T/j.log")
JOURNAL_STREAM=$js "$ANYECHOD" -l 127.0.0.1:0 -t --user "no-such-user-$$" 2>>"$T/j.log"
expect_eq "journal error line" "$(cat "$T/j.log")" "<3>--user 'no-such-user-$$': no such user"
: >"$T/j.log"
rm -f "$T/ports"
JOURNAL_STREAM=$js "$ANYECHOD" -l 127.0.0.1:0 -t --port-file "$T/ports" 2>>"$T/j.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/j.log")"
stop_server || fail "exit status $?"
expect_in "journal info line" "$(cat "$T/j.log")" "<6>listening on IPv4 stream 127.0.0.1:"
[ -z "$(grep -v '^<[0-7]>' "$T/j.log")" ] || fail "lines without a priority: $(cat "$T/j.log")"
JOURNAL_STREAM=0:0 "$ANYECHOD" -l 127.0.0.1:0 -t --user "no-such-user-$$" 2>"$T/j.log"
expect_eq "no journal: plain line" "$(cat "$T/j.log")" "anyechod: --user 'no-such-user-$$': no such user"
echo ok
