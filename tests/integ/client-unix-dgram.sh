#!/bin/sh
# anyecho over unix datagrams against servers that go away and come back
# (tests/integ/unixdgram.py; attack round 5, F2 and F6). The kernel
# refuses the send to a closed server socket and dissolves the client's
# association: each later probe must connect again, reach a server bound
# at the path by then, and name the real cause when there is none (it
# gave up after one refusal with "Transport endpoint is not connected").
# An echo longer than 64 KiB is named with its real length (it was called
# "echo of 65536 bytes").
. "$top_srcdir/tests/integ/lib.sh"
need python3
need timeout
[ "$(uname -s)" = Linux ] || skip "unix datagram refusals are Linux's (ECONNREFUSED, then ENOTCONN)"

# srv MODE: start unixdgram.py MODE at $T/u (ends by itself after 30 s).
srv() {
	rm -f "$T/u" "$T/ready"
	python3 "$top_srcdir/tests/integ/unixdgram.py" "$1" "$T/u" "$T/ready" 2>"$T/srv.err" &
	SRV=$!
	at_exit "kill $SRV 2>/dev/null"
	wait_for 10 test -s "$T/ready" || hard "unixdgram.py $1 did not start: $(cat "$T/srv.err")"
}
# run ARGS...: anyecho under timeout; sets out (stdout and stderr), rc.
run() {
	timeout -k 2 20 "$ANYECHO" "$@" >"$T/out" 2>&1 </dev/null
	rc=$?
	out=$(cat "$T/out")
}
# The probes go 500 ms apart: the server changes within microseconds of
# its first echo, far sooner than the next probe even on a loaded machine.
P="-c 4 -i 500ms -W 1s"

# A server restarted at the path answers every later probe, as over UDP;
# under -A and in JSON too.
srv rebind
run $P "unix-dgram:$T/u"
expect_eq "restarted server exit" $rc 0
expect_in "restarted server" "$out" "4 sent, 4 received, 0 mismatched, 0% loss"
kill $SRV 2>/dev/null
srv rebind
run $P -A "unix-dgram:$T/u"
expect_eq "restarted server -A exit" $rc 0
echo "$out" | grep -Eq "^unix:$T/u +- +unix dgram .* 0% *\$" ||
	fail "restarted server -A: not 0% loss: $out"
kill $SRV 2>/dev/null
srv rebind
run $P --json "unix-dgram:$T/u"
expect_eq "restarted server json exit" $rc 0
expect_in "restarted server json" "$out" '"sent":4,"received":4,"mismatched":0'
kill $SRV 2>/dev/null

# No server: each failed probe says why, never the client's own socket state.
srv stale
run $P "unix-dgram:$T/u"
expect_eq "stale path exit" $rc 1
for n in 2 3 4; do
	expect_in "stale path seq $n" "$out" "seq=$n: connection refused by unix:$T/u"
done
kill $SRV 2>/dev/null
srv gone
run $P -A --json "unix-dgram:$T/u"
expect_eq "no socket exit" $rc 1
for n in 2 3 4; do
	expect_in "no socket seq $n" "$out" "\"seq\":$n,\"bytes\":64,\"rtt_ms\":null,\"status\":\"lost\",\"error\":\"no socket at unix:$T/u\""
done
kill $SRV 2>/dev/null
case $out in *"not connected"*) fail "the client's socket state named as the cause: $out" ;; esac

# Attack round 6, F2: once the server's socket is gone and nothing is at
# the path, the client's socket is unconnected and any local process can
# write to it. A reply counts only from the server's own name: perfect
# echoes (the seed worked out of the first) from an unnamed socket or
# another path are from elsewhere; they were credited late to the dead
# path ("seq=2 time=253 ms (late: after the 1000 ms timeout)").
srv forge
run $P "unix-dgram:$T/u"
expect_eq "forged echoes exit" $rc 1
expect_in "forged echoes" "$out" "4 sent, 1 received, 0 mismatched, 75% loss"
expect_in "forged echo, unnamed" "$out" "reply from unix:(unnamed), not from unix:$T/u (64 bytes)"
expect_in "forged echo, another path" "$out" "reply from unix:$T/u.x, not from unix:$T/u (64 bytes)"
case $out in *late*) fail "a forged echo counted late: $out" ;; esac
kill $SRV 2>/dev/null
# A probe that never left is never answered, not even from the server's
# own name (bound there again for a moment, 0.5 s after the failed send).
srv pathforge
run -c 3 -i 1s -W 2s "unix-dgram:$T/u"
expect_eq "echo of a probe never sent exit" $rc 1
expect_in "echo of a probe never sent" "$out" "3 sent, 1 received, 0 mismatched, 66.7% loss"
case $out in *late*|*"seq=2 time"*) fail "a probe never sent was answered: $out" ;; esac
kill $SRV 2>/dev/null

