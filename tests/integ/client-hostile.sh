#!/bin/sh
# anyecho against hostile servers (tests/integ/badserver.py): each case
# checks the exact verdict, the exit status and that the client ended in
# time. Every client run is under timeout(1); a hang shows as exit 124.
. "$top_srcdir/tests/integ/lib.sh"
need python3
need timeout
need ipv4 "the hostile servers listen on 127.0.0.1"


# run LIMIT ARGS...: anyecho under timeout LIMIT seconds, stdin from
# $T/in, at most a few MB of output (a client that floods it is stopped
# by SIGXFSZ); sets out (stdout and stderr), rc and ms (wall time).
: >"$T/in"
run() {
	_lim=$1; shift
	_t0=$(now_ms)
	(ulimit -f 8192; exec timeout -k 2 "$_lim" "$ANYECHO" "$@" <"$T/in" >"$T/out" 2>"$T/err")
	rc=$?
	ms=$(( $(now_ms) - _t0 ))
	out=$(cat "$T/out" "$T/err")
}
# within CASE MS: the run took less than MS milliseconds.
within() { [ "$ms" -lt "$2" ] || fail "$1: took $ms ms, bound $2 ms"; }

# An echo read after -W is never an intact on-time echo, even when the
# client sees it and its timer in the same loop turn: the shim returns each
# wait that has events 400 ms late (a loop busy elsewhere). The echo comes
# 300 ms after the probe but is read 400 ms after that, at least 700 ms
# after the probe: past -W (600 ms), so the timer is due in the same turn,
# and well within the one more -W (1200 ms) a stream echo is waited for.
# It is late, shown with its time, and (late replies are no loss) exit 0.
# Before the fix it was printed as an ordinary "seq=1 time=... ms" line.
if part "a late stream echo" cc; then
	build_shim
	bad slow
	(exec timeout 20 env $SHIM_ENV AE_SHIM_BUSY_WAIT=400 "$ANYECHO" -c 1 -W 600ms \
		127.0.0.1 $BP >"$T/out" 2>&1); rc=$?
	expect_eq "late stream echo exit" $rc 0
	expect_in "late stream echo" "$(cat "$T/out")" "(late: after the 600 ms timeout)"
	expect_in "late stream echo counted" "$(cat "$T/out")" "0 duplicates, 1 late"
	if grep -Eq 'seq=1 time=[0-9.]+ ms( \(retransmitted\))?$' "$T/out"; then
		fail "late stream echo printed as on time: $(cat "$T/out")"
	fi
fi

# A corrupted byte: the offset is reported.
bad corrupt
run 10 -c 1 -W 2s 127.0.0.1 $BP
expect_eq "corrupt exit" $rc 1
expect_in "corrupt" "$out" "127.0.0.1: seq=1: echo differs from sent data at byte 10"

# One byte more per echo: a mismatch, and the session stops there (the
# stream is out of step with the probes).
bad lengthen
run 10 -c 3 -i 100ms -W 2s 127.0.0.1 $BP
expect_eq "lengthen exit" $rc 1
expect_in "lengthen" "$out" "127.0.0.1: seq=1: echo has 1 byte more than sent"
expect_in "lengthen summary" "$out" "1 sent, 0 received, 1 mismatched, 0% loss"
within lengthen 8000

# Everything twice.
bad double
run 10 -c 3 -i 100ms -W 2s 127.0.0.1 $BP
expect_eq "double exit" $rc 1
expect_in "double" "$out" "127.0.0.1: seq=1: echo has "
expect_in "double more" "$out" " more than sent"
expect_in "double summary" "$out" "1 sent, 0 received, 1 mismatched, 0% loss"

# The echo, then bytes without end: probes and pipe mode stop at the first
# byte past what was sent; stdout gets only the bytes that matched.
bad stream
run 10 -c 1 -W 2s 127.0.0.1 $BP
expect_eq "stream exit" $rc 1
expect_in "stream" "$out" "seq=1: echo has "
expect_in "stream summary" "$out" "1 sent, 0 received, 1 mismatched, 0% loss"
within stream 8000
printf 'hello\n' >"$T/in"
run 10 -W 2s --stdin 127.0.0.1 $BP
expect_eq "pipe stream exit" $rc 1
expect_eq "pipe stream stdout" "$(cat "$T/out")" "hello"
expect_in "pipe stream" "$(cat "$T/err")" "anyecho: 127.0.0.1: echo has "
expect_in "pipe stream more" "$(cat "$T/err")" " more than sent"
within "pipe stream" 8000

