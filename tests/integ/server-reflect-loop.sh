#!/bin/sh
# Reflection loops on high ports (CVE-1999-0103 without port 7): two echo
# services answer each other for ever once one datagram reaches one of them
# with the other's address and port as its source. No source-port rule can
# refuse that (both ports are ordinary), so the guard counts the same
# datagram coming back from the peer it just answered and drops it after
# a few round trips. Here the datagram is not spoofed (that needs a raw
# socket): the helper binds a UDP port, sends from it to server B while B
# is stopped (SIGSTOP: the datagram waits in B's queue), closes it, and
# server A binds that very port; B, continued, answers A. Then:
#   two-servers  both anyechod's datagram counters stop growing within a
#                bounded time, and their CPU use stays low;
#   other-echo   a naive echo peer (python: answers everything, no guard)
#                starts the loop itself; anyechod ends it;
#   many-loops   the same with 300 loops at once: each one ended;
#   socat        the same with socat as the other echo service;
#   client       anyecho's probes carry a sequence number: 200 sent 2 ms
#                apart (faster is root's), 200 intact (nothing taken for a
#                loop).
. "$top_srcdir/tests/integ/lib.sh"
need python3
have_ipv4 || skip "$why"

# dgrams LOG: the datagram count of the last SIGUSR1 line in LOG.
dgrams() { sed -n 's/.*datagrams \([0-9]*\) (.*/\1/p' "$1" | tail -1; }
# cpu PID: user+system clock ticks the process used so far.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# lines LOG N: LOG holds more than N lines of counters.
lines() { [ "$(grep -c 'datagrams [0-9]' "$1")" -gt "$2" ]; }
# stats PID LOG: ask for the counters, wait for the new line; sets $got.
stats() {
	_lines=$(grep -c 'datagrams [0-9]' "$2")
	kill -USR1 "$1"
	wait_for 20 lines "$2" "$_lines" || hard "no stats: $(cat "$2")"
	got=$(dgrams "$2")
}
TICK=$(getconf CLK_TCK)
# listening_udp PORT: something holds UDP port PORT on 127.0.0.1.
listening_udp() {
	! python3 -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

if part two-servers; then
	# B has two workers: both count in one table, whichever reads.
	"$ANYECHOD" -u -l 127.0.0.1:0 --threads 2 --port-file "$T/pb" 2>"$T/b.log" &
	B=$!
	at_exit "kill -CONT $B 2>/dev/null; kill -9 $B 2>/dev/null"
	wait_for 10 test -s "$T/pb" || hard "B did not start: $(cat "$T/b.log")"
	PB=$(awk '{ print $4; exit }' "$T/pb")
	kill -STOP $B
	PA=$(bounded 20 python3 - "$PB" <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.sendto(b"one datagram, answered back and forth", ("127.0.0.1", int(sys.argv[1])))
print(u.getsockname()[1])
PY
) || hard "could not send the first datagram"
	"$ANYECHOD" -u -l "127.0.0.1:$PA" --threads 1 --port-file "$T/pa" 2>"$T/a.log" &
	A=$!
	at_exit "kill -9 $A 2>/dev/null"
	wait_for 10 test -s "$T/pa" || hard "A did not start on $PA: $(cat "$T/a.log")"
	c0=$(($(cpu $A) + $(cpu $B)))
	kill -CONT $B
	# The loop runs at tens of thousands of round trips a second where
	# nothing ends it; ended, it is over in milliseconds. 2 s is margin
	# for a loaded machine, then 2 s in which nothing may move.
	sleep 2
	stats $A "$T/a.log"; a1=$got
	stats $B "$T/b.log"; b1=$got
	sleep 2
	stats $A "$T/a.log"; a2=$got
	stats $B "$T/b.log"; b2=$got
	c1=$(($(cpu $A) + $(cpu $B)))
	echo "A answered $a1 then $a2, B $b1 then $b2; CPU $((c1 - c0)) ticks of $TICK/s in 4 s"
	[ "$a2" = "$a1" ] && [ "$b2" = "$b1" ] ||
		fail "the loop goes on: A answered $a1 then $a2, B $b1 then $b2"
	[ "$a2" -lt 100 ] && [ "$b2" -lt 100 ] || fail "the loop lasted too long: $a2 and $b2 answered"
	# An idle server uses nothing; the loop took both servers' CPU.
	[ $((c1 - c0)) -lt "$TICK" ] || fail "the servers used $((c1 - c0)) ticks in 4 s"
	grep -q "loops broken 1" "$T/a.log" "$T/b.log" || fail "not counted: $(cat "$T/a.log" "$T/b.log")"
	grep -q "127.0.0.1:[0-9]*: .*loop" "$T/a.log" "$T/b.log" ||
		fail "not logged: $(cat "$T/a.log" "$T/b.log")"
	kill $A $B
fi

if part other-echo; then
	start_server -u -l 127.0.0.1:0 --threads 1
	P=$(port IPv4 dgram)
	n=$(bounded 20 python3 - "$P" <<'PY'
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.settimeout(1)
u.sendto(b"naive echo meets anyechod", ("127.0.0.1", int(sys.argv[1])))
n, end = 0, time.monotonic() + 4
while time.monotonic() < end:   # an echo service without a guard
    try:
        data, peer = u.recvfrom(2048)
    except socket.timeout:
        continue
    u.sendto(data, peer)
    n += 1
print(n)
PY
) || hard "the naive echo peer failed"
	echo "anyechod answered the naive echo peer $n times in 4 s"
	[ "$n" -lt 100 ] || fail "the loop with a naive echo service went on: $n answers"
	stop_server
fi

# Many loops at once, as one burst of spoofed datagrams would start: two
# loops whose fingerprints met in one slot reset each other's count at
# every round trip and ran for ever (300 datagrams: 3 million answers in
# 15 s). Now each loop is ended within 16 round trips of its own.
if part many-loops; then
	start_server -u -l 127.0.0.1:0 --threads 1
	P=$(port IPv4 dgram)
	set -- $(bounded 20 python3 - "$P" <<'PY'
import socket, sys, time
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
u.bind(("127.0.0.1", 0))
u.settimeout(0.2)
for i in range(300):
    u.sendto(b"loop %03d of 300" % i, ("127.0.0.1", int(sys.argv[1])))
n, last, start = 0, 0, time.monotonic()
while time.monotonic() < start + 4:   # an echo service without a guard
    try:
        data, peer = u.recvfrom(2048)
    except socket.timeout:
        continue
    u.sendto(data, peer)
    n += 1
    if time.monotonic() > start + 3:
        last += 1
print(n, last)
PY
) || hard "the naive echo peer failed"
	echo "anyechod answered 300 loops $1 times in 4 s, $2 in the last second"
	[ "$2" = 0 ] || fail "loops went on: $2 answers in the last second, $1 in all"
	[ "$1" -le $((300 * 16)) ] || fail "the loops lasted too long: $1 answers"
	stop_server
fi

# The same with socat as the other echo service (one child per datagram),
# the port taken over as in two-servers.
if part socat socat; then
	start_server -u -l 127.0.0.1:0 --threads 1
	P=$(port IPv4 dgram)
	kill -STOP $SRV_PID
	at_exit "kill -CONT $SRV_PID 2>/dev/null"
	PS=$(bounded 20 python3 - "$P" <<'PY'
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.sendto(b"socat meets anyechod", ("127.0.0.1", int(sys.argv[1])))
print(u.getsockname()[1])
PY
) || hard "could not send the first datagram"
	timeout 20 socat -T1 "UDP4-RECVFROM:$PS,bind=127.0.0.1,fork" EXEC:cat 2>"$T/socat.err" &
	at_exit "kill $! 2>/dev/null"
	wait_for 10 listening_udp "$PS" || hard "socat did not bind $PS: $(cat "$T/socat.err")"
	kill -CONT $SRV_PID
	sleep 3
	stats $SRV_PID "$T/server.log"; n1=$got
	sleep 2
	stats $SRV_PID "$T/server.log"; n2=$got
	echo "anyechod answered socat $n1 then $n2 times"
	[ "$n2" = "$n1" ] && [ "$n2" -lt 100 ] || fail "the loop with socat went on: $n1 then $n2"
	stop_server
fi

if part client; then
	start_server -u -l 127.0.0.1:0 --threads 1
	P=$(port IPv4 dgram)
	bounded 60 "$ANYECHO" -u -c 200 -i 2ms "127.0.0.1:$P" >"$T/client.out" 2>&1 ||
		fail "anyecho: $(cat "$T/client.out")"
	grep -q "200 sent, 200 received, 0 mismatched" "$T/client.out" ||
		fail "not 200 of 200: $(cat "$T/client.out")"
	kill -USR1 $SRV_PID
	wait_for 5 grep -q "loops broken 0" "$T/server.log" || fail "$(cat "$T/server.log")"
	stop_server
fi
echo ok
