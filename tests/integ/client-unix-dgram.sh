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