# One byte a second, then more bytes after the echo: a probe is bounded by
# -W (and one more -W); the bytes that came are said, not "no reply".
# Pipe mode gives up -W after the end of input was sent.
bad trickle
run 10 -c 1 -W 1s 127.0.0.1 $BP
expect_eq "trickle exit" $rc 1
expect_in "trickle" "$out" "seq=1: short echo: "
expect_in "trickle" "$out" " of 64 bytes from 127.0.0.1 port $BP, then the rest not within 1000 ms"
within trickle 6000
printf '0123456789' >"$T/in"
run 15 -W 1500ms --stdin 127.0.0.1 $BP
expect_eq "pipe trickle exit" $rc 1
expect_in "pipe trickle" "$(cat "$T/err")" \
	"anyecho: 127.0.0.1: echo from 127.0.0.1 port $BP incomplete 1500 ms after the end of input"
within "pipe trickle" 7000

# A server that never answers.
bad silent
run 10 -c 1 -W 500ms 127.0.0.1 $BP
expect_eq "silent exit" $rc 1
expect_in "silent" "$out" "seq=1: no reply from 127.0.0.1 port $BP within 500 ms"
within silent 6000
printf 'hello\n' >"$T/in"
run 10 -W 1s --stdin 127.0.0.1 $BP
expect_eq "pipe silent exit" $rc 1
expect_in "pipe silent" "$out" \
	"anyecho: 127.0.0.1: echo from 127.0.0.1 port $BP incomplete 1000 ms after the end of input: 6 bytes missing"
within "pipe silent" 6000

# A server that echoes everything but never closes: the echo is complete
# and intact (exit 0); the client waits at most -W for the close.
bad noeof
printf 'hello\n' >"$T/in"
run 10 -W 1s --stdin 127.0.0.1 $BP
expect_eq "noeof exit" $rc 0
expect_eq "noeof stdout" "$(cat "$T/out")" "hello"
within noeof 6000
run 10 -c 2 -i 100ms -W 1s 127.0.0.1 $BP
expect_eq "noeof probes exit" $rc 0
expect_in "noeof probes" "$out" "2 sent, 2 received, 0 mismatched, 0% loss"
within "noeof probes" 6000

# runpipe LIMIT GAP ARGS...: as run, but stdin is a pipe that gives
# "hello" at once and "world" GAP seconds later.
runpipe() {
	_lim=$1 _gap=$2; shift 2
	(printf 'hello\n'; sleep "$_gap"; printf 'world\n') 2>/dev/null |
		(ulimit -f 8192; exec timeout -k 2 "$_lim" "$ANYECHO" "$@" >"$T/out" 2>"$T/err")
	rc=$?
	out=$(cat "$T/out" "$T/err")
}

# The server echoes the first chunk, then closes or resets, while the input
# goes on: the copy is cut short, a failure. (Before: exit 0, "6 bytes
# sent, 6 echoed intact", and "reachable":true,"error":null in --json.)
bad echoclose
runpipe 10 2 -v --stdin 127.0.0.1 $BP
expect_eq "pipe echo-then-close exit" $rc 1
expect_eq "pipe echo-then-close stdout" "$(cat "$T/out")" "hello"
expect_eq "pipe echo-then-close" "$(grep -v ": attempt 1 to " "$T/err")" \
	"anyecho: 127.0.0.1: server 127.0.0.1 port $BP closed before the end of input (6 bytes sent, 6 echoed)"
runpipe 10 2 --json --stdin 127.0.0.1 $BP
expect_eq "pipe echo-then-close json exit" $rc 1
expect_in "pipe echo-then-close json" "$out" '"reachable":false'
# The same server, the input one line from a file: its end was there
# (perhaps unread) when the server closed, and all of it came back.
printf 'hello\n' >"$T/in"
run 10 --stdin 127.0.0.1 $BP
expect_eq "pipe echo-then-close, input ended, exit" $rc 0
expect_eq "pipe echo-then-close, input ended" "$out" "hello"
bad echoreset
runpipe 10 2 --json --stdin 127.0.0.1 $BP
expect_eq "pipe echo-then-reset exit" $rc 1
expect_in "pipe echo-then-reset" "$out" '"reachable":false'
expect_in "pipe echo-then-reset error" "$out" \
	"\"error\":\"connection reset by 127.0.0.1 port $BP before the end of input"
