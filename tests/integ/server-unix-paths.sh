#!/bin/sh
# Unix socket paths: a stale socket file is replaced, a live one refused, a
# non-socket never touched; --unix-mode sets the permissions; an abstract
# name works and leaves no file.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"

# Stale: a socket file whose server is gone.
bounded 30 python3 -c "import socket; s=socket.socket(socket.AF_UNIX); s.bind('$T/s')"
[ -S "$T/s" ] || hard "could not make a stale socket"
start_server -l "unix:$T/s" --unix-mode 0600
$PEER stream unix stream "$T/s" - 100 || fail "echo on replaced stale path"
expect_eq "mode" "$(stat -c %a "$T/s")" 600

# Live: a second server must refuse, exit 1, and leave the first alone.
out=$(bounded 10 "$ANYECHOD" -l "unix:$T/s" 2>&1); rc=$?
expect_eq "second server exit" "$rc" 1
expect_in "second server message" "$out" "$T/s is in use by a running server"
$PEER stream unix stream "$T/s" - 100 || fail "first server hurt by the second"
stop_server || fail "exit status $?"

# Not a socket: refuse, and the file is still there.
echo keep >"$T/f"
out=$(bounded 10 "$ANYECHOD" -l "unix:$T/f" 2>&1); rc=$?
expect_eq "regular file exit" "$rc" 1
expect_in "regular file message" "$out" "$T/f exists and is not a socket"
expect_eq "regular file kept" "$(cat "$T/f")" keep

# Abstract namespace (Linux).
if [ "$(uname -s)" = Linux ]; then
	start_server -l "unix:@anyecho-test-$$"
	bounded 30 python3 -c "
import socket
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect('\0anyecho-test-$$')
s.sendall(b'abstract'); assert s.recv(100) == b'abstract'" || fail "abstract name"
	stop_server || fail "exit status $?"
fi
echo ok