# Probes the server's full queue refused (EAGAIN) never left either: the
# echoes of all 15 from the server's own path, forged, credit only those
# sent (all 15 were received).
qlen=$(cat /proc/sys/net/unix/max_dgram_qlen 2>/dev/null || echo 10)
if [ "$qlen" -lt 13 ]; then
	srv stall
	run -c 15 -i 2ms -W 3s "unix-dgram:$T/u"
	got=$(echo "$out" | sed -n 's/^15 sent, \([0-9]*\) received, 0 mismatched.*/\1/p')
	[ -n "$got" ] && [ "$got" -lt 15 ] || fail "probes never sent were answered: $out"
	expect_in "probes never sent" "$out" "$((15 - got)) unrecognised"
	kill $SRV 2>/dev/null
else
	echo "note: net.unix.max_dgram_qlen is $qlen: no send is refused, EAGAIN case not run"
fi

# The server's name is the one it bound, learnt when connecting: a path
# typed relative, or bound relative, still matches its replies.
srv rebind
(cd "$T" && run $P unix-dgram:u && expect_in "relative path typed" "$out" \
	"4 sent, 4 received, 0 mismatched, 0% loss") || exit 1
kill $SRV 2>/dev/null
rm -f "$T/u" "$T/ready"
(cd "$T" && exec python3 "$top_srcdir/tests/integ/unixdgram.py" rebind u ready) 2>"$T/srv.err" &
SRV=$!
at_exit "kill $SRV 2>/dev/null"
wait_for 10 test -s "$T/ready" || hard "unixdgram.py rebind u did not start: $(cat "$T/srv.err")"
run $P "unix-dgram:$T/u"
expect_in "relative path bound" "$out" "4 sent, 4 received, 0 mismatched, 0% loss"
kill $SRV 2>/dev/null
# anyechod bound at a relative path, reached by either.
(cd "$T" && exec "$ANYECHOD" -l unix-dgram:d) 2>"$T/d.err" &
D=$!
at_exit "kill $D 2>/dev/null"
wait_for 10 test -S "$T/d" || hard "anyechod did not bind $T/d: $(cat "$T/d.err")"
run -c 2 -i 200ms -W 1s "unix-dgram:$T/d"
expect_in "anyechod, relative, typed absolute" "$out" "2 sent, 2 received, 0 mismatched, 0% loss"
(cd "$T" && run -c 2 -i 200ms -W 1s unix-dgram:./d && expect_in "anyechod, typed ./d" "$out" \
	"2 sent, 2 received, 0 mismatched, 0% loss") || exit 1
kill $D 2>/dev/null
# socat as the server: it answers from the path it bound.
if can socat; then
	rm -f "$T/s"
	socat UNIX-RECVFROM:"$T/s",fork PIPE 2>/dev/null &
	S=$!
	at_exit "kill $S 2>/dev/null"
	wait_for 10 test -S "$T/s" || hard "socat did not bind $T/s"
	run -c 2 -i 200ms -W 1s "unix-dgram:$T/s"
	expect_in "socat" "$out" "2 sent, 2 received, 0 mismatched, 0% loss"
	kill $S 2>/dev/null
fi

# Echoes longer than the client's 64 KiB buffer: their real length.
srv huge
run -c 1 -W 1s "unix-dgram:$T/u"
expect_eq "huge echo exit" $rc 1
expect_in "huge echo" "$out" "seq=1: echo of 150064 bytes, 64 were sent"
kill $SRV 2>/dev/null
srv big1
run -c 1 -W 1s "unix-dgram:$T/u"
expect_eq "65537-byte echo exit" $rc 1
expect_in "65537-byte echo" "$out" "seq=1: echo of 65537 bytes, 64 were sent"
echo ok