# Probe counters mean nothing in pipe mode: null, not "sent":0 and 100% loss.
expect_in "pipe json probe fields" "$out" '"sent":null,"received":null'
expect_in "pipe json loss" "$out" '"loss_pct":null'

# SIGINT (or SIGTERM) in pipe mode: input not yet ended is a failure, with
# what was sent and echoed (before: exit 0, "error":null). Once the input
# ended and all of it came back intact, an interrupt only cuts the wait for
# the server's close: exit 0, as without it.
# sigint SERVERMODE INPUT ARGS...: anyecho in the background against a new
# server, stdin from INPUT, SIGINT after 2 s; sets rc (stdout in $T/out,
# stderr in $T/err).
sigint() {
	bad "$1"
	_in=$2; shift 2
	"$ANYECHO" "$@" 127.0.0.1 $BP <"$_in" >"$T/out" 2>"$T/err" &
	_p=$!
	(sleep 20; kill -9 $_p) 2>/dev/null &
	at_exit "kill $! $_p 2>/dev/null"
	wait_for 10 catching $_p 2 || hard "anyecho never set up its SIGINT handler"
	sleep 2 # its input read and sent, even when loaded
	kill -INT $_p
	wait $_p; rc=$?
}
mkfifo "$T/fifo" || hard "mkfifo failed"
(printf 'hi\n'; exec sleep 10) >"$T/fifo" 2>/dev/null &
at_exit "kill $! 2>/dev/null"
sigint silent "$T/fifo" -W 10s --json --stdin
out=$(cat "$T/out" "$T/err")
expect_eq "interrupted pipe exit" $rc 1
expect_in "interrupted pipe" "$out" '"reachable":false'
expect_in "interrupted pipe bytes" "$out" '"bytes_sent":3,"bytes_received":0'
expect_in "interrupted pipe error" "$out" \
	'"error":"interrupted before the end of input (3 bytes sent, 0 echoed)"'
printf 'hi\n' >"$T/in"
sigint noeof "$T/in" -W 10s --stdin
expect_eq "interrupted pipe, all echoed, exit" $rc 0
expect_eq "interrupted pipe, all echoed, stdout" "$(cat "$T/out")" "hi"
expect_eq "interrupted pipe, all echoed, stderr" "$(cat "$T/err")" ""

# Standard input that cannot be read (a directory: EISDIR) is no end of
# input (before: "0 bytes sent, 0 echoed intact", exit 0).
(exec timeout -k 2 10 "$ANYECHO" -W 1s --stdin 127.0.0.1 $BP <"$T" >"$T/out" 2>"$T/err"); rc=$?
expect_eq "unreadable stdin exit" $rc 1
errtext EISDIR
expect_eq "unreadable stdin" "$(cat "$T/err")" "anyecho: 127.0.0.1: standard input: $ERRTEXT"

# Datagram replies newest first: received, and counted as reordered.
bad dgram-reorder
run 10 -u -c 3 -i 20ms -W 2s 127.0.0.1 $BP
expect_eq "reorder exit" $rc 0
expect_in "reorder" "$out" "3 sent, 3 received, 0 mismatched, 0% loss"
expect_in "reorder count" "$out" ", 2 reordered"
run 10 --json -u -c 3 -i 20ms -W 2s 127.0.0.1 $BP
expect_in "reorder json" "$out" '"reordered":2'

# Replies from another port: not an echo of ours; the probes are lost.
bad dgram-other
run 10 -u -c 2 -i 20ms -W 500ms 127.0.0.1 $BP
expect_eq "other address exit" $rc 1
expect_in "other address" "$out" "2 sent, 0 received, 0 mismatched, 100% loss"
# ... and a copy from another address first does not take the place of
# the echo from the address probed (it was then a duplicate: 0 received).
bad dgram-otherfirst
run 10 -u -c 3 -i 50ms -W 1s 127.0.0.1 $BP
expect_eq "other address first exit" $rc 1
expect_in "other address first" "$out" "3 sent, 3 received, 0 mismatched, 0% loss"
expect_in "other address first" "$out" "not from 127.0.0.1 port $BP"

# A unix stream socket whose listen queue is full: not "connected".
bad backlog "$T/full"
run 10 -c 1 -W 500ms "unix:$T/full"
expect_eq "backlog exit" $rc 1
expect_eq "backlog" "$out" "anyecho: unix:$T/full: listen queue full at unix:$T/full"

