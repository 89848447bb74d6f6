#!/bin/sh
# What an idle connection costs the server (issue 10): 3,000 connections
# held open after one echo each, every feature on (idle timer, per-source
# limit, budget of bytes owed), one worker. The server's resident memory
# may grow by at most 100 bytes a connection (measured here: under 20, as
# memory freed at start is reused; 31 at 10,000 in the bench; 166 here when
# each connection was an allocation of its own).
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"
need ipv4
tsan_build && skip "a ThreadSanitizer build: its shadow memory hides what a connection costs"

want=3000
lim=$(ulimit -Hn)
[ "$lim" = unlimited ] || [ "$lim" -gt $((want + 200)) ] || skip "fd limit $lim is below $((want + 200))"
ulimit -n $((want + 200)) 2>/dev/null || skip "cannot raise the fd limit to $((want + 200))"

rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SRV_PID/status"; }

start_server -l 127.0.0.1:0 -t --threads 1 --max-conns-per-source $((want + 10))
P=$(port IPv4 stream)
# One connection first: what the first one touches (the loop's scratch
# buffer, the first chunks) is not a per-connection cost.
$PEER many IPv4 127.0.0.1 "$P" 1 100 >/dev/null || fail "first connection"
sleep 0.2
before=$(rss)
HOLD_FILE=$T/hold $PEER many IPv4 127.0.0.1 "$P" $want 100 &
peer=$!
wait_for 130 test -s "$T/hold" || { wait $peer; fail "peer did not finish"; }
after=$(rss)
rm -f "$T/hold"
wait $peer || fail "peer failed"
stop_server || fail "exit status $?"
[ -n "$before" ] && [ -n "$after" ] || hard "no VmRSS in /proc/$SRV_PID/status"
per=$(( (after - before) * 1024 / want ))
echo "server RSS $before -> $after kB: $per bytes per idle connection"
[ "$per" -le 100 ] || fail "$per bytes per idle connection (at most 100)"
echo ok
