#!/bin/sh
# Unix socket paths: a stale socket file is replaced, a live one refused, a
# non-socket never touched; a stopping server removes only its own file,
# not another's bound there since; --unix-mode sets the permissions; an
# abstract name works and leaves no file. anyecho is the
# client: no python3 needed.
. "$top_srcdir/tests/integ/lib.sh"

echo_on() { # WHAT TARGET: one 100-byte probe comes back
	_out=$(bounded 30 "$ANYECHO" -c 1 -s 100 "$2" 2>&1) || fail "$1: $_out"
	expect_in "$1" "$_out" "1 sent, 1 received, 0 mismatched"
}

# Stale: a socket file whose server is gone (killed, so it could not clean up).
start_server -l "unix:$T/s"
kill -9 $SRV_PID
wait $SRV_PID 2>/dev/null
[ -S "$T/s" ] || hard "could not make a stale socket"
start_server -l "unix:$T/s" --unix-mode 0600
echo_on "echo on replaced stale path" "unix:$T/s"
expect_eq "mode" "$(stat -c %a "$T/s")" 600

# Two servers replacing one stale file at once: A found it stale and is
# held (the shim) just before removing it; B, started then, must wait for
# A to be listening and find it live, not remove the file A is about to
# bind, so that both run, one on no path (review 8).
live_pid=$SRV_PID
start_server -l "unix:$T/r"
kill -9 $SRV_PID
wait $SRV_PID 2>/dev/null
SRV_PID=$live_pid
[ -S "$T/r" ] || hard "could not make a stale socket"
build_shim
rm -f "$T/ports" "$T/go" "$T/shim.log"
env $SHIM_ENV AE_SHIM_UNLINK_WAIT="$T/go" "$ANYECHOD" -l "unix:$T/r" --port-file "$T/ports" \
	2>"$T/a.log" &
A_PID=$!
at_exit "kill -9 $A_PID 2>/dev/null"
wait_for 10 grep -q unlink-wait "$T/shim.log" 2>/dev/null || hard "A did not reach its unlink: $(cat "$T/a.log")"
bounded 30 "$ANYECHOD" -l "unix:$T/r" >"$T/b.log" 2>&1 &
B_PID=$!
at_exit "kill -9 $B_PID 2>/dev/null"
sleep 1
touch "$T/go"
wait_for 10 test -s "$T/ports" || fail "A did not start: $(cat "$T/a.log")"
wait $B_PID; rc=$?
expect_eq "B, beside A replacing the same stale file: exit" $rc 1
expect_in "B's reason" "$(cat "$T/b.log")" "is in use by a running server"
echo_on "echo from A" "unix:$T/r"
kill $A_PID
wait $A_PID 2>/dev/null

# Live: a second server must refuse, exit 1, and leave the first alone.
out=$(bounded 10 "$ANYECHOD" -l "unix:$T/s" 2>&1); rc=$?
expect_eq "second server exit" "$rc" 1
expect_in "second server message" "$out" "$T/s is in use by a running server"
echo_on "first server hurt by the second" "unix:$T/s"
stop_server || fail "exit status $?"

# A server that stops removes its own socket file only: here A's file was
# removed and B bound the path since; stopping A must leave B's in place.
start_server -l "unix:$T/s"
A_PID=$SRV_PID
rm -f "$T/s"
start_server -l "unix:$T/s"
kill -TERM $A_PID
wait_for 10 sh -c "! kill -0 $A_PID 2>/dev/null" || fail "first server did not stop"
[ -S "$T/s" ] || fail "stopping server A removed server B's socket file"
echo_on "server B after A stopped" "unix:$T/s"
stop_server || fail "exit status $?"
[ ! -e "$T/s" ] || fail "server B left its own socket file behind"

# Not a socket: refuse, and the file is still there.
echo keep >"$T/f"
out=$(bounded 10 "$ANYECHOD" -l "unix:$T/f" 2>&1); rc=$?
expect_eq "regular file exit" "$rc" 1
expect_in "regular file message" "$out" "$T/f exists and is not a socket"
expect_eq "regular file kept" "$(cat "$T/f")" keep

# Abstract namespace (Linux).
if [ "$(uname -s)" = Linux ]; then
	start_server -l "unix:@anyecho-test-$$"
	echo_on "abstract name" "unix:@anyecho-test-$$"
	stop_server || fail "exit status $?"
fi
echo ok