# A slow AAAA answer (300 ms) makes the first attempt IPv4, to an address
# that never answers; then IPv6 (::1) connects. IPv6 is still the preferred
# family (RFC 8305/6724 order, not the order the answers came in) and it
# won: exit 0, no fallback warning. Before the fix: exit 4, "IPv4 failed".
if part "a slow AAAA" ipv6; then
	bad blackhole 1
	"$ANYECHOD" -q -l "[::1]:$BP" --port-file "$T/p6" 2>"$T/srv6.err" &
	at_exit "kill $! 2>/dev/null"
	timeout 300 python3 "$top_srcdir/tests/integ/dnsresp.py" "$T/dport" "$T/dlog" 240 &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 test -s "$T/dport" || hard "dnsresp.py did not start"
	wait_for 10 test -s "$T/p6" ||
		hard "anyechod on [::1]:$BP did not start: $(cat "$T/srv6.err")"
	D=127.0.0.1:$(cat "$T/dport")
	for o in "" -z -u; do
		run 20 --dns-server "$D" -c 1 $o slow6.test $BP
		expect_eq "slow AAAA $o exit" $rc 0
		case $out in *fallback*|*failed*|*warning*) fail "slow AAAA $o: $out";; esac
	done
	run 20 --dns-server "$D" -c 1 --json slow6.test $BP
	expect_eq "slow AAAA --json exit" $rc 0
	bounded 30 python3 -c "import json, sys
s = [o for o in map(json.loads, open(sys.argv[1])) if o['type'] == 'summary'][0]
assert s['preferred_family'] == 'IPv6' and s['fallback'] is False, s" "$T/out" ||
		fail "slow AAAA --json: $out"
fi

# An interrupted --all (SIGINT while connecting to addresses that never
# answer): every address has its row saying "interrupted", every target its
# table (and JSON summary), and the exit is 1, not 0. Before the fix only
# addresses already through were shown, and the exit was 0.
# The signal goes straight to anyecho once its handler is in place and both
# connects are out, and a watchdog bounds the rest. (It went through
# `timeout -k 2 20`, which arms its 2 s kill when it forwards a signal: a
# loaded ASan run that took over 2 s to handle SIGINT and exit was
# killed, exit 137.)
bad blackhole 2
intr() {
	${INTR_ENV:+env $INTR_ENV} "$ANYECHO" -A -c 1 --connect-timeout 15s -p $BP "$@" \
		127.0.0.1 127.0.0.2 >"$T/out" 2>&1 &
	_p=$!
	(sleep 40; kill -9 $_p) 2>/dev/null &
	_w=$!
	at_exit "kill $_w $_p 2>/dev/null"
	wait_for 20 catching $_p 2 || hard "anyecho -A never set up its SIGINT handler"
	wait_for 10 sockets $_p 2 || hard "anyecho -A did not start both connects"
	_t0=$(now_ms)
	kill -INT $_p
	wait $_p; rc=$?
	echo "note: anyecho -A ended $(( $(now_ms) - _t0 )) ms after SIGINT (exit $rc)"
	kill $_w 2>/dev/null
	[ $rc -ne 137 ] || fail "anyecho -A still running 40 s after SIGINT"
	out=$(cat "$T/out")
}
intr
expect_eq "--all interrupted exit" $rc 1
for h in 127.0.0.1 127.0.0.2; do
	expect_in "--all interrupted $h table" "$out" "$h
ADDRESS"
	expect_in "--all interrupted $h row" "$out" "$h:$BP"
done
expect_eq "--all interrupted rows" "$(grep -c ' interrupted$' "$T/out")" 2
intr --json
expect_eq "--all --json interrupted exit" $rc 1
bounded 30 python3 -c "import json, sys
s = [o for o in map(json.loads, open(sys.argv[1])) if o['type'] == 'summary']
assert sorted(o['target'] for o in s) == ['127.0.0.1', '127.0.0.2'], s
assert all(o['error'] == 'interrupted' and not o['reachable'] for o in s), s" "$T/out" ||
	fail "--all --json interrupted: $out"
# The same with the loop handling the signal 2.5 s late, as on a loaded
# machine (the shim delays every wait that returns events): still every
# row, exit 1.
if can "${CC:-cc}"; then
	build_shim
	INTR_ENV="$SHIM_ENV AE_SHIM_BUSY_WAIT=2500"
	intr
	INTR_ENV=
	expect_eq "--all interrupted late exit" $rc 1
	expect_eq "--all interrupted late rows" "$(grep -c ' interrupted$' "$T/out")" 2
