#!/bin/sh
# An idle server sleeps until something happens: no timer of its own. The
# guard's broadcast list was re-read by a 60 s timer, so every epoll_wait
# carried a timeout, and the kernel armed a timer at every sleep, once per
# echo at one datagram in flight (the bench's udp1, a few per cent of the
# server's CPU). The list is now re-read when a datagram comes a minute
# after the last read.
. "$top_srcdir/tests/integ/lib.sh"
build_shim

# IPv4 where there is a loopback; the unix datagram socket everywhere.
v4=
have_ipv4 && v4="-l 127.0.0.1:0"
rm -f "$T/ports"
# shellcheck disable=SC2086
env $SHIM_ENV AE_SHIM_WAITS=1 "$ANYECHOD" $v4 -l "unix-dgram:$T/d" --threads 1 \
	--port-file "$T/ports" 2>"$T/server.log" &
SRV_PID=$!
at_exit "kill -9 $SRV_PID 2>/dev/null"
wait_for 10 test -s "$T/ports" || hard "anyechod did not start: $(cat "$T/server.log")"
if [ -n "$v4" ]; then
	P=$(port IPv4 dgram)
	bounded 20 "$ANYECHO" -q -u -c 3 -i 2ms "127.0.0.1:$P" >"$T/c" 2>&1 ||
		fail "UDP echo: $(cat "$T/c")"
else
	echo "note: no IPv4 loopback: unix datagrams only"
fi
bounded 20 "$ANYECHO" -q -c 3 -i 2ms "unix-dgram:$T/d" >"$T/c" 2>&1 || fail "unix echo: $(cat "$T/c")"
sleep 0.5 # idle now
waits=$(grep -c '^wait ' "$T/shim.log")
last=$(grep '^wait ' "$T/shim.log" | tail -1)
echo "$waits waits, the last: $last"; grep "^wait " "$T/shim.log" | sort | uniq -c
expect_eq "an idle server's wait" "$last" "wait -1"
timed=$(grep -c '^wait [1-9]' "$T/shim.log")
expect_eq "sleeps with a timeout" "$timed" 0
stop_server || fail "exit status $?"
echo ok
