#!/bin/sh
# The reflection guard (CVE-1999-0103): no answer to datagrams from the
# server's own UDP port (on another loopback address), nor, as root, from
# the ports of chargen, echo and daytime; counted and logged. Loopback
# sources on ordinary ports are answered; --no-guard answers everyone.
. "$top_srcdir/tests/integ/lib.sh"

start_server -l 127.0.0.1:0 -u --threads 1
P=$(port IPv4 dgram)
srcs="127.0.0.2:$P"
if [ "$(id -u)" -eq 0 ]; then
	srcs="$srcs,127.0.0.1:19,127.0.0.1:7,127.0.0.1:13"
else
	echo "note: not root, so the well-known source ports are not tried"
fi
$PEER guard 127.0.0.1 $P "$srcs" || fail "guard"
kill -USR1 $SRV_PID
n=$(echo "$srcs" | tr ',' '\n' | wc -l)
wait_for 5 grep -q "refused $n, dropped" "$T/server.log" || fail "refusals not counted: $(cat "$T/server.log")"
grep -q 'reflection guard: refused' "$T/server.log" || fail "refusal not logged"
stop_server || fail "exit status $?"

if [ "$(id -u)" -eq 0 ]; then
	start_server -l 127.0.0.1:0 -u --no-guard --threads 1
	$PEER expect_reply 127.0.0.1 "$(port IPv4 dgram)" 127.0.0.1:19 || fail "--no-guard"
	stop_server || fail "exit status $?"
fi
echo ok