else
	echo "note: no compiler for the shim: the late interrupt is not checked"
fi

# -A over UDP interrupted while its probes are unanswered: the attempt
# was cancelled by the interrupt, not failed.
bad dgram-silent
"$ANYECHO" -A -u --json -c 5 127.0.0.1 $BP >"$T/out" 2>&1 &
_p=$!
(sleep 40; kill -9 $_p) 2>/dev/null &
at_exit "kill $! $_p 2>/dev/null"
wait_for 20 catching $_p 2 || hard "anyecho -A -u never set up its SIGINT handler"
wait_for 10 sockets $_p 1 || hard "anyecho -A -u did not start"
kill -INT $_p
wait $_p; rc=$?
expect_eq "-A -u interrupted exit" $rc 1
expect_in "-A -u interrupted attempt" "$(cat "$T/out")" '"outcome":"cancelled","error":"interrupted"'
expect_in "-A -u interrupted summary" "$(cat "$T/out")" '"reachable":false'
expect_in "-A -u interrupted summary" "$(cat "$T/out")" '"error":"interrupted","timestamp"'

# A race over 60 addresses that never answer: --connect-timeout bounds the
# race as a whole (it took 5 s here before: 60 attempts 100 ms apart).
bad blackhole 60
seq 1 60 | sed 's/.*/127.0.0.& hole.test/' >"$T/hole.hosts"
CARES_HOSTS=$T/hole.hosts
export CARES_HOSTS
run 20 -4 -c 1 --connect-timeout 1s --attempt-delay 100ms hole.test $BP
expect_eq "race deadline exit" $rc 1
expect_in "race deadline" "$out" "anyecho: hole.test: "
expect_in "race deadline" "$out" " of 60 addresses not tried within 1000 ms; no answer from"
within "race deadline" 3500

# --all over 300 addresses with 128 descriptors: paced, every one refused
# (before: 180 "Too many open files").
free=$(free_port)
awk 'BEGIN { for (i = 1; i <= 300; i++) printf "127.0.%d.%d many.test\n", i / 250, i % 250 + 1 }' \
	>"$T/many.hosts"
CARES_HOSTS=$T/many.hosts
(ulimit -n 128; exec timeout -k 2 30 "$ANYECHO" -A -4 -c 1 many.test $free) >"$T/out" 2>&1; rc=$?
unset CARES_HOSTS
out=$(cat "$T/out")
expect_eq "--all 300 exit" $rc 1
expect_in "--all 300" "$out" "IPv4: 0 of 300 addresses reachable (connection refused)"
expect_eq "--all 300 refused rows" "$(grep -c 'connection refused$' "$T/out")" 300

# A flood (-c 0 -i 0) at a server that never answers: memory stays bounded
# (the probes awaiting a reply are a ring; when it is full the next waits).
# Only root may flood, as with ping; others get a usage error.
bad dgram-silent
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
if [ "$(id -u)" = 0 ]; then
	"$ANYECHO" -q -u -c 0 -i 0 -W 30s 127.0.0.1 $BP >"$T/out" 2>&1 &
	fp=$!
	(sleep 20; kill -9 $fp) 2>/dev/null &
	at_exit "kill $! $fp 2>/dev/null"
	sleep 1
	r1=$(rss $fp)
	sleep 3
	r2=$(rss $fp)
	kill -INT $fp
	wait $fp; rc=$?
	[ -n "$r1" ] && [ -n "$r2" ] || fail "flood: anyecho ended early: $(cat "$T/out")"
	expect_eq "flood exit" $rc 1
	[ $((r2 - r1)) -lt 2048 ] || fail "flood: RSS grew from $r1 to $r2 KiB in 3 s"
	if command -v setpriv >/dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups "$ANYECHO" -V >/dev/null 2>&1; then
		out=$(timeout 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$ANYECHO" -u -c 1 -i 1ms 127.0.0.1 $BP 2>&1); rc=$?
		expect_eq "user flood exit" $rc 2
		expect_in "user flood" "$out" "interval 1 ms: less than 2 ms is a flood, only root may"
	else
		echo "note: cannot run anyecho as another user: the non-root floor is not checked"
	fi
else
	run 10 -u -c 1 -i 0 127.0.0.1 $BP
	expect_eq "user flood exit" $rc 2
	expect_in "user flood" "$out" "interval 0 ms: less than 2 ms is a flood, only root may"
fi
echo ok
