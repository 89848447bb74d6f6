#!/bin/sh
# The child that puts the port file in place after the switch to --user,
# killed before it does (review 5): start-up fails with one line naming
# how the helper died (it said "Input/output error", an errno of nobody's),
# no "listening on" line comes first, and no temporary file is left (one
# ports.XXXXXX was). And a start with SIGCHLD ignored waits for it.
. "$top_srcdir/tests/integ/lib.sh"
need setuid "the helper exists only when root switches to --user"
need pgrep "to find the helper process"
build_shim

D=$T/pf
mkdir "$D"
# setuid() in anyechod waits for $T/go: the helper is forked by then.
env $SHIM_ENV AE_SHIM_SETUID_WAIT="$T/go" "$ANYECHOD" --threads 1 -l 127.0.0.1:0 -t \
	--user nobody --port-file "$D/ports" 2>"$T/err" &
SRV_PID=$!
at_exit "touch $T/go; kill -9 $SRV_PID 2>/dev/null"
wait_for 10 grep -qs setuid-wait "$T/shim.log" || hard "anyechod never reached setuid: $(cat "$T/err")"
helper=$(pgrep -P "$SRV_PID")
[ -n "$helper" ] || hard "no helper process under anyechod $SRV_PID"
kill -9 $helper
touch "$T/go"
# our child: once it exits it is a zombie, which kill -0 still finds
gone() { ! kill -0 "$1" 2>/dev/null || grep -qs '^State:.*Z' "/proc/$1/status"; }
wait_for 10 gone $SRV_PID || fail "anyechod still running: $(cat "$T/err")"
wait $SRV_PID; rc=$?
err=$(cat "$T/err")
echo "$err"
expect_eq "exit status" $rc 1
expect_in "message" "$err" "cannot write port file $D/ports: the helper process $helper that puts it in place died of signal 9 ("
case $err in *"listening on"*) fail "'listening on' before a failed start: $err" ;; esac
left=$(ls -A "$D")
[ -z "$left" ] || fail "left in the port file's directory: $left"

# Started with SIGCHLD ignored (exec keeps it; some supervisors do), the
# helper was reaped unasked: waitpid() said ECHILD, start-up failed after
# the file was in place, and left it naming a closed port (review 6).
if part "SIGCHLD ignored" python3; then
	# python3 becomes anyechod (exec): $! is the server's pid
	python3 -c 'import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], sys.argv[1:])' "$ANYECHOD" --threads 1 -l 127.0.0.1:0 -t \
		--user nobody --port-file "$D/ports" 2>"$T/err2" &
	SRV_PID=$!
	at_exit "kill -9 $SRV_PID 2>/dev/null"
	wait_for 10 test -s "$D/ports" ||
		fail "SIGCHLD ignored: no port file: $(cat "$T/err2")"
	sleep 0.3 # a failure after the rename would come now
	kill -0 $SRV_PID 2>/dev/null || fail "SIGCHLD ignored: anyechod exited: $(cat "$T/err2")"
	kill $SRV_PID
	wait $SRV_PID
	expect_eq "SIGCHLD ignored: exit status" $? 0
fi
echo ok
