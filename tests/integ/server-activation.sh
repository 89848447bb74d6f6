#!/bin/sh
# systemd socket activation: the server serves the sockets it is given
# (TCP, UDP and unix, told apart by their family and type), binds nothing
# of its own, shares them between its worker threads, and stops cleanly on
# SIGTERM.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the sockets are made by tests/integ/activate.py"

set --
if part IPv4 ipv4; then set -- IPv4:stream:127.0.0.1 IPv4:dgram:127.0.0.1; fi
part unix
python3 "$top_srcdir/tests/integ/activate.py" "$T/ports" "$@" \
	"unix:stream:$T/s" -- "$ANYECHOD" -l 127.0.0.1:1 --threads 2 -v 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 grep -q 'serving unix stream' "$T/server.log" || hard "not started: $(cat "$T/server.log")"
expect_eq "sockets served" "$(grep -c 'socket activation: serving' "$T/server.log")" $(($# + 1))
if [ $# -gt 0 ]; then
	$PEER stream IPv4 stream 127.0.0.1 "$(port IPv4 stream)" 100000 || fail "TCP"
	$PEER dgram IPv4 127.0.0.1 "$(port IPv4 dgram)" 0,1,1000 || fail "UDP"
fi
$PEER stream unix stream "$T/s" - 1000 || fail "unix"
grep -q 'listening on' "$T/server.log" && fail "bound -l endpoints despite activation"
expect_in "threads" "$(cat "$T/server.log")" "2 thread(s)"
stop_server || fail "exit status $?"
echo ok
