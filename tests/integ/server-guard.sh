#!/bin/sh
# The reflection guard (CVE-1999-0103): no answer to datagrams from the
# server's own UDP port (on another loopback address), nor, as root, from
# any port below 1024 (chargen, echo, daytime, 1, 1023) nor NFS's 2049;
# counted and logged. Loopback sources on ordinary ports are answered;
# --no-guard answers everyone.
# --rate-limit: a flood from one source gets its budget and no more, while
# another source keeps its own, over two worker threads.
. "$top_srcdir/tests/integ/lib.sh"
need python3 "the client is tests/integ/peer.py"
need ipv4

part "guard"
start_server -l 127.0.0.1:0 -u --threads 1
P=$(port IPv4 dgram)
srcs="127.0.0.2:$P"
if part "well-known source ports" low-ports; then
	srcs="$srcs,127.0.0.1:19,127.0.0.1:7,127.0.0.1:13,127.0.0.1:1,127.0.0.1:1023,127.0.0.1:2049"
fi
$PEER guard 127.0.0.1 $P "$srcs" || fail "guard"
kill -USR1 $SRV_PID
n=$(echo "$srcs" | tr ',' '\n' | wc -l)
wait_for 5 grep -q "refused $n, rate-limited 0, dropped" "$T/server.log" || fail "refusals not counted: $(cat "$T/server.log")"
grep -q 'datagram(s) unanswered, latest from' "$T/server.log" || fail "refusal not logged"
stop_server || fail "exit status $?"

if part "--no-guard" low-ports; then
	start_server -l 127.0.0.1:0 -u --no-guard --threads 1
	$PEER expect_reply 127.0.0.1 "$(port IPv4 dgram)" 127.0.0.1:19 || fail "--no-guard"
	stop_server || fail "exit status $?"
fi

part "rate limit"
start_server -l 127.0.0.1:0 -u --threads 2 --rate-limit 50
P=$(port IPv4 dgram)
$PEER flood IPv4 127.0.0.1 $P 200 50 || fail "rate limit, first source"
# 127.0.0.2 is another source with a budget of its own.
bounded 60 python3 - "$P" <<'PY' || fail "rate limit, second source"
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.2", 0)); u.settimeout(5)
for i in range(20):
    u.sendto(b"%d" % i, ("127.0.0.1", int(sys.argv[1])))
    assert u.recv(10) == b"%d" % i
print("ok: another source answered 20 of 20")
PY
kill -USR1 $SRV_PID
wait_for 5 grep -q "rate-limited [1-9]" "$T/server.log" || fail "limited not counted: $(cat "$T/server.log")"
grep -q 'unanswered, latest from 127.0.0.1:[0-9]*: over the per-source rate limit' \
	"$T/server.log" || fail "rate limit not logged: $(cat "$T/server.log")"
stop_server || fail "exit status $?"
echo ok
