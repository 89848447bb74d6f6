#!/bin/sh
# SIGTERM while clients are mid-transfer: new connections are refused at
# once, the clients already in keep being served and get every byte back
# within the grace period, the unix socket file is removed, exit 0.
# SIGHUP and SIGUSR1 do not stop the server.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the clients are tests/integ/peer.py"

v4=no
part IPv4 ipv4 && v4=yes && set -- -l 127.0.0.1:0
part unix
start_server "$@" -l "unix:$T/s" -t --grace 10 --threads 2
P=$(port IPv4 stream)
kill -HUP $SRV_PID
kill -USR1 $SRV_PID
wait_for 5 grep -q 'logs reopened' "$T/server.log" || fail "SIGHUP not handled"
wait_for 5 grep -q '^anyechod: connections' "$T/server.log" || fail "SIGUSR1 not handled"
kill -0 $SRV_PID || fail "server died on HUP/USR1"

# Two clients each send 2 MiB in 64 KiB pieces 40 ms apart (about 1.3 s).
# Without IPv4, a second unix client takes the TCP client's place.
if [ $v4 = yes ]; then
	$PEER stream IPv4 stream 127.0.0.1 $P 2097152 40 >"$T/c1" 2>&1 &
else
	$PEER stream unix stream "$T/s" - 2097152 40 >"$T/c1" 2>&1 &
fi
c1=$!
$PEER stream unix stream "$T/s" - 2097152 40 >"$T/c2" 2>&1 &
c2=$!
open_is() { kill -USR1 $SRV_PID; grep -q "(open $1," "$T/server.log"; }
wait_for 10 open_is 2 || fail "clients did not connect"
kill -TERM $SRV_PID
wait_for 5 grep -q 'stopping' "$T/server.log" || fail "no stop message"
# The workers close their listeners just after "stopping" is logged: a
# connect in between may still land, so wait (briefly) for the refusal.
refused() { ! listening 127.0.0.1 $P; }
if [ $v4 = yes ]; then
	wait_for 2 refused || fail "listener open 2 s after SIGTERM"
fi
wait $c1 || fail "TCP client lost data: $(cat "$T/c1")"
wait $c2 || fail "unix client lost data: $(cat "$T/c2")"
stop_server; rc=$?
expect_eq "exit status" "$rc" 0
[ ! -e "$T/s" ] || fail "unix socket file left behind"
echo ok
