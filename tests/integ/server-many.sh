#!/bin/sh
# 10,000 connections open at once (fewer if the fd limit is lower), each
# echoing its own bytes, against a server with two worker threads; then the
# server's own count of open connections, from SIGUSR1, matches.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"
need ipv4

want=10000
lim=$(ulimit -Hn)
[ "$lim" = unlimited ] || [ "$lim" -gt $((want + 200)) ] || want=$((lim - 200))
[ "$want" -ge 1000 ] || skip "fd limit $lim is too low for a concurrency test"
ulimit -n $((want + 200)) 2>/dev/null || ulimit -n "$lim"

# All from 127.0.0.1: no per-source limit.
start_server -l 127.0.0.1:0 -t --threads 2 --max-conns-per-source 0
HOLD_FILE=$T/hold $PEER many IPv4 127.0.0.1 "$(port IPv4 stream)" $want 100 &
peer=$!
wait_for 130 test -s "$T/hold" || { wait $peer; fail "peer did not finish"; }
kill -USR1 $SRV_PID
wait_for 5 grep -q 'connections [0-9]* (open' "$T/server.log" || fail "no counters on SIGUSR1"
open=$(sed -n 's/.*(open \([0-9]*\),.*/\1/p' "$T/server.log" | tail -1)
expect_eq "server's open connections" "$open" "$want"
rm -f "$T/hold"
wait $peer || fail "peer failed"
stop_server || fail "exit status $?"
echo "ok: $want concurrent connections"
