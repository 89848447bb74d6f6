#!/bin/sh
# Unix socket paths: a stale socket file is replaced, a live one refused, a
# non-socket never touched; a stopping server removes only its own file,
# not another's bound there since; --unix-mode sets the permissions; an
# abstract name works and leaves no file.
. "$top_srcdir/tests/integ/lib.sh"
need python3

# Stale: a socket file whose server is gone.
python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$T/s')"
[ -S "$T/s" ] || hard "could not make a stale socket"
start_server -l "unix:$T/s" --unix-mode 0600
$PEER stream unix stream "$T/s" - 100 || fail "echo on replaced stale path"
expect_eq "mode" "$(stat -c %a "$T/s")" 600

# Live: a second server must refuse, exit 1, and leave the first alone.
out=$("$ANYECHOD" -l "unix:$T/s" 2>&1); rc=$?
expect_eq "second server exit" "$rc" 1
expect_in "second server message" "$out" "$T/s is in use by a running server"
$PEER stream unix stream "$T/s" - 100 || fail "first server hurt by the second"
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
$PEER stream unix stream "$T/s" - 100 || fail "server B unreachable after A stopped"
stop_server || fail "exit status $?"
[ ! -e "$T/s" ] || fail "server B left its own socket file behind"

# Not a socket: refuse, and the file is still there.
echo keep >"$T/f"
out=$("$ANYECHOD" -l "unix:$T/f" 2>&1); rc=$?
expect_eq "regular file exit" "$rc" 1
expect_in "regular file message" "$out" "$T/f exists and is not a socket"
expect_eq "regular file kept" "$(cat "$T/f")" keep

# Abstract namespace (Linux).
if [ "$(uname -s)" = Linux ]; then
	start_server -l "unix:@anyecho-test-$$"
	python3 -c "
import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect('\0anyecho-test-$$')
s.sendall(b'abstract'); assert s.recv(100) == b'abstract'" || fail "abstract name"
	stop_server || fail "exit status $?"
fi
echo ok
